"""Fixtures for the tests of the student edition (``make student-edition`` -> ``_build/student``).

``student_venv`` is what Binder builds: a fresh virtual environment with only
``_build/student/requirements.txt`` installed, plus what Binder itself provides around it
(ipykernel to run the notebooks, JupyterLab to show them). It lives in ``_build/student-venv``
(outside the edition) and is rebuilt when the edition's requirements or package change; the pip
cache makes a rebuild take well under a minute. pytest-xdist workers share it through a lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from edition import BINDER_EXTRAS, ROOT, VENV, edition_dir, student_chapters


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "student_chapter" in metafunc.fixturenames:
        chapters = student_chapters()
        metafunc.parametrize("student_chapter", chapters, ids=[p.stem for p in chapters])


@pytest.fixture(scope="session")
def edition() -> Path:
    return edition_dir()


def _pins() -> list[str]:
    from student_edition import pinned_versions

    versions = pinned_versions(ROOT)
    return [f"{name}=={versions[name]}" for name in BINDER_EXTRAS]


def _fingerprint(edition: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(
        [edition / "requirements.txt", edition / "pyproject.toml", *(edition / "src").rglob("*.py")]
    ):
        digest.update(str(path.relative_to(edition)).encode() + b"\0" + path.read_bytes())
    digest.update("\n".join(_pins()).encode())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def student_venv(edition: Path) -> Path:
    """The Binder-like environment (see the module docstring); returns its ``python``."""
    VENV.parent.mkdir(parents=True, exist_ok=True)
    python = VENV / "bin" / "python"
    stamp = VENV / ".fingerprint"
    with open(VENV.parent / "student-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wanted = _fingerprint(edition)
        if not (stamp.is_file() and stamp.read_text() == wanted and python.is_file()):
            shutil.rmtree(VENV, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            # pip builds coursekit in the folder it installs from: use a copy, so the edition
            # stays exactly what the student repository receives.
            with tempfile.TemporaryDirectory(prefix="student-repo-") as scratch:
                repo = Path(scratch) / "repo"
                shutil.copytree(edition, repo)
                done = subprocess.run(
                    [
                        str(python),
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                        "-r",
                        "requirements.txt",
                        *_pins(),
                    ],
                    cwd=repo,
                    capture_output=True,
                    text=True,
                )
            if done.returncode != 0:
                raise RuntimeError(
                    f"installing the student requirements failed:\n{done.stdout}\n{done.stderr}"
                )
            stamp.write_text(wanted)
    return python
