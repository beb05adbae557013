#!/usr/bin/env python3
"""A client that stalls in its RDP security handshake must not hold up anyone else.

FreeRDP 2 runs TLS and NLA synchronously inside one call; deskpod used to make that call on
its network thread, so a client that sent an X.224 connection request and went silent froze
every other RDP client and the HTTP probes for as long as it stayed connected. Here two
stallers (one silent, one silent after its connection request) stay connected while a real
`xfreerdp +auth-only` logs in and /healthz answers; the stalled handshake is then cut at its
deadline and the server keeps serving.

Uses only the standard library and harness.py's small helpers: needs the deskpod binary (DESKPOD_BIN, default build/deskpod),
xfreerdp and Xvfb.
"""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from harness import free_port, http_get, still_open, wait_until

HERE = Path(__file__).resolve().parent
SOURCE_ROOT = Path(os.environ.get("DESKPOD_SOURCE_ROOT", HERE.parent.parent))
DESKPOD_BIN = Path(os.environ.get("DESKPOD_BIN", SOURCE_ROOT / "build" / "deskpod"))
USER = "deskpod"
PASSWORD = "St4ll-test-pw"
# An X.224 Connection Request asking for TLS, CredSSP and RDSTLS: FreeRDP starts the TLS
# handshake (blocking) as soon as it has read this.
X224_REQUEST = bytes.fromhex("030000130ee000000000000100080003000000")
# Hang guards, never measured thresholds. The stallers stay connected longer than the
# xfreerdp guard, so without the fix xfreerdp cannot finish while they are there.
XFREERDP_GUARD = 60
# deskpod cuts a handshake 15 s after it starts (after any throttle delay of a few seconds).
DEADLINE_GUARD = 45


