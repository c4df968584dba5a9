"""Score test cells by comparing recorded answers with the reference solution's answers.

The rule, for one test cell worth ``p`` points:

    score = p  if the cell ran without an error **and** every check the reference solution
               recorded in this cell was recorded by the submission, the same number of
               times, with an answer that :func:`coursekit.checks.compare` accepts under the
               reference's tolerances;
    score = 0  otherwise.

There is no partial credit inside a cell (nbgrader's rule of crediting a number printed by the
cell is not used), output on stderr and warnings never matter, and answers recorded for keys
the reference does not know are ignored. The comparison runs in the grader's process, so
nothing a submission does inside its kernel can change the verdict.

Messages come in two versions: one for the instructor (every detail) and one that can be shown
to the student (a failed *hidden* check is reported without its key or values).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from coursekit.checks import compare, decode_answer
from coursekit.grading import runner as rn

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """Remove terminal colour codes (IPython tracebacks are coloured)."""
    return _ANSI.sub("", text)


@dataclass
class CellReference:
    """What the reference solution recorded in one test cell."""

    records: list[dict[str, Any]]
    hidden_keys: list[str] = field(default_factory=list)


@dataclass
class CellScore:
    """The verdict for one graded cell.

    Attributes:
        grade_id: the cell's nbgrader id.
        manual: True for cells a person grades (points is then None).
        max_points: what the cell is worth.
        points: points earned (None until a person grades a manual cell).
        messages: why points were lost, for the instructor.
        student_messages: the same without hidden-test details, for feedback.
        answered: for manual cells, whether the answer differs from the released stub.
    """

    grade_id: str
    manual: bool
    max_points: float
    points: float | None
    messages: list[str] = field(default_factory=list)
    student_messages: list[str] = field(default_factory=list)
    answered: bool = True


def error_summary(outputs: list[dict[str, Any]]) -> str | None:
    """``"Name: message"`` of the first error output, or None."""
    for out in outputs:
        if out.get("output_type") == "error":
            name, value = out.get("ename", "Error"), strip_ansi(str(out.get("evalue", "")))
            return f"{name}: {value}" if value else name
    return None


def _decode(record: dict[str, Any]) -> Any:
    return decode_answer(record["answer"])


def score_test_cell(
    grade_id: str,
    max_points: float,
    run: rn.CellRun | None,
    reference: CellReference,
    *,
    blocked: str | None = None,
    stopped: str | None = None,
) -> CellScore:
    """Score one test cell (see the module docstring for the rule).

    Args:
        grade_id: the test cell's id.
        max_points: its points.
        run: what the runner reported for it (None if it was never reached).
        reference: the reference solution's records for this cell.
        blocked: a reason to give no credit regardless (what the tests rely on was changed).
        stopped: why execution stopped early, if it did.
    """
    score = CellScore(grade_id=grade_id, manual=False, max_points=max_points, points=0.0)

    def fail(message: str, student_message: str | None = None) -> CellScore:
        score.messages.append(message)
        score.student_messages.append(student_message or message)
        return score

    if blocked:
        return fail(blocked)
    if run is None or run.status == rn.NOT_RUN:
        return fail(f"the cell was not run ({stopped or 'execution stopped before it'})")
    if run.status == rn.TIMEOUT:
        return fail(error_summary(run.outputs) or "the cell did not finish in time")
    if run.status == rn.KERNEL_DIED:
        return fail("the kernel died while this cell ran (it may have used too much memory)")
    if run.status == rn.ERROR:
        return fail(f"the cell raised {error_summary(run.outputs) or 'an error'}")

    expected: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in reference.records:
        expected[record["key"]].append(record)
    got: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in run.records:
        if record.get("key") in expected:
            got[record["key"]].append(record)

    hidden = set(reference.hidden_keys)
    for key, exp_records in expected.items():
        mine = got.get(key, [])
        secret = key in hidden
        hidden_msg = "a hidden check did not match the reference answer"
        if len(mine) != len(exp_records):
            if not mine:
                fail(f"check {key!r} was not recorded", hidden_msg if secret else None)
            else:
                fail(
                    f"check {key!r} was recorded {len(mine)} times, expected {len(exp_records)}",
                    hidden_msg if secret else None,
                )
            continue
        for exp, act in zip(exp_records, mine):
            try:
                ok, why = compare(
                    _decode(act),
                    _decode(exp),
                    rtol=float(exp.get("rtol", 1e-7)),
                    atol=float(exp.get("atol", 1e-9)),
                )
            except Exception as exc:  # a malformed record is a wrong answer, not a grader crash
                ok, why = False, f"the recorded answer could not be read ({type(exc).__name__})"
            if not ok:
                fail(f"check {key!r}: {why}", hidden_msg if secret else None)
                break
    if not score.messages:
        score.points = max_points
    return score
