"""Keep notebook execution from stalling for a whole timeout on a reply that has arrived.

nbclient waits for each kernel reply with ``await socket.poll(timeout)`` on an asyncio ZeroMQ
socket (jupyter_client's ``AsyncZMQSocketChannel.get_msg``). With the pinned pyzmq and
jupyter_client that wait sometimes misses the socket's (edge-triggered) wake-up: the reply is
already there, but the poll returns only when the timeout runs out, and then returns the message
as if nothing happened. Measured on a 2-core machine: 2 of 8 chapters in a cold book build, and
1-5 of 150 small widget cells per run, paused for the full cell timeout without any error.

For the book that is a slow build; for the grader it would be worse: a student's cell that
finished in milliseconds would be reported as timed out and lose its points. So both the book
build (``_ext/kernel_channels.py``) and the grading runner call :func:`install`.

The replacement waits in slices of at most :data:`POLL_SLICE_S`, re-polling the socket each time,
so a missed wake-up costs at most that long. Results and timeouts are unchanged: a message is
returned as soon as one is ready, and :class:`queue.Empty` is raised once the caller's timeout
has passed.
"""

from __future__ import annotations

from queue import Empty
from time import monotonic
from typing import Any

from jupyter_client.channels import AsyncZMQSocketChannel

POLL_SLICE_S = 0.1
"""Longest single poll, in seconds; bounds the delay a missed wake-up can cause."""


async def get_msg_in_slices(
    self: AsyncZMQSocketChannel, timeout: float | None = None
) -> dict[str, Any]:
    """Like ``AsyncZMQSocketChannel.get_msg``, but never sleeps through a ready message.

    Args:
        timeout: seconds to wait for a message; None waits for ever.

    Raises:
        queue.Empty: no message arrived within ``timeout``.
    """
    assert self.socket is not None
    deadline = None if timeout is None else monotonic() + timeout
    while True:
        remaining = (
            POLL_SLICE_S
            if deadline is None
            else max(0.0, min(POLL_SLICE_S, deadline - monotonic()))
        )
        if await self.socket.poll(int(remaining * 1000)):
            return await self._recv()
        if deadline is not None and monotonic() >= deadline:
            raise Empty


def install() -> None:
    """Replace the channel's ``get_msg`` in this process (idempotent)."""
    if AsyncZMQSocketChannel.get_msg is not get_msg_in_slices:
        AsyncZMQSocketChannel.get_msg = get_msg_in_slices  # type: ignore[method-assign]
