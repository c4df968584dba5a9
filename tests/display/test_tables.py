"""Markdown tables from computed values."""

import numpy as np
import pytest

from coursekit.display.tables import format_cell, markdown_table, show_table


def test_cells():
    assert format_cell(0.125, "{:.2f}") == "0.12"  # format rounds half to even, as Python does
    assert format_cell(-0.00001) == "0.0000"
    assert format_cell(np.float64(-1.5)) == "-1.5000"
    assert format_cell(np.int64(3)) == "3"
    assert format_cell(True) == "yes" and format_cell(np.bool_(False)) == "no"
    assert format_cell("a|b") == r"a\|b"
    assert format_cell(None) == ""
    assert format_cell(float("nan")) == "nan"
    with pytest.raises(TypeError, match="table cell"):
        format_cell([1, 2])


def test_table_layout_and_alignment():
    text = markdown_table(
        ["name", "value"], [("loss", 0.5), ("$z_1$", 1.25)], float_format="{:.2f}"
    )
    assert text.splitlines() == [
        "| name | value |",
        "| :--- | ---: |",
        "| loss | 0.50 |",
        "| $z_1$ | 1.25 |",
    ]
    assert markdown_table(["a"], [(1,)], align="c").splitlines()[1] == "| :---: |"


def test_table_errors():
    with pytest.raises(ValueError, match="row 1 has 1 cells"):
        markdown_table(["a", "b"], [(1, 2), (3,)])
    with pytest.raises(ValueError, match="align"):
        markdown_table(["a", "b"], [(1, 2)], align="x")
    with pytest.raises(ValueError, match="header"):
        markdown_table([], [])


def test_show_table_displays_the_markdown_table_and_returns_nothing(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    assert show_table(["x", "$f(x)$"], [(1, 0.5)], float_format="{:.1f}") is None
    assert len(shown) == 1 and isinstance(shown[0], IPython.display.Markdown)
    assert shown[0].data == markdown_table(["x", "$f(x)$"], [(1, 0.5)], float_format="{:.1f}")
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        show_table(["a", "b"], [(1,)])
    assert len(shown) == 1, "a bad table must not display anything"
