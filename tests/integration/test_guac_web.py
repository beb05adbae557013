#!/usr/bin/env python3
"""The built-in web client in headless Chromium (Debian's chromium, driven by playwright-core):
log in (a wrong password gets a clear message), the first frame shows the desktop's real pixels
(grim), typed keys reach an app, a click reaches it, and resizing the browser resizes the desktop.
"""
import shlex
import subprocess
import time
import unittest

from harness import (PASSWORD, TEST_CLIENT, USER, Browser, IntegrationTest, browser_missing,
                     wait_picture_matches, wait_until)


@unittest.skipIf(browser_missing(), browser_missing() or "")
class WebClientTest(IntegrationTest):
    def login(self, browser, server, password=PASSWORD):
        browser("goto", url=f"http://127.0.0.1:{server.http_port}/")
        browser.wait("!document.getElementById('login').hidden")
        browser("fill", selector="#user", text=USER)
        browser("fill", selector="#password", text=password)
        browser("click", selector="#login-button")

    def test_login_display_keys_click_resize(self):
        keys = self.workdir / "keys.txt"
        events = self.workdir / "events.txt"
        ready = self.workdir / "ready.txt"
        server = self.start_server(
            f"{shlex.quote(str(TEST_CLIENT))} --color 336699 --keys-out {shlex.quote(str(keys))}"
            f" --events-out {shlex.quote(str(events))} --ready-out {shlex.quote(str(ready))}",
            size="1280x800")
        browser = Browser(self.stack, self.workdir)

        # A wrong password: a clear message and no session.
        self.login(browser, server, password="wrong")
        browser.wait("document.getElementById('login-error').textContent.includes('Wrong')")
        self.assertIn("Wrong user name or password",
                      browser("evaluate", expression="document.getElementById('login-error')"
                              ".textContent"))
        self.assertEqual(browser("evaluate", expression="fetch('/session').then(r => r.status)"),
                         401)
        # The tunnel refuses without a session.
        refused = browser("evaluate", expression=(
            "new Promise(r => { const w = new WebSocket(`ws://${location.host}/websocket-tunnel`,"
            " 'guacamole'); w.onopen = () => r('open'); w.onerror = () => r('refused'); })"))
        self.assertEqual(refused, "refused")

        started = time.monotonic()
        self.login(browser, server)
        browser.wait("window.deskpod && window.deskpod.state === 'connected'", timeout=30)
        # The first client chooses the desktop size: the browser's display area (1024x740).
        diff = wait_picture_matches(self, server, browser, "#display > div", "first")
        print(f"first paint {time.monotonic() - started:.2f} s after login; {diff}")

        # Keys typed while the display has focus reach the app.
        browser("click", selector="#display")
        browser("type", text="Hello deskpod 42")
        wait_until(lambda: keys.exists() and "Hello deskpod 42" in keys.read_text(), 20,
                   "typed text in the test client")

        # A click reaches the app as a left button press and release.
        browser("mouse", x=300, y=300, action="click")
        wait_until(lambda: events.exists() and "button 272 released" in events.read_text(), 20,
                   "the click in the test client")

        # The desktop follows the browser window.
        browser("resize", width=900, height=628)
        wait_until(lambda: ready.exists() and "900x600" in ready.read_text(), 20,
                   "the desktop to become 900x600", interval=0.3)
        diff = wait_picture_matches(self, server, browser, "#display > div", "resized")
        print(f"after resize: {diff}")

    def test_hidpi_screen_gets_sharp_pixels(self):
        """On a 2x screen the desktop is the display area in device pixels at scale 2: apps
        draw every device pixel, the browser shows them at the usual size, clicks land where
        the person clicked."""
        events = self.workdir / "events.txt"
        ready = self.workdir / "ready.txt"
        server = self.start_server(
            f"{shlex.quote(str(TEST_CLIENT))} --color 663399 --events-out {shlex.quote(str(events))}"
            f" --ready-out {shlex.quote(str(ready))}", size="1280x800")
        browser = Browser(self.stack, self.workdir, scale=2)
        self.login(browser, server)
        browser.wait("window.deskpod && window.deskpod.state === 'connected'", timeout=30)
        box = browser("evaluate", expression=(
            "(() => { const r = document.getElementById('display').getBoundingClientRect();"
            " return [Math.round(r.left), Math.round(r.top), Math.round(r.width),"
            " Math.round(r.height)]; })()"))
        left, top, width, height = box
        # The app's window is the display area in layout units, drawn at buffer scale 2.
        wait_until(lambda: ready.exists() and f"{width}x{height} scale 2" in ready.read_text(),
                   30, f"the app to draw {width}x{height} at scale 2")
        diff = wait_picture_matches(self, server, browser, "#display > div", "hidpi")
        print(f"HiDPI picture: {diff}")
        browser("mouse", x=left + 300, y=top + 200, action="click")
        wait_until(lambda: events.exists()
                   and "button 272 pressed 300 200" in events.read_text(), 20,
                   "the click at the app's (300, 200)")

    def test_clipboard_both_ways(self):
        server = self.start_server(f"{shlex.quote(str(TEST_CLIENT))} --color 303030")
        browser = Browser(self.stack, self.workdir)
        self.login(browser, server)
        browser.wait("window.deskpod && window.deskpod.state === 'connected'", timeout=30)
        env = server.wayland_env()
        # Browser -> desktop: the panel's "Send to desktop".
        browser("click", selector="#clipboard-toggle")
        browser("fill", selector="#clipboard", text="from the browser \u00e9\u20ac")

        browser("click", selector="#clipboard-send")

        def pasted():
            r = subprocess.run(["wl-paste", "--no-newline"], env=env, capture_output=True,
                               timeout=10)
            return r.stdout.decode(errors="replace") == "from the browser \u00e9\u20ac"

        wait_until(pasted, 20, "the browser's text in the desktop clipboard", interval=0.5)
        # Desktop -> browser: an app copies; the panel shows it.
        subprocess.run(["wl-copy", "from the desktop \u00fc"], env=env, check=True, timeout=10)
        browser.wait("document.getElementById('clipboard').value === 'from the desktop \u00fc'",
                     timeout=20)

    def test_repeated_failures_slow_down(self):
        server = self.start_server(f"{shlex.quote(str(TEST_CLIENT))} --color 202020")
        browser = Browser(self.stack, self.workdir)
        browser("goto", url=f"http://127.0.0.1:{server.http_port}/")
        timings = browser("evaluate", expression="""(async () => {
            const out = [];
            for (let i = 0; i < 3; i++) {
                const t = performance.now();
                const r = await fetch('/login', { method: 'POST',
                    body: new URLSearchParams({ user: 'deskpod', password: 'nope' }) });
                out.push([r.status, performance.now() - t]);
            }
            return out; })()""")
        self.assertTrue(all(status == 401 for status, _ in timings), timings)
        self.assertGreater(timings[2][1], 1500, f"third failure answered too fast: {timings}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
