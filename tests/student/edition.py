"""Where the student edition and its test environment live (shared by the student-edition tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDITION = ROOT / "_build" / "student"
VENV = ROOT / "_build" / "student-venv"
# What Binder adds to the repository's requirements.txt: the kernel and the JupyterLab that shows
# the notebooks (pinned like everything else, to the versions in constraints.txt).
BINDER_EXTRAS = ("ipykernel", "jupyterlab")

sys.path.insert(0, str(ROOT / "_ext"))


def edition_dir() -> Path:
    if not (EDITION / "requirements.txt").is_file() or not (EDITION / "chapters").is_dir():
        raise pytest.UsageError(
            f"{EDITION} is missing or incomplete: run `make student-edition` first"
        )
    return EDITION


def student_chapters() -> list[Path]:
    """The student notebooks, one per chapter of _toc.yml, in book order."""
    from book_toc import toc_notebooks

    return [edition_dir() / path.relative_to(ROOT) for path in toc_notebooks(ROOT)]
