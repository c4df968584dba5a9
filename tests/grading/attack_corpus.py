"""Submissions that attack the grader, for the sandbox tests.

A small assignment (two tasks: ``square`` worth 2 points, ``sigmoid`` worth 3, each with visible
and hidden checks) and one submission per kind of attack. The attack code sits at the top of
the ``square`` answer cell and reports every attempt as one line::

    ATTACK read-gradebook: blocked (PermissionError: ...)
    ATTACK read-gradebook: SUCCEEDED (...)

An attempt counts as blocked when it raises. Every attempt is harmless to the machine even if
the sandbox were missing: files are opened for writing without writing (``r+``), memory is
reserved without being touched, forks are capped at 400 sleeping children that exit on their
own, files written are deleted again, and nothing is sent anywhere but a closed port, an
unrouted address and the test's own listener.

What the sandbox costs per submission is measured in ``bench/bench_grading.py``.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grading_corpus import REPO, coursekit

ASSIGNMENT = "sandbox_probe"
SECRET_ENV = "COURSEKIT_TEST_SECRET"
"""Set in the grader's environment by the tests; the kernel must not see it."""
FULL, SIGMOID_ONLY = 5.0, 3.0
CELL_TIMEOUT = "5"

RIGHT_SQUARE = '''def square(x):
    """Elementwise square of x, as a float64 array."""
    return np.asarray(x, dtype=np.float64) ** 2
'''
WRONG_SQUARE = '''def square(x):
    """Doubles instead of squaring: wrong everywhere but at 0 and 2."""
    return np.asarray(x, dtype=np.float64) * 2.0
'''
RIGHT_SIGMOID = '''def sigmoid(z):
    """Logistic sigmoid 1 / (1 + exp(-z)), elementwise."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))
'''


def _meta(grade_id: str, *, solution=False, grade=False, points=0, locked=False) -> dict:
    meta = {
        "grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
        "solution": solution, "task": False,
    }  # fmt: skip
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook() -> nbformat.NotebookNode:
    """The instructor's notebook of the probe assignment (solutions and hidden tests)."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md("# Sandbox probe\n\nTwo small tasks.", metadata=_meta("intro", locked=True)),
        code(
            "import numpy as np\n\nfrom coursekit.checks import check, check_raises",
            metadata=_meta("setup", locked=True),
        ),
        code(
            'def square(x):\n    """Elementwise square of x, as a float64 array."""\n'
            "    ### BEGIN SOLUTION\n"
            "    return np.asarray(x, dtype=np.float64) ** 2\n"
            "    ### END SOLUTION",
            metadata=_meta("square", solution=True),
        ),
        code(
            'check("square/visible", square(3.0), 9.0)\n'
            "### BEGIN HIDDEN TESTS\n"
            "z = np.random.default_rng(7).normal(size=5)\n"
            'check("square/hidden-random", square(z), z * z)\n'
            'check("square/hidden-exact", square([1.5, -2.0]), [2.25, 4.0])\n'
            "### END HIDDEN TESTS",
            metadata=_meta("test_square", grade=True, points=2, locked=True),
        ),
        code(
            'def sigmoid(z):\n    """Logistic sigmoid 1 / (1 + exp(-z)), elementwise."""\n'
            "    ### BEGIN SOLUTION\n"
            "    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))\n"
            "    ### END SOLUTION",
            metadata=_meta("sigmoid", solution=True),
        ),
        code(
            'check("sigmoid/zero", sigmoid(0.0), 0.5)\n'
            "### BEGIN HIDDEN TESTS\n"
            "z = np.linspace(-4.0, 4.0, 9)\n"
            'check("sigmoid/hidden", sigmoid(z), 0.5 * (1.0 + np.tanh(z / 2.0)))\n'
            "### END HIDDEN TESTS",
            metadata=_meta("test_sigmoid", grade=True, points=3, locked=True),
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata.kernelspec = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    return nb


PRELUDE = """import os
import sys
import time


