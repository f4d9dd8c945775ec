"""The README shows the current lifecycle and exactly the two set-up commands that CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from engine.diagram import document

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_lifecycle_section_is_current() -> None:
    section = README.split("<!-- lifecycle:start", 1)[1].split("-->", 1)[1].split("<!-- lifecycle:end -->")[0]
    assert section.strip() == document().strip(), "run: exhorto lifecycle, and paste it into README.md"


def test_quick_start_has_two_commands_and_ci_runs_the_test_one() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = re.search(r"```bash\n(.*?)```", quick, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))] == ["make test"]
