"""Blinded test cells: in grading mode the student's kernel never computes expected values."""

from __future__ import annotations

import ast
import json
import copy

import nbformat
import pytest
from attack_corpus import Context, answer_cells, attacks, source_notebook
from grading_corpus import A1, A2, A3, SOURCES

from coursekit.grading import blind
from coursekit.grading import cells as nbcells
from coursekit.grading import runner as rn
from coursekit.grading.reference import compute_reference
from coursekit.grading.scoring import score_test_cell


def cell(source: str, grade_id: str, *, solution=False, grade=False) -> nbformat.NotebookNode:
    meta = {
        "grade_id": grade_id,
        "solution": solution,
        "grade": grade,
        "locked": not solution,
        "schema_version": 3,
    }
    if grade:
        meta["points"] = 1
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def notebook(*cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=list(cells))
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def expected_args(source: str, name: str = "check") -> list[str]:
    """Source text of the expected argument of every ``name(...)`` call."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == name
        ):
            if len(node.args) > 2:
                found.append(ast.unparse(node.args[2]))
            found.extend(ast.unparse(k.value) for k in node.keywords if k.arg == "expected")
    return found


SETUP = cell("import numpy as np\nfrom coursekit.checks import check, check_raises", "setup")
ANSWER = cell("def f(x):\n    return 2 * x", "f", solution=True)
TEST = cell(
    'x = np.arange(3.0)\ncheck("f/values", f(x), 2 * x)\n'
    "### BEGIN HIDDEN TESTS\n"
    'check("f/multi-line", f(5.0),\n      np.array(\n          10.0))\n'
    'check("f/keyword", f(1.0), expected=2.0, rtol=0.0)\n'
    'check_raises("f/raises", lambda: f(None), TypeError)\n'
    "### END HIDDEN TESTS",
    "test_f",
    grade=True,
)


def test_expected_values_become_none_and_every_line_keeps_its_place():
    nb = notebook(SETUP, ANSWER, TEST)
    result = blind.blind_notebook(nb)
    new = result.nb.cells[2].source
    assert expected_args(new) == ["None", "None", "None"]
    assert new.count("\n") == TEST.source.count("\n")
    assert 'check_raises("f/raises", lambda: f(None), TypeError)' in new
    assert 'check("f/keyword", f(1.0), expected=None, rtol=0.0)' in new
    assert result.nb.cells[1].source == ANSWER.source  # answer cells are never touched
    assert nb.cells[2].source == TEST.source  # the input notebook is not modified
    assert result.changed_cells == [2]


def test_statements_that_only_computed_expected_values_are_removed():
    test = cell(
        "def _reference(x):\n    return 2 * x\n\n\n"
        "x = np.arange(4.0)\n"
        "expected = _reference(x)\n"
        "model = [0.0]\n"
        "trained = model.append(1.0)\n"  # never read: kept, it exists for its side effect
        'check("f/ref", f(x), expected)\n'
        'check("f/model", f(np.array(model)), 2 * np.array(model))\n'
        "shared = 3.0\n",
        "test_f",
        grade=True,
    )
    later = cell('check("f/later", f(shared), 6.0)', "test_later", grade=True)
    result = blind.blind_notebook(notebook(SETUP, ANSWER, test, later))
    new = result.nb.cells[2].source
    assert "_reference" not in new and "expected =" not in new
    assert "x = np.arange(4.0)" in new  # an input
    assert "trained = model.append(1.0)" in new
    assert "shared = 3.0" in new  # read by a later cell
    assert new.count("\n") == test.source.count("\n")
    compile(new, "blinded", "exec")


def test_an_alias_of_check_is_blinded_too():
    setup = cell("from coursekit.checks import check as verify", "setup")
    test = cell('verify("k", f(1.0), 2.0)', "test_f", grade=True)
    result = blind.blind_notebook(notebook(setup, ANSWER, test))
    assert expected_args(result.nb.cells[2].source, "verify") == ["None"]


def test_what_is_removed_depends_only_on_the_instructors_cells():
    # An answer that happens to use the name of an expected-only variable changes nothing:
    # the reference and every submission must run the same test code.
    test = cell("expected = 2.0\ncheck('k', f(1.0), expected)", "test_f", grade=True)
    other = cell("expected = 'mine'\ndef f(x):\n    return expected", "f", solution=True)
    first = blind.blind_notebook(notebook(SETUP, ANSWER, test))
    second = blind.blind_notebook(notebook(SETUP, other, test))
    assert first.nb.cells[2].source == second.nb.cells[2].source
    assert "expected = 2.0" not in first.nb.cells[2].source


def test_error_messages_quote_the_original_lines():
    result = blind.blind_notebook(notebook(SETUP, ANSWER, TEST))
    blinded_line = 'check("f/values", f(x), None)'
    entry = (
        f"\x1b[0;32mCell In[3], line 2\x1b[0m\n----> 2 \x1b[43m{blinded_line}\x1b[0m\n"
        "ValueError: bad"
    )
    outputs = [
        {
            "output_type": "error",
            "ename": "ValueError",
            "evalue": "bad",
            "traceback": [entry, "untouched \x1b[0m"],
        },
        {"output_type": "stream", "name": "stdout", "text": blinded_line},
    ]
    fixed = blind.restore_outputs(outputs, result)
    assert 'check("f/values", f(x), 2 * x)' in fixed[0]["traceback"][0]
    assert "\x1b[" not in fixed[0]["traceback"][0]
    assert fixed[0]["traceback"][1] == "untouched \x1b[0m"  # colour kept where nothing changed
    assert fixed[1] == outputs[1]  # a student's own print is left alone


@pytest.mark.parametrize("assignment", [A1, A2, A3])
def test_the_assignments_blind_cleanly(assignment):
    nb = nbformat.read(str(SOURCES / assignment / f"{assignment}.ipynb"), as_version=4)
    result = blind.blind_notebook(nb)
    for before, after in zip(nb.cells, result.nb.cells):
        if after.cell_type != "code" or nbcells.is_answer(after):
            assert after.source == before.source
            continue
        compile(after.source, "blinded", "exec")
        assert after.source.count("\n") == before.source.count("\n")
        assert set(expected_args(after.source)) <= {"None"}
        assert len(expected_args(after.source)) == len(
            expected_args(before.source)
        )  # no check lost
    assert result.changed_cells  # every assignment has test cells to blind


@pytest.mark.slow
def test_a_check_replaced_at_run_time_earns_hidden_credit_only_without_blinding(
    tmp_path, monkeypatch
):
    source = source_notebook()
    path = tmp_path / "source" / "probe.ipynb"
    path.parent.mkdir()
    nbformat.write(source, str(path))
    limits = rn.RunLimits(timeout=20)
    reference = compute_reference(path, limits)
    attack = next(
        a for a in attacks(Context(tmp_path, 0, tmp_path)) if a.student == "tamper_check_runtime"
    )
    submission = copy.deepcopy(source)
    for c in submission.cells:
        c.source = answer_cells(attack).get(nbcells.grade_id(c) or "", c.source)

    def scores(workdir):
        run = rn.run_notebook(submission, tmp_path / workdir, limits, record=True)
        return {
            nbcells.grade_id(c): score_test_cell(
                nbcells.grade_id(c), nbcells.points(c), run.cells.get(i),
                reference[nbcells.grade_id(c)],
            ).points
            for i, c in enumerate(submission.cells)
            if nbcells.is_test(c)
        }  # fmt: skip

    blinded = scores("blinded")
    monkeypatch.setattr(blind, "blind_notebook", lambda nb: blind.Blinded(nb=copy.deepcopy(nb)))
    unblinded = scores("unblinded")
    # Its square() doubles instead of squaring; the replaced check records the expected value.
    assert unblinded == {"test_square": 2.0, "test_sigmoid": 3.0}  # the hole blinding closes
    assert blinded == {"test_square": 0.0, "test_sigmoid": 3.0}


def test_expected_values_inside_helper_functions_are_removed():
    # A gradient-check helper: the numerical gradient exists only to be compared with.
    test = cell(
        "from coursekit.gradcheck import numerical_gradient\n\n\n"
        "def _loss(v):\n    return float(np.sum(v * v))\n\n\n"
        "def _compare(key, v):\n"
        "    mine = f(v)\n"
        "    for k in range(2):\n"
        "        reference = numerical_gradient(_loss, v.copy())\n"
        "        check(f'{key}-{k}', mine, reference)\n\n\n"
        "_compare('f/grad', np.arange(3.0))\n",
        "test_f",
        grade=True,
    )
    new = blind.blind_notebook(notebook(SETUP, ANSWER, test)).nb.cells[2].source
    assert "numerical_gradient" not in new and "reference" not in new and "_loss" not in new
    assert "mine = f(v)" in new and "_compare('f/grad', np.arange(3.0))" in new
    compile(new, "blinded", "exec")


def test_a_name_reused_later_as_an_input_does_not_keep_an_expected_value():
    # `p` is an expected-only value first and an input later: statements run in order, so
    # the first binding is removed and the second kept.
    test = cell(
        "p = np.exp(-1.0)\n"
        "check('f/a', f(1.0), 2 * p)\n"
        "p = np.arange(2.0)\n"
        "check('f/b', f(p), 2 * p)\n",
        "test_f",
        grade=True,
    )
    new = blind.blind_notebook(notebook(SETUP, ANSWER, test)).nb.cells[2].source
    assert new.splitlines()[0] == "pass" and "p = np.arange(2.0)" in new


SPY = """import json as _spy_json
import sys as _spy_sys

