"""Where the gradebook lives, and how several grading processes share it.

The gradebook is nbgrader's database. By default it is the SQLite file ``D/gradebook.db``; for
grading on more than one host (or by several people at once) it can be a PostgreSQL database,
named by a SQLAlchemy URL such as ``postgresql://grader@db.example.org/nn_basics``, given as
``coursekit grade --db URL`` or as ``c.CourseDirectory.db_url`` in ``nbgrader_config.py``.

PostgreSQL is reached through psycopg (version 3). SQLAlchemy reads a bare ``postgresql://``
URL as "use psycopg2", which is not installed, so such URLs (and the older ``postgres://``
spelling) are rewritten to ``postgresql+psycopg://``; the rewritten URL is what nbgrader gets.

Processes that grade the same assignment at once (``--shard K/N`` on N hosts) write disjoint
rows, one student each, so they need no coordination while grading. They do need it for the
steps that create shared rows: making the gradebook's tables, recording the assignment's cells
(the release step) and writing the cached reference answers. :func:`exclusive` serialises those
steps: with PostgreSQL it takes a session-level advisory lock on the server (released by the
server if the holder dies), otherwise an ``flock`` on a lock file beside the SQLite file.

A SQLite file has one writer at a time, and a writer cannot commit while another process is in
the middle of reading. Everything else that opens the file (another ``coursekit grade`` with
``--shard``, ``coursekit feedback``, nbgrader's formgrader, an ``sqlite3`` shell) may therefore
hold it locked for a moment, or for as long as it keeps a transaction open. Each statement
waits :data:`BUSY_TIMEOUT` seconds for such a lock (SQLite's busy timeout, set in the URL by
:func:`with_busy_timeout`); :func:`wait_while_locked` retries a whole step until it has waited
:data:`LOCK_WAIT` seconds, saying once that it waits and naming the processes of this host that
hold the file (from ``/proc/locks``), and then raises :class:`GradebookLocked`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from nbgrader.api import Gradebook

CONNECT_TIMEOUT = 10
"""Seconds to wait for the database server before giving up with an error."""
BUSY_TIMEOUT = 5.0
"""Seconds one statement waits for a SQLite gradebook that another process holds locked."""
LOCK_WAIT = 120.0
"""Seconds a step (writing one student's grades, opening or reading the gradebook) waits in
all for a SQLite gradebook that another process keeps locked, before it gives up."""
_RETRY_PAUSE = 0.2
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6  # primary result codes of sqlite3.h

T = TypeVar("T")


class DatabaseError(Exception):
    """The gradebook's URL is malformed, its driver is missing or its server cannot be reached."""


class GradebookLocked(DatabaseError):
    """A SQLite gradebook stayed locked by another process for the whole wait."""


def normalise_url(url: str) -> str:
    """The URL as SQLAlchemy and nbgrader should get it (PostgreSQL through psycopg 3).

    Raises:
        DatabaseError: if ``url`` is not a database URL.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    text = url.strip()
    if text.startswith("postgres://"):  # the spelling some hosting services print
        text = "postgresql://" + text[len("postgres://") :]
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise DatabaseError(
            f"{url!r} is not a database URL (expected e.g. sqlite:////path/gradebook.db or "
            "postgresql://user@host/database)"
        ) from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def describe(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unreadable database URL>"


def is_postgresql(url: str) -> bool:
    return url.startswith("postgresql")


def _engine(url: str):
    from sqlalchemy import create_engine

    connect_args = {"connect_timeout": CONNECT_TIMEOUT} if is_postgresql(url) else {}
    try:
        return create_engine(url, connect_args=connect_args, future=True)
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"the database driver for {describe(url)} is not installed ({exc.name}); "
            "PostgreSQL needs psycopg (pip install 'psycopg[binary]')"
        ) from exc
    except Exception as exc:
        raise DatabaseError(f"cannot use the gradebook database {describe(url)}: {exc}") from exc


def _first_line(exc: BaseException) -> str:
    inner = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    return lines[0] if lines else type(inner).__name__


def check_connection(url: str) -> None:
    """Connect once, so an unreachable server is reported before any grading starts.

    Raises:
        DatabaseError: naming the URL (without its password) and the server's answer.
    """
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    engine = _engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"cannot connect to the gradebook database {describe(url)}: {_first_line(exc)}"
        ) from exc
    finally:
        engine.dispose()


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name`` (PostgreSQL's ``bigint``)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def exclusive(url: str, name: str, fallback_dir: Path) -> Iterator[None]:
    """Hold a lock named ``name`` that every process using the gradebook at ``url`` honours.

    Args:
        url: the gradebook (normalised, see :func:`normalise_url`).
        name: what is locked, e.g. ``"nn-basics/01_logistic_regression"``.
        fallback_dir: where the lock file goes when ``url`` is neither PostgreSQL nor a
            SQLite file (e.g. the course directory).

    Raises:
        DatabaseError: if the PostgreSQL server cannot be reached.
    """
    if is_postgresql(url):
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        engine = _engine(url)
        try:
            try:
                conn = engine.connect()
            except SQLAlchemyError as exc:
                raise DatabaseError(
                    f"cannot connect to the gradebook database {describe(url)}: {_first_line(exc)}"
                ) from exc
            with conn:
                # Session-level lock: it outlives transactions and ends with the connection.
                key = {"key": _lock_key(name)}
                if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar_one():
                    print(
                        f"{name}: waiting for another grading process to set up the gradebook",
                        file=sys.stderr,
                    )
                    conn.execute(text("SELECT pg_advisory_lock(:key)"), key)
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _lock_key(name)})
                    conn.commit()
        finally:
            engine.dispose()
        return
    sqlite_file = sqlite_path(url)
    folder = fallback_dir if sqlite_file is None else sqlite_file.parent
    with file_lock(folder / ".coursekit-gradebook.lock"):
        yield


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created if missing) for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ---- a SQLite gradebook that another process holds ----------------------------------------------
def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite gradebook URL; None for a server or an in-memory database."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


def with_busy_timeout(url: str) -> str:
    """``url`` with SQLite's busy timeout set to :data:`BUSY_TIMEOUT`, unless it sets its own.

    Python's sqlite3 module reads ``timeout`` from the URL's query; other URLs are returned
    unchanged.
    """
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if sqlite_path(url) is None or "timeout" in parsed.query:
        return url
    parsed = parsed.update_query_dict({"timeout": f"{BUSY_TIMEOUT:g}"})
    return parsed.render_as_string(hide_password=False)


def is_locked(exc: BaseException) -> bool:
    """True if ``exc``, or an error it was raised from, is SQLite's "database is locked"."""
    import sqlite3

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sqlite3.OperationalError):
            code = getattr(seen, "sqlite_errorcode", None)
            if code is not None:
                return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
            return "is locked" in str(seen)
        # SQLAlchemy keeps the driver's error in .orig; nbgrader re-raises without "from".
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False


