"""Helpers the website's browser tests share: the viewport, a request recorder, rendering waits."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
VIEWPORT = {"width": 1280, "height": 900}


@dataclass
class Recorder:
    """Everything a browser context did that a test may want to check."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        """Requests to any host but the local test server (data: and blob: URLs are local)."""
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(url).hostname not in LOCAL_HOSTS
        ]


_SCROLL_TO_FIRST_APP = """() => {
    const view = document.querySelector('script[type="application/vnd.jupyter.widget-view+json"]');
    if (!view) return false;
    view.parentElement.scrollIntoView({block: 'center'});
    return true;
}"""


def wait_until_rendered(page: Page, timeout_ms: int = 30_000) -> None:
    """Wait for MathJax's typesetting, the widget views the page embeds and its slider players.

    Raises:
        AssertionError: naming what did not finish (MathJax start-up or unrendered widget views).
    """
    status = """() => {
        const mathjax = window.MathJax;
        const mathjaxPending = Boolean(document.querySelector('script[src*="mathjax/"]'))
            && !(mathjax && mathjax.startup && mathjax.startup.promise);
        // The embed manager renders each widget-view script into a div.widget-subarea before it.
        const views = [...document
            .querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
            .filter((script) => {
                const view = script.previousElementSibling;
                return !(view && view.classList.contains('widget-subarea')
                    && view.querySelector('.jupyter-widgets'));
            }).length;
        // The frame players (frame-player.js) mark the page once they have started.
        const playersPending = Boolean(document.querySelector('div.ck-player'))
            && !document.documentElement.hasAttribute('data-ck-players');
        return {mathjaxPending, views, playersPending};
    }"""
    # The widget libraries load when an app nears the viewport
    # (_ext/static/course-widgets-loader.js): scroll to the first app, as a reader would, then back
    # to the top once they are loading.
    if page.evaluate(_SCROLL_TO_FIRST_APP):
        page.wait_for_function("() => Boolean(window.requirejs)", timeout=timeout_ms)
        page.evaluate("() => window.scrollTo(0, 0)")
    try:
        page.wait_for_function(
            f"() => {{ const s = ({status})(); return !s.mathjaxPending && s.views === 0 && "
            "!s.playersPending; }",
            timeout=timeout_ms,
        )
    except PlaywrightTimeoutError:
        state = page.evaluate(status)
        raise AssertionError(
            f"{page.url} did not finish rendering in {timeout_ms / 1000:.0f} s: MathJax started: "
            f"{not state['mathjaxPending']}, widget views left unrendered: {state['views']}, "
            f"slider players started: {not state['playersPending']}"
        ) from None
    page.evaluate(
        "() => window.MathJax && window.MathJax.startup ? window.MathJax.startup.promise : null"
    )
    page.wait_for_load_state("networkidle")
