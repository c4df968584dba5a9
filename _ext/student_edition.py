"""The student edition: what the course's public student repository holds, in ``_build/student/``.

This repository is the instructor's: chapter sources, assignment sources with their solutions
and hidden tests, the grader. Students get a second repository, regenerated from this one by
``make student-edition`` and pushed (see the instructor guide):

    _build/student/
        README.md            how to open the notebooks (Binder, Colab, locally)
        requirements.txt     what Binder installs: numpy, matplotlib, ipywidgets, coursekit (pinned)
        runtime.txt          the Python version Binder uses
        pyproject.toml       coursekit without the grader (the Colab set-up cell pip-installs it)
        src/coursekit/       the package, without coursekit/grading
        chapters/*.ipynb     one student notebook per chapter (student_notebooks.py)
        assignments/A/       each assignment as released by ``coursekit release``

As a Sphinx extension (``local_extensions`` in ``_config.yml``) the module writes the chapter
notebooks after every HTML build, into ``_build/student/chapters/`` and over the page's source
file in ``_build/html/_sources/``, so the website's download button offers the student notebook.
Run as a script (``make student-edition``, after ``make book``) it writes the whole folder.

Every step refuses to produce an incomplete edition: a chapter that cannot be converted, a
release that leaks or a file that would carry a solution, a hidden test, the grader or the
nbgrader configuration stops the command with a message naming the file.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from book_toc import toc_notebooks
from student_notebooks import (
    ChapterContext,
    StudentEditionError,
    glue_values,
    read_page_facts,
    student_notebook,
)

REPO = Path(__file__).resolve().parent.parent

# What Binder installs for the notebooks: coursekit's declared dependencies and ipywidgets (the
# slider apps), pinned to the versions the book is built with. Nothing of the book build
# (jupyter-book, myst-nb), the grader (nbgrader) or the tests (pytest).
STUDENT_REQUIREMENTS = ("numpy", "matplotlib", "ipywidgets")

# Text that must appear nowhere in the edition (checked file by file after it is written).
FORBIDDEN = (
    re.compile(r"BEGIN\W*SOLU", re.I),
    re.compile(r"BEGIN\W*HIDDEN", re.I),
    re.compile(r"coursekit[/.]grading"),
    re.compile(r"c\.CourseDirectory|get_config\(\)"),
)


def chapter_names(root: Path) -> list[Path]:
    """The chapter notebooks of the book, relative to ``root``, in book order."""
    return [path.relative_to(root) for path in toc_notebooks(root)]


def write_student_chapters(
    root: Path, build: Path, out: Path, sources_copy: Path | None = None
) -> list[Path]:
    """Write the student notebook of every chapter into ``out`` (same relative paths).

    Args:
        root: the book's root (``_toc.yml``).
        build: the build folder holding ``html/`` and ``jupyter_execute/``.
        out: where the notebooks go (``_build/student``).
        sources_copy: if given, each notebook is also written there (``_build/html/_sources``),
            replacing the source file the website's download button offers.

    Raises:
        StudentEditionError: naming the chapter and the glue key, label or directive at fault.
    """
    executed = build / "jupyter_execute"
    written = []
    for relative in chapter_names(root):
        doc = relative.with_suffix("")
        html = build / "html" / doc.with_suffix(".html")
        glue_json = executed / doc.with_suffix(".glue.json")
        if not html.is_file():
            raise StudentEditionError(
                f"{doc}: the built page {html} is missing; run `make book` first"
            )

        def other_glue(path: str, key: str, _doc: Path = doc) -> dict | None:
            other = (executed / _doc.parent / path).with_suffix(".glue.json")
            return glue_values(other).get(key) if other.is_file() else None

        ctx = ChapterContext(
            chapter=str(doc),
            glue=glue_values(glue_json) if glue_json.is_file() else {},
            facts=read_page_facts(html),
            other_glue=other_glue,
            notebooks={str(p.with_suffix("")) for p in chapter_names(root)},
        )
        notebook = student_notebook(ctx, nbformat.read(root / relative, as_version=4))
        for base in filter(None, (out, sources_copy)):
            target = base / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, target)
        written.append(out / relative)
    return written


# --------------------------------------------------------------------------------------------
# Sphinx: the chapter notebooks after every HTML build
# --------------------------------------------------------------------------------------------


def _build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    write_student_chapters(
        Path(app.srcdir), outdir.parent, outdir.parent / "student", outdir / "_sources"
    )


def setup(app):
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# --------------------------------------------------------------------------------------------
# The whole edition
# --------------------------------------------------------------------------------------------


def student_repository(root: Path) -> tuple[str, str]:
    """(url, branch) of the student repository: ``repository`` in ``_config.yml``."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/"), config["repository"].get("branch", "main")


