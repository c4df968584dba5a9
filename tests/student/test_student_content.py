"""What the student edition holds: readable notebooks with the site's numbers, and no secrets.

The numbers are compared with the built website: every glued value a chapter page shows must be
in the student notebook, in the same sentence (the words before it on the page come right before
it in the notebook too).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import yaml

from edition import ROOT

HTML = ROOT / "_build" / "html"

MYST = [
    ("a glue role", re.compile(r"\{glue")),
    ("an equation reference", re.compile(r"\{eq\}")),
    ("a reference role", re.compile(r"\{(ref|numref|doc)\}")),
    ("a (label)= line", re.compile(r"^\s*\([^()\s]+\)=\s*$", re.M)),
    ("a labelled $$ block", re.compile(r"\$\$\s*\([^()\s]+\)\s*$", re.M)),
    ("a directive fence", re.compile(r"^\s*(`{3,}|:{3,})\{", re.M)),
]


def _markdown(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_no_myst_syntax_in_any_markdown_cell(student_chapter: Path) -> None:
    found = [
        (student_chapter.name, what, cell[:80])
        for cell in _markdown(student_chapter)
        for what, pattern in MYST
        if pattern.search(cell)
    ]
    assert found == []


class _Pasted(HTMLParser):
    """Each glued value of a page with the plain text just before it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.pasted: list[tuple[str, str]] = []  # (text before, value)
        self._in: int = 0
        self._value: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "span" and "pasted-text" in classes:
            self._in, self._value = 1, []
        elif self._in:
            self._in += 1 if tag not in ("br", "img") else 0
        if tag in ("p", "li", "div", "section", "td", "th"):
            self.text.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        if self._in:
            self._in -= 1
            if self._in == 0:
                value = "".join(self._value)
                self.pasted.append(("".join(self.text), value))
                self.text.append(value)

    def handle_data(self, data):
        if self._skip:
            return
        (self._value if self._in else self.text).append(data)


def _pasted_values(page: Path) -> list[tuple[str, str]]:
    parser = _Pasted()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.pasted


def test_every_glued_number_of_the_page_is_in_the_notebook_sentence(student_chapter: Path) -> None:
    page = HTML / student_chapter.relative_to(student_chapter.parents[1]).with_suffix(".html")
    pasted = _pasted_values(page)
    markdown = _flat("\n".join(_markdown(student_chapter)))
    source = nbformat.read(
        ROOT / student_chapter.relative_to(student_chapter.parents[1]), as_version=4
    )
    roles = sum(
        len(re.findall(r"\{glue(:text|:md)?\}`", c.source))
        for c in source.cells
        if c.cell_type == "markdown"
    )
    assert len(pasted) == roles, (
        f"{page.name} shows {len(pasted)} glued values, the source has {roles} glue roles"
    )
    missing, out_of_place = [], []
    for before, value in pasted:
        if value not in markdown:
            missing.append(value)
            continue
        words = re.findall(r"[A-Za-z]{2,}", before.split("\n")[-1])[
            -2:
        ]  # the plain words right before
        if len(words) == 2 and re.search(
            r"[A-Za-z]{2,}\W+[A-Za-z]{2,}\W*$", before.split("\n")[-1]
        ):
            if not re.search(rf"{words[0]}\W+{words[1]}\W+{re.escape(value)}", markdown):
                out_of_place.append(f"{' '.join(words)} {value}")
    assert missing == [] and out_of_place == []


# A sentence about the website (how its sliders move, what it shows) is wrong in a notebook: the
# student is running the notebook. Such text goes in `{only} html`, which the edition leaves out.
WEBSITE = re.compile(r"\b(on|of|in) (the|this) (static )?(website|web page|built book)\b", re.I)


def test_no_sentence_is_about_the_website(student_chapter: Path) -> None:
    found = [
        _flat(cell[max(0, m.start() - 40) : m.end() + 40])
        for cell in _markdown(student_chapter)
        for m in WEBSITE.finditer(cell)
    ]
    assert found == []


def test_solutions_are_folded_and_every_exercise_is_headed(student_chapter: Path) -> None:
    cells = _markdown(student_chapter)
    source = nbformat.read(
        ROOT / student_chapter.relative_to(student_chapter.parents[1]), as_version=4
    )
    exercises = sum(
        len(re.findall(r"^\s*`{3,}\{exercise(-start)?\}", c.source, re.M))
        for c in source.cells
        if c.cell_type == "markdown"
    )
    solutions = sum(
        len(re.findall(r"^\s*`{3,}\{solution(-start)?\}", c.source, re.M))
        for c in source.cells
        if c.cell_type == "markdown"
    )
    text = "\n".join(cells)
    assert len(re.findall(r"^### Exercise \d+", text, re.M)) == exercises
    assert len(re.findall(r"<details>\n<summary>Solution to Exercise \d+", text)) == solutions
    # outside the <details> blocks no solution text remains
    visible = re.sub(r"<details>.*?</details>", "", text, flags=re.S)
    assert "Solution to" not in visible


