"""Student notebooks: each chapter as a plain Jupyter notebook that reads and runs anywhere.

The chapters are MyST notebooks: their markdown holds roles (``{glue:text}`key:.3f```,
``{eq}`label```), equation labels and sphinx-exercise directives that only the book build
understands, and their code imports ``myst_nb`` to glue numbers into the prose. Opened in
JupyterLab, Notebook 7 or Colab such a notebook shows the raw syntax, prints every solution
under its exercise and stops at ``from myst_nb import glue``.

This module writes, for every chapter of ``_toc.yml``, the notebook a student gets:

* every glue role is replaced by the text the website shows, formatted from the value that the
  build stored in the executed notebook (``_build/jupyter_execute``) with myst-nb's own
  formatter, so the notebook and the site cannot disagree;
* equation labels become ``\\tag{n}`` and equation references their numbers, both read from the
  built page (the numbers the site shows); ``{ref}`` and ``{numref}`` become the text of the
  site's link;
* an exercise becomes a heading ("Exercise 5.3: title") and its solution a collapsed HTML
  ``<details>`` block; a solution that spans code cells (``solution-start`` ... ``solution-end``)
  is folded into the same block, its code shown as a code listing;
* admonitions become block quotes, ``(label)=`` lines disappear;
* text about the website (Sphinx's ``{only} html``) is left out, ``{only} not html`` kept;
* hidden build-time checks (code cells tagged ``remove-cell``) are dropped, the Colab set-up
  cell is kept, ``hide-input`` cells keep their code collapsed (``jupyter.source_hidden``);
* ``glue(...)`` calls and the ``myst_nb`` import are removed from the code, so the notebook runs
  without myst-nb or Jupyter Book installed.

Anything the transform cannot turn into plain notebook content (a glue key without a value, a
reference to a missing label, an exercise without a label, a directive or role it does not
know) raises :class:`StudentEditionError` naming the chapter and the key: never a notebook with
a hole in it.

Used by the Sphinx extension in ``student_edition.py`` (after every HTML build, so that the
website's download button offers the student notebook) and by ``make student-edition``.
"""

from __future__ import annotations

import ast
import copy
import posixpath
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

import nbformat

__all__ = ["StudentEditionError", "PageFacts", "read_page_facts", "glue_values", "student_notebook"]


class StudentEditionError(Exception):
    """A chapter cannot be turned into a complete student notebook."""


# --------------------------------------------------------------------------------------------
# What the built website shows: equation numbers, exercise numbers, link texts
# --------------------------------------------------------------------------------------------


@dataclass
class PageFacts:
    """What one built page shows, keyed by the anchor ids Sphinx gave the labels.

    Attributes:
        equations: anchor id (``equation-<label>``) -> number as shown, e.g. ``"(3)"``.
        exercises: anchor id of an exercise -> its caption number, e.g. ``"Exercise 5.3"``.
        links: fragment of an internal link -> the link's texts, e.g. ``["Exercise 4"]``.
        pages: target of a link to a whole page (``href`` without ``.html``, relative to the
            page) -> the link's text, the page's title.
    """

    equations: dict[str, str] = field(default_factory=dict)
    exercises: dict[str, str] = field(default_factory=dict)
    links: dict[str, list[str]] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)


