"""Page weight and first paint of every page of the built site, on a throttled line.

Each page is opened in a fresh Chromium context (empty cache: a reader's first visit) with
Chromium's own network throttling at 9 Mbit/s down, 9 Mbit/s up and 40 ms latency (DevTools
``Network.emulateNetworkConditions``), at 390x844 (a phone). Measured per page:

* **bytes**: everything transferred (``encodedDataLength`` of every response, headers included)
  until the network has been idle for half a second, without scrolling;
* **first paint**: ``first-contentful-paint`` of the Paint Timing API, from navigation start;
* for pages with slider apps (frame players, ``_ext/static/frame-player.js``), what a reader
  waits for before the first app on the page responds:

  * **first app ready**: from navigation start until the players have started (the page sets
    ``data-ck-players`` on ``<html>``; the controls are live from then on) and the first app's
    initial frame has loaded; the later of the two, in the cold visit without scrolling;
  * **bytes after scrolling**: the first app is scrolled to the middle of the screen; the bytes
    the page has transferred once the frames one step away from that app's initial one have
    loaded (the player fetches them when an app nears the screen) and the network is idle;
  * **step shown**: its first control is then moved one step as a reader does (``pointerdown``,
    which starts loading all of the app's frames, then ``input``); the time from the
    ``pointerdown`` until the new frame's image has loaded and the next animation frame has run
    (the picture painted);
  * **far move shown**: right after, the same control is moved to the grid value farthest from
    where it is, timed the same way. That frame is not one of those fetched as the app neared
    the screen, but the step has started loading every frame of the app, four at a time in
    frame order, so it may already be on its way.

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
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "site"))
from _common import CHROMIUM, CHROMIUM_ARGS, PartResult, Row, fmt_time, skipped

DOWN_BITS = 9_000_000  # bits per second
LATENCY_MS = 40
VIEWPORT = {"width": 390, "height": 844}
BUDGET_BYTES = 2.5e6
BUDGET_PAINT = 2.5  # seconds
# A move whose frame was fetched in advance: the target of a move in the player part
# (bench_player.py), which times moves with every frame loaded.
STEP_TARGET = 0.050  # seconds
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
    players: int = 0
    first_app_ready: float | None = None  # seconds from navigation start
    bytes_after_scroll: int | None = None
    step_shown: float | None = None  # seconds from the pointerdown
    far_shown: float | None = None


# Before any script of the page runs: note when the players start (the attribute frame-player.js
# sets) and when each frame image loads (load events do not bubble, but they are seen while
# capturing at the document), on the clock of the Paint Timing API (performance.now()). The
# document has no <html> element yet when this runs, so the whole document is observed.
_PROBE = """(() => {
    const probe = window.__pagesBench = {started: null, frameLoaded: new Map()};
    new MutationObserver(() => {
        if (probe.started === null && document.documentElement.hasAttribute('data-ck-players'))
            probe.started = performance.now();
    }).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-ck-players']});
    document.addEventListener('load', (event) => {
        const target = event.target;
        if (target instanceof HTMLImageElement && target.classList.contains('ck-frame')
                && !probe.frameLoaded.has(target))
            probe.frameLoaded.set(target, performance.now());
    }, true);
})();"""

# The first app's state after a cold visit: when it became ready and which frames the player
# fetches once it nears the screen (one step either way along each control).
_FIRST_APP = """() => {
    const probe = window.__pagesBench;
    const root = document.querySelector('div.ck-player');
    const image = root.querySelector('img.ck-frame');
    const loaded = probe.frameLoaded.get(image);
    const data = JSON.parse(root.querySelector('script.ck-player-data').textContent);
    const strides = data.axes.map((_, i) =>
        data.axes.slice(i + 1).reduce((n, axis) => n * axis.keys.length, 1));
    const initial = data.axes.reduce((n, axis, i) => n + axis.default * strides[i], 0);
    const neighbours = [];
    data.axes.forEach((axis, i) => {
        for (const step of [-1, 1]) {
            const value = axis.default + step;
            if (value >= 0 && value < axis.keys.length)
                neighbours.push(new URL(root.dataset.frames + (initial + step * strides[i])
                    + '.' + data.ext, document.baseURI).href);
        }
    });
    return {
        id: data.id,
        players: document.querySelectorAll('div.ck-player').length,
        ready: probe.started === null || loaded === undefined
            ? null : Math.max(probe.started, loaded) / 1000,
        neighbours: neighbours,
        control: (root.querySelector('[data-axis]:not(:disabled)') || {}).id || null,
    };
}"""

_NEIGHBOURS_LOADED = """(urls) => urls.every((url) => performance.getEntriesByName(url).length)"""

# One move of a control as a reader makes it, timed from the pointerdown to the new frame painted
# (its image loaded, then the next animation frame); "far": to the grid value farthest from where
# the control is, else one step (down at the top end). null: the frame did not load in 60 s.
_MOVE = """async ([controlId, far]) => {
    const control = document.getElementById(controlId);
    const image = control.closest('div.ck-player').querySelector('img.ck-frame');
    const count = control.tagName === 'SELECT' ? control.options.length
        : control.type === 'checkbox' ? 2 : Number(control.max) + 1;
    const now = control.type === 'checkbox' ? Number(control.checked) : Number(control.value);
    const value = far ? (now < count / 2 ? count - 1 : 0) : (now + 1 < count ? now + 1 : now - 1);
    const start = performance.now();
    const shown = new Promise((resolve) => {
        image.addEventListener('load',
            () => requestAnimationFrame(() => resolve((performance.now() - start) / 1000)),
            {once: true});
        setTimeout(() => resolve(null), 60000);
    });
    control.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true}));
    if (control.type === 'checkbox') control.checked = Boolean(value);
    else control.value = String(value);
    control.dispatchEvent(new Event('input', {bubbles: true}));
    return await shown;
}"""


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
        page.add_init_script(_PROBE)
        page.goto(base_url + path, wait_until="load", timeout=120_000)
        _wait_idle(counter)
        paint = page.evaluate("""() => {
            const entry = performance.getEntriesByName('first-contentful-paint')[0];
            return entry ? entry.startTime / 1000 : null;
        }""")
        result = PageLoad(path, counter["bytes"], paint if paint is not None else float("nan"))
        if page.evaluate("() => Boolean(document.querySelector('div.ck-player'))"):
            page.wait_for_selector("html[data-ck-players]", state="attached", timeout=60_000)
            page.wait_for_function(
                "() => window.__pagesBench.frameLoaded.has("
                "document.querySelector('div.ck-player img.ck-frame'))",
                timeout=60_000,
            )
            first = page.evaluate(_FIRST_APP)
            result.players = first["players"]
            result.first_app_ready = first["ready"]
            page.evaluate(
                "(id) => document.getElementById('ck-' + id).scrollIntoView({block: 'center'})",
                first["id"],
            )
            page.wait_for_function(_NEIGHBOURS_LOADED, arg=first["neighbours"], timeout=60_000)
            _wait_idle(counter)
            result.bytes_after_scroll = counter["bytes"]
            if first["control"]:
                result.step_shown = page.evaluate(_MOVE, [first["control"], False])
                result.far_shown = page.evaluate(_MOVE, [first["control"], True])
        return result
    finally:
        context.close()


def _mb(n: float | None) -> str:
    return "" if n is None else f"{n / 1e6:.2f} MB"


def _seconds(t: float | None, measured: bool) -> str:
    if not measured:
        return ""
    return "no frame in 60 s" if t is None else fmt_time(t)


def _or_never(t: float | None) -> float:
    return float("inf") if t is None else t


def _details(loads: dict[str, list[PageLoad]]) -> str:
    lines = [
        "### Pages: cold first visit at 9 Mbit/s, 40 ms (390x844)",
        "",
        "Bytes until the network is idle without scrolling; first contentful paint. For pages with",
        "slider apps (apps: how many), what a reader waits for before the first app responds:",
        "*first app ready*, from navigation start until the players have started and the first",
        "app's initial frame has loaded (the later of the two; no scrolling); *bytes after",
        "scrolling*, once the first app is scrolled to and the frames one step from its initial",
        "one have loaded; then its first control moved one step (*step shown*) and right after",
        "to its farthest value (*far move shown*), each from the pointerdown to the new frame",
        "painted.",
        "",
        "| page | server | bytes | first paint | apps | first app ready | "
        "bytes after scrolling | step shown | far move shown |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for server, results in loads.items():
        for load in results:
            apps = bool(load.players)
            ready = "" if load.first_app_ready is None else f"{load.first_app_ready:.2f} s"
            lines.append(
                f"| {load.path} | {server} | {_mb(load.bytes)} | {load.first_paint:.2f} s | "
                f"{load.players or ''} | {ready} | {_mb(load.bytes_after_scroll)} | "
                f"{_seconds(load.step_shown, apps)} | {_seconds(load.far_shown, apps)} |"
            )
    return "\n".join(lines)


def _progress(server: str, load: PageLoad) -> str:
    line = f"  {server:5} {load.path:45} {_mb(load.bytes):>9} first paint {load.first_paint:.2f} s"
    if load.first_app_ready is not None:
        line += (
            f", first app ready {load.first_app_ready:.2f} s, after scrolling "
            f"{_mb(load.bytes_after_scroll)}, step {_seconds(load.step_shown, True)}, "
            f"far move {_seconds(load.far_shown, True)}"
        )
    return line


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
                        print(_progress(name, load), flush=True)
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
        with_apps = [load for load in results if load.first_app_ready is not None]
        if with_apps:
            latest = max(with_apps, key=lambda load: load.first_app_ready or 0.0)
            rows.append(
                Row(
                    "pages",
                    f"latest first app ready: players started and the first app's initial frame "
                    f"loaded, from navigation start ({name}): {latest.path}",
                    f"{latest.first_app_ready:.2f} s",
                    "",
                    "",
                    "",
                    "",
                    "",
                )
            )
            # One move per page is one sample on a shared machine: the median over the pages is
            # the figure, the slowest page is named. A move that never showed its frame counts as
            # the slowest.
            for label, shown in (
                ("one-step move of the first app after scrolling to it", "step_shown"),
                ("move of the first app to its farthest value", "far_shown"),
            ):
                times = [_or_never(getattr(load, shown)) for load in with_apps]
                median = statistics.median(times)
                slow = max(with_apps, key=lambda load: _or_never(getattr(load, shown)))
                rows.append(
                    Row(
                        "pages",
                        f"{label}, pointerdown to frame painted ({name}): median of "
                        f"{len(times)} pages; slowest {_seconds(getattr(slow, shown), True)}, "
                        f"{slow.path}",
                        _seconds(None if median == float("inf") else median, True),
                        "",
                        "",
                        "",
                        f"< {fmt_time(STEP_TARGET)}" if shown == "step_shown" else "",
                        ("yes" if median < STEP_TARGET else "no") if shown == "step_shown" else "",
                    )
                )
    notes = [
        f"{len(pages)} pages, each a cold visit in a fresh Chromium context at 390x844, "
        f"throttled by Chromium to {DOWN_BITS / 1e6:g} Mbit/s and {LATENCY_MS} ms; 'plain': "
        "served uncompressed, 'gzip': text types gzip-compressed",
        "slider apps are frame players: a cold visit loads each app's initial frame; the frames "
        "one step away load when an app nears the screen; the first move of an app starts "
        "loading all its frames; 'bytes after scrolling' is everything transferred by the time "
        "the first app's neighbour frames have loaded and the network is idle (with the "
        "neighbours of apps near it and the figures around it, which load lazily)",
        "moves: the first app's first enabled control, moved by script as a reader does "
        "(pointerdown, then input); the step's frame was fetched as the app neared the screen, "
        "the far move's was not (the step's pointerdown had started loading all the app's "
        f"frames); target for a step: {fmt_time(STEP_TARGET)}, as for a move in the player part",
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
