"""Generated data sets: thousands of exchanges between central authorities of every country in
``engine/data/countries.csv``, bulk-inserted as both sides' case records, hash-chained audit events (every
move a row of the lifecycle table), messages and deadline clocks.

The generator keeps the ground truth of each exchange (:class:`Exchange`) so that tests compute the expected
statistics from it independently of :mod:`engine.stats`. Person names are unique random tokens, so a test can
look for them anywhere in the database after erasure.
"""

from __future__ import annotations

import atexit
import copy
import csv
import os
import random
import sqlite3
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, update

from engine import audit
from engine.lifecycle import TRANSITIONS
from engine.store.db import Database
from engine.store.models import AuditEvent, Authority, Case, Deadline, Message

COUNTRIES = Path(__file__).resolve().parents[2] / "engine" / "data" / "countries.csv"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
START = datetime(2024, 1, 1, tzinfo=UTC)
ICCS = (
    "0101",
    "0201",
    "02011",
    "0301",
    "0401",
    "0501",
    "05012",
    "0601",
    "06011",
    "0701",
    "07041",
    "0801",
    "0902",
    "09041",
    "1001",
    "1101",
)
MEASURES = (
    "obtain_documents",
    "bank_records",
    "search_and_seizure",
    "witness_hearing",
    "service_of_documents",
    "asset_tracing",
    "freezing",
    "confiscation",
)
GROUNDS = (
    "immunity_privilege",
    "national_security",
    "ne_bis_in_idem",
    "territoriality",
    "fundamental_rights",
    "no_double_criminality",
    "measure_restricted",
)
OUTCOMES = (("executed", 45), ("partially_executed", 10), ("refused", 15), ("withdrawn", 10), ("pending", 20))
_ALLOWED = {(t.from_state.value, t.action, t.to_state.value, t.side.value) for t in TRANSITIONS}


def countries() -> list[dict[str, str]]:
    with COUNTRIES.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def authority_code(iso: str) -> str:
    return f"{iso}-CA"


@dataclass
class Person:
    surname: str
    given_names: str
    birth_date: str
    document: str
    street: str
    email_token: str

    def tokens(self) -> list[str]:
        """Strings that identify the person and must not survive erasure."""
        return [
            self.surname.split()[-1],
            self.given_names.split()[-1],
            self.document,
            self.street.split()[-1],
            self.email_token,
        ]


@dataclass
class Exchange:
    requesting: str
    requested: str
    requesting_country: str
    requested_country: str
    urgency: str
    offences: list[str]
    measures: list[str]
    outcome: str
    grounds: list[str]
    times: dict[str, datetime]  # transmit, ack, decide, partial, execute, closed, withdrawn …
    persons: list[Person]
    contact_token: str
    case_ids: dict[str, int] = field(default_factory=dict)  # side → case id
    legacy_refusal_detail: bool = False  # requesting side's record_refusal without grounds in its detail
    clocks: list[dict[str, Any]] = field(default_factory=list)


def _token(rng: random.Random, n: int = 8) -> str:
    return rng.choice(string.ascii_uppercase) + "".join(
        rng.choice(string.ascii_lowercase) for _ in range(n - 1)
    )


def _person(rng: random.Random) -> Person:
    return Person(
        surname=f"{rng.choice(['García', 'Silva', 'Martin', 'Rossi', 'Novak'])} {_token(rng)}",
        given_names=f"{rng.choice(['Ana', 'João', 'Marie', 'Luis'])} {_token(rng)}",
        birth_date=f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        document=f"X{rng.randint(10**8, 10**9 - 1)}Q",
        street=f"Calle {_token(rng)}",
        email_token=_token(rng).lower(),
    )


