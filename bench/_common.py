"""Shared machinery of the benchmark scripts: timing, peak memory, result rows, machine info.

Timing: a measurement calls the function under test in a loop long enough to be timed reliably
(at least ``min_time`` seconds per repeat), repeats that ``repeats`` times and reports the median
of the per-call times. Medians are robust to the occasional slow repeat caused by the machine.

Memory: every measurement runs in its own forked child process. The child resets the kernel's
peak-RSS counter (``/proc/self/clear_refs``), notes its resident set size, runs the measurement
and reports how far the peak rose above that starting point. The figure therefore counts
memory that the measured code itself allocated (NumPy and PyTorch alike, which ``tracemalloc``
would not: PyTorch's allocator bypasses it), and not the libraries that were already imported.
Commands run in subprocesses are measured through ``wait4``: the largest resident set of any
single process of the command, plus the sampled total of the whole process tree.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
WORK = BENCH / "_work"
MIB = 1024 * 1024
# The system Chromium the browser benchmarks drive, headless, with no background traffic.
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def single_threaded_env() -> None:
    """Pin NumPy's BLAS and PyTorch to one thread. Must run before NumPy or torch is imported."""
    for name in (
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    ):
        os.environ[name] = "1"


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table.

    ``ours`` and ``peer`` are the measured figures as text (with units); ``ratio`` is ours/peer
    for times (below 1 means coursekit is faster) unless the measurement says otherwise.
    """

    part: str
    measurement: str
    ours: str
    peer: str = "-"
    ratio: str = "-"
    memory: str = "-"
    target: str = "-"
    met: str = "-"


@dataclass
class PartResult:
    """What one benchmark part produced: table rows, notes (including skips) and details."""

    name: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: str = ""  # extra Markdown for results.md (grids, per-item lists)

    def print(self) -> None:
        """Print the table, the notes and the details (what a script run on its own shows)."""
        print(markdown_table(self.rows))
        for note in self.notes:
            print(f"- {note}")
        if self.details:
            print(self.details)


def skipped(name: str, reason: str) -> PartResult:
    """A part whose subject does not exist yet: a note, and no numbers."""
    note = f"{name}: {reason}"
    print(f"[skip] {note}", flush=True)
    return PartResult(name, notes=[f"skipped: {note}"])


def markdown_table(rows: list[Row]) -> str:
    header = ["part", "measurement", "coursekit", "peer", "ratio", "peak memory", "target", "met"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = [r.part, r.measurement, r.ours, r.peer, r.ratio, r.memory, r.target, r.met]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def fmt_time(seconds: float) -> str:
    """A duration in a unit that keeps 3 significant digits readable (it may be negative)."""
    if seconds < 0:
        return "-" + fmt_time(-seconds)
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt_mib(nbytes: float | None) -> str:
    if nbytes is None:
        return "-"
    return f"{nbytes / MIB:.1f} MiB"


# ---------------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------------


def _loop_size(fn: Callable[[], Any], min_time: float) -> int:
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return number
        number = max(number * 2, int(number * min_time / max(elapsed, 1e-9) * 1.2))


def time_pair(
    ours: Callable[[], Any], peer: Callable[[], Any], repeats: int = 9, min_time: float = 0.03
) -> dict[str, Any]:
    """Time two functions in alternating repeats (ours, peer, ours, peer, ...).

    Alternating means a burst of load on a shared machine hits both sides alike. The first call
    of each is a warm-up (caches, lazy initialisation) and is not timed. Returns each side's
    timing (median, fastest and slowest repeat, loop size) and ``ratio``: the median over the
    repeats of the paired ratio ours/peer.
    """
    ours()
    peer()
    n_ours, n_peer = _loop_size(ours, min_time), _loop_size(peer, min_time)
    t_ours: list[float] = []
    t_peer: list[float] = []
    for _ in range(repeats):
        for fn, n, sink in ((ours, n_ours, t_ours), (peer, n_peer, t_peer)):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            sink.append((time.perf_counter() - start) / n)

    def summary(ts: list[float], n: int) -> dict[str, float]:
        return {
            "median": statistics.median(ts),
            "min": min(ts),
            "max": max(ts),
            "number": n,
            "repeats": repeats,
        }

    return {
        "ours": summary(t_ours, n_ours),
        "peer": summary(t_peer, n_peer),
        "ratio": statistics.median(a / b for a, b in zip(t_ours, t_peer)),
    }


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between order statistics."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# ---------------------------------------------------------------------------------------------
# memory: one forked child per measurement
# ---------------------------------------------------------------------------------------------


def _status_kib(field_name: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset VmHWM (peak RSS) to the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class ChildError(RuntimeError):
    """The measurement failed inside its child process (the child's traceback is the message)."""


def in_child(fn: Callable[..., dict], *args: Any, **kwargs: Any) -> dict:
    """Run ``fn(*args, **kwargs)`` in a forked child and return its dict with memory added.

    Adds ``peak_bytes``: how far the child's peak RSS rose above its RSS at the start (None if
    the kernel does not let a process reset its peak; then ``ru_maxrss`` would include the
    parent's history and is not reported).
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        code = 0
        try:
            reset = _reset_peak()
            start_kib = _status_kib("VmRSS")
            result = fn(*args, **kwargs)
            peak_kib = _status_kib("VmHWM")
            if "peak_bytes" in result:  # the function measured its own phases
                pass
            elif reset and start_kib is not None and peak_kib is not None:
                result["peak_bytes"] = max(0, peak_kib - start_kib) * 1024
            else:
                result["peak_bytes"] = None
            payload = json.dumps({"ok": result})
        except BaseException:
            payload = json.dumps({"error": traceback.format_exc()})
            code = 1
        with os.fdopen(write_fd, "w", encoding="utf-8") as fh:
            fh.write(payload)
        os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "r", encoding="utf-8") as fh:
        payload = fh.read()
    os.waitpid(pid, 0)
    if not payload:
        raise ChildError("the measurement's child process died without a result")
    message = json.loads(payload)
    if "error" in message:
        raise ChildError(message["error"])
    return message["ok"]


# ---------------------------------------------------------------------------------------------
# commands: wall time, peak memory of the process tree
# ---------------------------------------------------------------------------------------------


def _tree_rss_bytes(root: int) -> int:
    """Sum of the resident sets of ``root`` and all its descendants (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
            fields = stat[stat.rindex(")") + 2 :].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * page
        except (OSError, ValueError, IndexError):
            continue
    total, todo, seen = 0, [root], set()
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


@dataclass
class CommandRun:
    seconds: float
    returncode: int
    stdout: str
    stderr: str
    max_process_bytes: int  # largest resident set of any single process of the command
    peak_tree_bytes: int  # largest sampled sum over the whole process tree


def run_command(
    cmd: list[str], cwd: Path | str, env: dict[str, str] | None = None, timeout: float = 3600
) -> CommandRun:
    """Run ``cmd``, timing it and sampling its process tree's memory every 0.1 s."""
    out_path = WORK / f".cmd-{os.getpid()}-{time.monotonic_ns()}"
    WORK.mkdir(parents=True, exist_ok=True)
    with open(str(out_path) + ".out", "w+b") as out, open(str(out_path) + ".err", "w+b") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=str(cwd), env=env, stdout=out, stderr=err)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.1):
                peak = max(peak, _tree_rss_bytes(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        deadline = start + timeout
        status, usage = 0, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    for suffix in (".out", ".err"):
        Path(str(out_path) + suffix).unlink(missing_ok=True)
    return CommandRun(
        seconds=seconds,
        returncode=os.waitstatus_to_exitcode(status),
        stdout=stdout,
        stderr=stderr,
        max_process_bytes=usage.ru_maxrss * 1024 if usage else 0,
        # Sampling can miss a short peak; the tree holds at least its largest process.
        peak_tree_bytes=max(peak, usage.ru_maxrss * 1024 if usage else 0),
    )


# ---------------------------------------------------------------------------------------------
# the machine
# ---------------------------------------------------------------------------------------------


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": cpu,
        "cores": f"{os.cpu_count()} logical ({usable} usable)",
        "memory": mem,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "numpy": _version("numpy"),
        "torch": _version("torch"),
        "micrograd": _version("micrograd"),
        "matplotlib": _version("matplotlib"),
        "jupyter-book": _version("jupyter-book"),
        "nbgrader": _version("nbgrader"),
        "BLAS": blas_info(),
        "threads": "1 (OPENBLAS/OMP/MKL_NUM_THREADS=1, torch.set_num_threads(1))",
        "load average at start": load_average(),
    }


def blas_info() -> str:
    """Which BLAS NumPy and PyTorch call for matrix products (they differ)."""
    parts = []
    try:
        import numpy as np

        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        parts.append(f"numpy: {blas.get('name', '?')} {blas.get('version', '')}".strip())
    except Exception:
        parts.append("numpy: unknown")
    if _version("torch") != "not installed":
        try:
            import torch

            info = torch.__config__.show()
            name = (
                info.split("BLAS_INFO=", 1)[1].split(",", 1)[0]
                if "BLAS_INFO=" in info
                else "unknown"
            )
            parts.append(f"torch: {name}")
        except Exception:
            parts.append("torch: unknown")
    return "; ".join(parts)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine slows every figure."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def python() -> str:
    """The interpreter running the benchmarks (the project's .venv when run by make bench)."""
    return sys.executable
