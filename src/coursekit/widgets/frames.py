"""Slider apps on the static website: the app's figure drawn in advance for a grid of values.

The website has no kernel, so a slider cannot run the app's Python. Instead, when the book is
built, each :class:`~coursekit.widgets.app.SliderApp` is drawn by its own ``redraw`` for every
point of the grid it declares in :meth:`~coursekit.widgets.app.SliderApp.static_grid`, and the
page plays those pictures back with a small script (``_ext/static/frame-player.js``): moving a
slider shows the frame of that grid point and the readouts stored with it. There is no second
implementation of any app's maths or drawing.

The pieces, in the order a build uses them:

* :func:`grid_axes` turns the app's declaration into :class:`Axis` objects (the values a control
  takes on the website, how they read, which one is the initial value) and checks the grid
  against :data:`FRAME_BUDGET`;
* :func:`render` draws every grid point (:func:`frame_rgb`) and encodes it as a lossless WebP
  (:func:`encode`); the result is kept in a folder of the frame cache named by
  :func:`cache_key`, so an unchanged app is not drawn again;
* :func:`player_html` is what the notebook output holds on the website: plain HTML controls with
  labels and readouts, the default frame, and the grid as JSON for the script.

The book build turns this on by setting :data:`FRAMES_ENV` (``_ext/frame_player.py`` does, and
copies the frames into the site); anywhere else (Jupyter, Binder, Colab) an app is the live
ipywidgets app.

Frame format, chosen by measurement (``bench/bench_player.py``, results in bench/results.md):
WebP at quality 90. For the course's figures (thin lines and text on white) it is about 40 %
of the PNG the live app shows, as small as lossless WebP at its default effort in a quarter
of its encoding time, and the text stays as sharp (the loss is in the colour of thin lines).
"""

from __future__ import annotations

import hashlib
import html
import io
import itertools
import json
import math
import os
import re
import shutil
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from coursekit.widgets.app import SliderApp

#: Environment variable naming the frame cache folder; set only by the book build.
FRAMES_ENV = "COURSEKIT_FRAMES_DIR"

#: At most this many frames per app. Every frame costs build time (one redraw, one render and
#: one encoding, about 0.1 s) and site size; a grid beyond it fails the build.
FRAME_BUDGET = 300

#: Stands for the folder the frames are served from; ``_ext/frame_player.py`` replaces it with
#: the page's relative path to ``_static/frames``.
FRAMES_URL = "@@COURSEKIT_FRAMES@@"

#: Every value of a control (every option of a dropdown, every step of a slider).
ALL = "all"

FRAME_EXTENSION = "webp"
#: Pillow's WebP settings (see the module docstring).
WEBP_OPTIONS = {"quality": 90, "method": 2}

#: Bump when the frame files or the manifest change meaning, so cached frames are redrawn.
CACHE_VERSION = "1"

_SLIDERS = ("IntSlider", "FloatSlider", "FloatLogSlider")
_SELECTS = ("Dropdown", "Select", "RadioButtons", "ToggleButtons", "SelectionSlider")
_CHECKBOXES = ("Checkbox", "ToggleButton")


class GridError(ValueError):
    """An app's static grid is malformed or larger than the frame budget."""


@dataclass(frozen=True)
class Axis:
    """One control as the website shows it.

    Attributes:
        name: the control's name in the app (``app.controls[name]``).
        label: the control's description, shown as its label.
        kind: ``"range"`` (a slider), ``"select"`` (a dropdown) or ``"checkbox"``.
        values: the values the control takes, in the order the website offers them.
        keys: each value as it is written in the page's URL hash.
        texts: each value as the readout (or the option) shows it.
        default: index of the app's initial value in ``values``.
        fixed: True for a control that does not vary on the website (it keeps its initial value
            and is shown disabled); ``values`` then holds that one value.
    """

    name: str
    label: str
    kind: str
    values: tuple[Any, ...]
    keys: tuple[str, ...]
    texts: tuple[str, ...]
    default: int
    fixed: bool = False

    def manifest(self) -> dict[str, Any]:
        """The axis as the player script reads it (JSON)."""
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "keys": list(self.keys),
            "texts": list(self.texts),
            "default": self.default,
            # numeric axes let a hand-written link (#app.lr=0.9) snap to the nearest grid value
            "numbers": [float(v) for v in self.values] if numeric else None,
        }