def pinned_versions(root: Path) -> dict[str, str]:
    """name -> version of every ``name==version`` line of requirements.txt and constraints.txt."""
    versions: dict[str, str] = {}
    for name in ("constraints.txt", "requirements.txt"):
        for line in (root / name).read_text(encoding="utf-8").splitlines():
            match = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s;#]+)", line)
            if match:
                versions[match.group(1).lower().replace("_", "-")] = match.group(2)
    return versions


def write_package(root: Path, out: Path) -> None:
    """coursekit without ``grading/``, with a pyproject.toml that declares no grader."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    shutil.copytree(
        root / "src" / "coursekit",
        out / "src" / "coursekit",
        ignore=lambda folder, names: [
            n for n in names if n in ("grading", "__pycache__") or n.endswith(".pyc")
        ],
    )
    init = out / "src" / "coursekit" / "__init__.py"
    # the package docstring lists the grader, which this copy does not have
    init.write_text(
        "".join(
            line
            for line in init.read_text(encoding="utf-8").splitlines(keepends=True)
            if "coursekit.grading" not in line
        ),
        encoding="utf-8",
    )
    dependencies = ", ".join(f'"{d}"' for d in project["dependencies"])
    widgets = ", ".join(
        f'"{d}"' for d in project.get("optional-dependencies", {}).get("widgets", [])
    )
    (out / "pyproject.toml").write_text(
        f"""[build-system]
