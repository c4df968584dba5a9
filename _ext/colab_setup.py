"""Give every chapter notebook a first code cell that installs coursekit on Google Colab.

Binder builds the repository's environment (requirements.txt installs coursekit), and a local
clone has it from ``make setup``, but Colab opens a single notebook in a stock Python: the
chapter's ``import coursekit`` would fail there. The setup cell installs the package from the
repository only when it runs on Colab (``"google.colab" in sys.modules``); everywhere else,
including the book build, it does nothing. It carries the tag ``remove-cell``, so the website
does not show it, and the tag ``colab-setup``, by which this script recognises it.

Usage (from the repository root):

    python _ext/colab_setup.py          # add the cell to every chapter in _toc.yml that lacks it
    python _ext/colab_setup.py --check  # exit 1 listing chapters without an up-to-date cell
    python _ext/colab_setup.py chapters/01_neuron_and_perceptron.ipynb  # only the named chapters

The script only inserts (or refreshes) its own cell, just before a chapter's first code cell;
it never changes other cells.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from book_toc import toc_notebooks

REPO = Path(__file__).resolve().parent.parent
TAG = "colab-setup"
TAGS = ["remove-cell", TAG]


def repository() -> tuple[str, str]:
    """(url, branch) of the repository, from _config.yml."""
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/"), config["repository"].get("branch", "main")


def setup_source() -> str:
    """The source of the setup cell (the install URL comes from _config.yml)."""
    url, branch = repository()
    # Lines within the chapters' 74 characters: the address goes in a variable, which IPython
    # puts into the magic's line ({source}).
    return (
        "# On Google Colab, install the course package first;\n"
        "# anywhere else this cell does nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    source = "git+{url}@{branch}"\n'
        '    %pip install --quiet "coursekit @ {source}"\n'
        "    from google.colab import output\n"
        "\n"
        "    # lets the slider apps render in Colab\n"
        "    output.enable_custom_widget_manager()"
    )


def chapter_notebooks() -> list[Path]:
    """The .ipynb files of _toc.yml, in book order."""
    return toc_notebooks(REPO)


def setup_cells(notebook: nbformat.NotebookNode) -> list[int]:
    """Indices of the cells tagged ``colab-setup``."""
    return [
        i
        for i, cell in enumerate(notebook.cells)
        if TAG in cell.get("metadata", {}).get("tags", [])
    ]


def problems(path: Path) -> list[str]:
    """What is wrong with a chapter's setup cell (empty if it is present, current and first)."""
    notebook = nbformat.read(path, as_version=4)
    found = setup_cells(notebook)
    if len(found) != 1:
        return [f"{path.name}: {len(found)} cells tagged {TAG!r}, expected 1"]
    index = found[0]
    cell = notebook.cells[index]
    issues = []
    if cell.cell_type != "code":
        issues.append(f"{path.name}: the {TAG} cell is not a code cell")
    if cell.source != setup_source():
        issues.append(f"{path.name}: the {TAG} cell differs from the current setup code")
    if "remove-cell" not in cell.metadata.get("tags", []):
        issues.append(f"{path.name}: the {TAG} cell is not tagged remove-cell")
    first_code = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    if first_code != index:
        issues.append(f"{path.name}: the {TAG} cell is not the first code cell")
    if cell.get("outputs") or cell.get("execution_count") is not None:
        issues.append(f"{path.name}: the {TAG} cell has stored outputs")
    return issues


def add_setup_cell(path: Path) -> bool:
    """Insert (or refresh) the setup cell of one notebook; return True if the file changed."""
    notebook = nbformat.read(path, as_version=4)
    found = setup_cells(notebook)
    if len(found) == 1 and not problems(path):
        return False
    for index in reversed(found):  # only our own cells are ever removed
        del notebook.cells[index]
    cell = nbformat.v4.new_code_cell(setup_source(), metadata={"tags": list(TAGS)})
    cell.id = f"{TAG}"  # stable, readable, unique within the notebook
    if notebook.get("nbformat_minor", 5) < 5:
        del cell["id"]  # cell ids exist from nbformat 4.5 on
    first_code = next(
        (i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), len(notebook.cells)
    )
    notebook.cells.insert(first_code, cell)
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    return True


def main(argv: list[str]) -> int:
    notebooks = chapter_notebooks()
    chosen = [(Path.cwd() / arg).resolve() for arg in argv if not arg.startswith("--")]
    unknown = [str(path) for path in chosen if path not in notebooks]
    if unknown:
        print(
            f"error: not chapter notebooks listed in _toc.yml: {', '.join(unknown)}",
            file=sys.stderr,
        )
        return 2
    notebooks = [path for path in notebooks if path in chosen] if chosen else notebooks
    if "--check" in argv:
        issues = [issue for path in notebooks for issue in problems(path)]
        for issue in issues:
            print(issue, file=sys.stderr)
        return 1 if issues else 0
    for path in notebooks:
        if add_setup_cell(path):
            print(f"added the Colab setup cell to {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
