"""Synthetic submissions for the grader, generated from the assignments' source notebooks.

Every submission starts from the *released* notebook (what a student downloads) and is changed
the way students change notebooks: answers filled in from the source's solutions, then string
edits of answer cells (typical bugs) or edits of the cell structure. Each case states the score
it must get, derived from the points of the test cells that the change breaks, so a change to
the sources shows up as a failing expectation rather than a silently different corpus.

Edits are exact-substring replacements that fail loudly when the text is not found.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

REPO = Path(__file__).resolve().parents[2]
SOURCES = REPO / "assignments" / "source"
CONFIG = REPO / "assignments" / "nbgrader_config.py"
COURSEKIT = [sys.executable, "-m", "coursekit.grading"]

A1, A2, A3 = "01_logistic_regression", "02_softmax_regression", "03_backprop"


def meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def points(assignment: str) -> dict[str, float]:
    """``{test grade_id: points}`` of an assignment's autograded test cells."""
    nb = nbformat.read(str(SOURCES / assignment / f"{assignment}.ipynb"), as_version=4)
    return {
        meta(c)["grade_id"]: float(meta(c)["points"])
        for c in nb.cells
        if meta(c).get("grade") and not meta(c).get("solution") and c.cell_type == "code"
    }


def solution_text(cell_source: str) -> str:
    """A source answer cell without its ``### BEGIN/END SOLUTION`` lines."""
    return "\n".join(
        line
        for line in cell_source.split("\n")
        if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line
    )


class Submission:
    """A student's notebook under construction, starting from the solved release."""

    def __init__(self, course: Path, assignment: str, *, solved: bool = True):
        self.assignment = assignment
        source = nbformat.read(str(SOURCES / assignment / f"{assignment}.ipynb"), as_version=4)
        self.solutions = {
            meta(c)["grade_id"]: solution_text(c.source)
            for c in source.cells
            if meta(c).get("solution")
        }
        self.nb = nbformat.read(
            str(course / "release" / assignment / f"{assignment}.ipynb"), as_version=4
        )
        if solved:
            for cell in self.nb.cells:
                if meta(cell).get("solution"):
                    if cell.cell_type == "markdown":
                        cell.source = (
                            "E is piecewise constant, so its gradient is zero where it exists."
                        )
                    else:
                        cell.source = self.solutions[meta(cell)["grade_id"]]

    def index(self, grade_id: str) -> int:
        found = [i for i, c in enumerate(self.nb.cells) if meta(c).get("grade_id") == grade_id]
        assert found, f"no cell {grade_id!r} in {self.assignment}"
        return found[0]

    def cell(self, grade_id: str):
        return self.nb.cells[self.index(grade_id)]

    def edit(self, grade_id: str, old: str, new: str) -> "Submission":
        cell = self.cell(grade_id)
        assert old in cell.source, f"{old!r} not found in cell {grade_id!r} of {self.assignment}"
        cell.source = cell.source.replace(old, new)
        return self

    def set(self, grade_id: str, text: str) -> "Submission":
        self.cell(grade_id).source = text
        return self

    def delete(self, *grade_ids: str) -> "Submission":
        self.nb.cells = [c for c in self.nb.cells if meta(c).get("grade_id") not in grade_ids]
        return self

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(self.nb, str(path))


@dataclass(frozen=True)
class Case:
    """One synthetic submission and what the grader must make of it.

    ``score`` is the expected auto score (None: not gradable, the CSV cell stays empty);
    ``reason`` is a substring the CSV reason must contain ("" means the reason must be empty).
    """

    student: str
    assignment: str
    build: Callable[[Path, Path], None]  # (course dir, target notebook path) -> writes it
    score: float | None
    status: str = "graded"
    reason: str = ""


def _sub(fn: Callable[[Submission], Submission | None], assignment: str, solved: bool = True):
    def build(course: Path, target: Path) -> None:
        sub = Submission(course, assignment, solved=solved)
        fn(sub)
        sub.write(target)

    return build


# --------------------------------------------------------------------------------------------
# Replacement answers
# --------------------------------------------------------------------------------------------

