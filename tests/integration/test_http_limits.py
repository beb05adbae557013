#!/usr/bin/env python3
"""The HTTP listener's connection limits: one source cannot starve /healthz or the web client.

deskpod keeps at most 64 HTTP connections open and at most 16 from one source (an address, or
an IPv6 /64); when all 64 are open, the one that has waited longest for a request is closed to
make room. Refusals are logged at most once a second."""
import time
import unittest

from harness import (IntegrationTest, connect_from, http_get, needs_deskpod, solid_session,
                     still_open, wait_until)


@needs_deskpod
class HttpLimitsTest(IntegrationTest):
    def open_idle(self, source, count, port):
        socks = [connect_from(source, port) for _ in range(count)]
        self.stack.push(lambda: [s.close() for s in socks])
        return socks

    def test_one_source_cannot_starve_probes(self):
        server = self.start_server(solid_session("224466"))
        flood = self.open_idle("127.0.0.2", 70, server.http_port)
        # The 17th and later connections from 127.0.0.2 are refused (closed at once).
        wait_until(lambda: sum(still_open(s) for s in flood) <= 16, 10,
                   "connections beyond 16 from one source to be closed")
        self.assertEqual(sum(still_open(s) for s in flood), 16)
        answered = [http_get(server.http_port, "/healthz")[0] for _ in range(40)]
        self.assertEqual(answered, [200] * 40, "health probes from another address failed")
        refusal_lines = [l for l in server.proc.output().splitlines()
                         if "refusing an HTTP connection" in l]
        self.assertGreaterEqual(len(refusal_lines), 1)
        self.assertLessEqual(len(refusal_lines), 3, "54 refusals should take a line or two")

    def test_a_full_listener_makes_room_for_a_probe(self):
        server = self.start_server(solid_session("224466"))
        idle = []
        for n in range(4):
            idle += self.open_idle(f"127.0.0.{3 + n}", 16, server.http_port)
        time.sleep(0.5)  # every one accepted and waiting for its request
        self.assertEqual(sum(still_open(s) for s in idle), 64)
        for _ in range(5):
            self.assertEqual(http_get(server.http_port, "/healthz")[0], 200)
        # Each probe took the place of the connection idle the longest: the oldest ones.
        closed = [i for i, s in enumerate(idle) if not still_open(s)]
        self.assertGreaterEqual(len(closed), 1)
        self.assertLessEqual(len(closed), 5)
        self.assertTrue(all(i < 16 for i in closed), f"not the oldest were closed: {closed}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
