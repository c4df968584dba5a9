r"""What a matplotlib figure shows, in words: the ``alt`` text of the figures on the website.

A figure that a notebook cell draws reaches the website as an image, which a screen reader can
only announce through its ``alt`` text. That text is read off the figure object itself, after
the cell has drawn it, so it says what is actually on the figure:

* the figure's overall title (``suptitle``);
* for every panel (axes), in the order they were added: its title, what is plotted against
  what (the axis labels, "mean cross-entropy against step"), the entries of its legend and the
  label of its colour bar;
* a panel that is a diagram rather than a plot (a network, a computation graph) has no axis
  labels to read; the code that draws it says what it drew with :func:`describe_axes`, which
  stores the sentence as the axes' matplotlib label (``Artist.set_label``).

TeX in labels is read out as words: ``$\hat{y}$`` becomes "y hat", ``$\eta$`` becomes "eta"
(:func:`plain_text`).

:func:`describe_figures_in_outputs` makes an IPython kernel put the description of every
figure it displays into the output's metadata, as ``{"image/png": {"alt": "..."}}``: the key
IPython's own ``Image(..., alt=...)`` writes and nbconvert's HTML export reads. The book build
turns it on in the kernels that execute the chapters (``_ext/figure_descriptions_startup.py``)
and ``_ext/reader_pages.py`` copies the text into each ``<img>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

__all__ = [
    "describe_axes",
    "describe_figure",
    "describe_figures_in_outputs",
    "plain_text",
]

#: The image formats a figure can be displayed in; each one's output metadata gets the text.
IMAGE_MIME_TYPES = ("image/png", "image/svg+xml", "image/jpeg")

# matplotlib's own labels for axes it makes (colour bars are "<colorbar>"), never a description.
_INTERNAL_LABEL = re.compile(r"^<.*>$")

# TeX commands read out as a word or a sign; other commands are read by their name (\eta: eta).
_TEX_SYMBOLS = {
    "cdot": "·",
    "times": "×",
    "to": "→",
    "rightarrow": "→",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "neq": "≠",
    "approx": "≈",
    "pm": "±",
    "infty": "infinity",
    "partial": "∂",
    "nabla": "∇",
    "ell": "l",
    "quad": " ",
    "qquad": " ",
    "left": "",
    "right": "",
    "displaystyle": "",
}
_ACCENTS = {"hat": "hat", "bar": "bar", "tilde": "tilde", "vec": "vector", "dot": "dot"}
_GROUP = r"\{([^{}]*)\}"


def _word_gap(marker: re.Match[str]) -> str:
    """A space where a command's word meets a letter or digit on both sides, else nothing."""
    before = marker.string[marker.start() - 1 : marker.start()]
    after = marker.string[marker.end() : marker.end() + 1]
    return " " if before.isalnum() and after.isalnum() else ""


def plain_text(tex: str) -> str:
    r"""A label as a screen reader should read it: TeX markup turned into words.

    ``$\eta$`` -> "eta", ``$\hat{y}$`` -> "y hat", ``$\frac{a}{b}$`` -> "a/b",
    ``$\mathrm{loss}$`` -> "loss"; subscripts and powers keep their ``_`` and ``^``
    ("x_1", "w^2"). Text without ``$`` is only stripped of surplus white space.

    Args:
        tex: the text of a title, axis label or legend entry (matplotlib mathtext).

    Returns:
        The text without TeX commands, braces and dollar signs.
    """
    if "$" not in tex:
        return re.sub(r"\s+", " ", tex).strip()
    text = tex.replace("$", "")
    text = re.sub(r"\\[,;:! ]", " ", text)  # TeX's spacing commands
    text = re.sub(
        r"\\(?:mathrm|mathbf|mathit|mathcal|text|textbf|operatorname)" + _GROUP, r"\1", text
    )
    for command, word in _ACCENTS.items():
        text = re.sub(rf"\\{command}\s*" + _GROUP, rf"\1 {word}", text)
        text = re.sub(rf"\\{command}\s+(\\?\w)", rf"\1 {word}", text)  # \hat y
    text = re.sub(r"\\frac" + _GROUP + _GROUP, r"(\1)/(\2)", text)
    text = re.sub(r"\(([\w.]+)\)/\(([\w.]+)\)", r"\1/\2", text)  # no brackets around one symbol
    text = re.sub(r"\\sqrt" + _GROUP, r"sqrt(\1)", text)
    text = re.sub(r"\\([{}%$#&_])", r"\1", text)  # escaped characters stand for themselves
    # A command read as a word is set off from letters and digits around it (\log\sigma:
    # "log sigma", \frac{d}{dz}\log: "d/dz log"), not from brackets or subscripts (h_theta(x)).
    text = re.sub(
        r"\\([A-Za-z]+)", lambda m: f"\0{_TEX_SYMBOLS.get(m.group(1), m.group(1))}\0", text
    )
    text = re.sub(r"\0+", _word_gap, text)
    text = text.replace("{", "").replace("}", "").replace("\\", "")
    return re.sub(r"\s+", " ", text).strip()


