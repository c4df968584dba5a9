"""Markdown tables built from computed values, for chapters that show many numbers at once.

The chapters never type a computed number into prose; a table is produced from the arrays the
code just computed and shown with :func:`show_table`::

    from coursekit.display.tables import show_table
    show_table(["quantity", "value"], [("loss", 0.53045)])

:func:`show_table` displays the table; the book reads displayed Markdown as MyST
(``nb_render_markdown_format: myst`` in ``_config.yml``), so the table renders with its maths
typeset on the website as in Jupyter.

Cells may be strings (used as they are, so they can hold MyST math such as ``$z_1$``), booleans
(shown as "yes"/"no"), integers, or floats (formatted with ``float_format``).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import numpy as np


def format_cell(value: Any, float_format: str = "{:.4f}") -> str:
    """Text for one table cell.

    Args:
        value: a string, bool, integer, real number or ``None`` (an empty cell).
        float_format: ``str.format`` pattern for floats, e.g. ``"{:.4f}"`` or ``"{:.3g}"``.

    Returns:
        The cell text; ``-0.0000`` is shown as ``0.0000`` (a rounded tiny negative number is
        still zero to the reader), and ``|`` is escaped so it cannot split the cell.

    Raises:
        TypeError: for anything else (lists, arrays with more than one entry, ...).
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("|", r"\|")
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        x = float(value)
        if not math.isfinite(x):
            return str(x)
        text = float_format.format(x)
        if text.startswith("-") and float(text) == 0.0:
            text = text[1:]
        return text
    raise TypeError(f"a table cell must be a string, bool or number, got {type(value).__name__}")


def markdown_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    float_format: str = "{:.4f}",
    align: str | None = None,
) -> str:
    """A Markdown (pipe) table.

    Args:
        headers: column titles.
        rows: one sequence of cells per row, each as long as ``headers``.
        float_format: pattern for float cells (see :func:`format_cell`).
        align: one letter per column, ``"l"``, ``"r"`` or ``"c"``; by default text columns are
            left-aligned and columns whose cells are all numbers right-aligned.

    Returns:
        The table as Markdown text, one line per row.

    Raises:
        ValueError: if a row has a different number of cells than there are headers, there are
            no headers, or ``align`` has the wrong length or letters.
    """
    headers = [str(h) for h in headers]
    if not headers:
        raise ValueError("markdown_table needs at least one column header")
    for i, row in enumerate(rows):
        if len(row) != len(headers):
            raise ValueError(f"row {i} has {len(row)} cells but there are {len(headers)} headers")
    if align is None:
        align = "".join(
            "r"
            if rows
            and all(isinstance(r[j], numbers.Real) and not isinstance(r[j], bool) for r in rows)
            else "l"
            for j in range(len(headers))
        )
    if len(align) != len(headers) or set(align) - set("lrc"):
        raise ValueError(
            f"align must have one of 'l', 'r', 'c' per column ({len(headers)}), got {align!r}"
        )
    rule = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = [
        "| " + " | ".join(format_cell(h) for h in headers) + " |",
        "| " + " | ".join(rule[a] for a in align) + " |",
    ]
    for row in rows:
        lines.append("| " + " | ".join(format_cell(c, float_format) for c in row) + " |")
    return "\n".join(lines)


def show_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    float_format: str = "{:.4f}",
    align: str | None = None,
) -> None:
    """Display a Markdown table in the notebook and on the website (see the module docstring).

    Takes the same arguments as :func:`markdown_table` and raises the same errors, before
    anything is displayed. Returns ``None``, so a call as a cell's last line adds no second,
    plain-text copy of the table.
    """
    from IPython.display import Markdown, display

    display(Markdown(markdown_table(headers, rows, float_format=float_format, align=align)))