def request_payload(x: Exchange, names: dict[str, str]) -> dict[str, Any]:
    suspect = x.persons[0]
    return {
        "requesting_authority": {
            "code": x.requesting,
            "country": x.requesting_country,
            "name": names[x.requesting],
        },
        "requested_authority": {
            "code": x.requested,
            "country": x.requested_country,
            "name": names[x.requested],
        },
        "legal_basis": {"kind": "convention", "instrument": "UNTOC", "article": "Art. 18"},
        "references": {"requesting": "REF"},
        "urgency": {
            "level": x.urgency,
            **(
                {"reason": f"Flight risk of {suspect.surname}", "due_date": "2027-01-31"}
                if x.urgency == "urgent"
                else {}
            ),
        },
        "confidentiality": {"level": "confidential", "instructions": f"Do not inform {suspect.surname}."},
        "procedural_stage": "investigation",
        "language": "en",
        "persons": [
            {
                "role": "suspect" if i == 0 else "witness",
                "surname": p.surname,
                "given_names": p.given_names,
                "birth_date": p.birth_date,
                "nationalities": [x.requesting_country],
                "identity_documents": [
                    {"type": "passport", "number": p.document, "issuing_country": x.requesting_country}
                ],
                "addresses": [{"street": p.street, "city": "Lisboa", "country": x.requested_country}],
            }
            for i, p in enumerate(x.persons)
        ],
        "offences": [
            {"national_description": "Offence", "legal_provision": "Art. 1", "iccs_code": code}
            for code in x.offences
        ],
        "facts": {
            "summary": f"{suspect.given_names} {suspect.surname} moved funds.",
            "link_to_measures": f"Records of {suspect.surname} are needed.",
        },
        "measures": [
            {
                "type": m,
                "description": f"Concerning {suspect.surname}.",
                "persons": [0],
                **({"hearing_mode": "videoconference"} if m == "witness_hearing" else {}),
                **({"accounts": [f"PT50{suspect.document}"]} if m == "bank_records" else {}),
            }
            for m in x.measures
        ],
        "contact_person": {
            "name": f"Officer {x.contact_token}",
            "email": f"{x.contact_token.lower()}@example.org",
        },
    }


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in weighted], weights=[w for _, w in weighted])[0]


def make_exchange(rng: random.Random, places: list[dict[str, str]]) -> Exchange:
    a, b = rng.sample(places, 2)
    transmit = START + timedelta(seconds=rng.randint(0, int((NOW - START).total_seconds()) - 5 * 86400))
    outcome = _pick(rng, OUTCOMES)
    t: dict[str, datetime] = {
        "transmit": transmit,
        "delivered": transmit + timedelta(minutes=rng.randint(1, 90)),
    }
    step = lambda base, lo, hi: t[base] + timedelta(hours=rng.uniform(lo * 24, hi * 24))  # noqa: E731
    stop = rng.choice(["delivered", "ack", "decide"]) if outcome == "pending" else None
    if stop != "delivered":
        t["ack"] = step("delivered", 0.1, 12)
    if outcome in ("executed", "partially_executed", "pending") and stop not in ("delivered", "ack"):
        t["decide"] = step("ack", 0.5, 40)
        if outcome == "executed" and rng.random() < 0.3:
            t["partial"] = step("decide", 2, 60)
        if outcome == "partially_executed":
            t["partial"] = step("decide", 2, 120)
        if outcome == "executed":
            t["execute"] = step("partial" if "partial" in t else "decide", 1, 120)
    if outcome == "refused":
        t["decide"] = step("ack", 0.5, 45)
    if outcome == "withdrawn":
        t["withdrawn"] = step("ack", 1, 60)
    if outcome in ("executed", "partially_executed", "refused"):
        last = max(t.values())
        t["closed"] = last + timedelta(days=rng.uniform(1, 20))
    if max(t.values()) > NOW:  # keep every event in the past
        shift = max(t.values()) - NOW + timedelta(hours=1)
        t = {k: v - shift for k, v in t.items()}
    x = Exchange(
        requesting=authority_code(a["iso2"]),
        requested=authority_code(b["iso2"]),
        requesting_country=a["iso2"],
        requested_country=b["iso2"],
        urgency="urgent" if rng.random() < 0.2 else "normal",
        offences=rng.sample(ICCS, rng.randint(1, 3)),
        measures=rng.sample(MEASURES, rng.randint(1, 3)),
        outcome=outcome,
        grounds=rng.sample(GROUNDS, rng.randint(1, 2)) if outcome == "refused" else [],
        times=t,
        persons=[_person(rng) for _ in range(rng.randint(1, 3))],
        contact_token=_token(rng),
        legacy_refusal_detail=rng.random() < 0.3,
    )
    return x