def describe_axes(ax: Axes, description: str) -> None:
    """Say what a diagram drawn on ``ax`` shows, for :func:`describe_figure` to read out.

    Plots are described by their titles, axis labels and legends; a drawing with its axes
    turned off (a network, a graph) has none, so the code that draws it calls this. The text is
    kept as the axes' matplotlib label, which matplotlib itself never shows.

    Args:
        ax: the axes drawn on.
        description: what the drawing shows, as a phrase ("diagram of a 2-3-1 network: ...").

    Raises:
        ValueError: ``description`` is empty.
    """
    if not description.strip():
        raise ValueError("describe_axes needs a non-empty description")
    ax.set_label(" ".join(description.split()))


def _colour_bars(fig: Figure | SubFigure) -> dict[int, Any]:
    """The colour bars of the figure by the id of their axes (their panels describe them)."""
    bars = {}
    for ax in fig.get_axes():
        for mappable in [*ax.images, *ax.collections]:
            bar = getattr(mappable, "colorbar", None)
            if bar is not None:
                bars[id(bar.ax)] = bar
    return bars


def _colour_bar_label(bar: Any) -> str:
    return plain_text(bar.ax.get_ylabel() or bar.ax.get_xlabel())


def _legend_entries(legend: Any) -> list[str]:
    if legend is None or not legend.get_visible():
        return []
    return [text for text in (plain_text(t.get_text()) for t in legend.get_texts()) if text]


def _axis_label(ax: Axes, which: str) -> str:
    """``ax``'s x or y label, or that of an axes it shares the axis with (``sharey`` panels
    label only the first one)."""
    own = plain_text(ax.get_xlabel() if which == "x" else ax.get_ylabel())
    if own:
        return own
    group = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    for sibling in group.get_siblings(ax):
        text = plain_text(sibling.get_xlabel() if which == "x" else sibling.get_ylabel())
        if text:
            return text
    return ""


@dataclass
class _Panel:
    """What one axes shows: its title, its own description, its axes, legend and colour bar."""

    title: str
    own: str
    axes: str
    extras: list[str]

    def text(self, with_axes: bool = True) -> str:
        """``title: y against x (legend: a, b; colour: z)``, as far as the panel has them."""
        axes = self.axes if with_axes else ""
        head = ": ".join(part for part in (self.title, self.own or axes) if part)
        if self.own and axes:
            head = f"{head}, {axes}"
        if self.extras:
            head = f"{head} ({'; '.join(self.extras)})" if head else "; ".join(self.extras)
        return head


def _panel(ax: Axes, colour_bars: dict[int, Any]) -> _Panel:
    label = str(ax.get_label() or "")  # matplotlib types it as object
    own = "" if not label or _INTERNAL_LABEL.match(label) else plain_text(label)
    titles = [plain_text(ax.get_title(loc)) for loc in ("left", "center", "right")]
    axes = ""
    if ax.axison:
        y, x = _axis_label(ax, "y"), _axis_label(ax, "x")
        zlabel = getattr(ax, "get_zlabel", None)  # 3-D axes: z against (x, y)
        if callable(zlabel) and plain_text(zlabel()):
            y, x = plain_text(zlabel()), ", ".join(n for n in (x, y) if n)
        if y and x:
            axes = f"{y} against {x}"
        elif x:
            axes = f"{x} on the horizontal axis"
        elif y:
            axes = f"{y} on the vertical axis"
    extras = []
    entries = _legend_entries(ax.get_legend())
    if entries:
        extras.append("legend: " + ", ".join(entries))
    for mappable in [*ax.images, *ax.collections]:
        bar = getattr(mappable, "colorbar", None)
        if bar is not None and id(bar.ax) in colour_bars and _colour_bar_label(bar):
            extras.append(f"colour: {_colour_bar_label(bar)}")
    return _Panel(", ".join(t for t in titles if t), own, axes, extras)


