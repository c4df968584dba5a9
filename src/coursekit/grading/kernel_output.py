"""A cap on the output a student's kernel holds in memory, installed into that kernel.

The runner keeps at most ``max_output_chars`` characters of each cell's output, but that cut
happens on the runner's side. Inside the kernel, ipykernel collects everything a cell prints
between two flushes (every 0.2 s) in one buffer and then serialises it whole: a loop printing
100 kB lines piles up hundreds of megabytes per flush. In the sandbox, whose address space is
limited, that ended in ``MemoryError`` inside ipykernel, and the buffer still held the memory
when the next cell ran, so a *test* cell failed too and the student lost points for code that
was right. Without the sandbox the same loop can take gigabytes of the grader's memory.

So each output stream of the kernel passes on at most ``max_chars`` characters per execution
and drops the rest at once. That is one character more than the runner keeps, so the runner
still sees that the cell said more and marks its output as truncated, as before.

Student code runs in the same process and could undo this; it would only hurt itself.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable

MODULE = "coursekit.grading.kernel_output"


def install(max_chars: int) -> None:
    """Cap ``sys.stdout`` and ``sys.stderr`` at ``max_chars`` characters per execution.

    Called in the kernel at start-up (see :func:`install_line`). The cap is (re)applied and
    its budget starts afresh before every execution (IPython's ``pre_execute`` event): the
    start-up code itself runs as a cell, and whatever it sets on the streams is undone after it.
    """
    from IPython import get_ipython

    shell = get_ipython()
    if hasattr(shell, "_tee"):
        # IPython 9 also copies every piece of a cell's output into its in-memory output history
        # for the rest of the session, before any cap could see it: a printing loop would fill
        # the memory that way instead. Grading never reads that history.
        shell._tee = lambda channel: contextlib.nullcontext()
    used: dict[str, int] = {}

    def bounded(name: str, write: Callable[[str], object]) -> Callable[[str], int]:
        def write_within_budget(text: str) -> int:
            if not isinstance(text, str):
                raise TypeError(f"write() argument must be str, not {type(text).__name__}")
            before = used.get(name, 0)
            used[name] = before + len(text)
            if before < max_chars:
                write(text[: max_chars - before])
            return len(text)  # what print() expects: everything was "written"

        write_within_budget.capped = True  # type: ignore[attr-defined]
        return write_within_budget

    def before_each_execution() -> None:
        used.clear()
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if not getattr(stream.write, "capped", False):
                stream.write = bounded(name, stream.write)

    shell.events.register("pre_execute", before_each_execution)


def install_line(max_output_chars: int) -> str | None:
    """The start-up line that calls :func:`install` in a kernel (None: no limit, no cap).

    Args:
        max_output_chars: the runner's limit per cell; negative means no limit.
    """
    if max_output_chars < 0:
        return None
    # __import__ binds no name in the student's namespace.
    return f"__import__({MODULE!r}).grading.kernel_output.install({max_output_chars + 1})"
