"""Failed-authentication limiter: too many failures from one client in a sliding window → refused a while.

Pure and in memory (no web framework): each API worker keeps its own counts, so with W workers a client
gets at most W × ``max_failures`` tries per window — still far from what guessing a password or a token
needs. The number of clients tracked is bounded so that a flood of addresses cannot exhaust memory.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

MAX_FAILURES_ENV = "EXHORTO_AUTH_MAX_FAILURES"
MAX_FAILURES_PER_ADDRESS_ENV = "EXHORTO_AUTH_MAX_FAILURES_PER_ADDRESS"
WINDOW_ENV = "EXHORTO_AUTH_WINDOW_SECONDS"
# An office behind one NAT address shares the per-address count: it is much higher than the per-principal one.
ADDRESS_FACTOR = 20


@dataclass(frozen=True)
class Limits:
    max_failures: int = 10
    window_seconds: float = 300.0
    max_clients: int = 10_000

    @classmethod
    def from_env(cls) -> Limits:
        """Per principal (a user name, a token's prefix): ``EXHORTO_AUTH_MAX_FAILURES`` (10)."""
        return cls(max_failures=int(os.environ.get(MAX_FAILURES_ENV, cls.max_failures)),
                   window_seconds=float(os.environ.get(WINDOW_ENV, cls.window_seconds)))

    @classmethod
    def per_address_from_env(cls) -> Limits:
        """Per client address: ``EXHORTO_AUTH_MAX_FAILURES_PER_ADDRESS`` (20 × the per-principal limit)."""
        principal = cls.from_env()
        default = principal.max_failures * ADDRESS_FACTOR
        return cls(max_failures=int(os.environ.get(MAX_FAILURES_PER_ADDRESS_ENV, default)),
                   window_seconds=principal.window_seconds)


class FailureLimiter:
    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or Limits()
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.get(client)
        if times is None:
            return deque()
        while times and times[0] <= now - self.limits.window_seconds:
            times.popleft()
        if not times:
            del self._failures[client]
        return times

    def retry_after(self, client: str) -> float:
        """Seconds until ``client`` may try again; 0 when it may try now."""
        with self._lock:
            now = self._clock()
            times = self._recent(client, now)
            if len(times) < self.limits.max_failures:
                return 0.0
            # Blocked until enough old failures leave the window.
            return max(times[len(times) - self.limits.max_failures] + self.limits.window_seconds - now, 0.001)

    def failed(self, client: str) -> None:
        with self._lock:
            now = self._clock()
            times = self._recent(client, now)
            times.append(now)
            self._failures[client] = times
            self._failures.move_to_end(client)
            while len(self._failures) > self.limits.max_clients:
                self._failures.popitem(last=False)  # forget the least recently failing client


    def clear(self) -> None:
        with self._lock:
            self._failures.clear()


@dataclass
class AuthLimiter:
    """Two independent counts: by the credential's principal (tight) and by client address (loose)."""

    principals: FailureLimiter
    addresses: FailureLimiter

    @classmethod
    def from_env(cls) -> AuthLimiter:
        return cls(FailureLimiter(Limits.from_env()), FailureLimiter(Limits.per_address_from_env()))

    def failed(self, principal: str, address: str) -> None:
        self.principals.failed(principal)
        self.addresses.failed(address)

    def clear(self) -> None:
        self.principals.clear()
        self.addresses.clear()


__all__ = ["AuthLimiter", "FailureLimiter", "Limits"]
