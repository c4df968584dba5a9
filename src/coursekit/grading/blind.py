"""Test cells as the grader runs them: without the expected values.

In grading mode ``check(key, answer, expected)`` only records ``answer``; the grader compares
it with the reference solution's answer in its own process. But a test cell still *computes*
``expected`` inside the student's kernel and hands it to ``check``. Code in an answer cell can
replace ``check`` at run time (``exec`` of a built string, ``check.__code__ = ...``, a frame
hook: nothing the lint of answer cells can see) with a function that records ``expected``
instead of ``answer``, and would then pass every test, the hidden ones included.

So before a notebook runs in grading mode, the code cells that are not answer cells are
*blinded*:

1. every call ``check(key, answer, expected, ...)`` gets ``None`` in place of ``expected``;
2. in test cells, a top-level assignment or function definition whose names were read before
   step 1 but are no longer read anywhere (outside answer cells) is removed, until nothing more
   can be removed: the statements that existed only to compute expected values
   (``numeric = numerical_gradient(...)``, ``ref_theta, ref_losses = _reference_descent(...)``,
   then the helper ``_reference_descent`` itself).

The line count of every cell is kept (a removed statement becomes ``pass`` and blank lines),
so line numbers in tracebacks stay right, and :func:`restore_outputs` puts the original text
of a changed line back into error messages, so that feedback recognises and hides hidden-test
lines exactly as before.

Which statements are removed depends only on the cells the instructor wrote, never on the
answer cells, so the reference solution and every submission run the same test code. An answer
cell that reads a variable of a later test cell's expected values finds it undefined.

What blinding cannot hide: answers a student can guess without computing them (a check that
some condition is ``True``, that an error is raised, that a shape is ``(3, 4)``), and the
visible tests, which students have. A check whose expected value reaches ``check`` by another
route (a variable that is also an input, ``check(*args)``) keeps it.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field
from typing import Any

import nbformat

from coursekit.grading import cells as nbcells

CHECKS_MODULE = "coursekit.checks"
EXPECTED_POSITION = 2  # check(key, actual, expected, ...)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class Blinded:
    """A blinded notebook and how to undo the change in its error messages.

    Attributes:
        nb: the notebook to run.
        originals: ``{stripped changed line: stripped original line}``.
        changed_cells: indices of the cells whose source was changed.
    """

    nb: nbformat.NotebookNode
    originals: dict[str, str] = field(default_factory=dict)
    changed_cells: list[int] = field(default_factory=list)


def _offsets(source: str) -> list[int]:
    """Character index of the start of every line (1-based line numbers index it as n - 1)."""
    starts, pos = [], 0
    for line in source.splitlines(keepends=True):
        starts.append(pos)
        pos += len(line)
    starts.append(pos)
    return starts


def _index(source_lines: list[str], starts: list[int], lineno: int, col_byte: int) -> int:
    """Character index in the source of an AST position (``col_offset`` counts UTF-8 bytes)."""
    line = source_lines[lineno - 1]
    prefix = line.encode("utf-8")[:col_byte].decode("utf-8", errors="ignore")
    return starts[lineno - 1] + len(prefix)


def _check_names(trees: list[ast.AST]) -> set[str]:
    """Names bound to :func:`coursekit.checks.check` by imports in the instructor's cells."""
    names = {"check"}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == CHECKS_MODULE:
                names.update(a.asname or a.name for a in node.names if a.name == "check")
    return names


def _expected_nodes(tree: ast.AST, check_names: set[str]) -> list[ast.expr]:
    """The ``expected`` argument of every ``check`` call in ``tree``."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        is_check = (isinstance(func, ast.Name) and func.id in check_names) or (
            isinstance(func, ast.Attribute) and func.attr == "check"
        )
        if not is_check:
            continue
        positional = node.args[: EXPECTED_POSITION + 1]
        if any(isinstance(a, ast.Starred) for a in positional):
            continue
        if len(node.args) > EXPECTED_POSITION:
            found.append(node.args[EXPECTED_POSITION])
        found.extend(k.value for k in node.keywords if k.arg == "expected")
    return found


def _reads(node: ast.AST, skip: set[int]) -> set[str]:
    """Names read (or deleted) anywhere in ``node``, not looking inside nodes in ``skip``."""
    names: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in skip:
            continue
        if isinstance(current, ast.Name) and isinstance(current.ctx, (ast.Load, ast.Del)):
            names.add(current.id)
        stack.extend(ast.iter_child_nodes(current))
    return names


def _bound_names(stmt: ast.stmt) -> set[str] | None:
    """Names a removable statement binds, or None if it may not be removed."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return None if stmt.decorator_list else {stmt.name}
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return {stmt.target.id} if stmt.value is not None else None
    if isinstance(stmt, ast.Assign):
        names: set[str] = set()
        for target in stmt.targets:
            parts = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
            for part in parts:
                if isinstance(part, ast.Starred):
                    part = part.value
                if not isinstance(part, ast.Name):
                    return None  # x[0] = ..., obj.attr = ...: changes something that exists
                names.add(part.id)
        return names
    return None


