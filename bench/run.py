"""Run the benchmarks, print one Markdown table and write it to bench/results.md.

    python bench/run.py                       # every part (about 10-15 minutes)
    python bench/run.py --only torch,engine   # some parts
    python bench/run.py --quick               # smaller grids, no cold book build, one grading run
    python bench/run.py --report              # run nothing, rewrite results.md from bench/last/

Parts: torch (training step vs PyTorch), engine (scalar autodiff vs micrograd), sliders (slider app
latency), book (build times), grading (coursekit grade vs nbgrader autograde), player (the slider
apps on the website: frame format, site size, move latency in Chromium). A part whose subject does
not exist yet is skipped with a note; nothing is ever estimated.

results.md always shows every part: the ones run now, and for the others the table rows of
their last run, marked with that run's date. Each part's last run is kept in bench/last/<part>.json,
committed with results.md, so that running one part in a fresh clone keeps the others' figures.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import single_threaded_env

single_threaded_env()

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from dataclasses import asdict  # noqa: E402

from _common import (  # noqa: E402
    BENCH,
    PartResult,
    Row,
    fmt_time,
    load_average,
    machine_info,
    markdown_table,
)

PARTS = ["torch", "engine", "sliders", "book", "grading", "pages", "player"]
LAST = BENCH / "last"  # committed: see the module docstring


def _run_part(name: str, quick: bool) -> PartResult:
    if name == "torch":
        import bench_torch

        return bench_torch.run(quick=quick)
    if name == "engine":
        import bench_engine

        return bench_engine.run(quick=quick)
    if name == "sliders":
        import bench_sliders

        return bench_sliders.run(quick=quick)
    if name == "book":
        import bench_book

        return bench_book.run(quick=quick)
    if name == "grading":
        import bench_grading

        return bench_grading.run(quick=quick)
    if name == "pages":
        import bench_pages

        return bench_pages.run(quick=quick)
    if name == "player":
        import bench_player

        return bench_player.run(quick=quick)
    raise ValueError(name)


def _save(result: PartResult, info: dict, quick: bool) -> None:
    LAST.mkdir(parents=True, exist_ok=True)
    data = {"result": asdict(result), "machine": info, "quick": quick}
    (LAST / f"{result.name}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")


def _load(name: str) -> tuple[PartResult, dict, bool] | None:
    path = LAST / f"{name}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    r = data["result"]
    result = PartResult(r["name"], [Row(**row) for row in r["rows"]], r["notes"], r["details"])
    return result, data["machine"], data.get("quick", False)


def _results_md(parts: list[tuple[PartResult, dict, bool, bool]], info: dict) -> str:
    rows = [row for result, _, _, _ in parts for row in result.rows]
    out = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`bench/run.py`); every figure below was measured, "
        "none estimated.",
        "Times are medians over repeated runs; ratios are coursekit / peer measured "
        "in the same run",
        "(below 1: coursekit is faster), except grading, where the ratio is the throughput gain.",
        "Peak memory: rise of the peak resident set of the child process that ran the measurement",
        "(coursekit / peer); for commands, the largest sampled total of the whole process tree.",
        "The machine is shared: the load averages below show how much other work ran alongside,",
        "which slows absolute times; the alternating repeats keep the ratios comparable.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    out += [f"| {k} | {v} |" for k, v in info.items()]
    out += ["", "## Results", "", markdown_table(rows), ""]
    notes = []
    for result, part_info, quick, fresh in parts:
        when = "this run" if fresh else f"an earlier run ({part_info.get('date', '?')})"
        # Each part keeps the load of the run it came from: a figure from a busy machine says so.
        when += f", load average at start {part_info.get('load average at start', '?')}"
        mode = ", --quick" if quick else ""
        notes.append(f"- **{result.name}**: from {when}{mode}.")
        notes += [f"  - {n}" for n in result.notes]
    out += ["## Notes", ""] + notes + [""]
    details = [result.details for result, _, _, _ in parts if result.details]
    if details:
        out += ["## Details", ""] + [d + "\n" for d in details]
    return "\n".join(out).rstrip() + "\n"


def _report(out: str) -> int:
    parts = [(*loaded, False) for loaded in map(_load, PARTS) if loaded is not None]
    if not parts:
        print(f"error: no part has a stored run in {LAST}", file=sys.stderr)
        return 2
    # The machine table describes the latest full machine record (a part taken over by hand may
    # hold only its date and load); each part's note keeps its own date and load.
    full = [part_info for _, part_info, _, _ in parts if "CPU" in part_info]
    info = max(full, key=lambda i: i["date"]) if full else parts[0][1]
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(_results_md(parts, dict(info)))
    print(f"written to {os.path.relpath(out)} from {len(parts)} stored part(s)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the coursekit benchmarks.")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {PARTS}")
    parser.add_argument(
        "--quick", action="store_true", help="smaller grids, no cold book build, one grading run"
    )
    parser.add_argument(
        "--out", default=str(BENCH / "results.md"), help="where to write the Markdown results"
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="run nothing: rewrite the results from each part's last run in bench/last/",
    )
    args = parser.parse_args()
    if args.report:
        return _report(args.out)
    chosen = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {unknown}; choose from {PARTS}")

    info = machine_info()
    print("Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    failed = []
    fresh: dict[str, PartResult] = {}
    for name in PARTS:
        if name not in chosen:
            continue
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        try:
            result = _run_part(name, args.quick)
        except Exception:
            tb = traceback.format_exc()
            print(tb, file=sys.stderr)
            last = tb.strip().splitlines()[-1]
            result = PartResult(
                name, notes=[f"FAILED: {last} (see the console output of make bench)"]
            )
            failed.append(name)
        print(f"== {name} done in {fmt_time(time.perf_counter() - start)}", flush=True)
        fresh[name] = result
        if name not in failed:
            _save(result, info, args.quick)

    parts = []
    for name in PARTS:
        if name in fresh:
            parts.append((fresh[name], info, args.quick, True))
        else:
            loaded = _load(name)
            if loaded is not None:
                parts.append((*loaded, False))
    info["load average at end"] = load_average()
    rows = [row for result, *_ in parts if result.name in fresh for row in result.rows]
    print()
    print(markdown_table(rows))
    print()
    for name, result in fresh.items():
        for note in result.notes:
            print(f"- {note}")
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(_results_md(parts, info))
    print(f"\nwritten to {os.path.relpath(args.out)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
