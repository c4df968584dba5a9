"""Reading a student's submission folder: regular files inside it, and nothing else.

A submission is whatever a student put into ``D/submitted/S/A/``, and a student controls what
kind of file each entry is. A notebook that is a *symbolic link* to ``../../../source/A/A.ipynb``
would otherwise be read as the instructor's solution (full marks, and the solutions on the
feedback page); a hard link to a file elsewhere does the same without a link to see. So every
file of a submission is opened here, and only if

* each folder on the way from ``D/submitted`` down is a real folder, not a link
  (``O_NOFOLLOW`` on every step, relative to the folder opened before it);
* the file itself is not a link (``O_NOFOLLOW``), is a regular file (not a pipe or a device,
  which could block the grader), has exactly one name (``st_nlink == 1``) and is at most
  :data:`MAX_NOTEBOOK_BYTES` long.

Anything else is refused with a reason a person can act on, and the notebook is graded as
missing with that reason in the grades.

:func:`find_notebook` also accepts a notebook whose name differs from the expected one only in
letter case or in the suffix a browser adds to a second download (``A (1).ipynb``,
``A(2).ipynb``, ``A-1.ipynb``, ``A copy.ipynb``), when exactly one such notebook is there.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
"""Largest submitted file read; the course's notebooks are well under 1 MB with outputs."""

_SUFFIX = re.compile(
    r"(\s*\(\d+\)|\s*-\s*\d+|\s+copy(\s*\d+)?|\s*-\s*copy(\s*\d+)?)$", re.IGNORECASE
)


class RefusedFile(Exception):
    """A submitted file that is not a regular file inside the submission folder."""


def _open_dir(parent_fd: int | None, name: str, shown: str) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        return (
            os.open(name, flags, dir_fd=parent_fd)
            if parent_fd is not None
            else os.open(name, flags)
        )
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise RefusedFile(
                f"{shown} is a link or not a folder; submissions are read from real folders only"
            ) from exc
        raise


def _open_folder(folder: Path, trusted: Path) -> int:
    """File descriptor of ``folder``, walking down from ``trusted`` without following links."""
    rel = folder.relative_to(trusted)
    fd = os.open(str(trusted), os.O_RDONLY | os.O_DIRECTORY)
    shown = trusted.name
    try:
        for part in rel.parts:
            shown = f"{shown}/{part}"
            new = _open_dir(fd, part, shown)
            os.close(fd)
            fd = new
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular_file(folder: Path, name: str, trusted: Path | None = None) -> bytes:
    """The bytes of ``folder/name``, read only if it is a regular file inside ``folder``.

    Args:
        folder: the submission folder.
        name: a file name (no folder part).
        trusted: a folder above ``folder`` that the grader owns (``D/submitted``); every folder
            below it must be a real folder. Defaults to ``folder``'s parent.

    Raises:
        FileNotFoundError: if there is no such entry.
        RefusedFile: a link, a hard link, not a regular file, or too large.
    """
    if "/" in name or name in ("", ".", ".."):
        raise RefusedFile(f"{name!r} is not a file name")
    trusted = trusted if trusted is not None else folder.parent
    dir_fd = _open_folder(folder, trusted)
    try:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise RefusedFile(
                    f"{name} is a symbolic link; only regular files are graded"
                ) from exc
            raise
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise RefusedFile(f"{name} is not a regular file; only regular files are graded")
            if info.st_nlink != 1:
                raise RefusedFile(
                    f"{name} is a hard link to another file; only files of its own are graded"
                )
            if info.st_size > MAX_NOTEBOOK_BYTES:
                raise RefusedFile(
                    f"{name} is {info.st_size / 2**20:.0f} MB, "
                    f"more than the {MAX_NOTEBOOK_BYTES // 2**20} MB a notebook may be"
                )
            chunks, total = [], 0
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                total += len(chunk)
                if total > MAX_NOTEBOOK_BYTES:
                    raise RefusedFile(
                        f"{name} grew beyond {MAX_NOTEBOOK_BYTES // 2**20} MB while it was read"
                    )
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)
    finally:
        os.close(dir_fd)


def _stem_key(stem: str) -> str:
    """``"03_backprop (1)"`` and ``"03_Backprop"`` -> ``"03_backprop"``."""
    return _SUFFIX.sub("", stem.strip()).lower()


@dataclass
class Found:
    """Which file of a submission folder holds one expected notebook.

    Attributes:
        name: the file name to read, or None if none fits.
        note: what the instructor should know about the choice (a different name was accepted,
            or several candidates made it ambiguous).
        others: notebooks in the folder that are not graded as any expected notebook.
    """

    name: str | None
    note: str | None = None
    others: list[str] = field(default_factory=list)


def list_notebooks(folder: Path) -> list[str]:
    """Names of the ``.ipynb`` entries directly in ``folder`` (of any kind), sorted."""
    try:
        return sorted(
            e.name
            for e in os.scandir(folder)
            if e.name.lower().endswith(".ipynb") and not e.name.startswith(".")
        )
    except (FileNotFoundError, NotADirectoryError):
        return []


def find_notebook(folder: Path, expected: str, all_expected: list[str]) -> Found:
    """The file in ``folder`` to grade as ``expected.ipynb`` (see the module docstring).

    Args:
        folder: the submission folder.
        expected: the notebook's name without ``.ipynb``.
        all_expected: every notebook name of the assignment (a file that matches another one
            exactly is never taken for this one).
    """
    present = list_notebooks(folder)
    exact = f"{expected}.ipynb"
    if exact in present:
        return Found(exact)
    taken = {f"{n}.ipynb" for n in all_expected}
    near = [
        p
        for p in present
        if p not in taken and _stem_key(p[: -len(".ipynb")]) == _stem_key(expected)
    ]
    if len(near) == 1:
        return Found(near[0], note=f"{exact} was submitted as {near[0]!r}; graded that file")
    if near:
        listed = ", ".join(repr(p) for p in near)
        return Found(
            None,
            note=(
                f"{exact} is missing; {len(near)} notebooks could be it ({listed}), "
                "so none was graded"
            ),
        )
    return Found(None)


def extra_notebooks(folder: Path, graded: list[str]) -> list[str]:
    """Notebooks in ``folder`` that no expected notebook was graded from."""
    return [p for p in list_notebooks(folder) if p not in graded]
