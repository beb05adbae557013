#!/usr/bin/env python3
"""An RDP client that stops reading costs deskpod a bounded amount of memory, and other viewers
keep painting.

xfreerdp cannot be made to stop reading its socket, so tests/clients/deskpod-stalled-rdp-client
(FreeRDP 2's client library) does it: it logs in with NLA, opens the clipboard channel, stops
reading, and keeps sending. While its socket is full deskpod holds only the answer to its latest
clipboard request (RdpCliprdr's held response) and only the latest cursor (RdpPeer's pending
pointer), instead of queueing every answer and every cursor in FreeRDP's output buffer, which
grows without limit. Two phases, each with its own bound on deskpod's RSS:

- clipboard: the desktop holds 8 MiB of text (16 MiB as CF_UNICODETEXT); the client asks for
  it 16 times, each request sent once deskpod has read the desktop's answer to the previous
  one. Queueing every answer costs 16 x 16 MiB = 256 MiB. (Under ASan: 1 MiB asked for 32
  times, 64 MiB; see COPY_MB for why.)
- cursor: the session (deskpod-test-client --cursors) shows a different 96x96 cursor over each
  half of its window; the client moves the mouse between the halves 3,000 times. Queueing every
  cursor costs ~37 KiB each, ~110 MiB.

Meanwhile a healthy xfreerdp viewer keeps painting: after each phase a new window in a new
colour appears and the viewer shows it, matching the desktop.
"""
import os
import time
import unittest

import harness as H

UNDER_ASAN = "ASAN_OPTIONS" in os.environ
# Under ASan the clipboard is smaller and asked for more often. FreeRDP grows its output buffer
# (a ring buffer) by exactly each write, one realloc per ~1.6 KB channel chunk; glibc's realloc
# of a large block remaps its pages, ASan's allocates and copies every time, so buffering one
# 16 MiB answer costs ~10,000 copies of ~8 MiB and holds the network thread for minutes
# (measured with gdb: ringbuffer_write -> asan_realloc). 1 MiB keeps that to about a second.
COPY_MB = 1 if UNDER_ASAN else 8
REQUESTS = 32 if UNDER_ASAN else 16
MOVES = 3000
MOVE_INTERVAL_MS = 2
# With the guards: the first answer sits in FreeRDP's output buffer (2 x COPY_MB), one more is
# held, and the desktop's text and its conversion come and go: about 5 x COPY_MB, plus
# allocator slack. Without them: REQUESTS x 2 x COPY_MB, 256 MiB (measured: see
# docs/security.md), or 64 MiB under ASan.
CLIPBOARD_RSS_BOUND_MB = 32 if UNDER_ASAN else 96
# With the guard: a flag. Without it: ~37 KiB per cursor change (measured: ~90 MiB).
CURSOR_RSS_BOUND_MB = 24
# The cursor phase must have changed the cursor often enough that queueing them all would
# exceed its bound (24 MiB / 37 KiB = ~660 changes).
MIN_CURSOR_CHANGES = 1500




