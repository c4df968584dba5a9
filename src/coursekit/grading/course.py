"""The course directory: where nbgrader keeps sources, submissions, grades and its config.

Layout (nbgrader's default ``{nbgrader_step}/{student_id}/{assignment_id}``)::

    D/nbgrader_config.py                    settings read by nbgrader and by coursekit
    D/source/A/*.ipynb                      instructor notebooks (solutions, hidden tests)
    D/release/A/*.ipynb                     what students get
    D/submitted/S/A/*.ipynb                 what students hand in
    D/autograded/S/A/*.ipynb                the graded notebooks (shown in formgrader)
    D/feedback/S/A/*.html                   feedback for students
    D/grades/A.csv                          one row per submission
    D/gradebook.db                          nbgrader's gradebook (or a server: db_url, --db)
    D/.coursekit_cache/A/                   reference answers, keyed by source hash

Settings are read from ``D/nbgrader_config.py`` only (not from the user's home directory),
so grading does not depend on who runs it. The grading limits reuse nbgrader's own settings
(``Execute.timeout``, ``LimitOutput.*``) plus a ``CoursekitGrading`` section.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursekit.grading.runner import RunLimits
from coursekit.grading.sandbox import SandboxLimits


class CourseError(Exception):
    """A problem with the course directory or the command line that the user must fix."""


CONFIG_FILE = "nbgrader_config.py"


def _tools_on_path() -> None:
    """Put this interpreter's ``bin`` folder on ``PATH``.

    nbgrader creates a new gradebook by running the ``alembic`` command by name; when
    ``coursekit`` is started as ``.venv/bin/coursekit`` without an activated environment that
    command would not be found and the gradebook could not be created.
    """
    bindir = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if bindir not in parts:
        os.environ["PATH"] = os.pathsep.join([bindir, *[p for p in parts if p]])


def _load_config(root: Path):
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if (root / CONFIG_FILE).exists():
        try:
            config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
        except Exception as exc:
            raise CourseError(f"{root / CONFIG_FILE} could not be loaded: {exc}") from exc
    # The course directory given on the command line wins over whatever the file says.
    config.CourseDirectory.root = str(root)
    return config


@dataclass
class Course:
    """A course directory and its configuration."""

    root: Path
    config: Any  # a traitlets Config, which ships no type information

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Course":
        """Open an existing course directory.

        Raises:
            CourseError: if it does not exist.
        """
        root = Path(path).resolve()
        if not root.is_dir():
            raise CourseError(f"course directory {path} does not exist")
        _tools_on_path()
        course = cls(root=root, config=_load_config(root))
        if course.config.CourseDirectory.get("db_url"):
            # nbgrader's own steps (release) read the config, so they get the rewritten URL too.
            course.config.CourseDirectory.db_url = course.db_url
        return course

    # ---- paths ---------------------------------------------------------------------------
    def source_dir(self, assignment: str) -> Path:
        return self.root / "source" / assignment

    def release_dir(self, assignment: str) -> Path:
        return self.root / "release" / assignment

    def submitted_dir(self, student: str, assignment: str) -> Path:
        return self.root / "submitted" / student / assignment

    def autograded_dir(self, student: str, assignment: str) -> Path:
        return self.root / "autograded" / student / assignment

    def feedback_dir(self, student: str, assignment: str) -> Path:
        return self.root / "feedback" / student / assignment

    def grades_csv(self, assignment: str) -> Path:
        return self.root / "grades" / f"{assignment}.csv"

    def cache_dir(self, assignment: str) -> Path:
        return self.root / ".coursekit_cache" / assignment

    @property
    def db_url(self) -> str:
        """The gradebook's SQLAlchemy URL: ``CourseDirectory.db_url``, else ``D/gradebook.db``.

        Raises:
            CourseError: if the configured URL is not a database URL.
        """
        from coursekit.grading.database import DatabaseError, normalise_url

        url = self.config.CourseDirectory.get("db_url")
        if not (isinstance(url, str) and url):
            return f"sqlite:///{self.root / 'gradebook.db'}"
        try:
            return normalise_url(url)
        except DatabaseError as exc:
            raise CourseError(f"{self.root / CONFIG_FILE}: CourseDirectory.db_url: {exc}") from exc

    def use_database(self, url: str) -> None:
        """Use the gradebook at ``url`` (``--db``) instead of the configured one, also for nbgrader.

        Raises:
            CourseError: if ``url`` is not a database URL.
        """
        from coursekit.grading.database import DatabaseError, normalise_url

        try:
            self.config.CourseDirectory.db_url = normalise_url(url)
        except DatabaseError as exc:
            raise CourseError(f"--db: {exc}") from exc

    @contextlib.contextmanager
    def exclusive(self, assignment: str) -> Iterator[None]:
        """One process at a time, over every host sharing the gradebook, for steps that write
        rows common to all students of ``assignment`` (see
        :func:`coursekit.grading.database.exclusive`).

        Raises:
            CourseError: if the gradebook's server cannot be reached.
        """
        from coursekit.grading.database import DatabaseError, exclusive

        try:
            with exclusive(self.db_url, f"{self.course_id}/{assignment}", self.root):
                yield
        except DatabaseError as exc:
            raise CourseError(str(exc)) from exc

    def check_database(self) -> None:
        """Connect to the gradebook's server once (a SQLite file needs no check).

        Raises:
            CourseError: if it cannot be reached, naming the URL without its password.
        """
        from coursekit.grading.database import DatabaseError, check_connection, is_postgresql

        url = self.db_url
        if not is_postgresql(url):
            return
        try:
            check_connection(url)
        except DatabaseError as exc:
            raise CourseError(str(exc)) from exc

    @property
    def course_id(self) -> str:
        value = self.config.CourseDirectory.get("course_id")
        return value if isinstance(value, str) and value else "default_course"

    # ---- lookups ------------------------------------------------------------------------
    def source_notebooks(self, assignment: str) -> list[Path]:
        """The assignment's source notebooks, sorted by name.

        Raises:
            CourseError: if the assignment or its notebooks do not exist.
        """
        if not assignment or "/" in assignment or assignment in (".", ".."):
            raise CourseError(f"invalid assignment name {assignment!r}")
        folder = self.source_dir(assignment)
        if not folder.is_dir():
            known = sorted(p.name for p in (self.root / "source").glob("*") if p.is_dir())
            hint = f" (known assignments: {', '.join(known)})" if known else ""
            raise CourseError(f"assignment {assignment!r} not found: {folder} does not exist{hint}")
        notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
        if not notebooks:
            raise CourseError(f"assignment {assignment!r} has no source notebook in {folder}")
        return notebooks

    def submitted_students(self, assignment: str) -> list[str]:
        """Students with a ``submitted/S/A`` folder, sorted."""
        base = self.root / "submitted"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir())

    def limits(self, timeout: float | None = None) -> RunLimits:
        """Run limits from the config; ``timeout`` (seconds per cell) overrides it."""
        ck = self.config.get("CoursekitGrading", {})
        defaults = RunLimits()

        def pick(section, key, default):
            value = self.config.get(section, {}).get(key) if section else ck.get(key)
            return default if value is None or not isinstance(value, (int, float, str)) else value

        cell_timeout = (
            timeout if timeout is not None else float(pick("Execute", "timeout", defaults.timeout))
        )
        if cell_timeout <= 0:
            raise CourseError(f"the timeout must be positive, got {cell_timeout:g}")
        return RunLimits(
            timeout=cell_timeout,
            notebook_timeout=float(pick(None, "notebook_timeout", defaults.notebook_timeout)),
            grace=float(pick(None, "interrupt_grace", defaults.grace)),
            max_output_chars=int(pick(None, "max_output_chars", defaults.max_output_chars)),
            max_lines=int(pick("LimitOutput", "max_lines", defaults.max_lines)),
            max_traceback=int(pick("LimitOutput", "max_traceback", defaults.max_traceback)),
            kernel_name=str(pick(None, "kernel_name", defaults.kernel_name)),
        )

    def sandbox_limits(self) -> SandboxLimits:
        """Resource limits of the grading sandbox (``CoursekitGrading.*`` in the config).

        ``memory_limit_mb``, ``max_processes``, ``max_file_size_mb``, ``tmp_size_mb``,
        ``tmp_inodes``, ``shm_size_mb`` and ``shm_inodes`` map to
        :class:`~coursekit.grading.sandbox.SandboxLimits`; ``cpu_limit_seconds`` defaults to the
        notebook time limit plus a minute (CPU time cannot run out before the wall clock does,
        unless the code runs several threads).

        Raises:
            CourseError: if a value is not a positive whole number.
        """
        ck = self.config.get("CoursekitGrading", {})
        defaults = SandboxLimits()
        names = {
            "memory_limit_mb": ("memory_mb", defaults.memory_mb),
            "cpu_limit_seconds": (
                "cpu_seconds",
                int(math.ceil(self.limits().notebook_timeout)) + 60,
            ),
            "max_processes": ("max_processes", defaults.max_processes),
            "max_file_size_mb": ("max_file_mb", defaults.max_file_mb),
            "tmp_size_mb": ("tmp_mb", defaults.tmp_mb),
            "tmp_inodes": ("tmp_inodes", defaults.tmp_inodes),
            "shm_size_mb": ("shm_mb", defaults.shm_mb),
            "shm_inodes": ("shm_inodes", defaults.shm_inodes),
        }
        values = {}
        for key, (field, default) in names.items():
            value = ck.get(key)
            values[field] = default if value is None else value
        try:
            return SandboxLimits(**values)
        except ValueError as exc:
            raise CourseError(f"{self.root / CONFIG_FILE}: {exc}") from exc

    def nbgrader_api(self):
        """An :class:`nbgrader.apps.NbGraderAPI` bound to this course and its config."""
        import logging

        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=self.config)
        api = NbGraderAPI(coursedir=coursedir, config=self.config)
        api.log.setLevel(logging.ERROR)
        return api