LOOP_SIGMOID = '''import math


def sigmoid(z):
    """Elementwise logistic sigmoid, one number at a time."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        v = float(z[idx])
        if v >= 0:
            out[idx] = 1.0 / (1.0 + math.exp(-v))
        else:
            e = math.exp(v)
            out[idx] = e / (1.0 + e)
    return out
'''

LOOP_GRAD = '''def bce_grad_theta(Xb, y, theta):
    """(1/n) sum_i (p_i - y_i) x_i, accumulated sample by sample."""
    Xb = np.asarray(Xb, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    if Xb.ndim != 2:
        raise ValueError("Xb must be 2-D")
    n, k = Xb.shape
    if y.shape != (n,) or theta.shape != (k,):
        raise ValueError("shapes do not fit")
    grad = np.zeros(k)
    for i in range(n):
        z = 0.0
        for j in range(k):
            z += Xb[i, j] * theta[j]
        p = float(sigmoid(z))
        for j in range(k):
            grad[j] += (p - y[i]) * Xb[i, j]
    return grad / n
'''

IGNORE_INTERRUPTS = """import time

while True:
    try:
        time.sleep(0.05)
    except KeyboardInterrupt:
        pass

"""


def _noisy(sub: Submission) -> None:
    """Correct answers that print to stderr and raise Python and NumPy warnings."""
    bce = sub.solutions["bce"].replace(
        "    p = np.asarray(p, dtype=np.float64)\n",
        "    print('debug: bce called', file=sys.stderr)\n"
        "    warnings.warn('a warning from bce')\n"
        "    p = np.asarray(p, dtype=np.float64)\n",
    )
    bias = sub.solutions["add_bias_column"].replace(
        "    X = np.asarray(X, dtype=np.float64)\n",
        "    X = np.asarray(X, dtype=np.float64)\n"
        "    _ = np.log(np.zeros(1))  # RuntimeWarning: divide by zero\n",
    )
    assert bce != sub.solutions["bce"] and bias != sub.solutions["add_bias_column"]
    sub.set("bce", "import sys\nimport warnings\n\n" + bce).set("add_bias_column", bias)


def _duplicate(sub: Submission) -> None:
    i = sub.index("sigmoid")
    stub = copy.deepcopy(sub.nb.cells[i])
    stub.source = "# YOUR CODE HERE\nraise NotImplementedError()"
    stub.id = "sigmoid-first-copy"
    sub.nb.cells.insert(i, stub)  # an untouched copy first, the answered one after it
    j = sub.index("test_bce")
    twin = copy.deepcopy(sub.nb.cells[j])
    twin.id = "test-bce-copy"
    sub.nb.cells.insert(j, twin)


def _retype(sub: Submission) -> None:
    for gid in ("sigmoid", "test_add_bias_column"):
        cell = sub.cell(gid)
        new = nbformat.v4.new_markdown_cell(cell.source, metadata=copy.deepcopy(cell.metadata))
        sub.nb.cells[sub.index(gid)] = new


def _rename(sub: Submission) -> None:
    sub.cell("bce_grad_theta").metadata["nbgrader"]["grade_id"] = "my_gradient"


def _edit_tests(sub: Submission) -> None:
    sub.set(
        "sigmoid",
        "def sigmoid(z):\n    return 0.5 * np.ones_like(np.asarray(z, dtype=np.float64))\n",
    )
    for gid in ("test_sigmoid", "test_bce_grad_theta", "test_gradient_descent"):
        sub.set(gid, "pass")
        sub.cell(gid).metadata["nbgrader"]["points"] = 100


def _structure_reverse(sub: Submission) -> None:
    sub.nb.cells = list(reversed(sub.nb.cells))


def _delete_tests(sub: Submission) -> None:
    sub.nb.cells = [
        c for c in sub.nb.cells
        if not (meta(c).get("grade") and not meta(c).get("solution")) and c.cell_type != "markdown"
        and meta(c).get("grade_id") != "setup"
    ]  # fmt: skip


FRAME_SNOOP_GRAD = '''import inspect


def bce_grad_theta(Xb, y, theta):
    """Returns whatever expected-looking value its callers hold, else zeros."""
    for frame in inspect.stack()[1:]:
        for name in ("numeric", "expected", "reference", "value"):
            found = frame.frame.f_locals.get(name)
            if isinstance(found, np.ndarray) and found.shape == np.shape(theta):
                return found
    return np.zeros(np.shape(theta))
'''

