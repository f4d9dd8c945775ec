"""Cold start of the command line: `exhorto --help` and `exhorto case list` beside `python -c pass`.

    .venv/bin/python bench/startup.py [--runs 7]

Each command runs ``--runs`` times as a fresh process (interleaved, so load from other processes falls on every row
alike); `case list` reads a seeded SQLite database in a temporary folder. Two figures per row: the wall-clock time
and the CPU time (user + system) of the process. On a shared machine the wall clock includes waiting for a core;
the CPU time is what the command itself costs, and the targets are checked against the best (lowest) wall time and
the median CPU time. Targets (issue 19): `exhorto --help` < 0.3 s, `exhorto case list` < 0.8 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXHORTO = str(Path(sys.executable).with_name("exhorto"))
TARGETS = {"exhorto --help": 0.3, "exhorto case list": 0.8}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from engine.seed import demo_username, seed_demo
    from engine.store.db import Database
    from engine.store.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="exhorto-startup-") as folder:
        url = f"sqlite:///{folder}/startup.db"
        db = Database(url)
        upgrade(db)
        seed_demo(db)
        db.dispose()
        env = {**os.environ, "EXHORTO_DATABASE_URL": url, "EXHORTO_USER": demo_username("ES-MJ", "clerk")}
        commands = {
            "python -c pass (baseline)": [sys.executable, "-c", "pass"],
            "exhorto --help": [EXHORTO, "--help"],
            "exhorto case list": [EXHORTO, "case", "list"],
            # What any command that reads the database must import: SQLAlchemy, SQLModel and the engine's tables.
            "import the ORM models (floor)": [sys.executable, "-c", "import engine.store.db, engine.store.models"],
        }
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():
            timed(command, env)  # warm the file cache and the bytecode cache
        for _ in range(args.runs):
            for name, command in commands.items():
                wall, cpu = timed(command, env)
                walls[name].append(wall)
                cpus[name].append(cpu)

    print(f"{args.runs} runs each, interleaved; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'command':<28}{'wall min':>10}{'wall median':>13}{'cpu median':>12}{'cpu min-max':>14}  target")
    for name in commands:
        target = TARGETS.get(name)
        met = target is not None and min(walls[name]) < target and median(cpus[name]) < target
        verdict = "" if target is None else f"< {target} s: {'met' if met else 'NOT met'}"
        spread = f"{min(cpus[name]):.2f}-{max(cpus[name]):.2f}"
        print(f"{name:<28}{min(walls[name]):>10.3f}{median(walls[name]):>13.3f}{median(cpus[name]):>12.3f}"
              f"{spread:>14}  {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
