"""Test-suite settings shared by every test file."""

import os

from hypothesis import settings

# No per-example deadline: the suite runs two workers on two cores next to a book build, and a
# slow example is not a wrong one. In CI the examples are derived from each test's name rather
# than drawn at random, so a run is reproducible; locally they are random, to keep finding cases.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