def readout_text(control: Any, value: Any) -> str:
    """``value`` as the control's readout shows it (its ``readout_format``), or its option label.

    Exponents lose their padding zero (``3.0e-4``, as the ipywidgets readout prints it) and
    negative numbers get a real minus sign, as in the figures.
    """
    kind = type(control).__name__
    if kind in _SELECTS:
        labels, values = control._options_labels, control._options_values
        for label, option in zip(labels, values):
            if _same(option, value):
                return str(label)
        raise GridError(
            f"{value!r} is not an option of {control.description!r}; options are {list(values)}"
        )
    if kind in _CHECKBOXES:
        return "on" if value else "off"
    default = {"IntSlider": "d", "FloatSlider": ".2f", "FloatLogSlider": ".3g"}.get(kind, "")
    spec = getattr(control, "readout_format", None) or default
    text = format(int(value) if spec.endswith("d") else value, spec)
    text = re.sub(
        r"e([+-])0*(\d)", lambda m: "e" + ("" if m.group(1) == "+" else "-") + m.group(2), text
    )
    return text.replace("-", "\N{MINUS SIGN}")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def _slider_values(control: Any) -> list[float]:
    """Every value a slider's handle can take: min, min + step, ..., max (log slider: exponents)."""
    count = int(math.floor((control.max - control.min) / control.step + 1e-9)) + 1
    exponents = [round(control.min + control.step * k, 10) for k in range(count)]
    if type(control).__name__ == "FloatLogSlider":
        return [control.base**e for e in exponents]
    if type(control).__name__ == "IntSlider":
        return [int(e) for e in exponents]
    return exponents


def _axis_values(app_name: str, name: str, control: Any, spec: Any) -> list[Any]:
    kind = type(control).__name__
    if kind in _SELECTS:
        everything = list(control._options_values)
    elif kind in _CHECKBOXES:
        everything = [False, True]
    elif kind in _SLIDERS:
        everything = _slider_values(control)
    else:
        raise GridError(
            f"{app_name}: control {name!r} is a {kind}, which the website player cannot show"
        )
    if isinstance(spec, str) and spec == ALL:
        chosen = list(everything)
    elif isinstance(spec, int) and not isinstance(spec, bool):
        if spec < 2:
            raise GridError(
                f"{app_name}: static_grid()[{name!r}] = {spec}; "
                "a varying control needs at least 2 steps"
            )
        if kind not in _SLIDERS or spec >= len(everything):
            chosen = list(everything)
        else:  # evenly spread over the handle's positions (evenly in log for a log slider)
            picks = sorted({round(i * (len(everything) - 1) / (spec - 1)) for i in range(spec)})
            chosen = [everything[i] for i in picks]
    elif isinstance(spec, Sequence):
        chosen = list(spec)
        if kind in _SLIDERS:  # any value in the slider's range (the handle snaps only in Jupyter)
            outside = [
                v
                for v in chosen
                if not control.min - 1e-9 <= _position(control, v) <= control.max + 1e-9
            ]
        else:
            outside = [v for v in chosen if not any(_same(v, e) for e in everything)]
        if outside or not chosen:
            raise GridError(
                f"{app_name}: static_grid()[{name!r}] has values the control cannot take: "
                f"{outside or 'none given'}"
            )
    else:
        raise GridError(
            f"{app_name}: static_grid()[{name!r}] must be {ALL!r}, "
            f"a number of steps or a list of values, got {spec!r}"
        )
    initial = control.value
    if not any(_same(v, initial) for v in chosen):  # the page opens on the app's initial state
        chosen.append(initial)
    if kind in _SLIDERS:
        chosen.sort()
    elif kind in _SELECTS:
        chosen.sort(key=lambda v: next(i for i, e in enumerate(everything) if _same(v, e)))
    return chosen


def _position(control: Any, value: float) -> float:
    """Where ``value`` sits on the slider's scale (the exponent, for a log slider)."""
    if type(control).__name__ == "FloatLogSlider":
        return math.log(value, control.base) if value > 0 else -math.inf
    return value


def _key(value: Any, index: int) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return format(float(value), ".6g")
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_.~-]+", value):
        return value
    return str(index)  # tuples, unicode labels...: the option's position


def _kind(control: Any) -> str:
    kind = type(control).__name__
    if kind in _SELECTS:
        return "select"
    if kind in _CHECKBOXES:
        return "checkbox"
    return "range"


