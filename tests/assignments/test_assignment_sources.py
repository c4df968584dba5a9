"""The nbgrader source notebooks of the assignments: metadata, reference solutions, failing tests.

Organised by concept:

* **nbgrader metadata** -- every cell is an nbgrader cell with a unique ``grade_id``; points add up
  to the total stated in the first cell; nothing is stored in outputs; nbgrader's own validator and
  its release preprocessors accept the notebooks.
* **test cells** -- they assert only through ``coursekit.checks`` (the grader records those answers
  and compares them outside the student's kernel), never end with a bare expression, and use
  unique, deterministic check keys.
* **reference solutions** -- each notebook runs top to bottom in a fresh kernel without errors,
  warnings or stderr output, so the reference passes every visible and hidden test.
* **the tests can fail** -- the released notebook (solutions replaced by ``raise
  NotImplementedError()``) fails every autograded test cell, and a list of plausible mistakes
  (several taken from the lecture notes: wrong signs, sums instead of means, naive overflowing
  formulas, wrong tie conventions) each fails the test cell of its function; mistakes marked
  "hidden" pass the visible tests and are caught only by the hidden ones.
* **agreement with coursekit** -- the reference solutions agree with ``coursekit``'s own
  implementations, and the worked example of note 003 matches values derived by hand.

Kernel executions use nbclient; the many mutant runs execute the cells in-process (much faster).
"""

from __future__ import annotations

import ast
import copy
import json
import re
import time
import warnings
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

from coursekit import activations, losses, nn
from coursekit.checks import RECORD_ENV

SOURCE = Path(__file__).resolve().parents[2] / "assignments" / "source"
NOTEBOOKS = ["01_logistic_regression", "02_softmax_regression", "03_backprop"]
FORBIDDEN_IMPORTS = (
    "coursekit.activations",
    "coursekit.losses",
    "coursekit.nn",
    "coursekit.engine",
    "coursekit.gradcheck",
)
HIDDEN_REGION = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.S | re.M
)
SOLUTION_REGION = re.compile(
    r"^[ \t]*### BEGIN SOLUTION.*?^[ \t]*### END SOLUTION[^\n]*\n?", re.S | re.M
)
KERNEL_TIME_LIMIT = 20.0  # seconds for one notebook, top to bottom


# --- helpers ------------------------------------------------------------------------------------


def load(name: str) -> nbformat.NotebookNode:
    return nbformat.read(SOURCE / name / f"{name}.ipynb", as_version=4)


def meta(cell: nbformat.NotebookNode) -> dict[str, Any]:
    return cell.metadata.get("nbgrader", {})


def is_test_cell(cell: nbformat.NotebookNode) -> bool:
    """An autograded test cell: graded, not a solution."""
    return (
        cell.cell_type == "code"
        and meta(cell).get("grade", False)
        and not meta(cell).get("solution", False)
    )


def is_answer_cell(cell: nbformat.NotebookNode) -> bool:
    """An autograded answer cell: code the student writes."""
    return cell.cell_type == "code" and meta(cell).get("solution", False)


def is_written_cell(cell: nbformat.NotebookNode) -> bool:
    """A manually graded written answer."""
    return (
        cell.cell_type == "markdown"
        and meta(cell).get("solution", False)
        and meta(cell).get("grade", False)
    )


def grade_ids(nb: nbformat.NotebookNode, predicate) -> list[str]:
    return [meta(c)["grade_id"] for c in nb.cells if predicate(c)]


def release_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What students get: nbgrader's own preprocessors clear solutions and hidden tests."""
    released = copy.deepcopy(nb)
    resources: dict[str, Any] = {}
    released, resources = ClearSolutions().preprocess(released, resources)
    released, resources = ClearHiddenTests().preprocess(released, resources)
    return released


def execute_in_kernel(nb: nbformat.NotebookNode, cwd: Path) -> float:
    """Run a notebook in a fresh python3 kernel (errors recorded, not raised); return seconds."""
    start = time.perf_counter()
    NotebookClient(
        nb,
        kernel_name="python3",
        timeout=120,
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    ).execute()
    return time.perf_counter() - start


