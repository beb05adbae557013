#!/usr/bin/env python3
"""scripts/xvfb-start.sh, the X server helper of the x11 backend: the size forms it accepts
(WIDTHxHEIGHT and the WIDTHxHEIGHTxDEPTH form of most Xvfb guides), a clear error for a depth
deskpod cannot use, and --auth (an MIT-MAGIC-COOKIE that clients must present)."""
import os
import re
import subprocess
import unittest

from harness import XVFB_START, IntegrationTest, Xvfb


class XvfbStartTest(IntegrationTest):
    def start(self, env_extra, *args):
        env = dict(os.environ, **env_extra)
        env.pop("DISPLAY", None)
        return subprocess.run([str(XVFB_START), "--display", "auto", "--pid-file",
                               str(self.workdir / "x.pid"), "--log-file", str(self.workdir / "x.log"),
                               *args], capture_output=True, text=True, timeout=60, env=env)

    def started(self, r, env_extra=None):
        self.assertEqual(r.returncode, 0, r.stderr)
        pid = int((self.workdir / "x.pid").read_text())
        self.stack.push(lambda: Xvfb.stop_pid(pid))
        display = re.search(r"^DISPLAY=(:\d+)$", r.stdout, re.M).group(1)
        info = subprocess.run(["xdpyinfo", "-display", display], capture_output=True, text=True,
                              timeout=30, env=dict(os.environ, **(env_extra or {})))
        self.assertEqual(info.returncode, 0, info.stderr)
        return display, info.stdout

    def test_resolution_with_depth(self):
        display, info = self.started(self.start({"RESOLUTION": "640x480x24"}))
        self.assertRegex(info, r"dimensions:\s+640x480 pixels")
        self.assertRegex(info, r"depth of root window:\s+24 planes")

    def test_resolution_without_depth_is_24_bit(self):
        display, info = self.started(self.start({}, "--size", "800x600"))
        self.assertRegex(info, r"dimensions:\s+800x600 pixels")
        self.assertRegex(info, r"depth of root window:\s+24 planes")

    def test_unusable_depth_is_refused_naming_the_forms(self):
        for bad in ("640x480x16", "640x480x", "640x480x24x1", "wide"):
            with self.subTest(bad=bad):
                r = self.start({"RESOLUTION": bad})
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("WIDTHxHEIGHTx24", r.stderr)
                self.assertIn(bad, r.stderr)
                self.assertFalse((self.workdir / "x.pid").exists(), "an Xvfb was started anyway")

    def test_auth_cookie_is_required(self):
        auth = self.workdir / "xauth"
        r = self.start({}, "--size", "320x240", "--auth", str(auth))
        self.assertIn(f"XAUTHORITY={auth}", r.stdout)
        display, info = self.started(r, {"XAUTHORITY": str(auth)})
        self.assertRegex(info, r"dimensions:\s+320x240 pixels")
        without = subprocess.run(["xdpyinfo", "-display", display], capture_output=True, text=True,
                                 timeout=30, env=dict(os.environ, XAUTHORITY=str(self.workdir / "none")))
        self.assertNotEqual(without.returncode, 0, "a client without the cookie was let in")


if __name__ == "__main__":
    unittest.main(verbosity=2)
