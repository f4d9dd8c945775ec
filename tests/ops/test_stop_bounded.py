"""`exhorto stack up` stops within a bounded time whatever its services do (engine.ops.stack's module doc).

Real process trees: a service that stops on SIGTERM, one that ignores SIGTERM and has started a child of its own
(as uvicorn starts workers), and one whose child outlives it. Nothing here depends on the machine being idle: the
bounds asserted are the documented grace period and kill wait, with slack for a loaded machine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine.ops import stack as stack_module
from engine.ops.stack import Interrupts, Service, Stack, StackConfig

POLITE = "import time\nwhile True: time.sleep(0.1)\n"
# Ignores SIGTERM and starts a grandchild that ignores it too: only SIGKILL to the whole group stops them.
STUBBORN = textwrap.dedent("""
    import signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c",
        "import signal, time\\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\\nwhile True: time.sleep(0.1)"])
    print(child.pid, flush=True)
    while True: time.sleep(0.1)
""")
# Exits on SIGTERM at once but leaves a child behind that ignores it (an orphan in the service's group).
ORPHANING = textwrap.dedent("""
    import signal, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c",
        "import signal, time\\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\\nwhile True: time.sleep(0.1)"])
    print(child.pid, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True: time.sleep(0.1)
""")


def _service(name: str, code: str) -> Service:
    return Service(name, [sys.executable, "-c", code], dict(os.environ), None)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _started(tmp_path: Path, *services: Service) -> tuple[Stack, list[int]]:
    stack = Stack(StackConfig(home=tmp_path, startup_timeout=60), say=lambda _line: None, services=list(services))
    stack.start()  # each service must survive its first 3 s: started for real
    pids = []
    for run in stack.running:
        pids.append(run.process.pid)
        log = Path(run.log.name).read_text().split()
        pids.extend(int(word) for word in log if word.isdigit())
    return stack, pids


def test_polite_services_stop_on_sigterm_without_being_killed(tmp_path: Path) -> None:
    stack, pids = _started(tmp_path, _service("a", POLITE), _service("b", POLITE))
    began = time.monotonic()
    forced = stack.stop(grace=30, kill_wait=10)
    assert forced == []
    assert time.monotonic() - began < 30
    assert not [pid for pid in pids if _alive(pid)]


def test_a_service_ignoring_sigterm_and_its_children_are_killed_after_the_grace_period(tmp_path: Path) -> None:
    stack, pids = _started(tmp_path, _service("polite", POLITE), _service("stubborn", STUBBORN),
                           _service("orphaning", ORPHANING))
    assert len(pids) == 5  # three services, two children
    began = time.monotonic()
    forced = stack.stop(grace=2, kill_wait=10)
    took = time.monotonic() - began
    assert sorted(forced) == ["orphaning", "stubborn"]  # the orphan keeps its service's group alive
    assert 2 <= took < 2 + 10 + 5
    assert not [pid for pid in pids if _alive(pid)], "a process outlived the stop"


def test_a_second_interrupt_cuts_the_grace_period_short(tmp_path: Path) -> None:
    interrupts = Interrupts()
    stack = Stack(StackConfig(home=tmp_path, startup_timeout=60), say=lambda _line: None,
                  services=[_service("stubborn", STUBBORN)], interrupts=interrupts)
    stack.start()
    with pytest.raises(KeyboardInterrupt):
        interrupts(signal.SIGINT, None)  # the first Ctrl-C asks to stop
    interrupts(signal.SIGINT, None)  # the second must not raise: the shutdown under way goes on, faster
    began = time.monotonic()
    assert stack.stop(grace=60, kill_wait=10) == ["stubborn"]
    assert time.monotonic() - began < 15


def test_the_supervisor_exits_with_the_documented_code_on_sigint_and_sigterm(tmp_path: Path) -> None:
    # The whole `up` path in a real process, its database step replaced: the services are real processes.
    script = tmp_path / "supervise.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        from engine.ops import stack
        stack.ensure_databases = lambda config: []
        polite = stack.Service("polite", [sys.executable, "-c", {POLITE!r}], dict(os.environ), None)
        stubborn = stack.Service("stubborn", [sys.executable, "-c", {STUBBORN!r}], dict(os.environ), None)
        stack.plan = lambda config, python=sys.executable: [polite] + ([stubborn] if sys.argv[1] == "stubborn" else [])
        stack.GRACE_SECONDS = 2.0
        sys.exit(stack.up(stack.StackConfig(home=Path(sys.argv[2]), startup_timeout=60)))
    """))
    expected = {("polite", signal.SIGINT): stack_module.EXIT_STOPPED,
                ("polite", signal.SIGTERM): stack_module.EXIT_STOPPED,
                ("stubborn", signal.SIGINT): stack_module.EXIT_FORCED}
    for (kind, sig), code in expected.items():
        out = tmp_path / f"{kind}-{sig}.out"
        with out.open("wb") as sink:
            process = subprocess.Popen([sys.executable, str(script), kind, str(tmp_path / f"home-{kind}-{sig}")],
                                       stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while "stack is up" not in out.read_text():
            assert process.poll() is None and time.monotonic() < deadline, out.read_text()
            time.sleep(0.2)
        process.send_signal(sig)
        assert process.wait(timeout=60) == code, out.read_text()
        assert "stack stopped" in out.read_text()
