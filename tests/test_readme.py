"""The README shows the current lifecycle and exactly the two set-up commands that CI runs, and its command-line
and federation examples run as written, in order, in a fresh directory."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from engine.diagram import document

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# The sections whose fenced bash blocks are run, in this order.
RUN_SECTIONS = ("Command line", "REST API and federation between nodes")
BLOCK_TIMEOUT = 900  # seconds; the federation block waits for two servers to start on a loaded 2-core machine


def test_readme_lifecycle_section_is_current() -> None:
    section = README.split("<!-- lifecycle:start", 1)[1].split("-->", 1)[1].split("<!-- lifecycle:end -->")[0]
    assert section.strip() == document().strip(), "run: exhorto lifecycle, and paste it into README.md"


def test_quick_start_has_two_commands_and_ci_runs_the_test_one() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = re.search(r"```bash\n(.*?)```", quick, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))] == ["make test"]


def _section(title: str) -> str:
    """A ``## title`` section, its ``###`` subsections included, up to the next ``##``."""
    body = README.split(f"\n## {title}\n", 1)[1]
    return re.split(r"\n## ", body, maxsplit=1)[0]


def _blocks() -> list[tuple[str, str]]:
    return [(title, block) for title in RUN_SECTIONS
            for block in re.findall(r"```(?:bash|sh)\n(.*?)```", _section(title), re.S)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_readme_examples_use_files_that_exist_and_mean_this_exchange() -> None:
    """The example files the blocks name are in the repository; the request is the Colombia → Spain example
    without the fields the system sets (so the two cannot drift apart)."""
    from engine.system_fields import without_system_fields

    named = {path for _, block in _blocks() for path in re.findall(r"(?:docs|forms)/[\w/.-]+\.json", block)}
    assert named and all((ROOT / path).is_file() for path in named), named
    example = json.loads((ROOT / "forms/examples/request/co-es-bank-records.json").read_text(encoding="utf-8"))
    shown = json.loads((ROOT / "docs/examples/co-es-request.json").read_text(encoding="utf-8"))
    assert shown == without_system_fields(example, "request")


def test_readme_command_blocks_run_as_written(tmp_path: Path) -> None:
    """Every fenced command block of the Command line and federation sections, with bash (``-e -o pipefail``: any
    failing line fails the block), in one fresh directory, in order. The directory holds what a checkout has
    beside them (``forms/`` and ``docs/``, linked) and nothing else; the CLI of this environment is on PATH; no
    EXHORTO_* variable leaks in. The federation block starts and stops its two servers itself, on the free ports
    the test gives it in ES_PORT/CO_PORT (the README's documented way); whatever the block leaves running is
    stopped with its process group."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed (the federation block uses it)")
    blocks = _blocks()
    assert [title for title, _ in blocks] == list(RUN_SECTIONS), "one block per section is expected"
    for name in ("forms", "docs"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EXHORTO_", "PREFECT_"))}
    es_port = _free_port()
    co_port = _free_port()
    while co_port == es_port:
        co_port = _free_port()
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", EXHORTO_HOME=str(tmp_path),
               HOME=str(tmp_path), ES_PORT=str(es_port), CO_PORT=str(co_port))
    for number, (title, block) in enumerate(blocks, start=1):
        log = tmp_path / f"block-{number}.log"
        with log.open("w", encoding="utf-8") as out:
            process = subprocess.Popen(["bash", "-e", "-o", "pipefail", "-c", block], cwd=tmp_path, env=env,
                                       stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                code = process.wait(timeout=BLOCK_TIMEOUT)
            except subprocess.TimeoutExpired:
                code = None
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)  # servers the block left behind, if any
        output = log.read_text(encoding="utf-8")
        assert code == 0, f"README block {number} ({title}) exited {code}:\n{output[-6000:]}"
        assert "Traceback" not in output, output[-6000:]