ENCODED_IMPORT = (
    "import base64\n\n"
    "exec(base64.b64decode(%r).decode())\n"
    % __import__("base64").b64encode(b"from coursekit.losses import bce").decode()
)

PATCHED_ERRSTATE_SIGMOID = """np.errstate.__enter__ = lambda self: self


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))
"""


PRINT_HISTORY = """import base64
import zlib

print("\\n".join(In))
print(base64.b64encode(zlib.compress("\\n".join(In).encode())).decode())

"""
HIDDEN_LINE = "extreme = sigmoid(np.array([-1000.0, -50.0, 50.0, 1000.0]))"
"""A line of assignment 1's hidden tests, which a student may have learnt from someone."""


def _added_helper_and_split(sub: Submission) -> None:
    """The gradient's averaging step lives in a code cell the student added above it, and the
    bce answer was split by JupyterLab (both halves keep the metadata, grade_id included)."""
    i = sub.index("bce_grad_theta")
    sub.nb.cells.insert(
        i, nbformat.v4.new_code_cell("def _mean_over_samples(v, n):\n    return v / n\n")
    )
    sub.edit(
        "bce_grad_theta",
        "return Xb.T @ (p - y) / n",
        "return _mean_over_samples(Xb.T @ (p - y), n)",
    )
    i = sub.index("bce")
    cell = sub.nb.cells[i]
    first = copy.deepcopy(cell)
    first.source = "def _clipped(p):\n    return np.clip(p, PROB_EPS, 1.0 - PROB_EPS)\n"
    first.id = "bce-first-half"
    sub.edit("bce", "pc = np.clip(p, PROB_EPS, 1.0 - PROB_EPS)", "pc = _clipped(p)")
    sub.nb.cells.insert(i, first)


def _strip_metadata(sub: Submission) -> None:
    for cell in sub.nb.cells:
        cell.metadata = {}


def _renamed_with_scratch_notebook(course: Path, target: Path) -> None:
    Submission(course, A1).write(target.with_name(f"{A1.upper()}.ipynb"))
    Submission(course, A1, solved=False).write(target.with_name("scratch.ipynb"))


def _folder_links_to_source(course: Path, target: Path) -> None:
    """The submission folder itself is a link to the instructor's source folder."""
    target.parent.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(f"../../source/{A1}", target.parent)


