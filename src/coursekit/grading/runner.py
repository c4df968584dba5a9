"""Run one notebook in a separate process and report what every code cell did (the parent side).

The grader never runs student code in its own process. :func:`run_notebook` writes the notebook
to a scratch folder and starts :mod:`coursekit.grading.executor` as a child process, which
starts the kernel, runs the cells and writes one event per cell; this module reads the events
back into a :class:`RunResult`. Because events are written as cells finish, whatever ran before
a crash or a forced stop is still known.

The parent's own limits:

* **the whole notebook**: the child's process group and the kernel's are killed after
  ``notebook_timeout`` seconds, whatever happens inside;
* **the child's log** (its stdout and stderr, which the kernel and anything it leaves running
  inherit) is read through a pipe of which only the last :data:`LOG_TAIL_BYTES` are kept, so a
  background process printing forever cannot fill the grader's disk.

The per-cell limits (time, interrupts, output, ``exit()``) are the executor's; see there.

The operating-system sandbox (:mod:`coursekit.grading.sandbox`, when ``RunLimits.sandbox`` is
set) wraps only the *kernel* the child starts, not the child itself: the child reads the
notebook, hidden tests included, and writes the events the grader trusts, so neither may be
within reach of student code.

In grading mode (``record=True``) the notebook runs blinded (:mod:`coursekit.grading.blind`):
test cells do not compute their expected values inside the student's kernel. In every mode
student code may import only the ``coursekit`` modules the instructor's cells import
(:func:`allowed_modules`, enforced by :mod:`coursekit.grading.kernel_harness`).
"""

from __future__ import annotations

import ast
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from coursekit.checks import RECORD_ENV
from coursekit.grading import blind
from coursekit.grading import cells as nbcells
from coursekit.grading.executor import (  # noqa: F401 (the statuses are part of this module's interface)
    ERROR,
    KERNEL_DIED,
    NOT_RUN,
    OK,
    TIMEOUT,
    TIMEOUT_ENAME,
    kill_group,
)
from coursekit.grading.sandbox import SandboxLimits

KERNEL_NOT_STARTED = "the kernel could not be started"
EVENTS_FILE = "events.jsonl"
RECORD_FILE = "answers.jsonl"
LOG_TAIL_BYTES = 64 * 1024
"""How much of the child's log is kept (the end, where the error is)."""
ALWAYS_ALLOWED = ("coursekit.checks",)


@dataclass
class CellRun:
    """What happened to one code cell."""

    index: int
    status: str
    outputs: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    junk_lines: int = 0
    seconds: float = 0.0
    execution_count: int | None = None
    blocked_imports: list[str] = field(default_factory=list)
    """coursekit modules the cell tried to import and was refused."""
    patched: list[str] = field(default_factory=list)
    """For a test cell: what the tests rely on that had changed when it started."""


@dataclass
class RunResult:
    """The outcome of running one notebook.

    Attributes:
        cells: ``{cell index: CellRun}`` for every code cell that was reached.
        stopped: why execution ended before the last cell, in words (None if it did not).
        failure: a problem on the grader's side (the kernel could not start, the runner
            crashed); None when the notebook was run as intended.
        seconds: wall-clock time of the whole run.
    """

    cells: dict[int, CellRun]
    stopped: str | None
    failure: str | None
    seconds: float


@dataclass(frozen=True)
class RunLimits:
    """Limits for one notebook run (see the module docstring)."""

    timeout: float = 30.0
    notebook_timeout: float = 600.0
    grace: float = 5.0
    max_output_chars: int = 20_000
    max_lines: int = 1000
    max_traceback: int = 100
    kernel_name: str = "python3"
    sandbox: SandboxLimits | None = None
    """Run the kernel in the operating-system sandbox with these limits (None: no sandbox)."""


def runner_command(
    notebook: Path,
    events: Path,
    cwd: Path,
    limits: RunLimits,
    sandbox_dir: Path | None = None,
    allowed: list[str] | None = None,
) -> list[str]:
    """The command line that runs ``notebook``; ``sandbox_dir`` is the run's folder made by
    :func:`coursekit.grading.sandbox.prepare` (the executor then starts the kernel inside it),
    ``allowed`` the coursekit modules student code may import."""
    return [
        sys.executable,
        "-m",
        "coursekit.grading.executor",
        "--allowed", json.dumps(sorted(allowed or ALWAYS_ALLOWED)),
        "--notebook", str(notebook),
        "--events", str(events),
        "--cwd", str(cwd),
        "--timeout", str(limits.timeout),
        "--grace", str(limits.grace),
        "--max-output-chars", str(limits.max_output_chars),
        "--max-lines", str(limits.max_lines),
        "--max-traceback", str(limits.max_traceback),
        "--kernel", limits.kernel_name,
        *(["--sandbox-dir", str(sandbox_dir)] if sandbox_dir is not None else []),
    ]  # fmt: skip


