"""Answer checks used by the test cells of the assignments.

A test cell does not assert by itself; it calls :func:`check` with a key, the student's answer
and the expected answer::

    check("sigmoid/extreme", sigmoid(np.array([-1e4, 0.0, 1e4])), [0.0, 0.5, 1.0])

There are two modes:

* **Working mode** (a student or an instructor running the notebook): the answer is compared
  right away and a wrong one raises an :class:`AssertionError` that says what differed.
* **Grading mode** (the grader sets the environment variable named by :data:`RECORD_ENV`): the
  answer is only *recorded*, one JSON line per check, and nothing is compared inside the kernel.
  The grader compares the recorded answers with those of the reference solution in its own
  process, where student code cannot reach: replacing ``numpy.allclose`` or this module inside a
  submission's kernel cannot turn a wrong answer into a right one.

:func:`compare` is the single comparison used by both modes.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable

import numpy as np

RECORD_ENV = "COURSEKIT_GRADING_RECORD"
"""Environment variable holding the path of the JSON-lines file answers are recorded to."""


def encode_answer(value: Any) -> dict[str, Any]:
    """Turn an answer into JSON-safe data: numbers and arrays keep their shape; NaN/inf survive.

    Raises:
        TypeError: for answers that are not numbers, booleans, strings or arrays of numbers.
    """
    if isinstance(value, (bool, np.bool_)):
        return {"kind": "bool", "value": bool(value)}
    if isinstance(value, str):
        return {"kind": "str", "value": value}
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"an answer must be a number, a boolean, a string or an array of numbers, "
            f"got {type(value).__name__}"
        ) from exc
    # repr() keeps every digit of a float64 and spells nan/inf in a way float() reads back.
    return {
        "kind": "array",
        "shape": list(arr.shape),
        "values": [repr(float(v)) for v in arr.ravel()],
    }


def decode_answer(data: dict[str, Any]) -> Any:
    """Inverse of :func:`encode_answer`."""
    if data["kind"] in ("bool", "str"):
        return data["value"]
    values = np.array([float(v) for v in data["values"]], dtype=np.float64)
    return values.reshape(data["shape"])


def compare(actual: Any, expected: Any, rtol: float = 1e-7, atol: float = 1e-9) -> tuple[bool, str]:
    """Compare an answer with the expected one.

    Numbers match when ``|actual - expected| <= atol + rtol * |expected|`` entrywise, shapes are
    equal, and neither side has a NaN where the other has a number (NaN matches only NaN, and an
    infinity only the same infinity). Booleans and strings must be equal.

    Returns:
        ``(ok, message)`` where ``message`` explains the first difference found.
    """
    if isinstance(expected, (bool, np.bool_, str)) or isinstance(actual, (bool, np.bool_, str)):
        ok = (
            type(bool(actual) if isinstance(actual, np.bool_) else actual)
            is type(bool(expected) if isinstance(expected, np.bool_) else expected)
            and actual == expected
        )
        return ok, "" if ok else f"expected {expected!r}, got {actual!r}"
    a = decode_answer(encode_answer(actual))
    e = decode_answer(encode_answer(expected))
    if a.shape != e.shape:
        return False, f"expected shape {e.shape}, got shape {a.shape}"
    both_nan = np.isnan(a) & np.isnan(e)
    same_inf = np.isinf(a) & (a == e)
    with np.errstate(invalid="ignore"):
        close = np.abs(a - e) <= atol + rtol * np.abs(e)
    ok_entries = both_nan | same_inf | (np.isfinite(a) & np.isfinite(e) & close)
    if ok_entries.all():
        return True, ""
    index = tuple(int(i) for i in np.argwhere(~ok_entries)[0])
    where = f" at index {index}" if a.ndim else ""
    return (
        False,
        f"expected {float(e[index])!r}{where}, "
        f"got {float(a[index])!r} ({int((~ok_entries).sum())} of {a.size} entries differ)",
    )


def _record(entry: dict[str, Any]) -> None:
    with open(os.environ[RECORD_ENV], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")


def check(key: str, actual: Any, expected: Any, *, rtol: float = 1e-7, atol: float = 1e-9) -> None:
    """Check one answer (see the module docstring for the two modes).

    Args:
        key: a name unique within the notebook, e.g. ``"bce/grad-batch-1"``.
        actual: the student's answer.
        expected: the right answer (used in working mode; in grading mode the grader uses the
            reference solution's answer for the same key instead).
        rtol: relative tolerance.
        atol: absolute tolerance.

    Raises:
        AssertionError: in working mode, when the answer is wrong.
    """
    if os.environ.get(RECORD_ENV):
        _record({"key": key, "answer": encode_answer(actual), "rtol": rtol, "atol": atol})
        return
    ok, message = compare(actual, expected, rtol, atol)
    if not ok:
        raise AssertionError(f"check {key!r} failed: {message}")


def check_raises(key: str, func: Callable[[], Any], exception: type[BaseException]) -> None:
    """Check that calling ``func()`` raises ``exception`` (e.g. a ValueError for a bad shape)."""
    try:
        func()
    except exception:
        raised = True
    except Exception as exc:  # the wrong exception is a wrong answer, not a crash of the cell
        raised = False
        if not os.environ.get(RECORD_ENV):
            raise AssertionError(
                f"check {key!r} failed: expected {exception.__name__}, "
                f"got {type(exc).__name__}: {exc}"
            ) from exc
    else:
        raised = False
    if os.environ.get(RECORD_ENV):
        _record({"key": key, "answer": encode_answer(raised), "rtol": 0.0, "atol": 0.0})
        return
    if not raised:
        raise AssertionError(
            f"check {key!r} failed: expected {exception.__name__}, nothing was raised"
        )
