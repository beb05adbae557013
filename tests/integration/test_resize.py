#!/usr/bin/env python3
"""Display Control (MS-RDPEDISP): xfreerdp /dynamic-resolution resizing its window resizes the
desktop live, and the client then shows the desktop's pixels at the new size; another client
that is watching follows the new size too, and when it resizes its own window, the latest
layout wins and the first client follows it."""
import re
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
                client.resize_window_until(server, w, h)
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
        watcher.resize_window_until(server, 800, 600)
        watcher.size = client.size = "800x600"
        self.assert_client_matches_desktop(server, watcher, "watcher-800", expect_color=COLOR)
        self.assert_client_matches_desktop(server, client, "client-800", expect_color=COLOR)
        self.assertEqual(image_size(self.workdir / "client-800-client.png"), (800, 600))
        self.assertEqual(image_size(self.workdir / "client-800-desktop.png"), (800, 600))
        # ... and it stays there: neither client's window asks for another size.
        time.sleep(2)
        self.assertEqual((metric(server, "deskpod_desktop_width"),
                          metric(server, "deskpod_desktop_height")), (800, 600))


if __name__ == "__main__":
    unittest.main(verbosity=2)
