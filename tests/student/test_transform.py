"""The chapter -> student-notebook transform on small made-up chapters (no build needed).

A student notebook must never have a hole in it: every case of bad input below fails with the
chapter and the offending key in the message.
"""

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "_ext"))
from student_notebooks import ChapterContext, PageFacts, StudentEditionError, student_notebook  # noqa: E402


def chapter(*cells):
    """A notebook from ("md"|"code", source[, tags]) tuples."""
    nb = nbformat.v4.new_notebook()
    for kind, source, *tags in cells:
        cell = (
            nbformat.v4.new_markdown_cell(source)
            if kind == "md"
            else nbformat.v4.new_code_cell(source)
        )
        if tags:
            cell.metadata["tags"] = tags[0]
        nb.cells.append(cell)
    return nb


def context(glue=None, equations=None, exercises=None, links=None, pages=None):
    facts = PageFacts(
        equations=equations or {}, exercises=exercises or {}, links=links or {}, pages=pages or {}
    )
    return ChapterContext(
        chapter="chapters/99_example",
        glue=glue or {},
        facts=facts,
        other_glue=lambda doc, key: None,
        notebooks={"chapters/99_example", "chapters/98_before"},
    )


def texts(nb, kind):
    return [c.source for c in nb.cells if c.cell_type == kind]


def test_glue_equations_exercises_and_solutions_become_plain_markdown():
    nb = chapter(
        (
            "code",
            "import numpy as np\nfrom myst_nb import glue\nx = 0.123456\n"
            "glue('x', x, display=False)\n"
            "for k in 'ab':\n    glue(k, 1.0, display=False)\nprint(x)",
        ),
        (
            "md",
            "(sec-x)=\n## Section\n\n$$\na = b\n$$ (eq-a)\n\n"
            "So x is {glue:text}`x:.3f` by {eq}`eq-a`, see {ref}`ex-one`.",
        ),
        ("code", "assert x > 0", ["remove-cell"]),
        (
            "md",
            "```{exercise} First\n:label: ex-one\n\nCompute $x$.\n```\n\n```{solution} ex-one\n"
            ":class: dropdown\n\nIt is {glue:text}`x:.2f`.\n```",
        ),
    )
    ctx = context(
        glue={
            "x": {"text/plain": "0.123456"},
            "a": {"text/plain": "1.0"},
            "b": {"text/plain": "1.0"},
        },
        equations={"equation-eq-a": "(7)"},
        exercises={"ex-one": "Exercise 3"},
    )
    out = student_notebook(ctx, nb)
    code = texts(out, "code")
    assert code == [
        "import numpy as np\nx = 0.123456\nprint(x)"
    ]  # glue, its import, its loop gone; check cell gone
    md = "\n".join(texts(out, "markdown"))
    assert "So x is 0.123 by (7), see Exercise 3." in md
    assert "\\tag{7}" in md and "(eq-a)" not in md and "(sec-x)=" not in md
    assert "### Exercise 3: First" in md
    assert "<details>\n<summary>Solution to Exercise 3 (click to show)</summary>" in md
    assert "It is 0.12." in md.split("<details>")[1]
    assert "{" not in md.replace("\\tag{7}", "").replace("\\frac", "")


def test_solution_spanning_code_cells_is_folded_with_its_code():
    nb = chapter(
        (
            "md",
            "```{exercise} Code it\n:label: ex-c\nWrite it.\n```\n\n```{solution-start} ex-c\n"
            ":class: dropdown\n```\n\nLike this:",
        ),
        ("code", "y = 2 * 3\nprint(y)"),
        ("md", "```{solution-end}\n```\n\nAfter the exercise."),
    )
    out = student_notebook(context(exercises={"ex-c": "Exercise 1"}), nb)
    assert texts(out, "code") == []
    first, after = texts(out, "markdown")
    assert first.index("### Exercise 1: Code it") < first.index("<details>")
    assert "```python\ny = 2 * 3\nprint(y)\n```" in first.split("<details>")[1]
    assert first.rstrip().endswith("</details>") and after == "After the exercise."


