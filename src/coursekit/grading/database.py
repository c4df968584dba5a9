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
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

CONNECT_TIMEOUT = 10
"""Seconds to wait for the database server before giving up with an error."""


class DatabaseError(Exception):
    """The gradebook's URL is malformed, its driver is missing or its server cannot be reached."""


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
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    folder = fallback_dir
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).resolve().parent
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
