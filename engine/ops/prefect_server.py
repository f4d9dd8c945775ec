"""``python -m engine.ops.prefect_server server start …``: Prefect's own CLI, with one compatibility fix.

Prefect 3.8.8's scheduler inserts scheduled flow runs with an ORM bulk INSERT whose rows carry the values of
read-only hybrid properties (``estimated_run_time``, …). SQLAlchemy 2.0 ignored such keys; 2.1 raises
"Can't evaluate bulk DML statement" for every scheduled run, so no schedule would ever fire. The fix restores
the 2.0 behaviour for hybrids that define no ``bulk_dml`` hook — the key is dropped — and changes nothing
else. It applies to the Prefect server process only (the node's own code never bulk-inserts hybrids).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, MutableMapping
from typing import Any


def ignore_readonly_hybrids_in_bulk_insert() -> None:
    from sqlalchemy.ext.hybrid import ExprComparator

    if getattr(ExprComparator, "_exhorto_patched", False):
        return
    original = ExprComparator._bulk_dml_setter

    def _bulk_dml_setter(self: Any, key: str) -> Callable[[MutableMapping[str, Any]], None] | None:
        if self.hybrid.bulk_dml_setter is None:
            return lambda mapping: mapping.pop(key, None)  # type: ignore[no-any-return]
        return original(self, key)  # type: ignore[no-any-return]

    ExprComparator._bulk_dml_setter = _bulk_dml_setter  # type: ignore[method-assign]
    ExprComparator._exhorto_patched = True  # type: ignore[attr-defined]


def main() -> None:
    ignore_readonly_hybrids_in_bulk_insert()
    from prefect.cli import app

    sys.argv[0] = "prefect"
    sys.exit(app())


if __name__ == "__main__":
    main()
