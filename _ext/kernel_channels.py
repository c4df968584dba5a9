"""Sphinx extension: keep notebook execution from stalling for a whole cell timeout.

The book executes the chapters with nbclient, which waits for each kernel reply with
``await socket.poll(timeout)`` on an asyncio ZeroMQ socket (jupyter_client's
``AsyncZMQSocketChannel.get_msg``). With the pinned pyzmq/jupyter_client that wait sometimes misses
the socket's (edge-triggered) wake-up: the reply is already there, but the poll only returns when
the timeout runs out, and then returns the message as if nothing happened. A chapter build then
pauses for the full ``execute.timeout`` (180 s) without any error; on this 2-core machine it hit
2 of 8 chapters in a cold build, and a test notebook of 150 small widget cells stalled 1-5 times
per run.

The fix waits in slices of at most 0.1 s, re-polling the socket each time, so a missed wake-up
costs at most 0.1 s. Timeouts and results are unchanged: a message is returned as soon as one is
ready, and :class:`queue.Empty` is raised once the caller's timeout has passed. The extension
patches the class in the build process only (that is where myst-nb runs the notebooks).
"""

from __future__ import annotations

from queue import Empty
from time import monotonic
from typing import Any

from jupyter_client.channels import AsyncZMQSocketChannel

#: Longest single poll; bounds the delay a missed wake-up can cause.
POLL_SLICE_S = 0.1


async def get_msg_in_slices(self: AsyncZMQSocketChannel, timeout: float | None = None) -> dict[str, Any]:
    """Like ``AsyncZMQSocketChannel.get_msg``, but never sleeps through a ready message.

    Args:
        timeout: seconds to wait for a message; None waits for ever.

    Raises:
        queue.Empty: no message arrived within ``timeout``.
    """
    assert self.socket is not None
    deadline = None if timeout is None else monotonic() + timeout
    while True:
        remaining = POLL_SLICE_S if deadline is None else max(0.0, min(POLL_SLICE_S, deadline - monotonic()))
        if await self.socket.poll(int(remaining * 1000)):
            return await self._recv()
        if deadline is not None and monotonic() >= deadline:
            raise Empty


def install() -> None:
    """Replace the channel's ``get_msg`` (idempotent)."""
    if AsyncZMQSocketChannel.get_msg is not get_msg_in_slices:
        AsyncZMQSocketChannel.get_msg = get_msg_in_slices  # type: ignore[method-assign]


def setup(app: Any) -> dict[str, Any]:
    install()
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