def cases() -> list[Case]:
    """The corpus. Expected scores are sums of the points of the tests that must pass."""
    p1, p2, p3 = points(A1), points(A2), points(A3)
    full1, full2, full3 = sum(p1.values()), sum(p2.values()), sum(p3.values())

    def without(pts: dict[str, float], *names: str) -> float:
        for name in names:
            assert name in pts, name
        return sum(v for k, v in pts.items() if k not in names)

    grad_term = "return Xb.T @ (p - y) / n"
    return [
        # ---- 01: answers -------------------------------------------------------------------
        Case("correct", A1, _sub(lambda s: s, A1), full1),
        Case(
            "sign_error",
            A1,
            _sub(lambda s: s.edit("bce_grad_theta", grad_term, "return Xb.T @ (y - p) / n"), A1),
            without(p1, "test_bce_grad_theta", "test_gradient_descent"),
        ),
        Case(
            "grad_not_averaged",
            A1,
            _sub(lambda s: s.edit("bce_grad_theta", grad_term, "return Xb.T @ (p - y)"), A1),
            without(p1, "test_bce_grad_theta", "test_gradient_descent"),
        ),
        Case(
            # overflows for large |z|: the hidden extreme-logit tests of sigmoid and of the
            # gradient fail; gradient descent on ordinary data still works
            "unstable_sigmoid",
            A1,
            _sub(
                lambda s: s.set(
                    "sigmoid",
                    "def sigmoid(z):\n    z = np.asarray(z, dtype=np.float64)\n"
                    "    return 1.0 / (1.0 + np.exp(-z))\n",
                ),
                A1,
            ),
            without(p1, "test_sigmoid", "test_bce_grad_theta"),
        ),
        Case(
            "loop_based",
            A1,
            _sub(lambda s: s.set("sigmoid", LOOP_SIGMOID).set("bce_grad_theta", LOOP_GRAD), A1),
            full1,
        ),
        Case("untouched_release", A1, _sub(lambda s: s, A1, solved=False), 0.0),
        Case(
            # sigmoid is never defined: its test, the gradient and gradient descent fail
            "syntax_error",
            A1,
            _sub(
                lambda s: s.edit(
                    "sigmoid",
                    "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
                    "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)",
                ),
                A1,
            ),
            without(p1, "test_sigmoid", "test_bce_grad_theta", "test_gradient_descent"),
        ),
        Case(
            "exception",
            A1,
            _sub(
                lambda s: s.edit(
                    "bce",
                    "pc = np.clip(p, PROB_EPS, 1.0 - PROB_EPS)",
                    "pc = np.clip(p, PROB_EPS, 1.0 - PROB_EPS)[:, 0]",
                ),
                A1,
            ),
            without(p1, "test_bce", "test_gradient_descent"),
        ),
        Case(
            # the answer cell never ends, so gradient_descent is never defined
            "infinite_loop",
            A1,
            _sub(
                lambda s: s.set(
                    "gradient_descent",
                    "while True:\n    pass\n\n" + s.solutions["gradient_descent"],
                ),
                A1,
            ),
            without(p1, "test_gradient_descent"),
        ),
        Case(
            # the kernel is stopped in the last answer cell; everything before counts
            "ignores_interrupt",
            A1,
            _sub(
                lambda s: s.set(
                    "gradient_descent", IGNORE_INTERRUPTS + s.solutions["gradient_descent"]
                ),
                A1,
            ),
            without(p1, "test_gradient_descent"),
            reason="ignored the interrupt",
        ),
        Case(
            "kernel_dies",
            A1,
            _sub(
                lambda s: s.set(
                    "gradient_descent",
                    "import os\n\nos._exit(1)\n\n" + s.solutions["gradient_descent"],
                ),
                A1,
            ),
            without(p1, "test_gradient_descent"),
            reason="the kernel died",
        ),
        Case(
            "huge_output",
            A1,
            _sub(
                lambda s: s.set(
                    "sigmoid",
                    'print("x" * 5_000_000)\nfor i in range(20_000):\n    print(i)\n\n'
                    + s.solutions["sigmoid"],
                ),
                A1,
            ),
            full1,
        ),
        Case("stderr_and_warnings", A1, _sub(_noisy, A1), full1),
        # ---- 01: structure -------------------------------------------------------------------
        Case(
            # the written answer is a markdown cell too, so it went with the text
            "deleted_tests_and_text",
            A1,
            _sub(_delete_tests, A1),
            full1,
            reason="answer cell 'written_answer' is missing",
        ),
        Case(
            "deleted_answer",
            A1,
            _sub(lambda s: s.delete("bce"), A1),
            without(p1, "test_bce", "test_gradient_descent"),
            reason="'bce' is missing",
        ),
        Case("duplicated_cells", A1, _sub(_duplicate, A1), full1, reason="appears 2 times"),
        Case("reordered_cells", A1, _sub(_structure_reverse, A1), full1),
        Case("retyped_cells", A1, _sub(_retype, A1), full1, reason="changed into a markdown cell"),
        Case("renamed_grade_id", A1, _sub(_rename, A1), full1, reason="not found by its id"),
        Case(
            "edited_tests_and_points",
            A1,
            _sub(_edit_tests, A1),
            without(p1, "test_sigmoid", "test_bce_grad_theta", "test_gradient_descent"),
        ),
        Case(
            # the import fails, so sigmoid is undefined for every task that uses it
            "imports_reference",
            A1,
            _sub(lambda s: s.set("sigmoid", "from coursekit.activations import sigmoid\n"), A1),
            without(p1, "test_sigmoid", "test_bce_grad_theta", "test_gradient_descent"),
            reason="answer cell 'sigmoid' imported coursekit.activations",
        ),
        # ---- 01: the held-out classes ------------------------------------------------------
        Case(
            "folder_links_to_source",
            A1,
            _folder_links_to_source,
            None,
            "needs-attention",
            "is a link or not a folder",
        ),
        Case(
            # the gradient reads its callers' frames for an expected value; none is left there,
            # so it falls back to zeros
            "reads_caller_frames",
            A1,
            _sub(lambda s: s.set("bce_grad_theta", FRAME_SNOOP_GRAD), A1),
            without(p1, "test_bce_grad_theta", "test_gradient_descent"),
        ),
        Case(
            # decoded at run time: no import statement to see
            "import_from_encoded_text",
            A1,
            _sub(lambda s: s.set("bce", ENCODED_IMPORT), A1),
            without(p1, "test_bce", "test_gradient_descent"),
            reason="answer cell 'bce' imported coursekit.losses",
        ),
        Case(
            # a class member patched in place: the overflow test of this naive sigmoid is
            # disarmed, so every test after it scores nothing and a person must look
            "patches_errstate_member",
            A1,
            _sub(lambda s: s.set("sigmoid", PATCHED_ERRSTATE_SIGMOID), A1),
            0.0,
            status="needs-attention",
            reason="numpy.errstate.__enter__",
        ),
        Case(
            "quit_after_first_task",
            A1,
            _sub(lambda s: s.set("sigmoid", s.solutions["sigmoid"] + "\n\nquit()\n"), A1),
            0.0,
            reason="called exit(), so the cells after it were not run",
        ),
        Case(
            # a helper in a code cell the student added, and an answer split in two
            "added_cell_and_split_answer",
            A1,
            _sub(_added_helper_and_split, A1),
            full1,
            reason="answer cell 'bce' appears 2 times; every copy was run",
        ),
        Case(
            # the written answer is placed by position and waits for a person
            "stripped_metadata",
            A1,
            _sub(_strip_metadata, A1),
            full1,
            reason="graded the cell after 'written_question'",
        ),
        Case(
            # the notebook under an upper-case name, and a scratch notebook beside it
            "renamed_and_second_notebook",
            A1,
            _renamed_with_scratch_notebook,
            full1,
            reason=(
                f"was submitted as '{A1.upper()}.ipynb'; graded that file; "
                "not graded: scratch.ipynb"
            ),
        ),
        # ---- 01: feedback (see test_grading_feedback.py) -----------------------------------
        Case(
            "prints_history",
            A1,
            _sub(
                lambda s: s.set(
                    "gradient_descent", PRINT_HISTORY + s.solutions["gradient_descent"]
                ),
                A1,
            ),
            full1,
        ),
        Case(
            "prints_a_hidden_line",
            A1,
            _sub(
                lambda s: s.set(
                    "gradient_descent",
                    f"print({HIDDEN_LINE!r})\n\n" + s.solutions["gradient_descent"],
                ),
                A1,
            ),
            full1,
        ),
        Case(
            # rebinding check() makes every later test record nothing; a person must look
            "tampers_with_check",
            A1,
            _sub(
                lambda s: s.set(
                    "add_bias_column",
                    s.solutions["add_bias_column"] + "\n\ncheck = lambda *args, **kwargs: None\n",
                ),
                A1,
            ),
            p1["test_sigmoid"],
            status="needs-attention",
            reason="assigns to check",
        ),
        Case(
            "invalid_json",
            A1,
            lambda course, target: _write_text(target, '{"cells": [ this is not json'),
            None,
            "needs-attention",
            "not a valid notebook",
        ),
        Case(
            "missing_notebook",
            A1,
            lambda course, target: target.parent.mkdir(parents=True, exist_ok=True),
            None,
            "needs-attention",
            "is missing from the submission",
        ),
        # ---- 02 ----------------------------------------------------------------------------
        Case("correct", A2, _sub(lambda s: s, A2), full2),
        Case(
            "unstable_softmax",
            A2,
            _sub(
                lambda s: s.edit(
                    "softmax", "shifted = Z - Z.max(axis=-1, keepdims=True)", "shifted = Z"
                ),
                A2,
            ),
            without(p2, "test_softmax", "test_cce_grad_logits"),
        ),
        Case(
            # dW comes out (d, K): wrong shape, and the update W - lr * dW cannot broadcast
            "transposed_weights",
            A2,
            _sub(
                lambda s: s.edit(
                    "softmax_regression_grads",
                    "return loss, G.T @ X, G.sum(axis=0)",
                    "return loss, X.T @ G, G.sum(axis=0)",
                ),
                A2,
            ),
            without(p2, "test_softmax_regression_grads", "test_train_softmax_regression"),
        ),
        Case(
            "grad_not_averaged",
            A2,
            _sub(
                lambda s: s.edit(
                    "cce_grad_logits",
                    "return (softmax(Z) - one_hot(y, k)) / n",
                    "return softmax(Z) - one_hot(y, k)",
                ),
                A2,
            ),
            without(
                p2,
                "test_cce_grad_logits",
                "test_softmax_regression_grads",
                "test_train_softmax_regression",
            ),
        ),
        # ---- 03 ----------------------------------------------------------------------------
        Case("correct", A3, _sub(lambda s: s, A3), full3),
        Case(
            "transposed_weights",
            A3,
            _sub(lambda s: s.edit("backward", "dW2 = dout.T @ h1", "dW2 = h1.T @ dout"), A3),
            without(p3, "test_backward", "test_train"),
        ),
        Case(
            "missing_bias_gradient",
            A3,
            _sub(
                lambda s: s.edit(
                    "backward", "db1 = dz1.sum(axis=0)", "db1 = np.zeros(dz1.shape[1])"
                ),
                A3,
            ),
            without(p3, "test_backward", "test_train"),
        ),
        Case(
            # the sign of dL/dyhat only matters where the MSE is used
            "sign_error",
            A3,
            _sub(
                lambda s: s.edit(
                    "mse_loss",
                    "return float(0.5 * np.sum(diff**2) / n), diff / n",
                    "return float(0.5 * np.sum(diff**2) / n), -diff / n",
                ),
                A3,
            ),
            without(p3, "test_mse_loss"),
        ),
    ]


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_course(root: Path, assignments: tuple[str, ...] = (A1, A2, A3)) -> Path:
    """A fresh course directory with the given source assignments and the course config."""
    course = root / "course"
    (course / "source").mkdir(parents=True)
    for name in assignments:
        shutil.copytree(
            SOURCES / name,
            course / "source" / name,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
        )
    shutil.copy(CONFIG, course / "nbgrader_config.py")
    return course