def events_for(x: Exchange, side: str) -> list[tuple[str, str | None, str, datetime, dict[str, Any]]]:
    """(action, from, to, at, detail) of one side's record, checked against the lifecycle table."""
    t, out = x.times, []
    refusal = {"grounds": x.grounds, "reasons": "The conduct is not an offence here."}

    def add(action: str, to: str, at: datetime, detail: dict[str, Any] | None = None) -> None:
        frm = out[-1][2] if out else None
        if frm is not None:
            assert (frm, action, to, side) in _ALLOWED, (frm, action, to, side)
        out.append((action, frm, to, at, detail or {}))

    if side == "requesting":
        base = t["transmit"] - timedelta(days=2)
        add("create", "draft", base)
        add("submit", "pending_approval", base + timedelta(hours=2))
        add("approve", "approved", base + timedelta(days=1))
        add("transmit", "transmitted", t["transmit"])
        add("record_delivery", "delivered", t["delivered"])
        lag = timedelta(minutes=3)
        if "ack" in t:
            add("record_acknowledgement", "acknowledged", t["ack"] + lag)
        if x.outcome == "refused":
            add("record_refusal", "refused", t["decide"] + lag, {} if x.legacy_refusal_detail else refusal)
        if "partial" in t:
            add(
                "record_partial_execution",
                "partially_executed",
                t["partial"] + lag,
                {"report_type": "partial"},
            )
        if "execute" in t:
            add("record_execution", "executed", t["execute"] + lag, {"report_type": "final"})
        if "withdrawn" in t:
            add("withdraw", "withdrawn", t["withdrawn"], {"reasons": "No longer needed."})
        if "closed" in t:
            add("close", "closed", t["closed"])
    else:
        add("receive", "delivered", t["delivered"])
        if "ack" in t:
            add("acknowledge", "acknowledged", t["ack"])
        if x.outcome == "refused":
            add("refuse", "refused", t["decide"], refusal)
        elif "decide" in t:
            add("start_execution", "in_execution", t["decide"])
        if "partial" in t:
            add("report_partial_execution", "partially_executed", t["partial"], {"report_type": "partial"})
        if "execute" in t:
            add("report_execution", "executed", t["execute"], {"report_type": "final"})
        if "withdrawn" in t:
            add(
                "record_withdrawal",
                "withdrawn",
                t["withdrawn"] + timedelta(minutes=3),
                {"reasons": "No longer needed."},
            )
        if "closed" in t:
            add("record_closure", "closed", t["closed"] + timedelta(minutes=3))
    return out


def clocks_for(x: Exchange) -> list[dict[str, Any]]:
    """The requested side's acknowledge / decide / execute clocks (responsible: the requested authority)."""
    t = x.times
    end = t.get("withdrawn") or t.get("closed")  # the engine cancels open clocks when a case ends
    urgent = x.urgency == "urgent"
    rows = []

    def clock(kind: str, start: datetime, days: float, stop: datetime | None) -> None:
        due = start + timedelta(days=days)
        if stop is not None:
            status, stopped = "met", stop
        elif end is not None:
            status, stopped = "cancelled", end + timedelta(minutes=3)
        else:
            status, stopped = "running", None
        rows.append(
            {"kind": kind, "started_at": start, "due_at": due, "status": status, "stopped_at": stopped}
        )

    clock("acknowledge", t["delivered"], 2 if urgent else 7, t.get("ack"))
    clock("decide", t["delivered"], 10 if urgent else 30, t.get("decide"))
    if "decide" in t and x.outcome != "refused":
        clock("execute", t["decide"], 90, t.get("execute"))
    return rows


