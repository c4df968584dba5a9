"""Latency of every slider app's redraw, discovered automatically.

Every subclass of :class:`coursekit.widgets.app.SliderApp` defined in a ``coursekit.widgets``
module is built with its default arguments and gets an Agg canvas. A *move* picks one control
at random and sets it to a random valid value with ``app.set(...)`` (what moving one slider
does); the callback time is that call (the app's ``redraw``), the draw time is the following
``app.fig.canvas.draw()`` (Agg rendering of the figure). In a kernel, ``SliderApp.refresh``
then shows the figure as the PNG from ``app.png()`` (a full render plus the PNG encoding), so
"callback + PNG" is what a Jupyter or Binder user waits for after moving a slider; it is timed
in a second child, on an app built exactly as a notebook builds it, without a draw before it.

Each app runs in its own child process, so the peak memory is that of the app alone.

    python bench/bench_sliders.py [--moves 60]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import single_threaded_env

single_threaded_env()

import argparse  # noqa: E402
import importlib  # noqa: E402
import inspect  # noqa: E402
import math  # noqa: E402
import pkgutil  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from _common import PartResult, Row, fmt_mib, fmt_time, in_child, percentile, skipped  # noqa: E402

TARGET = 0.050  # seconds, median of a move including the draw
WARMUP = 3


def discover() -> tuple[list[tuple[str, str]], list[str]]:
    """``(module, class name)`` of each SliderApp subclass in coursekit.widgets; import errors."""
    import coursekit.widgets as package
    from coursekit.widgets.app import SliderApp

    found, errors = [], []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        name = f"{package.__name__}.{info.name}"
        try:
            module = importlib.import_module(name)
        except Exception as exc:
            errors.append(f"{name} does not import: {type(exc).__name__}: {exc}")
            continue
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, SliderApp) and cls is not SliderApp and cls.__module__ == name:
                if cls.redraw is SliderApp.redraw or inspect.isabstract(cls):
                    continue  # a base for other apps, not an app
                found.append((name, cls_name))
    return found, errors


def random_value(control, rng: random.Random):
    """A random valid value for an ipywidgets control (None: leave this kind alone)."""
    kind = type(control).__name__
    options = getattr(control, "_options_values", None)
    if options is not None:
        return rng.choice(list(options))
    if kind == "FloatLogSlider":
        steps = int(round((control.max - control.min) / control.step))
        return control.base ** (control.min + control.step * rng.randint(0, steps))
    if kind in ("FloatSlider", "IntSlider", "BoundedFloatText", "BoundedIntText"):
        steps = int(math.floor((control.max - control.min) / control.step + 1e-9))
        value = control.min + control.step * rng.randint(0, steps)
        return int(value) if kind.startswith(("Int", "BoundedInt")) else min(value, control.max)
    if kind in ("Checkbox", "ToggleButton"):
        return rng.random() < 0.5
    return None


def _measure(module: str, cls_name: str, moves: int, seed: int) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    cls = getattr(importlib.import_module(module), cls_name)
    start = time.perf_counter()
    app = cls()
    FigureCanvasAgg(app.fig)
    app.fig.canvas.draw()
    build = time.perf_counter() - start
    rng = random.Random(seed)
    movable = [name for name, c in app.controls.items() if random_value(c, rng) is not None]
    if not movable:
        raise RuntimeError(f"{cls_name} has no control this benchmark knows how to move")
    callback, draw = [], []
    for i in range(WARMUP + moves):
        name = rng.choice(movable)
        value = random_value(app.controls[name], rng)
        t0 = time.perf_counter()
        app.set(**{name: value})
        t1 = time.perf_counter()
        app.fig.canvas.draw()
        t2 = time.perf_counter()
        if i >= WARMUP:
            callback.append(t1 - t0)
            draw.append(t2 - t0)
    # Diagnostic: the same moves with the layout computed once and then frozen. Constrained
    # layout otherwise re-solves the figure's layout on every draw.
    frozen = []
    if app.fig.get_layout_engine() is not None:
        app.fig.set_layout_engine("none")
        for _ in range(max(10, moves // 3)):
            name = rng.choice(movable)
            t0 = time.perf_counter()
            app.set(**{name: random_value(app.controls[name], rng)})
            app.fig.canvas.draw()
            frozen.append(time.perf_counter() - t0)
    return {
        "build": build,
        "callback": callback,
        "draw": draw,
        "frozen": frozen,
        "controls": movable,
    }


def _measure_png(module: str, cls_name: str, moves: int, seed: int) -> dict:
    """What refresh() does in a kernel: the callback, then ``app.png()`` renders and encodes.

    The app is left exactly as a notebook builds it (no canvas attached here, unlike in
    :func:`_measure`), and no draw precedes ``png()``, so none of its work is done in advance.
    """
    import matplotlib

    matplotlib.use("Agg")
    app = getattr(importlib.import_module(module), cls_name)()
    rng = random.Random(seed)
    movable = [name for name, c in app.controls.items() if random_value(c, rng) is not None]
    png = []
    for i in range(WARMUP + moves):
        name = rng.choice(movable)
        value = random_value(app.controls[name], rng)
        t0 = time.perf_counter()
        app.set(**{name: value})
        app.png()
        if i >= WARMUP:
            png.append(time.perf_counter() - t0)
    return {"png": png}


def run(quick: bool = False, moves: int | None = None) -> PartResult:
    part = "sliders"
    try:
        from coursekit.widgets.app import SliderApp  # noqa: F401
    except ImportError as exc:
        return skipped(part, f"coursekit.widgets.app.SliderApp not present ({exc})")
    apps, errors = discover()
    if not apps:
        return skipped(part, "no SliderApp subclasses in coursekit.widgets yet")
    moves = moves or (20 if quick else 40)
    result = PartResult(part)
    for error in errors:
        result.notes.append(f"sliders: {error} (not measured)")
    lines = [
        "### Slider apps: latency of one move",
        "",
        f"{moves} moves per app after {WARMUP} warm-up moves; a move sets one random control "
        "to a random valid value. 'callback' is `app.set(...)` (the redraw of the artists), "
        "'with draw' adds `fig.canvas.draw()` (Agg), 'with PNG' adds `app.png()` instead "
        "(a full render plus the PNG encoding: what `refresh()` shows in Jupyter or Binder, "
        f"so what a user waits for; measured on {max(10, moves // 2)} moves of an app of "
        "its own, as a notebook builds it). 'layout frozen' repeats moves with draw after "
        "`fig.set_layout_engine('none')`, for an app whose figure still has a layout "
        "engine (a diagnostic; '-' for apps that lay out once themselves). Peak memory: "
        "the app's child process, from before it was built to after the last move.",
        "",
        "| app | controls | build + first draw | callback median / p95 | with draw median "
        "/ p95 | with PNG (as shown in Jupyter) median / p95 | with draw, layout frozen, "
        "median | peak memory |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for seed, (module, cls_name) in enumerate(apps):
        try:
            m = in_child(_measure, module, cls_name, moves, seed)
            m["png"] = in_child(_measure_png, module, cls_name, max(10, moves // 2), seed)["png"]
        except Exception as exc:
            last = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            result.notes.append(f"sliders: {cls_name} failed: {last} (not measured)")
            print(f"  sliders {cls_name}: failed: {last}", flush=True)
            continue
        cb_med, cb_95 = statistics.median(m["callback"]), percentile(m["callback"], 95)
        dr_med, dr_95 = statistics.median(m["draw"]), percentile(m["draw"], 95)
        png_med, png_95 = statistics.median(m["png"]), percentile(m["png"], 95)
        frozen = f"{fmt_time(statistics.median(m['frozen']))}" if m["frozen"] else "-"
        result.rows.append(
            Row(
                part,
                f"{cls_name} ({module.rsplit('.', 1)[1]}.py): one move, "
                "callback / with draw / with PNG, median (p95)",
                f"{fmt_time(cb_med)} ({fmt_time(cb_95)}) / {fmt_time(dr_med)} ({fmt_time(dr_95)}) "
                f"/ {fmt_time(png_med)} ({fmt_time(png_95)})",
                memory=fmt_mib(m["peak_bytes"]),
                target="median < 50 ms (with draw)",
                met=(
                    f"with draw {'yes' if dr_med < TARGET else 'no'}, "
                    f"with PNG {'yes' if png_med < TARGET else 'no'}"
                ),
            )
        )
        lines.append(
            f"| {cls_name} | {', '.join(m['controls'])} | {fmt_time(m['build'])} | "
            f"{fmt_time(cb_med)} / {fmt_time(cb_95)} | {fmt_time(dr_med)} / {fmt_time(dr_95)} | "
            f"{fmt_time(png_med)} / {fmt_time(png_95)} | {frozen} | {fmt_mib(m['peak_bytes'])} |"
        )
        print(
            f"  sliders {cls_name}: callback {fmt_time(cb_med)} (p95 {fmt_time(cb_95)}), "
            f"with draw {fmt_time(dr_med)} (p95 {fmt_time(dr_95)}), "
            f"with PNG {fmt_time(png_med)} (p95 {fmt_time(png_95)})",
            flush=True,
        )
    result.details = "\n".join(lines)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--moves", type=int, default=None)
    args = parser.parse_args()
    result = run(quick=args.quick, moves=args.moves)
    result.print()


if __name__ == "__main__":
    main()
