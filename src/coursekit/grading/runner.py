"""Run one notebook in a separate process and report what every code cell did.

The grader never runs student code in its own process. :func:`run_notebook` starts this module
as a child process (``python -m coursekit.grading.runner``); the child starts a Jupyter kernel
with :mod:`nbclient`, executes the cells one by one and appends one JSON line per cell to an
*events* file. Because events are written as cells finish, whatever ran before a crash or a
forced stop is still known.

Limits, from the inside out:

* **per cell**: after ``timeout`` seconds the kernel is interrupted (``KeyboardInterrupt``) and
  the cell counts as failed; the next cell runs as usual;
* **a cell that ignores the interrupt** (``except KeyboardInterrupt: pass`` in a loop): the
  child asks the kernel for a sign of life; if none comes within ``grace`` seconds the kernel's
  process group is killed and the remaining cells are reported as not run;
* **the whole notebook**: the parent kills the child's process group and the kernel's after
  ``notebook_timeout`` seconds, whatever happens inside;
* **output**: each cell keeps at most ``max_output_chars`` characters and ``max_lines`` lines
  of text output (the rest is dropped while it arrives, so a print loop cannot fill memory)
  and ``max_traceback`` traceback entries.

When the parent sets :data:`coursekit.checks.RECORD_ENV`, every ``check()`` call appends one
JSON line to that file. After each cell the child reads the lines added since the previous
cell, so each recorded answer is attributed to the cell that produced it. Lines that are not
valid JSON records (a student's code can write anything to the file) are counted and dropped.

The command that starts the child is built by :func:`runner_command`. The operating-system
sandbox (:mod:`coursekit.grading.sandbox`, when ``RunLimits.sandbox`` is set) wraps only the
*kernel* the child starts, not the child itself: the child reads the notebook, hidden tests
included, and writes the events the grader trusts, so neither may be within reach of student
code.

In grading mode (``record=True``) the notebook runs blinded (:mod:`coursekit.grading.blind`):
test cells do not compute their expected values inside the student's kernel.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat

from coursekit.checks import RECORD_ENV
from coursekit.grading import blind, kernel_output
from coursekit.grading.sandbox import SandboxLimits

TIMEOUT_ENAME = "CellTimeoutError"
KERNEL_NOT_STARTED = "the kernel could not be started"
EVENTS_FILE = "events.jsonl"
RECORD_FILE = "answers.jsonl"
MAX_RECORD_BYTES_PER_CELL = 20_000_000
"""Answers a cell may record; anything beyond is junk written by the notebook itself."""

# Statuses of a code cell.
OK, ERROR, TIMEOUT, KERNEL_DIED, NOT_RUN = "ok", "error", "timeout", "kernel-died", "not-run"


# --------------------------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------------------------


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
) -> list[str]:
    """The command line that runs ``notebook``; ``sandbox_dir`` is the run's folder made by
    :func:`coursekit.grading.sandbox.prepare` (the runner then starts the kernel inside it)."""
    return [
        sys.executable,
        "-m",
        "coursekit.grading.runner",
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


def _kill_group(pgid: int | None) -> None:
    if not pgid or pgid <= 1 or pgid == os.getpgrp():
        return
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


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
    nbformat.write(blinded.nb if blinded else nb, str(notebook_path))
    events_path = workdir / EVENTS_FILE
    record_path = workdir / RECORD_FILE if record else None
    env = _child_env(record_path)
    sandbox_dir = None
    if limits.sandbox is not None:
        from coursekit.grading import sandbox

        # A short private folder: the kernel's socket paths live in it.
        sandbox_dir = sandbox.prepare(Path(tempfile.gettempdir()), cwd, record_path, limits.sandbox, env)
    command = runner_command(notebook_path, events_path, cwd, limits, sandbox_dir)
    result = _run_command(command, workdir, limits, env, blinded)
    if result.failure and result.failure.startswith(KERNEL_NOT_STARTED):
        # Seen about once in a few hundred starts on a loaded machine (a kernel that did not
        # answer in time, a socket closed under the client): not the notebook's fault, and the
        # kernel never ran a line of it, so one more try is safe.
        time.sleep(1.0)
        events_path.unlink(missing_ok=True)
        retry = _run_command(command, workdir, limits, env, blinded)
        result = RunResult(retry.cells, retry.stopped, retry.failure, result.seconds + retry.seconds)
    if sandbox_dir is not None:
        shutil.rmtree(sandbox_dir, ignore_errors=True)
    return result


def _run_command(
    command: list[str], workdir: Path, limits: RunLimits, env: dict[str, str], blinded: blind.Blinded | None
) -> RunResult:
    """Run the runner ``command`` once and read its events into a :class:`RunResult`."""
    events_path = workdir / EVENTS_FILE
    start = time.monotonic()
    with open(workdir / "runner.log", "wb") as log:
        proc = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so it can be killed as a whole
        )
        killed = False
        try:
            proc.wait(timeout=limits.notebook_timeout)
        except subprocess.TimeoutExpired:
            killed = True
        finally:
            if killed or proc.poll() is None:
                _kill_group(proc.pid)
                proc.wait()
    seconds = time.monotonic() - start
    events = _read_events(events_path)
    kernel_pgid = next((e.get("kernel_pgid") for e in events if e.get("event") == "start"), None)
    finished = any(e.get("event") == "done" for e in events)
    if not finished:
        _kill_group(kernel_pgid)  # the child did not get to shut its kernel down

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
            )
        elif e.get("event") == "stopped":
            stopped = e["reason"]
    failure = None
    if killed:
        stopped = f"the notebook did not finish within the limit of {limits.notebook_timeout:g} s for a whole notebook and was stopped"
    elif not finished:
        log_tail = (workdir / "runner.log").read_text(errors="replace")[-2000:]
        if kernel_pgid is None:
            failure = f"{KERNEL_NOT_STARTED}: {_error_summary(log_tail)}"
        else:
            failure = f"the runner stopped unexpectedly (exit code {proc.returncode}): {_error_summary(log_tail)}"
    return RunResult(cells=cells, stopped=stopped, failure=failure, seconds=seconds)


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


# --------------------------------------------------------------------------------------------
# Child side
# --------------------------------------------------------------------------------------------


class _RecordReader:
    """Reads the answer lines appended to the record file since the last call."""

    def __init__(self, path: str | None):
        self.path = path
        self.offset = 0

    def read_new(self) -> tuple[list[dict[str, Any]], int]:
        if not self.path:
            return [], 0
        try:
            size = os.path.getsize(self.path)
        except OSError:
            return [], 0
        if size < self.offset:  # the notebook truncated or replaced the file
            self.offset = 0
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            data = fh.read(MAX_RECORD_BYTES_PER_CELL)
        self.offset = size
        records, junk = [], 0
        for raw in data.decode("utf-8", errors="replace").splitlines():
            if not raw.strip():
                continue
            record = _parse_record(raw)
            if record is None:
                junk += 1
            else:
                records.append(record)
        return records, junk


def _parse_record(line: str) -> dict[str, Any] | None:
    """A record written by ``check()``, or None. Junk glued in front of a record is skipped."""
    candidates = [line]
    start = line.rfind('{"key": ')
    if start > 0:
        candidates.append(line[start:])
    for text in candidates:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and isinstance(data.get("key"), str) and isinstance(data.get("answer"), dict):
            return data
    return None


def _output_chars(out: dict[str, Any]) -> int:
    if out.get("output_type") == "stream":
        return len(out.get("text", ""))
    data = out.get("data", {})
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data.values())


def _make_client_class():
    from nbclient import NotebookClient

    class BoundedClient(NotebookClient):
        """A NotebookClient that stops keeping a cell's output once it is too large."""

        max_output_chars = 20_000
        max_lines = 1000

        def start_cell_budget(self, cell_index: int) -> None:
            self._budget_cell = cell_index
            self._chars = 0
            self._lines = 0
            self.truncated = False

        def output(self, outs, msg, display_id, cell_index):
            out = super().output(outs, msg, display_id, cell_index)
            if out is None or out.get("output_type") == "error":
                return out
            size = _output_chars(out)
            lines = out.get("text", "").count("\n") if out.get("output_type") == "stream" else 0
            room_chars = self.max_output_chars - self._chars
            room_lines = self.max_lines - self._lines
            if size <= room_chars and lines <= room_lines:
                self._chars += size
                self._lines += lines
                return out
            self.truncated = True
            if out.get("output_type") == "stream":
                text = out.get("text", "")[: max(room_chars, 0)]
                text = "\n".join(text.split("\n")[: max(room_lines, 0)])
                out["text"] = text
                self._chars += len(text)
                self._lines += text.count("\n")
            else:
                # Keep the output (update_display_data may refer to it by position) but not
                # its content.
                out["data"] = {"text/plain": "[output removed: over the size limit]"}
                out["metadata"] = {}
            return out

    return BoundedClient


