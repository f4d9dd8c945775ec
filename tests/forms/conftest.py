from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "forms" / "examples"
SCHEMAS = ROOT / "forms" / "schemas"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def valid_examples() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*/*.json") if p.parent.name != "invalid")


def invalid_examples() -> list[Path]:
    return sorted(p for p in (EXAMPLES / "invalid").glob("*.json") if not p.name.endswith(".errors.json"))