class _PageParser(HTMLParser):
    """Collects equation numbers, exercise captions and internal link texts of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.facts = PageFacts()
        self._stack: list[tuple[str, dict[str, str]]] = []
        self._capture: list[tuple[str, str, list[str], int]] = []  # (kind, key, text, depth)
        self._exercise_ids: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        classes = attributes.get("class", "").split()
        depth = len(self._stack)
        if tag not in _VOID:
            self._stack.append((tag, attributes))
        if tag == "div" and "exercise" in classes:
            self._exercise_ids.append(attributes.get("id"))
        elif tag == "div":
            self._exercise_ids.append(None)
        if tag == "span" and "eqno" in classes:
            self._capture.append(("eq", "", [], depth))
        elif (
            tag == "span"
            and "caption-number" in classes
            and self._exercise_ids
            and self._exercise_ids[-1]
        ):
            self._capture.append(("exercise", self._exercise_ids[-1], [], depth))
        elif (
            tag == "a"
            and "reference" in classes
            and "internal" in classes
            and "#" in attributes.get("href", "")
        ):
            self._capture.append(("link", attributes["href"].split("#", 1)[1], [], depth))
        elif (
            tag == "a"
            and "reference" in classes
            and "internal" in classes
            and attributes.get("href", "").endswith(".html")
        ):
            self._capture.append(("page", attributes["href"].removesuffix(".html"), [], depth))
        elif (
            tag == "a"
            and "headerlink" in classes
            and self._capture
            and self._capture[-1][0] == "eq"
        ):
            kind, _, text, d = self._capture[-1]
            self._capture[-1] = (kind, attributes.get("href", "").lstrip("#"), text, d)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        while self._stack:
            open_tag, _ = self._stack.pop()
            if open_tag == "div" and self._exercise_ids:
                self._exercise_ids.pop()
            depth = len(self._stack)
            while self._capture and self._capture[-1][3] == depth:
                kind, key, text, _ = self._capture.pop()
                value = re.sub(r"\s+", " ", "".join(text)).strip()
                if kind == "eq" and key:
                    self.facts.equations[key] = value
                elif kind == "exercise":
                    self.facts.exercises[key] = value
                elif kind == "link":
                    self.facts.links.setdefault(key, []).append(value)
                elif kind == "page":
                    self.facts.pages.setdefault(key, value)
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for kind, key, text, _ in self._capture:
            if not (
                kind == "eq" and key
            ):  # the eqno's headerlink carries a pilcrow, not the number
                text.append(data)


_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}


def read_page_facts(html_path: Path) -> PageFacts:
    """Parse one built page (``_build/html/chapters/<name>.html``)."""
    parser = _PageParser()
    parser.feed(html_path.read_text(encoding="utf-8"))
    parser.close()
    return parser.facts


def make_id(label: str) -> str:
    """The anchor id Sphinx derives from a label (docutils' rule)."""
    from docutils.nodes import make_id as docutils_make_id

    return docutils_make_id(label)


# --------------------------------------------------------------------------------------------
# The values the build glued
# --------------------------------------------------------------------------------------------


def glue_values(glue_json: Path) -> dict[str, dict]:
    """Glue key -> mime bundle, as the build stored it next to the executed notebook.

    myst-nb takes the glued outputs out of the executed notebook it writes to
    ``_build/jupyter_execute`` and stores them, keyed by name, in ``<notebook>.glue.json``
    beside it (the file it reads itself for ``{glue:text}`other::key```).
    """
    import json

    stored = json.loads(glue_json.read_text(encoding="utf-8"))
    return {key: output.get("data", {}) for key, output in stored.items()}


# --------------------------------------------------------------------------------------------
# Markdown: MyST -> the Markdown that JupyterLab, Notebook 7 and Colab render
# --------------------------------------------------------------------------------------------

# Admonitions become block quotes headed by their title (the name, for the named ones).
_NAMED_ADMONITIONS = {
    "note": "Note",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
    "margin": "",
    "sidebar": "",
}
_FENCE = re.compile(
    r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>.*?)\s*$"
)
_PLAIN_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?!\{)")
_LABEL_LINE = re.compile(r"^\s*\([^()\s]+\)=\s*$")
_MATH_LABEL = re.compile(r"\$\$[ \t]*\((?P<label>[^()\s]+)\)[ \t]*$")
# A role, or an inline code span (left alone: `{eq}` between backticks is an example, not a role).
_TOKEN = re.compile(
    r"\{(?P<role>[\w:-]*)\}`(?P<content>[^`]+)`|(?P<code>(?P<ticks>`+)[^`].*?(?P=ticks))", re.S
)
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


@dataclass
class ChapterContext:
    """Everything the transform of one chapter looks values up in.

    Attributes:
        chapter: the chapter's path without suffix (``chapters/05_softmax_and_cross_entropy``),
            named in every error message.
        glue: this chapter's glue values (:func:`glue_values`).
        facts: what its built page shows (:func:`read_page_facts`).
        other_glue: ``(document path relative to the chapter, key) -> mime bundle or None``,
            for ``{glue:text}`other::key```.
        exercise_titles: exercise label -> its caption on the site ("Exercise 13"); filled by
            :func:`student_notebook`.
        notebooks: the book's pages that have a student notebook (``chapters/09_backpropagation``);
            a ``{doc}`` link to one of them becomes a link to that notebook.
    """

    chapter: str
    glue: dict[str, dict]
    facts: PageFacts
    other_glue: Callable[[str, str], dict | None]
    exercise_titles: dict[str, str] = field(default_factory=dict)
    notebooks: set[str] = field(default_factory=set)  # chapters that have a student notebook

    def fail(self, message: str) -> StudentEditionError:
        return StudentEditionError(f"{self.chapter}: {message}")


