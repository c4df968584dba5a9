r"""A small "playground" for the training chapter: train an MLP on a toy dataset with sliders.

The network has two hidden ReLU layers of ``hidden`` units and a softmax output with one logit
per class; it is trained with full-batch gradient descent with momentum 0.9 on the mean
categorical cross-entropy (:func:`coursekit.chapters.training.train`). The figure shows the decision
regions with the data on the left and the training loss curve on the right.

Keeping a redraw fast: for each setting of (dataset, hidden, learning rate, seed) one training
run is kept and only ever extended, with a snapshot of the weights every ``STEP_INCREMENT``
steps. Moving the ``steps`` slider back costs nothing, moving it forward trains only the missing
steps; because the run is deterministic, a snapshot after ``s`` steps is exactly the model a
fresh run of ``s`` steps would give.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from coursekit import data
from coursekit.nn import Sequential, mlp
from coursekit.display.plotting import (
    bounds,
    decision_regions,
    grid,
    scatter_classes,
    update_decision_regions,
)
from coursekit.chapters.training import Trainer, labels_from_logits
from coursekit.widgets.app import SliderApp
from coursekit.widgets.frames import ALL

DATASETS = ("moons", "spirals", "xor")
MOMENTUM = 0.9
MAX_STEPS = 1000
STEP_INCREMENT = 25
GRID_STEPS = 90
MAX_CACHED_RUNS = 24
NUM_COLORS = 3  # the most classes of any dataset; two-class data use the first two colours
EXTENT_MARGIN = 0.3  # around the data, for the region plot


def playground_data(dataset: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The training data for ``dataset`` (``"moons"``, ``"spirals"`` or ``"xor"``) drawn with
    ``seed``.

    moons: 200 points, noise 0.2; spirals: 300 points on 3 arms, noise 0.2; xor: 200 points,
    noise 0.3.
    """
    if dataset == "moons":
        return data.moons(n=200, noise=0.2, seed=seed)
    if dataset == "spirals":
        return data.spirals(n=300, k=3, noise=0.2, seed=seed)
    if dataset == "xor":
        return data.xor(n=200, noise=0.3, seed=seed)
    raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")


def playground_model(num_classes: int, hidden: int, seed: int) -> Sequential:
    """The MLP 2 -> hidden -> hidden -> num_classes with ReLU after each hidden layer."""
    return mlp([2, hidden, hidden, num_classes], "relu", rng=seed)


@dataclass
class _Run:
    """One training run that is extended on demand, with weight snapshots."""

    trainer: Trainer
    snapshots: dict[int, list[np.ndarray]] = field(default_factory=dict)
    diverged_at: int | None = None

    def advance_to(self, steps: int) -> None:
        while self.trainer.epoch < steps and self.diverged_at is None:
            chunk = min(
                STEP_INCREMENT - self.trainer.epoch % STEP_INCREMENT, steps - self.trainer.epoch
            )
            try:
                # Overflow in a diverging run is reported by SGD as a ValueError; numpy's own
                # warnings about it would only repeat that.
                with np.errstate(over="ignore", invalid="ignore"):
                    self.trainer.run(chunk)
            except ValueError:
                self.diverged_at = self.trainer.epoch
                break
            if self.trainer.epoch % STEP_INCREMENT == 0:
                self.snapshot()

    def snapshot(self) -> None:
        self.snapshots[self.trainer.epoch] = [
            p.value.copy() for p in self.trainer.model.parameters()
        ]


