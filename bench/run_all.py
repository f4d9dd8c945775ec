"""Run every benchmark in bench/ and print one table: each figure beside the baseline measured in the same run.

    .venv/bin/python bench/run_all.py              # short sizes, a few minutes on 2 cores
    .venv/bin/python bench/run_all.py --full       # the benchmarks' own default (full) sizes
    .venv/bin/python bench/run_all.py --only api pdf
    .venv/bin/python bench/run_all.py --only web   # the web UI flow, p50/p95 per action (bench/web.py)
    .venv/bin/python bench/run_all.py --soak 10    # 10 minutes of API load with a deadline sweep every minute
    .venv/bin/python bench/run_all.py --fuzz 300   # and 300 s of envelope/form fuzzing (bench/fuzz.py)
    .venv/bin/python bench/run_all.py --readme     # and write the table into README.md (machine and date)
    .venv/bin/python bench/run_all.py --reuse --readme   # the table from the raw outputs of the last run only

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
    for backend, engine, raw, ratio in re.findall(r"^(sqlite|postgresql)\s+(\d+)\s+(\d+)\s+([\d.]+)$", out, re.M):
        verdict = "met" if float(ratio) >= 0.5 else "NOT met"
        rows.append((f"transitions/s, {backend}, 1 writer", engine, f"raw SQL {raw}/s",
                     f"{ratio}x (target ≥ 0.5: {verdict})"))
    return rows


def concurrency(out: str) -> list[Row]:
    pattern = (r"^postgresql\s+(\d+)\s+(distinct|hot)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+\(([\d.]+-[\d.]+)\)\s+\S+\s+"
               r"(\d+)/(\d+)\s+(\d+)\s+(\d+)")
    rows = []
    for writers, cases, engine, raw, ratio, spread, c_e, c_r, lost, broken in re.findall(pattern, out, re.M):
        extra = f", conflicts {c_e} / raw {c_r}" if cases == "hot" else ""
        rows.append((f"transitions/s, PostgreSQL, {writers} writers, {cases} cases", engine, f"raw SQL {raw}/s",
                     f"{ratio}x ({spread}; target ≥ 0.5), lost {lost}, broken chains {broken}{extra}"))
    return rows


def validation(out: str) -> list[Row]:
    engine = re.search(r"^engine\.forms\.validate\s+([\d,]+)\s+([\d,]+-[\d,]+)", out, re.M)
    bare = re.search(r"^bare jsonschema-rs is_valid \(baseline\)\s+([\d,]+)", out, re.M)
    ratio = re.search(r"^ratio engine / bare jsonschema-rs\s+([\d.]+)x\s+([\d.]+-[\d.]+x)", out, re.M)
    target = re.search(r"target engine >= ([\d.]+)x", out)
    if not (engine and bare and ratio and target):
        return []
    return [("validations/s, full request, one core", f"{engine.group(1)} ({engine.group(2)})",
             f"bare jsonschema-rs {bare.group(1)}/s", f"{ratio.group(1)}x ({ratio.group(2)}; target ≥ "
             f"{target.group(1)}x = 2× the replaced compiler)")]


def startup(out: str) -> list[Row]:
    rows = []
    base = re.search(r"^python -c pass \(baseline\)\s+([\d.]+)\s+[\d.]+\s+([\d.]+)", out, re.M)
    floor = re.search(r"^import the ORM models \(floor\)\s+([\d.]+)\s+[\d.]+\s+([\d.]+)", out, re.M)
    for name, target_text in (("exhorto --help", "< 0.3 s"), ("exhorto case list", "< 0.8 s")):
        found = re.search(rf"^{re.escape(name)}\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+\S+\s+< [\d.]+ s: (met|NOT met)",
                          out, re.M)
        if not found:
            continue
        baseline = f"python -c pass {base.group(1)} s" if base else ""
        if name.endswith("list") and floor:
            baseline += f"; importing the ORM alone {floor.group(1)} s (cpu {floor.group(2)} s)"
        rows.append((f"`{name}` cold start: best wall (median cpu)", f"{found.group(1)} s ({found.group(3)} s)",
                     baseline, f"{target_text}: {found.group(4)}"))
    return rows


def pdf(out: str) -> list[Row]:
    tag = r"\w\w(?:_[A-Z]{2})?"  # es, pt_PT; bilingual: es+fr
    rows = [(f"PDF/A p50 {lang}", f"{p50} s", f"cpu {cpu} s", f"{pps} pages/s")
            for lang, p50, cpu, pps in re.findall(rf"^({tag}(?:\+{tag})?)\s+\d+\s+[\d.]+\s+([\d.]+)\s+[\d.]+\s+"
                                                  r"([\d.]+)\s+([\d.]+)", out, re.M)]
    verdict = re.search(r"target p50 < ([\d.]+) s: (met|NOT met)", out)
    if verdict:
        rows.append(("PDF/A target", verdict.group(2), "", f"p50 < {verdict.group(1)} s"))
    return rows


def pdf_persons(out: str) -> list[Row]:
    found = re.search(r"^(\d+)-person request .*?: (\d+) pages, .*?cpu p50 ([\d.]+) s .*?bare WeasyPrint (\d+) plain "
                      r"pages: cpu p50 ([\d.]+) s; ratio ([\d.]+)x \(([\d.]+-[\d.]+)\)", out, re.M)
    verdict = re.search(r"target engine <= 2x bare WeasyPrint: (met|NOT met)", out)
    if not (found and verdict):
        return []
    persons, pages, engine, plain_pages, bare, ratio, spread = found.groups()
    rows = [(f"PDF/A of a {persons}-person request ({pages} pages), cpu", f"{engine} s",
             f"bare WeasyPrint, {plain_pages} plain pages: {bare} s", f"{ratio}x ({spread}); ≤ 2×: {verdict.group(1)}")]
    own = re.search(r"^bare WeasyPrint on the request's own HTML and stylesheet: cpu p50 ([\d.]+) s; engine / that "
                    r"([\d.]+)x \(([\d.]+-[\d.]+)\); text lines per page: request (\d+), plain (\d+)", out, re.M)
    if own:
        rows.append((f"same, beside its own HTML and CSS in bare WeasyPrint ({own.group(4)} text lines a page; "
                     f"plain pages {own.group(5)})", f"{engine} s", f"bare WeasyPrint, same HTML: {own.group(1)} s",
                     f"{own.group(2)}x ({own.group(3)}); what the engine adds"))
    added = re.search(r"^pages of persons \((\d+) more persons: \+(\d+) pages\): cpu (-?\d+) ms a page "
                      r"against (-?\d+) ms a plain page: (-?[\d.]+)x", out, re.M)
    if added:
        rows.append((f"same, each page that {added.group(1)} more persons add (+{added.group(2)} pages)",
                     f"{added.group(3)} ms", f"a plain page: {added.group(4)} ms", f"{added.group(5)}x"))
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
    direct = re.search(r"^direct: ([\d.]+) engine operations/s", out, re.M)
    ratio = re.search(r"^saturated API / direct engine: ([\d.]+x(?: median of \d+ rounds \([\d.]+-[\d.]+\))?)",
                      out, re.M)
    signing = re.search(r"signing: ([\d.]+) sign\+verify/s \((\d+)-byte", out)
    rows = []
    if saturated:
        rows.append((f"REST API saturated (create + act), {saturated.group(1)} clients: req/s, p99",
                     f"{saturated.group(2)}, p99 {saturated.group(5)} ms",
                     f"engine direct {direct.group(1)} ops/s" if direct else "",
                     (f"{ratio.group(1)} (target ≥ 0.5)" if ratio else "") + f", errors {saturated.group(6)}"))
    if paced:
        rows.append((f"API, {paced.group(1)} paced clients: req/s, p50 / p99", f"{paced.group(2)}, "
                     f"{paced.group(4)} / {paced.group(5)} ms", f"{paced.group(3)} cases/s",
                     f"p99 target < 100 ms, errors {paced.group(6)}"))
    if signing:
        rows.append(("envelope sign+verify/s", signing.group(1), f"{signing.group(2)}-byte envelope", ""))
    return rows


WEB_ROWS = ("rejected login", "login", "case page", "editor save", "approve+transmit", "acknowledge", "report")


def web(out: str) -> list[Row]:
    found = {name.strip(): (p50, p95) for name, p50, p95 in
             re.findall(r"^([A-Za-z+: ]+?)\s+\d+\s+([\d.]+)\s+([\d.]+)\s+[\d.]+", out, re.M)}
    base = found.get("baseline: GET static file")
    if not base:
        return []
    baseline = f"static GET p50 {base[0]} / p95 {base[1]} ms"
    rows = [(f"web UI {name}: p50 / p95", f"{found[name][0]} / {found[name][1]} ms", baseline, "p95 < 1 s")
            for name in WEB_ROWS if name in found]
    worst = re.search(r"^slowest action p95 (\d+) ms: target p95 < 1 s: (met|NOT met)", out, re.M)
    delivered = re.search(r"^request delivered after approve\+transmit: p50 ([\d.]+) s", out, re.M)
    if worst:
        rows.append(("web UI slowest action (of 11): p95", f"{worst.group(1)} ms",
                     f"request delivered {delivered.group(1)} s after the click" if delivered else "",
                     f"p95 < 1 s: {worst.group(2)}"))
    return rows


BENCHES = [
    Bench("api", "api.py", ["--clients", "20", "--duration", "12", "--saturate", "6", "--sign-seconds", "2",
                            "--direct-seconds", "4", "--rounds", "3"], [], api),
    Bench("transitions", "transitions.py", ["--n", "500"], [], transitions),
    Bench("concurrency", "transitions.py", ["--concurrency", "1", "4", "8", "--seconds", "2", "--rounds", "3"],
          ["--concurrency", "1", "4", "8"], concurrency),
    Bench("validation", "validation.py", ["--seconds", "1"], [], validation),
    Bench("startup", "startup.py", ["--runs", "5"], [], startup),
    Bench("pdf", "pdf.py", ["--runs", "5"], [], pdf),
    Bench("pdf60", "pdf.py", ["--persons", "60", "--runs", "5"], ["--persons", "60"], pdf_persons),
    Bench("sweep", "sweep.py", ["--rows", "100000", "--scale", "5"], [], sweep),
    Bench("web", "web.py", ["--runs", "5"], [], web),
]


def run(bench: Bench, full: bool, out_dir: Path, reuse: bool = False) -> tuple[list[Row], float, int]:
    if reuse:  # the figures from the raw output of an earlier run
        saved = out_dir / f"{bench.name}.txt"
        return bench.extract(saved.read_text(encoding="utf-8") if saved.exists() else ""), 0.0, 0
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


README = ROOT / "README.md"
START, END = "<!-- bench:start", "<!-- bench:end -->"


def write_readme(rows: list[tuple[str, Row]], where: str, full: bool, reuse: bool, out_dir: Path) -> None:
    """Replace the README's table between the bench markers with these rows, the machine and the date."""
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no {START} … {END} section")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    stamp = time.strftime("%Y-%m-%d", time.gmtime(max((p.stat().st_mtime for p in out_dir.glob("*.txt")),
                                                          default=time.time()) if reuse else time.time()))
    load = os.getloadavg()[0]
    block = (f"{START} generated by `.venv/bin/python bench/run_all.py --readme`; do not edit by hand -->\n"
             f"Measured {stamp} on {where}; {'full' if full else 'short'} sizes; load average "
             f"{load:.1f} when written (the machine is shared: ratios are within one run, absolute figures vary).\n\n"
             f"{table(rows)}\n{END}")
    README.write_text(head + block + tail, encoding="utf-8")
    print(f"README.md: Performance table written ({len(rows)} rows)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="full sizes (each benchmark's defaults)")
    parser.add_argument("--only", nargs="*", choices=[b.name for b in BENCHES], help="run only these")
    parser.add_argument("--soak", type=float, metavar="MINUTES", help="API soak with a sweep every minute")
    parser.add_argument("--fuzz", type=float, metavar="SECONDS", help="fuzz envelopes and forms this long")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench", help="folder for the raw outputs")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md's Performance section")
    parser.add_argument("--reuse", action="store_true", help="read the raw outputs in --out instead of running")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    where = machine()
    print(f"machine: {where}")
    print(f"sizes: {'full' if args.full else 'short (use --full for the full sizes)'}; raw outputs in {args.out}")
    collected: list[tuple[str, Row]] = []
    failures = 0
    for bench in BENCHES:
        if args.only and bench.name not in args.only:
            continue
        rows, seconds, code = run(bench, args.full, args.out, args.reuse)
        print(f"  {bench.name:12} {seconds:6.1f} s  exit {code}", flush=True)
        failures += code != 0 or not rows
        collected += [(bench.name, row) for row in rows] or [(bench.name, ("no figures", "-", "-",
                                                                          f"see {bench.name}.txt"))]
    if collected:
        print()
        print(table(collected))
        if args.readme:
            write_readme(collected, where, args.full, args.reuse, args.out)
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
