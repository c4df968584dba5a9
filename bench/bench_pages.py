"""Page weight and first paint of every page of the built site, on a throttled line.

Each page is opened in a fresh Chromium context (empty cache: a reader's first visit) with
Chromium's own network throttling at 9 Mbit/s down, 9 Mbit/s up and 40 ms latency (DevTools
``Network.emulateNetworkConditions``), at 390x844 (a phone). Measured per page:

* **bytes**: everything transferred (``encodedDataLength`` of every response, headers included)
  until the network has been idle for half a second, without scrolling;
* **first paint**: ``first-contentful-paint`` of the Paint Timing API, from navigation start;
* for pages with slider apps, **apps ready**: after scrolling to the first app, the time until
  every embedded slider app has rendered, and the bytes the page has transferred by then.

The site is served from localhost twice: as a plain static server sends it (no compression) and
gzip-compressed for text types, as static hosts such as GitHub Pages do.

    python bench/bench_pages.py [--site _build/html] [--pages chapters/01_x.html,...]
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "site"))
from _common import CHROMIUM, CHROMIUM_ARGS, PartResult, Row, skipped

DOWN_BITS = 9_000_000  # bits per second
LATENCY_MS = 40
VIEWPORT = {"width": 390, "height": 844}
BUDGET_BYTES = 2.5e6
BUDGET_PAINT = 2.5  # seconds
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """A static file server; with ``compress`` it gzips text types for clients that accept it."""

    compress = False

    def log_message(self, format: str, *args: object) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def send_head(self):  # type: ignore[override]
        if not self.compress or "gzip" not in self.headers.get("Accept-Encoding", ""):
            return super().send_head()
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        ctype = self.guess_type(str(path))
        if not path.is_file() or not ctype.startswith(TEXT_TYPES):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        import io

        return io.BytesIO(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # The default listen backlog (5) overflows when a page opens dozens of connections at once;
    # the dropped connections are retried by the client after seconds to minutes (TCP SYN
    # back-off), which showed up as first paints of 88 s.
    request_queue_size = 128

    def handle_error(self, request, client_address) -> None:  # type: ignore[override]
        pass  # a browser that closes a connection early (a cancelled preload) is not an error here


def _serve(site: Path, compress: bool) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler_class = type("Handler", (_Handler,), {"compress": compress})
    server = _Server(("127.0.0.1", 0), functools.partial(handler_class, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@dataclass
class PageLoad:
    path: str
    bytes: int
    first_paint: float
    apps_ready: float | None = None
    bytes_with_apps: int | None = None


def _wait_idle(counter: dict, quiet: float = 0.5, limit: float = 60.0) -> None:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if counter["pending"] <= 0 and time.monotonic() - counter["last"] > quiet:
            return
        time.sleep(0.05)


def measure(browser, base_url: str, path: str) -> PageLoad:
    """One cold, throttled visit of ``path``."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": LATENCY_MS,
                "downloadThroughput": DOWN_BITS / 8,
                "uploadThroughput": DOWN_BITS / 8,
            },
        )
        counter = {"bytes": 0, "pending": 0, "last": time.monotonic()}

        def started(_event: dict) -> None:
            counter["pending"] += 1
            counter["last"] = time.monotonic()

        def finished(event: dict) -> None:
            counter["bytes"] += int(event.get("encodedDataLength", 0))
            counter["pending"] -= 1
            counter["last"] = time.monotonic()

        def failed(_event: dict) -> None:
            counter["pending"] -= 1
            counter["last"] = time.monotonic()

        cdp.on("Network.requestWillBeSent", started)
        cdp.on("Network.loadingFinished", finished)
        cdp.on("Network.loadingFailed", failed)
        page.goto(base_url + path, wait_until="load", timeout=120_000)
        _wait_idle(counter)
        paint = page.evaluate("""() => {
            const entry = performance.getEntriesByName('first-contentful-paint')[0];
            return entry ? entry.startTime / 1000 : null;
        }""")
        result = PageLoad(path, counter["bytes"], paint if paint is not None else float("nan"))
        has_apps = page.evaluate(
            "() => Boolean(document"
            ".querySelector('script[type=\"application/vnd.jupyter.widget-view+json\"]'))"
        )
        if has_apps:
            begin = time.monotonic()
            page.evaluate("""() => document
                .querySelector('script[type="application/vnd.jupyter.widget-view+json"]')
                .parentElement.scrollIntoView({block: 'center'})""")
            page.wait_for_function(
                """() => [...document
                    .querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
                    .every((s) => s.previousElementSibling
                        && s.previousElementSibling.querySelector('.jupyter-widgets'))""",
                timeout=120_000,
            )
            result.apps_ready = time.monotonic() - begin
            _wait_idle(counter)
            result.bytes_with_apps = counter["bytes"]
        return result
    finally:
        context.close()


