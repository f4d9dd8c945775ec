"""`exhorto serve` writes one access line per request at log level info, unless told `--no-access-log`."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.federation.nodes import free_port
from tests.helpers import serving_node


def served_output(tmp_path: Path, *options: str) -> str:
    """What the node printed while answering one request to /health?probe=1."""
    port = free_port()
    process = serving_node(tmp_path, port, "--dispatch-interval", "0", *options)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/health?probe=1").status_code == 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=60)
    return output.decode(errors="replace")


@pytest.mark.parametrize(("options", "logged"), [((), True), (("--no-access-log",), False)],
                         ids=["default", "no-access-log"])
def test_access_lines_follow_the_option(tmp_path: Path, options: tuple[str, ...], logged: bool) -> None:
    output = served_output(tmp_path, *options)
    assert "Application startup complete" in output  # the node's own log lines stay at info
    assert ('"GET /health?probe=1 HTTP/1.1" 200' in output) is logged, output
