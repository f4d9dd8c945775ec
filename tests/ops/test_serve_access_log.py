"""`exhorto serve` writes one access line per request at log level info, unless told `--no-access-log`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.federation.nodes import free_port


def served_output(tmp_path: Path, *options: str) -> str:
    """What the node printed while answering one request to /health."""
    port = free_port()
    env = {**os.environ, "EXHORTO_DATABASE_URL": f"sqlite:///{tmp_path / 'node.db'}"}
    command = [str(Path(sys.executable).with_name("exhorto")), "serve", "--port", str(port),
               "--dispatch-interval", "0", *options]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health?probe=1").status_code == 200:
                    break
            except httpx.ConnectError:
                pass
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.3)
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