def _report(name, blocked, detail):
    print(f"ATTACK {name}: {'blocked' if blocked else 'SUCCEEDED'} ({detail})", flush=True)


def _attempt(name, action):
    start = time.monotonic()
    try:
        result = action()
    except Exception as exc:
        _report(name, True, f"{type(exc).__name__}: {exc}; after {time.monotonic() - start:.2f} s")
    else:
        _report(name, False, repr(result)[:300])


def _first_existing(paths):
    found = [p for p in paths if os.path.exists(p)]
    if not found:
        raise FileNotFoundError(f"none of {len(paths)} paths is visible")
    return found


"""


@dataclass(frozen=True)
class Context:
    """Host facts the attacks aim at."""

    course: Path
    port: int
    secret_file: Path
    victim: str = "correct"


@dataclass(frozen=True)
class Attack:
    """One attacking submission and what grading it must give.

    The ``square`` answer cell is ``code``, then the ``square`` function, then ``tail``.
    ``probes`` are the ``ATTACK`` lines the answer cell must print, each ``blocked``;
    ``score``, ``status`` and ``reason`` are the expected CSV row (``reason`` a substring,
    "" for an empty reason).
    """

    student: str
    what: str
    code: str
    probes: tuple[str, ...]
    score: float
    square: str = RIGHT_SQUARE
    tail: str = ""
    status: str = "graded"
    reason: str = ""


def attacks(ctx: Context) -> list[Attack]:
    """The attack corpus, aimed at the course and listener in ``ctx``."""
    c, a, v = ctx.course, ASSIGNMENT, ctx.victim
    solutions = (
        REPO / "assignments" / "source" / "01_logistic_regression" / "01_logistic_regression.ipynb"
    )
    record_key = "COURSEKIT"  # the answer record's variable, found without naming it
    return [
        Attack("correct", "a correct submission, graded alongside", "", (), FULL),
        Attack(
            "reads",
            "read solutions, hidden tests, reference answers, gradebook, home, "
            "grader files and environment",
            f'''import glob

_attempt("read-source-absolute", lambda: open("{c}/source/{a}/{a}.ipynb").read(200))
_attempt("read-source-relative", lambda: _first_existing(
    [("../" * k) + "source/{a}/{a}.ipynb" for k in range(1, 8)]
))
_attempt("read-repository-solutions", lambda: open("{solutions}").read(200))
_attempt("read-reference-answers", lambda: os.listdir("{c}/.coursekit_cache/{a}"))
_attempt("read-gradebook", lambda: open("{c}/gradebook.db", "rb").read(100))
_attempt("read-other-submission", lambda: open("{c}/submitted/{v}/{a}/{a}.ipynb").read(200))
_attempt("read-instructor-home", lambda: open("{ctx.secret_file}").read())
_attempt("read-system-files", lambda: _first_existing(
    ["/etc/shadow", "/etc/hostname", "/root/.bashrc", "/root/.pyenv/version"]
))
_attempt("read-runner-files", lambda: _first_existing(
    glob.glob("/tmp/**/run.ipynb", recursive=True)
    + glob.glob("/tmp/**/events.jsonl", recursive=True)
))
_attempt("read-grader-environment", lambda: os.environ["{SECRET_ENV}"])
_attempt("read-sandbox-init-environment", lambda: open("/proc/1/environ").read())
''',
            (
                "read-source-absolute",
                "read-source-relative",
                "read-repository-solutions",
                "read-reference-answers",
                "read-gradebook",
                "read-other-submission",
                "read-instructor-home",
                "read-system-files",
                "read-runner-files",
                "read-grader-environment",
                "read-sandbox-init-environment",
            ),
            FULL,
        ),  # fmt: skip
        Attack(
            "writes",
            "open the gradebook, another student's files, "
            "the grades and the Python environment for writing",
            f'''import tempfile

import numpy

import coursekit.checks

# "r+" needs write permission but changes nothing, should a write ever be allowed.
_attempt("write-gradebook", lambda: open("{c}/gradebook.db", "r+b").close())
_attempt("write-other-submission", lambda: open("{c}/submitted/{v}/{a}/{a}.ipynb", "r+").close())
_attempt("write-grades-folder", lambda: tempfile.NamedTemporaryFile(dir="{c}/grades").close())
_attempt("write-course-source", lambda: open("{c}/source/{a}/{a}.ipynb", "r+").close())
_attempt("write-numpy", lambda: open(numpy.__file__, "r+").close())
_attempt("write-coursekit", lambda: open(coursekit.checks.__file__, "r+").close())
_attempt("write-filesystem-root", lambda: tempfile.NamedTemporaryFile(dir="/").close())
_attempt("write-kernel-socket-folder", lambda: tempfile.NamedTemporaryFile(
    dir=os.path.dirname(__import__("ipykernel").get_connection_file())
).close())
_attempt("chmod-kernel-socket-folder", lambda: os.chmod(
    os.path.dirname(__import__("ipykernel").get_connection_file()), 0o755
))
_attempt("read-reference-implementation", lambda: open(
    os.path.join(os.path.dirname(coursekit.checks.__file__), "activations.py")
).read(100))
''',
            (
                "write-gradebook",
                "write-other-submission",
                "write-grades-folder",
                "write-course-source",
                "write-numpy",
                "write-coursekit",
                "write-filesystem-root",
                "write-kernel-socket-folder",
                "chmod-kernel-socket-folder",
                "read-reference-implementation",
            ),
            FULL,
        ),  # fmt: skip
        Attack(
            "network",
            "connect to a listener on the grader's loopback, to the internet, resolve a name",
            f"""import socket

