"""Settings of one node's HTTP app, from arguments or the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from engine.inbox import max_message_bytes


@dataclass(frozen=True)
class Settings:
    # Largest accepted POST /inbox body (bytes); bigger ones get a signed ``too_large`` receipt.
    max_message_bytes: int = field(default_factory=max_message_bytes)
    # Seconds between runs of the background outbox dispatcher; None: no dispatcher in this process.
    dispatch_interval: float | None = None
    # Largest attachment upload through the API (bytes).
    max_upload_bytes: int = 20 * 1024 * 1024

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        interval = os.environ.get("EXHORTO_DISPATCH_INTERVAL")
        values: dict[str, object] = {"dispatch_interval": float(interval) if interval else None}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
