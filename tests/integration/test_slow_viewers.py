#!/usr/bin/env python3
"""A viewer that stops reading costs a bounded amount of memory (one byte budget per viewer).

The hostile-client probe found a Guacamole viewer that sends `nop` but never reads growing
deskpod by about 11 MB per 8 MB desktop copy (each was queued whole, base64). Now the desktop's
clipboard goes out in chunks while that viewer's backlog is small, and only the latest copy
waits behind the one being sent. This test copies 8 MB texts in the desktop (wl-copy) 16 times
while such a viewer is connected and checks deskpod's RSS stays within a bound far below what
queueing every copy costs; then a fresh viewer gets the latest copy, and once the stalled
viewer reads again it receives at most the copy it had started plus the latest one.
"""
import base64
import os
import socket
import subprocess
import threading
import time
import unittest

import harness as H

COPY_MB = 8
COPIES = 16
# Queueing every copy costs about 11 MB each (base64 plus the pieces) = ~176 MB for 16. The
# budget allows the copy being sent, the latest one, a few MB of frames and allocator slack.
RSS_BOUND_MB = 64




def marked_text(k: int) -> bytes:
    head = f"copy {k:02d} ".encode()
    return head + b"x" * (COPY_MB * 1024 * 1024 - len(head))


@H.needs_deskpod
class SlowViewerTest(H.IntegrationTest):
    def setUp(self):
        super().setUp()
        self.guac_port = H.free_port()
        env_extra = {}
        if "ASAN_OPTIONS" in os.environ:
            # Under ASan (scripts/test --sanitize) freed memory waits in a quarantine of 256 MB
            # by default, which RSS counts: keep it small so RSS measures what deskpod holds.
            env_extra["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"] + ":quarantine_size_mb=4"
        self.server = self.start_server(
            H.solid_session("405060"),
            extra=["--guac", f"127.0.0.1:{self.guac_port}",
                   "--clipboard-limit", str(16 * 1024 * 1024)],
            env_extra=env_extra)
        self.n = 0

    def copy(self, k: int):
        """Sets the desktop clipboard to marked_text(k) (wl-copy serves it in the foreground
        until the next copy replaces it)."""
        src = self.workdir / f"copy{k}.txt"
        src.write_bytes(marked_text(k))
        proc = H.Proc(f"wl-copy-{k}", ["sh", "-c", f"exec wl-copy --foreground --type "
                                                    f"'text/plain;charset=utf-8' < {src}"],
                      self.workdir / f"wl-copy-{k}.log", env=self.server.wayland_env())
        self.stack.push(proc.stop)

    def transfers_to_guac(self) -> float:
        return H.metric_value(self.server.metrics(), "deskpod_clipboard_transfers_total",
                              {"protocol": "guac", "direction": "to_client"}) or 0

    def stalled_viewer(self) -> H.GuacWire:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", self.guac_port))
        self.addCleanup(sock.close)
        wire = H.GuacWire.__new__(H.GuacWire)
        wire.sock, wire.buf = sock, ""
        H.guac_handshake(self, wire)
        wire.until("sync")
        return wire

    def clipboards(self, wire: H.GuacWire, want: bytes, timeout: float) -> list[bytes]:
        """Reads until a clipboard stream equal to `want` arrived; returns every clipboard
        text seen on the way, in order."""
        seen, streams = [], {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ins = wire.read(deadline - time.monotonic())
            if ins is None:
                raise AssertionError("the viewer was disconnected")
            op = ins[0]
            if op == "sync":
                wire.send("sync", ins[1])
            elif op == "clipboard":
                streams[ins[1]] = []
            elif op == "blob" and ins[1] in streams:
                streams[ins[1]].append(base64.b64decode(ins[2]))
            elif op == "end" and ins[1] in streams:
                text = b"".join(streams.pop(ins[1]))
                seen.append(text)
                if text == want:
                    return seen
        raise AssertionError(f"no clipboard equal to the latest copy within {timeout}s; got "
                             f"{[t[:8] for t in seen]}")

    def test_a_viewer_that_stops_reading_keeps_memory_bounded(self):
        stalled = self.stalled_viewer()
        stop = threading.Event()

        def keep_alive():  # sends, never reads: the receive timeout never fires
            while not stop.wait(2):
                try:
                    stalled.send("nop")
                except OSError:
                    return
        threading.Thread(target=keep_alive, daemon=True).start()
        self.addCleanup(stop.set)

        pid = self.server.proc.pid
        self.copy(0)
        H.wait_until(lambda: self.transfers_to_guac() >= 1, 30, "the first copy to be read")
        time.sleep(1)
        base = H.rss_mb(pid)
        for k in range(1, COPIES + 1):
            self.copy(k)
            H.wait_until(lambda: self.transfers_to_guac() >= k + 1, 30,
                         f"copy {k} to be read for the viewer")
        peak = H.rss_mb(pid)
        print(f"deskpod RSS {base:.0f} MB after the first copy, {peak:.0f} MB after "
              f"{COPIES} more copies of {COPY_MB} MB to a viewer that does not read")
        self.assertLess(peak - base, RSS_BOUND_MB,
                        f"RSS grew {peak - base:.0f} MB for {COPIES} copies a stalled viewer never "
                        f"read (bound {RSS_BOUND_MB} MB)")
        self.assertTrue(self.server.alive())
        self.assertIn("deskpod_clipboard_coalesced_total", self.server.metrics())

        latest = marked_text(COPIES)
        # A healthy viewer joining now gets the latest copy.
        fresh = H.GuacWire(self.guac_port)
        self.addCleanup(fresh.sock.close)
        H.guac_handshake(self, fresh)
        got = self.clipboards(fresh, latest, 60)
        self.assertEqual(got[-1][:8], latest[:8])
        # The stalled viewer, reading again, gets the copy it had started and the latest one,
        # not every copy made meanwhile.
        stop.set()
        got = self.clipboards(stalled, latest, 120)
        print("the stalled viewer then received:", [t[:7].decode() for t in got])
        self.assertLessEqual(len(got), 3, "copies queued for a viewer that did not read")


if __name__ == "__main__":
    unittest.main(verbosity=2)