def coursekit(*args: str, check: bool = False, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the ``coursekit`` command line in a subprocess."""
    return subprocess.run(
        [*COURSEKIT, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
        cwd=str(REPO),
    )


def build_corpus(course: Path) -> list[Case]:
    """Release every assignment and write every case's submission into ``course``."""
    corpus = cases()
    for assignment in sorted({c.assignment for c in corpus}):
        done = coursekit("release", assignment, "--course-dir", str(course))
        assert done.returncode == 0, done.stderr
    for case in corpus:
        target = course / "submitted" / case.student / case.assignment / f"{case.assignment}.ipynb"
        case.build(course, target)
    return corpus


@dataclass
class Corpus:
    """A graded course and how its batches went."""

    course: Path
    cases: list[Case]
    runs: dict  # per assignment: return code, seconds, stdout, stderr of `coursekit grade`


def copy_course(corpus: Corpus, target: Path) -> Path:
    """A private copy of a graded course (gradebook, reference cache and all)."""
    dest = target / "course"
    shutil.copytree(corpus.course, dest, symlinks=True, ignore=shutil.ignore_patterns("feedback"))
    return dest


def read_csv(course: Path, assignment: str) -> dict[str, dict[str, str]]:
    import csv

    with open(course / "grades" / f"{assignment}.csv", newline="", encoding="utf-8") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def dump(obj) -> str:
    return json.dumps(obj, indent=1, default=str)


def built_once(tmp_path_factory, name: str, build: Callable[[Path], dict]) -> tuple[Path, dict]:
    """Run ``build(folder)`` once per test session, even across pytest-xdist workers.

    The first worker to take the lock builds in the session's shared temporary folder and
    stores what ``build`` returns as JSON; the others wait for the lock and read it.

    Returns:
        The folder and what ``build`` returned for it.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / name
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            done = root / "built.json"
            if not done.exists():
                shutil.rmtree(root, ignore_errors=True)  # left over by a worker that crashed
                root.mkdir(parents=True)
                done.write_text(json.dumps(build(root), default=str), encoding="utf-8")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return root, json.loads(done.read_text(encoding="utf-8"))
