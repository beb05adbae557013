#!/usr/bin/env python3
"""(a) A client that logs in with the right password sees the desktop: its screenshot matches the
desktop's own pixels (grim), with each codec a client may pick."""
import unittest

from harness import IntegrationTest, solid_session

COLOR = "ff3366"


class DisplayTest(IntegrationTest):
    def test_each_codec_paints_the_desktop(self):
        server = self.start_server(solid_session(COLOR))
        for codec in ("rfx", "nsc", "bitmap"):
            with self.subTest(codec=codec):
                client = self.connect(server, name=f"client-{codec}", codec=codec)
                diff = self.assert_client_matches_desktop(server, client, codec,
                                                          expect_color=COLOR)
                print(f"{codec}: client vs desktop: {diff}")
                client.proc.stop()

    def test_terminal_session_paints(self):
        # A real app with text on it, not just a solid colour.
        server = self.start_server("foot")
        client = self.connect(server, codec="rfx")
        diff = self.assert_client_matches_desktop(server, client, "foot")
        print(f"foot: client vs desktop: {diff}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
