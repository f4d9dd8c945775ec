"""Retry timing shared by everything that resends: outbox messages and notifications."""

from __future__ import annotations

from datetime import timedelta


def exponential_backoff(attempts: int, base: timedelta, cap: timedelta) -> timedelta:
    """``base`` after the first failed attempt, doubling with each further one, never more than ``cap``."""
    return min(base * (2 ** max(attempts - 1, 0)), cap)
