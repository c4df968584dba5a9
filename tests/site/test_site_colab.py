"""The Colab button works: every chapter notebook starts its code with a cell that installs
coursekit on Colab only, does nothing anywhere else, and is not shown on the website."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest
from IPython.core.inputtransformer2 import TransformerManager

import builtsite


def _colab_setup() -> types.ModuleType:
    """``_ext/colab_setup.py`` of the book under test (it reads its _toc.yml and _config.yml)."""
    path = builtsite.book_root() / "_ext" / "colab_setup.py"
    spec = importlib.util.spec_from_file_location("colab_setup_under_test", path)
    assert spec is not None and spec.loader is not None, f"{path} is missing"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _FakeIPython:
    """Records the line magics a cell runs instead of running them.

    As IPython does, it first puts the cell's variables into the line: ``{name}`` becomes the
    value of ``name`` in the namespace the cell runs in.
    """

    def __init__(self, namespace: dict) -> None:
        self.magics: list[tuple[str, str]] = []
        self.namespace = namespace

    def run_line_magic(self, name: str, line: str) -> None:
        self.magics.append((name, line.format(**self.namespace)))


def _run_setup_cell(
    on_colab: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[_FakeIPython, list[str]]:
    code = TransformerManager().transform_cell(_colab_setup().setup_source())
    namespace: dict = {}
    shell = _FakeIPython(namespace)
    namespace["get_ipython"] = lambda: shell
    calls: list[str] = []
    google = types.ModuleType("google")
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(
        enable_custom_widget_manager=lambda: calls.append("custom widget manager")
    )
    google.colab = colab
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    if on_colab:
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", colab)
    exec(compile(code, "<colab-setup>", "exec"), namespace)
    return shell, calls


def test_every_chapter_notebook_has_the_colab_setup_cell() -> None:
    setup = _colab_setup()
    notebooks = setup.chapter_notebooks()
    assert notebooks, "no chapter notebooks in _toc.yml"
    issues = [issue for path in notebooks for issue in setup.problems(path)]
    assert issues == [], "run `python _ext/colab_setup.py` to add or refresh the Colab setup cells"


def test_setup_cell_does_nothing_outside_colab(monkeypatch: pytest.MonkeyPatch) -> None:
    shell, calls = _run_setup_cell(on_colab=False, monkeypatch=monkeypatch)
    assert shell.magics == [] and calls == []


def test_setup_cell_installs_coursekit_from_the_repository_on_colab(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shell, calls = _run_setup_cell(on_colab=True, monkeypatch=monkeypatch)
    url, branch = _colab_setup().repository()
    assert shell.magics == [("pip", f'install --quiet "coursekit @ git+{url}@{branch}"')]
    assert calls == ["custom widget manager"]
    # pip can install from that URL: the repository root is the coursekit project.
    assert 'name = "coursekit"' in (builtsite.book_root() / "pyproject.toml").read_text(
        encoding="utf-8"
    )


def test_setup_cell_is_not_shown_on_the_website(site: Path, chapter_notebook_page: str) -> None:
    html = (site / chapter_notebook_page).read_text(encoding="utf-8")
    assert "google.colab" not in html, f"{chapter_notebook_page} shows the Colab setup cell"
