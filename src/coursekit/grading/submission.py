"""Grade one submission: canonicalise, run in the runner, compare, write the graded notebook.

:func:`grade_submission` is what a worker process does for one student. It never raises: any
failure becomes a notebook that *needs attention*, with the reason, so one broken submission
cannot stop a batch. It does not touch the gradebook (the parent process writes all grades, so
there is a single writer to the SQLite file); it writes the executed, graded notebook to
``D/autograded/S/A/`` for nbgrader's formgrader and feedback.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from coursekit.grading import cells as nbcells
from coursekit.grading import runner as rn
from coursekit.grading import submitted_files
from coursekit.grading.canonical import Canonical, UnreadableNotebook, canonicalise, parse_notebook
from coursekit.grading.scoring import CellScore, CellReference, score_test_cell


@dataclass
class NotebookJob:
    """One notebook of an assignment, with everything needed to grade it."""

    name: str
    source_path: Path
    stubs: dict[str, str]
    reference: dict[str, CellReference]


@dataclass
class SubmissionJob:
    """One student's submission of one assignment."""

    assignment: str
    student: str
    submitted_dir: Path
    autograded_dir: Path
    source_dir: Path
    notebooks: list[NotebookJob]
    limits: rn.RunLimits


@dataclass
class NotebookOutcome:
    """The result for one notebook.

    Attributes:
        name: notebook name without ``.ipynb``.
        graded: False if it could not be graded at all (see ``problem``).
        problem: why it could not be graded.
        scores: one :class:`CellScore` per graded cell, in notebook order.
        answered: ``{answer grade_id: differs from the released stub}``.
        notes: things the instructor should know (fallbacks, stopped execution, ...).
        attention: reasons a person must look at it although it was graded (tampering).
        seconds: time spent running it.
        file: the submitted file it was read from (None if none was found).
    """

    name: str
    graded: bool
    problem: str | None = None
    scores: list[CellScore] = field(default_factory=list)
    answered: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)
    seconds: float = 0.0
    file: str | None = None


@dataclass
class SubmissionResult:
    """The result for one submission (all notebooks of one assignment for one student)."""

    assignment: str
    student: str
    notebooks: list[NotebookOutcome]
    seconds: float = 0.0
    crash: str | None = None
    notes: list[str] = field(default_factory=list)
    """Notes about the submission as a whole (notebooks that were not graded)."""
    not_saved: str | None = None
    """Why these grades are not in the gradebook (set by the batch when it cannot write them)."""

    @property
    def needs_attention(self) -> bool:
        return (
            bool(self.crash)
            or bool(self.not_saved)
            or any(not n.graded or n.attention for n in self.notebooks)
        )

    @property
    def status(self) -> str:
        return "needs-attention" if self.needs_attention else "graded"

    @property
    def auto_score(self) -> float | None:
        """Sum of test-cell points, or None when some notebook could not be graded."""
        if self.crash or any(not n.graded for n in self.notebooks):
            return None
        return sum(s.points or 0.0 for n in self.notebooks for s in n.scores if not s.manual)

    @property
    def reason(self) -> str:
        parts: list[str] = []
        if self.crash:
            parts.append(f"internal error while grading: {self.crash}")
        for n in self.notebooks:
            prefix = f"{n.name}: " if len(self.notebooks) > 1 else ""
            if n.problem:
                parts.append(prefix + n.problem)
            parts.extend(prefix + a for a in n.attention)
            parts.extend(prefix + note for note in n.notes)
        parts.extend(self.notes)
        if self.not_saved:
            parts.append(self.not_saved)
        return "; ".join(parts)


def _check_failed_output(messages: list[str]) -> dict:
    text = "\n".join(messages)
    return nbformat.v4.new_output(
        "error", ename="CheckFailed", evalue=text, traceback=[f"CheckFailed: {m}" for m in messages]
    )


def _graded_notebook(
    canon: Canonical, run: rn.RunResult, scores: dict[str, CellScore]
) -> nbformat.NotebookNode:
    """The executed canonical notebook, with a ``CheckFailed`` error on each failed test."""
    nb = canon.nb
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell_run = run.cells.get(i)
        cell.outputs = [nbformat.from_dict(o) for o in (cell_run.outputs if cell_run else [])]
        cell.execution_count = cell_run.execution_count if cell_run else None
        gid = nbcells.grade_id(cell)
        score = scores.get(gid) if gid else None
        if score is None or score.manual or score.points == score.max_points:
            continue
        has_error = any(o.get("output_type") == "error" for o in cell.outputs)
        if not has_error or (cell_run and cell_run.status == rn.OK):
            cell.outputs.append(_check_failed_output(list(dict.fromkeys(score.student_messages))))
    return nb


