"""The integration test harness (tests/integration/harness/); see testcase.py.

`import harness`, `from harness import X` and `harness.X` keep working: the public names are
re-exported here. Importing the package installs the CI rule that a skipped test fails.
"""

from .testcase import (ARTIFACTS, CODEC_FLAGS, DESKPOD_BIN, HERE, PASSWORD, SERVER_KIND,
                       SOURCE_ROOT, TEST_CLIENT, USER, XVFB_START, Deskpod, Diff,
                       IntegrationTest, Proc, RdpClient, Server, SharedDeskpodTest, Stack,
                       WestonRdp, Xvfb, _fail_skips_on_ci, color_fraction, compare_images,
                       connect_from, free_port, http_get, image_size, log, make_runtime_dir,
                       metric_value, needs_deskpod, parse_rgb, raw_rgb, run_auth_only,
                       running_on_ci, solid_session, still_open, tail, tcp_open, wait_until)

__all__ = [
    "ARTIFACTS", "CODEC_FLAGS", "DESKPOD_BIN", "HERE", "PASSWORD", "SERVER_KIND", "SOURCE_ROOT",
    "TEST_CLIENT", "USER", "XVFB_START", "Deskpod", "Diff", "IntegrationTest", "Proc",
    "RdpClient", "Server", "SharedDeskpodTest", "Stack", "WestonRdp", "Xvfb", "color_fraction",
    "compare_images", "connect_from", "free_port", "http_get", "image_size", "log",
    "make_runtime_dir", "metric_value", "needs_deskpod", "parse_rgb", "raw_rgb",
    "run_auth_only", "running_on_ci", "solid_session", "still_open", "tail", "tcp_open",
    "wait_until", "_fail_skips_on_ci",
]
