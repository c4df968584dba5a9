"""The training loop: what the history records, resuming, both output conventions, bad input."""

import numpy as np
import pytest

from coursekit import data, losses
from coursekit.nn import Linear, mlp
from coursekit.optim import SGD
from coursekit.chapters.training import (
    Trainer,
    accuracy,
    check_labels,
    loss_and_grad,
    predict,
    train,
)


def moons():
    return data.moons(n=120, noise=0.15, seed=3)


def test_history_entry_e_is_the_model_after_e_epochs():
    X, y = moons()
    model = mlp([2, 8, 2], "relu", rng=0)
    initial = losses.cce_with_logits(model(X), y)
    snapshots = {}
    history = train(
        model,
        X,
        y,
        loss="cce",
        lr=0.3,
        epochs=5,
        callback=lambda e, m: snapshots.__setitem__(e, losses.cce_with_logits(m(X), y)),
    )
    assert len(history.loss) == len(history.accuracy) == 6
    np.testing.assert_array_equal(history.epochs, np.arange(6))
    assert history.loss[0] == pytest.approx(initial, rel=1e-15)
    assert history.loss[-1] == pytest.approx(losses.cce_with_logits(model(X), y), rel=1e-15)
    assert sorted(snapshots) == list(range(6))
    np.testing.assert_allclose([snapshots[e] for e in range(6)], history.loss, rtol=1e-15)
    assert history.accuracy[-1] == accuracy(model, X, y)


def test_full_batch_training_is_plain_gradient_descent():
    X, y = moons()
    a = mlp([2, 8, 2], "tanh", rng=1)
    b = mlp([2, 8, 2], "tanh", rng=1)
    train(a, X, y, loss="cce", lr=0.2, epochs=3)
    opt = SGD(b.parameters(), lr=0.2)
    for _ in range(3):
        b.backward(losses.cce_with_logits_grad(b(X), y))
        opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(pa.value, pb.value)


def test_resuming_gives_the_same_parameters_as_one_run():
    X, y = moons()
    for batch_size, momentum in [(None, 0.9), (16, 0.5)]:
        one = mlp([2, 8, 2], "relu", rng=2)
        two = mlp([2, 8, 2], "relu", rng=2)
        h1 = train(one, X, y, lr=0.1, epochs=7, batch_size=batch_size, momentum=momentum, seed=5)
        trainer = Trainer(two, X, y, lr=0.1, batch_size=batch_size, momentum=momentum, seed=5)
        trainer.run(3)
        h2 = trainer.run(4)
        assert trainer.epoch == 7
        assert h1.loss == h2.loss
        for pa, pb in zip(one.parameters(), two.parameters()):
            np.testing.assert_array_equal(pa.value, pb.value)


def test_an_mlp_learns_moons_with_both_output_conventions():
    X, y = moons()
    softmax_model = mlp([2, 16, 16, 2], "relu", rng=0)
    h = train(softmax_model, X, y, loss="cce", lr=0.5, epochs=300)
    assert h.accuracy[-1] >= 0.97 and h.loss[-1] < h.loss[0] / 5
    sigmoid_model = mlp([2, 16, 16, 1], "relu", rng=0)
    h = train(sigmoid_model, X, y, loss="bce", lr=0.5, epochs=300)
    assert h.accuracy[-1] >= 0.97
    assert accuracy(sigmoid_model, X, y, loss="bce") == h.accuracy[-1]


def test_minibatches_visit_every_row_once_per_epoch():
    X, y = moons()
    seen = []

    class Spy(Linear):
        def forward(self, X):
            seen.append(X.shape[0])
            return super().forward(X)

    model = Spy(2, 2, rng=0)
    Trainer(model, X, y, lr=0.1, batch_size=50).run(1)
    # one evaluation at the start, batches of 50, 50, 20, one evaluation at the end
    assert seen == [120, 50, 50, 20, 120]


def test_predict_reads_logits_per_convention():
    model = Linear.from_weights([[1.0, 0.0], [0.0, 1.0]])
    X = np.array([[2.0, 1.0], [0.0, 3.0]])
    np.testing.assert_array_equal(predict(model, X, "cce"), [0, 1])
    single = Linear.from_weights([[1.0, -1.0]])
    np.testing.assert_array_equal(predict(single, X, "bce"), [1, 0])


def test_loss_and_grad_is_the_mean_loss_and_its_gradient():
    z = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
    y = np.array([2, 0])
    value, grad = loss_and_grad(z, y, "cce")
    assert value == losses.cce_with_logits(z, y)
    np.testing.assert_allclose(grad, losses.cce_with_logits_grad(z, y))


def test_bad_input_is_named():
    X, y = moons()
    with pytest.raises(ValueError, match="one integer label per row"):
        train(mlp([2, 4, 2], rng=0), X, y[:-1])
    with pytest.raises(ValueError, match="one output"):
        train(mlp([2, 4, 2], rng=0), X, y, loss="bce")
    with pytest.raises(ValueError, match="at least 2"):
        train(mlp([2, 4, 1], rng=0), X, y, loss="cce")
    with pytest.raises(ValueError, match="labels must lie"):
        train(mlp([2, 4, 2], rng=0), X, y + 1)
    with pytest.raises(ValueError, match="'cce'"):
        train(mlp([2, 4, 2], rng=0), X, y, loss="mse")
    with pytest.raises(ValueError, match="epochs"):
        train(mlp([2, 4, 2], rng=0), X, y, epochs=-1)
    with pytest.raises(ValueError, match="batch_size"):
        train(mlp([2, 4, 2], rng=0), X, y, batch_size=0)
    with pytest.raises(ValueError, match="integer class labels"):
        train(mlp([2, 4, 2], rng=0), X, y + 0.5)


def test_divergence_stops_with_a_clear_error():
    X, y = moons()
    # A deep linear network with a huge step: the weights grow geometrically until they overflow.
    with (
        np.errstate(over="ignore", invalid="ignore"),
        pytest.raises(ValueError, match="NaN or inf"),
    ):
        train(mlp([2, 32, 32, 2], "identity", rng=0), X, y, lr=10.0, momentum=0.9, epochs=200)


def test_check_labels_reads_whole_floats_and_refuses_negative_classes():
    np.testing.assert_array_equal(check_labels(np.array([0.0, 2.0, 1.0]), 3), [0, 2, 1])
    assert check_labels(np.array([0.0, 2.0]), 2).dtype == np.int64
    with pytest.raises(ValueError, match="class indices"):
        check_labels([0, -1], 2)
    with pytest.raises(
        ValueError, match=r"labels must lie in 0..1 for 2 classes, got values from -1 to 1"
    ):
        check_labels([-1, 1], 2, num_classes=2)
