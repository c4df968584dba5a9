"""Network diagrams: one circle per unit, one arrow per weight, labels from the layer sizes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch

from coursekit.display.network_diagram import draw_network, unit_labels


def drawn(fig: Figure, prefix: str, kind=None) -> dict[str, object]:
    """Artists of the first axes whose gid starts with ``prefix``, by gid."""
    ax = fig.axes[0]
    artists = list(ax.patches) + list(ax.texts)
    found = {a.get_gid(): a for a in artists if (a.get_gid() or "").startswith(prefix + ":")}
    if kind is not None:
        assert all(isinstance(a, kind) for a in found.values())
    return found


@pytest.mark.parametrize("sizes", [[2, 3, 1], [2, 3, 3, 1], [4, 1], [3, 5, 2, 4]])
def test_one_circle_per_unit_and_one_arrow_per_weight(sizes):
    fig = draw_network(sizes)
    nodes = drawn(fig, "node", Circle)
    edges = drawn(fig, "edge", FancyArrowPatch)
    assert len(nodes) == sum(sizes)
    assert len(edges) == sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    assert not drawn(fig, "bias") and not drawn(fig, "bias-edge")
    # columns left to right, every column's units at one x
    xs = [
        sorted({round(nodes[f"node:{l}:{j}"].center[0], 9) for j in range(n)})
        for l, n in enumerate(sizes)
    ]
    assert all(len(x) == 1 for x in xs) and [x[0] for x in xs] == sorted(x[0] for x in xs)


def test_2_3_1_has_6_plus_3_arrows_and_9_with_the_bias_units_added():
    plain = draw_network([2, 3, 1])
    assert len(drawn(plain, "edge")) == 9
    with_bias = draw_network([2, 3, 1], bias=True)
    assert len(drawn(with_bias, "node")) == 6
    assert len(drawn(with_bias, "bias", Circle)) == 2  # one constant 1 below the output
    assert (
        len(drawn(with_bias, "bias-edge", FancyArrowPatch)) == 3 + 1
    )  # one per bias of layers 1 and 2
    assert [t.get_text() for t in drawn(with_bias, "bias-label").values()] == ["$1$", "$1$"]


def test_arrows_join_every_unit_to_every_unit_of_the_next_layer():
    fig = draw_network([2, 3, 1])
    nodes, edges = drawn(fig, "node"), drawn(fig, "edge")
    for gid, edge in edges.items():
        l, i, j = map(int, gid.split(":")[1:])
        start, end = np.array(edge._posA_posB)
        source, target = (
            np.array(nodes[f"node:{l}:{i}"].center),
            np.array(nodes[f"node:{l + 1}:{j}"].center),
        )
        # the arrow runs from the rim of the source circle to the rim of the target circle
        radius = nodes[f"node:{l}:{i}"].radius
        assert np.linalg.norm(start - source) == pytest.approx(radius)
        assert np.linalg.norm(end - target) == pytest.approx(radius)
    assert {(g.split(":")[2], g.split(":")[3]) for g in edges if g.startswith("edge:0:")} == {
        (str(i), str(j)) for i in range(2) for j in range(3)
    }


def test_labels_follow_the_layer_sizes():
    assert unit_labels([2, 3, 1]) == [
        ["$x_1$", "$x_2$"],
        ["$h_{1,1}$", "$h_{1,2}$", "$h_{1,3}$"],
        ["$\\hat y$"],
    ]
    assert unit_labels([3, 2, 2, 4])[2] == ["$h_{2,1}$", "$h_{2,2}$"]
    assert unit_labels([3, 2, 2, 4])[3] == [
        "$\\hat y_1$",
        "$\\hat y_2$",
        "$\\hat y_3$",
        "$\\hat y_4$",
    ]
    fig = draw_network([2, 3, 3, 1])
    texts = {gid: t.get_text() for gid, t in drawn(fig, "label").items()}
    assert (
        texts["label:0:1"] == "$x_2$"
        and texts["label:2:2"] == "$h_{2,3}$"
        and texts["label:3:0"] == "$\\hat y$"
    )
    assert len(texts) == 2 + 3 + 3 + 1


def test_captions_name_each_layer_its_width_and_activation():
    fig = draw_network([2, 3, 1], activations=["ReLU", "σ"])
    captions = [t.get_text() for t in drawn(fig, "caption").values()]
    assert captions == ["input\n2 features", "hidden layer\n3 units, ReLU", "output\n1 unit, σ"]
    deep = [
        t.get_text()
        for t in drawn(
            draw_network([2, 3, 3, 1], activations=["ReLU", None, None]), "caption"
        ).values()
    ]
    assert deep[1:] == [
        "hidden layer 1\n3 units, ReLU",
        "hidden layer 2\n3 units",
        "output\n1 unit",
    ]


def test_weights_set_colour_by_sign_and_width_by_magnitude():
    W1 = np.array([[1.0, -2.0], [0.5, 0.0], [-0.25, 4.0]])
    W2 = np.array([[2.0, -1.0, 0.5]])
    fig = draw_network([2, 3, 1], weights=[W1, W2], show_values=True)
    edges = drawn(fig, "edge")
    blue, orange = mcolors.to_rgba("#0072B2"), mcolors.to_rgba("#D55E00")
    for l, W in enumerate([W1, W2]):
        for j, i in np.ndindex(W.shape):
            edge = edges[f"edge:{l}:{i}:{j}"]
            expected = (
                blue if W[j, i] > 0 else orange if W[j, i] < 0 else mcolors.to_rgba("#BBBBBB")
            )
            assert edge.get_edgecolor() == expected
    assert (
        edges["edge:0:1:2"].get_linewidth()
        > edges["edge:0:0:0"].get_linewidth()
        > edges["edge:0:1:1"].get_linewidth()
    )
    values = {t.get_text() for t in fig.axes[0].texts}
    assert {"1.00", "\N{MINUS SIGN}2.00", "4.00", "0.50"} <= values
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["positive weight", "negative weight", "zero weight"]


def test_draws_into_given_axes_side_by_side():
    fig = Figure(figsize=(8, 3))
    left, right = fig.subplots(1, 2)
    assert draw_network([2, 3, 1], ax=left, title="2-3-1") is fig
    draw_network([2, 3, 3, 1], ax=right, title="2-3-3-1")
    assert len([p for p in left.patches if isinstance(p, Circle)]) == 6
    assert len([p for p in right.patches if isinstance(p, Circle)]) == 9
    assert right.get_title() == "2-3-3-1"
    fig.canvas.draw()  # lays out and renders without error


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"sizes": [2]}, ValueError, "at least an input and an output"),
        ({"sizes": [2, 0, 1]}, ValueError, r"sizes\[1\] must be a positive integer"),
        ({"sizes": [2, 3.0, 1]}, ValueError, r"sizes\[1\]"),
        ({"sizes": 3}, TypeError, "sequence of layer widths"),
        (
            {"sizes": [2, 3, 1], "activations": ["ReLU"]},
            ValueError,
            "one name per layer after the input",
        ),
        (
            {"sizes": [2, 3, 1], "labels": [["a", "b"], ["c"], ["d"]]},
            ValueError,
            "one entry per unit",
        ),
        (
            {"sizes": [2, 3, 1], "weights": [np.ones((2, 3)), np.ones((1, 3))]},
            ValueError,
            r"weights\[0\] must have shape \(3, 2\)",
        ),
        ({"sizes": [2, 3, 1], "weights": [np.ones((3, 2))]}, ValueError, "one array per layer"),
        (
            {"sizes": [2, 3, 1], "biases": [np.ones(3), np.ones(2)]},
            ValueError,
            r"biases\[1\] must have shape \(1,\)",
        ),
        ({"sizes": [2, 1], "weights": [[[np.nan, 1.0]]]}, ValueError, "NaN or inf"),
        ({"sizes": [2, 3, 1], "show_values": True}, ValueError, "needs weights or biases"),
    ],
)
def test_bad_input_is_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        draw_network(**kwargs)


def test_a_layer_without_bias_gets_no_bias_unit():
    # the 2-3-3-1 network of the worked examples: no output bias
    biases = [np.zeros(3), np.ones(3), None]
    fig = draw_network([2, 3, 3, 1], biases=biases)
    assert sorted(drawn(fig, "bias", Circle)) == ["bias:0", "bias:1"]
    assert len(drawn(fig, "bias-edge")) == 3 + 3