import numpy as _spy_np

from coursekit.checks import check as _spy_genuine

_SPY_MODE, _SPY_OUT, _SPY_FOUND = {mode!r}, {out!r}, _spy_json.loads({found!r})
_spy_seen = []


def _spy_scopes(frame):
    if frame.f_code.co_name == "<module>":
        return [("<module>", frame.f_globals)]
    return [(frame.f_code.co_name, frame.f_locals), ("<module>", frame.f_globals)]


def _spy_holds(value, expected):
    if value is expected or (
        isinstance(expected, _spy_np.ndarray)
        and expected.base is not None
        and expected.base is value
    ):
        return True
    if isinstance(value, dict):
        items = value.values()
    else:
        items = value if isinstance(value, (list, tuple)) else ()
    return any(item is expected for item in items)


def check(key, actual, expected=None, **kwargs):
    frame = _spy_sys._getframe(1)
    if _SPY_MODE == "record":
        if not isinstance(expected, (bool, int, str, type(None))):
            for scope, names in _spy_scopes(frame):
                for name, value in list(names.items()):
                    if (
                        not name.startswith("_spy")
                        and value is not actual
                        and _spy_holds(value, expected)
                    ):
                        seen = _spy_np.asarray(expected, dtype=float).tolist()
                        _spy_seen.append([key, scope, name, seen])
        _spy_genuine(key, actual, expected, **kwargs)
    else:
        for _, scope, name, value in _SPY_FOUND.get(key, []):
            for where, names in _spy_scopes(frame):
                if where == scope and name in names:
                    try:
                        same = _spy_np.array_equal(
                            _spy_np.asarray(names[name], dtype=float), _spy_np.asarray(value)
                        )
                    except (TypeError, ValueError):
                        same = False
                    if same:
                        _spy_seen.append([key, scope, name])
    with open(_SPY_OUT, "w") as fh:
        _spy_json.dump(_spy_seen, fh)
