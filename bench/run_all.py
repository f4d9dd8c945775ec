"""Run every benchmark in bench/ and print one table: each figure beside the baseline measured in the same run.

    .venv/bin/python bench/run_all.py              # short sizes, a few minutes on 2 cores
    .venv/bin/python bench/run_all.py --full       # the benchmarks' own default (full) sizes
    .venv/bin/python bench/run_all.py --only api pdf
    .venv/bin/python bench/run_all.py --soak 10    # 10 minutes of API load with a deadline sweep every minute
    .venv/bin/python bench/run_all.py --fuzz 300   # and 300 s of envelope/form fuzzing (bench/fuzz.py)

Each benchmark runs as its own process (so one cannot warm or starve the next); its full output is kept under
``--out`` (default ``out/bench``) and the figures that matter are collected into the table. Ratios compare
against a baseline of the same run (bare SQL, the plain jsonschema validator, …) so machine noise cancels.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

Row = tuple[str, str, str, str]  # figure, value, baseline (same run), ratio / target


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    quick: list[str]
    full: list[str]
    extract: Callable[[str], list[Row]]


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def transitions(out: str) -> list[Row]:
    rows = []
    for backend, engine, raw, ratio in re.findall(r"^(sqlite|postgresql)\s+(\d+)\s+(\d+)\s+([\d.]+)", out, re.M):
        rows.append((f"transitions/s {backend}", engine, f"raw SQL {raw}/s", f"{ratio}x (target ≥ 0.5)"))
    return rows


def validation(out: str) -> list[Row]:
    fast = re.search(r"engine\.forms\.validate \(cached, compiled\)\s+([\d,]+)", out)
    slow = re.search(r"jsonschema\.validate\(\) per call\s+([\d,]+)", out)
    ratio = re.search(r"ratio cached / jsonschema\.validate\(\)\s+([\d,]+)x", out)
    if not (fast and slow and ratio):
        return []
    return [("validations/s (one core)", fast.group(1), f"jsonschema.validate {slow.group(1)}/s",
             f"{ratio.group(1)}x")]


def pdf(out: str) -> list[Row]:
    rows = [(f"PDF/A p50 {lang}", f"{p50} s", f"cpu {cpu} s", f"{pps} pages/s")
            for lang, p50, cpu, pps in re.findall(r"^(\w\w(?:\+\w\w)?)\s+\d+\s+[\d.]+\s+([\d.]+)\s+[\d.]+\s+([\d.]+)"
                                                  r"\s+([\d.]+)", out, re.M)]
    verdict = re.search(r"target p50 < ([\d.]+) s: (met|NOT met)", out)
    if verdict:
        rows.append(("PDF/A target", verdict.group(2), "", f"p50 < {verdict.group(1)} s"))
    return rows


def sweep(out: str) -> list[Row]:
    rows = []
    found = re.findall(r"^(\S+)\s+rows\s+([\d,]+) due\s+([\d,]+).*?first batch\s+([\d.]+) ms.*?all ([\d,]+) due ids"
                       r"\s+([\d.]+) ms", out, re.M)
    by_backend: dict[str, list[tuple[int, int, float]]] = {}
    for label, rows_n, due, _first, _found, total in found:
        by_backend.setdefault(label, []).append((int(_num(rows_n)), int(_num(due)), float(total)))
    for label, runs in by_backend.items():
        base = runs[0]
        for rows_n, due, total in runs:
            ratio = f"{total / base[2]:.2f}x of {base[0]:,} rows" if base[2] else "-"
            rows.append((f"sweep select {label} {rows_n:,} rows, {due:,} due", f"{total:.1f} ms",
                         f"{base[2]:.1f} ms at {base[0]:,}", ratio))
    return rows


def api(out: str) -> list[Row]:
    pattern = (r"{label}: (\d+) clients.*?\(([\d.]+)/s, ([\d.]+) cases/s\), p50 ([\d.]+) ms, p90 [\d.]+ ms, "
               r"p99 ([\d.]+) ms, max [\d.]+ ms, errors (\d+)")
    paced, saturated = (re.search(pattern.format(label=label), out) for label in ("API", "saturated"))
    signing = re.search(r"signing: ([\d.]+) sign\+verify/s \((\d+)-byte", out)
    rows = []
    if paced:
        rows.append((f"API, {paced.group(1)} paced clients: requests/s", paced.group(2),
                     f"{paced.group(3)} cases/s", f"errors {paced.group(6)}"))
        rows.append(("API latency p50 / p99", f"{paced.group(4)} / {paced.group(5)} ms", "", "p99 target < 100 ms"))
    if saturated:
        rows.append(("API saturated: requests/s, p50 / p99", saturated.group(2),
                     f"{saturated.group(4)} / {saturated.group(5)} ms", f"errors {saturated.group(6)}"))
    if signing:
        rows.append(("envelope sign+verify/s", signing.group(1), f"{signing.group(2)}-byte envelope", ""))
    return rows


BENCHES = [
    Bench("transitions", "transitions.py", ["--n", "500"], [], transitions),
    Bench("validation", "validation.py", ["--seconds", "1"], [], validation),
    Bench("pdf", "pdf.py", ["--runs", "5"], [], pdf),
    Bench("sweep", "sweep.py", ["--rows", "100000", "--scale", "5"], [], sweep),
    Bench("api", "api.py", ["--clients", "20", "--duration", "12", "--saturate", "5", "--sign-seconds", "2"], [],
          api),
]


def run(bench: Bench, full: bool, out_dir: Path) -> tuple[list[Row], float, int]:
    command = [PY, str(ROOT / "bench" / bench.script), *(bench.full if full else bench.quick)]
    start = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    (out_dir / f"{bench.name}.txt").write_text(done.stdout + done.stderr, encoding="utf-8")
    return bench.extract(done.stdout), seconds, done.returncode


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with open("/proc/meminfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    return (f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}")


def table(rows: list[tuple[str, Row]]) -> str:
    head = ("benchmark", "figure", "value", "baseline (same run)", "ratio / target")
    data = [head, *((bench, *row) for bench, row in rows)]
    widths = [max(len(r[i]) for r in data) for i in range(len(head))]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)) + " |" for r in data]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="full sizes (each benchmark's defaults)")
    parser.add_argument("--only", nargs="*", choices=[b.name for b in BENCHES], help="run only these")
    parser.add_argument("--soak", type=float, metavar="MINUTES", help="API soak with a sweep every minute")
    parser.add_argument("--fuzz", type=float, metavar="SECONDS", help="fuzz envelopes and forms this long")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench", help="folder for the raw outputs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    print(f"sizes: {'full' if args.full else 'short (use --full for the full sizes)'}; raw outputs in {args.out}")
    collected: list[tuple[str, Row]] = []
    failures = 0
    for bench in BENCHES:
        if args.only and bench.name not in args.only:
            continue
        rows, seconds, code = run(bench, args.full, args.out)
        print(f"  {bench.name:12} {seconds:6.1f} s  exit {code}", flush=True)
        failures += code != 0 or not rows
        collected += [(bench.name, row) for row in rows] or [(bench.name, ("no figures", "-", "-",
                                                                          f"see {bench.name}.txt"))]
    if collected:
        print()
        print(table(collected))
    if args.soak:
        from bench.soak import soak

        result = soak(args.soak)
        print()
        print(json.dumps(result, indent=2))
        failures += result["errors"] > 0
    if args.fuzz:
        done = subprocess.run([PY, str(ROOT / "bench" / "fuzz.py"), "--seconds", str(args.fuzz)], cwd=ROOT,
                              check=False)
        failures += done.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