@pytest.mark.parametrize(
    "cells, ctx_args, words",
    [
        (
            [("md", "The loss is {glue:text}`lost-key:.3f`.")],
            {},
            ["chapters/99_example", "'lost-key'"],
        ),
        ([("md", "By {eq}`no-such-eq`.")], {}, ["chapters/99_example", "'no-such-eq'"]),
        ([("md", "$$\nx\n$$ (unnumbered)")], {}, ["chapters/99_example", "'unnumbered'"]),
        (
            [("md", "```{exercise} Nameless\nDo it.\n```")],
            {},
            ["chapters/99_example", "without a :label:", "'Nameless'"],
        ),
        ([("md", "```{solution} ex-gone\nIt.\n```")], {}, ["chapters/99_example", "'ex-gone'"]),
        ([("md", "```{tabbed} A\nx\n```")], {}, ["chapters/99_example", "{tabbed}"]),
        ([("md", "See {cite}`knuth`.")], {}, ["chapters/99_example", "{cite}"]),
        ([("code", "print(glue)")], {}, ["chapters/99_example", "code cell 1", "glue"]),
        ([("md", "As in {doc}`97_gone`.")], {}, ["chapters/99_example", "{doc}", "'97_gone'"]),
        ([("md", "```{only} latex\nPrint it.\n```")], {}, ["chapters/99_example", "'latex'"]),
    ],
)
def test_bad_input_names_the_chapter_and_the_key(cells, ctx_args, words):
    with pytest.raises(StudentEditionError) as caught:
        student_notebook(context(**ctx_args), chapter(*cells))
    for word in words:
        assert word in str(caught.value)


def test_text_about_the_website_is_left_out_of_the_notebook():
    nb = chapter(
        (
            "md",
            "Move the sliders.\n\n```{only} html\nOn the website they move in steps of "
            "{eq}`eq-a`.\n```\n\n:::{only} not html\nHere they move smoothly.\n:::",
        )
    )
    (md,) = texts(student_notebook(context(equations={"equation-eq-a": "(7)"}), nb), "markdown")
    assert md == "Move the sliders.\n\nHere they move smoothly."


def test_glue_that_displays_its_value_still_shows_it():
    nb = chapter(("code", "from myst_nb import glue\nglue('t', 3.5)"))
    assert texts(student_notebook(context(), nb), "code") == ["display(3.5)"]


def test_code_spans_and_plain_fences_keep_their_text():
    nb = chapter(("md", "Write `{eq}` in MyST.\n\n```python\nx = '{glue:text}`k`'\n```"))
    assert texts(student_notebook(context(), nb), "markdown") == [nb.cells[0].source]


def test_doc_links_show_the_page_title_and_open_the_student_notebook():
    nb = chapter(
        ("md", "As in {doc}`98_before` and the {doc}`errata`, or {doc}`that chapter <98_before>`.")
    )
    ctx = context(pages={"98_before": "8. Before", "errata": "Errata"})
    assert texts(student_notebook(ctx, nb), "markdown") == [
        "As in [8. Before](98_before.ipynb) and the Errata, or [that chapter](98_before.ipynb)."
    ]


def test_solution_code_that_later_cells_need_stays_a_collapsed_cell():
    nb = chapter(
        (
            "md",
            "```{exercise} Step\n:label: ex-s\nTake a step.\n```\n\n```{solution-start} ex-s\n"
            "```\n\nLike this:",
        ),
        ("code", "step = 2 * 3"),
        ("md", "```{solution-end}\n```"),
        ("code", "print(step)"),
    )
    out = student_notebook(context(exercises={"ex-s": "Exercise 2"}), nb)
    kinds = [c.cell_type for c in out.cells]
    assert kinds == ["markdown", "code", "code"]
    kept = out.cells[1]
    assert kept.source == "step = 2 * 3"
    assert kept.metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
    assert "collapsed cell below" in out.cells[0].source.split("<details>")[1]
