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


def engine_rate(db: Database, n: int) -> float:
    clerk, judge = actor_for(db, "co.clerk"), actor_for(db, "co.judge")
    refs = [create_case(db, actor=clerk, counterpart="ES-MJ", payload=REQUEST).reference for _ in range(CASES)]
    back = {"reasons": "Complete the account numbers."}
    start = time.perf_counter()
    for i in range(n):
        ref = refs[i % CASES]
        if (i // CASES) % 2 == 0:
            apply_action(db, case=ref, action="submit", actor=clerk)
        else:
            apply_action(db, case=ref, action="send_back", actor=judge, payload=back)
    return n / (time.perf_counter() - start)


def raw_rate(db: Database, n: int) -> float:
    clerk = actor_for(db, "co.clerk")
    ids = [create_case(db, actor=clerk, counterpart="ES-MJ", payload=REQUEST).id for _ in range(CASES)]
    seq = {case_id: 100 for case_id in ids}
    start = time.perf_counter()
    for i in range(n):
        case_id = ids[i % CASES]
        seq[case_id] += 1
        state = "pending_approval" if (i // CASES) % 2 == 0 else "draft"
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE \"case\" SET state = :s, version = version + 1, updated_at = :t "
                                    "WHERE id = :id"), {"s": state, "t": datetime.now(UTC), "id": case_id})
            connection.execute(text(
                "INSERT INTO auditevent (case_id, seq, at, actor, action, from_state, to_state, payload_hash, "
                "detail, prev_hash, hash) VALUES (:c, :q, :t, 'co.clerk', 'submit', 'draft', :s, NULL, '{}', "
                ":p, :h)"), {"c": case_id, "q": seq[case_id], "t": datetime.now(UTC), "s": state,
                             "p": "0" * 64, "h": "1" * 64})
    return n / (time.perf_counter() - start)


def measure(name: str, url: str, n: int) -> tuple[str, float, float]:
    db = Database(url)
    db.create_all()
    seed_demo(db)
    engine_r, raw_r = engine_rate(db, n), raw_rate(db, n)
    db.dispose()
    return name, engine_r, raw_r


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
