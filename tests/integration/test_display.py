#!/usr/bin/env python3
"""(a) A client that logs in with the right password sees the desktop: its screenshot matches the
desktop's own pixels (grim), with each codec a client may pick."""
import unittest

from harness import (IntegrationTest, RdpClient, color_fraction, image_size, needs_deskpod,
                     parse_rgb, solid_session)

COLOR = "ff3366"


class DisplayTest(IntegrationTest):
    def test_each_codec_paints_the_desktop(self):
        # Without the graphics pipeline (test_gfx.py covers it): xfreerdp 2.11 announces the
        # pipeline even with -gfx, so only the server's --rdp-gfx off leaves these codecs.
        server = self.start_server(solid_session(COLOR), extra=["--rdp-gfx", "off"])
        for codec in ("rfx", "nsc", "bitmap"):
            with self.subTest(codec=codec):
                client = self.connect(server, name=f"client-{codec}", codec=codec)
                diff = self.assert_client_matches_desktop(server, client, codec,
                                                          expect_color=COLOR)
                print(f"{codec}: client vs desktop: {diff}")
                client.proc.stop()

    def test_terminal_session_paints(self):
        # A real app with a screen full of text, not just a solid colour: a client that missed
        # the text would differ in far more than the 1% of pixels the comparison allows.
        server = self.start_server(
            "foot sh -c 'seq -w 1 4000 | paste -sd \" \" | fold -w 140; exec sleep infinity'")
        client = self.connect(server, codec="rfx")
        diff = self.assert_client_matches_desktop(server, client, "foot")
        print(f"foot: client vs desktop: {diff}")
        background = color_fraction(self.workdir / "foot-desktop.png", parse_rgb("111111"), 8) \
            if server.kind == "deskpod" else 0.0
        self.assertLess(background, 0.9, "the terminal shows too little text for this test")
        print(f"foot: {100 - background * 100:.1f}% of the desktop is not background")

    @needs_deskpod  # deskpod's sizing policy (docs/rdp.md "Desktop size")
    def test_first_client_chooses_desktop_size(self):
        server = self.start_server(solid_session(COLOR), size="1024x768")
        first = RdpClient(self.stack, self.workdir, "first", server.rdp_port, "800x600")
        first.find_window()
        # The desktop (grim) becomes 800x600, the app fills it, and the client shows it.
        self.assert_client_matches_desktop(server, first, "first", expect_color=COLOR)
        self.assertEqual(image_size(self.workdir / "first-desktop.png"), (800, 600))

    @needs_deskpod
    def test_later_client_gets_the_desktop_as_it_is(self):
        server = self.start_server(solid_session(COLOR), size="1024x768")
        first = RdpClient(self.stack, self.workdir, "first", server.rdp_port, "800x600")
        first.find_window()
        self.assert_client_matches_desktop(server, first, "first", expect_color=COLOR)
        later = RdpClient(self.stack, self.workdir, "later", server.rdp_port, "1024x768")
        later.find_window()
        self.assert_client_matches_desktop(server, later, "later", expect_color=COLOR,
                                           timeout=20)
        self.assertEqual(image_size(self.workdir / "later-client.png"), (800, 600))

if __name__ == "__main__":
    unittest.main(verbosity=2)
