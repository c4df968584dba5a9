"""Book build times: a cold build, a rebuild with nothing changed, and each chapter's execution.

The working tree is copied to ``bench/_work/book`` without ``.venv``, ``_build``, ``.git`` and
other generated folders (``_ext/vendor``, the fetched web assets, is kept: fetching it is a
one-time download, not part of building), and ``jupyter-book build . -W --keep-going`` runs
there, as ``make book`` does. The copy uses the project's .venv (coursekit is installed
editable, so the chapters import the live package).

* cold: the first build of the fresh copy (executes every notebook); one run, since it takes
  minutes. ``--quick`` skips it and keeps the previous run's ``_build`` in the copy.
* rebuild: the same command again with nothing changed (myst-nb's jupyter-cache serves the
  outputs); median of several runs.
* per chapter: the execution time jupyter-cache recorded for each notebook in the cold build
  (with ``--quick``: of the build that last executed it).
* clean clone (not with ``--quick``): ``make book`` in a fresh ``git clone`` of ``HEAD``, step by
  step (set-up, web assets, build), then ``make book`` again with nothing changed.

    python bench/bench_book.py [--quick]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import argparse
import shutil
import statistics
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))
from book_toc import toc_notebooks
from _common import REPO, WORK, PartResult, Row, fmt_mib, fmt_time, run_command, skipped

IGNORE = {
    ".venv",
    "_build",
    ".git",
    ".hypothesis",
    ".pytest_cache",
    "node_modules",
    "_work",
    "__pycache__",
    ".ipynb_checkpoints",
}
BUILD_TIMEOUT = 1800


def _jupyter_book() -> Path:
    return Path(sys.executable).parent / "jupyter-book"


def chapter_notebooks(root: Path = REPO) -> list[Path]:
    return toc_notebooks(root)


def _copy_tree(dest: Path, keep_build: bool = False) -> None:
    """Copy the working tree to ``dest``; with ``keep_build``, a previous ``dest/_build`` stays."""
    kept = dest.parent / (dest.name + "-kept-build")
    if keep_build and (dest / "_build").exists():
        shutil.rmtree(kept, ignore_errors=True)
        (dest / "_build").rename(kept)
    if dest.exists():
        shutil.rmtree(dest)

    def ignore(directory: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n in IGNORE}
        if Path(directory).resolve() == (REPO / "assignments").resolve():
            skip |= {n for n in names if n not in ("source", "nbgrader_config.py")}
        return skip

    shutil.copytree(REPO, dest, ignore=ignore, symlinks=True)
    if kept.exists():
        kept.rename(dest / "_build")


def _build(where: Path):
    env = dict(os.environ)
    env.pop("OPENBLAS_NUM_THREADS", None)  # the book builds as a reader's machine would
    env.pop("OMP_NUM_THREADS", None)
    env.pop("MKL_NUM_THREADS", None)
    return run_command(
        [str(_jupyter_book()), "build", ".", "-W", "--keep-going"],
        cwd=where,
        env=env,
        timeout=BUILD_TIMEOUT,
    )


def _cache_times(where: Path) -> dict[str, float]:
    """Execution seconds per notebook (path relative to the book) from jupyter-cache."""
    from jupyter_cache import get_cache

    cache_dir = where / "_build" / ".jupyter_cache"
    if not cache_dir.exists():
        return {}
    times = {}
    for record in get_cache(str(cache_dir)).list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        if seconds is not None:
            times[os.path.relpath(record.uri, where)] = float(seconds)
    return times


def clean_clone_make_book(rebuilds: int = 3) -> tuple[list[Row], list[str]]:
    """``make book`` in a fresh clone of the committed ``HEAD``, as a new contributor runs it.

    The steps of ``make book`` are timed one by one: ``make setup`` (a new virtual environment,
    pip installing the pinned requirements; packages come from pip's cache when this machine
    has installed them before), ``make web-assets`` (the pinned browser libraries, from npm's
    cache likewise) and the build itself; then ``make book`` again with nothing changed.
    """
    clone = WORK / "clone"
    shutil.rmtree(clone, ignore_errors=True)
    WORK.mkdir(parents=True, exist_ok=True)
    done = run_command(["git", "clone", "--quiet", str(REPO), str(clone)], cwd=WORK, timeout=600)
    if done.returncode != 0:
        return [], [f"book: git clone failed: {_fail_tail(done)}"]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    }
    steps = {}
    for target in ("setup", "web-assets", "book"):
        print(f"  book: clean clone: make {target}", flush=True)
        steps[target] = run_command(["make", target], cwd=clone, env=env, timeout=BUILD_TIMEOUT)
        if steps[target].returncode != 0:
            return [], [
                f"book: make {target} failed in the clean clone: {_fail_tail(steps[target])}"
            ]
    total = sum(step.seconds for step in steps.values())
    again = [
        run_command(["make", "book"], cwd=clone, env=env, timeout=BUILD_TIMEOUT)
        for _ in range(rebuilds)
    ]
    again_ok = all(r.returncode == 0 for r in again)
    rows = [
        Row(
            "book",
            f"make book in a clean clone of HEAD (set-up {fmt_time(steps['setup'].seconds)}, "
            f"web assets {fmt_time(steps['web-assets'].seconds)}, build "
            f"{fmt_time(steps['book'].seconds)}; 1 run)",
            fmt_time(total),
            memory=f"{fmt_mib(steps['book'].peak_tree_bytes)} all processes (build)",
            target="< 3 min",
            met="yes" if total < 180 else "no",
        ),
        Row(
            "book",
            f"make book again in that clone, nothing changed (median of {rebuilds})",
            fmt_time(statistics.median(r.seconds for r in again)),
            memory=f"{fmt_mib(max(r.peak_tree_bytes for r in again))} all processes",
            target="< 20 s",
            met=("yes" if statistics.median(r.seconds for r in again) < 20 else "no")
            if again_ok
            else "BUILD FAILED",
        ),
    ]
    notes = [
        "book: the clean clone's set-up installs from pip's and npm's caches on this machine; "
        "a machine that never installed the pinned packages downloads them first"
    ]
    shutil.rmtree(clone, ignore_errors=True)
    return rows, notes


def _fail_tail(run) -> str:
    lines = (run.stderr + run.stdout).strip().splitlines()
    return " | ".join(lines[-3:])


def run(quick: bool = False, rebuilds: int = 3) -> PartResult:
    part = "book"
    if not (REPO / "_toc.yml").exists() or not (REPO / "_config.yml").exists():
        return skipped(part, "_toc.yml/_config.yml not present")
    if not _jupyter_book().exists():
        return skipped(part, f"{_jupyter_book()} not found (run make setup)")
    result = PartResult(part)
    notebooks = chapter_notebooks()
    if not notebooks:
        result.notes.append(
            "book: _toc.yml lists no chapter notebooks yet; the builds cover the text pages only"
        )
    else:
        result.notes.append(f"book: {len(notebooks)} chapter notebook(s) in _toc.yml")
    where = WORK / "book"
    print(f"  book: copying the working tree to {where}", flush=True)
    _copy_tree(where, keep_build=quick)
    lines = ["### Book", ""]
    per_chapter: dict[str, float] = {}
    if not quick:
        print("  book: cold build (minutes)...", flush=True)
        cold = _build(where)
        ok = cold.returncode == 0
        result.rows.append(
            Row(
                part,
                f"cold build, {len(notebooks)} notebooks executed (1 run)",
                fmt_time(cold.seconds),
                memory=(
                    f"{fmt_mib(cold.max_process_bytes)} largest process, "
                    f"{fmt_mib(cold.peak_tree_bytes)} all processes"
                ),
                met="built" if ok else "BUILD FAILED",
            )
        )
        if not ok:
            result.notes.append(
                f"book: the cold build failed (exit {cold.returncode}): {_fail_tail(cold)}"
            )
        per_chapter = _cache_times(where)
        source = "jupyter-cache's record of the cold build"
    else:
        # A rebuild needs a built tree: bring the previous bench run's build up to date (only
        # notebooks changed since then are executed) or, the first time, build from scratch.
        print(
            "  book: --quick: no cold build; bringing the copy's build up to date (not timed)",
            flush=True,
        )
        first = _build(where)
        if first.returncode != 0:
            result.notes.append(
                f"book: the build failed (exit {first.returncode}): {_fail_tail(first)}"
            )
        per_chapter = _cache_times(where)
        source = "jupyter-cache's record of the build that last executed each notebook"
    if not quick:
        rows, notes = clean_clone_make_book(rebuilds)
        result.rows.extend(rows)
        result.notes.extend(notes)
    runs = []
    for i in range(rebuilds):
        print(f"  book: rebuild {i + 1}/{rebuilds}", flush=True)
        runs.append(_build(where))
    med = statistics.median(r.seconds for r in runs)
    failed = [r for r in runs if r.returncode != 0]
    result.rows.append(
        Row(
            part,
            f"rebuild, nothing changed (median of {rebuilds})",
            fmt_time(med),
            memory=f"{fmt_mib(max(r.max_process_bytes for r in runs))} largest process, "
            f"{fmt_mib(max(r.peak_tree_bytes for r in runs))} all processes",
            met="built" if not failed else "BUILD FAILED",
        )
    )
    if failed:
        result.notes.append(f"book: a rebuild failed: {_fail_tail(failed[0])}")
    lines += [
        f"Per-chapter execution time ({source}):",
        "",
        "| notebook | execution |",
        "|---|---|",
    ]
    for name, seconds in sorted(per_chapter.items()):
        lines.append(f"| {name} | {fmt_time(seconds)} |")
        result.rows.append(Row(part, f"execute {name}", fmt_time(seconds)))
    if not per_chapter:
        lines.append("| (no notebook was executed) | - |")
    result.details = "\n".join(lines)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the cold build")
    parser.add_argument("--rebuilds", type=int, default=3)
    args = parser.parse_args()
    result = run(quick=args.quick, rebuilds=args.rebuilds)
    result.print()


if __name__ == "__main__":
    main()
