"""Deadline sweep selection at scale: N open deadlines, a share of them due; time to select the due work
by the ``(status, next_action_at)`` index on SQLite and PostgreSQL, with the query plan.

    .venv/bin/python bench/sweep.py [--rows 1000000] [--due 0.01] [--scale 10] [--skip-sqlite] [--skip-pg]

Two runs per database: N rows with ``due × N`` due, then ``scale × N`` rows with the **same number** due — the
selection should cost about the same (it grows with due work, not with all work) — and, for reference,
``scale × N`` rows with ``due`` of them due. Target: < 2 s for the selection on PostgreSQL at 1M.
Selection = what one sweep reads: every due id in batches of 500 (``engine.deadlines.escalation.select_due``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from engine.deadlines.escalation import select_due  # noqa: E402
from engine.seed import seed_demo  # noqa: E402
from engine.store.db import Database  # noqa: E402

PG_ADMIN = os.environ.get("EXHORTO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BATCH = 500


def fill(db: Database, rows: int, due: int) -> float:
    """Insert ``rows`` running deadlines, ``due`` of them with next_action_at in the past, spread at random
    among the others (ids interleaved), plus 10 % met ones; returns seconds spent."""
    started = time.perf_counter()
    with db.engine.begin() as c:
        case_id = c.execute(text('SELECT id FROM "case" LIMIT 1')).scalar()
        c.execute(text("DELETE FROM deadline"))
        past, future = NOW - timedelta(days=1), NOW + timedelta(days=30)
        every = max(rows // max(due, 1), 1)
        if db.dialect == "postgresql":
            c.execute(
                text("""
                INSERT INTO deadline (case_id, kind, responsible_code, status, started_at, due_at, level_sent,
                                      policy, period, period_seconds, next_action_at)
                SELECT :case_id, 'decide', 'ES-MJ', CASE WHEN g % 10 = 7 THEN 'met' ELSE 'running' END,
                       :start, :due_at, 0, 'EIO', '30 calendar_days', 2592000,
                       CASE WHEN g % :every = 0 AND g / :every <= :due THEN :past
                            ELSE :future + (g % 86400) * interval '1 second' END
                FROM generate_series(1, :rows) AS g"""),
                {
                    "case_id": case_id,
                    "start": NOW - timedelta(days=20),
                    "due_at": NOW + timedelta(days=10),
                    "every": every,
                    "due": due,
                    "past": past,
                    "future": future,
                    "rows": rows,
                },
            )
            c.execute(text("ANALYZE deadline"))
        else:
            fmt = "%Y-%m-%d %H:%M:%S.%f"
            c.execute(
                text(f"""
                WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {rows})
                INSERT INTO deadline (case_id, kind, responsible_code, status, started_at, due_at, level_sent,
                                      policy, period, period_seconds, next_action_at)
                SELECT {case_id}, 'decide', 'ES-MJ', CASE WHEN n % 10 = 7 THEN 'met' ELSE 'running' END,
                       '{(NOW - timedelta(days=20)):{fmt}}', '{(NOW + timedelta(days=10)):{fmt}}', 0, 'EIO',
                       '30 calendar_days', 2592000,
                       CASE WHEN n % {every} = 0 AND n / {every} <= {due} THEN '{past:{fmt}}'
                            ELSE strftime('%Y-%m-%d %H:%M:%f', '{future:{fmt}}',
                                          '+' || (n % 86400) || ' seconds')
                       END
                FROM g""")
            )
            c.execute(text("ANALYZE"))
    return time.perf_counter() - started


def select_all_due(db: Database) -> tuple[int, float, float]:
    """(due ids found, seconds for the first batch, seconds for all batches) — keyset pagination like a sweep
    that has claimed each batch before reading the next."""
    found = 0
    started = time.perf_counter()
    first = 0.0
    with db.reader() as session:
        cursor = None
        while True:
            query = text(
                "SELECT id, next_action_at FROM deadline WHERE status = 'running' AND next_action_at <= :now"
                + (" AND (next_action_at, id) > (:at, :id)" if cursor else "")
                + " ORDER BY next_action_at, id LIMIT :limit"
            )
            params = {
                "now": NOW if db.dialect == "postgresql" else NOW.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "limit": BATCH,
            }
            if cursor:
                params.update(at=cursor[1], id=cursor[0])
            rows = session.execute(query, params).all()
            if not first:
                first = time.perf_counter() - started
            found += len(rows)
            if len(rows) < BATCH:
                break
            cursor = rows[-1]
    return found, first, time.perf_counter() - started


def plan(db: Database) -> str:
    with db.reader() as session:
        query = (
            "SELECT id FROM deadline WHERE status = 'running' AND next_action_at <= :now "
            "ORDER BY next_action_at LIMIT 500"
        )
        prefix = (
            "EXPLAIN (ANALYZE, BUFFERS OFF, COSTS OFF)"
            if db.dialect == "postgresql"
            else "EXPLAIN QUERY PLAN"
        )
        now = NOW if db.dialect == "postgresql" else NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
        rows = session.execute(text(f"{prefix} {query}"), {"now": now}).all()
    return "\n".join("    " + " ".join(str(x) for x in r) for r in rows)


def engine_first_batch(db: Database) -> float:
    """The engine's own query (ORM) for one batch, for comparison with the raw SQL above."""
    started = time.perf_counter()
    with db.reader() as session:
        select_due(session, NOW, BATCH)
    return time.perf_counter() - started


def run(db: Database, label: str, rows: int, due: int) -> None:
    seconds = fill(db, rows, due)
    found, first, total = select_all_due(db)
    found, first, total = select_all_due(db)  # warm cache: what a scheduled sweep sees
    print(
        f"{label:10} rows {rows:>10,} due {due:>8,} fill {seconds:6.1f} s | first batch {first * 1e3:7.1f} ms"
        f"  engine batch {engine_first_batch(db) * 1e3:7.1f} ms  all {found:,} due ids {total * 1e3:8.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--due", type=float, default=0.01)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    due = int(args.rows * args.due)
    targets: list[tuple[str, Database, str | None]] = []
    if not args.skip_sqlite:
        path = Path(tempfile.mkdtemp()) / "bench-sweep.db"
        targets.append(("sqlite", Database(f"sqlite:///{path}"), None))
    if not args.skip_pg:
        name = f"exhorto_bench_{uuid.uuid4().hex[:8]}"
        try:
            with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            targets.append(("postgresql", Database(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"), name))
        except psycopg.Error as error:
            print(f"postgresql skipped: {error}")
    for label, db, pg_name in targets:
        try:
            db.create_all()
            seed_demo(db)
            with db.engine.begin() as c:
                c.execute(
                    text(
                        'INSERT INTO "case" (exchange_id, authority_code, side, reference, counterpart_code,'
                        " state, urgency, payload, version, audit_seq, audit_head, created_at, updated_at)"
                        " VALUES ('bench', 'ES-MJ', 'requested', 'ES-MJ/2026/999999', 'CO-FGN', 'delivered',"
                        " 'normal', '{}', 1, 0, :head, :now, :now)"
                    ),
                    {
                        "head": "0" * 64,
                        "now": NOW if label == "postgresql" else NOW.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    },
                )
            run(db, label, args.rows, due)
            print(f"  plan ({label}, {args.rows:,} rows):\n{plan(db)}")
            run(db, label, args.rows * args.scale, due)
            run(db, label, args.rows * args.scale, int(args.rows * args.scale * args.due))
            print(f"  plan ({label}, {args.rows * args.scale:,} rows):\n{plan(db)}")
        finally:
            db.dispose()
            if pg_name:
                with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