def _directive_options(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split a directive's body into its ``:key: value`` options and the content after them."""
    options: dict[str, str] = {}
    index = 0
    if lines and lines[0].strip() == "---":  # YAML option block
        import yaml

        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is not None:
            options = {
                str(k): str(v) for k, v in (yaml.safe_load("\n".join(lines[1:end])) or {}).items()
            }
            index = end + 1
    while index < len(lines):
        match = re.match(r"^\s*:([\w-]+):\s*(.*)$", lines[index])
        if not match:
            break
        options[match.group(1)] = match.group(2).strip()
        index += 1
    return options, lines[index:]


def _blocks(lines: list[str]) -> Iterator[tuple[str, object]]:
    """Yield ``("text", lines)``, ``("code", lines)`` and ``("directive", (name, arg, body))``.

    Directive fences (```` ```{name} ```` or ``:::{name}``) close at a line holding the same
    fence character at least as often, as in MyST; plain code fences pass through untouched.
    """
    text: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        directive = _FENCE.match(line)
        plain = None if directive else _PLAIN_FENCE.match(line)
        if not directive and not plain:
            text.append(line)
            index += 1
            continue
        if text:
            yield "text", text
            text = []
        fence = (directive or plain).group("fence")
        closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = next((i for i in range(index + 1, len(lines)) if closing.match(lines[i])), None)
        if end is None:
            end = len(lines)  # CommonMark: an unclosed fence runs to the end of the cell
        if directive:
            yield (
                "directive",
                (directive.group("name"), directive.group("arg"), lines[index + 1 : end]),
            )
        else:
            yield "code", lines[index : end + 1]
        index = end + 1
    if text:
        yield "text", text


def _glue_text(ctx: ChapterContext, content: str, role: str) -> str:
    """The text a glue role pastes, formatted by myst-nb's own formatter, as on the website."""
    from myst_nb.core.variables import format_plain_text

    key, fmt_spec = content, ""
    if role == "glue:text":  # key[:format], the format after the last single colon
        head, colon, tail = content.rpartition(":")
        if colon and not head.endswith(":"):
            key, fmt_spec = head, tail
        fmt_spec = fmt_spec or "s"
    doc, _, name = key.rpartition("::")
    bundle = ctx.other_glue(doc, name) if doc else ctx.glue.get(name)
    where = f" (from {doc})" if doc else ""
    if bundle is None:
        raise ctx.fail(f"glue key {name!r}{where} has no value in the executed notebook")
    if role == "glue:md":
        if "text/markdown" not in bundle:
            raise ctx.fail(f"glue key {name!r}{where} has no text/markdown value")
        return bundle["text/markdown"].strip()
    if "text/plain" not in bundle:
        raise ctx.fail(f"glue key {name!r}{where} has no text/plain value")
    try:
        return format_plain_text(bundle["text/plain"], fmt_spec)
    except (TypeError, ValueError) as exc:
        raise ctx.fail(
            f"glue key {name!r}{where}: cannot format {bundle['text/plain']!r} as "
            f"{fmt_spec!r} ({exc})"
        ) from exc


def _equation_number(ctx: ChapterContext, label: str) -> str:
    number = ctx.facts.equations.get(f"equation-{make_id(label)}") or ctx.facts.equations.get(
        f"equation-{label}"
    )
    if number is None:
        raise ctx.fail(f"equation label {label!r} is not a numbered equation on the built page")
    return number


def _link_text(ctx: ChapterContext, label: str, role: str) -> str:
    if label in ctx.exercise_titles:
        return ctx.exercise_titles[label]
    texts = ctx.facts.links.get(make_id(label)) or ctx.facts.links.get(label)
    if not texts:
        raise ctx.fail(f"{{{role}}} to {label!r}: the built page has no link to that label")
    return texts[0]


def _roles(ctx: ChapterContext, text: str) -> str:
    """Replace every inline role of a stretch of markdown."""

    def replace(match: re.Match) -> str:
        if match.group("code"):
            return match.group(0)
        role, content = match.group("role"), match.group("content")
        explicit = _EXPLICIT.match(content)
        if role in ("glue", "glue:", "glue:text", "glue:md", "glue:any"):
            return _glue_text(ctx, content, role if role in ("glue:text", "glue:md") else "glue")
        if role == "eq":
            if explicit:  # {eq}`text <label>`: the site shows the text
                _equation_number(ctx, explicit.group("target"))
                return explicit.group("text")
            return _equation_number(ctx, content)
        if role in ("ref", "numref"):
            if explicit:
                shown = _link_text(ctx, explicit.group("target"), role)  # the label must resolve
                return shown if role == "numref" else explicit.group("text")
            return _link_text(ctx, content, role)
        if role == "doc":
            return _doc_link(
                ctx,
                explicit.group("target") if explicit else content,
                explicit.group("text") if explicit else None,
            )
        if role == "math":
            return f"${content}$"
        if role in ("sub", "sup"):
            return f"<{role}>{content}</{role}>"
        if role in ("kbd", "file", "samp", "command"):
            return f"`{content}`"
        if role in ("term", "abbr"):
            return explicit.group("text") if explicit else re.sub(r"\s*\(.*\)$", "", content)
        raise ctx.fail(f"the role {{{role}}} (in {match.group(0)!r}) has no plain-notebook form")

    return _TOKEN.sub(replace, text)


def _doc_link(ctx: ChapterContext, target: str, text: str | None) -> str:
    """``{doc}`` -> the page title the site shows, linked to the page's student notebook."""
    here = PurePosixPath(ctx.chapter).parent
    page = PurePosixPath(target.lstrip("/")) if target.startswith("/") else here / target
    page = PurePosixPath(posixpath.normpath(str(page)))
    relative = posixpath.relpath(str(page), str(here))
    shown = text or ctx.facts.pages.get(relative)
    if shown is None:
        raise ctx.fail(f"{{doc}} to {target!r}: the built page has no link to that page")
    return f"[{shown}]({relative}.ipynb)" if str(page) in ctx.notebooks else shown


def _math_labels(ctx: ChapterContext, lines: list[str]) -> list[str]:
    """``$$ ... $$ (label)`` -> ``$$ ... \\tag{n} $$`` with the number the site shows."""
    result = []
    for line in lines:
        match = _MATH_LABEL.search(line)
        if match:
            number = _equation_number(ctx, match.group("label")).strip("()")
            result.extend((line[: match.start()] + f"\\tag{{{number}}}\n$$").split("\n"))
        else:
            result.append(line)
    return result


def _quote(lines: list[str]) -> list[str]:
    return [f"> {line}".rstrip() for line in lines]


def _details(summary: str, body: list[str]) -> list[str]:
    """A collapsed block: JupyterLab, Notebook 7 and Colab all render ``<details>`` closed."""
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>"]


def convert_markdown(ctx: ChapterContext, source: str) -> str:
    """The plain-Markdown form of one MyST markdown cell (see the module docstring)."""
    return "\n".join(_convert_lines(ctx, source.split("\n"))).strip("\n")


def _convert_lines(ctx: ChapterContext, lines: list[str]) -> list[str]:
    out: list[str] = []
    for kind, payload in _blocks(lines):
        if kind == "code":
            out.extend(payload)
        elif kind == "text":
            kept = [line for line in payload if not _LABEL_LINE.match(line)]
            out.extend(_roles(ctx, "\n".join(_math_labels(ctx, kept))).split("\n"))
        else:
            out.extend(_directive(ctx, *payload))
    return out


def _directive(ctx: ChapterContext, name: str, arg: str, body: list[str]) -> list[str]:
    options, content = _directive_options(body)
    if name in ("exercise", "exercise-start"):
        label = options.get("label")
        if not label:
            raise ctx.fail(
                f"an exercise without a :label: ({arg or 'untitled'!r}) cannot be numbered or "
                "given its solution"
            )
        if label not in ctx.exercise_titles:
            raise ctx.fail(f"exercise {label!r} has no number on the built page")
        title = ctx.exercise_titles[label] + (f": {_roles(ctx, arg)}" if arg else "")
        return ["", f"### {title}", "", *_convert_lines(ctx, content), ""]
    if name == "exercise-end":
        return []
    if name == "solution":
        return _details(_solution_summary(ctx, arg), _convert_lines(ctx, content))
    if name in ("solution-start", "solution-end"):
        raise ctx.fail(f"a {{{name}}} fence ({arg!r}) without its partner in a later cell")
    if name == "admonition" or name in _NAMED_ADMONITIONS:
        title = (
            arg if name == "admonition" else _NAMED_ADMONITIONS[name] + (f": {arg}" if arg else "")
        )
        title = title.lstrip(": ")
        inner = _convert_lines(ctx, content)
        if "dropdown" in options.get("class", "").split():
            return _details(_roles(ctx, title) or "Details", inner)
        head = [f"**{_roles(ctx, title)}**", ""] if title else []
        return ["", *_quote(head + inner), ""]
    if name == "dropdown":
        return _details(_roles(ctx, arg) or "Details", _convert_lines(ctx, content))
    if name == "math":
        label = options.get("label")
        tag = [f"\\tag{{{_equation_number(ctx, label).strip('()')}}}"] if label else []
        return ["$$", *content, *tag, "$$"]
    if name in ("code-block", "code", "sourcecode"):
        return [f"```{arg}", *content, "```"]
    if name == "epigraph":
        return _quote(_convert_lines(ctx, content))
    if name == "only":
        # Sphinx's {only}: text for some builders. A student notebook is not the website, so
        # `{only} html` (a sentence about the website) goes and `{only} not html` stays.
        expression = " ".join(arg.split())
        if expression == "html":
            return []
        if expression == "not html":
            return _convert_lines(ctx, content)
        raise ctx.fail(
            f"{{only}} {arg!r}: the student notebook knows only `html` (left out) and "
            "`not html` (kept)"
        )
    raise ctx.fail(f"the directive {{{name}}} ({arg!r}) has no plain-notebook form")


def _solution_summary(ctx: ChapterContext, target: str) -> str:
    target = target.strip()
    if target not in ctx.exercise_titles:
        raise ctx.fail(
            f"a solution refers to exercise {target!r}, which has no label in this chapter"
        )
    return f"Solution to {ctx.exercise_titles[target]} (click to show)"


# --------------------------------------------------------------------------------------------
# Code: take glue out
# --------------------------------------------------------------------------------------------


def _is_glue_call(node: ast.stmt) -> bool:
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    func = node.value.func
    return (isinstance(func, ast.Name) and func.id == "glue") or (
        isinstance(func, ast.Attribute)
        and func.attr == "glue"
        and isinstance(func.value, ast.Name)
        and func.value.id in ("myst_nb", "nb")
    )


def _is_myst_nb_import(node: ast.stmt) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "myst_nb"
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] == "myst_nb" for alias in node.names)
    return False


