"""The system Chromium the browser tests drive (Debian package ``chromium``; ``make sysdeps``)."""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
# Flags for a headless Chromium run as root in a container, with no background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
