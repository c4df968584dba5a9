"""Sphinx extension: the slider apps on the website play frames drawn at build time.

``coursekit.widgets.frames`` does the drawing inside the notebook kernels; this extension wires
it into the build:

* ``builder-inited``: sets ``$COURSEKIT_FRAMES_DIR`` to the frame cache, ``_build/.frame_cache``
  (next to the notebook cache). Notebook kernels inherit it, so every app a chapter displays
  draws its grid there (once: an unchanged app finds its frames by key) and its output is the
  player's HTML instead of the ipywidgets view. Jupyter, Binder and Colab never set it.
* ``doctree-read``: records which frame folders each page shows (kept in the environment, so
  pages that are not rebuilt keep theirs).
* ``html-page-context``: on a page with a player, points the frame URLs at ``_static/frames``
  (relative, so the site works from ``file://``), adds ``frame-player.js`` and its stylesheet, and
  drops the ipywidgets scripts (their loader, RequireJS, the 3.6 MB embed manager and the widget
  state) when no widget view is left on the page: the apps' controls still exist in the kernel, so
  the notebook's metadata keeps their state, but nothing on the page uses it.
* ``build-finished``: copies the frames of every page into ``_static/frames/<key>/`` and
  removes folders no page uses any more.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

from coursekit.widgets.frames import FRAME_EXTENSION, FRAMES_ENV, FRAMES_URL

import offline_assets

PLAYER_JS = "frame-player.js"
PLAYER_CSS = "frame-player.css"
#: Where the frames are served from, under the site's root.
SITE_FOLDER = "_static/frames"
_KEY = re.compile(re.escape(FRAMES_URL) + r"/([0-9a-f]+)/")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
#: The widget scripts a page may list: the lazy loader and the three scripts it fetches.
WIDGET_SCRIPTS = {
    offline_assets.REQUIRE_JS,
    offline_assets.WIDGETS_CONFIG_JS,
    offline_assets.EMBED_JS,
    offline_assets.WIDGETS_LOADER_JS,
}


def frame_cache(app: Sphinx) -> Path:
    """``_build/.frame_cache``: beside the site folder, like the notebook cache."""
    return Path(app.outdir).parent / ".frame_cache"


def set_cache(app: Sphinx) -> None:
    cache = frame_cache(app)
    cache.mkdir(parents=True, exist_ok=True)
    os.environ[FRAMES_ENV] = str(cache)


def record_keys(app: Sphinx, doctree: nodes.document) -> None:
    keys = set()
    for raw in doctree.findall(nodes.raw):
        keys.update(_KEY.findall(raw.astext()))
    store = getattr(app.env, "coursekit_frames", None)
    if store is None:
        store = app.env.coursekit_frames = {}
    if keys:
        store[app.env.docname] = sorted(keys)
    else:
        store.pop(app.env.docname, None)


def purge_doc(app: Sphinx, env: Any, docname: str) -> None:
    getattr(env, "coursekit_frames", {}).pop(docname, None)


def merge_info(app: Sphinx, env: Any, docnames: set[str], other: Any) -> None:
    store = getattr(env, "coursekit_frames", None)
    if store is None:
        store = env.coursekit_frames = {}
    store.update(
        {
            name: keys
            for name, keys in getattr(other, "coursekit_frames", {}).items()
            if name in docnames
        }
    )


def _is_widget_script(asset: Any) -> bool:
    filename = (getattr(asset, "filename", asset) or "").removeprefix("_static/")
    attributes = getattr(asset, "attributes", {}) or {}
    return filename in WIDGET_SCRIPTS or attributes.get("type") == WIDGET_STATE


def page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    body = context.get("body")
    if not isinstance(body, str) or FRAMES_URL not in body:
        return
    folder = context["pathto"](SITE_FOLDER, 1)
    context["body"] = body.replace(FRAMES_URL, folder)
    if WIDGET_VIEW not in body:
        scripts = context.get("script_files")
        if isinstance(scripts, list):
            scripts[:] = [asset for asset in scripts if not _is_widget_script(asset)]
    app.add_js_file(PLAYER_JS, loading_method="defer")
    app.add_css_file(PLAYER_CSS)


def copy_frames(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder is None or app.builder.format != "html":
        return
    cache = frame_cache(app)
    target = Path(app.outdir) / SITE_FOLDER
    wanted = {
        key: page for page, keys in getattr(app.env, "coursekit_frames", {}).items() for key in keys
    }
    target.mkdir(parents=True, exist_ok=True)
    for key, page in sorted(wanted.items()):
        source = cache / key
        if not (source / "manifest.json").is_file():
            raise ExtensionError(
                f"frame_player: page {page} shows slider frames {key}, "
                f"which are not in {cache}; the frames are drawn when the notebook runs, "
                "so remove its cached run (rm -rf _build/.jupyter_cache) and build again"
            )
        destination = target / key
        if not destination.is_dir():
            scratch = target / f".{key}"
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir()
            for frame in source.glob(f"*.{FRAME_EXTENSION}"):
                shutil.copy2(frame, scratch / frame.name)
            scratch.rename(destination)
    for stale in target.iterdir():
        if stale.name not in wanted:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", set_cache)
    app.connect("doctree-read", record_keys)
    app.connect("env-purge-doc", purge_doc)
    app.connect("env-merge-info", merge_info)
    # After myst-nb has added the widget scripts and offline_assets has deduplicated them (900).
    app.connect("html-page-context", page_context, priority=950)
    app.connect("build-finished", copy_frames)
    return {
        "version": "1.0",
        "parallel_read_safe": True,
        "parallel_write_safe": True,
        "env_version": 1,
    }
