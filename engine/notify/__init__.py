"""Notifications to people and systems: SMTP e-mail and signed webhooks, with a persistent log and retries."""

from __future__ import annotations

from engine.notify.channels import Channel, ChannelError, SmtpChannel, WebhookChannel, signature, verify
from engine.notify.dispatch import DeliverySummary, deliver_pending, requeue_failed
from engine.notify.settings import NotifySettings

__all__ = [
    "Channel",
    "ChannelError",
    "DeliverySummary",
    "NotifySettings",
    "SmtpChannel",
    "WebhookChannel",
    "deliver_pending",
    "requeue_failed",
    "signature",
    "verify",
]