@H.needs_deskpod
class StalledRdpClientTest(H.IntegrationTest):
    def setUp(self):
        super().setUp()
        self.events = self.workdir / "cursor-events.txt"
        env_extra = {}
        if UNDER_ASAN:
            # Under ASan freed memory waits in a 256 MB quarantine by default, which RSS
            # counts: keep it small so RSS measures what deskpod holds.
            env_extra["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"] + ":quarantine_size_mb=4"
        session = (f"{H.config.TEST_CLIENT} --color 405060 --cursors "
                   f"--events-out {self.events}")
        self.server = self.start_server(session, extra=["--clipboard-limit",
                                                        str(32 * 1024 * 1024)],
                                        env_extra=env_extra)
        self.viewer = self.connect(self.server, "viewer")
        self.assert_client_matches_desktop(self.server, self.viewer, "connected",
                                           expect_color="405060")
        self.windows = 0

    def copy_to_desktop(self):
        """wl-copy serves 8 MiB of text as the desktop clipboard until the test ends."""
        src = self.workdir / "big.txt"
        src.write_bytes(b"stalled " + b"x" * (COPY_MB * 1024 * 1024 - 8))
        proc = H.Proc("wl-copy", ["sh", "-c", "exec wl-copy --foreground --type "
                                              f"'text/plain;charset=utf-8' < {src}"],
                      self.workdir / "wl-copy.log", env=self.server.wayland_env())
        self.stack.push(proc.stop)

    def answers_read(self) -> float:
        """Desktop clipboard reads done for RDP clients (the stalled one is the only reader)."""
        try:
            metrics = self.server.metrics()
        except OSError as e:  # socket.timeout included
            raise AssertionError(f"deskpod's /metrics did not answer ({e}): its network "
                                 "thread is held, e.g. by a write waiting for the stalled "
                                 "client") from None
        return H.metric_value(metrics, "deskpod_clipboard_transfers_total",
                              {"protocol": "rdp", "direction": "to_client"}) or 0

    def cursor_changes(self) -> int:
        if not self.events.exists():
            return 0
        return sum(1 for line in self.events.read_text().splitlines()
                   if line.startswith("cursor "))

    def viewer_paints_new_window(self, color: str):
        """A new window in `color` covers the desktop (and changes the cursor like the first);
        the healthy viewer must show it."""
        self.windows += 1
        proc = H.Proc(f"window-{self.windows}", [H.config.TEST_CLIENT, "--color", color,
                                                 "--cursors", "--events-out", self.events],
                      self.workdir / f"window-{self.windows}.log", env=self.server.wayland_env())
        self.stack.push(proc.stop)
        self.assert_client_matches_desktop(self.server, self.viewer, f"window-{self.windows}",
                                           expect_color=color)

    def test_a_client_that_stops_reading_keeps_memory_bounded(self):
        self.copy_to_desktop()
        stalled = H.StalledRdpClient(self.stack, self.workdir, "stalled", self.server.rdp_port)
        pid = self.server.proc.pid

        # Clipboard: one request at a time, the next once deskpod has read the desktop's answer
        # to this one (and answered, or held the answer).
        base = H.rss_mb(pid)
        for k in range(1, REQUESTS + 1):
            stalled.command("clip 1")
            H.wait_until(lambda: self.answers_read() >= k, 60,
                         f"deskpod to read the desktop clipboard for request {k}")
        time.sleep(1)  # the last answer reaches FreeRDP's output buffer, if it is queued
        after_clipboard = H.rss_mb(pid)
        print(f"deskpod RSS {base:.0f} MB before, {after_clipboard:.0f} MB after {REQUESTS} "
              f"requests for {COPY_MB * 2} MiB answers from a client that does not read")
        self.assertTrue(self.server.alive(), "deskpod exited")
        self.assertLess(after_clipboard - base, CLIPBOARD_RSS_BOUND_MB,
                        f"RSS grew {after_clipboard - base:.0f} MB for {REQUESTS} clipboard "
                        f"answers a stalled client never read (bound {CLIPBOARD_RSS_BOUND_MB} MB)")
        self.viewer_paints_new_window("22aa44")

        # Cursor: every move crosses the window's middle, so every move changes the cursor.
        before = H.rss_mb(pid)
        changes_before = self.cursor_changes()
        stalled.command(f"move {MOVES} {MOVE_INTERVAL_MS}")
        stalled.wait_for(f"sent move {MOVES}", 120)
        # The moves are handled once the session's count of cursor changes stops growing.
        last = [-1]

        def settled():
            n = self.cursor_changes()
            done = n == last[0]
            last[0] = n
            return done
        H.wait_until(settled, 60, "the cursor changes to settle", interval=1.0)
        changes = self.cursor_changes() - changes_before
        after_cursor = H.rss_mb(pid)
        print(f"deskpod RSS {before:.0f} MB before, {after_cursor:.0f} MB after {changes} "
              "cursor changes a client that does not read never received")
        self.assertGreaterEqual(changes, MIN_CURSOR_CHANGES,
                                "too few cursor changes to tell a bounded deskpod from one "
                                "that queues them")
        self.assertLess(after_cursor - before, CURSOR_RSS_BOUND_MB,
                        f"RSS grew {after_cursor - before:.0f} MB for {changes} cursor changes a "
                        f"stalled client never read (bound {CURSOR_RSS_BOUND_MB} MB)")
        self.assertTrue(stalled.proc.alive(), "the stalled client was disconnected")
        self.viewer_paints_new_window("aa6622")
        self.assertEqual(self.server.healthz(), 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