def describe_figure(fig: Figure | SubFigure) -> str:
    """What ``fig`` shows, in one or two sentences read off the figure (see the module docstring).

    One panel reads "title: y against x (legend: a, b)"; several read "N panels: (1) ...;
    (2) ...", or "N panels, each y against x: (1) title; ..." when they all plot the same
    quantities, after the figure's overall title if it has one.

    Args:
        fig: a drawn figure (pyplot's or a bare :class:`~matplotlib.figure.Figure`).

    Returns:
        The description, or ``""`` if the figure has no title, labels, legend or axes
        description to read (then the chapter has to say what it shows).

    Raises:
        TypeError: ``fig`` is not a matplotlib figure.
    """
    if not isinstance(fig, (Figure, SubFigure)):
        raise TypeError(f"describe_figure expects a matplotlib Figure, got {type(fig).__name__}")
    colour_bars = _colour_bars(fig)
    panels = [
        panel
        for ax in fig.get_axes()
        if ax.get_visible() and id(ax) not in colour_bars
        for panel in [_panel(ax, colour_bars)]
        if panel.text()
    ]
    shared = {panel.axes for panel in panels}
    if (
        len(panels) > 1
        and len(shared) == 1
        and shared != {""}
        and all(p.text(False) for p in panels)
    ):
        # every panel plots the same quantities: say so once
        head, texts = f"{len(panels)} panels, each {shared.pop()}", [p.text(False) for p in panels]
    else:
        head, texts = f"{len(panels)} panels", [p.text() for p in panels]
    if len(texts) > 1:
        body = f"{head}: " + "; ".join(f"({i}) {text}" for i, text in enumerate(texts, 1))
    else:
        body = texts[0] if texts else ""
    entries = [entry for legend in fig.legends for entry in _legend_entries(legend)]
    if entries:  # a legend for the whole figure
        body = "; ".join(part for part in (body, "legend: " + ", ".join(entries)) if part)
    return ". ".join(part for part in (plain_text(fig.get_suptitle()), body) if part)


def _figure_metadata(shell: Any, fig: Figure) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """IPython mime-bundle printer: no data of its own, only each image format's ``alt``."""
    text = describe_figure(fig)
    if not text:
        return None
    metadata = {}
    for mime in IMAGE_MIME_TYPES:
        formatter = shell.display_formatter.formatters.get(mime)
        if formatter is None or not formatter.enabled:
            continue
        try:
            formatter.lookup(fig)  # only the formats the figure is actually displayed in
        except KeyError:
            continue
        metadata[mime] = {"alt": text}
    return {}, metadata


def describe_figures_in_outputs(shell: Any = None) -> None:
    """Make IPython store every displayed figure's description in the output's metadata.

    Registers a mime-bundle printer for matplotlib figures that adds ``{"alt": text}``
    (:func:`describe_figure`) to the metadata of each image format the figure is shown in, and
    leaves the image itself to matplotlib's inline backend. It lives on IPython's mime-bundle
    formatter, which the inline backend never replaces, so it keeps working after
    ``%matplotlib inline``. A printer that returns metadata of its own (the backend's
    ``retina`` format) takes the place of this one's for its format.

    Args:
        shell: the IPython shell; the running one by default.

    Raises:
        RuntimeError: there is no running IPython.
    """
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    if shell is None:
        raise RuntimeError(
            "describe_figures_in_outputs needs a running IPython (a notebook kernel)"
        )
    shell.display_formatter.mimebundle_formatter.for_type(
        Figure, lambda fig: _figure_metadata(shell, fig)
    )
