"""Submitted files are read only as regular files inside the submission folder."""

from __future__ import annotations

import os

import pytest

from coursekit.grading.submitted_files import (
    RefusedFile,
    extra_notebooks,
    find_notebook,
    read_regular_file,
)


@pytest.fixture
def course(tmp_path):
    (tmp_path / "source" / "A").mkdir(parents=True)
    (tmp_path / "source" / "A" / "A.ipynb").write_text("the instructor's solution")
    folder = tmp_path / "submitted" / "s1" / "A"
    folder.mkdir(parents=True)
    return tmp_path, folder


def test_a_regular_file_is_read(course):
    root, folder = course
    (folder / "A.ipynb").write_text("mine")
    assert read_regular_file(folder, "A.ipynb", root / "submitted") == b"mine"


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda root, folder: os.symlink("../../../source/A/A.ipynb", folder / "A.ipynb"),
            "symbolic link",
        ),
        (
            lambda root, folder: os.symlink(root / "source" / "A" / "A.ipynb", folder / "A.ipynb"),
            "symbolic link",
        ),
        (
            lambda root, folder: os.link(root / "source" / "A" / "A.ipynb", folder / "A.ipynb"),
            "hard link",
        ),
        (lambda root, folder: os.mkfifo(folder / "A.ipynb"), "not a regular file"),
        (lambda root, folder: (folder / "A.ipynb").mkdir(), "not a regular file"),
    ],
    ids=["relative-symlink", "absolute-symlink", "hard-link", "fifo", "folder"],
)
def test_anything_but_a_regular_file_of_its_own_is_refused(course, make, message):
    root, folder = course
    make(root, folder)
    with pytest.raises(RefusedFile, match=message):
        read_regular_file(folder, "A.ipynb", root / "submitted")


def test_a_submission_folder_that_is_a_link_is_refused(course, tmp_path):
    root, folder = course
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "A.ipynb").write_text("not handed in")
    os.symlink(elsewhere, root / "submitted" / "s2")
    with pytest.raises(RefusedFile, match="s2 is a link"):
        read_regular_file(root / "submitted" / "s2", "A.ipynb", root / "submitted")


def test_names_that_differ_in_case_or_a_download_suffix_are_accepted_once(course):
    _, folder = course
    (folder / "03_backprop (1).ipynb").write_text("{}")
    found = find_notebook(folder, "03_Backprop", ["03_Backprop"])
    assert found.name == "03_backprop (1).ipynb" and "submitted as" in found.note
    (folder / "03_BACKPROP.ipynb").write_text("{}")
    found = find_notebook(folder, "03_Backprop", ["03_Backprop"])
    assert found.name is None and "2 notebooks could be it" in found.note
    assert extra_notebooks(folder, []) == ["03_BACKPROP.ipynb", "03_backprop (1).ipynb"]


def test_the_exact_name_wins_and_other_notebooks_are_listed(course):
    _, folder = course
    for name in ("A.ipynb", "A (1).ipynb", "scratch.ipynb"):
        (folder / name).write_text("{}")
    assert find_notebook(folder, "A", ["A"]).name == "A.ipynb"
    assert extra_notebooks(folder, ["A.ipynb"]) == ["A (1).ipynb", "scratch.ipynb"]