class PlaygroundApp(SliderApp):
    """Decision regions and loss curve of an MLP trained with the chosen settings.

    Controls: ``dataset``, ``hidden`` (units per hidden layer), ``lr`` (learning rate, log
    scale), ``steps`` (gradient steps, multiples of 25) and ``seed`` (data and initial weights).

    Attributes (updated on every redraw):
        X, y: the training data.
        model: a network holding the weights after ``steps`` steps (or the last finite ones if
            the run diverged earlier).
        steps_done: steps actually taken (``steps``, or fewer after a divergence).
        diverged_at: step at which the gradients became non-finite, else ``None``.
        loss_history, accuracy_history: training loss and accuracy after 0 .. ``steps_done`` steps
            (the loss curve's y-data).
        accuracy: training accuracy of ``model``.
        region_labels: predicted class at each point of the ``GRID_STEPS x GRID_STEPS`` grid over
            ``extent`` (the image data); ``grid_points`` are those points, row by row.
        image, points, loss_line, loss_marker: the artists.
    """

    figsize = (9.0, 4.0)

    def __init__(
        self,
        dataset: str = "moons",
        hidden: int = 8,
        lr: float = 0.1,
        steps: int = 200,
        seed: int = 0,
    ) -> None:
        if dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
        self._initial = dict(
            dataset=dataset, hidden=int(hidden), lr=float(lr), steps=int(steps), seed=int(seed)
        )
        self._runs: OrderedDict[tuple, _Run] = OrderedDict()
        super().__init__()

    def make_controls(self) -> dict[str, widgets.ValueWidget]:
        v = self._initial
        return {
            "dataset": widgets.Dropdown(
                options=list(DATASETS), value=v["dataset"], description="dataset"
            ),
            "hidden": widgets.IntSlider(
                value=v["hidden"],
                min=2,
                max=32,
                step=2,
                description="hidden units",
                continuous_update=False,
            ),
            "lr": widgets.FloatLogSlider(
                value=v["lr"],
                base=10,
                min=-3,
                max=0.5,
                step=0.1,
                description="learning rate",
                continuous_update=False,
            ),
            "steps": widgets.IntSlider(
                value=v["steps"],
                min=0,
                max=MAX_STEPS,
                step=STEP_INCREMENT,
                description="steps",
                continuous_update=False,
            ),
            "seed": widgets.IntSlider(
                value=v["seed"], min=0, max=9, description="seed", continuous_update=False
            ),
        }

    def static_grid(self) -> dict[str, Any]:
        # Every data set, learning rates from 0.01 to 3 and seven step counts: 168 frames from
        # 24 training runs (the steps vary fastest, so each run is trained once and replayed from
        # its snapshots). Hidden units and seed stay fixed on the website.
        return {
            "dataset": ALL,
            "lr": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0],
            "steps": [0, 50, 100, 200, 300, 500, 750, 1000],
        }

    def layout_states(self) -> list[dict[str, Any]]:
        # Before the first step the loss axis spans less than a decade, so its minor ticks are
        # labelled too (6x10^-1, the widest labels); the xor data with seed 2 end just at an
        # x tick, whose label sticks out to the right of the regions.
        return [{"steps": 0}, {"dataset": "xor", "seed": 2, "steps": 0}]

    def setup(self, fig: Figure) -> None:
        self.ax_regions, self.ax_loss = fig.subplots(1, 2)
        # Class 0 everywhere until the first redraw fills in the data's extent and the predictions.
        self.image = decision_regions(
            self.ax_regions,
            lambda P: np.zeros(len(P), dtype=int),
            (0, 1, 0, 1),
            NUM_COLORS,
            GRID_STEPS,
            alpha=0.3,
        )
        self.points = scatter_classes(
            self.ax_regions,
            np.zeros((1, 2)),
            np.zeros(1, dtype=int),
            num_classes=NUM_COLORS,
            zorder=2,
        )
        self.ax_regions.set_xlabel("$x_1$")
        self.ax_regions.set_ylabel("$x_2$")
        (self.loss_line,) = self.ax_loss.plot([], [], color="#0072B2")
        (self.loss_marker,) = self.ax_loss.plot([], [], "o", color="#0072B2")
        self.ax_loss.set_yscale("log")
        self.ax_loss.set_xlim(0, MAX_STEPS)
        self.ax_loss.set_xlabel("gradient steps")
        self.ax_loss.set_ylabel("training loss (cross-entropy)")
        self.ax_loss.grid(True, alpha=0.3)

    def _run(self, dataset: str, hidden: int, lr: float, seed: int) -> _Run:
        key = (dataset, hidden, round(lr, 12), seed)
        if key in self._runs:
            self._runs.move_to_end(key)
            return self._runs[key]
        X, y = playground_data(dataset, seed)
        model = playground_model(int(y.max()) + 1, hidden, seed)
        run = _Run(Trainer(model, X, y, loss="cce", lr=lr, momentum=MOMENTUM))
        run.snapshot()
        self._runs[key] = run
        if len(self._runs) > MAX_CACHED_RUNS:
            self._runs.popitem(last=False)
        return run

    def redraw(self, **values: Any) -> None:
        dataset, hidden, lr = values["dataset"], int(values["hidden"]), float(values["lr"])
        steps, seed = int(values["steps"]), int(values["seed"])
        run = self._run(dataset, hidden, lr, seed)
        run.advance_to(steps)
        self.diverged_at = run.diverged_at
        # The state to show: `steps`, or the last snapshot before a divergence.
        shown = (
            steps
            if run.diverged_at is None
            else max(s for s in run.snapshots if s <= min(steps, run.diverged_at))
        )
        self.steps_done = shown
        self.X, self.y = run.trainer.X, run.trainer.y
        num_classes = int(self.y.max()) + 1
        self.model = playground_model(num_classes, hidden, seed)
        for p, saved in zip(self.model.parameters(), run.snapshots[shown]):
            p.value[...] = saved
        self.loss_history = np.array(run.trainer.history.loss[: shown + 1])
        self.accuracy_history = np.array(run.trainer.history.accuracy[: shown + 1])
        self.accuracy = float(self.accuracy_history[-1])

        self.extent = bounds(self.X, margin=EXTENT_MARGIN)
        _, _, self.grid_points = grid(self.extent, GRID_STEPS)
        self.image.set_extent(self.extent)
        with np.errstate(over="ignore", invalid="ignore"):
            update_decision_regions(self.image, lambda P: labels_from_logits(self.model(P), "cce"))
        self.region_labels = np.asarray(self.image.get_array())
        self.points.set_offsets(self.X)
        self.points.set_array(self.y)
        self.ax_regions.set_xlim(self.extent[0], self.extent[1])
        self.ax_regions.set_ylim(self.extent[2], self.extent[3])
        note = f", diverged at step {run.diverged_at}" if run.diverged_at is not None else ""
        self.ax_regions.set_title(
            f"{dataset}: {hidden}-{hidden} ReLU, step {shown}, accuracy {self.accuracy:.1%}{note}",
            fontsize=9,
        )

        steps_axis = np.arange(shown + 1)
        self.loss_line.set_data(steps_axis, self.loss_history)
        self.loss_marker.set_data([shown], [self.loss_history[-1]])
        finite = self.loss_history[np.isfinite(self.loss_history) & (self.loss_history > 0)]
        if finite.size:
            self.ax_loss.set_ylim(finite.min() / 2, finite.max() * 2)
        self.ax_loss.set_title(
            f"learning rate {lr:.3g}, momentum {MOMENTUM}: loss {self.loss_history[-1]:.3g}",
            fontsize=9,
        )