def outputs_of(cell: nbformat.NotebookNode, output_type: str) -> list[Any]:
    return [o for o in cell.get("outputs", []) if o.output_type == output_type]


def stderr_of(cell: nbformat.NotebookNode) -> str:
    return "".join(o.text for o in outputs_of(cell, "stream") if o.name == "stderr")


def run_in_process(
    nb: nbformat.NotebookNode,
    overrides: dict[str, str] | None = None,
    stop_after: str | None = None,
    hide_hidden_tests: bool = False,
) -> dict[str, BaseException | None]:
    """Execute the code cells in one namespace in this process; return each cell's exception.

    Plotting demo cells are skipped (nothing later depends on them). A warning raised by a cell
    counts as a failure of that cell, as stderr output would under nbgrader.
    """
    overrides = overrides or {}
    namespace: dict[str, Any] = {"__name__": "__main__"}
    results: dict[str, BaseException | None] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        gid = meta(cell)["grade_id"]
        source = overrides.get(gid, cell.source)
        if hide_hidden_tests:
            source = HIDDEN_REGION.sub("", source)
        if "plt." not in source:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                try:
                    exec(compile(source, f"<{gid}>", "exec"), namespace)
                except Exception as exc:  # a failing test cell is data here, not a crash
                    results[gid] = exc
                else:
                    results[gid] = None
        if gid == stop_after:
            break
    return results


