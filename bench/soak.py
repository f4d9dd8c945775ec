"""Soak: API load for MINUTES with a deadline sweep every minute; reports memory growth and error count.

    .venv/bin/python bench/soak.py --minutes 10 [--clients 8]      (or bench/run_all.py --soak 10)

A node (``exhorto serve``, SQLite in a temporary folder, outbox dispatcher on) runs in a subprocess; client
threads loop create → submit → approve → transmit over HTTP; once a minute a deadline sweep runs against the
same database. Memory is the server's resident set size, sampled every 10 s; growth is measured from the end of
the first minute (after warm-up) to the end. Any HTTP status other than 2xx, or a sweep error, is an error.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mb(pid: int) -> float:
    """Resident memory of the server and its children (uvicorn has none here), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def soak(minutes: float, clients: int = 8) -> dict[str, Any]:
    import httpx

    from engine import tokens
    from engine.deadlines.sweep import sweep_once
    from engine.seed import seed_demo
    from engine.store.db import Database
    from engine.store.migrate import upgrade
    from engine.system_fields import without_system_fields

    os.environ.setdefault("EXHORTO_KEY_PASSPHRASE", "bench-passphrase")
    folder = Path(tempfile.mkdtemp(prefix="exhorto-soak-"))
    url = f"sqlite:///{folder / 'soak.db'}"
    db = Database(url)
    upgrade(db)
    seed_demo(db)
    clerk = tokens.issue(db, "co.clerk")[0]
    judge = tokens.issue(db, "co.judge")[0]
    # The engine fills the authorities and references itself and refuses a payload that sets them.
    request = without_system_fields(
        json.loads((ROOT / "forms/examples/request/co-es-bank-records.json").read_text(encoding="utf-8")))
    port = _free_port()
    env = {**os.environ, "EXHORTO_DATABASE_URL": url}
    server = subprocess.Popen([str(Path(sys.executable).with_name("exhorto")), "serve", "--port", str(port),
                               "--dispatch-interval", "2", "--log-level", "warning"], env=env, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    counts = {"requests": 0, "errors": 0, "cases": 0}
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            while not stop.is_set():
                try:
                    as_clerk = {"Authorization": f"Bearer {clerk}"}
                    case = http.post("/cases", json={"counterpart": "ES-MJ", "payload": request}, headers=as_clerk)
                    steps = [case]
                    if case.is_success:
                        path = f"/cases/{case.json()['id']}/actions"
                        steps.append(http.post(path, json={"action": "submit", "version": 1}, headers=as_clerk))
                        steps.append(http.post(path, json={"action": "approve", "version": 2},
                                               headers={"Authorization": f"Bearer {judge}"}))
                        steps.append(http.post(path, json={"action": "transmit", "version": 3}, headers=as_clerk))
                    with lock:
                        counts["requests"] += len(steps)
                        counts["errors"] += sum(not r.is_success for r in steps)
                        counts["cases"] += 1
                except httpx.HTTPError:
                    with lock:
                        counts["errors"] += 1

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the soak node did not start")
            time.sleep(0.3)
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
        for thread in threads:
            thread.start()
        start = time.monotonic()
        samples: list[tuple[float, float]] = []
        sweeps, sweep_errors, next_sweep = 0, 0, start + 60
        while (now := time.monotonic()) < start + minutes * 60:
            samples.append((now - start, _rss_mb(server.pid)))
            if now >= next_sweep:
                summary = sweep_once(db)
                sweeps += 1
                sweep_errors += summary.failed
                next_sweep += 60
            time.sleep(10)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        warm = next((rss for t, rss in samples if t >= 60), samples[0][1])
        end = _rss_mb(server.pid)
        return {"minutes": minutes, "clients": clients, "requests": counts["requests"], "cases": counts["cases"],
                "requests_per_s": round(counts["requests"] / (minutes * 60), 1),
                "errors": counts["errors"] + sweep_errors, "sweeps": sweeps,
                "rss_after_warmup_mb": round(warm, 1), "rss_end_mb": round(end, 1),
                "rss_growth_mb": round(end - warm, 1), "rss_max_mb": round(max(r for _, r in samples), 1)}
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    print(json.dumps(soak(args.minutes, args.clients), indent=2))


if __name__ == "__main__":
    main()
