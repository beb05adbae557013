#!/usr/bin/env python3
"""deskpod where guacd stands: (a) guacamole-lite + guacamole-common-js in headless Chromium,
pointed at deskpod's --guac port, paint the desktop's real pixels; (b) a raw guacd-protocol
client: the 1.5.0 handshake, a 1.0.0 client, malformed input answered with `error`, and keys
typed as keysyms reaching an app."""
import os
import shlex
import subprocess
import json
import time
import unittest

from harness import (NODE_MODULES, TEST_CLIENT, Browser, GuacWire, IntegrationTest, Proc,
                     browser_missing, free_port, guac_handshake, image_size, needs_deskpod,
                     raw_rgb, wait_picture_matches, wait_until)
from harness.guac_canvas import GuacCanvas

BALL = TEST_CLIENT.parent / "deskpod-ball"

JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


class GuacTest(IntegrationTest):
    def start(self, session: str, size: str = "1024x768"):
        self.guac_port = free_port()
        return self.start_server(session, size=size,
                                 extra=["--guac", f"127.0.0.1:{self.guac_port}"])

    def test_raw_protocol_handshake_frames_keys_and_errors(self):
        keys = self.workdir / "keys.txt"
        events = self.workdir / "events.txt"
        server = self.start(
            f"{shlex.quote(str(TEST_CLIENT))} --color 446688 --keys-out {shlex.quote(str(keys))}"
            f" --events-out {shlex.quote(str(events))}")
        wire = GuacWire(self.guac_port)
        connection_id = guac_handshake(self, wire)
        # The first frame: the layer size, images, and a sync the client acknowledges.
        seen = {}
        wire.until("sync", on_each=lambda i: seen.setdefault(i[0], i))
        self.assertIn("img", seen)
        self.assertEqual(seen["size"][1], "0")
        # Keysyms typed through the keymap reach the app ("Hi!" needs shift), once it has the
        # keyboard (the first frame can come before the app's window is mapped and focused).
        wait_until(lambda: events.exists() and "keyboard enter" in events.read_text(), 20,
                   "the app to get keyboard focus")
        for ch in "Hi!":
            wire.send("key", ord(ch), 1)
            wire.send("key", ord(ch), 0)
        wait_until(lambda: keys.exists() and "Hi!" in keys.read_text(), 20, "typed keysyms")

        # A second user joins read-only by connection id; its keys are ignored.
        joiner = GuacWire(self.guac_port)
        joiner.send("select", connection_id)
        args = joiner.read()
        self.assertEqual(args[0], "args")
        names = args[2:]
        values = ["true" if n == "read-only" else "" for n in names]
        joiner.send("size", 640, 480, 96)
        joiner.send("image", "image/png")
        joiner.send("connect", "VERSION_1_5_0", *values)
        self.assertEqual(joiner.read()[0], "ready")
        joiner.until("sync")
        joiner.send("key", ord("x"), 1)
        joiner.send("key", ord("x"), 0)
        time.sleep(1)
        self.assertNotIn("x", keys.read_text())

        # A 1.0.0 client (fixed order, no version in connect) is served too.
        old = GuacWire(self.guac_port)
        old.send("select", "vnc")
        old.read()
        old.send("size", 640, 480)
        old.send("audio")
        old.send("video")
        old.send("image", "image/png")
        old.send("connect", "", "localhost")
        self.assertEqual(old.read()[0], "ready")
        old.until("sync")

        # Malformed input: an `error` instruction, then the connection closes.
        bad = GuacWire(self.guac_port)
        bad.sock.sendall(b"6.select,3.rdp;x.nope;")
        self.assertEqual(bad.read()[0], "args")
        err = bad.read()
        self.assertEqual(err[0], "error")
        self.assertEqual(err[2], str(0x300))
        self.assertIsNone(bad.read(5))
        # A join of an unknown id is refused like guacd does.
        unknown = GuacWire(self.guac_port)
        unknown.send("select", "$00000000-0000-4000-8000-000000000000")
        err = unknown.read()
        self.assertEqual(err[0], "error")
        self.assertEqual(err[2], str(0x204))
        self.assertIn('deskpod_clients_connected{protocol="guac"} 3', server.metrics())

    def replay_until_quiet(self, wire: GuacWire, canvas: GuacCanvas, quiet: float = 1.5,
                           timeout: float = 30):
        """Applies every instruction to `canvas` (acknowledging each `sync`) until nothing has
        arrived for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            self.assertLess(time.monotonic(), deadline, "the display never settled")
            try:
                ins = wire.read(0.2)
            except TimeoutError:
                continue
            self.assertIsNotNone(ins, "deskpod closed the connection")
            last = time.monotonic()
            canvas.apply(ins)
            if ins[0] == "sync":
                wire.send("sync", ins[1])

    def assert_canvas_is_desktop(self, server, canvas: GuacCanvas, tag: str):
        desktop = server.capture(self.workdir / f"{tag}-desktop.png")
        dw, dh, want = raw_rgb(desktop)
        w, h, got = canvas.picture()
        self.assertEqual((w, h), (dw, dh))
        if got != want:
            (self.workdir / f"{tag}-viewer.ppm").write_bytes(f"P6 {w} {h} 255\n".encode() + got)
            bad = sum(1 for i in range(0, len(got), 3) if got[i:i + 3] != want[i:i + 3])
            self.fail(f"{tag}: {bad} of {w * h} pixels differ between the viewer's picture "
                      f"and grim's (both kept in {self.workdir})")

    @needs_deskpod
    @unittest.skipUnless(BALL.exists(), f"{BALL} not built (needs libx11-dev)")
    def test_replayed_viewer_equals_the_desktop_exactly(self):
        """A viewer that decodes and draws every instruction ends up with the desktop's exact
        pixels: a ball moving through Xwayland (copies from off-screen buffers), then a
        terminal scrolling (copies within the layer)."""
        self.guac_port = free_port()
        server = self.start_server(f"{BALL} --stop-after 60", size="640x480",
                                   extra=["--guac", f"127.0.0.1:{self.guac_port}",
                                          "--xwayland"])
        wire = GuacWire(self.guac_port)
        guac_handshake(self, wire, width=640, height=480, images=("image/png",))
        canvas = GuacCanvas()
        # The ball moves for 2 s, then stands still.
        started = time.monotonic()
        while time.monotonic() - started < 2.5:
            self.replay_until_quiet(wire, canvas, quiet=0.5)
        self.replay_until_quiet(wire, canvas)
        self.assert_canvas_is_desktop(server, canvas, "ball")
        self.assertGreater(canvas.counts.get("copy from buffer", 0), 10, canvas.counts)

        # A line at a time, so that frames show scrolls rather than a whole new page.
        foot = Proc("foot", ["foot", "sh", "-c", "for i in $(seq 1 60); do echo line $i of a "
                             "terminal that scrolls; sleep 0.03; done; exec sleep infinity"],
                    self.workdir / "foot.log", env=server.wayland_env())
        self.stack.push(foot.stop)
        self.replay_until_quiet(wire, canvas, quiet=2)
        self.assert_canvas_is_desktop(server, canvas, "terminal")
        self.assertGreater(canvas.counts.get("copy within the layer", 0), 0, canvas.counts)

    @needs_deskpod
    def test_hidpi_browser_scales_the_desktop(self):
        """A browser on a 2x screen sends device pixels and 192 dpi: the desktop gets scale 2,
        so apps draw at full sharpness in half the layout units."""
        ready = self.workdir / "ready.txt"
        server = self.start(f"{shlex.quote(str(TEST_CLIENT))} --color 446688 "
                            f"--ready-out {shlex.quote(str(ready))}")
        wire = GuacWire(self.guac_port)
        guac_handshake(self, wire, width=1600, height=1000, dpi=192)
        wire.until("sync")
        wait_until(lambda: ready.exists() and "800x500 scale 2" in ready.read_text(), 20,
                   "the app to draw at scale 2")
        self.assertIn("*1600x1000+0+0@2", server.proc.output())

    @unittest.skipIf(browser_missing(), browser_missing() or "")
    def test_guacamole_lite_and_common_js_in_chromium(self):
        # The ball moves for 2 s through Xwayland (fills, copies from the viewer's off-screen
        # buffers, palette PNGs), then stands still for the comparison.
        if BALL.exists():
            self.guac_port = free_port()
            server = self.start_server(f"{BALL} --stop-after 60 --background 2266aa",
                                       size="1024x768",
                                       extra=["--guac", f"127.0.0.1:{self.guac_port}",
                                              "--xwayland"])
        else:
            server = self.start(f"{shlex.quote(str(TEST_CLIENT))} --color 2266aa",
                                size="1024x768")
        ws_port = free_port()
        env = dict(os.environ, DESKPOD_NODE_MODULES=str(NODE_MODULES))
        lite = subprocess.Popen(["node", os.path.join(JS, "guacamole_lite_server.mjs"),
                                 str(ws_port), str(self.guac_port)], stdout=subprocess.PIPE,
                                stderr=(self.workdir / "guacamole-lite.log").open("w"),
                                text=True, env=env, start_new_session=True)
        self.stack.push(lambda: (lite.kill(), lite.wait()))
        token = json.loads(lite.stdout.readline())["token"]
        browser = Browser(self.stack, self.workdir)
        browser("setContent", html="<html><body style='margin:0'><div id=d></div></body></html>")
        common = NODE_MODULES / "guacamole-common-js/dist/cjs/guacamole-common.js"
        # The CommonJS build ends with `module.exports = Guacamole`; give it a module object.
        browser("evaluate", expression="window.module = {}; 1")
        browser("addScript", path=str(common))
        browser("evaluate", expression=f"""(() => {{
            const tunnel = new Guacamole.WebSocketTunnel('ws://127.0.0.1:{ws_port}/');
            const client = new Guacamole.Client(tunnel);
            window.guac = {{ client, state: 0 }};
            client.onstatechange = (s) => {{ window.guac.state = s; }};
            client.onerror = (e) => {{ window.guac.error = e.message; }};
            document.getElementById('d').appendChild(client.getDisplay().getElement());
            client.connect('token={token}&width=1024&height=768');
            return 1; }})()""")
        browser.wait("window.guac.state === 3 || window.guac.error", timeout=30)
        self.assertIsNone(browser("evaluate", expression="window.guac.error || null"))
        time.sleep(3)  # the ball stops
        diff = wait_picture_matches(self, server, browser, "#d > div", "lite")
        print(f"guacamole-lite: {diff}")
        # Stricter than the helper's 1 %: a ball left behind or missing is 0.2 % of the picture.
        self.assertLess(diff.differing, 0.0005, str(diff))
        self.assertEqual(image_size(self.workdir / "lite-browser.png"), (1024, 768))


if __name__ == "__main__":
    unittest.main(verbosity=2)