def _mb(n: float | None) -> str:
    return "" if n is None else f"{n / 1e6:.2f} MB"


def _details(loads: dict[str, list[PageLoad]]) -> str:
    lines = [
        "### Pages: cold first visit at 9 Mbit/s, 40 ms (390x844)",
        "",
        "Bytes until the network is idle without scrolling; first contentful paint; "
        "for pages with slider",
        "apps, the time from scrolling to the first app until every app has rendered, "
        "and the bytes by then.",
        "",
        "| page | server | bytes | first paint | apps ready after scroll | bytes with apps |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for server, results in loads.items():
        for load in results:
            ready = "" if load.apps_ready is None else f"{load.apps_ready:.1f} s"
            lines.append(
                f"| {load.path} | {server} | {_mb(load.bytes)} | {load.first_paint:.2f} s | "
                f"{ready} | {_mb(load.bytes_with_apps)} |"
            )
    return "\n".join(lines)


def run(
    quick: bool = False, site: Path | None = None, pages: list[str] | None = None
) -> PartResult:
    import builtsite

    site = site or builtsite.site_dir()
    if not (site / "searchindex.js").is_file():
        return skipped("pages", f"no built site at {site}; run `make book` first")
    if not Path(CHROMIUM).is_file():
        return skipped("pages", f"Chromium not found at {CHROMIUM}; run `make sysdeps`")
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import sync_playwright

    pages = pages or builtsite.pages(site)
    servers = {"gzip": True} if quick else {"plain": False, "gzip": True}
    loads: dict[str, list[PageLoad]] = {}
    timeouts: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, compress in servers.items():
                server, base_url = _serve(site, compress)
                try:
                    loads[name] = []
                    for path in pages:
                        try:
                            load = measure(browser, base_url, path)
                        except (
                            PlaywrightTimeoutError
                        ) as error:  # one hung visit must not lose the others
                            first_line = str(error).splitlines()[0]
                            print(f"  {name:5} {path:45} timed out: {first_line}", flush=True)
                            timeouts.append(f"{name} {path}: {first_line}")
                            continue
                        print(
                            (
                                f"  {name:5} {path:45} {_mb(load.bytes):>9} first paint "
                                f"{load.first_paint:.2f} s"
                            )
                            + (
                                (
                                    f", apps ready {load.apps_ready:.1f} s after scrolling "
                                    f"({_mb(load.bytes_with_apps)})"
                                )
                                if load.apps_ready is not None
                                else ""
                            ),
                            flush=True,
                        )
                        loads[name].append(load)
                finally:
                    server.shutdown()
                    server.server_close()
        finally:
            browser.close()
    rows = []
    for name, results in loads.items():
        if not results:
            continue
        heaviest = max(results, key=lambda load: load.bytes)
        slowest = max(results, key=lambda load: load.first_paint)
        rows.append(
            Row(
                "pages",
                f"heaviest cold visit ({name}): {heaviest.path}",
                _mb(heaviest.bytes),
                "",
                "",
                "",
                f"<= {_mb(BUDGET_BYTES)}",
                "yes" if heaviest.bytes <= BUDGET_BYTES else "no",
            )
        )
        rows.append(
            Row(
                "pages",
                f"slowest first paint ({name}): {slowest.path}",
                f"{slowest.first_paint:.2f} s",
                "",
                "",
                "",
                f"< {BUDGET_PAINT} s",
                "yes" if slowest.first_paint < BUDGET_PAINT else "no",
            )
        )
    notes = [
        f"{len(pages)} pages, each a cold visit in a fresh Chromium context at 390x844, "
        f"throttled by Chromium to {DOWN_BITS / 1e6:g} Mbit/s and {LATENCY_MS} ms; 'plain': "
        "served uncompressed, 'gzip': text types gzip-compressed",
        "slider apps' scripts (RequireJS, the embed manager) load only when a reader scrolls near "
        "an app; 'bytes with apps' counts them",
    ]
    notes += [f"visit timed out (not counted): {t}" for t in timeouts]
    return PartResult("pages", rows, notes, _details(loads))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=None, help="built site (default: _build/html)")
    parser.add_argument(
        "--pages", default="", help="comma-separated site paths (default: every page)"
    )
    parser.add_argument("--quick", action="store_true", help="gzip server only")
    args = parser.parse_args()
    pages = [p for p in args.pages.split(",") if p] or None
    run(quick=args.quick, site=args.site, pages=pages).print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