"""


@pytest.mark.slow
@pytest.mark.parametrize("assignment", [A1, A2, A3])
def test_no_name_in_the_blinded_kernel_holds_an_expected_value(assignment, tmp_path):
    # The solution's own run finds the names that hold an expected value when check() is
    # called (by identity, in the calling function and the module); the blinded notebook,
    # run with the same solution, must hold none of those values under those names.
    source = nbformat.read(str(SOURCES / assignment / f"{assignment}.ipynb"), as_version=4)
    setup = next(i for i, c in enumerate(source.cells) if nbcells.grade_id(c) == "setup") + 1
    limits = rn.RunLimits(timeout=60)

    def run(nb, mode, found):
        out = tmp_path / f"{mode}.json"
        nb = copy.deepcopy(nb)
        nb.cells.insert(
            setup,
            nbformat.v4.new_code_cell(SPY.format(mode=mode, out=str(out), found=json.dumps(found))),
        )
        result = rn.run_notebook(
            nb, tmp_path / mode, limits, record=False, files_from=SOURCES / assignment
        )
        assert result.failure is None and result.stopped is None
        return json.loads(out.read_text())

    recorded = run(source, "record", {})
    holders = {(scope, name) for _, scope, name, _ in recorded}
    assert holders, "the solution's run found no name holding an expected value"
    found: dict[str, list] = {}
    for key, scope, name, value in recorded:
        found.setdefault(key, []).append([key, scope, name, value])
    leaks = run(blind.blind_notebook(source).nb, "probe", found)
    assert leaks == [], f"expected values still held in the blinded kernel: {leaks[:5]}"
