"""``python -m coursekit.grading`` is the same as the ``coursekit`` command."""

import sys

from coursekit.grading.cli import main

sys.exit(main())