def strip_glue(ctx: ChapterContext, source: str, cell_number: int) -> str:
    """The code of a cell without its ``glue(...)`` calls and its ``myst_nb`` import.

    A loop or ``with`` block whose body held only glue calls goes too (it did nothing else);
    a branch left empty gets ``pass``. A glue call that displays its value (``display=True``,
    myst-nb's default) becomes ``display(value)``, so the student sees what the page showed.
    """
    if "glue" not in source and "myst_nb" not in source:
        return source
    from IPython.core.inputtransformer2 import TransformerManager

    python = TransformerManager().transform_cell(source)  # %magics -> calls, same line numbers
    try:
        tree = ast.parse(python)
    except SyntaxError as exc:
        raise ctx.fail(
            f"code cell {cell_number} does not parse, so its glue calls cannot be removed: {exc}"
        ) from exc
    lines = source.split("\n")
    if len(python.rstrip("\n").split("\n")) != len(source.rstrip("\n").split("\n")):
        raise ctx.fail(
            f"code cell {cell_number} uses a cell magic; its glue calls cannot be removed safely"
        )
    edits: list[tuple[int, int, list[str]]] = []  # (first line, last line, replacement), 1-based

    def visit(body: list[ast.stmt]) -> bool:
        """Schedule the removals in one body; True if nothing of the body is left."""
        removed = 0
        for node in body:
            if _is_myst_nb_import(node):
                edits.append((node.lineno, node.end_lineno, []))
                removed += 1
            elif _is_glue_call(node):
                call = node.value
                shown = next((k.value for k in call.keywords if k.arg == "display"), None)
                displays = shown is None or not (
                    isinstance(shown, ast.Constant) and shown.value is False
                )
                if displays and len(call.args) >= 2:
                    indent = " " * node.col_offset
                    value = ast.get_source_segment(python, call.args[1])
                    edits.append((node.lineno, node.end_lineno, [f"{indent}display({value})"]))
                else:
                    edits.append((node.lineno, node.end_lineno, []))
                    removed += 1
            else:
                blocks = [
                    getattr(node, name)
                    for name in ("body", "orelse", "finalbody")
                    if getattr(node, name, None)
                ]
                empty = [visit(block) for block in blocks]
                if (
                    blocks
                    and all(empty)
                    and isinstance(node, (ast.For, ast.While, ast.With, ast.If))
                ):
                    edits[:] = [
                        e for e in edits if not (node.lineno <= e[0] and e[1] <= node.end_lineno)
                    ]
                    edits.append((node.lineno, node.end_lineno, []))
                    removed += 1
                else:
                    for block, was_emptied in zip(blocks, empty):
                        if was_emptied:
                            first = block[0]
                            edits.append(
                                (first.lineno, first.lineno, [" " * first.col_offset + "pass"])
                            )
        return removed == len(body)

    visit(tree.body)
    for first, last, replacement in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[first - 1 : last] = replacement
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    still = [
        node
        for node in ast.walk(ast.parse(TransformerManager().transform_cell(text)))
        if (isinstance(node, ast.Name) and node.id in ("glue", "myst_nb"))
        or _is_myst_nb_import(node)
    ]
    if still:
        raise ctx.fail(
            f"code cell {cell_number} still uses myst_nb or glue after its glue calls were removed "
            f"(line {still[0].lineno}); call glue as a statement of its own"
        )
    return text