def solution_namespace(name: str) -> dict[str, Any]:
    """The reference solutions of a notebook (set-up and answer cells only), defined in-process."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for cell in load(name).cells:
        if cell.cell_type == "code" and not is_test_cell(cell) and "plt." not in cell.source:
            exec(compile(cell.source, f"<{meta(cell)['grade_id']}>", "exec"), namespace)
    return namespace


def stated_total(nb: nbformat.NotebookNode) -> tuple[int, int, int]:
    match = re.search(r"Total: (\d+) points: (\d+) autograded, (\d+) written", nb.cells[0].source)
    assert match, "the first cell must state 'Total: N points: A autograded, W written'"
    total, auto, written_points = (int(g) for g in match.groups())
    return total, auto, written_points


# --- nbgrader metadata --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_valid_python3_notebook_without_outputs(name):
    nb = load(name)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.metadata.kernelspec.language == "python"
    assert nb.metadata.language_info.name == "python"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{meta(cell).get('grade_id')}: outputs are stored"
            assert cell.execution_count is None, (
                f"{meta(cell).get('grade_id')}: execution count is stored"
            )
    files = [p.name for p in (SOURCE / name).iterdir() if not p.name.startswith(".")]
    assert files == [f"{name}.ipynb"], "data are generated in code; only the notebook belongs here"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_cell_carries_complete_nbgrader_metadata(name):
    nb = load(name)
    MetadataValidator().validate_nb(nb)  # nbgrader's own check (raises on problems)
    ids = [meta(c).get("grade_id") for c in nb.cells]
    assert all(ids), "every cell needs an nbgrader grade_id"
    assert len(ids) == len(set(ids)), (
        f"duplicate grade_ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    )
    for cell in nb.cells:
        m = meta(cell)
        assert m["schema_version"] == 3 and m["task"] is False, m
        if is_test_cell(cell):
            assert m["locked"] is True and m["points"] > 0, m
        elif is_answer_cell(cell):
            assert m["locked"] is False and m["grade"] is False and "points" not in m, m
        elif is_written_cell(cell):
            assert m["locked"] is False and m["points"] > 0, m
        else:
            assert m["locked"] is True and m["grade"] is False and m["solution"] is False, m


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_points_add_up_to_the_stated_total(name):
    nb = load(name)
    total, auto, written_points = stated_total(nb)
    auto_sum = sum(meta(c)["points"] for c in nb.cells if is_test_cell(c))
    written_sum = sum(meta(c)["points"] for c in nb.cells if is_written_cell(c))
    assert (auto_sum, written_sum, auto_sum + written_sum) == (auto, written_points, total)
    # The table of parts in the first cell lists the same points.
    table = [
        int(row.rsplit("|", 2)[1])
        for row in nb.cells[0].source.splitlines()
        if re.match(r"\| \d+ \|.*\| \d+ \|$", row)
    ]
    assert sum(table) == total
    assert len(grade_ids(nb, is_written_cell)) == 1, "one written question per assignment"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_answer_cell_is_followed_by_its_test_cell(name):
    nb = load(name)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for i, cell in enumerate(code_cells):
        if is_answer_cell(cell):
            following = next(
                (c for c in code_cells[i + 1 :] if is_test_cell(c) or is_answer_cell(c)), None
            )
            assert following is not None and is_test_cell(following), meta(cell)["grade_id"]
            assert meta(following)["grade_id"] == "test_" + meta(cell)["grade_id"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_answer_cells_keep_signature_and_docstring_outside_the_solution(name):
    nb = load(name)
    released = release_version(nb)
    for source_cell, released_cell in zip(nb.cells, released.cells):
        if is_answer_cell(source_cell):
            gid = meta(source_cell)["grade_id"]
            assert (
                "### BEGIN SOLUTION" in source_cell.source
                and "### END SOLUTION" in source_cell.source
            ), gid
            assert not any(
                f"import {m}" in source_cell.source or f"from {m}" in source_cell.source
                for m in FORBIDDEN_IMPORTS
            )
            stub = ast.parse(released_cell.source)
            functions = [node for node in stub.body if isinstance(node, ast.FunctionDef)]
            assert functions, f"{gid}: the released stub defines no function"
            for fn in functions:
                assert ast.get_docstring(fn), f"{gid}: {fn.name} has no docstring in the stub"
                assert "raise NotImplementedError()" in ast.get_source_segment(
                    released_cell.source, fn
                )
        if is_written_cell(source_cell):
            assert len(source_cell.source) > 300, "the source holds the model answer"
            assert released_cell.source == "YOUR ANSWER HERE"
    # Nothing outside answer cells looks like a solution or hidden-test delimiter.
    for cell in nb.cells:
        if not is_answer_cell(cell):
            assert "BEGIN SOLUTION" not in cell.source and "END SOLUTION" not in cell.source
        if not is_test_cell(cell):
            assert "HIDDEN TESTS" not in cell.source and "MARK SCHEME" not in cell.source


# --- test cells ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_test_cells_assert_only_through_checks(name):
    nb = load(name)
    for cell in nb.cells:
        if not is_test_cell(cell):
            continue
        gid = meta(cell)["grade_id"]
        assert (
            cell.source.count("### BEGIN HIDDEN TESTS") == 1
            and cell.source.count("### END HIDDEN TESTS") == 1
        ), gid
        for variant in (cell.source, HIDDEN_REGION.sub("", cell.source)):
            tree = ast.parse(variant)
            calls = {
                n.func.id
                for n in ast.walk(tree)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            }
            assert calls & {"check", "check_raises"}, f"{gid}: no check() call"
            assert not any(isinstance(n, ast.Assert) for n in ast.walk(tree)), f"{gid}: bare assert"
            # A final expression would be shown as an execute_result (nbgrader: partial credit);
            # only check()/check_raises() calls, which return None, may end a cell.
            last = tree.body[-1]
            assert not isinstance(last, ast.Expr) or (
                isinstance(last.value, ast.Call)
                and getattr(last.value.func, "id", "") in ("check", "check_raises")
            ), f"{gid}: ends with a bare expression"
            assert "print(" not in variant, f"{gid}: test cells do not print"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_check_keys_are_unique_and_answers_deterministic(name, tmp_path, monkeypatch):
    nb = load(name)
    records = []
    for run in range(2):
        path = tmp_path / f"answers{run}.jsonl"
        monkeypatch.setenv(RECORD_ENV, str(path))
        results = run_in_process(nb)
        assert not [gid for gid, exc in results.items() if exc is not None]
        records.append([json.loads(line) for line in path.read_text().splitlines()])
    keys = [r["key"] for r in records[0]]
    assert len(keys) == len(set(keys)), (
        f"duplicate check keys: {sorted(k for k in keys if keys.count(k) > 1)}"
    )
    assert records[0] == records[1], (
        "the recorded answers of the reference must not change between runs"
    )
    assert len(keys) >= 5 * len(grade_ids(nb, is_test_cell))


# --- reference solutions, in a real kernel ------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_reference_solution_passes_every_test_in_a_fresh_kernel(name):
    nb = load(name)
    seconds = execute_in_kernel(nb, SOURCE / name)
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        gid = meta(cell)["grade_id"]
        problems += [f"{gid}: {e.ename}: {e.evalue}" for e in outputs_of(cell, "error")]
        if stderr_of(cell):
            problems.append(f"{gid}: stderr: {stderr_of(cell)}")
        if is_test_cell(cell) and outputs_of(cell, "execute_result"):
            problems.append(f"{gid}: produced an execute_result")
    assert not problems, "\n".join(problems)
    assert seconds < KERNEL_TIME_LIMIT, f"{name} took {seconds:.1f} s"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_released_notebook_fails_every_autograded_test_cell(name):
    """With every solution replaced by nbgrader's stub, every test cell errors (tests can fail)."""
    released = release_version(load(name))
    execute_in_kernel(released, SOURCE / name)
    for cell in released.cells:
        if cell.cell_type != "code":
            continue
        gid = meta(cell)["grade_id"]
        errors = outputs_of(cell, "error")
        if is_test_cell(cell):
            assert errors and errors[0].ename == "NotImplementedError", (
                f"{gid} did not fail on the stub"
            )
        elif gid in ("setup", "init_params") or is_answer_cell(cell):
            assert not errors, f"{gid} must run before anything is implemented"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_stub_fails_its_own_test_cell_including_hidden_tests(name):
    """Stub one answer cell at a time (hidden tests kept): its test cell fails, the others pass."""
    nb = load(name)
    stubs = {meta(c)["grade_id"]: c.source for c in release_version(nb).cells if is_answer_cell(c)}
    for gid, stub in stubs.items():
        results = run_in_process(nb, overrides={gid: stub}, stop_after="test_" + gid)
        assert isinstance(results["test_" + gid], NotImplementedError), gid
        earlier = [t for t, exc in results.items() if t != "test_" + gid and exc is not None]
        assert not earlier, f"stubbing {gid} broke {earlier}"