def _finish_outputs(cell, truncated: bool, max_chars: int, max_traceback: int) -> list[dict[str, Any]]:
    """Drop emptied streams, merge neighbouring streams, add a truncation note, cut tracebacks."""
    merged: list[dict[str, Any]] = []
    for out in cell.get("outputs", []):
        out = dict(out)
        if out.get("output_type") == "stream":
            if not out.get("text"):
                continue
            if merged and merged[-1].get("output_type") == "stream" and merged[-1]["name"] == out["name"]:
                merged[-1]["text"] += out["text"]
                continue
        if out.get("output_type") == "error":
            tb = list(out.get("traceback", []))
            if 0 <= max_traceback < len(tb):
                head = max_traceback // 2
                tail = max(max_traceback - head - 1, 0)
                tb = tb[:head] + ["... traceback shortened ..."] + tb[len(tb) - tail :]
            out["traceback"] = tb
        merged.append(out)
    if truncated:
        merged.append(
            {
                "output_type": "stream",
                "name": "stdout",
                "text": f"\n[output truncated: a cell keeps at most {max_chars} characters of output]\n",
            }
        )
    return merged


def _cell_name(cell, index: int) -> str:
    """``cell 7 ('sigmoid')``: the position and, if it has one, the nbgrader id."""
    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"cell {index} ('{gid}')" if gid else f"cell {index}"