def grid_axes(app: "SliderApp") -> list[Axis]:
    """The app's controls as the website shows them, in display order.

    Controls named in ``app.static_grid()`` vary over the values it gives; the others keep
    their initial value (``fixed``).

    Raises:
        GridError: a declared control the app does not have, a malformed entry, or a grid with more
            frames than :data:`FRAME_BUDGET` (the message names the app, the grid and the budget).
    """
    name = type(app).__name__
    declared = app.static_grid()
    unknown = set(declared) - set(app.controls)
    if unknown:
        raise GridError(
            f"{name}: static_grid() names unknown control(s) {sorted(unknown)}; "
            f"the app has {list(app.controls)}"
        )
    axes = []
    for control_name, control in app.controls.items():
        if control_name in declared:
            values = _axis_values(name, control_name, control, declared[control_name])
        else:
            values = [control.value]
        keys = [_key(v, i) for i, v in enumerate(values)]
        if len(set(keys)) < len(keys):  # e.g. two floats equal to 6 digits
            keys = [str(i) for i in range(len(values))]
        default = next(i for i, v in enumerate(values) if _same(v, control.value))
        axes.append(
            Axis(
                name=control_name,
                label=str(control.description or control_name),
                kind=_kind(control),
                values=tuple(values),
                keys=tuple(keys),
                texts=tuple(readout_text(control, v) for v in values),
                default=default,
                fixed=control_name not in declared,
            )
        )
    size = frame_count(axes)
    if size > FRAME_BUDGET:
        shape = " x ".join(f"{len(a.values)} {a.name}" for a in axes if not a.fixed)
        raise GridError(
            f"{name}: its static grid has {size} frames ({shape}), more than the budget of "
            f"{FRAME_BUDGET} frames per app; declare fewer steps in static_grid()"
        )
    return axes


def frame_count(axes: Sequence[Axis]) -> int:
    """Number of grid points (frames): the product of the varying axes' lengths."""
    return math.prod(len(axis.values) for axis in axes)


def grid_points(axes: Sequence[Axis]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(frame number, control values)`` for every grid point.

    Frames are numbered in row-major order over the axes (the last control varies fastest),
    the order in which the player script computes a frame's number from the controls.
    """
    ranges = [range(len(axis.values)) for axis in axes]
    for number, indices in enumerate(itertools.product(*ranges)):
        yield number, {axis.name: axis.values[i] for axis, i in zip(axes, indices)}


def frame_number(axes: Sequence[Axis], indices: Sequence[int]) -> int:
    """The frame of the grid point with these per-axis indices (row-major, as the player)."""
    number = 0
    for axis, index in zip(axes, indices):
        number = number * len(axis.values) + index
    return number


def frame_rgb(app: "SliderApp", values: dict[str, Any]) -> np.ndarray:
    """The app's figure for ``values`` as an ``(height, width, 3)`` uint8 array.

    The controls are set and the app's own ``redraw`` runs, exactly as moving the sliders does;
    the figure is rendered as ``app.png()`` renders it (same dpi), without the PNG encoding.
    """
    app.show_state(values)
    buffer = io.BytesIO()
    app.fig.savefig(buffer, format="rgba", dpi=app.dpi)
    width, height = (round(v) for v in app.fig.get_size_inches() * app.dpi)
    rgba = np.frombuffer(buffer.getvalue(), dtype=np.uint8).reshape(height, width, 4)
    return np.ascontiguousarray(rgba[..., :3])


def encode(rgb: np.ndarray) -> bytes:
    """One frame as a WebP file (:data:`WEBP_OPTIONS`)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, format="WEBP", **WEBP_OPTIONS)
    return buffer.getvalue()