def generate(db: Database, *, exchanges: int = 2000, seed: int = 9) -> list[Exchange]:
    """Seed one central authority per country and ``exchanges`` exchanges (two case records each)."""
    rng = random.Random(seed)
    places = countries()
    names = {authority_code(c["iso2"]): f"Central authority {c['iso2']}" for c in places}
    with db.transaction() as session:
        session.execute(
            insert(Authority),
            [
                {
                    "code": authority_code(c["iso2"]),
                    "country": c["iso2"],
                    "name": names[authority_code(c["iso2"])],
                    "languages": [c["document_languages"]],
                    "timezone": c["timezone"],
                    "contact_email": f"ca@{c['iso2'].lower()}.example",
                    "created_at": START,
                }
                for c in places
            ],
        )
    data = [make_exchange(rng, places) for _ in range(exchanges)]
    counters: dict[str, int] = {}
    rows: list[tuple[Exchange, str, dict[str, Any], list[Any]]] = []
    for number, x in enumerate(data):
        payload = request_payload(x, names)
        for side, owner, other in (
            ("requesting", x.requesting, x.requested),
            ("requested", x.requested, x.requesting),
        ):
            events = events_for(x, side)
            counters[owner] = counters.get(owner, 0) + 1
            case = {
                "exchange_id": f"00000000-0000-7000-8000-{number:012d}",
                "authority_code": owner,
                "side": side,
                "reference": f"{owner}/G/{counters[owner]:06d}",
                "counterpart_code": other,
                "state": events[-1][2],
                "urgency": x.urgency,
                "legal_basis": "UNTOC",
                "schema_id": "https://exhorto.eu/schemas/request/v1",
                "payload": payload,
                "version": len(events),
                "audit_seq": 0,
                "audit_head": audit.GENESIS,
                "created_at": events[0][3],
                "updated_at": events[-1][3],
            }
            rows.append((x, side, case, events))
    with db.transaction() as session:
        # Core inserts (not ORM objects): the data set must build in seconds.
        ids = (
            session.execute(
                insert(Case).returning(Case.id, sort_by_parameter_order=True),
                [case for _, _, case, _ in rows],
            )
            .scalars()
            .all()
        )
        audit_rows, message_rows, deadline_rows, heads = [], [], [], []
        for (x, side, case, events), case_id in zip(rows, ids, strict=True):
            x.case_ids[side] = case["id"] = case_id
            prev = audit.GENESIS
            for seq, (action, frm, to, at, detail) in enumerate(events, start=1):
                digest = audit.event_hash(
                    prev,
                    reference=case["reference"],
                    seq=seq,
                    at=at,
                    actor="generator",
                    action=action,
                    from_state=frm,
                    to_state=to,
                    payload_hash=None,
                    detail=detail,
                )
                audit_rows.append(
                    {
                        "case_id": case_id,
                        "seq": seq,
                        "at": at,
                        "actor": "generator",
                        "action": action,
                        "from_state": frm,
                        "to_state": to,
                        "payload_hash": None,
                        "detail": detail,
                        "prev_hash": prev,
                        "hash": digest,
                    }
                )
                prev = digest
            heads.append({"b_id": case_id, "b_seq": len(events), "b_head": prev})
            message_rows += _messages(x, side, case)
            if side == "requested":
                x.clocks = clocks_for(x)
                deadline_rows += [
                    {
                        **c,
                        "case_id": case_id,
                        "responsible_code": x.requested,
                        "policy": "UNTOC",
                        "period": "",
                        "period_seconds": 0,
                        "level_sent": 0,
                    }
                    for c in x.clocks
                ]
        session.execute(insert(AuditEvent), audit_rows)
        session.execute(insert(Message), message_rows)
        session.execute(insert(Deadline), deadline_rows)
        table = Case.__table__  # type: ignore[attr-defined]
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(audit_seq=bindparam("b_seq"), audit_head=bindparam("b_head")),
            heads,
        )
    return data


