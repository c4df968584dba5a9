"""Sphinx extension: the pages as a reader meets them, on a phone, a slow line or a screen reader.

* **Navigation on phones.** pydata-sphinx-theme 0.17 renders a top bar of its own with a
  hidden chapter-list button and a hidden contents button, ahead of the two buttons
  sphinx-book-theme shows. Both themes' scripts bind their handler to the *first*
  ``.primary-toggle`` / ``.secondary-toggle`` in the page, the hidden ones, so the visible
  hamburger and contents buttons do nothing (upstream: pydata-sphinx-theme issue #2451). The
  top bar holds nothing else this book uses but a second search box (the sidebar has one and
  the article header a search button), so it is switched off: pydata-sphinx-theme renders the
  bar only when one of its ``navbar_*`` lists is non-empty, and sphinx-book-theme empties all
  but ``navbar_persistent``. Remove this once the upstream issue is fixed.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config


def configure(app: Sphinx, config: Config) -> None:
    """Theme options that keep the phone navigation working (see the module docstring)."""
    options = dict(config.html_theme_options or {})
    # An explicit empty list: left unset, pydata-sphinx-theme fills in its search field and with
    # it renders the top bar and its hidden toggle buttons (pydata-sphinx-theme #2451).
    options.setdefault("navbar_persistent", [])
    config.html_theme_options = options


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", configure)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
