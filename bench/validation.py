"""Validations per second of the full MLA request example: cached compiled validator vs jsonschema.validate().

    .venv/bin/python bench/validation.py [--seconds 2]

Both figures come from the same run on one core (one process, one thread), so the ratio is meaningful even
when the absolute numbers depend on the machine. Target: >= 20,000 valid requests/s for the cached path.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jsonschema  # noqa: E402

from engine import forms  # noqa: E402
from engine.forms._catalog import FORMAT_CHECKER, default_catalog  # noqa: E402
from engine.forms._validate import default_validation  # noqa: E402

EXAMPLE = ROOT / "forms" / "examples" / "request" / "co-es-bank-records.json"
TARGET = 20_000


def rate(call: Callable[[], object], seconds: float) -> float:
    """Calls per CPU second of this process, timed in batches until ``seconds`` of CPU time have passed.

    CPU time (not wall time) so that other processes competing for the cores do not count against us.
    """
    call()  # warm-up: compiles the validator on first use
    count, batch, start = 0, 1, time.process_time()
    while time.process_time() - start < seconds:
        for _ in range(batch):
            call()
        count += batch
        batch = min(batch * 2, 10_000)
    return count / (time.process_time() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent on each measurement")
    args = parser.parse_args()

    payload = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    schema = forms.load_schema("request")
    registry = default_catalog().registry
    assert forms.validate("request", payload) == [], "the example must be valid"

    def cached() -> object:
        return forms.validate("request", payload)

    def uncached() -> object:
        # What a naive caller writes: the schema is checked and a validator built on every call.
        return jsonschema.validate(payload, schema, registry=registry, format_checker=FORMAT_CHECKER)

    errors_validator = default_validation().compiled("request", True).errors_validator

    def jsonschema_cached() -> object:
        return errors_validator.is_valid(payload)

    fast = rate(cached, args.seconds)
    slow = rate(uncached, args.seconds)
    middle = rate(jsonschema_cached, args.seconds)
    print(f"example: {EXAMPLE.relative_to(ROOT)} ({len(EXAMPLE.read_bytes())} bytes)")
    print(f"engine.forms.validate (cached, compiled):   {fast:>12,.0f} validations/CPU-s")
    print(f"jsonschema cached validator (reference):    {middle:>12,.0f} validations/CPU-s")
    print(f"jsonschema.validate() per call:             {slow:>12,.0f} validations/CPU-s")
    print(f"ratio cached / jsonschema.validate():       {fast / slow:>12,.1f}x")
    verdict = "met" if fast >= TARGET else "NOT met"
    print(f"target {TARGET:,} valid requests/s on one core: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
