"""Fixtures for the browser tests of the built website.

The site (``$COURSE_SITE_DIR`` or ``_build/html``) is served over HTTP on
a free localhost port, one server and one headless Chromium per test worker (pytest-xdist runs
each worker as its own session). Each test gets fresh browser contexts that record every
request, console message, page error and failed response, so a test can assert the page used
no other host and logged no errors.

Collecting the tests never builds the book: the page-by-page tests are parametrised from the
site as it is on disk, and without one each of them fails, saying to run ``make book``. The
other site tests build the book when they first need it (the ``site`` fixture).
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

import builtsite
from site_browser import VIEWPORT, Recorder, wait_until_rendered

PAGE_PARAMETERS = ("page_path", "math_page", "widget_page", "chapter_notebook_page")
NOT_BUILT = "site-not-built"  # the one parameter of a page test collected without a built site


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise the page fixtures (``page_path``, ``math_page``, ...) from the built site."""
    wanted = set(PAGE_PARAMETERS) & set(metafunc.fixturenames)
    if not wanted:
        return
    site = builtsite.site_dir()
    if not builtsite.is_built(site):
        for name in wanted:
            metafunc.parametrize(name, [NOT_BUILT])
        return
    paths = builtsite.pages(site)
    infos = [builtsite.page_info(site, path) for path in paths]
    choices = {
        "page_path": paths,
        "math_page": [info.path for info in infos if info.has_math],
        "widget_page": [info.path for info in infos if info.views or info.uses_slider_apps],
        "chapter_notebook_page": [info.path for info in infos if info.notebook_source is not None],
    }
    for name in wanted:
        if not choices[name]:
            raise pytest.UsageError(
                f"the built site at {site} has no page for {name!r}; is the book empty?"
            )
        metafunc.parametrize(name, choices[name])


@pytest.fixture(autouse=True)
def _page_tests_need_the_built_site(request: pytest.FixtureRequest) -> None:
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and NOT_BUILT in callspec.params.values():
        pytest.fail(
            f"no built site at {builtsite.site_dir()} when the tests were collected, so there are "
            "no pages to test: run `make book` first (collecting tests does not build it)"
        )


@pytest.fixture(scope="session")
def site() -> Path:
    """The built site folder."""
    try:
        return builtsite.ensure_built()
    except builtsite.SiteError as error:
        pytest.fail(str(error))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _SiteServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # A test that closes its page while frames are still arriving breaks the connection;
        # that is the browser leaving, not a fault of the site. Anything else is still printed.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def base_url(site: Path) -> Iterator[str]:
    """``http://127.0.0.1:<port>/`` serving the site (OS-chosen port, so workers never clash)."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = _SiteServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class OpenedPage:
    page: Page
    recorder: Recorder


class PageCache:
    """Loaded pages kept open for later tests of the same page (least recently used closed first).

    Loading a page with MathJax and slider apps is the slow part of these tests, and most checks
    only read the page, so the tests of one page share a load: their items are ordered page by
    page (see ``pytest_collection_modifyitems``). Everything the load did stays in the recorder.
    """

    def __init__(self, browser: Browser, base_url: str, size: int = 3) -> None:
        self.browser, self.base_url, self.size = browser, base_url, size
        self._open: OrderedDict[tuple[str, str], tuple[BrowserContext, OpenedPage]] = OrderedDict()

    def get(self, path: str, color_scheme: str = "light") -> OpenedPage:
        key = (path, color_scheme)
        if key in self._open:
            self._open.move_to_end(key)
            return self._open[key][1]
        while len(self._open) >= self.size:
            context, _ = self._open.popitem(last=False)[1]
            context.close()
        context = self.browser.new_context(color_scheme=color_scheme, viewport=VIEWPORT)
        try:
            opened = self._load(context, path)
        except BaseException:
            context.close()
            raise
        self._open[key] = (context, opened)
        return opened

    def _load(self, context: BrowserContext, path: str) -> OpenedPage:
        recorder = Recorder()
        context.on("request", lambda request: recorder.requests.append(request.url))
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and recorder.errors.append(
                    f"console error: {message.text} ({message.location.get('url', '')})"
                )
            ),
        )
        page.on("pageerror", lambda error: recorder.errors.append(f"uncaught exception: {error}"))
        page.on(
            "response",
            lambda response: (
                response.status >= 400
                and recorder.errors.append(f"HTTP {response.status} for {response.url}")
            ),
        )
        page.goto(self.base_url + path, wait_until="load")
        wait_until_rendered(page)
        return OpenedPage(page, recorder)

    def close(self) -> None:
        for context, _ in self._open.values():
            context.close()
        self._open.clear()


@pytest.fixture(scope="session")
def page_cache(browser: Browser, base_url: str) -> Iterator[PageCache]:
    cache = PageCache(browser, base_url)
    yield cache
    cache.close()


@pytest.fixture
def open_page(page_cache: PageCache) -> Callable[..., OpenedPage]:
    """``open_page(path, color_scheme="light")``: the site page, loaded and fully rendered.

    Waits for the network to go idle, for MathJax to finish typesetting (if the page loads it)
    and for every embedded widget view to render, so checks see the final page. Tests must only
    read the page (evaluate, screenshot); a test that clicks uses a context of its own.
    """
    return page_cache.get


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Order the per-page site tests page by page, so tests of one page reuse its load."""
    here = Path(__file__).parent
    positions = [i for i, item in enumerate(items) if here in Path(str(item.path)).parents]

    def page_of(item: pytest.Item) -> str:
        params = getattr(getattr(item, "callspec", None), "params", {})
        return next((params[name] for name in PAGE_PARAMETERS if name in params), "")

    site_items = [items[i] for i in positions]
    first_seen: dict[str, int] = {}
    for index, item in enumerate(site_items):
        first_seen.setdefault(page_of(item), index)
    ordered = sorted(site_items, key=lambda item: first_seen[page_of(item)])  # stable within a page
    for position, item in zip(positions, ordered):
        items[position] = item
