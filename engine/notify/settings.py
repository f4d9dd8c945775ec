"""Channel settings from the environment (``EXHORTO_SMTP_*``, ``EXHORTO_WEBHOOK_*``, ``EXHORTO_NOTIFY_*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    """Where and how notifications go. Every field can be set by an environment variable of the same name in
    upper case with the ``EXHORTO_`` prefix, e.g. ``EXHORTO_SMTP_HOST``."""

    model_config = SettingsConfigDict(env_prefix="EXHORTO_", extra="ignore")

    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_tls: Literal["none", "starttls", "ssl"] = "none"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "exhorto@localhost"
    smtp_timeout: float = Field(default=15.0, gt=0)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_timeout: float = Field(default=10.0, gt=0)
    notify_max_attempts: int = Field(default=8, ge=1)
    notify_retry_seconds: int = Field(default=60, ge=1)  # first retry; doubles each time, capped at 6 hours
    notify_lease_seconds: int = Field(default=600, ge=1)  # a "sending" row older than this is retried


__all__ = ["NotifySettings"]
