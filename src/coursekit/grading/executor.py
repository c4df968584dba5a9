"""The kernel side of a notebook run: the child process that drives the student's kernel.

:func:`coursekit.grading.runner.run_notebook` starts this module as a child process
(``python -m coursekit.grading.executor``). It starts a Jupyter kernel with :mod:`nbclient`
(inside the sandbox when one is given), executes the notebook's code cells one by one and
appends one JSON line per cell to the *events* file, so whatever ran before a crash or a forced
stop is still known. Before every cell it tells the kernel-side harness
(:mod:`coursekit.grading.kernel_harness`) whose cell comes next and reads back what it saw.

What it enforces:

* **per cell**: after ``timeout`` seconds the kernel is interrupted (``KeyboardInterrupt``) and
  the cell counts as failed; the next cell runs as usual;
* **a cell that ignores the interrupt**: the executor asks the kernel for a sign of life; if
  none comes within ``grace`` seconds the kernel's process group is killed and the remaining
  cells are reported as not run;
* **exit() or quit()**: the cell ends with :data:`~coursekit.grading.kernel_harness.EXIT_ENAME`
  and the remaining cells are reported as not run, as Restart & Run All would leave them;
* **output**: each cell keeps at most ``max_output_chars`` characters and ``max_lines`` lines
  of text output (the rest is dropped while it arrives) and ``max_traceback`` traceback entries.

When :data:`coursekit.checks.RECORD_ENV` is set, every ``check()`` call appends one JSON line to
that file. After each cell the executor reads the lines added since the previous cell, so each
recorded answer is attributed to the cell that produced it. Lines that are not valid records (a
student's code can write anything to the file) are counted and dropped.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import math
import os
import signal
import sys
import time
from queue import Empty
from typing import Any

import nbformat

from coursekit.checks import RECORD_ENV
from coursekit.grading import cells as nbcells
from coursekit.grading import kernel_harness, kernel_output
from coursekit.grading.blind import is_student_code
from coursekit.grading.sandbox import SandboxSpec

TIMEOUT_ENAME = "CellTimeoutError"
MAX_RECORD_BYTES_PER_CELL = 20_000_000
"""Answers a cell may record; anything beyond is junk written by the notebook itself."""

# Statuses of a code cell.
OK, ERROR, TIMEOUT, KERNEL_DIED, NOT_RUN = "ok", "error", "timeout", "kernel-died", "not-run"


def kill_group(pgid: int | None) -> None:
    """SIGKILL a process group (never this process's own, never init's)."""
    if not pgid or pgid <= 1 or pgid == os.getpgrp():
        return
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def cell_kind(cell: Any) -> str:
    """``"student"`` (answer or added cell), ``"test"`` or ``"instructor"`` (set-up, read-only)."""
    if is_student_code(cell):
        return "student"
    return "test" if nbcells.is_test(cell) else "instructor"


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
    """A record written by ``check()`` or by the harness, or None. Junk glued in front of a
    record is skipped."""
    candidates = [line]
    for marker in ('{"key": ', '{"blocked_import": '):
        start = line.rfind(marker)
        if start > 0:
            candidates.append(line[start:])
    for text in candidates:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            continue
        if (
            isinstance(data, dict)
            and isinstance(data.get("key"), str)
            and isinstance(data.get("answer"), dict)
        ):
            return data
        if (
            isinstance(data, dict)
            and isinstance(data.get("blocked_import"), str)
            and len(data) == 1
        ):
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


def _finish_outputs(
    cell, truncated: bool, max_chars: int, max_traceback: int
) -> list[dict[str, Any]]:
    """Drop emptied streams, merge neighbouring streams, add a truncation note, cut tracebacks."""
    merged: list[dict[str, Any]] = []
    for out in cell.get("outputs", []):
        out = dict(out)
        if out.get("output_type") == "stream":
            if not out.get("text"):
                continue
            if (
                merged
                and merged[-1].get("output_type") == "stream"
                and merged[-1]["name"] == out["name"]
            ):
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
                "text": (
                    f"\n[output truncated: a cell keeps at most {max_chars} characters of output]\n"
                ),
            }
        )
    return merged


def _kernel_arguments(args: argparse.Namespace) -> list[str]:
    """The kernel's start-up line: the output cap (see kernel_output) and the harness."""
    lines = [
        kernel_output.install_line(args.max_output_chars),
        kernel_harness.install_line(json.loads(args.allowed)),
    ]
    return [f"--IPKernelApp.exec_lines={'; '.join(line for line in lines if line)}"]


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