def test_hidden_checks_are_gone_and_the_colab_cell_is_first(student_chapter: Path) -> None:
    notebook = nbformat.read(student_chapter, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all("remove-cell" not in c.metadata.get("tags", []) for c in code)
    assert "colab-setup" in code[0].metadata.get("tags", [])
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    assert f"git+{url}@" in code[0].source
    assert all("myst_nb" not in c.source and "glue(" not in c.source for c in code)
    assert all(not c.outputs and c.execution_count is None for c in code)


def test_the_download_button_offers_the_student_notebook(student_chapter: Path) -> None:
    relative = student_chapter.relative_to(student_chapter.parents[1])
    offered = HTML / "_sources" / relative
    assert nbformat.read(offered, as_version=4) == nbformat.read(student_chapter, as_version=4)
    page = (HTML / relative.with_suffix(".html")).read_text(encoding="utf-8")
    assert f'href="../_sources/{relative.as_posix()}"' in page


def test_launch_buttons_open_the_student_repository() -> None:
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    owner_repo = url.removeprefix("https://github.com/")
    page = (HTML / "chapters" / "05_softmax_and_cross_entropy.html").read_text(encoding="utf-8")
    links = re.findall(
        r'href="(https://(?:mybinder\.org|colab\.research\.google\.com)[^"]*)"', page
    )
    assert len(links) == 2, links
    assert all(
        owner_repo in link and "05_softmax_and_cross_entropy.ipynb" in link for link in links
    )


def _secret_lines() -> dict[str, set[str]]:
    from coursekit.grading.release import secret_lines

    return {
        path.name: secret_lines(nbformat.read(path, as_version=4))
        for path in sorted((ROOT / "assignments" / "source").glob("*/*.ipynb"))
    }


def _lines(path: Path) -> set[str]:
    """The whitespace-normalised lines of a file; of every cell, for a notebook."""
    if path.suffix == ".ipynb":
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    else:
        text = path.read_text(encoding="utf-8")
    return {_flat(line).strip() for line in text.split("\n")}


def test_nothing_in_the_edition_gives_away_solutions_hidden_tests_or_the_grader(
    edition: Path,
) -> None:
    """No marker, grader or nbgrader configuration anywhere; no solution line in any notebook.

    coursekit itself is the course's published teaching code (Binder and Colab need it), so
    lines it shares with a solution (a stable sigmoid, ``X = np.asarray(X, ...)``) are not
    searched for in ``src/``; the grader is, and must be absent. Every notebook (chapters and
    released assignments) is searched for every solution and hidden-test line of the sources.
    """
    # a line the website shows in a chapter's code (``n = len(y)``) is no secret of a solution
    public = set().union(*(_lines(p) for p in (ROOT / "chapters").glob("*.ipynb")))
    secrets = {line for lines in _secret_lines().values() for line in lines} - public
    assert len(secrets) > 20, "the assignment sources have no solution lines to look for"
    files = [p for p in edition.rglob("*") if p.is_file()]
    names = {p.relative_to(edition).as_posix() for p in files}
    assert not any(n.startswith("src/coursekit/grading") for n in names)
    assert not any(Path(n).name in ("nbgrader_config.py", "gradebook.db") for n in names)
    assert not any(n.startswith("assignments/source") for n in names)
    leaks = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for marker in (
            "BEGIN SOLUTION",
            "BEGIN HIDDEN TESTS",
            "coursekit/grading",
            "c.CourseDirectory",
        ):
            if marker in text:
                leaks.append(f"{path.relative_to(edition)}: {marker}")
        if path.suffix == ".ipynb":
            leaks.extend(
                f"{path.relative_to(edition)}: {line}" for line in sorted(_lines(path) & secrets)
            )
    assert leaks == []


def test_every_assignment_is_released(edition: Path) -> None:
    sources = sorted(
        p.relative_to(ROOT / "assignments" / "source").as_posix()
        for p in (ROOT / "assignments" / "source").glob("*/*.ipynb")
    )
    released = sorted(
        p.relative_to(edition / "assignments").as_posix()
        for p in (edition / "assignments").glob("*/*.ipynb")
    )
    assert released == sources
    for path in (edition / "assignments").glob("*/*.ipynb"):
        text = path.read_text(encoding="utf-8")
        assert "YOUR CODE HERE" in text or "YOUR ANSWER HERE" in text
