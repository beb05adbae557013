"""The test base classes: IntegrationTest (a work dir and a cleanup stack per test, logs kept on
failure) and SharedDeskpodTest (one deskpod for a whole class); needs_deskpod; and the CI rule
that a skipped test fails, installed when this module is imported (the package imports it, so
any `import harness...` installs it)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

from . import config
from .clients import RdpClient
from .images import Diff, color_fraction, compare_images, parse_rgb
from .processes import SanitizerReport, Stack, log, tail, wait_until
from .servers import Deskpod, Server, WestonRdp
from .xservers import Xvfb


def running_on_ci() -> bool:
    """CI sets CI=true; "", "0" and "false" mean not CI (same rule as tests/support/gtest_main.cpp)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def _fail_skips_on_ci() -> None:
    """Under CI a skipped test is a failure: a skip that can happen on CI proves nothing there.
    Installed once, here, for every module that imports the harness (the deployment tests do
    too, through deploy_common). It replaces unittest's addSkip, so skip decorators, skipTest()
    and SkipTest raised in setUpClass are all caught; outside CI a skip still prints its reason."""
    if not running_on_ci():
        return

    def add_skip(result, test, reason):
        try:
            raise AssertionError(f"skipped under CI={os.environ.get('CI')!r}, and on CI a skip "
                                 f"is a failure (docs/testing.md): {reason}") from None
        except AssertionError:
            result.addFailure(test, sys.exc_info())

    unittest.TestResult.addSkip = add_skip
    unittest.TextTestResult.addSkip = add_skip


_fail_skips_on_ci()


def needs_deskpod(test):
    """For tests of deskpod's own contract: skipped in the weston reference run."""
    return unittest.skipIf(config.SERVER_KIND != "deskpod", "checks deskpod itself")(test)


class IntegrationTest(unittest.TestCase):
    """Gives each test a work dir and a cleanup stack; keeps the work dir when the test fails."""

    keep_on_success = os.environ.get("DESKPOD_IT_KEEP", "") == "1"

    def setUp(self):
        self.workdir = Path(tempfile.mkdtemp(prefix="deskpod-it-"))
        self.stack = Stack()
        self._failed_before = self._failure_count()
        log(f"=== {self.id()} in {self.workdir}")

    def _failure_count(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if result is None:
            return 0
        return len(result.failures) + len(result.errors)

    def _test_failed(self) -> bool:
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        # Python 3.11: outcome.result collects failures; errors during the test end up there.
        if getattr(outcome, "success", True) is False:
            return True
        return self._failure_count() > self._failed_before

    def tearDown(self):
        report = None
        try:
            self.stack.close()
        except SanitizerReport as e:
            report = e
        failed = report is not None or self._test_failed()
        if failed or self.keep_on_success:
            dest = config.ARTIFACTS / self.id().split(".", 1)[-1]
            with contextlib.suppress(OSError):
                if dest.exists():
                    shutil.rmtree(dest)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copytree(self.workdir, dest, ignore=_ignore_sockets, symlinks=True)
                log(f"{'FAILED: ' if failed else ''}logs and screenshots kept in {dest}")
        shutil.rmtree(self.workdir, ignore_errors=True)
        if report:
            raise report

    # Helpers shared by the test modules ------------------------------------------------------

    def start_server(self, session: str, size: str = "1024x768", **kw) -> Server:
        if config.SERVER_KIND == "weston":
            kw.pop("extra", None)
            return WestonRdp(self.stack, self.workdir, session, size=size)
        return Deskpod(self.stack, self.workdir, session, size=size, **kw)

    def connect(self, server: Server, name: str = "client", codec: str = "rfx",
                **kw) -> RdpClient:
        client = RdpClient(self.stack, self.workdir, name, server.rdp_port, server.size,
                           codec=codec, **kw)
        client.find_window()
        server.after_client_connected()
        return client

    def assert_client_matches_desktop(self, server: Server, client: RdpClient, tag: str,
                                      timeout: float = 45, max_differing: float = 0.01,
                                      max_mean: float = 4.0, expect_color: str | None = None):
        """Waits until the client's screenshot shows what the desktop shows (grim), then returns
        the last comparison. Fails with both images kept for a person to look at."""
        state = {}

        def matches():
            assert client.proc.alive(), (f"{client.name} exited with "
                                         f"{client.proc.popen.returncode}:\n"
                                         f"{tail(client.proc.output())}")
            assert server.alive(), f"{server.kind} exited:\n{tail(server.proc.output())}"
            shot = client.screenshot(self.workdir / f"{tag}-client.png")
            desk = server.capture(self.workdir / f"{tag}-desktop.png")
            diff = compare_images(shot, desk) if desk else Diff(0.0, 0.0, "-", "-")
            state["diff"] = diff
            if expect_color:
                frac = color_fraction(shot, parse_rgb(expect_color))
                state["color"] = frac
                if frac < 0.95:
                    return False
            return diff.differing <= max_differing and diff.mean_abs <= max_mean

        try:
            wait_until(matches, timeout, f"{client.name}'s picture to match the desktop",
                       interval=0.5)
        except AssertionError as e:
            detail = f"; last comparison: {state.get('diff')}"
            if "color" in state:
                detail += f"; {state['color'] * 100:.1f}% of the client shows #{expect_color}"
            raise AssertionError(f"{e}{detail}; images in {tag}-client.png / {tag}-desktop.png"
                                 ) from None
        return state["diff"]


class SharedDeskpodTest(unittest.TestCase):
    """One deskpod (session `sleep infinity`, no Xwayland) and one client Xvfb shared by every
    test of the class, for tests that only open connections and log in (xfreerdp +auth-only)."""

    workdir_prefix = "deskpod-shared-"

    @classmethod
    def setUpClass(cls):
        cls.workdir = Path(tempfile.mkdtemp(prefix=cls.workdir_prefix))
        cls.addClassCleanup(shutil.rmtree, cls.workdir, ignore_errors=True)
        cls.stack = Stack()
        cls.addClassCleanup(cls.stack.close)
        cls.server = Deskpod(cls.stack, cls.workdir, "sleep infinity", extra=["--no-xwayland"])
        # Started up front, so that while a test holds handshake slots only xfreerdp itself
        # has to start.
        cls.xvfb = Xvfb(cls.stack, cls.workdir, "640x480", name="client-xvfb")

    def log_tail(self) -> str:
        return tail(self.server.proc.output())


def _ignore_sockets(directory, names):
    out = []
    for n in names:
        p = Path(directory) / n
        with contextlib.suppress(OSError):
            if p.is_socket() or p.is_fifo() or n == "xdg-runtime":
                out.append(n)
    return out
