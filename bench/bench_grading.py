"""Grading throughput: ``coursekit grade --jobs 2`` against plain sequential ``nbgrader autograde``.

Both grade the same 40 submissions of the backprop assignment. The submissions are the
backprop cases of the grader's test corpus (``tests/grading/grading_corpus.py``: a correct
notebook and typical bugs, each with the score it must get), each handed in by 10 students.
The course is released once with ``coursekit release`` (which also caches the reference
answers); every timed run then grades a fresh copy of that course, so no run sees another's
results. Scores are compared student by student: coursekit's ``auto_score`` column of
``grades/A.csv`` against the code-cell score nbgrader wrote into its own gradebook.

Optionally (``--jobs1``, not in make bench: it adds minutes) coursekit with one worker, which
separates the gain from parallel workers from the per-submission cost. Also measured: the
sandbox's cost per submission (``--no-sandbox`` against the default, sandboxed, runs); where no
sandbox can be made, coursekit runs with ``--no-sandbox`` and the table says why.

    python bench/bench_grading.py [--runs 3] [--students-per-case 10]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import argparse
import csv
import json
import shutil
import statistics
from pathlib import Path

from _common import REPO, WORK, PartResult, Row, fmt_mib, fmt_time, run_command, skipped

ASSIGNMENT = "03_backprop"
TARGET = 1.8  # coursekit --jobs 2 throughput / sequential nbgrader throughput
CORPUS = REPO / "tests" / "grading"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for name in (
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    ):
        env.pop(name, None)  # grade as an instructor's machine would
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")  # nbgrader runs `alembic` by name
    return env


def _coursekit(*args: str) -> list[str]:
    return [sys.executable, "-m", "coursekit.grading", *args]


def _prepare(root: Path, per_case: int) -> tuple[Path, dict[str, float]]:
    """A released course with ``per_case`` copies of every backprop case; expected scores."""
    sys.path.insert(0, str(CORPUS))
    import grading_corpus as gc

    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    course = gc.make_course(root, (ASSIGNMENT,))
    done = run_command(
        _coursekit("release", ASSIGNMENT, "--course-dir", str(course)), cwd=REPO, env=_env()
    )
    if done.returncode != 0:
        raise RuntimeError(f"coursekit release failed: {done.stderr[-2000:]}")
    cases = [c for c in gc.cases() if c.assignment == ASSIGNMENT]
    expected = {}
    for i in range(per_case):
        for case in cases:
            student = f"{case.student}_{i:02d}"
            target = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            case.build(course, target)
            expected[student] = case.score
    return course, expected


def _fresh_copy(course: Path, name: str) -> Path:
    dest = course.parent / name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(course, dest)
    return dest


def _coursekit_scores(course: Path) -> dict[str, float | None]:
    with open(course / "grades" / f"{ASSIGNMENT}.csv", newline="", encoding="utf-8") as fh:
        return {
            row["student"]: (float(row["auto_score"]) if row["auto_score"] else None)
            for row in csv.DictReader(fh)
        }


def _nbgrader_scores(course: Path) -> dict[str, float | None]:
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="nn-basics") as gb:
        for sub in gb.assignment_submissions(ASSIGNMENT):
            scores[sub.student_id] = float(sub.code_score)
    return scores


def _grade_coursekit(course: Path, jobs: int, sandbox: bool):
    args = ["grade", ASSIGNMENT, "--course-dir", str(course), "--jobs", str(jobs), "--quiet"]
    if not sandbox:
        args.append("--no-sandbox")
    return run_command(_coursekit(*args), cwd=REPO, env=_env())


def _report_seconds(courses: list[Path]) -> dict[str, list[float]]:
    """Each student's grading time, as coursekit's per-student reports give it, over ``courses``."""
    seconds: dict[str, list[float]] = {}
    for course in courses:
        for report in (course / "grades" / ASSIGNMENT).glob("*.json"):
            data = json.loads(report.read_text(encoding="utf-8"))
            seconds.setdefault(data["student"], []).append(float(data["seconds"]))
    return seconds


def _grade_nbgrader(course: Path):
    cmd = [str(Path(sys.executable).parent / "nbgrader"), "autograde", ASSIGNMENT]
    return run_command(cmd, cwd=course, env=_env())


def _sandbox_missing() -> str | None:
    """Why coursekit cannot sandbox here (then only --no-sandbox runs are possible), or None."""
    from coursekit.grading.sandbox import unavailable_reason

    return unavailable_reason()


def run(
    quick: bool = False, runs: int | None = None, per_case: int = 10, with_jobs1: bool = False
) -> PartResult:
    part = "grading"
    try:
        from coursekit.grading import batch  # noqa: F401
        from coursekit.grading.cli import main  # noqa: F401
    except ImportError as exc:
        return skipped(part, f"coursekit.grading not present ({exc})")
    if not (REPO / "assignments" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists():
        return skipped(part, f"assignments/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb not present")
    if not (CORPUS / "grading_corpus.py").exists():
        return skipped(
            part, "tests/grading/grading_corpus.py (the synthetic submissions) not present"
        )
    if shutil.which("nbgrader", path=str(Path(sys.executable).parent)) is None:
        return skipped(part, "nbgrader is not installed in this environment")
    runs = runs or (1 if quick else 3)
    result = PartResult(part)
    base = WORK / "grading"
    print(f"  grading: preparing {ASSIGNMENT} with synthetic submissions in {base}", flush=True)
    course, expected = _prepare(base, per_case)
    n = len(expected)

    def one(label: str, i: int, grade, *args):
        copy = _fresh_copy(course, f"{label}-{i}")
        print(f"  grading: {label} run {i + 1}/{runs}", flush=True)
        done = grade(copy, *args)
        if done.returncode not in (0, 1):  # 1: some submission needs attention (reported)
            raise RuntimeError(f"{label} failed (exit {done.returncode}): {done.stderr[-3000:]}")
        return done, copy

    # Alternating runs (coursekit, nbgrader, coursekit, ...): load from elsewhere on the machine
    # then hits both tools alike instead of whichever happened to run during it.
    # With a sandbox, a --no-sandbox run joins each round, so its cost is measured alongside.
    missing = _sandbox_missing()
    sandbox = missing is None
    ck_runs, nb_runs, plain = [], [], []
    for i in range(runs):
        ck_runs.append(one("coursekit-jobs2", i, _grade_coursekit, 2, sandbox))
        nb_runs.append(one("nbgrader", i, _grade_nbgrader))
        if sandbox:
            plain.append(one("coursekit-jobs2-no-sandbox", i, _grade_coursekit, 2, False))
    ck_sec = statistics.median(d.seconds for d, _ in ck_runs)
    nb_sec = statistics.median(d.seconds for d, _ in nb_runs)

    # Identical scores: every run of both tools against each other and against the corpus.
    mismatches = []
    for (_, ck_dir), (_, nb_dir) in zip(ck_runs, nb_runs):
        ck, nb = _coursekit_scores(ck_dir), _nbgrader_scores(nb_dir)
        for student in sorted(expected):
            a, b = ck.get(student), nb.get(student)
            if a is None or b is None or abs(a - b) > 1e-9 or abs(a - expected[student]) > 1e-9:
                mismatches.append(
                    f"{student}: coursekit {a}, nbgrader {b}, expected {expected[student]}"
                )
    same = not mismatches
    speedup = nb_sec / ck_sec  # throughput ratio = (n / ck_sec) / (n / nb_sec)
    result.rows.append(
        Row(
            part,
            f"grade {n} {ASSIGNMENT} submissions: "
            "coursekit --jobs 2 vs sequential nbgrader autograde "
            f"(median of {runs}; per submission {fmt_time(ck_sec / n)} vs {fmt_time(nb_sec / n)})",
            fmt_time(ck_sec),
            fmt_time(nb_sec) + " (nbgrader)",
            f"{speedup:.2f}x throughput",
            f"{fmt_mib(max(d.peak_tree_bytes for d, _ in ck_runs))} / "
            f"{fmt_mib(max(d.peak_tree_bytes for d, _ in nb_runs))} all processes",
            ">= 1.8x, same scores",
            ("yes" if speedup >= TARGET else "no")
            + (", scores identical" if same else ", SCORES DIFFER"),
        )
    )
    if mismatches:
        result.notes.append(
            f"grading: {len(mismatches)} score mismatch(es), e.g. " + "; ".join(mismatches[:4])
        )
    else:
        result.notes.append(
            f"grading: coursekit and nbgrader gave identical scores to all {n} submissions in "
            "every run, equal to the scores the corpus expects"
        )
    if with_jobs1:
        ck1 = [one("coursekit-jobs1", i, _grade_coursekit, 1, sandbox) for i in range(runs)]
        ck1_sec = statistics.median(d.seconds for d, _ in ck1)
        result.rows.append(
            Row(
                part,
                f"same {n} submissions, coursekit --jobs 1 vs sequential nbgrader "
                f"(median of {runs})",
                fmt_time(ck1_sec),
                fmt_time(nb_sec) + " (nbgrader)",
                f"{nb_sec / ck1_sec:.2f}x throughput",
                f"{fmt_mib(max(d.peak_tree_bytes for d, _ in ck1))} all processes",
            )
        )
    if sandbox:
        # Whole-batch times differ by less than the machine's noise, so the cost is taken per
        # submission: each student's grading time (from coursekit's report) with and without
        # the sandbox, the median over the runs for each, then the median over the students.
        boxed_each, plain_each = (
            _report_seconds([c for _, c in ck_runs]),
            _report_seconds([c for _, c in plain]),
        )
        students = sorted(set(boxed_each) & set(plain_each))
        boxed_med = statistics.median(statistics.median(boxed_each[s]) for s in students)
        plain_med = statistics.median(statistics.median(plain_each[s]) for s in students)
        cost = statistics.median(
            statistics.median(boxed_each[s]) - statistics.median(plain_each[s]) for s in students
        )
        plain_sec = statistics.median(d.seconds for d, _ in plain)
        result.rows.append(
            Row(
                part,
                "sandbox cost per submission: one submission's grading time with the sandbox vs "
                f"--no-sandbox (median over {len(students)} students of the paired difference, "
                f"{runs} runs each; whole batch {fmt_time(ck_sec)} vs {fmt_time(plain_sec)})",
                f"{fmt_time(boxed_med)} (+{fmt_time(cost)})"
                if cost >= 0
                else f"{fmt_time(boxed_med)} ({fmt_time(cost)})",
                fmt_time(plain_med) + " (no sandbox)",
                f"{boxed_med / plain_med:.2f}",
                f"{fmt_mib(max(d.peak_tree_bytes for d, _ in plain))} all processes (no sandbox)",
            )
        )
    else:
        result.notes.append(
            f"grading: coursekit ran with --no-sandbox; sandbox cost not measured: {missing}"
        )
    result.details = "\n".join(
        [
            "### Grading",
            "",
            (
                f"{n} submissions of {ASSIGNMENT}: {per_case} students for each corpus case "
                f"({', '.join(sorted({s.rsplit('_', 1)[0] for s in expected}))}). Wall time of the "
                "whole command; runs: "
            )
            + ", ".join(f"coursekit {fmt_time(d.seconds)}" for d, _ in ck_runs)
            + "; "
            + ", ".join(f"nbgrader {fmt_time(d.seconds)}" for d, _ in nb_runs)
            + ".",
        ]
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run each")
    parser.add_argument(
        "--jobs1", action="store_true", help="also time coursekit --jobs 1 (not part of make bench)"
    )
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--students-per-case", type=int, default=10)
    args = parser.parse_args()
    result = run(
        quick=args.quick, runs=args.runs, per_case=args.students_per_case, with_jobs1=args.jobs1
    )
    result.print()


if __name__ == "__main__":
    main()
