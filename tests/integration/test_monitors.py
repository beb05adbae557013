#!/usr/bin/env python3
"""Monitors and HiDPI: an RDP client's monitor layout (xfreerdp /multimon on a two-head X
server) becomes one deskpod output per monitor in the same arrangement, and new windows open
on the monitor where the pointer is; a client's desktop scale factor (/scale-desktop) sets the
output scale, so apps draw at twice the pixels and clicks land where the person clicked."""
import contextlib
import os
import shlex
import signal
import subprocess
import time
import unittest
from pathlib import Path

from harness import (TEST_CLIENT, IntegrationTest, Proc, RdpClient, Xvfb, log, metric_value,
                     needs_deskpod, parse_rgb, raw_rgb, wait_until)

LEFT = "2255aa"    # the session's window: on the primary (left) monitor
RIGHT = "cc7711"   # a window opened while the pointer is on the right monitor
SCALED = "8844cc"


def region_fraction(path: Path, box: tuple[int, int, int, int], rgb: tuple[int, int, int],
                    tol: int = 24) -> float:
    """Share of the pixels inside box (x, y, w, h) of a screenshot that show rgb."""
    width, _, data = raw_rgb(path)
    x0, y0, w, h = box
    hits = 0
    for y in range(y0, y0 + h):
        row = (y * width + x0) * 3
        for i in range(row, row + w * 3, 3):
            if (abs(data[i] - rgb[0]) <= tol and abs(data[i + 1] - rgb[1]) <= tol
                    and abs(data[i + 2] - rgb[2]) <= tol):
                hits += 1
    return hits / float(w * h)


def boxes_differing(a: Path, b: Path, boxes) -> int:
    """Pixels that differ between two screenshots inside boxes (x, y, w, h)."""
    wa, _, da = raw_rgb(a)
    wb, _, db = raw_rgb(b)
    count = 0
    for x0, y0, w, h in boxes:
        for y in range(y0, y0 + h):
            ra, rb = (y * wa + x0) * 3, (y * wb + x0) * 3
            rowa, rowb = da[ra:ra + w * 3], db[rb:rb + w * 3]
            if rowa != rowb:
                count += sum(rowa[i:i + 3] != rowb[i:i + 3] for i in range(0, w * 3, 3))
    return count


class Xephyr:
    """A nested X server with two Xinerama heads side by side (800x600, then 640x480 at +800+0),
    inside a host Xvfb: the two monitors xfreerdp /multimon sees. Xvfb alone cannot place its
    screens (its Xinerama heads all start at 0,0, and it ignores RandR monitor definitions)."""

    def __init__(self, test: IntegrationTest):
        self.host = Xvfb(test.stack, test.workdir, "1440x600", name="xephyr-host")
        read_fd, write_fd = os.pipe()
        env = self.host.env()
        # -noreset: without it Xephyr resets whenever its last client leaves, and a client that
        # connects during the reset (xfreerdp right after `xfreerdp /monitor-list`) is refused
        # with "failed to open display".
        argv = ["Xephyr", "-displayfd", str(write_fd), "-nolisten", "tcp", "-no-host-grab",
                "-noreset",
                "+xinerama", "-extension", "RANDR",
                "-screen", "800x600", "-origin", "800,0", "-screen", "640x480"]
        self.log_path = test.workdir / "xephyr.log"
        with open(self.log_path, "ab") as out:
            # Started here rather than through harness.Proc: -displayfd needs the pipe passed.
            self.popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, env=env,
                                          pass_fds=(write_fd,), start_new_session=True)
        test.stack.push(self.stop)
        os.close(write_fd)
        with os.fdopen(read_fd) as f:
            number = f.readline().strip()
        if not number:
            raise AssertionError(f"Xephyr did not start:\n{self.log_path.read_text()}")
        self.display = f":{number}"
        log(f"xephyr: {self.display} on {self.host.display}")

    def stop(self):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)

    def env(self) -> dict:
        env = dict(os.environ)
        env["DISPLAY"] = self.display
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def xdotool(self, *args: str):
        subprocess.run(["xdotool", *args], env=self.env(), check=True, capture_output=True,
                       timeout=10)

    def screenshot(self, path: Path) -> Path:
        # The Xinerama root spans both heads.
        subprocess.run(["import", "-display", self.display, "-window", "root", str(path)],
                       check=True, capture_output=True, timeout=30)
        return path


