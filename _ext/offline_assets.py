"""Sphinx extension: make the built website work with no internet connection.

By default a Jupyter Book page loads MathJax, RequireJS and the ipywidgets embed manager from
CDNs, so offline the maths shows as raw TeX and the slider apps as blank space. This extension
serves all three from the site's own ``_static/`` folder instead:

* **MathJax 3** comes from the ``sphinx-mathjax-offline`` package (pinned in requirements.txt);
  its ``static/`` folder is added to ``html_static_path`` and ``mathjax_path`` points at the local
  ``tex-chtml.js``. Sphinx still adds the script only to pages that contain maths.
* **RequireJS and the ipywidgets embed manager** (``@jupyter-widgets/html-manager``, whose fonts
  sit next to ``embed-amd.js``) are pinned in ``web_assets.json`` and unpacked into
  ``_ext/vendor/`` by ``fetch_web_assets.py`` (run here automatically if the folder is missing
  or stale). myst-nb's ``nb_ipywidgets_js`` names only ``course-widgets-loader.js``, so only
  pages whose notebook stored widget state load it, deferred; it fetches RequireJS,
  ``course-widgets.js`` and the embed manager when a slider app nears the viewport, so the
  text and maths are never held up by them.
  ``course-widgets.js`` runs between the two: it tells RequireJS where the embed manager's fonts
  are and lets ipywidgets' MathJax 2 call reach MathJax 3.
* **course.css** (dark-mode fixes for figures and widgets) from ``_ext/static/``.

Two page-level fixes that keep the browser console clean (the site tests require it): every
script and stylesheet is listed once per page (Jupyter Book 1 emits sphinx-thebe's inline
``const THEBE_JS_URL`` twice, a SyntaxError on every page), and the theme's default colour mode
is ``auto`` (light or dark from the reader's system setting) instead of an empty, invalid mode.

The folders are added at ``config-inited`` rather than kept in a top-level ``_static/``: Jupyter
Book adds every ``.js`` file of a top-level ``_static/`` to every page, which would load the
widget libraries everywhere.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.fileutil import copy_asset

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
VENDOR = HERE / "vendor"

#: URLs (relative to ``_static/``) of the scripts the pages load.
MATHJAX_PATH = "mathjax/tex-chtml.js"
REQUIRE_JS = "widgets/require.js"
WIDGETS_CONFIG_JS = "course-widgets.js"  # from _ext/static/, runs between the two
EMBED_JS = "widgets/embed-amd.js"
WIDGETS_LOADER_JS = "course-widgets-loader.js"  # from _ext/static/, loads the three above lazily
CSS_FILES = ("course.css",)


def _load_fetcher() -> Any:
    """Import fetch_web_assets.py from this folder (it is a script, not an installed module)."""
    spec = importlib.util.spec_from_file_location("fetch_web_assets", HERE / "fetch_web_assets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mathjax_static_dir() -> Path:
    """The ``static/`` folder of sphinx-mathjax-offline, which holds ``mathjax/tex-chtml.js``."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        static = Path(location) / "static"
        if (static / MATHJAX_PATH).is_file():
            return static
    raise ExtensionError(
        "offline_assets: MathJax not found; install the pinned requirements "
        "(`make setup`, which installs sphinx-mathjax-offline from requirements.txt)"
    )


def ensure_vendor() -> Path:
    """Make sure ``_ext/vendor/`` holds the pinned browser libraries; fetch them if not."""
    fetcher = _load_fetcher()
    if not fetcher.is_current(VENDOR):
        logger.info("offline_assets: fetching the pinned browser libraries into %s", VENDOR)
        try:
            fetcher.fetch(vendor=VENDOR)
        except fetcher.WebAssetError as error:
            raise ExtensionError(f"offline_assets: {error}") from error
    for name in (REQUIRE_JS, EMBED_JS):
        if not (VENDOR / name).is_file():
            raise ExtensionError(
                f"offline_assets: {VENDOR / name} is missing after fetching; check web_assets.json"
            )
    return VENDOR


def static_dirs() -> list[Path]:
    """The folders whose contents this extension puts into the site's ``_static/``."""
    return [STATIC, ensure_vendor(), mathjax_static_dir()]


def configure(app: Sphinx, config: Config) -> None:
    """Point MathJax and the widget scripts at local copies and add the static folders."""
    static_paths = [str(path) for path in static_dirs()]
    config.html_static_path = [
        *config.html_static_path,
        *(p for p in static_paths if p not in config.html_static_path),
    ]
    config.mathjax_path = MATHJAX_PATH
    # Relative names are served from _static/. No CDN attribute: every widget the course uses is
    # built into the embed manager, and a request to any other host is a bug the site tests catch.
    # The loader fetches REQUIRE_JS, WIDGETS_CONFIG_JS and EMBED_JS, in that order, when needed.
    config.nb_ipywidgets_js = {WIDGETS_LOADER_JS: {"defer": "defer"}}
    # pydata-sphinx-theme reads the default colour mode from html_context; unset, it logs an error.
    config.html_context = {**config.html_context}
    config.html_context.setdefault("default_mode", "auto")


def _asset_key(asset: Any) -> tuple[Any, ...]:
    """What makes two page assets one tag: URL (None or '' for an inline script), attributes."""
    attributes = getattr(asset, "attributes", {})
    return (getattr(asset, "filename", asset) or "", tuple(sorted(attributes.items())))


def dedupe_assets(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """List each script and stylesheet of the page once (first occurrence wins).

    Sphinx keeps assets that differ only in an inline script's filename being ``None`` or
    ``''`` apart, which is how sphinx-thebe's and sphinx-togglebutton's inline scripts end up
    on every page twice.
    """
    for key in ("script_files", "css_files"):
        assets = context.get(key)
        if isinstance(assets, list):
            seen: set[tuple[Any, ...]] = set()
            unique = []
            for asset in assets:
                if (asset_key := _asset_key(asset)) not in seen:
                    seen.add(asset_key)
                    unique.append(asset)
            assets[:] = unique


def refresh_static(app: Sphinx, exception: Exception | None) -> None:
    """Copy changed assets even when no page changed.

    Sphinx copies ``html_static_path`` only when it writes pages, so an edit to course.css alone
    would never reach the site on an incremental build. Unchanged files are left alone.
    """
    if exception is not None or app.builder is None or app.builder.format != "html":
        return
    for folder in static_dirs():
        copy_asset(folder, Path(app.outdir) / "_static")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", configure)
    # Late, after myst-nb and sphinx.ext.mathjax have added their per-page scripts.
    app.connect("html-page-context", dedupe_assets, priority=900)
    app.connect("build-finished", refresh_static)
    for css in CSS_FILES:
        app.add_css_file(css)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
