"""Every student notebook runs top to bottom where students run it: Binder and Colab.

Binder: the fresh environment built only from ``_build/student/requirements.txt`` (plus the
kernel and JupyterLab Binder brings), the notebook run from the repository's ``chapters/``.
Colab: coursekit's declared dependencies plus ipywidgets, nothing else, and the notebook alone
in an empty folder (Colab opens one notebook, not a checkout). The requirements file is exactly
that set (checked below), so one environment serves both runs; what differs is the folder.
One more Colab run starts from a Python without coursekit, so that the chapter's first cell has
to install it from the student repository, as it does on Colab.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from edition import BINDER_EXTRAS


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add("coursekit" if line == "." else re.split(r"[=<>!~\[ ]", line, 1)[0].lower())
    return names


def test_requirements_are_coursekit_its_dependencies_and_ipywidgets(edition: Path) -> None:
    project = tomllib.loads((edition / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {re.split(r"[=<>!~\[ ]", d, 1)[0].lower() for d in project["dependencies"]}
    assert _requirement_names(edition / "requirements.txt") == declared | {
        "ipywidgets",
        "coursekit",
    }
    assert "scripts" not in project  # no `coursekit` command: the grader is not in this package
    assert (edition / "runtime.txt").read_text().strip().startswith("python-3.")


def test_the_environment_has_no_book_build_grader_or_test_tools(student_venv: Path) -> None:
    probe = (
        "import importlib.util as u, json;"
        "print(json.dumps({m: u.find_spec(m) is not None for m in "
        "['coursekit', 'coursekit.widgets', 'myst_nb', 'jupyter_book', 'nbgrader', 'pytest', "
        "'sphinx']}))"
    )
    found = json.loads(
        subprocess.run(
            [str(student_venv), "-c", probe], capture_output=True, text=True, check=True
        ).stdout
    )
    assert found == {
        "coursekit": True,
        "coursekit.widgets": True,
        "myst_nb": False,
        "jupyter_book": False,
        "nbgrader": False,
        "pytest": False,
        "sphinx": False,
    }
    grading = subprocess.run(
        [str(student_venv), "-c", "import coursekit.grading"], capture_output=True, text=True
    )
    assert grading.returncode != 0 and "No module named 'coursekit.grading'" in grading.stderr
    assert set(BINDER_EXTRAS) == {"ipykernel", "jupyterlab"}


def _execute(notebook_path: Path, python: Path, workdir: Path) -> None:
    """Run a notebook in the student environment's kernel, from ``workdir``; raise on any error."""
    with tempfile.TemporaryDirectory(prefix="student-kernel-") as specs:
        spec_dir = Path(specs) / "student"
        spec_dir.mkdir()
        (spec_dir / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "student edition",
                    "language": "python",
                }
            )
        )
        manager = KernelManager(
            kernel_name="student", kernel_spec_manager=KernelSpecManager(kernel_dirs=[specs])
        )
        notebook = nbformat.read(notebook_path, as_version=4)
        client = NotebookClient(
            notebook,
            km=manager,
            timeout=300,
            allow_errors=False,
            resources={"metadata": {"path": str(workdir)}},
        )
        client.execute()
    errors = [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors == []


@pytest.mark.slow
def test_runs_on_binder(student_chapter: Path, student_venv: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(
        student_chapter.parents[1], repo, ignore=shutil.ignore_patterns("src", "assignments")
    )
    _execute(repo / "chapters" / student_chapter.name, student_venv, repo / "chapters")


@pytest.mark.slow
def test_runs_on_colab(student_chapter: Path, student_venv: Path, tmp_path: Path) -> None:
    alone = tmp_path / "content"
    alone.mkdir()
    shutil.copy(student_chapter, alone / student_chapter.name)
    _execute(alone / student_chapter.name, student_venv, alone)


# Colab's stand-in: the module the set-up cell tests for, with the one call it makes.
FAKE_COLAB = {
    "google/__init__.py": "",
    "google/colab/__init__.py": "from . import output  # noqa: F401\n",
    "google/colab/output.py": "def enable_custom_widget_manager():\n    pass\n",
}


@pytest.mark.slow
def test_on_colab_the_first_cell_installs_coursekit_from_the_repository(
    edition: Path, tmp_path: Path
) -> None:
    """A stock Python without coursekit, one chapter alone, ``google.colab`` imported at start.

    The set-up cell's ``pip install "coursekit @ git+<repository>@<branch>"`` reaches a git
    repository of this edition (git's ``insteadOf`` maps the URL onto it), so the cell runs as on
    Colab: after it, the chapter's imports work.
    """
    from student_edition import REPO, pinned_versions, student_repository

    url, branch = student_repository(REPO)
    repo = tmp_path / "student-repo"
    shutil.copytree(edition, repo)
    git = ["git", "-c", "user.name=course", "-c", "user.email=course@example.org"]
    for command in (["init", "-q", "-b", branch], ["add", "-A"], ["commit", "-q", "-m", "x"]):
        subprocess.run([*git, *command], cwd=repo, check=True)
    home = tmp_path / "home"
    home.mkdir()
    subprocess.run(
        ["git", "config", "--global", f"url.{repo.as_uri()}.insteadOf", url],
        env={"HOME": str(home)},
        check=True,
    )
    fake = tmp_path / "fake-colab"
    for name, text in FAKE_COLAB.items():
        (fake / name).parent.mkdir(parents=True, exist_ok=True)
        (fake / name).write_text(text)

    venv = tmp_path / "colab-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    versions = pinned_versions(REPO)
    stock = [f"{n}=={versions[n]}" for n in ("numpy", "matplotlib", "ipywidgets", "ipykernel")]
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *stock],
        check=True,
        capture_output=True,
    )

    chapter = edition / "chapters" / "01_neuron_and_perceptron.ipynb"
    alone = tmp_path / "content"
    alone.mkdir()
    shutil.copy(chapter, alone / chapter.name)
    with tempfile.TemporaryDirectory(prefix="colab-kernel-") as specs:
        (Path(specs) / "colab").mkdir()
        (Path(specs) / "colab" / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [
                        str(python),
                        "-m",
                        "ipykernel_launcher",
                        "-f",
                        "{connection_file}",
                        "--IPKernelApp.exec_lines=import google.colab",
                    ],
                    "env": {"HOME": str(home), "PYTHONPATH": str(fake)},
                    "display_name": "colab",
                    "language": "python",
                }
            )
        )
        manager = KernelManager(
            kernel_name="colab", kernel_spec_manager=KernelSpecManager(kernel_dirs=[specs])
        )
        notebook = nbformat.read(alone / chapter.name, as_version=4)
        NotebookClient(
            notebook,
            km=manager,
            timeout=300,
            allow_errors=False,
            resources={"metadata": {"path": str(alone)}},
        ).execute()
    installed = subprocess.run(
        [str(python), "-c", "import coursekit, sys; print(coursekit.__file__)"],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0 and str(venv) in installed.stdout
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