def decode(data: bytes) -> np.ndarray:
    """A frame file back to an ``(height, width, 3)`` uint8 array (for the tests)."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _fingerprint(value: Any, digest: "hashlib._Hash") -> None:
    """Feed a stable description of ``value`` (constructor arguments) into ``digest``."""
    if isinstance(value, np.ndarray):
        digest.update(f"ndarray{value.shape}{value.dtype}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}{len(value)}(".encode())
        for item in value:
            _fingerprint(item, digest)
        digest.update(b")")
    elif isinstance(value, dict):
        digest.update(f"dict{len(value)}(".encode())
        for key in sorted(value, key=repr):
            _fingerprint(key, digest)
            _fingerprint(value[key], digest)
        digest.update(b")")
    elif is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__qualname__.encode())
        for field in fields(value):
            _fingerprint(getattr(value, field.name), digest)
    elif callable(value):
        name = f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"
        digest.update(name.encode())
    else:
        digest.update(repr(value).encode())


def _coursekit_imports(path: Path, root: Path) -> set[Path]:
    """The coursekit source files ``path`` imports, directly or through other coursekit modules."""
    import ast

    found: set[Path] = set()
    stack = [path]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        for node in ast.walk(ast.parse(current.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                if name == "coursekit" or not name.startswith("coursekit."):
                    continue
                parts = name.split(".")[1:]
                for candidate in (
                    root.joinpath(*parts).with_suffix(".py"),
                    root.joinpath(*parts, "__init__.py"),
                ):
                    if candidate.is_file():
                        stack.append(candidate)
    return found


def _source_digest(app: "SliderApp") -> str:
    """Hash of the coursekit sources the app's figure depends on.

    That is the app's module and every coursekit module it imports, directly or not (its
    drawing and maths), plus this module and ``app.py``; an edit anywhere else in coursekit
    does not redraw the app's frames.
    """
    import sys

    import coursekit

    root = Path(coursekit.__file__).parent
    module = Path(sys.modules[type(app).__module__].__file__)
    files = _coursekit_imports(module, root) | _coursekit_imports(Path(__file__), root)
    files |= _coursekit_imports(root / "widgets" / "app.py", root)
    digest = hashlib.sha256()
    for path in sorted(files):
        # an app defined outside coursekit (a notebook's own module) is named by its full path
        digest.update(
            (path.relative_to(root) if path.is_relative_to(root) else path).as_posix().encode()
        )
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(app: "SliderApp", axes: Sequence[Axis]) -> str:
    """Name of the app's folder in the frame cache.

    It changes whenever the frames could: the coursekit sources the app uses, the library
    versions that draw and encode, the app's class and constructor arguments, and the grid.
    """
    import matplotlib
    import PIL

    digest = hashlib.sha256()
    digest.update(
        (
            f"{CACHE_VERSION} {matplotlib.__version__} {np.__version__} "
            f"{PIL.__version__} {WEBP_OPTIONS}"
        ).encode()
    )
    digest.update(_source_digest(app).encode())
    digest.update(f"{type(app).__module__}.{type(app).__qualname__} dpi={app.dpi}".encode())
    _fingerprint(app.init_arguments, digest)
    _fingerprint([(a.name, a.values, a.fixed) for a in axes], digest)
    return digest.hexdigest()[:20]


def render(app: "SliderApp", axes: Sequence[Axis], folder: Path) -> dict[str, Any]:
    """Draw every grid point into ``folder`` (``<n>.webp``) and return the manifest.

    The manifest (also written as ``manifest.json``) holds the frame size and, for every frame,
    the readouts of the varying controls as the app's controls show them after being set.
    The app is left at its initial values.
    """
    folder.mkdir(parents=True, exist_ok=True)
    varying = [axis for axis in axes if not axis.fixed]
    readouts = []
    size = None
    for number, values in grid_points(axes):
        rgb = frame_rgb(app, values)
        size = (rgb.shape[1], rgb.shape[0])
        (folder / f"{number}.{FRAME_EXTENSION}").write_bytes(encode(rgb))
        readouts.append(
            [readout_text(app.controls[a.name], app.controls[a.name].value) for a in varying]
        )
    app.show_state({axis.name: axis.values[axis.default] for axis in axes})
    manifest = {
        "frames": frame_count(axes),
        "width": size[0],
        "height": size[1],
        "readouts": readouts,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return manifest


def cached_render(
    app: "SliderApp", axes: Sequence[Axis], cache: Path
) -> tuple[str, dict[str, Any]]:
    """The app's frames from the cache, drawn first if they are not there; ``(key, manifest)``."""
    key = cache_key(app, axes)
    folder = cache / key
    manifest_path = folder / "manifest.json"
    if manifest_path.is_file():
        return key, json.loads(manifest_path.read_text(encoding="utf-8"))
    # Drawn into a folder of its own and renamed when complete: an interrupted build or two
    # builds at once never leave a half-filled folder under the real name.
    scratch = cache / f".{key}.{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    manifest = render(app, axes, scratch)
    try:
        scratch.rename(folder)
    except OSError:  # the same frames were finished by another build meanwhile
        shutil.rmtree(scratch, ignore_errors=True)
    return key, manifest


def _attrs(**attributes: Any) -> str:
    parts = []
    for name, value in attributes.items():
        name = name.rstrip("_").replace("_", "-")
        if value is True:
            parts.append(name)
        elif value is not None and value is not False:
            parts.append(f'{name}="{html.escape(str(value), quote=True)}"')
    return " ".join(parts)


