"""The book build's parallel pre-execution (``_ext/parallel_execution.py``): a worker returns the
executed notebook for the cache, or the error, in which case myst-nb runs it again and reports."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat

import builtsite


def _module():
    spec = importlib.util.spec_from_file_location(
        "parallel_execution", builtsite.REPO / "_ext" / "parallel_execution.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("parallel_execution", module)
    spec.loader.exec_module(module)
    return module


def _notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


def test_worker_returns_the_executed_notebook_run_in_its_folder(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("from the notebook's folder")
    path = _notebook(tmp_path / "ok.ipynb", "print(open('data.txt').read())", "6 * 7")
    _, executed, seconds, error = _module()._execute(str(path), str(tmp_path), 60, False)
    assert error is None and seconds > 0
    cells = nbformat.reads(executed, as_version=4).cells
    assert cells[0].outputs[0]["text"] == "from the notebook's folder\n"
    assert cells[1].outputs[0]["data"]["text/plain"] == "42"


def test_worker_reports_a_failing_cell_instead_of_caching_it(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "bad.ipynb", "x = 1", "raise ValueError('shape (2, 3) expected')")
    _, executed, _, error = _module()._execute(str(path), str(tmp_path), 60, False)
    assert executed is None
    assert "ValueError" in error and "shape (2, 3) expected" in error