def _child_env(record_path: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop(RECORD_ENV, None)
    if record_path is not None:
        env[RECORD_ENV] = str(record_path)
    # One BLAS thread per kernel: parallel grading jobs must not fight over the cores, and a
    # fixed summation order keeps results reproducible from run to run.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    env["MPLBACKEND"] = "Agg"
    env["PYTHONHASHSEED"] = "0"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


def _coursekit_imports(tree: ast.AST) -> set[str]:
    """Dotted names of the coursekit modules an instructor's cell imports."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "coursekit")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "coursekit":
                found.add(node.module)
                # "from coursekit import data": data may be a module
                found.update(f"{node.module}.{a.name}" for a in node.names if a.name != "*")
    return found


def allowed_modules(nb: nbformat.NotebookNode) -> list[str]:
    """The coursekit modules the instructor's cells of ``nb`` import after blinding (the only
    ones student code may import; see :mod:`coursekit.grading.kernel_harness`).

    Test cells are looked at blinded: an import that only served to compute expected values
    (``numerical_gradient`` for a gradient check) is gone, so it is not allowed either.
    """
    return instructor_imports(blind.blind_notebook(nb).nb)


def instructor_imports(nb: nbformat.NotebookNode) -> list[str]:
    """The coursekit modules the instructor's cells of ``nb`` import, as they stand."""
    import importlib.util

    found: set[str] = set(ALWAYS_ALLOWED)
    for cell in nb.cells:
        if cell.cell_type != "code" or blind.is_student_code(cell):
            continue
        try:
            tree = nbcells.parse_python(nbcells.to_python(nbcells.source_text(cell)))
        except SyntaxError:
            continue
        found |= _coursekit_imports(tree)
    modules = set()
    for name in found:
        try:
            if importlib.util.find_spec(name) is not None:
                modules.add(name)
        except (ImportError, ValueError):
            continue  # "from coursekit.data import blobs": blobs is not a module
    return sorted(modules)