_attempt(
    "connect-grader-loopback",
    lambda: socket.create_connection(("127.0.0.1", {ctx.port}), timeout=3),
)
_attempt("connect-internet", lambda: socket.create_connection(("1.1.1.1", 80), timeout=3))
_attempt("resolve-name", lambda: socket.getaddrinfo("pypi.org", 443))
""",
            ("connect-grader-loopback", "connect-internet", "resolve-name"),
            FULL,
        ),  # fmt: skip
        Attack(
            "processes",
            "find and signal other kernels and the process that started this one",
            """def _other_kernels():
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                command = open(f"/proc/{name}/cmdline", "rb").read()
            except OSError:
                continue
            program = os.path.basename(command.split(b"\\0")[0])
            if program.startswith(b"python") and (
                b"ipykernel" in command or b"coursekit" in command
            ):
                found.append(int(name))
    if not found:
        raise ProcessLookupError("no other kernel or grader process is visible")
    return found


_attempt("see-other-kernels", _other_kernels)
_attempt("signal-parent", lambda: os.kill(os.getppid(), 0))  # signal 0: permission check only
""",
            ("see-other-kernels", "signal-parent"),
            FULL,
        ),  # fmt: skip
        Attack(
            "fork_bomb",
            "fork until refused (at most 400 children, each sleeping 60 s)",
            """def _fork_bomb():
    children = 0
    try:
        for _ in range(400):
            if os.fork() == 0:
                try:
                    time.sleep(60)
                finally:
                    os._exit(0)
            children += 1
    except OSError as exc:
        raise OSError(f"fork number {children + 1} refused: {exc}") from exc
    return f"{children} children"


_attempt("fork-bomb", _fork_bomb)
""",
            ("fork-bomb",),
            FULL,
        ),  # fmt: skip
        Attack(
            "memory",
            "allocate an 8 GiB array and a 3 GiB array of zeros",
            """import numpy

