"""The build steps of _ext/reader_pages.py, on small inputs (no build, no browser)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import patch

from docutils import nodes
from docutils.utils import new_document
from sphinx.builders.html._assets import _JavaScript

import builtsite
from coursekit.widgets.app import LIVE_APP_NOTE

_spec = importlib.util.spec_from_file_location(
    "reader_pages_under_test", builtsite.REPO / "_ext" / "reader_pages.py"
)
reader_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reader_pages)


def _png(seed: int) -> str:
    """A small real PNG, base64 as a notebook stores it."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot([0, seed])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode()


def _image_output(png: str, alt: str | None) -> dict:
    metadata = {"image/png": {"alt": alt}} if alt is not None else {}
    return {"output_type": "display_data", "data": {"image/png": png}, "metadata": metadata}


def _app_with_notebook(
    tmp_path: Path, docname: str, notebook: dict, cached: bool = False
) -> SimpleNamespace:
    """A stand-in for the Sphinx app reading ``docname``, the notebook saved as its source.

    ``cached``: the source is stored without outputs and its run (with them) in a jupyter-cache,
    as the book keeps them.
    """
    import nbformat
    from myst_nb.core.config import NbParserConfig
    from myst_parser.config.main import MdParserConfig

    full = nbformat.from_dict({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, **notebook})
    for index, cell in enumerate(full.cells):
        cell.setdefault("metadata", {})
        cell.setdefault("source", "")
        cell["id"] = f"cell-{index}"
        if cell.cell_type == "code":
            cell.setdefault("execution_count", None)
    path = tmp_path / f"{docname}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    config = NbParserConfig(execution_mode="cache" if cached else "off")
    if cached:
        from jupyter_cache import get_cache
        from jupyter_cache.base import CacheBundleIn

        source = nbformat.from_dict(json.loads(nbformat.writes(full)))
        for cell in source.cells:
            if cell.cell_type == "code":
                cell.outputs = []
        nbformat.write(source, path)
        cache = get_cache(tmp_path / "cache")
        stage = cache.add_nb_to_project(str(path))
        cache.cache_notebook_bundle(CacheBundleIn(full, stage.uri), check_validity=False)
        config = NbParserConfig(
            execution_mode="cache", execution_cache_path=str(tmp_path / "cache")
        )
    else:
        nbformat.write(full, path)
    return SimpleNamespace(
        env=SimpleNamespace(
            docname=docname,
            doc2path=lambda name: str(tmp_path / f"{name}.ipynb"),
            mystnb_config=config,
            myst_config=MdParserConfig(),
        )
    )


def _image(png: str) -> nodes.image:
    digest = hashlib.sha256(base64.b64decode(png)).hexdigest()
    return nodes.image(uri=f"../_build/jupyter_execute/{digest}.png")


def test_each_image_gets_the_description_its_output_metadata_holds(tmp_path: Path) -> None:
    first, second, third = _png(1), _png(2), _png(3)
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": "# x", "metadata": {}},
            {
                "cell_type": "code",
                "outputs": [
                    {"output_type": "stream", "text": "hi"},
                    _image_output(first, "loss: loss against step"),
                ],
            },
            {"cell_type": "code", "outputs": [_image_output(second, "accuracy")]},
            {"cell_type": "code", "outputs": [_image_output(third, None)]},
        ]
    }
    assert reader_pages.output_descriptions(notebook) == {
        hashlib.sha256(base64.b64decode(first)).hexdigest(): "loss: loss against step",
        hashlib.sha256(base64.b64decode(second)).hexdigest(): "accuracy",
    }
    app = _app_with_notebook(tmp_path, "chapters/ch", notebook, cached=True)
    document = new_document("ch")
    stated = nodes.image(uri="x.png", alt="the chapter's own words")
    images = [_image(second), _image(first), stated]
    figure = nodes.figure("", _image(third), nodes.caption("", "a captioned sketch"))
    document.extend([*images, figure])
    reader_pages.figure_alt_text(app, document)
    assert [image["alt"] for image in document.findall(nodes.image)] == [
        "Figure: accuracy",
        "Figure: loss: loss against step",
        "the chapter's own words",
        "Figure: a captioned sketch",
    ]