# --- plausible mistakes are caught --------------------------------------------------------------

# (notebook, answer cell, replaced text, replacement, where the mistake must be caught)
MISTAKES = [
    # 01: sigmoid
    (
        "01_logistic_regression",
        "sigmoid",
        "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "return 1.0 / (1.0 + np.exp(-z))",
        "hidden",
    ),  # naive formula overflows for z = -1000
    (
        "01_logistic_regression",
        "sigmoid",
        "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))",
        "hidden",
    ),  # not the exact limit 0
    (
        "01_logistic_regression",
        "sigmoid",
        "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "return 1.0 / (1.0 + np.exp(z))",
        "visible",
    ),  # sign slip: sigma(-z)
    # 01: bias trick
    (
        "01_logistic_regression",
        "add_bias_column",
        "return np.hstack([np.ones((X.shape[0], 1)), X])",
        "return np.hstack([X, np.ones((X.shape[0], 1))])",
        "visible",
    ),
    # 01: bce
    ("01_logistic_regression", "bce", "return float(-np.mean(", "return float(-np.sum(", "visible"),
    (
        "01_logistic_regression",
        "bce",
        "pc = np.clip(p, PROB_EPS, 1.0 - PROB_EPS)",
        "pc = p",
        "hidden",
    ),
    ("01_logistic_regression", "bce", "if p.shape != y.shape:", "if p.ndim != y.ndim:", "visible"),
    # 01: gradient
    (
        "01_logistic_regression",
        "bce_grad_theta",
        "return Xb.T @ (p - y) / n",
        "return Xb.T @ (y - p) / n",
        "visible",
    ),
    (
        "01_logistic_regression",
        "bce_grad_theta",
        "return Xb.T @ (p - y) / n",
        "return Xb.T @ (p - y)",
        "visible",
    ),
    (
        "01_logistic_regression",
        "bce_grad_theta",
        "if y.shape != (n,):",
        "if y.ndim != 1:",
        "hidden",
    ),
    (
        "01_logistic_regression",
        "bce_grad_theta",
        "p = sigmoid(Xb @ theta)\n",
        "p = 1.0 / (1.0 + np.exp(-(Xb @ theta)))\n",
        "hidden",
    ),
    # 01: gradient descent
    (
        "01_logistic_regression",
        "gradient_descent",
        "for _ in range(steps):",
        "for _ in range(steps - 1):",
        "visible",
    ),
    (
        "01_logistic_regression",
        "gradient_descent",
        "for _ in range(steps):",
        "losses.append(losses[0])\n    for _ in range(steps - 1):",
        "hidden",
    ),  # one update too few
    (
        "01_logistic_regression",
        "gradient_descent",
        "theta = np.zeros(Xb.shape[1])",
        "theta = np.full(Xb.shape[1], 0.1)",
        "visible",
    ),
    # 02: softmax
    (
        "02_softmax_regression",
        "softmax",
        "shifted = Z - Z.max(axis=-1, keepdims=True)",
        "shifted = Z",
        "hidden",
    ),
    (
        "02_softmax_regression",
        "softmax",
        "return E / E.sum(axis=-1, keepdims=True)",
        "return E / E.sum(axis=0, keepdims=True)",
        "visible",
    ),
    (
        "02_softmax_regression",
        "softmax",
        "Z.max(axis=-1, keepdims=True)",
        "Z.max(axis=1, keepdims=True)",
        "hidden",
    ),
    # 02: one-hot
    (
        "02_softmax_regression",
        "one_hot",
        "if y.size and (y.min() < 0 or y.max() >= num_classes):",
        "if y.size and y.max() >= num_classes:",
        "hidden",
    ),  # -1 silently selects the last class
    (
        "02_softmax_regression",
        "one_hot",
        'if y.dtype.kind != "f" or not np.all(y == np.round(y)):',
        'if y.dtype.kind != "f":',
        "hidden",
    ),
    # 02: cce
    ("02_softmax_regression", "cce", "return float(-np.mean(", "return float(-np.sum(", "visible"),
    ("02_softmax_regression", "cce", "np.clip(P, PROB_EPS, 1.0)", "P", "hidden"),
    # 02: gradient wrt logits
    (
        "02_softmax_regression",
        "cce_grad_logits",
        "return (softmax(Z) - one_hot(y, k)) / n",
        "return softmax(Z) - one_hot(y, k)",
        "visible",
    ),
    (
        "02_softmax_regression",
        "cce_grad_logits",
        "return (softmax(Z) - one_hot(y, k)) / n",
        "return (np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True) - one_hot(y, k)) / n",
        "hidden",
    ),
    # 02: model gradients
    (
        "02_softmax_regression",
        "softmax_regression_grads",
        "return loss, G.T @ X, G.sum(axis=0)",
        "return loss, X.T @ G, G.sum(axis=0)",
        "visible",
    ),
    (
        "02_softmax_regression",
        "softmax_regression_grads",
        "return loss, G.T @ X, G.sum(axis=0)",
        "return loss, G.T @ X, G.mean(axis=0)",
        "visible",
    ),
    (
        "02_softmax_regression",
        "softmax_regression_grads",
        "return loss, G.T @ X, G.sum(axis=0)",
        "return loss, G.T @ X / len(X), G.sum(axis=0) / len(X)",
        "visible",
    ),
    # 02: training
    (
        "02_softmax_regression",
        "train_softmax_regression",
        "W = W - lr * dW",
        "W = W + lr * dW",
        "visible",
    ),
    (
        "02_softmax_regression",
        "train_softmax_regression",
        "if t < steps:",
        "if t < steps - 1:",
        "hidden",
    ),
    # 03: gates
    (
        "03_backprop",
        "add_gate",
        "return upstream.copy(), upstream.copy()",
        "return np.ones_like(upstream), np.ones_like(upstream)",
        "visible",
    ),
    (
        "03_backprop",
        "mul_gate",
        "return upstream * y, upstream * x",
        "return upstream * x, upstream * y",
        "visible",
    ),
    ("03_backprop", "max_gate", "x_wins = x > y", "x_wins = x >= y", "hidden"),  # tie convention
    (
        "03_backprop",
        "relu_gate",
        "return upstream * (z > 0)",
        "return upstream * (z >= 0)",
        "hidden",
    ),  # relu'(0)
    (
        "03_backprop",
        "sigmoid_gate",
        "s = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "s = 1.0 / (1.0 + np.exp(-z))",
        "hidden",
    ),
    (
        "03_backprop",
        "sigmoid_gate",
        "return upstream * s * (1.0 - s)",
        "return s * (1.0 - s)",
        "visible",
    ),
    # 03: network
    (
        "03_backprop",
        "forward",
        'z1 = X @ params["W1"].T + params["b1"]',
        'z1 = X @ params["W1"] + params["b1"]',
        "visible",
    ),
    (
        "03_backprop",
        "forward",
        'if X.ndim != 2 or X.shape[1] != params["W1"].shape[1]:',
        "if False:",
        "hidden",
    ),
    # 03: losses
    (
        "03_backprop",
        "mse_loss",
        "return float(0.5 * np.sum(diff**2) / n), diff / n",
        "return float(np.sum(diff**2) / n), diff / n",
        "visible",
    ),
    (
        "03_backprop",
        "mse_loss",
        "return float(0.5 * np.sum(diff**2) / n), diff / n",
        "return float(0.5 * np.mean(diff**2)), diff / diff.size",
        "hidden",
    ),  # mean over outputs too
    (
        "03_backprop",
        "bce_logits_loss",
        "per_sample = np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z))) - y * z",
        "per_sample = -(y * np.log(1 / (1 + np.exp(-z)))"
        " + (1 - y) * np.log(1 - 1 / (1 + np.exp(-z))))",
        "hidden",
    ),
    (
        "03_backprop",
        "bce_logits_loss",
        "return float(np.sum(per_sample) / n), (p - y) / n",
        "return float(np.sum(per_sample) / n), p - y",
        "visible",
    ),
    # 03: backward
    ("03_backprop", "backward", "dz1 = dh1 * (z1 > 0)", "dz1 = dh1", "visible"),
    ("03_backprop", "backward", "db1 = dz1.sum(axis=0)", "db1 = dz1.mean(axis=0)", "visible"),
    ("03_backprop", "backward", "dW2 = dout.T @ h1", "dW2 = dout.T @ h1 / len(X)", "visible"),
    (
        "03_backprop",
        "backward",
        'dh1 = dout @ params["W2"]',
        'dh1 = dout @ -params["W2"]',
        "visible",
    ),
    # 03: update and training
    (
        "03_backprop",
        "sgd_step",
        'return {name: value - lr * grads["d" + name] for name, value in params.items()}',
        "for name in params:\n        params[name] -= lr * grads['d' + name]\n    return params",
        "visible",
    ),
    ("03_backprop", "sgd_step", "value - lr * grads", "value + lr * grads", "visible"),
    (
        "03_backprop",
        "train",
        "params = init_params(X.shape[1], n_hidden, 1, seed)",
        "params = init_params(X.shape[1], n_hidden, 1, 0)",
        "hidden",
    ),
    ("03_backprop", "train", "if t < steps:", "if t < steps - 1:", "hidden"),
]