async def _enter(client, kind: str, wait: float) -> dict[str, Any] | None:
    """Tell the kernel-side harness whose cell comes next; what it returned, or None if the
    kernel did not answer within ``wait`` seconds or the call failed."""
    msg_id = client.kc.execute(
        "", silent=True, store_history=False, allow_stdin=False,
        user_expressions={"r": kernel_harness.enter_code(kind)},
    )  # fmt: skip
    deadline = time.monotonic() + wait
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            msg = await client.kc.shell_channel.get_msg(timeout=remaining)
        except Empty:
            return None
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        value = msg.get("content", {}).get("user_expressions", {}).get("r", {})
        if value.get("status") != "ok":
            return None
        try:
            data = ast.literal_eval(value.get("data", {}).get("text/plain", ""))
        except (ValueError, SyntaxError):
            return None
        return data if isinstance(data, dict) else None


def _called_exit(cell) -> bool:
    return any(
        o.get("output_type") == "error" and o.get("ename") == kernel_harness.EXIT_ENAME
        for o in cell.get("outputs", [])
    )


async def _run(args: argparse.Namespace, box: SandboxSpec | None) -> None:
    from nbclient.exceptions import DeadKernelError

    from coursekit.grading.kernel_channels import install

    install()  # a missed ZeroMQ wake-up must not turn a fast cell into a timeout

    nb = nbformat.read(args.notebook, as_version=4)
    client_class = _make_client_class()
    sandboxed = {}
    if box is not None:
        from coursekit.grading import sandbox

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
        extra_arguments=_kernel_arguments(args),
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
                emit(
                    event="cell", index=index, status=NOT_RUN, outputs=[], records=[], junk_lines=0
                )
                continue
            kind = cell_kind(cell)
            seen = await _enter(client, kind, args.grace)
            patched: list[str] = []
            if kind == "test":
                patched = (
                    list(seen.get("changed", []))
                    if seen is not None
                    else ["the grader's check of the test set-up (no answer)"]
                )
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
                            traceback=[
                                f"{TIMEOUT_ENAME}: the cell did not finish within "
                                f"{args.timeout:g} s"
                            ],
                        )
                    )
                if not await _kernel_responds(client, args.grace):
                    kill_group(kernel_pgid)
                    stopped = (
                        f"{_cell_name(cell, index)} did not stop {args.timeout:g} s after it "
                        "started and ignored the interrupt, so the kernel was stopped"
                    )
            if not stopped and _called_exit(cell):
                stopped = (
                    f"{_cell_name(cell, index)} called exit(), "
                    "so the cells after it were not run (as in Restart & Run All)"
                )
            records, junk = reader.read_new()
            emit(
                event="cell",
                index=index,
                status=status,
                outputs=_finish_outputs(
                    cell, client.truncated, args.max_output_chars, args.max_traceback
                ),
                records=[r for r in records if "key" in r],
                blocked_imports=sorted(
                    {r["blocked_import"] for r in records if "blocked_import" in r}
                ),
                patched=patched,
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
    parser.add_argument(
        "--allowed", default="[]", help="JSON list of coursekit modules student code may import"
    )
    parser.add_argument(
        "--sandbox-dir", default=None, help="run the kernel in this sandbox (see sandbox.prepare)"
    )
    args = parser.parse_args(argv)
    box = None
    if args.sandbox_dir:
        # First, while this process has one thread: the kernel's limited file systems.
        box = SandboxSpec.load(args.sandbox_dir)
        box.enter()
    asyncio.run(_run(args, box))
    return 0


if __name__ == "__main__":
    sys.exit(main())