_attempt("allocate-8-GiB-array", lambda: numpy.empty(2**30).nbytes)
_attempt("allocate-3-GiB-zeros", lambda: numpy.zeros(3 * 2**27).nbytes)
""",
            ("allocate-8-GiB-array", "allocate-3-GiB-zeros"),
            FULL,
        ),  # fmt: skip
        Attack(
            "disk",
            "write a 1 GiB file, then fill /tmp with 2 GiB of files",
            """def _big_file():
    chunk, written = b"x" * 2**23, 0
    try:
        with open("big.bin", "wb") as fh:
            while written < 2**30:
                fh.write(chunk)
                written += len(chunk)
    finally:
        os.remove("big.bin")
    return f"{written} bytes"


def _fill_tmp():
    chunk, made = b"x" * 2**24, []
    try:
        for i in range(128):
            made.append(f"/tmp/fill{i}.bin")
            with open(made[-1], "wb") as fh:
                fh.write(chunk)
    finally:
        for path in made:
            if os.path.exists(path):
                os.remove(path)
    return f"{len(made)} files of 16 MiB"


_attempt("write-1-GiB-file", _big_file)
_attempt("fill-tmp", _fill_tmp)
""",
            ("write-1-GiB-file", "fill-tmp"),
            FULL,
        ),  # fmt: skip
        Attack(
            "inodes",
            "create 200,000 empty files in every place the kernel can write, "
            "leaving the last lot there",
            """import ipykernel


def _empty_files(folder, keep=False):
    made = []
    try:
        for i in range(200_000):
            path = os.path.join(folder, f"empty{i}")
            open(path, "x").close()
            made.append(path)
    except OSError as exc:
        raise OSError(exc.errno, f"{len(made)} files made, then {exc.strerror}") from exc
    finally:
        if not keep:
            for path in made:
                os.remove(path)
    return f"{len(made)} files in {folder}"


def _folders_and_links(folder):
    made = []
    try:
        for i in range(100_000):
            path = os.path.join(folder, f"entry{i}")
            if i % 2:
                os.mkdir(path)
            else:
                os.symlink("/", path)
            made.append(path)
    except OSError as exc:
        message = f"{len(made)} folders and links made, then {exc.strerror}"
        raise OSError(exc.errno, message) from exc
    finally:
        for path in made:
            if os.path.islink(path):
                os.remove(path)
            else:
                os.rmdir(path)
    return f"{len(made)} folders and links in {folder}"


_sockets = os.path.dirname(ipykernel.get_connection_file())
_attempt("inodes-working-folder", lambda: _empty_files(os.getcwd()))
_attempt("inodes-tmp-folders-and-links", lambda: _folders_and_links("/tmp"))
_attempt("inodes-socket-folder", lambda: _empty_files(_sockets))
_attempt("inodes-dev-shm", lambda: _empty_files("/dev/shm"))
_attempt("inodes-filesystem-root", lambda: _empty_files("/"))
_attempt("inodes-home-kept", lambda: _empty_files(os.path.expanduser("~"), keep=True))
""",
            (
                "inodes-working-folder",
                "inodes-tmp-folders-and-links",
                "inodes-socket-folder",
                "inodes-dev-shm",
                "inodes-filesystem-root",
                "inodes-home-kept",
            ),
            FULL,
        ),  # fmt: skip
        Attack(
            "stdout_flood",
            "print 100 kB lines until the cell time limit",
            "",
            (),
            FULL,
            tail='while True:\n    print("x" * 100_000)\n',
        ),
        Attack(
            "sleep_forever",
            "sleep for eleven days",
            "",
            (),
            FULL,
            tail="import time\n\ntime.sleep(10**6)\n",
        ),
        Attack(
            "tamper_check_runtime",
            "replace check() at run time (invisible to the lint) to record the expected value",
            """_checks = sys.modules["coursekit.checks"]
_genuine = getattr(_checks, "che" + "ck")


def _record_expected(key, actual, expected, **kwargs):
    return _genuine(key, expected if key.startswith("square/") else actual, expected, **kwargs)


