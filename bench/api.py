"""REST API under load, and envelope signing speed.

    .venv/bin/python bench/api.py [--clients 50] [--duration 20] [--think 1.0] [--saturate 10]
                                  [--direct-seconds 5] [--rounds 3]
                                  [--database sqlite|postgresql] [--workers 1] [--json out.json]

1. Starts a node (``exhorto serve``, or uvicorn with ``--workers`` processes; its own SQLite database in a
   temporary folder or a throw-away PostgreSQL database; no background dispatcher) in a subprocess on a free
   loopback port. ``--clients`` concurrent clients (asyncio streams, one keep-alive connection each, the
   requests httpx would send: see :class:`Connection`) loop for ``--duration`` seconds: create a draft request
   (clerk), submit it (clerk), approve it (judge), withdraw it (judge) — four writes per case, each a full
   transaction with form validation, optimistic lock and hash-chained audit entry. Each client pauses between
   its requests (``--think`` seconds on average, uniformly 0.5–1.5×, clients starting out of step: a busy
   clerk's or a connected system's pace, far above what a central authority's staff produce). Reports
   requests/s, cases/s, p50/p90/p99/max latency (think time excluded) and errors (must be 0). The target applies
   to this phase.
2. Saturation (``--saturate`` seconds, 0 to skip): the same clients without pauses, to measure the node's
   capacity. Closed-loop latency there is clients ÷ throughput (Little's law), so it is reported, not targeted.
   Its baseline (issue 19, target ≥ 0.5×) is the engine called directly in this process for ``--direct-seconds``
   on a database of the same kind: the two alternate ``--rounds`` times (the server idles meanwhile), and the
   median of the rounds' ratios is reported with their spread and the load average, so that a neighbour's load
   coming and going moves both sides of a ratio instead of one.
3. Signs and verifies a realistic request envelope (RFC 8785 canonical JSON, Ed25519) for ``--sign-seconds``:
   sign+verify pairs per second.

Target: p99 < 100 ms with 50 clients, 0 errors. The machine is shared: run it alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from engine.system_fields import without_system_fields  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# The engine fills the authorities and references itself and refuses a payload that sets them.
EXAMPLE = without_system_fields(
    json.loads((ROOT / "forms/examples/request/co-es-bank-records.json").read_text(encoding="utf-8")))
WITHDRAWAL = without_system_fields(
    json.loads(next((ROOT / "forms/examples/withdrawal").glob("*.json")).read_text(encoding="utf-8")))
TARGET_P99_MS = 100.0
IDLE_RECONNECT_SECONDS = 4.0  # below uvicorn's keep-alive timeout (5 s)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PG_ADMIN = os.environ.get("EXHORTO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh database for the node: a file in ``folder``, or a throw-away PostgreSQL database."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    name = f"exhorto_bench_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare_node(url: str) -> tuple[dict[str, str], dict[str, str]]:
    """Seed the node's database; return its environment and a token per acting user."""
    env = {**os.environ, "EXHORTO_DATABASE_URL": url, "EXHORTO_KEY_PASSPHRASE": "bench", "EXHORTO_ATTACH_PDF": "0"}
    env.pop("EXHORTO_DISPATCH_INTERVAL", None)  # no background dispatcher: only the API is measured
    os.environ.update(env)
    from engine import tokens
    from engine.seed import seed_demo
    from engine.store.db import Database
    from engine.store.migrate import upgrade

    db = Database(env["EXHORTO_DATABASE_URL"])
    upgrade(db)
    seed_demo(db)
    issued = {user: tokens.issue(db, user, label="bench")[0] for user in ("co.clerk", "co.judge")}
    db.dispose()
    return env, issued


