"""Engine transitions per second vs the bare SQL the engine must at least do (one UPDATE + one audit INSERT per
transition, one transaction each), measured in the same run on SQLite and, when reachable, PostgreSQL.

    .venv/bin/python bench/transitions.py [--n 2000]
    .venv/bin/python bench/transitions.py --concurrency 1 4 8 [--seconds 5]

With ``--concurrency``, PostgreSQL only: N writer processes at once, each with its own connection, first on
distinct cases (each writer moves its own cases), then all on one hot case, where writers collide: a writer that
loses (the engine's StaleVersion or a refusal because the state moved; for raw SQL an UPDATE that matched no row)
counts a conflict and tries again with the other action. The raw SQL at the same N is the baseline of the same run.
Nothing may be lost: after each run the case versions and audit rows must add up to the writes that succeeded,
and the engine's audit chains must verify.

Target: engine ≥ 0.5 × raw (at each concurrency 1, 4, 8).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from engine.actions import apply_action  # noqa: E402
from engine.cases import create_case  # noqa: E402
from engine.directory import actor_for  # noqa: E402
from engine.seed import seed_demo  # noqa: E402
from engine.store.db import Database  # noqa: E402
from engine.system_fields import without_system_fields  # noqa: E402

PG_ADMIN = os.environ.get("EXHORTO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
# The engine fills the authorities and references itself and refuses a payload that sets them.
EXAMPLE = Path(__file__).resolve().parents[1] / "forms/examples/request/co-es-bank-records.json"
REQUEST = without_system_fields(json.loads(EXAMPLE.read_text(encoding="utf-8")))
CASES = 20


class EngineRun:
    """Moves CASES drafts back and forth (submit / send back) through the engine's single entry point."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.clerk, self.judge = actor_for(db, "co.clerk"), actor_for(db, "co.judge")
        self.refs = [create_case(db, actor=self.clerk, counterpart="ES-MJ", payload=REQUEST).reference
                     for _ in range(CASES)]
        self.i = 0

    def step(self) -> None:
        ref = self.refs[self.i % CASES]
        if (self.i // CASES) % 2 == 0:
            apply_action(self.db, case=ref, action="submit", actor=self.clerk)
        else:
            apply_action(self.db, case=ref, action="send_back", actor=self.judge,
                         payload={"reasons": "Complete the account numbers."})
        self.i += 1


class RawRun:
    """The same rows written with bare SQL: one UPDATE of the case and one audit INSERT per transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        clerk = actor_for(db, "co.clerk")
        self.ids = [create_case(db, actor=clerk, counterpart="ES-MJ", payload=REQUEST).id for _ in range(CASES)]
        self.seq = dict.fromkeys(self.ids, 100)
        self.i = 0

    def step(self) -> None:
        case_id = self.ids[self.i % CASES]
        self.seq[case_id] += 1
        state = "pending_approval" if (self.i // CASES) % 2 == 0 else "draft"
        with self.db.engine.begin() as connection:
            connection.execute(text("UPDATE \"case\" SET state = :s, version = version + 1, updated_at = :t "
                                    "WHERE id = :id"), {"s": state, "t": datetime.now(UTC), "id": case_id})
            connection.execute(text(
                "INSERT INTO auditevent (case_id, seq, at, actor, action, from_state, to_state, payload_hash, "
                "detail, prev_hash, hash) VALUES (:c, :q, :t, 'co.clerk', 'submit', 'draft', :s, NULL, '{}', "
                ":p, :h)"), {"c": case_id, "q": self.seq[case_id], "t": datetime.now(UTC), "s": state,
                             "p": "0" * 64, "h": "1" * 64})
        self.i += 1


def measure(name: str, url: str, n: int, chunk: int = 50) -> tuple[str, float, float]:
    """Engine and raw runs alternate in chunks so that machine noise hits both alike.

    Each first makes one untimed round (every case submitted and sent back once), as the concurrent writers'
    warm-up step does below: what the engine does once, on its first transition (importing the deadline
    calendars, compiling statements), is done before the clock starts. Without it the short run of
    bench/run_all.py (``--n 500``, ~0.2 s of transitions) counted the first transition's ~35 ms with them."""
    db = Database(url)
    db.create_all()
    seed_demo(db)
    runs = {"engine": EngineRun(db), "raw": RawRun(db)}
    for run in runs.values():
        for _ in range(2 * CASES):
            run.step()
    spent = dict.fromkeys(runs, 0.0)
    for _ in range(n // chunk):
        for label, run in runs.items():
            start = time.perf_counter()
            for _ in range(chunk):
                run.step()
            spent[label] += time.perf_counter() - start
    db.dispose()
    done = (n // chunk) * chunk
    return name, done / spent["engine"], done / spent["raw"]


# --- N concurrent writers on PostgreSQL ------------------------------------------------------------------------
REASONS = {"reasons": "Complete the account numbers."}
CASES_PER_WRITER = 4


def _timed(kind: str, step: Any, barrier: Any, stop_at: Any, out: Any) -> None:
    """Warm up with one step, start with the other writers, count applied steps and conflicts until ``stop_at``.

    ``step()`` returns True when its write applied and False when another writer moved the case first."""
    warm = int(step())  # connection, compiled statements
    done = conflicts = 0
    barrier.wait()
    cpu = time.process_time()
    while time.monotonic() < stop_at.value:
        if step():
            done += 1
        else:
            conflicts += 1
    out.put((kind, done, conflicts, warm, time.process_time() - cpu))


def _engine_writer(url: str, refs: list[str], hot: bool, barrier: Any, stop_at: Any, out: Any) -> None:
    from engine.errors import StaleVersion, TransitionRefused

    db = Database(url)
    clerk, judge = actor_for(db, "co.clerk"), actor_for(db, "co.judge")
    draft = dict.fromkeys(refs, True)  # what this writer believes the state is (draft or pending approval)
    turn = itertools.count()

    def step() -> bool:
        ref = refs[next(turn) % len(refs)]
        applied = True
        try:
            if draft[ref]:
                apply_action(db, case=ref, action="submit", actor=clerk)
            else:
                apply_action(db, case=ref, action="send_back", actor=judge, payload=REASONS)
        except (StaleVersion, TransitionRefused):
            if not hot:
                raise
            applied = False  # another writer moved the case first
        draft[ref] = not draft[ref]
        return applied

    _timed("engine", step, barrier, stop_at, out)
    db.dispose()


def _raw_writer(url: str, ids: list[int], hot: bool, barrier: Any, stop_at: Any, out: Any) -> None:
    db = Database(url)
    draft = dict.fromkeys(ids, True)
    turn = itertools.count()
    update = text('UPDATE "case" SET state = :to, version = version + 1, updated_at = :t '
                  "WHERE id = :id AND state = :from RETURNING version")
    insert = text("INSERT INTO auditevent (case_id, seq, at, actor, action, from_state, to_state, payload_hash, "
                  "detail, prev_hash, hash) VALUES (:c, :q, :t, 'co.clerk', 'submit', :f, :s, NULL, '{}', :p, :h)")

    def step() -> bool:
        case_id = ids[next(turn) % len(ids)]
        old, new = ("draft", "pending_approval") if draft[case_id] else ("pending_approval", "draft")
        now = datetime.now(UTC)
        with db.engine.begin() as connection:
            version = connection.execute(update, {"to": new, "t": now, "id": case_id, "from": old}).scalar()
            if version is None and not hot:
                raise AssertionError(f"case {case_id} was not in state {old}")
            if version is not None:
                # seq from the version that this writer alone produced: unique per case, like the engine's.
                connection.execute(insert, {"c": case_id, "q": 1000 + version, "t": now, "f": old, "s": new,
                                            "p": "0" * 64, "h": "1" * 64})
        draft[case_id] = not draft[case_id]
        return version is not None

    _timed("raw", step, barrier, stop_at, out)
    db.dispose()


def _counts(db: Database, ids: list[int]) -> tuple[int, int]:
    """(sum of case versions, audit rows) of these cases."""
    with db.engine.connect() as connection:
        versions = connection.execute(text('SELECT COALESCE(SUM(version), 0) FROM "case" WHERE id = ANY(:ids)'),
                                      {"ids": ids}).scalar()
        events = connection.execute(text("SELECT COUNT(*) FROM auditevent WHERE case_id = ANY(:ids)"),
                                    {"ids": ids}).scalar()
    return int(versions or 0), int(events or 0)


def concurrent(url: str, kind: str, writers: int, hot: bool, seconds: float) -> dict[str, Any]:
    """Throughput, conflicts and lost writes of ``writers`` processes of ``kind`` (engine or raw) for ``seconds``."""
    import multiprocessing

    db = Database(url)
    clerk = actor_for(db, "co.clerk")
    count = 1 if hot else writers * CASES_PER_WRITER
    made = [create_case(db, actor=clerk, counterpart="ES-MJ", payload=REQUEST) for _ in range(count)]
    ids = [c.id for c in made if c.id is not None]
    versions_before, events_before = _counts(db, ids)
    db.dispose()  # no pooled connection may cross the fork
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(writers + 1), context.Queue()
    stop_at = context.Value("d", float("inf"))
    target = _engine_writer if kind == "engine" else _raw_writer
    processes = []
    for w in range(writers):
        mine = made if hot else made[w * CASES_PER_WRITER:(w + 1) * CASES_PER_WRITER]
        keys = [c.reference for c in mine] if kind == "engine" else [c.id for c in mine]
        processes.append(context.Process(target=target, args=(url, keys, hot, barrier, stop_at, out)))
    for process in processes:
        process.start()
    barrier.wait()  # every writer connected and warmed up
    start = time.monotonic()
    stop_at.value = start + seconds
    results = [out.get(timeout=seconds + 120) for _ in processes]
    elapsed = time.monotonic() - start
    for process in processes:
        process.join()
    done = sum(r[1] for r in results)
    conflicts = sum(r[2] for r in results)
    db = Database(url)
    versions_after, events_after = _counts(db, ids)
    written = done + sum(r[3] for r in results)  # with the warm-up writes
    # Each write that succeeded is one version step and one audit row, no more and no less.
    lost = abs(versions_after - versions_before - written) + abs(events_after - events_before - written)
    broken = 0
    if kind == "engine":
        from engine import audit
        from engine.store.models import Case

        with db.reader() as session:
            broken = sum(audit.verify_case(session, session.get(Case, i)) is not None for i in ids)
    db.dispose()
    cpu = sum(r[4] for r in results)
    return {"rate": done / elapsed, "conflicts": conflicts, "lost": lost, "broken": broken,
            "cpu_ms": 1000 * cpu / max(done + conflicts, 1)}


def concurrency_table(admin_url: str, levels: list[int], seconds: float, rounds: int) -> None:
    name = f"exhorto_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        db = Database(url)
        db.create_all()
        seed_demo(db)
        db.dispose()
        print(f"PostgreSQL; engine and raw SQL alternate, {rounds} rounds of {seconds:g} s each at each N (median "
              "of the rounds, spread of the ratio in brackets); client CPU per attempt; target ratio >= 0.5")
        print(f"{'backend':12} {'writers':>7} {'cases':8} {'engine/s':>9} {'raw SQL/s':>10} {'ratio':>6} "
              f"{'(spread)':>11} {'cpu ms e/r':>11} {'conflicts e/r':>14} {'lost':>5} {'chains broken':>14}")
        for writers in levels:
            for hot in (False, True):
                runs: dict[str, list[dict[str, Any]]] = {"engine": [], "raw": []}
                for _ in range(rounds):
                    for kind in runs:
                        runs[kind].append(concurrent(url, kind, writers, hot, seconds))
                ratios = sorted(e["rate"] / r["rate"] for e, r in zip(runs["engine"], runs["raw"], strict=True))
                rate = {kind: median(x["rate"] for x in rs) for kind, rs in runs.items()}
                cpu = {kind: median(x["cpu_ms"] for x in rs) for kind, rs in runs.items()}
                lost = sum(x["lost"] for rs in runs.values() for x in rs)
                broken = sum(x["broken"] for x in runs["engine"])
                conflicts = [sum(x["conflicts"] for x in runs[kind]) for kind in runs]
                spread = f"({ratios[0]:.2f}-{ratios[-1]:.2f})"
                print(f"{'postgresql':12} {writers:>7} {'hot' if hot else 'distinct':8} {rate['engine']:>9.0f} "
                      f"{rate['raw']:>10.0f} {median(ratios):>6.2f} {spread:>11} "
                      f"{cpu['engine']:>5.1f}/{cpu['raw']:<5.1f} "
                      f"{conflicts[0]:>7}/{conflicts[1]:<6} {lost:>5} {broken:>14}", flush=True)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="*", metavar="N",
                        help="PostgreSQL with N concurrent writers (e.g. 1 4 8) instead of the one-writer table")
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each concurrent measurement")
    parser.add_argument("--rounds", type=int, default=3, help="engine/raw alternations at each concurrency")
    args = parser.parse_args()
    if args.concurrency:
        concurrency_table(PG_ADMIN, args.concurrency, args.seconds, args.rounds)
        return
    n = args.n
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(measure("sqlite", f"sqlite:///{tmp}/bench.db", n))
    try:
        name = f"exhorto_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            rows.append(measure("postgresql", PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", n))
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.OperationalError as error:
        print(f"postgresql skipped: {error}".splitlines()[0])
    print(f"{'backend':12} {'engine/s':>10} {'raw SQL/s':>10} {'ratio':>7}  (n={n}, target ratio >= 0.5)")
    for name, engine_r, raw_r in rows:
        print(f"{name:12} {engine_r:10.0f} {raw_r:10.0f} {engine_r / raw_r:7.2f}")


if __name__ == "__main__":
    main()
