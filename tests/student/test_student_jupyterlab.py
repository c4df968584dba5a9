"""A student notebook in JupyterLab, as Binder shows it: exercise readable, solution closed.

JupyterLab runs from the Binder-like environment (``student_venv``: the student requirements plus
the pinned JupyterLab Binder brings), on a copy of the student edition, with a private Jupyter
configuration. Chromium opens the softmax chapter, scrolls to its first exercise and checks that
the solution's text is not visible until its summary is clicked. Screenshots (1280x900 and
390x844, before and after the click) go to ``_build/screenshots/student/``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Browser

from edition import ROOT

CHAPTER = "chapters/05_softmax_and_cross_entropy.ipynb"
SHOTS = ROOT / "_build" / "screenshots" / "student"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _first_solution(path: Path) -> tuple[str, str, str]:
    """(exercise heading, summary, a phrase of the solution) of the notebook's first exercise."""
    for cell in nbformat.read(path, as_version=4).cells:
        match = re.search(
            r"^### (Exercise \d+)[^\n]*\n(.*?)<details>\n<summary>([^<]+)</summary>\n\n"
            r"(.*?)</details>",
            cell.source,
            re.S | re.M,
        )
        if match and cell.cell_type == "markdown":
            words = re.search(r"[A-Za-z][A-Za-z ,]{12,}", re.sub(r"\$[^$]*\$", " ", match.group(4)))
            assert words, "the first solution has no plain words to look for"
            return match.group(1), match.group(3).strip(), words.group(0).strip().split(",")[0]
    raise AssertionError(f"{path.name} has no exercise with a folded solution")


@pytest.fixture()
def jupyterlab(student_venv: Path, edition: Path, tmp_path: Path):
    repo = tmp_path / "repo"
    shutil.copytree(edition, repo, ignore=shutil.ignore_patterns("src"))
    port = _free_port()
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    server = subprocess.Popen(
        [
            str(student_venv.parent / "jupyter-lab"),
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--IdentityProvider.token=",
            "--allow-root",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={repo}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "jupyterlab.log", "w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if server.poll() is not None:
                break
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError(
                "JupyterLab did not start:\n" + (tmp_path / "jupyterlab.log").read_text()
            )
        yield url, repo
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
    ids=["desktop", "phone"],
)
def test_solution_is_closed_until_clicked(jupyterlab, viewport, browser: Browser) -> None:
    url, repo = jupyterlab
    heading, summary_text, phrase = _first_solution(repo / CHAPTER)
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = f"{Path(CHAPTER).stem}-{viewport['width']}"
    # The session's browser (tests/conftest.py): one Playwright per process.
    page = browser.new_page(viewport=viewport)
    try:
        page.goto(f"{url}/lab/tree/{CHAPTER}", wait_until="domcontentloaded", timeout=120_000)
        page.locator(".jp-Notebook .jp-MarkdownCell").first.wait_for(timeout=120_000)
        if viewport["width"] < 600:  # on a phone the file browser covers the notebook: close it
            page.locator(".jp-Notebook").first.click()
            page.keyboard.press("Control+b")
            page.wait_for_timeout(500)
        # no grader in the student's JupyterLab
        menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        assert menus and not any(
            "grader" in m.lower() or "assignment" in m.lower() for m in menus
        ), menus
        summary = page.locator("summary", has_text=summary_text)
        notebook = page.locator(".jp-NotebookPanel-notebook, .jp-WindowedPanel-outer").first
        for _ in range(200):  # scroll down until the exercise's cell is rendered
            if summary.count():
                break
            notebook.hover()
            page.mouse.wheel(0, 700)
            page.wait_for_timeout(150)
        summary.first.scroll_into_view_if_needed()
        page.locator("h3", has_text=heading).first.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        assert page.locator("h3", has_text=heading).first.is_visible()
        hidden = (
            page.locator("details", has_text=summary_text)
            .first.get_by_text(phrase, exact=False)
            .first
        )
        assert summary.first.is_visible()
        assert not hidden.is_visible(), "the solution is shown before the summary is clicked"
        page.screenshot(path=str(SHOTS / f"{name}-closed.png"))
        summary.first.click()
        hidden.wait_for(state="visible", timeout=10_000)
        page.screenshot(path=str(SHOTS / f"{name}-open.png"))
    finally:
        page.close()
