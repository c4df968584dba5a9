"""Every page of the website works with no internet: nothing is loaded from another host and the
browser reports no errors (a failed script, a 404, an uncaught exception)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

# Tags and attributes whose URLs the browser fetches on its own (links the reader clicks are fine).
_FETCHED = {
    "script": "src",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "audio": "src",
    "video": "src",
    "embed": "src",
}
_FETCHED_LINK_RELS = {
    "stylesheet",
    "preload",
    "modulepreload",
    "prefetch",
    "icon",
    "shortcut",
    "manifest",
    "apple-touch-icon",
}


class _ResourceURLs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in _FETCHED and attributes.get(_FETCHED[tag]):
            self.urls.append(attributes[_FETCHED[tag]] or "")
        if (
            tag == "link"
            and set((attributes.get("rel") or "").lower().split()) & _FETCHED_LINK_RELS
        ):
            self.urls.append(attributes.get("href") or "")


def test_page_loads_with_no_other_host_and_no_errors(open_page, page_path: str) -> None:
    opened = open_page(page_path)
    assert opened.recorder.foreign_requests() == [], f"{page_path} requested other hosts"
    assert opened.recorder.errors == [], f"{page_path} logged errors"
    # The page really rendered: a title and body text, not an error page.
    assert opened.page.locator("article h1").first.inner_text().strip(), f"{page_path} has no title"


def test_page_references_only_local_resources(site: Path, page_path: str) -> None:
    """Static check of the HTML: every script, stylesheet, image, font preload is site-relative."""
    parser = _ResourceURLs()
    parser.feed((site / page_path).read_text(encoding="utf-8"))
    remote = [
        url
        for url in parser.urls
        if urlsplit(url).scheme in ("http", "https") or url.startswith("//")
    ]
    assert remote == [], f"{page_path} loads resources from other hosts"
    assert parser.urls, f"{page_path} references no scripts or stylesheets at all"


def test_site_serves_its_own_mathjax_and_widget_libraries(site: Path) -> None:
    """The files the pages point at exist in the site (not only in a developer's cache)."""
    for relative in (
        "_static/mathjax/tex-chtml.js",
        "_static/mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
        "_static/widgets/require.js",
        "_static/widgets/embed-amd.js",
        "_static/course-widgets.js",
        "_static/course.css",
        "_static/favicon.svg",
    ):
        path = site / relative
        assert path.is_file() and path.stat().st_size > 0, (
            f"{relative} is missing from the built site"
        )
