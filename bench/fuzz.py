"""Longer fuzzing of what strangers can send: envelope parsing, the inbox and form validation.

    .venv/bin/python bench/fuzz.py [--seconds 300] [--schemathesis-examples 100]

The same hypothesis targets as tests/security/test_fuzz.py (bounded there to a few seconds), run here with a
time budget split between them; then schemathesis with all its checks against a live node, with a valid token
and the throttle out of the way (tests/api/test_openapi_fuzz.py, with many more examples per operation than in
the suite). Any failure prints the minimal example and exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    import pytest

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--schemathesis-examples", type=int, default=100)
    args = parser.parse_args()
    # Many examples per target; the time budget stops the loop between pytest runs.
    budget = time.monotonic() + args.seconds
    rounds, code = 0, 0
    while time.monotonic() < budget and code == 0:
        code = pytest.main(["-q", "-p", "no:cacheprovider", "--hypothesis-seed", str(rounds),
                            str(ROOT / "tests/security/test_fuzz.py")])
        rounds += 1
    print(f"fuzz: {rounds} rounds of the three targets in {args.seconds:.0f} s: "
          f"{'no failure' if code == 0 else 'FAILURE (see above)'}")
    if code == 0 and args.schemathesis_examples > 0:
        os.environ["EXHORTO_SCHEMATHESIS_EXAMPLES"] = str(args.schemathesis_examples)
        code = pytest.main(["-q", "-s", "-p", "no:cacheprovider", str(ROOT / "tests/api/test_openapi_fuzz.py")])
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