def lock_holders(path: Path) -> list[str]:
    """The processes of this host that hold a lock on ``path`` or its ``-shm`` file (WAL mode),
    each as ``"pid N (command line)"``.

    Read from ``/proc/locks``, whose lines name the locking process and the file by device and
    inode, e.g. ``3: POSIX  ADVISORY  READ 4242 08:01:131090 1073741826 1073742335``; a line
    with ``->`` is a process waiting for a lock, not holding one. Empty where that file does
    not exist (not Linux) or when the holder runs on another host.
    """
    files = set()
    for candidate in (path, path.with_name(path.name + "-shm")):
        try:
            st = candidate.stat()
        except OSError:
            continue
        files.add(f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}")
    try:
        table = Path("/proc/locks").read_text()
    except OSError:
        return []
    pids: list[int] = []
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 6 or fields[1] == "->" or fields[5] not in files:
            continue
        if fields[4].isdigit() and int(fields[4]) not in pids:
            pids.append(int(fields[4]))
    return [f"pid {pid} ({_command_line(pid)})" for pid in sorted(pids)]


def _command_line(pid: int) -> str:
    if pid == os.getpid():
        return "this process, another connection"
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "ended"
    # Arguments joined by spaces, on one line (a "python -c" program has newlines).
    text = " ".join(raw.decode(errors="replace").replace("\0", " ").split())
    return text if len(text) <= 100 else text[:97] + "..."


def _holders(path: Path) -> str:
    found = lock_holders(path)
    if found:
        return "held by " + ", ".join(found)
    return "no process of this host holds it now: it may have just let go, or run on another host"


def wait_while_locked(
    action: Callable[[], T],
    url: str,
    what: str,
    *,
    undo: Callable[[], object] = lambda: None,
    say: Callable[[str], object] | None = None,
    wait: float | None = None,
) -> T:
    """Run ``action``; while it fails because another process locks the SQLite gradebook,
    ``undo`` (roll back) and run it again, for up to ``wait`` seconds in all.

    Args:
        action: the step; it must be safe to run again after ``undo``.
        url: the gradebook; errors of a server's gradebook are raised at once.
        what: who is waiting, for the message, e.g. a student id.
        say: prints a line (default: standard error); called once, when the wait begins.
        wait: seconds (default :data:`LOCK_WAIT`); with 0 the step is tried once, and each of
            its statements still waits :data:`BUSY_TIMEOUT` seconds.

    Raises:
        GradebookLocked: still locked after ``wait`` seconds, naming the file and the
            processes that hold it.
    """
    path = sqlite_path(url)
    limit = LOCK_WAIT if wait is None else max(0.0, wait)
    deadline = time.monotonic() + limit
    told = False
    while True:
        try:
            return action()
        except Exception as exc:
            if path is None or not is_locked(exc):
                raise
            undo()
            if time.monotonic() >= deadline:
                raise GradebookLocked(
                    f"the gradebook {path} stayed locked by another process for "
                    f"{limit:g} s ({_holders(path)})"
                ) from exc
            if not told:
                message = (
                    f"{what}: the gradebook {path} is locked by another process "
                    f"({_holders(path)}); waiting up to {limit:g} s"
                )
                (say or _to_stderr)(message)
                told = True
            time.sleep(_RETRY_PAUSE)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def open_gradebook(url: str, course_id: str) -> "Gradebook":
    """nbgrader's :class:`~nbgrader.api.Gradebook` at ``url``, with SQLite's busy timeout set,
    waiting (see :func:`wait_while_locked`) for a SQLite file that another process locks.

    Raises:
        GradebookLocked: if the file stayed locked for :data:`LOCK_WAIT` seconds.
    """
    from nbgrader.api import Gradebook

    return wait_while_locked(
        lambda: Gradebook(with_busy_timeout(url), course_id), url, "opening the gradebook"
    )
