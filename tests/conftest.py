"""Test-suite settings shared by every test file."""

import os

import pytest
from hypothesis import settings

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