async def _kernel_responds(client, wait: float) -> bool:
    """Ask the kernel for ``kernel_info``; True if it answers within ``wait`` seconds."""
    msg_id = client.kc.kernel_info()
    deadline = time.monotonic() + wait
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            msg = await client.kc.shell_channel.get_msg(timeout=remaining)
        except Empty:
            return False
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return True


async def _run(args: argparse.Namespace) -> None:
    from nbclient.exceptions import DeadKernelError

    from coursekit.grading.kernel_channels import install

    install()  # a missed ZeroMQ wake-up must not turn a fast cell into a timeout

    nb = nbformat.read(args.notebook, as_version=4)
    client_class = _make_client_class()
    box, sandboxed = None, {}
    if args.sandbox_dir:
        from coursekit.grading import sandbox

        box = sandbox.SandboxSpec.load(args.sandbox_dir)
        sandboxed = {"kernel_manager_class": sandbox.kernel_manager_class(box)}
    client = client_class(
        nb,
        kernel_name=args.kernel,
        timeout=max(1, math.ceil(args.timeout)),
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": TIMEOUT_ENAME,
            "evalue": f"the cell did not finish within {args.timeout:g} s",
            "traceback": [f"{TIMEOUT_ENAME}: the cell did not finish within {args.timeout:g} s"],
        },
        raise_on_iopub_timeout=False,
        iopub_timeout=3,  # after an interrupt: time for the last output to arrive
        allow_errors=True,
        record_timing=False,
        store_widget_state=False,
        shutdown_kernel="immediate",
        startup_timeout=60,
        resources={"metadata": {"path": args.cwd}},
        # The kernel itself drops output beyond the per-cell limit (see kernel_output).
        extra_arguments=kernel_output.kernel_arguments(args.max_output_chars),
        **sandboxed,
    )
    # nbgrader spells "no limit" as -1.
    client.max_output_chars = args.max_output_chars if args.max_output_chars >= 0 else sys.maxsize
    client.max_lines = args.max_lines if args.max_lines >= 0 else sys.maxsize
    replies: dict[int, dict[str, Any]] = {}

    def on_cell_executed(cell, cell_index, execute_reply):
        replies[cell_index] = execute_reply or {}

    client.on_cell_executed = on_cell_executed
    reader = _RecordReader(os.environ.get(RECORD_ENV))
    events = open(args.events, "a", encoding="utf-8")

    def emit(**event: Any) -> None:
        events.write(json.dumps(event) + "\n")
        events.flush()

    async with client.async_setup_kernel():
        provisioner = getattr(client.km, "provisioner", None)
        kernel_pgid = getattr(provisioner, "pgid", None)
        if box is not None:
            box.lock()  # the kernel's sockets exist now; nothing more may be written there
        emit(event="start", kernel_pgid=kernel_pgid)
        stopped: str | None = None
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if stopped:
                emit(event="cell", index=index, status=NOT_RUN, outputs=[], records=[], junk_lines=0)
                continue
            client.start_cell_budget(index)
            start = time.monotonic()
            try:
                await client.async_execute_cell(cell, index, store_history=True)
            except DeadKernelError:
                status = KERNEL_DIED
                stopped = f"the kernel died while running {_cell_name(cell, index)}"
            else:
                reply = replies.get(index, {}).get("content", {})
                has_error = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
                if reply.get("ename") == TIMEOUT_ENAME:
                    status = TIMEOUT
                elif reply.get("status") == "error" or has_error:
                    status = ERROR
                else:
                    status = OK
            if status == TIMEOUT:
                if not any(o.get("ename") == TIMEOUT_ENAME for o in cell.outputs):
                    cell.outputs.append(
                        nbformat.v4.new_output(
                            "error",
                            ename=TIMEOUT_ENAME,
                            evalue=f"the cell did not finish within {args.timeout:g} s",
                            traceback=[f"{TIMEOUT_ENAME}: the cell did not finish within {args.timeout:g} s"],
                        )
                    )
                if not await _kernel_responds(client, args.grace):
                    _kill_group(kernel_pgid)
                    stopped = (
                        f"{_cell_name(cell, index)} did not stop {args.timeout:g} s after it started "
                        f"and ignored the interrupt, so the kernel was stopped"
                    )
            records, junk = reader.read_new()
            emit(
                event="cell",
                index=index,
                status=status,
                outputs=_finish_outputs(cell, client.truncated, args.max_output_chars, args.max_traceback),
                records=records,
                junk_lines=junk,
                seconds=round(time.monotonic() - start, 3),
                execution_count=cell.get("execution_count"),
            )
        if stopped:
            emit(event="stopped", reason=stopped)
    emit(event="done")
    events.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the child process."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebook", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--cwd", required=True)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--grace", type=float, default=5.0)
    parser.add_argument("--max-output-chars", type=int, default=20_000)
    parser.add_argument("--max-lines", type=int, default=1000)
    parser.add_argument("--max-traceback", type=int, default=100)
    parser.add_argument("--kernel", default="python3")
    parser.add_argument("--sandbox-dir", default=None, help="run the kernel in this sandbox (see sandbox.prepare)")
    args = parser.parse_args(argv)
    asyncio.run(_run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
