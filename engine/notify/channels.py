"""Delivery channels: SMTP e-mail and HMAC-SHA256-signed webhooks.

A channel sends one notification or raises :class:`ChannelError`, saying whether trying again later may help
(server down, timeout, 4xx SMTP reply, HTTP 5xx/408/429) or not (address refused, HTTP 4xx).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

import httpx

from engine.notify.settings import NotifySettings
from engine.store.deadline_models import Notification

SIGNATURE_HEADER = "X-Exhorto-Signature"
TIMESTAMP_HEADER = "X-Exhorto-Timestamp"
DELIVERY_HEADER = "X-Exhorto-Delivery"


class ChannelError(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Channel(Protocol):
    def send(self, notification: Notification) -> None: ...


class SmtpChannel:
    """One SMTP session per message; the notification's uid becomes the Message-ID, so a receiving system can
    discard the rare duplicate left by a crash between the server's acceptance and our status update."""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings

    def message(self, notification: Notification) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.smtp_from
        mail["To"] = notification.recipient
        mail["Subject"] = notification.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = f"<{notification.uid}@exhorto>"
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(notification.body)
        mail["Content-Language"] = notification.language  # after set_content, which resets Content-*
        return mail

    def send(self, notification: Notification) -> None:
        s = self.settings
        try:
            if s.smtp_tls == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            with client:
                if s.smtp_tls == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if s.smtp_user:
                    client.login(s.smtp_user, s.smtp_password.get_secret_value() if s.smtp_password else "")
                client.send_message(self.message(notification))
        except smtplib.SMTPRecipientsRefused as error:
            raise ChannelError(f"recipient refused: {error.recipients}", transient=False) from error
        except smtplib.SMTPResponseException as error:
            # 4xx: try again later (greylisting, server busy); 5xx: permanent.
            raise ChannelError(
                f"SMTP {error.smtp_code}: {error.smtp_error!r}", transient=400 <= error.smtp_code < 500
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            raise ChannelError(
                f"SMTP server {s.smtp_host}:{s.smtp_port} unavailable: {error}", transient=True
            ) from error


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``timestamp + "." + body`` (the timestamp defeats replays)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: str, timestamp: str, body: bytes, header: str, *, now: float | None = None, tolerance: int = 300
) -> bool:
    """For receivers: the signature matches and the timestamp is within ``tolerance`` seconds."""
    fresh = abs((now if now is not None else time.time()) - int(timestamp)) <= tolerance
    return fresh and hmac.compare_digest(signature(secret, timestamp, body), header)


class WebhookChannel:
    def __init__(self, settings: NotifySettings, client: httpx.Client | None = None) -> None:
        self.settings = settings
        self.client = client

    def send(self, notification: Notification) -> None:
        if self.settings.webhook_secret is None:
            raise ChannelError(
                "EXHORTO_WEBHOOK_SECRET is not set: webhooks are always signed", transient=False
            )
        body = json.dumps(
            {"id": notification.uid, "subject": notification.subject, **notification.data},
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            DELIVERY_HEADER: notification.uid,
            SIGNATURE_HEADER: signature(self.settings.webhook_secret.get_secret_value(), timestamp, body),
        }
        try:
            if self.client is not None:
                response = self.client.post(notification.recipient, content=body, headers=headers)
            else:
                with httpx.Client(timeout=self.settings.webhook_timeout) as client:
                    response = client.post(notification.recipient, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise ChannelError(
                f"webhook {notification.recipient} unreachable: {error}", transient=True
            ) from error
        if response.is_success:
            return
        transient = response.status_code >= 500 or response.status_code in (408, 429)
        raise ChannelError(f"webhook answered HTTP {response.status_code}", transient=transient)


def default_channels(settings: NotifySettings) -> dict[str, Channel]:
    return {"email": SmtpChannel(settings), "webhook": WebhookChannel(settings)}


__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Channel",
    "ChannelError",
    "SmtpChannel",
    "WebhookChannel",
    "default_channels",
    "signature",
    "verify",
]