def start_server(env: dict[str, str], port: int, workers: int = 1,
                 dispatch_interval: float = 0) -> subprocess.Popen[bytes]:
    """``exhorto serve`` for one process (its background dispatcher every ``dispatch_interval`` s, 0: none); the
    production entry point under uvicorn for several workers."""
    if workers == 1:
        command = [sys.executable, "-c", "from engine.cli import main; main()", "serve", "--port", str(port),
                   "--dispatch-interval", str(dispatch_interval), "--log-level", "warning"]
    else:
        command = [sys.executable, "-m", "uvicorn", "engine.ops.asgi:create", "--factory", "--port", str(port),
                   "--workers", str(workers), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the node did not start")


class TimeUp(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection of the load generator: the requests httpx would send (same method, path,
    headers and compact UTF-8 JSON body), written and read with asyncio streams. httpx cost the generator ~1.4–2 ms
    of CPU per request, more than half of what the node spends answering it, and the generator runs on the
    node's 2 cores: that CPU was taken from the node being measured. Each answer is read whole (Content-Length)
    and its status and JSON body checked as before."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._prefix = (f"Host: {host}:{port}\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n"
                        "Connection: keep-alive\r\nUser-Agent: exhorto-bench\r\n")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0  # monotonic time of the last answer

    async def __aenter__(self) -> Connection:
        await self._open()
        return self

    async def _open(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.used = time.monotonic()

    async def __aexit__(self, *_: object) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                      body: Any = None) -> tuple[int, bytes]:
        """Send one request and read its whole answer: the status and the body."""
        if time.monotonic() - self.used > IDLE_RECONNECT_SECONDS:
            # The node closes a keep-alive connection idle for 5 s (uvicorn's default), as a paced client's can
            # be; a new one, as httpx would open, rather than a request on a connection being closed.
            await self._open()
        assert self.reader is not None and self.writer is not None
        head = f"{method} {path} HTTP/1.1\r\n{self._prefix}"
        for name, value in (headers or {}).items():
            head += f"{name}: {value}\r\n"
        content = b""
        if body is not None:  # as httpx encodes ``json=``
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            head += f"Content-Length: {len(content)}\r\nContent-Type: application/json\r\n"
        self.writer.write(head.encode("latin-1") + b"\r\n" + content)
        answer = await self.reader.readuntil(b"\r\n\r\n")
        status = int(answer[9:12])
        length = None
        for line in answer.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"{method} {path}: answer without Content-Length")
        content = await self.reader.readexactly(length)
        self.used = time.monotonic()
        return status, content


