"""The benchmarks' write paths still run against today's engine (at a tiny size, no figures asserted): a bench
that fails on its first case measures nothing, and nobody notices until the README's table is regenerated."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_transitions_bench_moves_cases_through_engine_and_raw_sql(tmp_path: Path) -> None:
    name, engine_rate, raw_rate = _bench("transitions").measure("sqlite", f"sqlite:///{tmp_path / 't.db'}", n=10,
                                                                chunk=5)
    assert name == "sqlite" and engine_rate > 0 and raw_rate > 0


def test_the_api_bench_baseline_runs_a_whole_case_through_the_engine(tmp_path: Path) -> None:
    operations, seconds = _bench("api").DirectEngine(f"sqlite:///{tmp_path / 'a.db'}").run(seconds=0.01)
    assert operations >= 4 and seconds > 0  # at least one case: created, submitted, approved, withdrawn


def test_the_many_persons_pdf_bench_prints_the_rows_run_all_reads(capsys) -> None:  # type: ignore[no-untyped-def]
    # 20 persons already spill onto pages of their own, so the "pages of persons" line has pages to count.
    assert _bench("pdf").many_persons("co-es-bank-records", 20, 1) == 0
    rows = _bench("run_all").pdf_persons(capsys.readouterr().out)
    assert len(rows) == 3, rows
    assert rows[0][0].startswith("PDF/A of a 20-person request (") and rows[1][0].startswith("same, beside its own")
    assert rows[2][0].startswith("same, each page that 20 more persons add (+")
