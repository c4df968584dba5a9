"""Reference answers: what the instructor's solution records in every test cell.

The source notebook (solutions and hidden tests included) is run three times with the same runner
that runs submissions:

1. in **working mode**, where every ``check()`` compares against the expected value written in
   the test cell: this proves that the solution passes its own tests, so a typo in an expected
   value is caught before any student is graded against it;
2. in **grading mode**, where every ``check()`` only records the answer: these records, with
   their tolerances, are what submissions are compared with;
3. in grading mode without the hidden tests, to learn which check keys a student can see.

The result is cached in ``D/.coursekit_cache/A/`` under a hash of everything it depends on
(the notebook, the other files of the assignment and the ``coursekit`` sources), so a batch
pays for it once and a changed solution is never compared against stale answers.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

import coursekit
from coursekit.grading import cells as nbcells
from coursekit.grading import runner as rn
from coursekit.grading.course import Course, CourseError
from coursekit.grading.scoring import CellReference, error_summary

CACHE_VERSION = "4"  # 4: blinding by statement order and inside functions; the import allow-list


def _fingerprint(notebook: Path) -> str:
    digest = hashlib.sha256(CACHE_VERSION.encode())
    for path in sorted(
        p for p in notebook.parent.rglob("*") if p.is_file() and "checkpoints" not in str(p)
    ):
        digest.update(str(path.relative_to(notebook.parent)).encode())
        digest.update(path.read_bytes())
    package = Path(coursekit.__file__).parent
    # The library the notebooks import; the grader itself does not change the answers.
    for path in sorted(
        p for p in package.rglob("*.py") if "grading" not in p.relative_to(package).parts
    ):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def _describe_failure(nb: nbformat.NotebookNode, index: int, run: rn.CellRun | None) -> str:
    gid = nbcells.grade_id(nb.cells[index])
    name = f"cell {index}" + (f" ('{gid}')" if gid else "")
    if run is None:
        return f"{name} was not run"
    return (
        f"{name} ended with status {run.status}: {error_summary(run.outputs) or 'no error message'}"
    )


def _without_hidden_tests(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The source notebook with the hidden regions of its test cells removed."""
    visible = copy.deepcopy(nb)
    for cell in visible.cells:
        if nbcells.is_test(cell):
            cell.source, _ = nbcells.split_hidden(cell.source)
    return visible


def compute_reference(notebook: Path, limits: rn.RunLimits) -> dict[str, CellReference]:
    """Run the source notebook and return ``{test grade_id: CellReference}``.

    Three runs, in parallel: working mode (the solution must pass its own tests), grading mode
    (the reference answers) and grading mode without the hidden tests (which keys a student
    can see; every other key is reported to students only as "a hidden check").

    Raises:
        CourseError: if the source notebook fails its own tests or does not run.
    """
    nb = nbformat.read(str(notebook), as_version=4)
    plans = {
        "working": (nb, False),
        "grading": (nb, True),
        "visible": (_without_hidden_tests(nb), True),
    }
    with tempfile.TemporaryDirectory(prefix="coursekit-ref-") as tmp:
        with ThreadPoolExecutor(max_workers=len(plans)) as pool:
            futures = {
                mode: pool.submit(
                    rn.run_notebook, run_nb, Path(tmp) / mode, limits,
                    record=record, files_from=notebook.parent,
                )
                for mode, (run_nb, record) in plans.items()
            }  # fmt: skip
            runs = {mode: future.result() for mode, future in futures.items()}
    for mode, result in runs.items():
        run_nb = plans[mode][0]
        if result.failure:
            raise CourseError(f"the source notebook {notebook} could not be run: {result.failure}")
        bad = [
            i for i, c in enumerate(run_nb.cells)
            if c.cell_type == "code" and c.source.strip()
            and (i not in result.cells or result.cells[i].status != rn.OK)
        ]  # fmt: skip
        if bad:
            problems = "; ".join(_describe_failure(run_nb, i, result.cells.get(i)) for i in bad[:3])
            raise CourseError(f"the source notebook {notebook} fails in {mode} mode: {problems}")
    reference: dict[str, CellReference] = {}
    for i, cell in enumerate(nb.cells):
        if not nbcells.is_test(cell):
            continue
        run = runs["grading"].cells[i]
        records = [
            {
                "key": r["key"],
                "answer": r["answer"],
                "rtol": r.get("rtol", 1e-7),
                "atol": r.get("atol", 1e-9),
            }
            for r in run.records
        ]
        visible = {r["key"] for r in runs["visible"].cells[i].records}
        reference[nbcells.source_grade_id(cell)] = CellReference(
            records=records, hidden_keys=sorted({r["key"] for r in records} - visible)
        )
    return reference


def load_reference(
    course: Course, assignment: str, notebook: Path, limits: rn.RunLimits
) -> dict[str, CellReference]:
    """The reference for one source notebook, from the cache or computed and cached."""
    cache = course.cache_dir(assignment)
    key = _fingerprint(notebook)
    path = cache / f"{notebook.stem}.{key}.json"
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {gid: CellReference(**value) for gid, value in data.items()}
        except (json.JSONDecodeError, TypeError):
            path.unlink()  # a damaged cache entry is recomputed
    reference = compute_reference(notebook, limits)
    cache.mkdir(parents=True, exist_ok=True)
    for old in cache.glob(f"{notebook.stem}.*.json"):
        old.unlink()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps({gid: vars(ref) for gid, ref in reference.items()}, indent=1), encoding="utf-8"
    )
    tmp.replace(path)
    return reference
