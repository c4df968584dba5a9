"""Getting around the website: the sidebar, next/previous links, the search page and the launch
buttons of each chapter."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

import builtsite

_SIDEBAR_LINKS = """() => [...document.querySelectorAll('nav.bd-docs-nav a.reference.internal')]
    .map((a) => ({text: a.textContent.trim(), href: a.href}))"""


def _path(url: str) -> str:
    """Site-relative page path of an absolute URL (``index.html`` for the root)."""
    path = urlsplit(url).path.lstrip("/")
    return path or "index.html"


def _light_context(browser):
    """A context for click-through tests that skips MathJax and the widget libraries.

    Navigation does not depend on them, and not loading them keeps a walk through every page
    fast; the other site tests load every page in full.
    """
    context = browser.new_context()
    context.route(re.compile(r"/_static/(mathjax|widgets)/"), lambda route: route.abort())
    return context


def _config() -> dict:
    return yaml.safe_load((builtsite.REPO / "_config.yml").read_text(encoding="utf-8"))


def _sidebar(open_page, start: str = "intro.html") -> list[dict]:
    links = open_page(start).page.evaluate(_SIDEBAR_LINKS)
    assert links, "the sidebar lists no pages"
    return links


def test_sidebar_lists_every_page_once(open_page, site: Path) -> None:
    linked = [_path(link["href"]) for link in _sidebar(open_page)]
    assert len(linked) == len(set(linked)), "a page is listed twice in the sidebar"
    # The root page is the sidebar's title link; every other page is listed.
    assert set(builtsite.pages(site)) - {"intro.html"} <= set(linked), (
        "a built page is missing from the sidebar"
    )


def test_sidebar_links_open_the_page_they_name(open_page, browser, base_url: str) -> None:
    links = _sidebar(open_page)
    context = _light_context(browser)
    try:
        page = context.new_page()
        for link in links:
            response = page.goto(link["href"], wait_until="domcontentloaded")
            assert response is not None and response.ok, (
                f"sidebar link {link['text']!r} -> HTTP {response and response.status}"
            )
            title = page.locator("article h1").first.inner_text().replace("#", "").strip()
            assert title == link["text"], (
                f"sidebar link {link['text']!r} opened a page titled {title!r}"
            )
    finally:
        context.close()


def test_next_and_previous_links_walk_the_book_in_sidebar_order(
    open_page, browser, base_url: str
) -> None:
    order = [_path(link["href"]) for link in _sidebar(open_page)]
    if order[0] != "intro.html":  # the root page may be the sidebar's title link only
        order.insert(0, "intro.html")
    context = _light_context(browser)
    try:
        page = context.new_page()
        page.goto(base_url, wait_until="domcontentloaded")  # index.html redirects to the root page
        page.wait_for_url("**/intro.html")
        forward = [_path(page.url)]
        while (next_link := page.locator("a.right-next")).count():
            next_link.first.click()
            page.wait_for_load_state("domcontentloaded")
            forward.append(_path(page.url))
            assert len(forward) <= len(order), "the next links loop"
        assert forward == order, (
            "following 'next' from the first page does not visit the pages in sidebar order"
        )
        backward = [_path(page.url)]
        while (previous_link := page.locator("a.left-prev")).count():
            previous_link.first.click()
            page.wait_for_load_state("domcontentloaded")
            backward.append(_path(page.url))
            assert len(backward) <= len(order), "the previous links loop"
        assert backward == order[::-1], (
            "following 'previous' from the last page does not retrace the book"
        )
    finally:
        context.close()


@pytest.mark.parametrize("term", ["softmax", "perceptron", "backpropagation"])
def test_search_finds_course_terms(open_page, term: str) -> None:
    page = open_page(f"search.html?q={term}").page
    page.wait_for_function(
        "() => /found \\d+ page/i"
        ".test(document.querySelector('#search-results')?.textContent || '')",
        timeout=15_000,
    )
    results = page.evaluate("""() => [...document
        .querySelectorAll('#search-results ul.search li a')]
        .map((a) => ({text: a.textContent.trim(), href: a.href}))""")
    assert results, f"searching for {term!r} found nothing"
    for result in results:
        assert urlsplit(result["href"]).hostname == urlsplit(page.url).hostname
    # A hit really contains the term (Sphinx shows a summary with the term highlighted).
    summaries = page.locator(
        "#search-results ul.search li p.context, #search-results ul.search li .context"
    ).all_inner_texts()
    assert any(term in summary.lower() for summary in summaries), (
        f"no result summary mentions {term!r}"
    )


def test_chapters_offer_binder_colab_download_repository_and_issues(
    open_page, chapter_notebook_page: str
) -> None:
    """Launch buttons are links (never followed) to the right notebook in the configured repo."""
    config = _config()
    repository = config["repository"]["url"].rstrip("/")
    owner_repo = urlsplit(repository).path.strip("/")
    branch = config["repository"].get("branch", "main")
    notebook = chapter_notebook_page.removesuffix(".html") + ".ipynb"
    page = open_page(chapter_notebook_page).page
    hrefs = page.evaluate(
        "() => [...document.querySelectorAll('.article-header-buttons a, .header-article-items a')]"
        ".map((a) => a.href)"
    )
    binderhub = config["launch_buttons"]["binderhub_url"].rstrip("/")
    colab_url = config["launch_buttons"]["colab_url"].rstrip("/")
    binder = f"{binderhub}/v2/gh/{owner_repo}/{branch}?urlpath=lab/tree/{notebook}"
    colab = f"{colab_url}/github/{owner_repo}/blob/{branch}/{notebook}"
    assert binder in hrefs, (
        f"{chapter_notebook_page}: no Binder button opening {notebook} in JupyterLab"
    )
    assert colab in hrefs, f"{chapter_notebook_page}: no Colab button for {notebook}"
    assert repository in hrefs, f"{chapter_notebook_page}: no repository button"
    assert any(href.startswith(f"{repository}/issues/new") for href in hrefs), (
        f"{chapter_notebook_page}: no issues button"
    )
    download = [
        href
        for href in hrefs
        if href.endswith(".ipynb") and urlsplit(href).hostname == urlsplit(page.url).hostname
    ]
    assert download, f"{chapter_notebook_page}: no .ipynb download button"
    response = page.request.get(download[0])
    assert response.ok, f"{chapter_notebook_page}: the .ipynb download is HTTP {response.status}"
    notebook_json = json.loads(response.body())
    assert notebook_json["nbformat"] == 4 and notebook_json["cells"], (
        "the download is not the chapter notebook"
    )


def test_launch_buttons_only_where_the_student_repository_has_the_notebook(
    browser, base_url: str
) -> None:
    """The errata page is not in the student repository: no Binder or Colab link opens it there.

    Its chapter still has both; the download button stays on both pages.
    """
    config = _config()
    launch_hosts = {
        urlsplit(config["launch_buttons"][key]).hostname for key in ("binderhub_url", "colab_url")
    }
    context = _light_context(browser)
    try:
        page = context.new_page()
        found = {}
        for path in ("chapters/errata.html", "chapters/10_worked_examples.html"):
            page.goto(base_url + path, wait_until="load")
            hrefs = page.evaluate(
                "() => [...document.querySelectorAll('a[href]')].map((a) => a.href)"
            )
            found[path] = {
                "launch": sorted({urlsplit(h).hostname for h in hrefs} & launch_hosts),
                "download": [h for h in hrefs if h.endswith(".ipynb") and "/_sources/" in h],
            }
        assert found["chapters/errata.html"]["launch"] == [], (
            f"the errata page links to {found['chapters/errata.html']['launch']}, which would open "
            "it in the student repository, where it does not exist"
        )
        assert found["chapters/10_worked_examples.html"]["launch"] == sorted(launch_hosts), (
            f"chapter 10 lost its launch buttons: {found['chapters/10_worked_examples.html']}"
        )
        assert all(found[path]["download"] for path in found), f"a download button is gone: {found}"
    finally:
        context.close()
