"""Figure descriptions: what a figure shows, read off the matplotlib Figure (the alt text)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.pylabtools import select_figure_formats
from matplotlib.figure import Figure

from coursekit.display.descriptions import (
    describe_axes,
    describe_figure,
    describe_figures_in_outputs,
    plain_text,
)
from coursekit.display.graph_drawing import draw
from coursekit.display.network_diagram import draw_network
from coursekit.engine import Value, maximum


@pytest.mark.parametrize(
    "tex, spoken",
    [
        ("step", "step"),
        ("  mean   cross-entropy ", "mean cross-entropy"),
        (r"learning rate $\eta$", "learning rate eta"),
        (r"$\hat{y}$", "y hat"),
        (r"$\hat y_k$", "y hat_k"),
        (r"$\frac{\partial L}{\partial w}$", "(∂ L)/(∂ w)"),
        (r"$\frac{1}{n}$", "1/n"),
        (r"$h_\theta(x)$", "h_theta(x)"),
        (r"$\mathrm{loss}\,(\theta)$", "loss (theta)"),
        (r"$x_{1}$ and $x_2$", "x_1 and x_2"),
        (r"$\sqrt{2}\cdot\sigma$", "sqrt(2)·sigma"),
        (r"$\|w\|^2$", "|w|^2"),
        (r"$\frac{d}{dz}\log\sigma$", "d/dz log sigma"),
    ],
)
def test_tex_is_read_out_as_words(tex: str, spoken: str) -> None:
    assert plain_text(tex) == spoken


def test_one_panel_reads_title_axes_and_legend() -> None:
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0], label=r"$\eta = 0.1$")
    ax.plot([0, 1], [1, 0.5], label="momentum")
    ax.set(title="loss during training", xlabel="step", ylabel="mean cross-entropy")
    ax.legend()
    assert describe_figure(fig) == (
        "loss during training: mean cross-entropy against step (legend: eta = 0.1, momentum)"
    )
    plt.close(fig)


def test_panels_are_numbered_after_the_overall_title_and_colour_bars_join_their_panel() -> None:
    fig, (left, right) = plt.subplots(1, 2)
    image = left.imshow(np.eye(3))
    fig.colorbar(image, ax=left, label=r"$p(y=1 \mid x)$")
    left.set_title("posterior")
    right.set_xlabel("$x_1$")  # a panel with one axis label only
    fig.suptitle("Two classes")
    assert describe_figure(fig) == (
        "Two classes. 2 panels: (1) posterior (colour: p(y=1 mid x)); "
        "(2) x_1 on the horizontal axis"
    )
    plt.close(fig)


def test_panels_that_plot_the_same_quantities_name_them_once() -> None:
    fig, axes = plt.subplots(1, 3, sharey=True)
    for ax, epoch in zip(axes, [0, 5, 20]):
        ax.scatter([0, 1], [1, 0], label="class 0")
        ax.set(title=f"epoch {epoch}", xlabel="$x_1$")
    axes[0].set_ylabel("$x_2$")  # shared: the other panels show no label of their own
    fig.legend(*axes[0].get_legend_handles_labels())
    fig.suptitle("two moons")
    assert describe_figure(fig) == (
        "two moons. 3 panels, each x_2 against x_1: (1) epoch 0; (2) epoch 5; (3) epoch 20; "
        "legend: class 0"
    )
    plt.close(fig)


def test_a_figure_with_nothing_to_read_has_no_description() -> None:
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    assert describe_figure(fig) == ""
    ax.set_axis_off()
    ax.set_xlabel("hidden")  # an axis that is not drawn is not read out
    assert describe_figure(fig) == ""
    plt.close(fig)
    with pytest.raises(TypeError, match="expects a matplotlib Figure, got Axes"):
        describe_figure(ax)


def test_a_diagram_is_described_by_the_code_that_drew_it() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    ax.set_axis_off()
    describe_axes(ax, "  a square\n and its diagonal ")
    ax.set_title("unit square")
    assert describe_figure(fig) == "unit square: a square and its diagonal"
    with pytest.raises(ValueError, match="non-empty description"):
        describe_axes(ax, "  ")


def test_network_diagrams_and_computation_graphs_describe_themselves() -> None:
    network = draw_network([2, 3, 1], activations=["ReLU", "σ"], bias=True, title="the network")
    assert describe_figure(network) == (
        "the network: diagram of a 2-3-1 network: input, 2 features; hidden layer, 3 units, "
        "ReLU; output, 1 unit, σ, with bias units (legend: from the bias unit 1)"
    )
    x, y, w = Value(-2.0, "x"), Value(3.0, "y"), Value(2.0, "w")
    q = x * y
    q.label = "q"
    f = maximum(q + 1, w)
    f.label = "f"
    f.backward()
    assert describe_figure(draw(f)) == (
        "computation graph, inputs on the left: x = -2 (grad 0), y = 3 (grad 0), 1 (grad 0), "
        "w = 2 (grad 1); q = x × y = -6 (grad 0); q + 1 = -5 (grad 0); "
        "f = max(-5, w) = 2 (grad 1)"
    )
    assert describe_figure(draw(f, show_grad=False, rankdir="TB")).startswith(
        "computation graph, inputs at the top: x = -2, y = 3, 1, w = 2; q = x × y = -6;"
    )


@pytest.fixture
def shell():
    shell = InteractiveShell.instance()
    select_figure_formats(shell, {"png"})
    yield shell
    InteractiveShell.clear_instance()


def test_the_kernel_puts_the_description_into_the_image_output_metadata(shell) -> None:
    describe_figures_in_outputs(shell)
    fig, ax = plt.subplots()
    ax.set(title="sigmoid", xlabel="z", ylabel=r"$\sigma(z)$")
    data, metadata = shell.display_formatter.format(fig)
    assert "image/png" in data
    assert metadata["image/png"] == {"alt": "sigmoid: sigma(z) against z"}
    assert "image/svg+xml" not in metadata  # only the formats the figure is shown in
    # `%matplotlib inline` registers the backend's printers again; the description stays
    select_figure_formats(shell, {"png", "svg"})
    data, metadata = shell.display_formatter.format(fig)
    assert (
        metadata["image/png"] == metadata["image/svg+xml"] == {"alt": "sigmoid: sigma(z) against z"}
    )
    plt.close(fig)
    blank, _ = plt.subplots()
    data, metadata = shell.display_formatter.format(blank)
    assert "image/png" in data and "image/png" not in metadata
    plt.close(blank)
