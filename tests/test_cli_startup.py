"""The command line parses its arguments before it imports the engine's heavy parts (issue 19).

Checked by what a fresh process has imported, not by timing (the figures live in bench/startup.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "weasyprint", "prefect", "fastapi", "uvicorn", "httpx", "jsonschema",
         "jsonschema_rs", "matplotlib", "rich")


def imported_by(*argv: str, env: dict[str, str] | None = None) -> set[str]:
    """Top-level packages a fresh process has imported after running ``exhorto ARGV``."""
    script = (
        "import json, sys\n"
        f"sys.argv = ['exhorto', *{list(argv)!r}]\n"
        "from engine.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('\\n' + json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("argv", [("--help",), (), ("case", "--help"), ("stats", "--help"), ("deadlines", "--help"),
                                  ("case", "list", "--help"), ("pdf", "--help"), ("serve", "--help")])
def test_help_imports_nothing_heavy(argv: tuple[str, ...]) -> None:
    assert imported_by(*argv) & set(HEAVY) == set()


def test_commands_import_what_they_use(tmp_path: Path) -> None:
    """A database command imports the ORM but not the web stack, PDF rendering, Prefect, or Alembic when the
    schema is current."""
    from engine.seed import demo_username, seed_demo
    from engine.store.db import Database
    from engine.store.migrate import upgrade

    url = f"sqlite:///{tmp_path}/cli.db"
    db = Database(url)
    upgrade(db)
    seed_demo(db)
    db.dispose()
    env = {**os.environ, "EXHORTO_DATABASE_URL": url, "EXHORTO_USER": demo_username("ES-MJ", "clerk")}
    modules = imported_by("case", "list", env=env)
    assert "sqlalchemy" in modules
    assert modules & {"alembic", "weasyprint", "prefect", "fastapi", "uvicorn", "httpx", "matplotlib"} == set()
    # `case list` reads two tables with SQLAlchemy Core (engine/store/core_reads.py): not even the ORM models.
    assert modules & {"sqlmodel", "jsonschema_rs", "babel"} == set()
    assert "sqlmodel" in imported_by("case", "show", "CO-FGN/2026/000001", env=env)  # the ORM where it is used


def test_stats_help_says_the_smallest_group_comes_from_the_authoritys_policy() -> None:
    # No default of its own on the command line: the policy (engine.stats, set by a supervisor) decides, and a user
    # may only ask for a larger group.
    done = subprocess.run([sys.executable, "-c", "import sys; sys.argv = ['exhorto', 'stats', '--help']\n"
                           "from engine.cli import main; main()"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    option = " ".join(done.stdout.split("--min-group", 1)[1].split("--authority", 1)[0].split())
    assert "[default:" not in option and "policy" in option and "never smaller" in option
