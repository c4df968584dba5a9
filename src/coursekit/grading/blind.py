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
from typing import Any, Sequence

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
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        if any(a.name == "*" for a in stmt.names):
            return None
        return {a.asname or a.name.split(".")[0] for a in stmt.names}
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


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _nested_statements(stmt: ast.stmt):
    """Statements inside the blocks of a compound statement (``for``, ``if``, ``with``, ``try``,
    ``while``), at any depth, not entering function or class bodies."""
    for name in ("body", "orelse", "finalbody", "handlers"):
        for child in getattr(stmt, name, []) or []:
            if isinstance(child, ast.ExceptHandler):
                yield from _block(child.body)
            elif isinstance(child, ast.stmt):
                yield child
                if not isinstance(child, _SCOPES):
                    yield from _nested_statements(child)


def _block(body: list[ast.stmt]):
    for child in body:
        yield child
        if not isinstance(child, _SCOPES):
            yield from _nested_statements(child)


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _declared(func: ast.AST) -> set[str]:
    """Names a function declares ``global`` or ``nonlocal`` (never removed inside it)."""
    names: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


class _Liveness:
    """Which statements of the instructor's test cells only compute expected values.

    A statement is *removable* if it only binds names (an assignment to plain names, an
    import, an undecorated function or class definition). It is removed when every name it
    binds was read before blinding (so it existed to compute something) and is read no more:

    * inside a function of a test cell, if the function no longer reads the name anywhere
      (a function's names are its own, so where in the function does not matter);
    * at the top level, if no later statement of an instructor cell reads it before it is
      bound again (statements run in notebook order), and no function still defined reads it.

    Removing one statement can make others removable (the helper that computed a removed
    value), so this repeats until nothing changes. Answer cells are not looked at: what is
    removed depends only on the instructor's cells, so the reference solution and every
    submission run the same test code, and an answer cell that reads an expected value finds
    it undefined.
    """

    def __init__(self, cells: list[tuple[int, ast.Module, bool]], skip: set[int]):
        self.cells = cells  # (cell index, tree, is a test cell), in notebook order
        self.skip = skip
        self.removed: set[int] = set()
        self.owner: dict[int, int] = {}
        self.nodes: dict[int, ast.stmt] = {}
        self.read_before = set()
        for _, tree, _ in cells:
            self.read_before |= _reads(tree, set())

    def _live_reads(self, node: ast.AST) -> set[str]:
        return _reads(node, self.skip | self.removed)

    def _remove(self, index: int, stmt: ast.stmt) -> None:
        self.removed.add(id(stmt))
        self.owner[id(stmt)] = index
        self.nodes[id(stmt)] = stmt

    def _function_pass(self, index: int, tree: ast.Module) -> bool:
        changed = False
        for func in _functions(tree):
            if id(func) in self.removed:
                continue
            declared = _declared(func)
            before = _reads(func, set())
            for stmt in _block(func.body):
                if id(stmt) in self.removed:
                    continue
                bound = _bound_names(stmt)
                if not bound or bound & declared or not bound & before:
                    continue
                # The function's names are its own: read anywhere else in it, it stays.
                if not bound & _reads(func, self.skip | self.removed | {id(stmt)}):
                    self._remove(index, stmt)
                    changed = True
        return changed

    def _module_pass(self) -> bool:
        changed = False
        # Globals that a function still defined reads: live everywhere (it may be called later).
        from_functions: set[str] = set()
        for _, tree, _ in self.cells:
            for stmt in tree.body:
                if (
                    isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                    and id(stmt) not in self.removed
                ):
                    from_functions |= self._live_reads(stmt)
        flat = [(index, stmt, test) for index, tree, test in self.cells for stmt in tree.body]
        live: set[str] = set()
        for index, stmt, test in reversed(flat):
            if id(stmt) in self.removed:
                continue
            bound = _bound_names(stmt)
            if test and bound and bound & self.read_before and not bound & (live | from_functions):
                self._remove(index, stmt)
                changed = True
                continue
            if test and not isinstance(stmt, _SCOPES):
                # Blocks of a top-level loop, ``with`` or ``if``: a statement there is removed
                # if nothing else in the block or after it reads what it binds.
                for inner in _nested_statements(stmt):
                    if id(inner) in self.removed:
                        continue
                    inner_bound = _bound_names(inner)
                    if not inner_bound or not inner_bound & self.read_before:
                        continue
                    rest = _reads(stmt, self.skip | self.removed | {id(inner)})
                    if not inner_bound & (rest | live | from_functions):
                        self._remove(index, inner)
                        changed = True
            if bound:
                live -= bound  # bound again here: what came before is not read through it
            live |= self._live_reads(stmt)
        return changed

    def run(self) -> dict[int, list[ast.stmt]]:
        changed = True
        while changed:
            changed = False
            for index, tree, test in self.cells:
                if test and self._function_pass(index, tree):
                    changed = True
            if self._module_pass():
                changed = True
        removed: dict[int, list[ast.stmt]] = {}
        for key, index in self.owner.items():
            removed.setdefault(index, []).append(self.nodes[key])
        return removed


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


def is_student_code(cell: Any) -> bool:
    """True for cells whose code the student wrote: answer cells and cells the student added
    (marked by :mod:`coursekit.grading.canonical`)."""
    return nbcells.is_answer(cell) or bool(cell.get("metadata", {}).get(ADDED_KEY))


ADDED_KEY = "coursekit_added"
"""Metadata key of a code cell the student added to the notebook (run, never graded)."""


def blind_notebook(nb: nbformat.NotebookNode) -> Blinded:
    """Blind every instructor-written code cell of ``nb`` (see the module docstring).

    ``nb`` is not modified. A cell that does not parse as plain Python (IPython magics) is
    left as it is.
    """
    result = Blinded(nb=copy.deepcopy(nb))
    parsed: dict[int, tuple[str, ast.Module]] = {}
    for i, cell in enumerate(result.nb.cells):
        if cell.cell_type != "code" or is_student_code(cell):
            continue
        text = nbcells.source_text(cell)
        try:
            parsed[i] = (text, nbcells.parse_python(text))
        except SyntaxError:
            continue
    check_names = _check_names([tree for _, tree in parsed.values()])
    expected = {i: _expected_nodes(tree, check_names) for i, (_, tree) in parsed.items()}
    skip = {id(node) for nodes in expected.values() for node in nodes}
    cells = [(i, tree, nbcells.is_test(result.nb.cells[i])) for i, (_, tree) in parsed.items()]
    removed = _Liveness(cells, skip).run()

    for i, (text, _) in parsed.items():
        edits = [(node, "None") for node in expected[i]] + [
            (stmt, "pass") for stmt in removed.get(i, [])
        ]
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


def _apply(text: str, edits: Sequence[tuple[ast.expr | ast.stmt, str]]) -> str:
    """Replace each node's text with ``replacement`` plus its line breaks (line count kept)."""
    lines = text.splitlines(keepends=True) or [""]
    starts = _offsets(text)
    spans = []
    for node, replacement in edits:
        # Parsed expressions and statements always carry their end position.
        assert node.end_lineno is not None and node.end_col_offset is not None
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