def test_an_image_with_nothing_to_say_fails_the_build_with_the_ways_to_fix_it(
    tmp_path: Path,
) -> None:
    png = _png(4)
    app = _app_with_notebook(
        tmp_path, "ch", {"cells": [{"cell_type": "code", "outputs": [_image_output(png, None)]}]}
    )
    document = new_document("ch")
    document.append(_image(png))
    with patch.object(reader_pages.logger, "warning") as warning:
        reader_pages.figure_alt_text(app, document)
    (message, *arguments), _ = warning.call_args
    text = message % tuple(arguments)
    assert "has no description" in text and ".jupyter_cache" in text and "mystnb" in text
    assert "alt" not in document[0].attributes or not document[0]["alt"]


def test_a_build_kernel_stores_what_each_figure_shows(tmp_path: Path) -> None:
    """The kernel start-up file the build sets as $PYTHONSTARTUP, in a real kernel."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "fig, ax = plt.subplots()\n"
            "ax.plot([0, 1], label='train')\n"
            "ax.set(title='loss', xlabel='epoch', ylabel='$L$')\n"
            "ax.legend()"
        ),
        nbformat.v4.new_code_cell(
            "%matplotlib inline\nplt.plot([1, 0])\nplt.title(f'{2 + 2} steps')"
        ),
    ]
    environment = {**os.environ, "PYTHONSTARTUP": str(reader_pages.KERNEL_STARTUP)}
    with patch.dict(os.environ, environment):
        NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    alts = [
        output["metadata"].get("image/png", {}).get("alt")
        for cell in notebook.cells
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert alts == ["loss: L against epoch (legend: train)", "4 steps"]


def test_the_static_page_disables_every_control_and_notes_how_to_get_it_live() -> None:
    state = {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_s", "IPY_MODEL_out"]}},
        "s": {"model_name": "FloatSliderModel", "state": {"value": 2.0, "disabled": False}},
        "out": {"model_name": "OutputModel", "state": {}},
        "other": {"model_name": "HTMLModel", "state": {}},
    }
    view = '<script type="application/vnd.jupyter.widget-view+json">{"model_id": "%s"}</script>'
    body = view % "box" + view % "other"
    context = {
        "script_files": [
            _JavaScript(
                None, type=reader_pages.WIDGET_STATE_MIME, body=json.dumps({"state": state})
            )
        ],
        "body": body,
    }
    reader_pages.static_widgets(None, "page", "page.html", context, None)
    stored = json.loads(context["script_files"][0].attributes["body"])["state"]
    assert stored["s"]["state"]["disabled"] is True and stored["s"]["state"]["value"] == 2.0
    notes = re.findall(r'<p class="course-live-note" role="note">(.*?)</p>', context["body"])
    assert notes == [LIVE_APP_NOTE], "one note, under the app with the slider only"
    assert context["body"].index("course-live-note") > context["body"].index('"box"')


def test_figures_link_to_their_full_size_image_and_load_lazily() -> None:
    body = (
        '<div class="cell_output docutils container">\n'
        '<img alt="Figure: x" src="../_images/abc.png" />\n</div>'
    )
    linked = reader_pages.link_figures(body)
    assert '<a class="course-figure-link" href="../_images/abc.png"' in linked
    assert 'loading="lazy"' in linked
    assert (
        reader_pages.link_figures('<img alt="logo" src="../_static/logo.svg">')
        == '<img alt="logo" src="../_static/logo.svg">'
    )


def test_printed_tables_are_told_from_printed_sentences() -> None:
    table = "gate   dL/dx    dL/dy\nadd    3.000    3.000\nmax    3.000    0.000\n"
    label = "shared s:  largest = 1.1e-14\ns0 != s1:  second = 7.5e-05\n"
    assert reader_pages.is_table(table)
    assert not reader_pages.is_table(label), "one shared column is a label and its value"
    assert not reader_pages.is_table("the path leaves the valley floor at step 2092\n")
    output = (
        '<div class="output stream highlight-myst-ansi notranslate"><div class="highlight">'
        "<pre><span></span>{}</pre></div></div>"
    )
    marked = reader_pages.mark_table_outputs(output.format(table) + output.format(label))
    assert marked.count(reader_pages.TABLE_OUTPUT_CLASS) == 1
    assert marked.index(reader_pages.TABLE_OUTPUT_CLASS) < marked.index("gate")


def test_the_layout_drops_only_the_named_script() -> None:
    head = (
        '<script defer src="../_static/scripts/fontawesome.js?digest=1"></script>\n'
        '<link rel="preload" as="script" href="../_static/scripts/bootstrap.js" />'
    )
    assert str(reader_pages.without_script(head, "_static/scripts/fontawesome.js")).strip() == (
        '<link rel="preload" as="script" href="../_static/scripts/bootstrap.js" />'
    )


def test_launch_buttons_stay_only_on_notebook_pages() -> None:
    def header(source: str) -> dict:
        app = SimpleNamespace(env=SimpleNamespace(doc2path=lambda name: f"/book/{name}{source}"))
        context = {
            "header_buttons": [
                {"label": "launch-buttons", "buttons": [{"text": "Binder"}, {"text": "Colab"}]},
                {"label": "download-buttons", "buttons": [{"text": ".ipynb"}]},
            ]
        }
        reader_pages.launch_buttons_for_published_pages(
            app, "chapters/x", "page.html", context, None
        )
        return context

    assert [group["label"] for group in header(".ipynb")["header_buttons"]] == [
        "launch-buttons",
        "download-buttons",
    ]
    assert [group["label"] for group in header(".md")["header_buttons"]] == ["download-buttons"]


def test_built_figures_are_tap_to_open_links(site: Path) -> None:
    unlinked = {}
    for path in builtsite.pages(site):
        html = (site / path).read_text(encoding="utf-8")
        images = re.findall(
            r'(<a class="course-figure-link" href="[^"]+"[^>]*>)?<img '
            r'[^>]*src="([^"]*_images/[^"]+)"',
            html,
        )
        missing = [src for link, src in images if not link]
        if missing:
            unlinked[path] = missing[:2]
    assert unlinked == {}, f"figures a phone reader cannot tap open: {unlinked}"


# --- page weight --------------------------------------------------------------------------------


def test_the_icons_in_use_are_those_pages_and_loaded_scripts_and_stylesheets_name(
    tmp_path: Path,
) -> None:
    styles = tmp_path / "_static" / "styles"
    styles.mkdir(parents=True)
    (styles / "pydata-sphinx-theme.css").write_text(
        '.fa-github:before{content:"\\f09b"}.fa-bars:before,.fa-navicon:before{content:"\\f0c9"}'
        '.fa-rocket:before{content:"\\f135"}.fa-xmark:before{content:"\\f00d"}'
        'html{--pst-icon-bell:"\uf0f3"}',
        encoding="utf-8",
    )
    (tmp_path / "_static" / "other.css").write_text(
        '.x:after{content:"\\f107";font-family:Font Awesome\\ 6 Free}', encoding="utf-8"
    )
    (tmp_path / "page.html").write_text(
        '<i class="fa-brands fa-github"></i><span class="fa-solid fa-navicon"></span>',
        encoding="utf-8",
    )
    (tmp_path / "_static" / "theme.js").write_text(
        'icon.classList.add("fa-xmark")', encoding="utf-8"
    )
    scripts = tmp_path / "_static" / "scripts"
    scripts.mkdir()
    (scripts / "fontawesome.js").write_text('"fa-rocket"', encoding="utf-8")  # never loaded
    assert reader_pages.icons_in_use(tmp_path) == {0xF09B, 0xF0C9, 0xF00D, 0xF0F3, 0xF107}


def test_pages_without_sphinx_design_markup_leave_out_its_assets() -> None:
    from sphinx.builders.html._assets import _CascadingStyleSheet

    def context(body: str) -> dict:
        return {
            "body": body,
            "css_files": [
                _CascadingStyleSheet("_static/basic.css"),
                _CascadingStyleSheet("_static/sphinx-design.min.css"),
            ],
            "script_files": [
                _JavaScript("_static/doctools.js"),
                _JavaScript("_static/design-tabs.js"),
            ],
        }

    plain = context("<p>text</p>")
    reader_pages.drop_unused_assets(None, "page", "page.html", plain, None)
    assert [a.filename for a in plain["css_files"] + plain["script_files"]] == [
        "_static/basic.css",
        "_static/doctools.js",
    ]
    tabs = context('<div class="sd-tab-set docutils">')
    reader_pages.drop_unused_assets(None, "page", "page.html", tabs, None)
    assert len(tabs["css_files"]) == 2 and len(tabs["script_files"]) == 2


def test_only_the_search_page_loads_the_search_index(site: Path) -> None:
    loading = [
        path
        for path in builtsite.pages(site) + ["search.html"]
        if re.search(r'<script[^>]+src="[^"]*searchindex\.js', (site / path).read_text("utf-8"))
    ]
    assert loading == ["search.html"]