# --------------------------------------------------------------------------------------------
# One chapter
# --------------------------------------------------------------------------------------------

_FENCE_ANY = re.compile(
    r"^[ \t]*(`{3,}|:{3,})\{(solution-start|solution-end)\}[ \t]*(.*?)[ \t]*$", re.M
)


def _after_gate(text: str, match: re.Match) -> int:
    """Where text resumes after a ``solution-start``/``-end`` fence: past its options and close."""
    fence = match.group(1)
    rest = re.match(
        r"\n?(?:[ \t]*:[\w-]+:[^\n]*\n)*"  # the fence's option lines
        rf"[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*(?:\n|$)",  # its closing fence
        text[match.end() :],
    )
    if rest is None:
        return match.end()
    return match.end() + rest.end()


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def student_notebook(ctx: ChapterContext, source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student notebook of one chapter (see the module docstring); outputs are not kept."""
    exercise_labels = []
    for cell in source.cells:
        if cell.cell_type == "markdown":
            for kind, payload in _blocks(cell.source.split("\n")):
                if kind == "directive" and payload[0] in ("exercise", "exercise-start"):
                    options, _ = _directive_options(payload[2])
                    if not options.get("label"):
                        raise ctx.fail(
                            f"an exercise without a :label: ({payload[1] or 'untitled'!r}) cannot "
                            "be numbered or given its solution"
                        )
                    exercise_labels.append(options["label"])
    for label in exercise_labels:
        number = ctx.facts.exercises.get(make_id(label)) or ctx.facts.exercises.get(label)
        if number is None:
            raise ctx.fail(f"exercise {label!r} has no number on the built page")
        ctx.exercise_titles[label] = number

    notebook = nbformat.v4.new_notebook(metadata=copy.deepcopy(source.metadata))
    notebook.nbformat_minor = source.get("nbformat_minor", 5)
    cells = list(source.cells)
    index = 0
    while index < len(cells):
        cell = cells[index]
        number = index + 1
        index += 1
        tags = _tags(cell)
        if cell.cell_type == "code":
            if "remove-cell" in tags and "colab-setup" not in tags:
                continue  # a hidden build-time check
            code = strip_glue(ctx, cell.source, number)
            if not code.strip():
                continue
            new = nbformat.v4.new_code_cell(code)
            kept_tags = [t for t in tags if t not in ("remove-cell", "hide-input", "remove-input")]
            if kept_tags:
                new.metadata["tags"] = kept_tags
            if "hide-input" in tags or "remove-input" in tags:
                new.metadata["jupyter"] = {"source_hidden": True}
            _keep_id(cell, new, notebook)
            notebook.cells.append(new)
            continue
        if cell.cell_type != "markdown":
            new = copy.deepcopy(cell)
            notebook.cells.append(new)
            continue
        text = cell.source
        start = _FENCE_ANY.search(text)
        if start and start.group(2) == "solution-start":
            # A solution that spans cells: fold this cell's rest, the cells up to solution-end
            # and the code in between into one collapsed block.
            target = start.group(3)
            before = text[: start.start()]
            parts: list[str] = [convert_markdown(ctx, text[_after_gate(text, start) :])]
            trailing = ""
            needed: list[tuple[nbformat.NotebookNode, str]] = []
            while True:
                if index >= len(cells):
                    raise ctx.fail(
                        f"the solution to {target!r} has a solution-start but no solution-end"
                    )
                inner = cells[index]
                index += 1
                end = _FENCE_ANY.search(inner.source) if inner.cell_type == "markdown" else None
                if end and end.group(2) == "solution-end":
                    parts.append(convert_markdown(ctx, inner.source[: end.start()]))
                    trailing = inner.source[_after_gate(inner.source, end) :]
                    break
                if end:
                    raise ctx.fail(f"the solution to {target!r} contains another solution-start")
                if inner.cell_type == "code":
                    if "remove-cell" in _tags(inner):
                        continue
                    code = strip_glue(ctx, inner.source, index)
                    if _defines_what_later_cells_use(code, cells[index:]):
                        # the rest of the notebook needs what this cell computes: it stays a
                        # cell, right after the solution, with its code and output collapsed
                        needed.append((inner, code))
                        parts.append(
                            "The code of this solution is the collapsed cell below this one; "
                            "the rest of the notebook uses what it computes."
                        )
                    else:
                        parts.append("```python\n" + code + "\n```")
                else:
                    parts.append(convert_markdown(ctx, inner.source))
            body = "\n\n".join(p for p in parts if p.strip())
            md = "\n\n".join(
                filter(
                    None,
                    [
                        convert_markdown(ctx, before),
                        "\n".join(_details(_solution_summary(ctx, target), body.split("\n"))),
                    ],
                )
            )
            if (
                trailing.strip()
            ):  # what follows solution-end in its cell is read as a cell of its own
                rest = nbformat.v4.new_markdown_cell(trailing.lstrip("\n"))
                rest["id"] = f"{cells[index - 1].get('id', 'cell')}-rest"
                cells.insert(index, rest)
            md = re.sub(r"\n{3,}", "\n\n", md).strip("\n")
            new = nbformat.v4.new_markdown_cell(md)
            _keep_id(cell, new, notebook)
            notebook.cells.append(new)
            for old_cell, code in needed:
                kept = nbformat.v4.new_code_cell(
                    code, metadata={"jupyter": {"source_hidden": True, "outputs_hidden": True}}
                )
                _keep_id(old_cell, kept, notebook)
                notebook.cells.append(kept)
            continue
        else:
            md = convert_markdown(ctx, text)
        md = re.sub(r"\n{3,}", "\n\n", md).strip("\n")
        if md.strip():
            new = nbformat.v4.new_markdown_cell(md)
            if cell.get("attachments"):
                new["attachments"] = copy.deepcopy(cell["attachments"])
            _keep_id(cell, new, notebook)
            notebook.cells.append(new)
    nbformat.validate(notebook)
    return notebook


def _names(code: str, kind: type) -> set[str]:
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(code))
    except SyntaxError:
        return set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, kind)}
    if kind is ast.Store:
        names |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        names |= {
            (a.asname or a.name).split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, (ast.Import, ast.ImportFrom))
            for a in n.names
        }
    return names


def _defines_what_later_cells_use(code: str, later: list[nbformat.NotebookNode]) -> bool:
    """Whether a name this code binds is read by a later code cell that is not a hidden check."""
    defined = _names(code, ast.Store)
    if not defined:
        return False
    used: set[str] = set()
    for cell in later:
        if cell.cell_type == "code" and "remove-cell" not in _tags(cell):
            used |= _names(cell.source, ast.Load)
    return bool(defined & used)


def _keep_id(
    old: nbformat.NotebookNode, new: nbformat.NotebookNode, notebook: nbformat.NotebookNode
) -> None:
    """Keep the source cell's id (stable diffs of the student repository)."""
    if "id" in old and old["id"] not in {c.get("id") for c in notebook.cells}:
        new["id"] = old["id"]
