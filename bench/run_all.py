"""Run the benchmarks (all, or those named) and print one summary table with the machine's core count; the same
table, with every bench's notes, is written to bench/results/latest.md.

    .venv/bin/python bench/run_all.py                 # tokens status qr page viewers watch
    .venv/bin/python bench/run_all.py status qr       # a subset, by name

Each bench runs in its own Python process (`bench_<name>.py` imported by `run_all.py --one <name>`), so none
inherits another's threads, caches or environment; its figures come back as JSON. A bench that crashes is shown
as a row that did not meet its goal, and the others still run. Exit status: 0 when every goal is met, else 1.
Nothing here is a test; the figures are not compared with anything but the goals printed beside them.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import BENCH, CORES, RESULTS, Figure, machine_line, notes_text, table  # noqa: E402

#: name -> (module, title); the order is the order of the issue's goals
BENCHES = {
    "tokens": ("bench_tokens", "Token economy"),
    "status": ("bench_status", "Status polling"),
    "qr": ("bench_qr", "QR"),
    "page": ("bench_page", "Page cost"),
    "viewers": ("bench_viewers", "Viewers"),
    "watch": ("bench_watch", "Watch"),
}


def code_state() -> str:
    """Which code was measured: the commit, and any uncommitted change outside bench/."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=str(BENCH.parent), capture_output=True, text=True,
                                  timeout=10).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()
               if line[3:] and not line[3:].startswith("bench/")]
    return f"code: commit {head}" + (f" with uncommitted changes in {', '.join(changed)}" if changed else "")


def _one(name: str, out: str) -> int:
    """Child process: run one bench, print its own report, write its figures as JSON to ``out``."""
    from _support import report

    module, title = BENCHES[name]
    mod = importlib.import_module(module)
    t0 = time.perf_counter()
    figures = mod.run()
    wall = time.perf_counter() - t0
    print()
    print(report(title, figures))
    print(f"\n({title}: {wall:.1f} s wall)", flush=True)
    Path(out).write_text(json.dumps({"wall": wall, "figures": [dataclasses.asdict(f) for f in figures]}))
    return 0


def _run_child(name: str) -> tuple[list[Figure], float]:
    with tempfile.NamedTemporaryFile(prefix=f"wpp-bench-{name}-", suffix=".json", delete=False) as f:
        out = Path(f.name)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", name, "--json", str(out)],
                              cwd=str(BENCH.parent))
        wall = time.perf_counter() - t0
        try:
            data = json.loads(out.read_text())
        except (OSError, ValueError):
            data = None
    finally:
        out.unlink(missing_ok=True)
    if proc.returncode != 0 or not data:
        return [Figure(name, f"{BENCHES[name][1]}: the bench did not finish", f"exit {proc.returncode}", "runs",
                       False, ["see its output above"])], wall
    return [Figure(**f) for f in data["figures"]], wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", metavar="name", help=f"benches to run (default all): {', '.join(BENCHES)}")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--json", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        return _one(args.one, args.json)
    unknown = [n for n in args.names if n not in BENCHES]
    if unknown:
        ap.error(f"unknown bench {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    names = [n for n in BENCHES if n in args.names] if args.names else list(BENCHES)

    print(f"WPP Console benchmarks: {', '.join(names)} on {CORES} cores", flush=True)
    figures: list[Figure] = []
    walls: dict[str, float] = {}
    for name in names:
        print(f"\n=== {name} ({BENCHES[name][1]}) ===", flush=True)
        figs, walls[name] = _run_child(name)
        figures += figs

    met = sum(1 for f in figures if f.met is True)
    missed = [f for f in figures if f.met is False]
    summary = "\n".join([
        "# WPP Console benchmarks: latest run", "",
        machine_line(), "",
        code_state(), "",
        f"Benches: {', '.join(names)} (wall time: " + ", ".join(f"{n} {walls[n]:.0f} s" for n in names) + ")", "",
        table(figures), "",
        f"Goals met: {met} of {met + len(missed)}" + (
            "; not met: " + "; ".join(f"[{f.bench}] {f.name} = {f.value} (goal {f.goal})" for f in missed)
            if missed else ""),
        "", "## Notes", "", notes_text(figures), "",
    ])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(summary)
    print("\n" + "=" * 100)
    print(f"\n{machine_line()}\n{code_state()}\n\n{table(figures)}\n")
    print(f"Goals met: {met} of {met + len(missed)}" + (f"; NOT met: {len(missed)}" if missed else ""))
    print(f"Written to {RESULTS / 'latest.md'}")
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