def grade_notebook(job: SubmissionJob, nbjob: NotebookJob, scratch: Path) -> NotebookOutcome:
    """Grade one notebook of a submission (see the module docstring)."""
    start = time.monotonic()
    outcome = NotebookOutcome(name=nbjob.name, graded=False)
    found = submitted_files.find_notebook(
        job.submitted_dir, nbjob.name, [n.name for n in job.notebooks]
    )
    outcome.file = found.name
    if found.note:
        outcome.notes.append(found.note)
    if found.name is None:
        outcome.problem = f"{nbjob.name}.ipynb is missing from the submission"
        return outcome
    try:
        data = submitted_files.read_regular_file(
            job.submitted_dir, found.name, job.submitted_dir.parent.parent
        )
        student = parse_notebook(data, found.name)
    except FileNotFoundError:
        outcome.problem = f"{nbjob.name}.ipynb is missing from the submission"
        return outcome
    except submitted_files.RefusedFile as exc:
        outcome.problem = f"{exc}; the notebook was not graded"
        return outcome
    except OSError as exc:
        outcome.problem = f"{found.name} could not be read: {exc}"
        return outcome
    except UnreadableNotebook as exc:
        outcome.problem = str(exc)
        return outcome
    source = nbformat.read(str(nbjob.source_path), as_version=4)
    canon = canonicalise(source, student, nbjob.stubs)
    outcome.notes.extend(canon.notes)
    outcome.attention.extend(canon.tampering)
    outcome.answered = dict(canon.answered)

    run = rn.run_notebook(
        canon.nb, scratch / nbjob.name, job.limits, record=True, files_from=job.source_dir
    )
    outcome.seconds = time.monotonic() - start
    if run.failure:
        outcome.problem = f"{nbjob.name}.ipynb could not be graded: {run.failure}"
        return outcome
    if run.stopped:
        outcome.notes.append(run.stopped)
    junk = sum(c.junk_lines for c in run.cells.values())
    if junk:
        outcome.notes.append(f"{junk} unreadable line(s) in the answer record were ignored")

    blocked: dict[str, list[str]] = {}  # module -> cells that tried to import it
    for i, cell_run in sorted(run.cells.items()):
        for module in cell_run.blocked_imports:
            blocked.setdefault(module, []).append(canon.names.get(i, f"cell {i}"))
    for module, where in blocked.items():
        outcome.notes.append(
            f"{', '.join(dict.fromkeys(where))} imported {module}, "
            "the course's own implementation, which is not available when grading"
        )
    patched_seen = False
    scores: dict[str, CellScore] = {}
    for i, cell in enumerate(canon.nb.cells):
        if nbcells.is_test(cell):
            gid = nbcells.source_grade_id(cell)  # graded cells come from the source's skeleton
            reference = nbjob.reference.get(gid, CellReference(records=[]))
            test_run = run.cells.get(i)
            patched = test_run.patched if test_run is not None else []
            why = None
            if patched:
                why = (
                    f"no credit: {', '.join(patched)} had been changed by the submission's code "
                    "before this test ran"
                )
                if not patched_seen:
                    outcome.attention.append(
                        f"student code changed {', '.join(patched)}, which the tests rely on; "
                        f"'{gid}' and the tests after it got no credit"
                    )
                    patched_seen = True
            scores[gid] = score_test_cell(
                gid,
                nbcells.points(cell),
                test_run,
                reference,
                blocked=why,
                stopped=run.stopped,
            )
        elif nbcells.is_manual(cell):
            gid = nbcells.source_grade_id(cell)
            answered = canon.answered.get(gid, True) if nbcells.is_answer(cell) else True
            scores[gid] = CellScore(
                grade_id=gid,
                manual=True,
                max_points=nbcells.points(cell),
                points=None,
                answered=answered,
            )
    outcome.scores = list(scores.values())
    graded_nb = _graded_notebook(canon, run, scores)
    job.autograded_dir.mkdir(parents=True, exist_ok=True)
    target = job.autograded_dir / f"{nbjob.name}.ipynb"
    # A name of its own: another process grading the same student may be writing here too.
    fd, tmp = tempfile.mkstemp(dir=job.autograded_dir, prefix=f".{target.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        nbformat.write(graded_nb, fh)
    os.chmod(tmp, 0o644)  # as nbgrader leaves it (mkstemp makes it private)
    Path(tmp).replace(target)
    outcome.graded = True
    return outcome


def grade_submission(job: SubmissionJob) -> SubmissionResult:
    """Grade every notebook of one submission; never raises (see the module docstring)."""
    start = time.monotonic()
    result = SubmissionResult(assignment=job.assignment, student=job.student, notebooks=[])
    try:
        with tempfile.TemporaryDirectory(prefix=f"coursekit-{job.student}-") as tmp:
            for nbjob in job.notebooks:
                result.notebooks.append(grade_notebook(job, nbjob, Path(tmp)))
        graded = [n.file for n in result.notebooks if n.file]
        extra = submitted_files.extra_notebooks(job.submitted_dir, graded)
        if extra:
            result.notes.append(
                f"not graded: {', '.join(extra)} (the assignment has "
                f"{', '.join(n.name + '.ipynb' for n in job.notebooks)} only)"
            )
        _copy_companions(job)
    except Exception as exc:  # a grader bug must not take the batch down
        where = traceback.extract_tb(exc.__traceback__)[-1]
        result.crash = (
            f"{type(exc).__name__}: {exc} (in {Path(where.filename).name}, line {where.lineno})"
        )
    result.seconds = time.monotonic() - start
    return result


def _copy_companions(job: SubmissionJob) -> None:
    """Copy the submission timestamp and the assignment's data files next to the graded
    notebooks, as ``nbgrader autograde`` does (formgrader and feedback read them there)."""
    if not job.autograded_dir.is_dir():
        return
    try:
        stamp = submitted_files.read_regular_file(
            job.submitted_dir, "timestamp.txt", job.submitted_dir.parent.parent
        )
    except (OSError, submitted_files.RefusedFile):
        stamp = None  # missing or not a plain file: no submission time
    if stamp is not None:
        (job.autograded_dir / "timestamp.txt").write_bytes(stamp)
    for path in job.source_dir.rglob("*"):
        rel = path.relative_to(job.source_dir)
        if path.is_file() and path.suffix != ".ipynb" and ".ipynb_checkpoints" not in rel.parts:
            dest = job.autograded_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