def run_notebook(
    nb: nbformat.NotebookNode,
    workdir: Path,
    limits: RunLimits,
    *,
    record: bool,
    files_from: Path | None = None,
) -> RunResult:
    """Run ``nb`` in a child process and collect what each code cell did.

    Args:
        nb: the notebook to run (not modified).
        workdir: an empty scratch directory for this run; the kernel's working directory is
            ``workdir/work``.
        limits: time and output limits.
        record: set :data:`coursekit.checks.RECORD_ENV` so ``check()`` records answers.
        files_from: a directory whose non-notebook files (data files of an assignment) are
            copied into the kernel's working directory first.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    cwd = workdir / "work"
    if files_from is not None:
        shutil.copytree(
            files_from,
            cwd,
            ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__"),
            dirs_exist_ok=True,
        )
    cwd.mkdir(exist_ok=True)
    notebook_path = workdir / "run.ipynb"
    blinded = blind.blind_notebook(nb) if record else None
    allowed = allowed_modules(nb)
    nbformat.write(blinded.nb if blinded else nb, str(notebook_path))
    events_path = workdir / EVENTS_FILE
    record_path = workdir / RECORD_FILE if record else None
    env = _child_env(record_path)
    sandbox_dir = None
    if limits.sandbox is not None:
        from coursekit.grading import sandbox

        # A short private folder: the kernel's socket paths live in it.
        # What the instructor's cells import as they run must be there; in working mode (a
        # feedback run) the test cells still compute expected values, with the gradient check.
        mounted = sorted(set(allowed) | set(instructor_imports(blinded.nb if blinded else nb)))
        sandbox_dir = sandbox.prepare(
            Path(tempfile.gettempdir()), cwd, record_path, limits.sandbox, env, mounted
        )
    command = runner_command(notebook_path, events_path, cwd, limits, sandbox_dir, allowed)
    result = _run_command(command, workdir, limits, env, blinded)
    if result.failure and result.failure.startswith(KERNEL_NOT_STARTED):
        # Seen about once in a few hundred starts on a loaded machine (a kernel that did not
        # answer in time, a socket closed under the client): not the notebook's fault, and the
        # kernel never ran a line of it, so one more try is safe.
        time.sleep(1.0)
        events_path.unlink(missing_ok=True)
        retry = _run_command(command, workdir, limits, env, blinded)
        result = RunResult(
            retry.cells, retry.stopped, retry.failure, result.seconds + retry.seconds
        )
    if sandbox_dir is not None:
        shutil.rmtree(sandbox_dir, ignore_errors=True)
    return result


def _run_command(
    command: list[str],
    workdir: Path,
    limits: RunLimits,
    env: dict[str, str],
    blinded: blind.Blinded | None,
) -> RunResult:
    """Run the runner ``command`` once and read its events into a :class:`RunResult`."""
    events_path = workdir / EVENTS_FILE
    start = time.monotonic()
    proc = subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so it can be killed as a whole
    )
    tail: collections.deque[bytes] = collections.deque()
    reader = threading.Thread(target=_keep_tail, args=(proc.stdout, tail), daemon=True)
    reader.start()
    killed = False
    try:
        proc.wait(timeout=limits.notebook_timeout)
    except subprocess.TimeoutExpired:
        killed = True
    finally:
        if killed or proc.poll() is None:
            kill_group(proc.pid)
            proc.wait()
    seconds = time.monotonic() - start
    events = _read_events(events_path)
    kernel_pgid = next((e.get("kernel_pgid") for e in events if e.get("event") == "start"), None)
    finished = any(e.get("event") == "done" for e in events)
    if not finished:
        kill_group(kernel_pgid)  # the child did not get to shut its kernel down
    # Whatever still holds the log pipe (a process the kernel left behind) is not waited for.
    reader.join(timeout=2.0)
    log_tail = b"".join(tail).decode("utf-8", errors="replace")[-2000:]
    (workdir / "runner.log").write_text(log_tail, encoding="utf-8")

    cells: dict[int, CellRun] = {}
    stopped = None
    for e in events:
        if e.get("event") == "cell":
            cells[e["index"]] = CellRun(
                index=e["index"],
                status=e["status"],
                outputs=blind.restore_outputs(e.get("outputs", []), blinded),
                records=e.get("records", []),
                junk_lines=e.get("junk_lines", 0),
                seconds=e.get("seconds", 0.0),
                execution_count=e.get("execution_count"),
                blocked_imports=list(e.get("blocked_imports", [])),
                patched=list(e.get("patched", [])),
            )
        elif e.get("event") == "stopped":
            stopped = e["reason"]
    failure = None
    if killed:
        stopped = (
            f"the notebook did not finish within the limit of {limits.notebook_timeout:g} s for a "
            "whole notebook and was stopped"
        )
    elif not finished:
        if kernel_pgid is None:
            failure = f"{KERNEL_NOT_STARTED}: {_error_summary(log_tail)}"
        else:
            failure = (
                f"the runner stopped unexpectedly (exit code {proc.returncode}): "
                f"{_error_summary(log_tail)}"
            )
    return RunResult(cells=cells, stopped=stopped, failure=failure, seconds=seconds)


def _keep_tail(stream, tail: collections.deque[bytes]) -> None:
    """Read ``stream`` to its end, keeping only its last :data:`LOG_TAIL_BYTES` in ``tail``."""
    size = 0
    for chunk in iter(lambda: stream.read1(65536), b""):
        tail.append(chunk)
        size += len(chunk)
        while size - len(tail[0]) >= LOG_TAIL_BYTES:
            size -= len(tail.popleft())
    stream.close()


def _error_summary(log: str) -> str:
    """The last line of a log, with the place it was raised when that line says little
    (a bare ``AssertionError:``)."""
    lines = [line.strip() for line in log.strip().splitlines() if line.strip()]
    if not lines:
        return "no message"
    last = lines[-1]
    if last.endswith(":") or ":" not in last:
        place = next((line for line in reversed(lines) if line.startswith('File "')), None)
        if place:
            return f"{last.rstrip(':')} at {place}"
    return last


def _read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the last line of a killed child may be cut short
    return events