def _control_html(element_id: str, axis: Axis, control: Any, index: int | None) -> str:
    """One labelled control; ``index`` is its position among the varying axes (None if fixed)."""
    label = f"<label {_attrs(for_=element_id)}>{html.escape(axis.label)}</label>"
    text = axis.texts[axis.default]
    # Disabled until the script runs: without it nothing could change the figure.
    common = dict(id=element_id, data_axis=index, disabled=True, title=axis.label)
    if axis.kind == "select":
        if axis.fixed:
            options = [
                (str(label_), _same(value, control.value))
                for label_, value in zip(control._options_labels, control._options_values)
            ]
        else:
            options = [(t, i == axis.default) for i, t in enumerate(axis.texts)]
        body = "".join(
            f"<option {_attrs(value=i, selected=sel)}>{html.escape(t)}</option>"
            for i, (t, sel) in enumerate(options)
        )
        field = f"<select {_attrs(**common)}>{body}</select>"
        return f'<div class="ck-control ck-select">{label}{field}</div>'
    if axis.kind == "checkbox":
        field = (
            f"<input {_attrs(type='checkbox', checked=bool(axis.values[axis.default]), **common)}>"
        )
        return f'<div class="ck-control ck-checkbox">{field}{label}</div>'
    if axis.fixed:  # the real slider's range, so the handle sits where it would in Jupyter
        low, high = _position(control, control.min), _position(control, control.max)
        value, step = _position(control, control.value), control.step
        limits = dict(
            min=format(low, "g"),
            max=format(high, "g"),
            step=format(step, "g"),
            value=format(value, "g"),
        )
    else:
        limits = dict(min=0, max=len(axis.values) - 1, step=1, value=axis.default)
    field = f"<input {_attrs(type='range', aria_valuetext=text, **limits, **common)}>"
    readout = f"<output {_attrs(for_=element_id, aria_hidden='true')}>{html.escape(text)}</output>"
    return f'<div class="ck-control ck-range">{label}{field}{readout}</div>'


def player_html(
    app: "SliderApp", player_id: str, axes: Sequence[Axis], key: str, manifest: dict[str, Any]
) -> str:
    """The app on the website: its controls, the default frame and the data the script plays."""
    from coursekit.widgets.app import LIVE_APP_NOTE

    varying = [axis for axis in axes if not axis.fixed]
    data = {
        "id": player_id,
        "ext": FRAME_EXTENSION,
        "frames": manifest["frames"],
        "axes": [axis.manifest() for axis in varying],
        "readouts": manifest["readouts"],
        "alt": app.figure_description(),
    }
    default_frame = frame_number(varying, [axis.default for axis in varying])
    controls = []
    index = 0
    for axis in axes:
        element_id = f"ck-{player_id}-{axis.name}"
        controls.append(
            _control_html(element_id, axis, app.controls[axis.name], None if axis.fixed else index)
        )
        index += 0 if axis.fixed else 1
    # The note's class and role are those of the site's other notes (_ext/reader_pages.py).
    note = (
        f'<p class="course-live-note" role="note">{html.escape(LIVE_APP_NOTE)}</p>'
        if any(axis.fixed for axis in axes)
        else ""
    )
    state = ", ".join(f"{axis.label} = {axis.texts[axis.default]}" for axis in axes)
    image = (
        "<img "
        + _attrs(
            class_="ck-frame",
            src=f"{FRAMES_URL}/{key}/{default_frame}.{FRAME_EXTENSION}",
            width=manifest["width"],
            height=manifest["height"],
            alt=f"{data['alt']} ({state})",
        )
        + ">"
    )
    # "</" cannot end the script early: json.dumps escapes nothing, so "<" is written as \u003c.
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    player = _attrs(
        class_="ck-player",
        id=f"ck-{player_id}",
        data_player=player_id,
        data_frames=f"{FRAMES_URL}/{key}/",
    )
    shown = f"{FRAMES_URL}/{key}/{default_frame}.{FRAME_EXTENSION}"
    return (
        f"<div {player}>"
        f'<script type="application/json" class="ck-player-data">{payload}</script>'
        f'<div class="ck-controls">{"".join(controls)}</div>{note}'
        # A link to the frame shown (the script keeps it current): on a phone, tap to open it
        # full size.
        f'<div class="ck-figure"><a class="course-figure-link" href="{shown}" '
        f'title="Open the figure full size">{image}</a></div></div>'
    )
