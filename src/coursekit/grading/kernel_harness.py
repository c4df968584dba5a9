"""The grader's side inside the student's kernel: imports, ``exit()`` and what the tests rely on.

Installed into the kernel at start-up (:func:`install_line`), before any cell runs. The
executor (:mod:`coursekit.grading.executor`) calls :func:`enter` silently before every cell,
saying whose cell comes next, and reads back what it returns.

**Imports of coursekit.** ``coursekit`` ships working versions of what the assignments ask
students to write. While a student's cell runs (an answer cell or a cell the student added),
importing any ``coursekit`` module other than those the assignment's own cells import (the
*allowed* modules: the answer checks, the data sets, the plotting helpers) raises an
:class:`ImportError` that says so, however the import is spelled (``import``, ``from ...
import``, ``importlib.import_module`` of a built string, ``exec`` of decoded text): all of them
end in :data:`sys.meta_path`. Each refused import is also written to the answer record, so the
grader names it in the reason even when the student's code catches the error. In the grading
sandbox the other modules' files are not even there (:mod:`coursekit.grading.sandbox`); this
gate is what gives the clear message, and what ``coursekit validate`` enforces on a student's
own machine.

**exit() and quit().** In a kernel they shut the kernel down once the cell ends, and when that
happens relative to the next cell varied from run to run. Here they raise :class:`ExitCalled`
at once; the executor then stops the notebook as Restart & Run All does, so the same
submission always gets the same score.

**What the tests rely on.** When the first student cell is about to run, :func:`enter` records
the identity of every public function and class of NumPy and its loaded submodules (with the
members of its classes and the code of its functions), the builtins, :mod:`coursekit.checks`
and the modules, functions and classes the instructor's set-up cells bound. Before each test
cell it reports which of them changed since (``np.errstate = ...`` in an answer cell disarms the
overflow tests); the grader gives that test cell no credit and names the change.

Student code runs in the same process and could undo any of this; the grader does not rely on
it for anything the sandbox or its own process decides (the comparison of answers, the files
that exist), only for messages and for noticing tampering.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import types
from typing import Any

MODULE = "coursekit.grading.kernel_harness"
EXIT_ENAME = "ExitCalled"
ALWAYS_ALLOWED = (
    "coursekit",
    "coursekit.checks",
    "coursekit.grading",
    "coursekit.grading.kernel_output",
    MODULE,
)
"""Modules the kernel needs whatever the assignment imports (the package and the grader's
kernel-side modules, none of which holds a reference implementation)."""

_SKIP_BUILTINS = {
    "_", "__", "___", "exit", "quit", "get_ipython", "display", "__IPYTHON__", "__builtins__",
    "copyright", "credits", "license", "help", "In", "Out",
}  # fmt: skip
"""Builtins IPython itself sets or swaps around every execution."""


class ExitCalled(Exception):
    """``exit()`` or ``quit()`` was called in a cell being graded."""


class _Gate:
    """A :data:`sys.meta_path` finder that refuses coursekit modules outside the allow-list."""

    def __init__(self, allowed: set[str], record: str | None):
        self.allowed = allowed
        self.record = record
        self.student = False

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if not self.student or not (fullname == "coursekit" or fullname.startswith("coursekit.")):
            return None
        if fullname in self.allowed:
            return None
        if self.record:
            try:
                with open(self.record, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"blocked_import": fullname}) + "\n")
            except OSError:
                pass
        shown = ", ".join(
            sorted(m for m in self.allowed if m not in ALWAYS_ALLOWED or m == "coursekit.checks")
        )
        raise ImportError(
            f"{fullname} is not available in this assignment: the course's own implementation "
            f"earns no credit, so an answer may import only {shown} from coursekit",
            name=fullname,
        )


_gate: _Gate | None = None
_snapshot: dict[str, Any] | None = None


def _exit_called(*args: Any, **kwargs: Any) -> None:
    raise ExitCalled(
        "exit() or quit() was called; the notebook stops here, as Restart & Run All would"
    )


def install(config: str) -> None:
    """Install the gate and the ``exit()`` rule (called once in the kernel at start-up).

    Args:
        config: JSON ``{"allowed": [module, ...]}``; refused imports are written to the
            answer record named by :data:`coursekit.checks.RECORD_ENV`, if it is set.
    """
    global _gate
    settings = json.loads(config)
    allowed = set(settings.get("allowed", [])) | set(ALWAYS_ALLOWED)
    for name in list(allowed):  # a module's packages are allowed with it
        parts = name.split(".")
        allowed.update(".".join(parts[:k]) for k in range(1, len(parts)))
    _gate = _Gate(allowed, record_path())
    sys.meta_path.insert(0, _gate)
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.ask_exit = _exit_called


def _members(
    prefix: str, namespace: dict[str, Any], out: dict[str, Any], *, depth: int = 1
) -> None:
    """Record the public callables of a namespace; for a class (``depth`` 0) also its special
    methods, since ``errstate.__enter__ = ...`` patches a class in place."""
    for name, value in list(namespace.items()):
        special = name.startswith("__") and name.endswith("__")
        if name.startswith("_") and not (special and depth == 0):
            continue
        key = f"{prefix}.{name}"
        if isinstance(value, types.ModuleType):
            continue
        if not callable(value):
            continue
        out[key] = value
        code = getattr(value, "__code__", None)
        if code is not None:
            out[key + ".__code__"] = code
        if (
            isinstance(value, type)
            and depth > 0
            and value.__module__.split(".")[0] in ("numpy", "coursekit")
        ):
            _members(key, dict(vars(value)), out, depth=depth - 1)


def _take_snapshot(user_ns: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "numpy" or name.startswith("numpy.")):
            continue
        if any(part.startswith("_") for part in name.split(".")):
            continue
        out[f"sys.modules[{name!r}]"] = module
        _members(name, dict(vars(module)), out)
    checks = sys.modules.get("coursekit.checks")
    if checks is not None:
        out["sys.modules['coursekit.checks']"] = checks
        _members("coursekit.checks", dict(vars(checks)), out)
    for name, value in list(vars(builtins).items()):
        if name not in _SKIP_BUILTINS:
            out[f"builtins.{name}"] = value
    for name, value in list(user_ns.items()):
        if name.startswith("_") or name in _SKIP_BUILTINS:
            continue
        if isinstance(
            value, (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType)
        ) or callable(value):
            out[name] = value
    return out


def _resolve(key: str, user_ns: dict[str, Any]) -> Any:
    """The object ``key`` names now (a missing one is a change too)."""
    missing = object()
    if key.startswith("sys.modules["):
        return sys.modules.get(key[len("sys.modules['") : -2], missing)
    if key.startswith("builtins."):
        return vars(builtins).get(key[len("builtins.") :], missing)
    parts = key.split(".")
    for size in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:size]))
        if module is not None:
            value: Any = module
            rest = parts[size:]
            break
    else:
        value, rest = user_ns.get(parts[0], missing), parts[1:]
    for part in rest:
        holder = (
            vars(value)
            if hasattr(value, "__dict__") and not isinstance(value, types.ModuleType)
            else None
        )
        if holder is not None and part in holder:
            value = holder[part]
        else:
            value = getattr(value, part, missing)
    return value


def _same(before: Any, now: Any) -> bool:
    if before is now:
        return True
    # Bound methods are made anew on every attribute access.
    return (
        isinstance(before, types.MethodType) and isinstance(now, types.MethodType) and before == now
    )


def enter(kind: str) -> dict[str, Any]:
    """Called before every cell. ``kind`` is ``"student"``, ``"test"`` or ``"instructor"``.

    Returns:
        ``{"changed": [names]}``: for a test cell, what the tests rely on that changed since
        the first student cell (at most 10 names); empty otherwise.
    """
    global _snapshot
    from IPython import get_ipython

    shell = get_ipython()
    user_ns = shell.user_ns if shell is not None else {}
    if _gate is not None:
        _gate.student = kind == "student"
    changed: list[str] = []
    if kind == "student" and _snapshot is None:
        _snapshot = _take_snapshot(user_ns)
    elif kind == "test" and _snapshot is not None:
        for key, before in _snapshot.items():
            if not _same(before, _resolve(key, user_ns)):
                changed.append(key)
                if len(changed) >= 10:
                    break
    return {"changed": changed}


def install_line(allowed: list[str]) -> str:
    """The start-up line that installs the harness in a kernel (binds no name)."""
    settings = json.dumps({"allowed": sorted(allowed)})
    return f"__import__({MODULE!r}, fromlist=['install']).install({settings!r})"


def enter_code(kind: str) -> str:
    """The code the executor runs silently before a cell (binds no name in the namespace)."""
    return f"__import__('sys').modules[{MODULE!r}].enter({kind!r})"


def record_path() -> str | None:
    """The answer record of this kernel, if answers are recorded."""
    from coursekit.checks import RECORD_ENV

    return os.environ.get(RECORD_ENV) or None
