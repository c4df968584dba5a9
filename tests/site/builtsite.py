"""What the built website contains, read from its files (no browser needed).

The browser tests use this to decide which pages to visit and what each page must show: the
page list comes from Sphinx's search index (every page of the table of contents), the widget
views and their embedded state from each page's HTML, the notebook behind a page from the
copy Sphinx keeps under ``_sources/``.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SITE = REPO / "_build" / "html"
SITE_ENV = "COURSE_SITE_DIR"

WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
#: Widget models that render as a slider (``.widget-slider`` in the page).
SLIDER_MODELS = {
    "FloatSliderModel",
    "IntSliderModel",
    "FloatLogSliderModel",
    "FloatRangeSliderModel",
    "IntRangeSliderModel",
    "SelectionSliderModel",
    "SelectionRangeSliderModel",
}


class SiteError(RuntimeError):
    """The built site is missing or could not be built."""


def site_dir() -> Path:
    """The built site under test: ``$COURSE_SITE_DIR`` or ``_build/html`` of this repository."""
    return Path(os.environ.get(SITE_ENV, DEFAULT_SITE)).resolve()


def book_root() -> Path:
    """The book the site was built from: the folder with ``_build/html`` (default: this repo)."""
    candidate = site_dir().parent.parent
    return candidate if (candidate / "_toc.yml").is_file() else REPO


def screenshot_dir() -> Path:
    """Where screenshots go: ``screenshots/`` by the site's ``html/`` (``_build/screenshots``)."""
    return site_dir().parent / "screenshots"


def is_built(site: Path) -> bool:
    """Whether ``site`` holds a built book (its search index and front page)."""
    return (site / "searchindex.js").is_file() and (site / "index.html").is_file()


def ensure_built() -> Path:
    """Return the site folder, building the book first if ``_build/html`` is missing.

    A site named by ``$COURSE_SITE_DIR`` is never built here: a missing one is an error. The
    build runs under a file lock so parallel test workers build once.

    Raises:
        SiteError: the site is missing and could not be built.
    """
    site = site_dir()
    if is_built(site):
        return site
    if SITE_ENV in os.environ:
        raise SiteError(
            f"{SITE_ENV}={os.environ[SITE_ENV]} has no built site "
            "(searchindex.js and index.html missing); build the book there or unset the variable"
        )
    build_root = REPO / "_build"
    build_root.mkdir(exist_ok=True)
    with open(build_root / ".site-tests.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not is_built(site):
            jupyter_book = Path(sys.executable).parent / "jupyter-book"
            command = [str(jupyter_book), "build", str(REPO), "-W", "--keep-going"]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0 or not is_built(site):
                raise SiteError(
                    f"the site tests need the built book and `{' '.join(command)}` "
                    f"failed (exit {result.returncode}); last output:\n"
                    f"{(result.stdout + result.stderr)[-3000:]}"
                )
    return site


@lru_cache(maxsize=None)
def search_index(site: Path) -> dict:
    """The JSON Sphinx writes into ``searchindex.js`` as ``Search.setIndex({...})``."""
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    match = re.fullmatch(r"\s*Search\.setIndex\((.*)\)\s*;?\s*", text, flags=re.DOTALL)
    if match is None:
        raise SiteError(f"{site / 'searchindex.js'} is not a Sphinx search index")
    return json.loads(match.group(1))


def pages(site: Path) -> list[str]:
    """Every page of the book as a site-relative URL path, e.g. ``chapters/01_x.html``."""
    return [f"{docname}.html" for docname in search_index(site)["docnames"]]


class _ScriptCollector(HTMLParser):
    """Collects ``<script type=...>`` bodies and whether any element has the class ``math``."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[str, str]] = []
        self.has_math = False
        self._type: str | None = None
        self._body: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if "math" in (attributes.get("class") or "").split():
            self.has_math = True
        if tag == "script":
            self._type = attributes.get("type") or "text/javascript"
            self._body = []

    def handle_data(self, data: str) -> None:
        if self._type is not None:
            self._body.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._type is not None:
            self.scripts.append((self._type, "".join(self._body)))
            self._type = None


@dataclass
class WidgetView:
    """One displayed widget tree and what it must render."""

    model_id: str
    sliders: int
    images: int


_PLAYER_DATA = re.compile(
    r'<script type="application/json" class="ck-player-data">(.*?)</script>', re.DOTALL
)


@dataclass
class PageInfo:
    """What a built page contains, from its HTML.

    ``players`` are the slider apps the page plays back from frames: the JSON each player
    embeds (``coursekit.widgets.frames.player_html``): its id, its varying axes with their URL
    keys and readout texts, the number of frames and every frame's readouts.
    """

    path: str
    has_math: bool
    views: list[WidgetView] = field(default_factory=list)
    notebook_source: str | None = None
    players: list[dict] = field(default_factory=list)

    @property
    def uses_slider_apps(self) -> bool:
        """The page's notebook imports coursekit's slider apps."""
        return self.notebook_source is not None and "coursekit.widgets" in self.notebook_source


def _descendants(state: dict, model_id: str, seen: set[str] | None = None) -> list[dict]:
    """The model and every model it references (children, outputs...), depth first."""
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in state:
        return []
    seen.add(model_id)
    model = state[model_id]
    found = [model]
    for value in model.get("state", {}).values():
        refs = value if isinstance(value, list) else [value]
        for ref in refs:
            if isinstance(ref, str) and ref.startswith("IPY_MODEL_"):
                found += _descendants(state, ref.removeprefix("IPY_MODEL_"), seen)
    return found


def _count_images(model: dict) -> int:
    if model.get("model_name") != "OutputModel":
        return 0
    return sum(
        1
        for output in model.get("state", {}).get("outputs", [])
        if "image/png" in output.get("data", {})
    )


@lru_cache(maxsize=None)
def page_info(site: Path, path: str) -> PageInfo:
    """Parse one built page."""
    parser = _ScriptCollector()
    text = (site / path).read_text(encoding="utf-8")
    parser.feed(text)
    state: dict = {}
    view_ids: list[str] = []
    for kind, body in parser.scripts:
        if kind == WIDGET_STATE_MIME:
            state = json.loads(body)["state"]
        elif kind == WIDGET_VIEW_MIME:
            view_ids.append(json.loads(body)["model_id"])
    views = []
    for model_id in view_ids:
        models = _descendants(state, model_id)
        views.append(
            WidgetView(
                model_id=model_id,
                sliders=sum(1 for m in models if m.get("model_name") in SLIDER_MODELS),
                images=sum(_count_images(m) for m in models),
            )
        )
    # The chapter notebooks (the repository's .ipynb pages, which the student edition publishes);
    # an executable Markdown page such as the instructors' errata also gets an .ipynb copy here.
    source = site / "_sources" / (path.removesuffix(".html") + ".ipynb")
    is_chapter = (REPO / path.removesuffix(".html")).with_suffix(".ipynb").is_file()
    return PageInfo(
        path=path,
        has_math=parser.has_math,
        views=views,
        notebook_source=source.read_text(encoding="utf-8")
        if is_chapter and source.is_file()
        else None,
        players=[json.loads(body) for body in _PLAYER_DATA.findall(text)],
    )
