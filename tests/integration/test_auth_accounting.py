#!/usr/bin/env python3
"""What counts as a failed RDP login (issue: a dropped handshake counted as one, and then
locked the right password out).

Only credentials that NTLM checked and found wrong count: a wrong password or an unknown user
raise deskpod_auth_failures_total{protocol="rdp"} by one each and are logged as what they were.
Right-password clients killed at any point of their handshake, junk bytes and port probes count
nothing, so the next right-password login is neither delayed nor refused. A connection that
waits out a throttle delay gives its handshake slot back as soon as its client hangs up.
"""
import random
import re
import signal
import socket
import time
import unittest

import harness as H

PER_ADDRESS = 4  # kMaxHandshakesPerSource in rdp-bridge/rdp/server.cpp


@H.needs_deskpod
class AuthAccountingTest(H.IntegrationTest):
    def setUp(self):
        super().setUp()
        self.server = self.start_server(H.solid_session("3366ff"))
        self.runs = 0

    def failures(self) -> float:
        value = H.metric_value(self.server.metrics(), "deskpod_auth_failures_total",
                               {"protocol": "rdp"})
        self.assertIsNotNone(value, "/metrics has no deskpod_auth_failures_total{protocol=rdp}")
        return value

    def handshakes(self) -> float:
        return H.metric_value(self.server.metrics(), "deskpod_rdp_handshakes")

    def auth(self, password: str, user: str = H.USER) -> tuple[int, str]:
        self.runs += 1
        return H.run_auth_only(self.workdir, self.stack, f"auth{self.runs}", self.server.rdp_port,
                               password, user=user)

    def wait_log(self, pattern: str, what: str) -> str:
        rx = re.compile(pattern)
        found = []
        H.wait_until(lambda: found.extend(l for l in self.server.proc.output().splitlines()
                                          if rx.search(l)) or found, 10,
                     f"deskpod to log {what}")
        return found[0]

    def xfreerdp_killed_after(self, seconds: float, xvfb: H.Xvfb):
        """A right-password xfreerdp +auth-only, SIGKILLed `seconds` after it started."""
        self.runs += 1
        name = f"killed{self.runs}"
        env = xvfb.env()
        env["HOME"] = str(self.workdir / f"{name}-home")
        (self.workdir / f"{name}-home").mkdir(exist_ok=True)
        proc = H.Proc(name, ["xfreerdp", "+auth-only", f"/v:127.0.0.1:{self.server.rdp_port}",
                             f"/u:{H.USER}", f"/p:{H.PASSWORD}", "/cert:ignore", "/sec:nla"],
                      self.workdir / f"{name}.log", env=env)
        self.stack.push(proc.stop)
        time.sleep(seconds)
        if proc.alive():
            proc.signal(signal.SIGKILL)
        proc.wait(10)

    # ---- tests -----------------------------------------------------------------------------

    def test_wrong_password_and_unknown_user_count_once_each(self):
        code, out = self.auth("not-the-password")
        self.assertNotEqual(code, 0, f"a wrong password logged in:\n{H.tail(out)}")
        line = self.wait_log(r"authentication failed from 127\.0\.0\.1.*wrong password for "
                             r"user '" + re.escape(H.USER) + "'", "the wrong password")
        print("deskpod logged:", line)
        H.wait_until(lambda: self.failures() == 1, 10, "one counted failure")
        code, out = self.auth(H.PASSWORD, user="intruder")
        self.assertNotEqual(code, 0, f"an unknown user logged in:\n{H.tail(out)}")
        line = self.wait_log(r"authentication failed from 127\.0\.0\.1.*unknown user 'intruder'",
                             "the unknown user")
        print("deskpod logged:", line)
        H.wait_until(lambda: self.failures() == 2, 10, "two counted failures")
        # Still the right password works (after the throttle's delay).
        code, out = self.auth(H.PASSWORD)
        self.assertEqual(code, 0, f"the right password was refused:\n{H.tail(out)}\n"
                                  f"--- deskpod:\n{H.tail(self.server.proc.output())}")

    def test_dropped_handshakes_and_junk_are_not_failed_logins(self):
        xvfb = H.Xvfb(self.stack, self.workdir, "640x480", name="killed-xvfb")
        rng = random.Random(17)
        # Right-password clients killed at points spread over the whole handshake (TCP, X.224,
        # TLS, the NTLM exchange, the credentials): 0.05-0.6 s here.
        for _ in range(12):
            self.xfreerdp_killed_after(rng.uniform(0.05, 0.6), xvfb)
        # Junk and probes: random bytes, a truncated X.224 request, a bare connect.
        for k in range(30):
            with socket.create_connection(("127.0.0.1", self.server.rdp_port), timeout=5) as s:
                if k % 3 == 0:
                    s.sendall(rng.randbytes(rng.randint(1, 300)))
                elif k % 3 == 1:
                    s.sendall(bytes.fromhex("0300002b26e00000000000436f6f6b69653a"))
                time.sleep(0.02)
        H.wait_until(lambda: self.handshakes() == 0, 30, "every handshake to end")
        self.assertEqual(self.failures(), 0,
                         "dropped handshakes or junk counted as failed logins:\n"
                         + H.tail(self.server.proc.output(), 40))
        log = self.server.proc.output()
        self.assertNotIn("authentication failed", log)
        self.assertNotIn("handshake delayed", log)
        # The log says what happened instead.
        self.assertRegex(log, r"closed by the client|malformed or not accepted")
        start = time.monotonic()
        code, out = self.auth(H.PASSWORD)
        self.assertEqual(code, 0, f"the right password was refused after dropped handshakes:\n"
                                  f"{H.tail(out)}\n--- deskpod:\n{H.tail(self.server.proc.output())}")
        print(f"right-password login after {12} killed clients and 30 junk connections: "
              f"{time.monotonic() - start:.1f} s")

    def test_delayed_connections_free_their_slot_when_the_client_leaves(self):
        # Five wrong passwords: the next connections from 127.0.0.1 wait 16 s before their
        # handshake starts (1, 2, 4, 8, 16 s after 1 to 5 failures).
        for _ in range(5):
            code, _ = self.auth("not-the-password")
            self.assertNotEqual(code, 0)
        H.wait_until(lambda: self.failures() == 5, 60, "five counted failures")
        socks = [H.connect_from("127.0.0.1", self.server.rdp_port) for _ in range(PER_ADDRESS)]
        for s in socks:
            self.addCleanup(s.close)
        # Each sends its connection request, as a real client does, then waits.
        for s in socks:
            s.setblocking(True)
            s.sendall(bytes.fromhex("030000130ee000000000000100080003000000"))
        H.wait_until(lambda: self.handshakes() == PER_ADDRESS, 10,
                     f"{PER_ADDRESS} delayed connections to hold their slots")
        closed_at = time.monotonic()
        for s in socks:
            s.close()
        # The slots come back when the sockets close, not when the 16 s delay ends (the guard
        # below is half of it: a hang guard, not a measured threshold).
        H.wait_until(lambda: self.handshakes() == 0, 8,
                     "the delayed connections' slots to come back after their clients left")
        print(f"slots back {time.monotonic() - closed_at:.2f} s after the clients left")
        self.wait_log(r"closed by the client while its handshake was delayed",
                      "why the delayed connections ended")
        # The right password still gets in (after the throttle's delay, no refusal).
        code, out = self.auth(H.PASSWORD)
        self.assertEqual(code, 0, f"the right password was refused:\n{H.tail(out)}\n"
                                  f"--- deskpod:\n{H.tail(self.server.proc.output())}")
        self.assertEqual(self.failures(), 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