@pytest.mark.parametrize(
    "name, gid, old, new, caught_by",
    MISTAKES,
    ids=[f"{m[0][:2]}-{m[1]}-{i}" for i, m in enumerate(MISTAKES)],
)
def test_plausible_mistake_fails_its_test_cell(name, gid, old, new, caught_by):
    nb = load(name)
    cell = next(c for c in nb.cells if meta(c).get("grade_id") == gid)
    assert cell.source.count(old) == 1, "the mistake must replace exactly one spot of the reference"
    mutated = {gid: cell.source.replace(old, new)}
    test_id = "test_" + gid
    with_hidden = run_in_process(nb, overrides=mutated, stop_after=test_id)
    assert with_hidden[test_id] is not None, "the full test cell passed a wrong solution"
    visible_only = run_in_process(nb, overrides=mutated, stop_after=test_id, hide_hidden_tests=True)
    if caught_by == "visible":
        assert visible_only[test_id] is not None, "expected the visible tests to catch this"
    else:
        assert visible_only[test_id] is None, (
            f"expected only the hidden tests to catch this, got {visible_only[test_id]!r}"
        )


# --- agreement with coursekit and with the hand-derived worked example ---------------------------


def test_logistic_regression_reference_agrees_with_coursekit():
    ns = solution_namespace("01_logistic_regression")
    rng = np.random.default_rng(0)
    for _ in range(5):
        z = rng.normal(0.0, 20.0, size=(4, 3))
        np.testing.assert_allclose(ns["sigmoid"](z), activations.sigmoid(z), rtol=1e-15, atol=0)
        p = rng.uniform(0.0, 1.0, size=8)
        y = rng.integers(0, 2, size=8).astype(float)
        assert ns["bce"](p, y) == pytest.approx(losses.bce(p, y), rel=1e-12)
        Xb = np.column_stack([np.ones(8), rng.normal(size=(8, 2))])
        theta = rng.normal(size=3)
        np.testing.assert_allclose(
            ns["bce_grad_theta"](Xb, y, theta),
            Xb.T @ losses.bce_with_logits_grad(Xb @ theta, y),
            rtol=1e-12,
            atol=1e-15,
        )


