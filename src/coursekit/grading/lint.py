"""Static checks on a student's answer cells, run before anything is executed.

Two things are looked for in the syntax tree of each answer cell:

* **Use of the course's reference implementation.** ``coursekit`` ships working versions of
  what the assignments ask students to write (activations, losses, layers, ...). An answer
  that imports them has not done the task, so the grader gives the task's tests no credit and
  says which cell did it. Every way of reaching a module by name counts: ``import``,
  ``from ... import``, ``__import__``/``importlib`` with the module name as a string, and
  ``import coursekit`` followed by attribute access.
* **Tampering with the answer checks.** Test cells call ``check(...)`` from
  :mod:`coursekit.checks`; an answer cell that rebinds ``check`` or touches the answer record
  changes what the tests measure. The grader still scores such a submission but marks it as
  needing a person's attention.

This is a lint, not a sandbox: code built at run time (``exec`` of a computed string) is not
seen. Isolation of the running code is the runner's job.
"""

from __future__ import annotations

import ast
import re

from coursekit.checks import RECORD_ENV
from coursekit.grading.cells import parse_python, to_python

REFERENCE_MODULES = ("activations", "losses", "nn", "engine", "gradcheck", "optim")
"""``coursekit`` modules holding reference implementations of assignment tasks."""

CHECK_NAMES = ("check", "check_raises", "compare", "encode_answer", "decode_answer", "_record")
"""Names in :mod:`coursekit.checks` a test depends on; rebinding them changes the tests."""

_MODULE_RE = re.compile(r"^coursekit\.(%s)(\.|$)" % "|".join(REFERENCE_MODULES))


def _parse(source: str) -> ast.AST | None:
    try:
        return parse_python(to_python(source))
    except SyntaxError:
        return None  # a cell that does not parse does not run, so it cannot import anything


def _reference_module(dotted: str) -> str | None:
    """``"coursekit.losses.x"`` -> ``"coursekit.losses"``; None for anything else."""
    match = _MODULE_RE.match(dotted)
    return f"coursekit.{match.group(1)}" if match else None


def reference_modules_used(source: str) -> set[str]:
    """The ``coursekit`` reference modules a cell reaches, e.g. ``{"coursekit.losses"}``."""
    tree = _parse(source)
    if tree is None:
        return set()
    used: set[str] = set()
    package_aliases: set[str] = set()  # names bound to the coursekit package itself
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                module = _reference_module(alias.name)
                if module:
                    used.add(module)
                elif alias.name == "coursekit":
                    package_aliases.add(alias.asname or "coursekit")
                elif alias.name.startswith("coursekit.") and alias.asname is None:
                    package_aliases.add("coursekit")  # "import coursekit.data" binds "coursekit"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            module = _reference_module(node.module)
            if module:
                used.add(module)
            elif node.module == "coursekit":
                for alias in node.names:
                    if alias.name in REFERENCE_MODULES:
                        used.add(f"coursekit.{alias.name}")
                    elif alias.name == "*":
                        used.add("coursekit (star import)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # __import__("coursekit.nn"), importlib.import_module("coursekit.nn"),
            # sys.modules["coursekit.nn"]: the module name has to appear as a string.
            module = _reference_module(node.value.strip())
            if module:
                used.add(module)
        elif isinstance(node, ast.Call):
            used |= _dynamic_package_import(node)
    if package_aliases:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in package_aliases
                and node.attr in REFERENCE_MODULES
            ):
                used.add(f"coursekit.{node.attr}")
    return used


def _dynamic_package_import(call: ast.Call) -> set[str]:
    """``__import__("coursekit", fromlist=["nn"])`` and friends."""
    strings = [
        n.value for n in ast.walk(call) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    if "coursekit" not in strings:
        return set()
    return {f"coursekit.{s}" for s in strings if s in REFERENCE_MODULES}


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
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and RECORD_ENV in node.value:
            found.append(f"mentions {RECORD_ENV}")
    return sorted(set(found))
