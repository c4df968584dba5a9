"""Sphinx extension: keep the book's notebook execution from stalling for a whole cell timeout.

The workaround itself lives in :mod:`coursekit.grading.kernel_channels` (the grader needs it too);
this extension installs it in the build process, where myst-nb runs the notebooks.
"""

from __future__ import annotations

from typing import Any

from coursekit.grading.kernel_channels import install


def setup(app: Any) -> dict[str, Any]:
    install()
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
