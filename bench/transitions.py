"""Engine transitions per second vs the bare SQL the engine must at least do (one UPDATE + one audit INSERT per
transition, one transaction each), measured in the same run on SQLite and, when reachable, PostgreSQL.

    .venv/bin/python bench/transitions.py [--n 2000]

Target: engine ≥ 0.5 × raw.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from engine.actions import apply_action  # noqa: E402
from engine.cases import create_case  # noqa: E402
from engine.directory import actor_for  # noqa: E402
from engine.seed import seed_demo  # noqa: E402
from engine.store.db import Database  # noqa: E402

PG_ADMIN = os.environ.get("EXHORTO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REQUEST = json.loads((Path(__file__).resolve().parents[1] / "forms/examples/request/co-es-bank-records.json")
                     .read_text(encoding="utf-8"))
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
    """Engine and raw runs alternate in chunks so that machine noise hits both alike."""
    db = Database(url)
    db.create_all()
    seed_demo(db)
    runs = {"engine": EngineRun(db), "raw": RawRun(db)}
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n
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
