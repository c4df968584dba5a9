"""Test-suite settings shared by every test file."""

import os
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import settings
from playwright.sync_api import Browser, Playwright, sync_playwright

from browser_setup import CHROMIUM, CHROMIUM_ARGS

# No per-example deadline: the suite runs two workers on two cores next to a book build, and a
# slow example is not a wrong one. In CI the examples are derived from each test's name rather
# than drawn at random, so a run is reproducible; locally they are random, to keep finding cases.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


# The session fixtures that grade a whole corpus before their first test can run (a minute or
# more); their tests are marked so that `make test-fast` can leave them out.
CORPUS_FIXTURES = {"corpus", "graded"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "grading" in item.path.parts and CORPUS_FIXTURES & set(
            getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.corpora)


# One Playwright and one browser per test process: the site tests and the student-edition tests
# share them (a second sync_playwright() in the same process fails inside the first one's loop).
@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """The system Chromium (Debian package ``chromium``; ``make sysdeps`` installs it)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}; run `make sysdeps` (or set COURSE_CHROMIUM)"
        )
    # Playwright gives every launch a fresh temporary profile of its own.
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
