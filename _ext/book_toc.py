"""The pages of the book, read from ``_toc.yml`` (Jupyter Book 1 layout).

Shared by the scripts that walk the chapters (``colab_setup.py``), the chapter tests and the
book benchmark, so that "every page of the book" means the same thing everywhere.
"""

from __future__ import annotations

from pathlib import Path

import yaml


def toc_pages(root: Path) -> list[str]:
    """Every page of ``root/_toc.yml`` in book order (the root page first), without suffix.

    Any nesting of ``parts``, ``chapters`` and ``sections`` is followed.
    """
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8")) or {}
    pages: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    pages.append(str(Path(str(node[key])).with_suffix("")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return pages


def toc_notebooks(root: Path) -> list[Path]:
    """The pages of the book that are notebooks (``.ipynb`` files), in book order."""
    notebooks = [root / f"{page}.ipynb" for page in toc_pages(root)]
    return [path for path in notebooks if path.is_file()]
