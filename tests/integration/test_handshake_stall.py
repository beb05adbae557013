#!/usr/bin/env python3
"""A client that stalls in its RDP security handshake must not hold up anyone else.

FreeRDP 2 runs TLS and NLA synchronously inside one call; deskpod used to make that call on
its network thread, so a client that sent an X.224 connection request and went silent froze
every other RDP client and the HTTP probes for as long as it stayed connected. Here two
stallers (one silent, one silent after its connection request) stay connected while a real
`xfreerdp +auth-only` logs in and /healthz answers; the stalled handshake is then cut at its
deadline and the server keeps serving.

Uses the harness's shared deskpod and client Xvfb: needs the deskpod binary (DESKPOD_BIN),
xfreerdp and Xvfb.
"""
import shutil
import socket
import time
import unittest

import harness as H

# An X.224 Connection Request asking for TLS, CredSSP and RDSTLS: FreeRDP starts the TLS
# handshake (blocking) as soon as it has read this.
X224_REQUEST = bytes.fromhex("030000130ee000000000000100080003000000")
# Hang guards, never measured thresholds. The stallers stay connected longer than the
# xfreerdp guard, so without the fix xfreerdp cannot finish while they are there.
XFREERDP_GUARD = 60
# deskpod cuts a handshake 15 s after it starts (after any throttle delay of a few seconds).
DEADLINE_GUARD = 45


@unittest.skipUnless(H.DESKPOD_BIN.exists(), f"deskpod binary not found at {H.DESKPOD_BIN}")
@unittest.skipUnless(shutil.which("xfreerdp") and shutil.which("Xvfb"), "needs xfreerdp and Xvfb")
class HandshakeStallTest(H.SharedDeskpodTest):
    workdir_prefix = "deskpod-hs-stall-"

    def open_stallers(self) -> tuple[socket.socket, socket.socket]:
        silent = socket.create_connection(("127.0.0.1", self.server.rdp_port), 5)
        self.addCleanup(silent.close)
        stalled = socket.create_connection(("127.0.0.1", self.server.rdp_port), 5)
        self.addCleanup(stalled.close)
        stalled.sendall(X224_REQUEST)
        for sock in (silent, stalled):
            # A Python socket timeout would make still_open() wait instead of peeking.
            sock.setblocking(False)
        # Let deskpod accept both and start reading the connection request before the real
        # client arrives (no reply is expected: FreeRDP answers only after TLS starts).
        time.sleep(1.0)
        return silent, stalled

    def assert_healthy(self, what: str):
        try:
            status = H.http_get(self.server.http_port, "/healthz", 5.0)[0]
        except OSError as e:  # includes the timeout of a frozen network thread
            self.fail(f"/healthz {what} did not answer: {e!r}\n--- deskpod:\n{self.log_tail()}")
        self.assertEqual(status, 200, f"/healthz {what}")

    def assert_auth_works(self, what: str):
        name = f"{self._testMethodName}-auth-{int(time.monotonic() * 1000)}"
        code, out = H.run_auth_only(self.workdir, self.stack, name, self.server.rdp_port,
                                    H.PASSWORD, xvfb=self.xvfb, timeout=XFREERDP_GUARD)
        self.assertEqual(code, 0, f"xfreerdp +auth-only {what} failed (exit {code}):\n"
                                  f"{H.tail(out, 15)}\n--- deskpod:\n{self.log_tail()}")

    def test_login_and_health_while_handshakes_stall(self):
        silent, stalled = self.open_stallers()
        self.assert_auth_works("while two handshakes stall")
        self.assert_healthy("while two handshakes stall")
        # Otherwise the login proved nothing: it only worked because the stallers were gone.
        self.assertTrue(H.still_open(silent) and H.still_open(stalled),
                        f"a staller was disconnected before xfreerdp finished:\n{self.log_tail()}")

    def test_stalled_handshake_is_cut_and_server_keeps_serving(self):
        silent, stalled = self.open_stallers()
        H.wait_until(lambda: not H.still_open(stalled), DEADLINE_GUARD,
                     "deskpod to cut the stalled handshake")
        H.wait_until(lambda: not H.still_open(silent), 10, "deskpod to cut the silent connection")
        H.wait_until(lambda: "handshake timed out" in self.server.proc.output(), 10,
                     "a 'handshake timed out' log line")
        self.assertTrue(self.server.alive(), "deskpod died")
        # Cutting a half-done TLS handshake must leave nothing behind that breaks the next one.
        self.assert_auth_works("after a stalled handshake was cut")
        self.assert_healthy("after a stalled handshake was cut")


if __name__ == "__main__":
    unittest.main(verbosity=2)
