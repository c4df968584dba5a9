"""The slider apps on the website: frame format, what the frames add to the site, move latency.

* **format**: for every slider app, a few frames of its grid (the initial one and seeded random
  grid points) are drawn and encoded as PNG (what the live app shows), lossless WebP (fastest
  and default effort) and lossy WebP (quality 80 and 90); mean size per frame, encoding time,
  and how far each is from the drawing (PSNR; lossless is exact). The site uses
  ``coursekit.widgets.frames.WEBP_OPTIONS``.
* **drawing**: the time to draw and encode every app's whole grid with an empty cache, one app
  after the other in one process (what a cold ``make book`` adds, spread over its two notebook
  workers). Not with ``--quick``.
* **site**: the built site (``_build/html``, built first if missing) in total and its frames.
* **latency**: in the system Chromium, over http from a local server, every player of every
  chapter page: after the first interaction (which loads the app's frames), a move sets a
  random enabled control to a random other grid value through its ``input`` event; the time is
  from the event to the frame's image having loaded and the next animation frame (the new
  picture painted). Median and 90th percentile over the moves, per app and overall.

    python bench/bench_player.py [--quick] [--moves 40]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import single_threaded_env

single_threaded_env()

import argparse  # noqa: E402
import functools  # noqa: E402
import http.server  # noqa: E402
import io  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from _common import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    PartResult,
    Row,
    fmt_mib,
    fmt_time,
    percentile,
    skipped,
)

LATENCY_TARGET = 0.050
SITE_TARGET = 120 * 1024 * 1024
FORMATS = {
    "PNG (as the live app)": None,
    "WebP lossless, method 0": {"lossless": True, "method": 0},
    "WebP lossless, method 4": {"lossless": True, "method": 4},
    "WebP q80, method 2": {"quality": 80, "method": 2},
    "WebP q90, method 2 (used)": {"quality": 90, "method": 2},
}


def _apps() -> list:
    sys.path.insert(0, str(REPO / "tests" / "widgets"))
    from test_widgets_layout import slider_apps

    return slider_apps()


def measure_formats(samples: int = 3) -> tuple[list[Row], str]:
    import numpy as np
    from PIL import Image

    from coursekit.widgets import frames

    totals = {name: {"bytes": [], "seconds": [], "psnr": []} for name in FORMATS}
    lines = ["| app | " + " | ".join(FORMATS) + " |", "|---|" + "---|" * len(FORMATS)]
    for cls in _apps():
        app = cls()
        axes = frames.grid_axes(app)
        points = list(frames.grid_points(axes))
        rng = random.Random(cls.__name__)
        chosen = [points[frames.frame_number(axes, [a.default for a in axes])][1]]
        chosen += [rng.choice(points)[1] for _ in range(samples - 1)]
        cells = []
        for name, options in FORMATS.items():
            sizes = []
            for values in chosen:
                rgb = frames.frame_rgb(app, values)
                start = time.perf_counter()
                if options is None:
                    data = app.png()
                else:
                    buffer = io.BytesIO()
                    Image.fromarray(rgb).save(buffer, format="WEBP", **options)
                    data = buffer.getvalue()
                totals[name]["seconds"].append(
                    time.perf_counter() - start if options else float("nan")
                )
                shown = frames.decode(data).astype(float)
                mse = float(np.mean((shown - rgb) ** 2))
                totals[name]["psnr"].append(
                    float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)
                )
                sizes.append(len(data))
                totals[name]["bytes"].append(len(data))
            cells.append(f"{statistics.mean(sizes) / 1024:.0f} KiB")
        lines.append(f"| {cls.__name__} | " + " | ".join(cells) + " |")
    rows = []
    for name, t in totals.items():
        seconds = [s for s in t["seconds"] if s == s]
        psnr = min(t["psnr"])
        rows.append(
            Row(
                "player",
                f"frame format: {name}, mean size / encode / worst PSNR",
                f"{statistics.mean(t['bytes']) / 1024:.0f} KiB / "
                f"{fmt_time(statistics.median(seconds)) if seconds else 'in png()'} / "
                f"{'exact' if psnr == float('inf') else f'{psnr:.1f} dB'}",
            )
        )
    return rows, "Mean frame size per app and format:\n\n" + "\n".join(lines)


def measure_drawing() -> tuple[list[Row], str]:
    from coursekit.widgets import frames

    lines = ["| app | frames | draw + encode, all frames | per frame |", "|---|---|---|---|"]
    total, count = 0.0, 0
    with tempfile.TemporaryDirectory() as cache:
        for cls in _apps():
            app = cls()
            axes = frames.grid_axes(app)
            start = time.perf_counter()
            frames.cached_render(app, axes, Path(cache))
            seconds = time.perf_counter() - start
            n = frames.frame_count(axes)
            total, count = total + seconds, count + n
            lines.append(
                f"| {cls.__name__} | {n} | {fmt_time(seconds)} | {fmt_time(seconds / n)} |"
            )
    rows = [
        Row(
            "player",
            f"drawing every app's frames, one process ({count} frames)",
            fmt_time(total),
            target="cold make book < 3 min (see book)",
            met="-",
        )
    ]
    return rows, "Drawing the frames with an empty cache:\n\n" + "\n".join(lines)


def _site() -> Path:
    sys.path.insert(0, str(REPO / "tests" / "site"))
    import builtsite

    return builtsite.ensure_built()


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def measure_site(site: Path) -> list[Row]:
    frames_dir = site / "_static" / "frames"
    total = _size(site)
    frame_bytes = _size(frames_dir) if frames_dir.is_dir() else 0
    count = sum(1 for _ in frames_dir.rglob("*.webp")) if frames_dir.is_dir() else 0
    return [
        Row(
            "player",
            "built site, total",
            fmt_mib(total),
            target="< 120 MiB",
            met="yes" if total < SITE_TARGET else "NO",
        ),
        Row("player", f"of which frames ({count} files)", fmt_mib(frame_bytes)),
    ]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


_MOVE = """async ([id, axis, value]) => {
    const root = document.getElementById('ck-' + id);
    const control = root.querySelector(`[data-axis="${axis}"]`);
    const image = root.querySelector('img.ck-frame');
    const start = performance.now();
    const shown = new Promise((resolve) => {
        const done = () => requestAnimationFrame(() => resolve(performance.now() - start));
        image.addEventListener('load', done, {once: true});
    });
    if (control.type === 'checkbox') control.checked = Boolean(value);
    else control.value = String(value);
    control.dispatchEvent(new Event('input', {bubbles: true}));
    return await shown;
}"""


def measure_latency(site: Path, moves: int) -> tuple[list[Row], str]:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(REPO / "tests" / "site"))
    import builtsite

    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    per_app: dict[str, list[float]] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for path in builtsite.pages(site):
                players = [p for p in builtsite.page_info(site, path).players if p["axes"]]
                if not players:
                    continue
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(base + path, wait_until="load")
                page.wait_for_selector("html[data-ck-players]")
                rng = random.Random(path)
                for player in players:
                    page.focus(
                        f"#ck-{player['id']} [data-axis]"
                    )  # the first interaction loads the frames
                    page.wait_for_load_state("networkidle")
                    state = [a["default"] for a in player["axes"]]
                    times = per_app.setdefault(
                        f"{path.split('/')[-1].removesuffix('.html')} {player['id']}", []
                    )
                    for _ in range(moves):
                        axis = rng.randrange(len(player["axes"]))
                        options = [
                            i for i in range(len(player["axes"][axis]["keys"])) if i != state[axis]
                        ]
                        state[axis] = rng.choice(options)
                        times.append(page.evaluate(_MOVE, [player["id"], axis, state[axis]]) / 1000)
                page.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    everything = [t for times in per_app.values() for t in times]
    median = statistics.median(everything)
    rows = [
        Row(
            "player",
            f"slider move to frame shown, Chromium, median over {len(everything)} moves "
            f"(p90 {fmt_time(percentile(everything, 90))})",
            fmt_time(median),
            target="< 50 ms",
            met="yes" if median < LATENCY_TARGET else "NO",
        )
    ]
    lines = ["| app | moves | median | p90 | max |", "|---|---|---|---|---|"]
    for name, times in per_app.items():
        lines.append(
            f"| {name} | {len(times)} | {fmt_time(statistics.median(times))} | "
            f"{fmt_time(percentile(times, 90))} | {fmt_time(max(times))} |"
        )
    return rows, "Slider move to frame shown, per app (frames loaded):\n\n" + "\n".join(lines)


def run(quick: bool = False, moves: int = 40) -> PartResult:
    try:
        import coursekit.widgets.frames  # noqa: F401
    except ImportError as error:
        return skipped("player", f"coursekit.widgets.frames does not import ({error})")
    result = PartResult("player")
    details = []
    rows, text = measure_formats()
    result.rows += rows
    details.append(text)
    if not quick:
        rows, text = measure_drawing()
        result.rows += rows
        details.append(text)
    else:
        result.notes.append(
            "player: --quick, the drawing of every frame with an empty cache was not timed"
        )
    site = _site()
    result.rows += measure_site(site)
    if not Path(CHROMIUM).is_file():
        result.notes.append(f"player: no Chromium at {CHROMIUM}, latency not measured")
    else:
        rows, text = measure_latency(site, moves)
        result.rows += rows
        details.append(text)
    result.details = "\n\n".join(details)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--moves", type=int, default=40)
    arguments = parser.parse_args()
    run(quick=arguments.quick, moves=arguments.moves).print()