def stop_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Ends a child started with start_new_session=True, and everything it started."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@unittest.skipUnless(DESKPOD_BIN.exists(), f"deskpod binary not found at {DESKPOD_BIN}")
@unittest.skipUnless(shutil.which("xfreerdp") and shutil.which("Xvfb"), "needs xfreerdp and Xvfb")
class HandshakeStallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = Path(tempfile.mkdtemp(prefix="deskpod-hs-stall-"))
        cls.addClassCleanup(shutil.rmtree, cls.workdir, ignore_errors=True)
        cls.display = cls._start_xvfb()
        runtime = cls.workdir / "runtime"
        runtime.mkdir(mode=0o700)
        (cls.workdir / "home").mkdir()
        cls.rdp_port, cls.http_port = free_port(), free_port()
        env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), DESKPOD_PASSWORD=PASSWORD)
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("DISPLAY", None)
        cls.deskpod_log = cls.workdir / "deskpod.log"
        with open(cls.deskpod_log, "wb") as out:
            cls.deskpod = subprocess.Popen(
                [str(DESKPOD_BIN), "--rdp", f"127.0.0.1:{cls.rdp_port}",
                 "--http", f"127.0.0.1:{cls.http_port}", "--guac", "off", "--size", "1024x768",
                 "--state-dir", str(cls.workdir / "state"), "--no-xwayland",
                 "--session", "sleep infinity"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)
        cls.addClassCleanup(stop_group, cls.deskpod)

        def ready():
            assert cls.deskpod.poll() is None, f"deskpod exited:\n{cls.log_tail()}"
            return http_get(cls.http_port, "/healthz", 1.0)[0] == 200

        wait_until(ready, 60, "deskpod /healthz")
        # The RDP listener is bound before /healthz answers; this only guards against surprises.
        socket.create_connection(("127.0.0.1", cls.rdp_port), 5).close()

    @classmethod
    def _start_xvfb(cls) -> str:
        # -displayfd: Xvfb picks a free display itself and reports it, so parallel tests never
        # race for a number.
        read_fd, write_fd = os.pipe()
        xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
            pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(write_fd)
        cls.addClassCleanup(stop_group, xvfb)
        with os.fdopen(read_fd, "rb") as reader:
            number = reader.readline().strip()  # blocks until Xvfb is ready, or EOF if it died
        if not number:
            raise AssertionError(f"Xvfb did not start (exit {xvfb.poll()})")
        return f":{number.decode()}"

    @classmethod
    def log_tail(cls, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(cls.deskpod_log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def open_stallers(self) -> tuple[socket.socket, socket.socket]:
        silent = socket.create_connection(("127.0.0.1", self.rdp_port), 5)
        self.addCleanup(silent.close)
        stalled = socket.create_connection(("127.0.0.1", self.rdp_port), 5)
        self.addCleanup(stalled.close)
        stalled.sendall(X224_REQUEST)
        for sock in (silent, stalled):
            # A Python socket timeout would make still_open() wait instead of peeking.
            sock.setblocking(False)
        # Let deskpod accept both and start reading the connection request before the real
        # client arrives (no reply is expected: FreeRDP answers only after TLS starts).
        time.sleep(1.0)
        return silent, stalled

    def auth_only(self, password: str) -> tuple[int, str]:
        env = dict(os.environ, DISPLAY=self.display, HOME=str(self.workdir / "home"))
        env.pop("WAYLAND_DISPLAY", None)
        proc = subprocess.Popen(
            ["xfreerdp", "+auth-only", f"/v:127.0.0.1:{self.rdp_port}", f"/u:{USER}",
             f"/p:{password}", "/cert:ignore", "/sec:nla"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
        self.addCleanup(stop_group, proc, 2.0)
        try:
            out, _ = proc.communicate(timeout=XFREERDP_GUARD)
        except subprocess.TimeoutExpired:
            stop_group(proc, 2.0)
            out, _ = proc.communicate()
            return -1, f"(killed after {XFREERDP_GUARD}s)\n" + out.decode(errors="replace")
        return proc.returncode, out.decode(errors="replace")

    def assert_healthy(self, what: str):
        try:
            status = http_get(self.http_port, "/healthz", 5.0)[0]
        except OSError as e:  # includes the timeout of a frozen network thread
            self.fail(f"/healthz {what} did not answer: {e!r}\n--- deskpod:\n{self.log_tail()}")
        self.assertEqual(status, 200, f"/healthz {what}")

    def assert_auth_works(self, what: str):
        code, out = self.auth_only(PASSWORD)
        tail = "\n".join(out.splitlines()[-15:])
        self.assertEqual(code, 0, f"xfreerdp +auth-only {what} failed (exit {code}):\n{tail}\n"
                                  f"--- deskpod:\n{self.log_tail()}")

    def test_login_and_health_while_handshakes_stall(self):
        silent, stalled = self.open_stallers()
        self.assert_auth_works("while two handshakes stall")
        self.assert_healthy("while two handshakes stall")
        # Otherwise the login proved nothing: it only worked because the stallers were gone.
        self.assertTrue(still_open(silent) and still_open(stalled),
                        f"a staller was disconnected before xfreerdp finished:\n{self.log_tail()}")

    def test_stalled_handshake_is_cut_and_server_keeps_serving(self):
        silent, stalled = self.open_stallers()
        wait_until(lambda: not still_open(stalled), DEADLINE_GUARD,
                   "deskpod to cut the stalled handshake")
        wait_until(lambda: not still_open(silent), 10, "deskpod to cut the silent connection")
        wait_until(lambda: "handshake timed out" in self.deskpod_log.read_text(errors="replace"),
                   10, "a 'handshake timed out' log line")
        self.assertIsNone(self.deskpod.poll(), "deskpod died")
        # Cutting a half-done TLS handshake must leave nothing behind that breaks the next one.
        self.assert_auth_works("after a stalled handshake was cut")
        self.assert_healthy("after a stalled handshake was cut")


if __name__ == "__main__":
    unittest.main(verbosity=2)