requires = ["setuptools>=77", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "{project["name"]}"
version = "{project["version"]}"
description = "{project["description"]}"
readme = "README.md"
requires-python = "{project["requires-python"]}"
license = "{project.get("license", "MIT")}"
dependencies = [{dependencies}]

[project.optional-dependencies]
widgets = [{widgets}]

[tool.setuptools.packages.find]
where = ["src"]
""",
        encoding="utf-8",
    )


def write_requirements(root: Path, out: Path) -> None:
    versions = pinned_versions(root)
    missing = [name for name in STUDENT_REQUIREMENTS if name not in versions]
    if missing:
        raise StudentEditionError(
            f"requirements.txt / constraints.txt pin no version of {', '.join(missing)}"
        )
    lines = [
        "# What Binder installs to run the notebooks "
        "(Colab has these already and installs coursekit",
        "# from its first cell). The course package itself is the last line: this folder.",
        *(f"{name}=={versions[name]}" for name in STUDENT_REQUIREMENTS),
        ".",
    ]
    (out / "requirements.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(root / "runtime.txt", out / "runtime.txt")


def write_assignments(root: Path, out: Path) -> list[Path]:
    """Release every assignment with ``coursekit release`` into a scratch course directory.

    The scratch copy keeps the release out of this repository's gradebook; the student edition
    gets the released notebooks only (no nbgrader configuration, no gradebook, no sources).
    """
    source = root / "assignments" / "source"
    assignments = sorted(p.name for p in source.iterdir() if p.is_dir())
    released: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="student-release-") as scratch:
        course = Path(scratch) / "assignments"
        course.mkdir()
        shutil.copy(root / "assignments" / "nbgrader_config.py", course / "nbgrader_config.py")
        shutil.copytree(
            source,
            course / "source",
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
        for name in assignments:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "coursekit.grading",
                    "release",
                    "--course-dir",
                    str(course),
                    name,
                ],
                capture_output=True,
                text=True,
                cwd=scratch,
            )
            if done.returncode != 0:
                raise StudentEditionError(
                    f"assignments/source/{name}: coursekit release failed:\n"
                    f"{done.stderr or done.stdout}"
                )
            shutil.copytree(course / "release" / name, out / "assignments" / name)
            released.extend(sorted((out / "assignments" / name).rglob("*.ipynb")))
    return released


def write_readme(root: Path, out: Path, chapters: list[Path], assignments: list[Path]) -> None:
    url, branch = student_repository(root)
    path = url.removeprefix("https://github.com/")
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    title = config.get("title", "the course")
    chapter_lines = []
    for notebook in chapters:
        relative = notebook.relative_to(out).as_posix()
        heading = next(
            (
                c.source.split("\n", 1)[0].lstrip("# ")
                for c in nbformat.read(notebook, as_version=4).cells
                if c.cell_type == "markdown"
            ),
            notebook.stem,
        )
        chapter_lines.append(
            f"| [{heading}]({relative}) | "
            f"[Binder](https://mybinder.org/v2/gh/{path}/{branch}?urlpath=lab/tree/{relative}) | "
            f"[Colab](https://colab.research.google.com/github/{path}/blob/{branch}/{relative}) |"
        )
    assignment_lines = [f"- `{p.relative_to(out).as_posix()}`" for p in assignments]
    runtime = (root / "runtime.txt").read_text(encoding="utf-8").strip()
    python_version = runtime.removeprefix("python-")
    (out / "README.md").write_text(
        f"""# {title}: notebooks for students

The chapters of the course as notebooks you can run, change and break, and the assignments you
hand in. Every number in the text is the one the course's own code computed, every exercise has
its solution folded away under it: click "Solution to Exercise ..." only once you have tried.

## Open a chapter

| chapter | in the browser (Binder) | in Google Colab |
| --- | --- | --- |
{chr(10).join(chapter_lines)}

- **Binder** builds this repository's environment (`requirements.txt`), which takes a minute
  or two the first time, and opens the notebook in JupyterLab. Your changes are lost when the
  session ends: download the notebooks you want to keep.
- **Colab** opens one notebook at a time; its first code cell installs the course package
  (`coursekit`) from this repository, and does nothing anywhere else. Save a copy to your Drive
  to keep your changes.
- **On your own computer** (Python {python_version}):

  ```bash
  python -m venv .venv && source .venv/bin/activate
  pip install -r requirements.txt jupyterlab
  jupyter lab
  ```

Run a notebook from the top (Run > Run All Cells): later cells use what earlier cells computed.
The slider apps move only while the notebook runs.

## Assignments

{chr(10).join(assignment_lines)}

Fill in every cell that says `YOUR CODE HERE` or `YOUR ANSWER HERE`, run the notebook from the
top, and hand in the `.ipynb` file as your instructor tells you. Do not delete, copy or rename
cells: the grader finds your answers by the cells they are in. The visible tests tell you
whether you are on the right track; the grade also uses tests you do not see.

## What is in here

| path | what it holds |
| --- | --- |
| `chapters/` | one notebook per chapter |
| `assignments/` | the assignments, as handed out |
| `src/coursekit/` | the course's NumPy package, written to be read next to the chapters |
| `requirements.txt`, `runtime.txt`, `pyproject.toml` | what Binder and `pip` install |

This repository is generated from the course's sources; changes made here are overwritten.
Report mistakes through the issue tracker of {url}.
""",
        encoding="utf-8",
    )


def check_clean(out: Path) -> None:
    """No file of the edition may carry a solution marker, the grader or the nbgrader config."""
    problems = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        relative = path.relative_to(out).as_posix()
        if relative.startswith("src/coursekit/grading") or path.name in (
            "nbgrader_config.py",
            "gradebook.db",
        ):
            problems.append(f"{relative}: must not be in the student edition")
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for pattern in FORBIDDEN:
            match = pattern.search(text)
            if match:
                problems.append(f"{relative}: contains {match.group(0)!r}")
    if problems:
        raise StudentEditionError(
            "the student edition would give away what students must not see:\n  "
            + "\n  ".join(problems)
        )


def build_edition(root: Path, build: Path, out: Path) -> None:
    """Write the whole student edition into ``out`` (emptied first)."""
    if not (build / "html").is_dir():
        raise StudentEditionError(f"{build / 'html'} is missing; run `make book` first")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    chapters = write_student_chapters(root, build, out)
    write_package(root, out)
    write_requirements(root, out)
    assignments = write_assignments(root, out)
    write_readme(root, out, chapters, assignments)
    shutil.copy(root / "LICENSE", out / "LICENSE")
    (out / ".gitignore").write_text(
        ".ipynb_checkpoints/\n__pycache__/\n*.egg-info/\n.venv/\n", encoding="utf-8"
    )
    check_clean(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--build", type=Path, default=REPO / "_build", help="the book's build folder"
    )
    parser.add_argument(
        "--out", type=Path, default=REPO / "_build" / "student", help="where the edition goes"
    )
    args = parser.parse_args(argv)
    try:
        build_edition(REPO, args.build, args.out)
    except StudentEditionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote the student edition to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