def _messages(x: Exchange, side: str, case: dict[str, Any]) -> list[dict[str, Any]]:
    number = int(case["exchange_id"].rsplit("-", 1)[1])
    request_direction = "out" if side == "requesting" else "in"
    rows = [
        _message(
            f"{number:08d}-0000-7000-8000-000000000001",
            request_direction,
            case,
            "request",
            x.requesting,
            x.requested,
            case["payload"],
            x.times["transmit"],
        )
    ]
    if x.outcome == "refused":
        refusal = {
            "references": {"requesting": "REF"},
            "grounds": x.grounds,
            "reasons": "The conduct is not an offence here.",
        }
        rows.append(
            _message(
                f"{number:08d}-0000-7000-8000-000000000002",
                "out" if side == "requested" else "in",
                case,
                "refusal",
                x.requested,
                x.requesting,
                refusal,
                x.times["decide"],
            )
        )
    if "execute" in x.times:
        suspect = x.persons[0]
        report = {
            "references": {"requesting": "REF"},
            "report_type": "final",
            "measures_executed": [
                {
                    "type": x.measures[0],
                    "status": "executed",
                    "date": "2026-01-01",
                    "description": f"Heard {suspect.surname}.",
                }
            ],
            "evidence": [
                {
                    "name": f"statement-{suspect.surname.split()[-1]}.pdf",
                    "media_type": "application/pdf",
                    "size": 10,
                    "sha256": "a" * 64,
                    "description": f"Statement of {suspect.given_names}",
                }
            ],
        }
        rows.append(
            _message(
                f"{number:08d}-0000-7000-8000-000000000003",
                "out" if side == "requested" else "in",
                case,
                "execution_report",
                x.requested,
                x.requesting,
                report,
                x.times["execute"],
            )
        )
    return rows


def _message(
    message_id: str,
    direction: str,
    case: dict[str, Any],
    kind: str,
    sender: str,
    recipient: str,
    payload: dict[str, Any],
    at: datetime,
) -> dict[str, Any]:
    files = [dict(f) for f in payload.get("evidence") or []]
    return {
        "message_id": message_id,
        "direction": direction,
        "exchange_id": case["exchange_id"],
        "case_id": case["id"],
        "kind": kind,
        "sender_code": sender,
        "recipient_code": recipient,
        "schema_id": None,
        "payload": payload,
        "attachments": files,
        "status": "applied" if direction == "in" else "delivered",
        "attempts": 1,
        "created_at": at,
        "next_attempt_at": at,
        "sent_at": at,
    }


# --- one generated data set per backend and test process, cloned for tests that change it ------------------
@dataclass
class Dataset:
    url: str
    exchanges: list[Exchange]


_CACHE: dict[str, Dataset] = {}
EXCHANGES = 1000  # 2 000 case records across the 45 countries


def _pg_admin() -> str:
    from tests.conftest import PG_ADMIN_URL

    return PG_ADMIN_URL


def dataset(backend: str, folder: Path) -> Dataset:
    """The generated data set on ``backend`` (built once per process, read-only: use :func:`clone`)."""
    if backend not in _CACHE:
        if backend == "sqlite":
            url = f"sqlite:///{folder / 'generated.db'}"
        else:
            url = _create_pg(f"exhorto_gen_{os.getpid()}_{uuid.uuid4().hex[:6]}")
        db = Database(url)
        db.create_all()
        data = generate(db, exchanges=EXCHANGES)
        db.dispose()
        _CACHE[backend] = Dataset(url, data)
    return _CACHE[backend]


def clone(backend: str, folder: Path) -> Dataset:
    """A private copy of the data set (SQLite: file copy; PostgreSQL: CREATE DATABASE … TEMPLATE)."""
    source = dataset(backend, folder)
    if backend == "sqlite":
        target = folder / f"clone-{uuid.uuid4().hex[:6]}.db"
        src = sqlite3.connect(source.url.removeprefix("sqlite:///"))
        dst = sqlite3.connect(target)
        src.backup(dst)
        src.close()
        dst.close()
        return Dataset(f"sqlite:///{target}", copy.deepcopy(source.exchanges))
    name = f"exhorto_clone_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    template = source.url.rsplit("/", 1)[1]
    return Dataset(_create_pg(name, template=template), copy.deepcopy(source.exchanges))


def _create_pg(name: str, template: str | None = None) -> str:
    import psycopg

    admin = _pg_admin()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    atexit.register(_drop_pg, name)
    return admin.rsplit("/", 1)[0] + f"/{name}"


def _drop_pg(name: str) -> None:
    import psycopg

    with psycopg.connect(_pg_admin(), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