def _hidden_lines(source: str) -> set[int]:
    """0-based numbers of the lines inside a hidden-tests region."""
    inside, hidden = False, set()
    for n, line in enumerate(source.split("\n")):
        if nbcells.BEGIN_HIDDEN in line:
            inside = True
        elif nbcells.END_HIDDEN in line:
            inside = False
        elif inside:
            hidden.add(n)
    return hidden


def blind_notebook(nb: nbformat.NotebookNode) -> Blinded:
    """Blind every instructor-written code cell of ``nb`` (see the module docstring).

    ``nb`` is not modified. A cell that does not parse as plain Python (IPython magics) is
    left as it is.
    """
    result = Blinded(nb=copy.deepcopy(nb))
    parsed: dict[int, tuple[str, ast.Module]] = {}
    for i, cell in enumerate(result.nb.cells):
        if cell.cell_type != "code" or nbcells.is_answer(cell):
            continue
        text = nbcells.source_text(cell)
        try:
            parsed[i] = (text, nbcells.parse_python(text))
        except SyntaxError:
            continue
    check_names = _check_names([tree for _, tree in parsed.values()])
    expected = {i: _expected_nodes(tree, check_names) for i, (_, tree) in parsed.items()}
    skip = {id(node) for nodes in expected.values() for node in nodes}

    # Names read anywhere before blinding: a statement is removed only if everything it binds
    # was read before and is read no more. One whose names were never read is kept, since it
    # exists for its side effect (``losses = model.fit(X, y)`` trains the model a later check
    # looks at).
    read_before: set[str] = set()
    for _, tree in parsed.values():
        read_before |= _reads(tree, set())
    removed: dict[int, list[ast.stmt]] = {i: [] for i in parsed}
    changed = True
    while changed:
        changed = False
        reads: set[str] = set()
        for i, (_, tree) in parsed.items():
            for stmt in tree.body:
                if stmt not in removed[i]:
                    reads |= _reads(stmt, skip)
        for i, (_, tree) in parsed.items():
            if not nbcells.is_test(result.nb.cells[i]):
                continue
            for stmt in tree.body:
                if stmt in removed[i]:
                    continue
                bound = _bound_names(stmt)
                if bound and bound <= read_before and not (bound & reads):
                    removed[i].append(stmt)
                    changed = True

    for i, (text, _) in parsed.items():
        edits = [(node, "None") for node in expected[i]] + [(stmt, "pass") for stmt in removed[i]]
        if not edits:
            continue
        new = _apply(text, edits)
        try:
            nbcells.parse_python(new)
        except SyntaxError:  # pragma: no cover - the edits keep valid syntax by construction
            continue
        result.nb.cells[i].source = new
        result.changed_cells.append(i)
        hidden = _hidden_lines(text)
        old_lines, new_lines = text.split("\n"), new.split("\n")
        for n, (old, line) in enumerate(zip(old_lines, new_lines)):
            key = line.strip()
            if old == line or len(key) < 4 or key == "pass":
                continue
            # Two original lines blinded to the same text: keep a hidden one, so that a
            # traceback quoting it is still recognised as hidden.
            if key not in result.originals or n in hidden:
                result.originals[key] = old.strip()
    return result


def _apply(text: str, edits: list[tuple[ast.AST, str]]) -> str:
    """Replace each node's text with ``replacement`` plus its line breaks (line count kept)."""
    lines = text.splitlines(keepends=True) or [""]
    starts = _offsets(text)
    spans = []
    for node, replacement in edits:
        start = _index(lines, starts, node.lineno, node.col_offset)
        end = _index(lines, starts, node.end_lineno, node.end_col_offset)
        spans.append((start, end, replacement))
    # Removed statements may contain expected arguments: drop spans nested in another span.
    spans.sort(key=lambda s: (s[0], -s[1]))
    kept: list[tuple[int, int, str]] = []
    for span in spans:
        if kept and span[0] < kept[-1][1]:
            continue
        kept.append(span)
    for start, end, replacement in reversed(kept):
        text = text[:start] + replacement + "\n" * text[start:end].count("\n") + text[end:]
    return text


def restore_outputs(outputs: list[dict[str, Any]], blinded: Blinded | None) -> list[dict[str, Any]]:
    """Put the original text of blinded lines back into error messages and stderr.

    A traceback entry that quotes a changed line loses its colour codes (the replacement is
    made in plain text).
    """
    if blinded is None or not blinded.originals:
        return outputs

    def fix(text: str) -> str:
        plain = _ANSI.sub("", text)
        hits = [key for key in blinded.originals if key in plain]
        if not hits:
            return text
        for key in sorted(hits, key=len, reverse=True):
            plain = plain.replace(key, blinded.originals[key])
        return plain

    fixed = []
    for out in outputs:
        out = dict(out)
        if out.get("output_type") == "error":
            out["traceback"] = [fix(entry) for entry in out.get("traceback", [])]
            out["evalue"] = fix(str(out.get("evalue", "")))
        elif out.get("output_type") == "stream" and out.get("name") == "stderr":
            out["text"] = fix(out.get("text", ""))
        fixed.append(out)
    return fixed
