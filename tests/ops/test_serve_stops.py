"""`exhorto serve` stops within a bounded time on SIGINT/SIGTERM, even with a request stuck in flight.

The bound is documented in engine.cli.serve: requests in flight get SHUTDOWN_GRACE_SECONDS, the background
dispatcher STOP_WAIT_SECONDS; the exit code is 0. A client that sends headers and then stalls its body would
otherwise keep the server alive for as long as the client likes.
"""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest

from engine.api.dispatcher import STOP_WAIT_SECONDS
from engine.cli.serve import SHUTDOWN_GRACE_SECONDS
from tests.federation.nodes import free_port
from tests.helpers import serving_node

SLACK_SECONDS = 30  # interpreter shutdown on a loaded 2-core machine


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_within_its_bound_with_a_stalled_request_in_flight(tmp_path: Path, sig: int) -> None:
    port = free_port()
    process = serving_node(tmp_path, port, "--dispatch-interval", "0.2", "--log-level", "warning")
    stalled = None
    try:
        stalled = socket.create_connection(("127.0.0.1", port))
        stalled.sendall(b"POST /inbox HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 100000\r\n\r\n{\"a\": ")  # ... and the rest never comes
        time.sleep(1)
        began = time.monotonic()
        process.send_signal(sig)
        code = process.wait(timeout=SHUTDOWN_GRACE_SECONDS + STOP_WAIT_SECONDS + SLACK_SECONDS)
        assert code == 0, process.stdout.read().decode(errors="replace") if process.stdout else code
        assert time.monotonic() - began < SHUTDOWN_GRACE_SECONDS + STOP_WAIT_SECONDS + SLACK_SECONDS
    finally:
        if stalled is not None:
            stalled.close()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