def test_softmax_regression_reference_agrees_with_coursekit():
    ns = solution_namespace("02_softmax_regression")
    rng = np.random.default_rng(1)
    for _ in range(5):
        Z = rng.normal(0.0, 30.0, size=(6, 4))
        y = rng.integers(0, 4, size=6)
        np.testing.assert_allclose(
            ns["softmax"](Z), activations.softmax(Z), rtol=1e-12, atol=1e-300
        )
        np.testing.assert_array_equal(ns["one_hot"](y, 4), losses.one_hot(y, 4))
        P = activations.softmax(Z / 30.0)
        assert ns["cce"](P, y) == pytest.approx(losses.cce(P, y), rel=1e-12)
        np.testing.assert_allclose(
            ns["cce_grad_logits"](Z, y), losses.cce_with_logits_grad(Z, y), rtol=1e-12, atol=1e-15
        )


def test_backprop_reference_agrees_with_coursekit_nn():
    ns = solution_namespace("03_backprop")
    rng = np.random.default_rng(2)
    for n in (1, 5):
        params = {
            "W1": rng.normal(size=(4, 3)),
            "b1": rng.normal(size=4),
            "W2": rng.normal(size=(2, 4)),
            "b2": rng.normal(size=2),
        }
        X = rng.normal(size=(n, 3))
        dout = rng.normal(size=(n, 2))
        model = nn.Sequential(
            nn.Linear.from_weights(params["W1"], params["b1"]),
            nn.ReLU(),
            nn.Linear.from_weights(params["W2"], params["b2"]),
        )
        out, cache = ns["forward"](X, params)
        np.testing.assert_allclose(out, model.forward(X), rtol=1e-12)
        model.backward(dout)
        grads = ns["backward"](dout, cache, params)
        np.testing.assert_allclose(grads["dW1"], model[0].dW, rtol=1e-12)
        np.testing.assert_allclose(grads["db1"], model[0].db, rtol=1e-12)
        np.testing.assert_allclose(grads["dW2"], model[2].dW, rtol=1e-12)
        np.testing.assert_allclose(grads["db2"], model[2].db, rtol=1e-12)
        Y = rng.normal(size=(n, 2))
        loss, grad = ns["mse_loss"](out, Y)
        assert loss == pytest.approx(losses.mse(out, Y), rel=1e-12)
        np.testing.assert_allclose(grad, losses.mse_grad(out, Y), rtol=1e-12)
        z = rng.normal(0.0, 50.0, size=(n, 1))
        t = rng.integers(0, 2, size=(n, 1)).astype(float)
        loss, grad = ns["bce_logits_loss"](z, t)
        assert loss == pytest.approx(losses.bce_with_logits(z, t), rel=1e-12)
        np.testing.assert_allclose(grad, losses.bce_with_logits_grad(z, t), rtol=1e-12)