async def client_loop(client: Connection, issued: dict[str, str], stop_at: float, think: float, seed: int,
                      latencies: list[float], errors: list[str], cases: list[int]) -> None:
    clerk = {"Authorization": f"Bearer {issued['co.clerk']}"}
    judge = {"Authorization": f"Bearer {issued['co.judge']}"}
    pace = random.Random(seed)
    if think:  # clients start out of step, as users do: a case's four requests take about 4 × think
        await asyncio.sleep(pace.uniform(0, 4 * think))

    async def call(method: str, path: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if think:
            await asyncio.sleep(think * pace.uniform(0.5, 1.5))
        if time.monotonic() >= stop_at:
            raise TimeUp
        started = time.perf_counter()
        status, content = await client.request(method, path, headers, body)
        latencies.append(time.perf_counter() - started)
        if status >= 300:
            errors.append(f"{method} {path}: {status} {content[:200].decode(errors='replace')}")
            raise RuntimeError
        return json.loads(content)  # type: ignore[no-any-return]

    while time.monotonic() < stop_at:
        try:
            case = await call("POST", "/cases", clerk, {"counterpart": "ES-MJ", "payload": EXAMPLE})
            path = f"/cases/{case['id']}/actions"
            case = (await call("POST", path, clerk, {"action": "submit", "version": case["version"]}))["case"]
            case = (await call("POST", path, judge, {"action": "approve", "version": case["version"]}))["case"]
            await call("POST", path, judge, {"action": "withdraw", "payload": WITHDRAWAL,
                                             "version": case["version"]})
            cases.append(case["id"])
        except RuntimeError:
            continue
        except TimeUp:
            return


async def load(base: str, issued: dict[str, str], clients: int, duration: float, think: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    cases: list[int] = []
    host, port = base.removeprefix("http://").rsplit(":", 1)
    async with contextlib.AsyncExitStack() as stack:
        # Connected (and one request answered on each connection) before the clock starts.
        pool = [await stack.enter_async_context(Connection(host, int(port))) for _ in range(clients)]
        for status, _ in await asyncio.gather(*(client.request("GET", "/health") for client in pool)):
            if status != 200:
                raise SystemExit(f"the node answered /health with {status}")
        started = time.monotonic()
        # One deadline for the whole phase instead of a timer per request: a node that stops answering ends the
        # bench instead of hanging it.
        await asyncio.wait_for(asyncio.gather(*(
            client_loop(client, issued, started + duration, think, seed, latencies, errors, cases)
            for seed, client in enumerate(pool))), duration + 4 * think + 120)
        elapsed = time.monotonic() - started
    ordered = sorted(latencies) or [0.0]  # a phase of 0 s (``--duration 0``) makes no request

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return {"clients": clients, "think_s": think, "duration_s": round(elapsed, 1), "requests": len(latencies),
            "requests_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
            "cases_per_s": round(len(cases) / elapsed, 1) if elapsed else 0.0,
            "p50_ms": round(pct(0.50), 1), "p90_ms": round(pct(0.90), 1), "p99_ms": round(pct(0.99), 1),
            "max_ms": round(ordered[-1] * 1000, 1), "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
            "errors": len(errors), "first_errors": errors[:3]}


def report(label: str, api: dict[str, Any]) -> str:
    return (f"{label}: {api['clients']} clients, think {api['think_s']} s, {api['duration_s']} s: "
            f"{api['requests']} requests ({api['requests_per_s']}/s, {api['cases_per_s']} cases/s), "
            f"p50 {api['p50_ms']} ms, p90 {api['p90_ms']} ms, p99 {api['p99_ms']} ms, max {api['max_ms']} ms, "
            f"errors {api['errors']}")


def sign_verify(seconds: float) -> dict[str, Any]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from engine.keys import key_id_for, public_raw
    from engine.transport.envelope import Envelope
    from engine.transport.signing import sign_envelope, signature_holds

    private = Ed25519PrivateKey.generate()
    public, key_id = private.public_key(), key_id_for("CO-FGN", public_raw(private))
    envelope = Envelope(exchange_id="01900000-0000-7000-8000-000000000001",
                        message_id="01900000-0000-7000-8000-000000000002", kind="request", sender="CO-FGN",
                        recipient="ES-MJ", sent_at="2026-11-23T10:00:00+00:00",
                        schema_id="https://exhorto.eu/schemas/request/v1", payload=EXAMPLE)
    count, started = 0, time.perf_counter()
    transmission = sign_envelope(envelope, private, key_id)  # at least once: its size is reported
    while time.perf_counter() - started < seconds:
        transmission = sign_envelope(envelope, private, key_id)
        assert signature_holds(public, transmission.signature, transmission.signed_bytes)
        count += 1
    elapsed = time.perf_counter() - started
    size = len(transmission.signed_bytes)
    return {"envelope_bytes": size, "sign_verify_per_s": round(count / elapsed, 1) if count else 0.0}


class DirectEngine:
    """The baseline of the saturated API (issue 19): the same four writes per case through the engine's functions
    in this process, one after another, on a database of the same kind: no HTTP, no token check, no JSON."""

    def __init__(self, url: str) -> None:
        from engine.directory import actor_for
        from engine.seed import seed_demo
        from engine.store.db import Database
        from engine.store.migrate import upgrade

        self.db = Database(url)
        upgrade(self.db)
        seed_demo(self.db)
        self.clerk, self.judge = actor_for(self.db, "co.clerk"), actor_for(self.db, "co.judge")

    def run(self, seconds: float) -> tuple[int, float]:
        """Engine operations done in ``seconds``, and the seconds they took."""
        from engine.actions import apply_action
        from engine.cases import create_case

        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            case = create_case(self.db, actor=self.clerk, counterpart="ES-MJ", payload=EXAMPLE)
            apply_action(self.db, case=case.id or 0, action="submit", actor=self.clerk)
            apply_action(self.db, case=case.id or 0, action="approve", actor=self.judge)
            apply_action(self.db, case=case.id or 0, action="withdraw", actor=self.judge, payload=WITHDRAWAL)
            count += 4
        return count, time.perf_counter() - started


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) used so far by process ``pid`` and its children (uvicorn's workers), from
    /proc; None where there is no /proc."""
    try:
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        pending = [pid]
        while pending:
            current = pending.pop()
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        return total
    except (OSError, ValueError, IndexError):
        return None


def load_average() -> float:
    return round(os.getloadavg()[0], 1)


def interleaved(base: str, issued: dict[str, str], direct: DirectEngine, args: argparse.Namespace,
                server: int) -> dict[str, Any]:
    """Saturated API and direct engine, one after the other, ``--rounds`` times (the server idles while the
    engine runs in this process): each round's ratio compares two figures taken seconds apart, so a neighbour's
    load that comes and goes moves both. Reports the median ratio and its spread, with the load average, and
    the CPU time one request costs the server beside the CPU time one operation costs the engine called directly
    (less sensitive to the neighbours than throughput)."""
    rounds = []
    for _ in range(args.rounds):
        load_before, cpu_before = load_average(), cpu_seconds(server)
        saturated = asyncio.run(load(base, issued, args.clients, args.saturate, 0.0))
        cpu_after = cpu_seconds(server)
        direct_cpu = time.process_time()
        count, elapsed = direct.run(args.direct_seconds)
        direct_ops = count / elapsed
        direct_ms = (time.process_time() - direct_cpu) * 1000 / count
        server_ms = (None if cpu_before is None or cpu_after is None or not saturated["requests"] else
                     round((cpu_after - cpu_before) * 1000 / saturated["requests"], 2))
        rounds.append({"saturated": saturated, "direct_ops_per_s": round(direct_ops, 1),
                       "ratio": round(saturated["requests_per_s"] / direct_ops, 3),
                       "server_cpu_ms_per_request": server_ms, "direct_cpu_ms_per_operation": round(direct_ms, 2),
                       "load_average": [load_before, load_average()]})
    ratios = [r["ratio"] for r in rounds]
    return {"rounds": rounds, "ratio_median": round(statistics.median(ratios), 3), "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            "requests_per_s_median": statistics.median(r["saturated"]["requests_per_s"] for r in rounds),
            "direct_ops_per_s_median": statistics.median(r["direct_ops_per_s"] for r in rounds),
            "load_average": [min(min(r["load_average"]) for r in rounds),
                             max(max(r["load_average"]) for r in rounds)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a client's requests (s)")
    parser.add_argument("--saturate", type=float, default=10.0, help="seconds without pauses (0: skip)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="API worker processes (uvicorn --workers)")
    parser.add_argument("--sign-seconds", type=float, default=3.0)
    parser.add_argument("--direct-seconds", type=float, default=5.0,
                        help="engine functions called directly, the saturated API's baseline, per round (0: skip)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="saturated API and direct engine measured alternately this many times")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        url = stack.enter_context(database(args.database, Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="exhorto-bench-")))))
        env, issued = prepare_node(url)
        direct = None
        if args.direct_seconds and args.saturate:  # its own database of the same kind, ready before the rounds
            direct_url = stack.enter_context(database(args.database, Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix="exhorto-bench-")))))
            direct = DirectEngine(direct_url)
            stack.callback(direct.db.dispose)
        port = free_port()
        server = start_server(env, port, args.workers)
        base = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(load(base, issued, 5, 3.0, 0.0))  # warm-up, not measured: imports, caches, first cases
            if direct is not None:
                direct.run(1.0)  # the same warm-up for the baseline
            api = asyncio.run(load(base, issued, args.clients, args.duration, args.think))
            compared = interleaved(base, issued, direct, args, server.pid) if direct is not None else None
            saturated = None
            if args.saturate and compared is None:
                saturated = asyncio.run(load(base, issued, args.clients, args.saturate, 0.0))
        finally:
            server.terminate()
            server.wait(timeout=30)
    signing = sign_verify(args.sign_seconds)
    if compared is not None:  # the round with the median ratio stands for the saturated phase
        saturated = sorted(compared["rounds"], key=lambda r: r["ratio"])[len(compared["rounds"]) // 2]["saturated"]
    result = {"database": args.database, "workers": args.workers, "api": api, "saturated": saturated,
              "compared": compared, "signing": signing, "target_p99_ms": TARGET_P99_MS,
              "p99_within_target": api["p99_ms"] < TARGET_P99_MS if api["requests"] else None,
              "cpu_count": os.cpu_count()}
    print(f"node: {args.database}, {args.workers} worker(s)")
    print(report("API", api))
    if saturated:
        print(report("saturated", saturated))
    if compared:
        for number, one in enumerate(compared["rounds"], 1):
            print(f"  round {number}: API {one['saturated']['requests_per_s']} req/s, direct "
                  f"{one['direct_ops_per_s']} ops/s, ratio {one['ratio']:.2f}x; CPU per request: server "
                  f"{one['server_cpu_ms_per_request']} ms, direct {one['direct_cpu_ms_per_operation']} ms; "
                  f"load average {one['load_average'][0]}-{one['load_average'][1]}")
        print(f"direct: {compared['direct_ops_per_s_median']} engine operations/s (create, submit, approve, "
              "withdraw; one process, no HTTP; median of the rounds)")
        print(f"saturated API / direct engine: {compared['ratio_median']:.2f}x median of {args.rounds} rounds "
              f"({compared['ratio_min']:.2f}-{compared['ratio_max']:.2f}), load average "
              f"{compared['load_average'][0]}-{compared['load_average'][1]} on {os.cpu_count()} CPUs "
              "(target >= 0.5)")
    print(f"signing: {signing['sign_verify_per_s']} sign+verify/s ({signing['envelope_bytes']}-byte envelope)")
    within = result["p99_within_target"]
    print(f"p99 target {TARGET_P99_MS} ms: {'not measured' if within is None else 'met' if within else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    if api["errors"] or (saturated and saturated["errors"]) or (
            compared and any(r["saturated"]["errors"] for r in compared["rounds"])):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
