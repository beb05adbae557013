"""Paths and settings of the integration tests, from the environment (see __init__).

Modules read these as config.NAME when they run, not at import: a tool may set one before it
starts anything (tests/bench/rdp_bench.py --deskpod sets config.DESKPOD_BIN)."""

from __future__ import annotations

import os
from pathlib import Path

# tests/integration (this file is tests/integration/harness/config.py).
HERE = Path(__file__).resolve().parent.parent
SOURCE_ROOT = Path(os.environ.get("DESKPOD_SOURCE_ROOT", HERE.parent.parent))
DESKPOD_BIN = Path(os.environ.get("DESKPOD_BIN", SOURCE_ROOT / "build" / "deskpod"))
TEST_CLIENT = Path(
    os.environ.get("DESKPOD_TEST_CLIENT", DESKPOD_BIN.parent / "tests/clients/deskpod-test-client")
)
STALLED_RDP_CLIENT = Path(
    os.environ.get("DESKPOD_STALLED_RDP_CLIENT",
                   DESKPOD_BIN.parent / "tests/clients/deskpod-stalled-rdp-client")
)
ARTIFACTS = Path(
    os.environ.get("DESKPOD_TEST_ARTIFACTS", DESKPOD_BIN.parent / "meson-logs" / "integration")
)
XVFB_START = SOURCE_ROOT / "scripts" / "xvfb-start.sh"
SERVER_KIND = os.environ.get("DESKPOD_IT_SERVER", "deskpod")

# The browser tests: playwright-core etc. (npm ci into the build dir), and Chromium.
NODE_MODULES = Path(os.environ.get("DESKPOD_NODE_MODULES", ""))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
BROWSER_DRIVER = HERE / "js" / "browser_driver.mjs"

PASSWORD = "It-s3cret-pw"
USER = "deskpod"