def test_worked_example_matches_the_values_derived_by_hand():
    """Note 003's network, recomputed by hand (b1 = (0.1, -0.2, 0), the value the note's numbers
    use).

    Forward: z1 = (0.2-0.8+0.1, -0.3+1.6-0.2, 0.5+1.4+0) = (-0.5, 1.1, 1.9); yhat = 0.99-0.57+0.05 =
    0.47; L = 1.03^2/2. Backward: delta2 = -1.03, dW2 = delta2*h1, delta1 = W2^T delta2 * [z1 > 0] =
    (0, -0.927, 0.309), dW1 = delta1 x^T. After W -= 0.1 dW: z1 = (-0.5, 1.6562, 1.7146) and yhat =
    1.0133*1.6562 - 0.1043*1.7146 + 0.153 = 1.65239468.
    """
    ns = solution_namespace("03_backprop")
    params = {
        "W1": np.array([[0.2, -0.4], [-0.3, 0.8], [0.5, 0.7]]),
        "b1": np.array([0.1, -0.2, 0.0]),
        "W2": np.array([[-0.6, 0.9, -0.3]]),
        "b2": np.array([0.05]),
    }
    x, y = np.array([[1.0, 2.0]]), np.array([[1.5]])
    yhat, cache = ns["forward"](x, params)
    np.testing.assert_allclose(cache["z1"], [[-0.5, 1.1, 1.9]], atol=1e-12)
    np.testing.assert_allclose(yhat, [[0.47]], atol=1e-12)
    loss, dyhat = ns["mse_loss"](yhat, y)
    assert loss == pytest.approx(0.53045, abs=1e-12)
    grads = ns["backward"](dyhat, cache, params)
    np.testing.assert_allclose(grads["dW2"], [[0.0, -1.133, -1.957]], atol=1e-12)
    np.testing.assert_allclose(grads["db2"], [-1.03], atol=1e-12)
    np.testing.assert_allclose(
        grads["dW1"], [[0.0, 0.0], [-0.927, -1.854], [0.309, 0.618]], atol=1e-12
    )
    np.testing.assert_allclose(grads["db1"], [0.0, -0.927, 0.309], atol=1e-12)
    new = ns["sgd_step"](params, grads, 0.1)
    np.testing.assert_allclose(
        new["W1"], [[0.2, -0.4], [-0.2073, 0.9854], [0.4691, 0.6382]], atol=1e-12
    )
    np.testing.assert_allclose(new["b1"], [0.1, -0.1073, -0.0309], atol=1e-12)
    np.testing.assert_allclose(new["W2"], [[-0.6, 1.0133, -0.1043]], atol=1e-12)
    np.testing.assert_allclose(new["b2"], [0.153], atol=1e-12)
    yhat_after, _ = ns["forward"](x, new)
    assert yhat_after[0, 0] == pytest.approx(1.65239468, abs=1e-8)
    assert ns["mse_loss"](yhat_after, y)[0] == pytest.approx(
        0.5 * (1.65239468 - 1.5) ** 2, abs=1e-9
    )
