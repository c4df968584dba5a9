"""What an nbgrader cell is, read from its metadata, and the regions inside its source.

nbgrader marks cells with ``cell.metadata["nbgrader"]``. The grader only needs four kinds:

* an **answer cell** (``solution: true``) holds the student's work. If it also has
  ``grade: true`` it is graded by a person (a written answer or hand-graded code);
* a **test cell** (``grade: true``, ``solution: false``, a code cell) is graded automatically;
* a **task cell** (``task: true``, markdown) is graded by a person;
* everything else (read-only instructions, set-up code) is simply part of the notebook.

Test cells may contain a hidden region between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS``; answer cells in the source notebook contain the solution between
``### BEGIN SOLUTION`` and ``### END SOLUTION``.
"""

from __future__ import annotations

import ast
import re
import threading
from typing import Any

BEGIN_SOLUTION = "BEGIN SOLUTION"
END_SOLUTION = "END SOLUTION"
BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"


# CPython 3.11's ast.parse is not safe to call from two threads at once: it can fail with
# "SystemError: AST constructor recursion depth mismatch" (CPython issue gh-106905). The grader
# runs the reference notebook's modes in threads, each of which parses cells, so every parse in
# the grader goes through this lock.
_PARSE_LOCK = threading.Lock()


def parse_python(text: str) -> ast.Module:
    """``ast.parse(text)``, one thread at a time (see ``_PARSE_LOCK``).

    Raises:
        SyntaxError: if ``text`` is not valid Python.
    """
    with _PARSE_LOCK:
        return ast.parse(text)


def nbgrader_meta(cell: Any) -> dict[str, Any]:
    """The cell's nbgrader metadata, or an empty dict for a plain cell."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: Any) -> str | None:
    """The cell's nbgrader ``grade_id`` (its name in the gradebook), if any."""
    value = nbgrader_meta(cell).get("grade_id")
    return value if isinstance(value, str) and value else None


def source_grade_id(cell: Any) -> str:
    """The ``grade_id`` of a graded or answer cell of an instructor's source notebook.

    Such a cell always has one: nbgrader's release refuses a graded or answer cell without a
    non-empty ``grade_id``, and grading, feedback and the reference run only on a released
    assignment (``batch._ensure_released`` releases it first when the gradebook differs).
    """
    value = grade_id(cell)
    assert value is not None, "a released source's graded and answer cells have a grade_id"
    return value


def points(cell: Any) -> float:
    """The points a graded cell is worth (0 for ungraded cells)."""
    meta = nbgrader_meta(cell)
    if not (meta.get("grade") or meta.get("task")):
        return 0.0
    try:
        return float(meta.get("points", 0))
    except (TypeError, ValueError):
        return 0.0


def is_answer(cell: Any) -> bool:
    """True for a cell the student writes in (nbgrader ``solution`` cell)."""
    return bool(nbgrader_meta(cell).get("solution"))


def is_test(cell: Any) -> bool:
    """True for an autograded test cell: a graded code cell that is not an answer cell."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_manual(cell: Any) -> bool:
    """True for a cell whose points a person assigns: a graded answer cell or a task cell."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("task")) or (bool(meta.get("grade")) and bool(meta.get("solution")))


def is_graded(cell: Any) -> bool:
    """True for every cell that carries points (test, graded answer or task cell)."""
    return is_test(cell) or is_manual(cell)


def source_text(cell: Any) -> str:
    """The cell source as one string (notebooks on disk may store it as a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def split_region(source: str, begin: str, end: str) -> tuple[str, list[str]]:
    """Split ``source`` into the text outside a delimited region and the lines inside it.

    The delimiter lines themselves belong to neither part. An unterminated region runs to the
    end of the cell (that is how a broken source would leak, so it counts as inside).

    Returns:
        ``(outside, inside_lines)``.
    """
    outside: list[str] = []
    inside: list[str] = []
    in_region = False
    for line in source.split("\n"):
        if begin in line:
            in_region = True
        elif end in line:
            in_region = False
        elif in_region:
            inside.append(line)
        else:
            outside.append(line)
    return "\n".join(outside), inside


def split_hidden(source: str) -> tuple[str, list[str]]:
    """``(visible source, hidden lines)`` of a test cell."""
    return split_region(source, BEGIN_HIDDEN, END_HIDDEN)


def has_hidden(source: str) -> bool:
    """True if the source contains a hidden-tests region."""
    return BEGIN_HIDDEN in source


def meaningful_lines(lines: list[str]) -> list[str]:
    """Stripped lines that identify code: not blank, not only a comment, not a lone bracket.

    Used to look for leaked solution or hidden-test lines; a line like ``)`` or ``pass`` says
    nothing about the solution, so it is left out.
    """
    keep = []
    for line in lines:
        text = line.strip()
        if len(text) < 4 or text.startswith("#") or text in {"pass", "else:", "try:", "return"}:
            continue
        keep.append(text)
    return keep


def to_python(source: str) -> str:
    """Turn IPython cell syntax (``%magic``, ``!shell``) into plain Python for :mod:`ast`."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython always comes with ipykernel
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # a cell IPython cannot transform will not run either
        return source


_DEF_RE = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)


def defined_names(source: str) -> set[str]:
    """Names of the functions and classes a cell defines at top level.

    Falls back to a regular expression when the cell does not parse, so a submission with a
    syntax error can still be matched to the task it answers.
    """
    try:
        tree = parse_python(to_python(source))
    except SyntaxError:
        return set(_DEF_RE.findall(source))
    return {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
