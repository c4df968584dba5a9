"""The teaching core's boundary: what its modules may import, and how long the engine may be.

The core is the part of coursekit that students read next to the chapters. It depends on NumPy
and on itself only, so that reading it never leads into plotting, widgets or the grader.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import coursekit

PACKAGE = Path(coursekit.__file__).parent
CORE = ("activations", "data", "engine", "gradcheck", "losses", "nn", "optim", "validation")
NOT_CORE = ("checks",)  # the answer protocol of the assignments, used by the grader
ALLOWED = {"__future__", "typing", "math", "numbers", "dataclasses", "numpy", "numpy.typing"}
ENGINE_MAX_LINES = 250


def imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` anywhere in the file names."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import (write coursekit.<module>)"
            names.add(node.module)
            if node.module == "coursekit":  # from coursekit import activations
                names.update(f"coursekit.{alias.name}" for alias in node.names)
    return names


def test_every_top_level_module_is_classified():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(CORE) | set(NOT_CORE), "a new top-level module: is it teaching core?"


@pytest.mark.parametrize("module", CORE)
def test_core_imports_numpy_the_standard_basics_and_the_core_only(module):
    core = {f"coursekit.{name}" for name in CORE} | {"coursekit"}
    outside = sorted(imported_modules(PACKAGE / f"{module}.py") - ALLOWED - core)
    assert outside == [], f"coursekit.{module} imports {outside}, outside the teaching core"


def test_imported_modules_sees_every_kind_of_import(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(
        "import os.path\nfrom coursekit import display\n"
        "def f():\n    import matplotlib.pyplot as plt\n",
        encoding="utf-8",
    )
    found = imported_modules(source)
    assert {"os.path", "coursekit", "coursekit.display", "matplotlib.pyplot"} <= found


def test_importing_the_core_loads_no_plotting_widgets_or_grader():
    code = (
        "import sys\n"
        + "".join(f"import coursekit.{name}\n" for name in CORE)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'matplotlib', 'ipywidgets', 'nbgrader', 'IPython'} or m.startswith('coursekit.grading')"
        " or m.startswith('coursekit.display') or m.startswith('coursekit.widgets')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"


def test_the_engine_is_short_and_draws_nothing():
    source = PACKAGE / "engine.py"
    lines = len(source.read_text(encoding="utf-8").splitlines())
    assert lines <= ENGINE_MAX_LINES, f"engine.py has {lines} lines, more than {ENGINE_MAX_LINES}"
    assert not any(name.split(".")[0] == "matplotlib" for name in imported_modules(source))
