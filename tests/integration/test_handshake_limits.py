#!/usr/bin/env python3
"""One source address cannot take every RDP handshake slot.

deskpod runs each connection's TLS/NLA on a thread of its own, for at most 15 s, and allows 16
connections in their handshake at once. Without a per-address limit, 16 silent connections
from one address fill every slot, and nobody else can log in for 15 s at a time, again and
again. Since the limit, one source address may hold 4 slots; more connections from it are
closed at accept.

Every test here opens silent TCP connections ("stallers") from extra loopback addresses
(127.0.0.3 and up: Linux routes all of 127/8 to lo, so each acts as a distinct client), while
the real xfreerdp connects from 127.0.0.1 as usual. Needs the deskpod binary (DESKPOD_BIN),
xfreerdp and Xvfb.
"""
import shutil
import socket
import unittest

import harness as H

PER_ADDRESS = 4   # kMaxHandshakesPerSource in rdp-bridge/rdp_server.cpp
TOTAL = 16        # kMaxHandshakes
# Hang guard for "closed at once": below the 15 s handshake deadline, so a connection cut at
# its deadline cannot pass for one refused at accept. Not a measured threshold.
REFUSED_GUARD = 10


@unittest.skipUnless(H.DESKPOD_BIN.exists(), f"deskpod binary not found at {H.DESKPOD_BIN}")
@unittest.skipUnless(shutil.which("xfreerdp") and shutil.which("Xvfb"), "needs xfreerdp and Xvfb")
class HandshakeLimitsTest(H.SharedDeskpodTest):
    workdir_prefix = "deskpod-hs-limits-"

    def setUp(self):
        # Every test starts with no handshake in progress (the previous test's stallers are
        # closed by then, and the server has noticed).
        self.wait_handshakes(0)
        self.auth_runs = 0

    # ---- helpers ---------------------------------------------------------------------------

    def metric(self, name: str, **labels) -> float:
        value = H.metric_value(self.server.metrics(), name, labels)
        self.assertIsNotNone(value, f"/metrics has no {name}{labels}")
        return value

    def refused(self, reason: str) -> float:
        return self.metric("deskpod_rdp_handshakes_refused_total", reason=reason)

    def wait_handshakes(self, n: int):
        H.wait_until(lambda: self.metric("deskpod_rdp_handshakes") == n, 30,
                     f"deskpod_rdp_handshakes to be {n}")

    def stallers(self, source: str, count: int) -> list[socket.socket]:
        socks = []
        for _ in range(count):
            sock = H.connect_from(source, self.server.rdp_port)
            self.addCleanup(sock.close)
            socks.append(sock)
        return socks

    def open_count(self, socks) -> int:
        return sum(1 for s in socks if H.still_open(s))

    def wait_open_count(self, socks, n: int, what: str):
        H.wait_until(lambda: self.open_count(socks) == n, REFUSED_GUARD,
                     f"{what} ({self.open_count(socks)} of {len(socks)} open)")

    def assert_login_works(self, what: str):
        self.auth_runs += 1
        name = f"{self._testMethodName}-auth{self.auth_runs}"
        code, out = H.run_auth_only(self.workdir, self.stack, name, self.server.rdp_port,
                                    H.PASSWORD, xvfb=self.xvfb)
        self.assertEqual(code, 0, f"xfreerdp +auth-only {what} failed (exit {code}):\n"
                                  f"{H.tail(out, 15)}\n--- deskpod:\n{self.log_tail()}")

    # ---- tests -----------------------------------------------------------------------------

    def test_one_address_cannot_lock_out_everybody(self):
        refused_before = self.refused("per_address")
        # As many as there are slots in all: before the per-address limit this locked every
        # other client out until the handshake deadline.
        flood = self.stallers("127.0.0.3", TOTAL)
        self.wait_open_count(flood, PER_ADDRESS,
                             f"deskpod to close all but {PER_ADDRESS} of {TOTAL} connections "
                             "from one address at once")
        # Another address still gets slots of its own.
        other = self.stallers("127.0.0.4", 2)
        self.wait_handshakes(PER_ADDRESS + 2)
        self.assertEqual(self.open_count(other), 2, f"127.0.0.4 was refused:\n{self.log_tail()}")

        self.assert_login_works("from 127.0.0.1 while 127.0.0.3 floods the handshake slots")

        # The login proved something only if the stallers held their slots throughout.
        self.assertEqual(self.open_count(flood), PER_ADDRESS,
                         f"127.0.0.3's remaining stallers were cut:\n{self.log_tail()}")
        self.assertEqual(self.open_count(other), 2, "127.0.0.4's stallers were cut")
        self.assertEqual(self.refused("per_address") - refused_before, TOTAL - PER_ADDRESS)
        log = self.server.proc.output()
        self.assertIn("refusing 127.0.0.3:", log)
        self.assertIn(f"connections from 127.0.0.3 are already in their handshake (limit "
                      f"{PER_ADDRESS} per address)", log)
        self.assertIsNone(self.server.proc.popen.poll(), "deskpod died")

    def test_slots_come_back_when_connections_go(self):
        first = self.stallers("127.0.0.5", PER_ADDRESS)
        self.wait_handshakes(PER_ADDRESS)
        for sock in first:
            sock.close()
        # The server notices the closes (end of file in the handshake) and frees the slots.
        self.wait_handshakes(0)
        refused_before = self.refused("per_address")
        again = self.stallers("127.0.0.5", PER_ADDRESS + 1)
        self.wait_open_count(again, PER_ADDRESS, "the address's extra connection to be closed")
        self.wait_handshakes(PER_ADDRESS)
        self.assertEqual(self.refused("per_address") - refused_before, 1)

    def test_total_limit_still_applies(self):
        refused_before = self.refused("total")
        held = []
        for i in range(TOTAL // PER_ADDRESS):
            held += self.stallers(f"127.0.0.{10 + i}", PER_ADDRESS)
        self.wait_handshakes(TOTAL)
        late = self.stallers("127.0.0.30", 1)
        self.wait_open_count(late, 0, "the connection beyond the total limit to be closed")
        self.assertEqual(self.refused("total") - refused_before, 1)
        self.assertEqual(self.open_count(held), TOTAL)
        for sock in held:
            sock.close()
        self.wait_handshakes(0)
        self.assert_login_works("once the slots are free again")


if __name__ == "__main__":
    unittest.main(verbosity=2)
