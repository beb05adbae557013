#!/usr/bin/env python3
"""(d, e, f) Several viewers of one desktop: two at once both paint; a client killed without
goodbye can reconnect and the desktop lives on; --max-clients refuses the one too many."""
import os
import signal
import subprocess
import unittest

from harness import SERVER_KIND, IntegrationTest, RdpClient, needs_deskpod, solid_session, tail

COLOR = "33cc66"


class ClientsTest(IntegrationTest):
    def assert_healthy(self, server):
        self.assertTrue(server.alive(), f"{server.kind} died:\n{tail(server.proc.output())}")
        if SERVER_KIND == "deskpod":
            self.assertEqual(server.healthz(), 200, "/healthz")

    @needs_deskpod  # weston's RDP backend serves one client at a time
    def test_two_clients_both_paint(self):
        server = self.start_server(solid_session(COLOR))
        first = self.connect(server, name="first")
        second = self.connect(server, name="second", codec="nsc")
        self.assert_client_matches_desktop(server, first, "first", expect_color=COLOR)
        self.assert_client_matches_desktop(server, second, "second", expect_color=COLOR)
        self.assertTrue(first.proc.alive(), "the first client left when the second came")

    def test_reconnect_after_client_killed(self):
        server = self.start_server(solid_session(COLOR))
        first = self.connect(server, name="first")
        self.assert_client_matches_desktop(server, first, "first", expect_color=COLOR)
        os.kill(first.proc.pid, signal.SIGKILL)
        first.proc.wait(10)
        first.xvfb.stop()
        self.assert_healthy(server)
        again = self.connect(server, name="again")
        self.assert_client_matches_desktop(server, again, "again", expect_color=COLOR)
        self.assert_healthy(server)

    @needs_deskpod
    def test_max_clients_refuses_one_too_many(self):
        server = self.start_server(solid_session(COLOR), extra=["--max-clients", "1"])
        first = self.connect(server, name="first")
        self.assert_client_matches_desktop(server, first, "first", expect_color=COLOR)
        extra = RdpClient(self.stack, self.workdir, "extra", server.rdp_port, server.size)
        try:
            code = extra.proc.wait(60)
        except subprocess.TimeoutExpired:
            extra.screenshot(self.workdir / "extra-client.png")
            self.fail("the client over --max-clients 1 is still connected after 60s (screenshot "
                      "extra-client.png)\n--- deskpod:\n" + tail(server.proc.output()))
        self.assertNotEqual(code, 0, "the refused client exited 0")
        self.assertTrue(first.proc.alive(), "the first client was dropped")
        self.assert_client_matches_desktop(server, first, "first-after", expect_color=COLOR)
        self.assert_healthy(server)


if __name__ == "__main__":
    unittest.main(verbosity=2)