def wakeups(pid: int) -> int:
    """Voluntary context switches of every thread of a process: each is one sleep, so the
    difference over a span counts how often the process woke up."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        for line in status.read_text().splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                total += int(line.split()[1])
    return total


def desktop_size(server) -> tuple:
    text = server.metrics()
    return metric_value(text, "deskpod_desktop_width"), metric_value(text, "deskpod_desktop_height")


class MonitorsTest(IntegrationTest):
    @needs_deskpod
    def test_multimon_gives_one_output_per_monitor(self):
        session = f"{shlex.quote(str(TEST_CLIENT))} --color {LEFT}"
        server = self.start_server(session, size="1024x768")
        xephyr = Xephyr(self)
        monitors = subprocess.run(["xfreerdp", "/monitor-list"], env=xephyr.env(),
                                  capture_output=True, text=True, timeout=30).stdout
        self.assertIn("640x480\t+800+0", monitors, "the client does not see two monitors")
        client = RdpClient(self.stack, self.workdir, "client", server.rdp_port, "1440x600",
                           xvfb=xephyr, extra=["/multimon"])
        client.find_window()

        wait_until(lambda: desktop_size(server) == (1440, 600), 30,
                   "the desktop to become the monitors' bounding box")
        self.assertIn("2 monitor(s) *800x600+0+0,640x480+800+0", server.proc.output())
        # xfreerdp 2.11 takes the graphics pipeline even with -gfx: one surface per monitor.
        wait_until(lambda: "2 surfaces, one per monitor" in server.proc.output(), 30,
                   "the graphics pipeline to make a surface per monitor")
        self.assertEqual(metric_value(server.metrics(), "deskpod_rdp_gfx_surfaces"), 2)

        # The session's window stays on the primary monitor; the right one shows the desktop
        # background; below the shorter right monitor there is no output at all.
        shot = self.workdir / "before.png"

        def session_on_left():
            xephyr.screenshot(shot)
            return (region_fraction(shot, (0, 0, 800, 600), parse_rgb(LEFT)) > 0.95
                    and region_fraction(shot, (800, 0, 640, 480), parse_rgb(LEFT)) < 0.05)
        wait_until(session_on_left, 45, "the session window on the left monitor only", 0.5)

        # The pointer moves onto the right monitor; a window opened now fills that monitor.
        xephyr.xdotool("mousemove", "1100", "200")
        ready = self.workdir / "right-ready.txt"
        app = Proc("right-app", [str(TEST_CLIENT), "--color", RIGHT, "--ready-out", str(ready)],
                   self.workdir / "right-app.log", env=server.wayland_env())
        self.stack.push(app.stop)
        shot = self.workdir / "after.png"

        def opened_on_right():
            xephyr.screenshot(shot)
            return (region_fraction(shot, (800, 0, 640, 480), parse_rgb(RIGHT)) > 0.95
                    and region_fraction(shot, (0, 0, 800, 600), parse_rgb(LEFT)) > 0.95)
        wait_until(opened_on_right, 45, "the new window to fill the right monitor", 0.5)
        wait_until(lambda: ready.exists() and "640x480 scale 1" in ready.read_text(), 10,
                   "the new window to be sized like the right monitor")

        # Idle costs nothing with two outputs either: once nothing changes, deskpod does not
        # wake up (a frame timer left running would wake it 60 times a second per output).
        time.sleep(1)
        before = wakeups(server.proc.pid)
        time.sleep(3)
        woke = wakeups(server.proc.pid) - before
        log(f"deskpod woke {woke} times in 3 s of idle")
        self.assertLessEqual(woke, 10, "deskpod keeps waking up while nothing changes")

    @needs_deskpod
    def test_h264_with_two_monitors_settles_on_each(self):
        # A video on the left monitor while xfreerdp /multimon takes AVC420: one encoder per
        # surface, and once it stops both monitors show the desktop's exact pixels.
        go = self.workdir / "go"
        session = (f"sh -c 'while [ ! -e {go} ]; do sleep 0.1; done; "
                   f"exec {shlex.quote(str(TEST_CLIENT))} --video 240'")
        server = self.start_server(session, size="1024x768")
        xephyr = Xephyr(self)
        client = RdpClient(self.stack, self.workdir, "client", server.rdp_port, "1440x600",
                           xvfb=xephyr, codec="none", extra=["/multimon", "/gfx:AVC420"])
        client.find_window()
        wait_until(lambda: "2 surfaces, one per monitor" in server.proc.output(), 30,
                   "the graphics pipeline to make a surface per monitor")
        self.assertIn("codec gfx planar+avc420", server.proc.output())
        go.touch()
        wait_until(lambda: "video: 240 frames drawn" in server.proc.output(), 180,
                   "the test client to draw its video")

        def tiles(kind):
            return metric_value(server.metrics(), "deskpod_rdp_gfx_tiles_total",
                                {"kind": kind}) or 0
        self.assertGreater(tiles("avc420"), 100, "the video did not go as H.264")
        wait_until(lambda: tiles("refined") > 0, 40, "the video to be refined once it stopped")
        shot, desk = self.workdir / "settled-client.png", self.workdir / "settled-desktop.png"
        boxes = ((0, 0, 800, 600), (800, 0, 640, 480))  # below the right monitor: no output
        differing = {}

        def exact():
            xephyr.screenshot(shot)
            server.capture(desk)
            differing["pixels"] = boxes_differing(shot, desk, boxes)
            return differing["pixels"] == 0
        wait_until(exact, 30, "both monitors to show the desktop's exact pixels", 0.5)
        log(f"two monitors: {tiles('avc420'):.0f} avc420 tiles, {tiles('refined'):.0f} refined")

    @needs_deskpod
    def test_desktop_scale_factor_sets_the_output_scale(self):
        events = self.workdir / "events.txt"
        ready = self.workdir / "ready.txt"
        session = (f"{shlex.quote(str(TEST_CLIENT))} --color {SCALED} "
                   f"--events-out {shlex.quote(str(events))} "
                   f"--ready-out {shlex.quote(str(ready))}")
        server = self.start_server(session, size="1280x800")
        client = RdpClient(self.stack, self.workdir, "client", server.rdp_port, "1280x800",
                           extra=["/scale-desktop:200"])
        client.find_window()

        # At 200 % the window is 640x400 in layout units and draws a buffer of 1280x800 pixels.
        wait_until(lambda: ready.exists() and "640x400 scale 2" in ready.read_text(), 45,
                   "the app to draw at scale 2")
        self.assertIn("*1280x800+0+0@2", server.proc.output())
        self.assert_client_matches_desktop(server, client, "scaled", expect_color=SCALED)

        # A click at pixel (1000, 600) is at (500, 300) in the app's own coordinates.
        env = client.xvfb.env()
        subprocess.run(["xdotool", "mousemove", "--window", client.window, "1000", "600",
                        "click", "1"], env=env, check=True, capture_output=True, timeout=10)
        wait_until(lambda: events.exists() and "button 272 pressed 500 300" in events.read_text(),
                   20, "the click to land at the app's (500, 300)")


if __name__ == "__main__":
    unittest.main(verbosity=2)