globals()["che" + "ck"] = _record_expected
""",
            (),
            0.0,  # check() changed before the tests ran: none of them earns anything
            square=WRONG_SQUARE,
            status="needs-attention",
            reason="student code changed check, which the tests rely on",
        ),  # fmt: skip
        Attack(
            "tamper_check_plain",
            "rebind check() in plain sight to record the expected value",
            """from coursekit.checks import check as _genuine


def _record_expected(key, actual, expected, **kwargs):
    return _genuine(key, expected if key.startswith("square/") else actual, expected, **kwargs)


check = _record_expected
""",
            (),
            0.0,
            square=WRONG_SQUARE,
            status="needs-attention",
            reason="assigns to check",
        ),  # fmt: skip
        Attack(
            "patch_numpy",
            "make NumPy's comparisons always agree and its random inputs zero",
            """import builtins

import numpy as np

np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.testing.assert_allclose = lambda *args, **kwargs: None
builtins.AssertionError = type("AssertionError", (Exception,), {})


class _ZeroGenerator:
    def __init__(self, *args, **kwargs):
        pass

    def normal(self, *args, size=None, **kwargs):
        return np.zeros(size)


np.random.default_rng = _ZeroGenerator
""",
            (),
            0.0,
            square=WRONG_SQUARE,
            status="needs-attention",
            reason="numpy.",
        ),  # fmt: skip
        Attack(
            "forge_records",
            "write answer records with the visible and guessed values, "
            "from the answer cell and from inside square()",
            f'''import json

_answers_path = next(value for key, value in os.environ.items() if key.startswith("{record_key}"))


def _forge():
    with open(_answers_path, "a") as fh:
        for key, value in [
            ("square/visible", [9.0]),
            ("square/hidden-exact", [2.25, 4.0]),
            ("square/hidden-random", [0.0] * 5),
        ]:
            shape = [len(value)] if len(value) > 1 else []
            answer = {{"kind": "array", "shape": shape, "values": [repr(v) for v in value]}}
            record = {{"key": key, "answer": answer, "rtol": 1e-7, "atol": 1e-9}}
            fh.write(json.dumps(record) + "\\n")


_forge()
''',
            (),
            SIGMOID_ONLY,
            square=WRONG_SQUARE.replace(
                "    return np.asarray", "    _forge()\n    return np.asarray"
            ),
        ),  # fmt: skip
    ]


def answer_cells(attack: Attack) -> dict[str, str]:
    """``{answer grade_id: submitted text}`` for one attack."""
    parts = [PRELUDE + attack.code] if attack.code else []
    parts += [attack.square] + ([attack.tail] if attack.tail else [])
    return {"square": "\n\n".join(parts), "sigmoid": RIGHT_SIGMOID}


def make_course(root: Path) -> Path:
    """A course directory holding only the probe assignment, with the course's config."""
    course = root / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(source_notebook(), str(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    shutil.copy(REPO / "assignments" / "nbgrader_config.py", course / "nbgrader_config.py")
    return course


def release(course: Path) -> None:
    done = coursekit("release", ASSIGNMENT, "--course-dir", str(course))
    assert done.returncode == 0, done.stderr


def write_submission(course: Path, attack: Attack) -> Path:
    """Fill the released notebook's answer cells with the attack; returns the file."""
    nb = nbformat.read(str(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    answers = answer_cells(attack)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    target = course / "submitted" / attack.student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(target))
    return target


def attack_lines(course: Path, student: str) -> dict[str, str]:
    """``{probe name: "blocked" | "SUCCEEDED"}`` from the graded notebook's answer cell."""
    nb = nbformat.read(
        str(course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4
    )
    found = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for line in out.get("text", "").splitlines():
                if line.startswith("ATTACK "):
                    name, _, rest = line[len("ATTACK ") :].partition(": ")
                    found[name] = rest
    return found


# --------------------------------------------------------------------------------------------
# Cost of the sandbox
# --------------------------------------------------------------------------------------------
