"""Integration test harness: a real deskpod (or weston's RDP backend as a reference), real
xfreerdp clients inside private Xvfb servers, screenshots and pixel comparison.

Everything a test starts is registered with a Stack and torn down in reverse order, by process
group, even when the test fails. Each test gets its own ports, displays, runtime dir and state
dir, so test modules run in parallel. On failure the test's work dir (server and client logs,
screenshots) is kept under $DESKPOD_TEST_ARTIFACTS/<test id>/.

Environment (set by tests/integration/meson.build; defaults allow running a module by hand):
  DESKPOD_BIN            the deskpod executable
  DESKPOD_TEST_CLIENT    tests/clients/deskpod-test-client
  DESKPOD_STALLED_RDP_CLIENT  tests/clients/deskpod-stalled-rdp-client (an RDP client that
                         stops reading)
  DESKPOD_SOURCE_ROOT    the repository (for scripts/xvfb-start.sh)
  DESKPOD_TEST_ARTIFACTS where failing tests leave their logs and screenshots
  DESKPOD_IT_SERVER      "deskpod" (default) or "weston": run the server-agnostic tests against
                         weston's RDP backend, to check the harness itself
  DESKPOD_NODE_MODULES   npm packages of the browser tests (playwright-core, guacamole-*)
  CHROMIUM               the browser the browser tests drive (default /usr/bin/chromium)
  DESKPOD_IT_KEEP=1      keep every test's work dir, not only a failing one's
  CI                     under CI=true a skipped test fails (testcase._fail_skips_on_ci,
                         installed when the package is imported)

Modules (`import harness`, `from harness import X` and `harness.X` see all public names):
  config     the paths and settings above, PASSWORD, USER
  processes  Proc, Stack, wait_until, log, tail; sanitizer_reports, check_no_sanitizer_report,
             SanitizerReport, sanitizer_env (sanitizer builds: a report fails the test)
  net        free_port, http_get, tcp_open, connect_from, still_open, metric_value
  images     image_size, raw_rgb, compare_images (Diff), color_fraction, parse_rgb
  xservers   Xvfb
  clients    RdpClient, run_auth_only, CODEC_FLAGS (xfreerdp); StalledRdpClient (an RDP
             client that stops reading); Browser, browser_missing, wait_picture_matches
             (headless Chromium); GuacWire, guac_handshake (guacd protocol)
  servers    Server, Deskpod, WestonRdp, solid_session
  testcase   IntegrationTest, SharedDeskpodTest, needs_deskpod, running_on_ci
"""

from . import config
from .clients import (CODEC_FLAGS, Browser, GuacWire, RdpClient, StalledRdpClient,
                      browser_missing, enc, guac_handshake, run_auth_only, wait_picture_matches)
from .config import (ARTIFACTS, BROWSER_DRIVER, CHROMIUM, DESKPOD_BIN, HERE, NODE_MODULES,
                     PASSWORD, SERVER_KIND, SOURCE_ROOT, STALLED_RDP_CLIENT, TEST_CLIENT, USER,
                     XVFB_START)
from .images import Diff, color_fraction, compare_images, image_size, parse_rgb, raw_rgb
from .net import connect_from, free_port, http_get, metric_value, still_open, tcp_open
from .processes import (Proc, SanitizerReport, Stack, check_no_sanitizer_report, cpu_seconds, log,
                        rss_mb, sanitizer_env, sanitizer_reports, tail, wait_until)
from .servers import Deskpod, Server, WestonRdp, make_runtime_dir, solid_session
# Importing testcase installs the CI rule (a skipped test fails under CI=true).
from .testcase import (IntegrationTest, SharedDeskpodTest, _fail_skips_on_ci, needs_deskpod,
                       running_on_ci)
from .xservers import Xvfb

__all__ = [
    "config",
    # config
    "ARTIFACTS", "BROWSER_DRIVER", "CHROMIUM", "DESKPOD_BIN", "HERE", "NODE_MODULES", "PASSWORD",
    "SERVER_KIND", "SOURCE_ROOT", "STALLED_RDP_CLIENT", "TEST_CLIENT", "USER", "XVFB_START",
    # processes
    "Proc", "SanitizerReport", "Stack", "check_no_sanitizer_report", "cpu_seconds", "log",
    "rss_mb", "sanitizer_env",
    "sanitizer_reports", "tail", "wait_until",
    # net
    "connect_from", "free_port", "http_get", "metric_value", "still_open", "tcp_open",
    # images
    "Diff", "color_fraction", "compare_images", "image_size", "parse_rgb", "raw_rgb",
    # xservers
    "Xvfb",
    # clients
    "CODEC_FLAGS", "Browser", "GuacWire", "RdpClient", "StalledRdpClient", "browser_missing",
    "enc", "guac_handshake", "run_auth_only", "wait_picture_matches",
    # servers
    "Deskpod", "Server", "WestonRdp", "make_runtime_dir", "solid_session",
    # testcase
    "IntegrationTest", "SharedDeskpodTest", "_fail_skips_on_ci", "needs_deskpod",
    "running_on_ci",
]
