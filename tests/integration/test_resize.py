#!/usr/bin/env python3
"""Display Control (MS-RDPEDISP): xfreerdp /dynamic-resolution resizing its window resizes the
desktop live, and the client then shows the desktop's pixels at the new size; another client
that is watching follows the new size too, and when it resizes its own window, the latest
layout wins and the first client follows it."""
import re
import subprocess
import time
import unittest

from harness import (IntegrationTest, RdpClient, Xvfb, image_size, needs_deskpod, solid_session,
                     wait_until)

COLOR = "33aa66"


def metric(server, name: str) -> int | None:
    m = re.search(rf"^{name}(?:{{[^}}]*}})? (\d+)", server.metrics(), re.M)
    return int(m.group(1)) if m else None


class ResizeTest(IntegrationTest):
    @needs_deskpod
    def test_window_resize_resizes_the_desktop(self):
        server = self.start_server(solid_session(COLOR), size="1024x768")
        # A screen larger than the client window, so the window can grow as well as shrink.
        xvfb = Xvfb(self.stack, self.workdir, "1600x1200", name="client-xvfb")
        client = RdpClient(self.stack, self.workdir, "client", server.rdp_port, "1024x768",
                           xvfb=xvfb, extra=["/dynamic-resolution"])
        client.find_window()
        self.assert_client_matches_desktop(server, client, "before", expect_color=COLOR)
        self.assertEqual(image_size(self.workdir / "before-desktop.png"), (1024, 768))
        watcher_xvfb = Xvfb(self.stack, self.workdir, "1600x1200", name="watcher-xvfb")
        watcher = RdpClient(self.stack, self.workdir, "watcher", server.rdp_port, "1024x768",
                            xvfb=watcher_xvfb, extra=["/dynamic-resolution"])
        watcher.find_window()

        for w, h in ((900, 600), (1200, 900)):
            with self.subTest(size=f"{w}x{h}"):
                self.resize_until(server, client, w, h)
                client.size = f"{w}x{h}"
                tag = f"at-{w}x{h}"
                self.assert_client_matches_desktop(server, client, tag, expect_color=COLOR)
                self.assertEqual(image_size(self.workdir / f"{tag}-desktop.png"), (w, h))
                self.assertEqual(image_size(self.workdir / f"{tag}-client.png"), (w, h))
                self.assert_client_matches_desktop(server, watcher, f"watcher-{tag}",
                                                   expect_color=COLOR)
                self.assertEqual(image_size(self.workdir / f"watcher-{tag}-client.png"), (w, h))
        self.assertIn("display control: client asks for 1200x900", server.proc.output())

        # The watcher resizes its window: the latest layout wins, for everybody.
        self.resize_until(server, watcher, 800, 600)
        watcher.size = client.size = "800x600"
        self.assert_client_matches_desktop(server, watcher, "watcher-800", expect_color=COLOR)
        self.assert_client_matches_desktop(server, client, "client-800", expect_color=COLOR)
        self.assertEqual(image_size(self.workdir / "client-800-client.png"), (800, 600))
        self.assertEqual(image_size(self.workdir / "client-800-desktop.png"), (800, 600))
        # ... and it stays there: neither client's window asks for another size.
        time.sleep(2)
        self.assertEqual((metric(server, "deskpod_desktop_width"),
                          metric(server, "deskpod_desktop_height")), (800, 600))

    def resize_until(self, server, client, w: int, h: int):
        env = client.xvfb.env()
        tries = [0]

        def size(width, height):
            subprocess.run(["xdotool", "windowsize", client.window, str(width), str(height)],
                           env=env, check=True, capture_output=True, timeout=10)

        def resized():
            if (metric(server, "deskpod_desktop_width"),
                    metric(server, "deskpod_desktop_height")) == (w, h):
                return True
            # xfreerdp may drop a resize (too soon after its last one, or before its display
            # channel is up); the same size again makes no new X event, so wiggle first.
            if tries[0] % 5 == 0:
                if tries[0]:
                    size(w - 2, h)
                size(w, h)
            tries[0] += 1
            return False

        wait_until(resized, 30, f"the desktop to become {w}x{h}", interval=1.0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
