"""A static check on the student's code (answer cells and added cells), run before anything
is executed: **tampering with the answer checks**.

Test cells call ``check(...)`` from :mod:`coursekit.checks`; student code that rebinds ``check``
or touches the answer record changes what the tests measure. The grader still scores such a
submission but marks it as needing a person's attention.

This is a lint, not a sandbox: code built at run time (``exec`` of a computed string) is not
seen, and nothing depends on it alone. Grading mode does not need ``check`` to be genuine
(answers are compared in the grader's process against the reference solution's, and test
cells are blinded); the lint only tells the instructor that someone tried. The rule that the
course's own implementation earns no credit is enforced when the code runs
(:mod:`coursekit.grading.kernel_harness`), not here.
"""

from __future__ import annotations

import ast

from coursekit.checks import RECORD_ENV
from coursekit.grading.cells import parse_python, to_python

CHECK_NAMES = ("check", "check_raises", "compare", "encode_answer", "decode_answer", "_record")
"""Names in :mod:`coursekit.checks` a test depends on; rebinding them changes the tests."""


def _parse(source: str) -> ast.AST | None:
    try:
        return parse_python(to_python(source))
    except SyntaxError:
        return None  # a cell that does not parse does not run, so it cannot import anything


def _top_level_nodes(tree: ast.AST):
    """Walk a tree without entering function, class or lambda bodies."""
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def check_tampering(source: str) -> list[str]:
    """Describe every way a cell interferes with the answer checks (empty list: none).

    Flagged: binding one of :data:`CHECK_NAMES` at top level (except importing the genuine
    one from :mod:`coursekit.checks`), ``global`` declarations of those names, assigning an
    attribute of that name anywhere, ``setattr`` with that name, and any mention of the
    answer-record environment variable.
    """
    tree = _parse(source)
    if tree is None:
        return []
    found: list[str] = []
    for node in _top_level_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name in CHECK_NAMES:
                found.append(f"defines {node.name}()")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            if node.id in CHECK_NAMES:
                found.append(f"assigns to {node.id}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            genuine = isinstance(node, ast.ImportFrom) and node.module == "coursekit.checks"
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound in CHECK_NAMES and not (genuine and alias.asname in (None, alias.name)):
                    found.append(f"binds {bound} by an import")
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            for name in node.names:
                if name in CHECK_NAMES:
                    found.append(f"declares global {name}")
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            if node.attr in CHECK_NAMES or node.attr == "RECORD_ENV":
                found.append(f"assigns to the attribute .{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("setattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in (*CHECK_NAMES, "RECORD_ENV")
        ):
            found.append(f"calls {node.func.id}(..., {node.args[1].value!r})")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and RECORD_ENV in node.value
        ):
            found.append(f"mentions {RECORD_ENV}")
    return sorted(set(found))
