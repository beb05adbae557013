#!/usr/bin/env python3
"""Clipboard both ways through a real xfreerdp (+clipboard) in its own Xvfb: what is copied in
the desktop (wl-copy) is what xclip reads from the client's CLIPBOARD, and what is copied at the
client (xclip) is what wl-paste reads inside the desktop. Text (100 KB, non-Latin, LF line
ends), HTML and PNG images; a copy over --clipboard-limit is refused while the next small copy
works; 50 rapid copies leave the clipboard working. One server and one client serve all the
scenarios of a direction, to keep the module short (docs/clipboard-keyboard.md)."""
import hashlib
import re
import shutil
import subprocess
import time
import unittest

from harness import (IntegrationTest, Proc, needs_deskpod, solid_session, tail, wait_until)

# 100 KB of UTF-8 text with non-Latin scripts, astral characters and LF line ends; well above
# the 64 KiB that broke other servers, and many CLIPRDR chunks.
LINE = "Grüße, ünïcödé ✓ — Привет мир — 日本語のテキスト — 🎉 𝄞 — {:05d}\n"
BIG_TEXT = "".join(LINE.format(i) for i in range(1400))
HTML = "<b>bold</b> and <i>ünïcödé</i> ✓"
LIMIT = 256 * 1024  # small --clipboard-limit so "over the limit" stays cheap


def png_bytes(workdir) -> bytes:
    path = workdir / "img.png"
    subprocess.run(["convert", "-size", "37x23", "gradient:red-blue", str(path)], check=True,
                   timeout=30)
    return path.read_bytes()


def png_pixels(data: bytes, workdir, name: str) -> bytes:
    """Decoded RGB pixels, so a PNG re-encoded on the way (DIB round trip) still compares."""
    src = workdir / f"{name}.png"
    src.write_bytes(data)
    return subprocess.run(["convert", str(src), "-depth", "8", "rgb:-"], capture_output=True,
                          check=True, timeout=30).stdout


@needs_deskpod
class ClipboardTest(IntegrationTest):
    def setUp(self):
        super().setUp()
        for tool in ("xclip", "wl-copy", "wl-paste", "convert"):
            if not shutil.which(tool):
                self.fail(f"{tool} is not installed (scripts/bootstrap installs it)")
        self.server = self.start_server(solid_session("406080"),
                                        extra=["--clipboard-limit", str(LIMIT)])
        self.client = self.connect(self.server)
        self.assert_client_matches_desktop(self.server, self.client, "connected",
                                           expect_color="406080")
        self.n = 0

    def fail_with_logs(self, e):
        raise AssertionError(f"{e}\n--- deskpod:\n{tail(self.server.proc.output(), 60)}") from None

    # ---- helpers ----
    def wl_copy(self, data: bytes, mime: str):
        """Sets the desktop clipboard (wl-copy stays in the foreground, serving pastes)."""
        self.n += 1
        src = self.workdir / f"wl-src-{self.n}"
        src.write_bytes(data)
        proc = Proc(f"wl-copy-{self.n}", ["sh", "-c", f"exec wl-copy --foreground --type '{mime}' < {src}"],
                    self.workdir / f"wl-copy-{self.n}.log", env=self.server.wayland_env())
        self.stack.push(proc.stop)
        return proc

    def xclip_out(self, target: str) -> bytes | None:
        # xfreerdp leaves the X requestor waiting when the server refuses: bound each read.
        try:
            r = subprocess.run(["xclip", "-selection", "clipboard", "-o", "-t", target],
                               env=self.client.xvfb.env(), capture_output=True, timeout=5)
        except subprocess.TimeoutExpired:
            return None
        return r.stdout if r.returncode == 0 else None

    def client_offers(self) -> int:
        return len(re.findall(r"clipboard: client offers [1-9]", self.server.proc.output()))

    def xclip_in(self, data: bytes, target: str):
        """Copies at the client, then waits until the client has announced it, as a person
        pastes after copying. (Pasting in the very instant the client takes a new clipboard
        hits an xfreerdp 2.11 bug: it fails the request for its previous clipboard and then
        announces an empty one, so the new copy never arrives.)"""
        offers = self.client_offers()
        self.n += 1
        src = self.workdir / f"x-src-{self.n}"
        src.write_bytes(data)
        proc = Proc(f"xclip-{self.n}", ["xclip", "-quiet", "-selection", "clipboard", "-t", target,
                                         "-i", str(src)],
                    self.workdir / f"xclip-{self.n}.log", env=self.client.xvfb.env())
        self.stack.push(proc.stop)
        self.until(lambda: self.client_offers() > offers, f"the client to announce copy {self.n}")
        return proc

    def wl_paste(self, mime: str | None = None) -> bytes | None:
        argv = ["wl-paste", "--no-newline"] + (["--type", mime] if mime else [])
        r = subprocess.run(argv, env=self.server.wayland_env(), capture_output=True, timeout=20)
        return r.stdout if r.returncode == 0 else None

    def until(self, predicate, what: str, timeout: float = 30):
        try:
            wait_until(predicate, timeout, what, interval=0.3)
        except AssertionError as e:
            self.fail_with_logs(e)

    # ---- tests ----
    def test_desktop_to_client(self):
        text = BIG_TEXT.encode()
        self.wl_copy(text, "text/plain;charset=utf-8")
        self.until(lambda: self.xclip_out("UTF8_STRING") == text,
                   "100 KB of UTF-8 text to reach the client intact")

        self.wl_copy(HTML.encode(), "text/html")
        self.until(lambda: HTML.encode() in (self.xclip_out("text/html") or b""),
                   "HTML to reach the client")

        png = png_bytes(self.workdir)
        want = png_pixels(png, self.workdir, "want")
        self.wl_copy(png, "image/png")

        def image_arrived():
            got = self.xclip_out("image/png")
            return got and got[:8] == b"\x89PNG\r\n\x1a\n" and \
                png_pixels(got, self.workdir, "got") == want
        self.until(image_arrived, "a PNG image to reach the client")

        # Over the limit: refused (and logged); the next small copy still works.
        self.wl_copy(b"x" * (LIMIT + 1000), "text/plain;charset=utf-8")

        def refused():
            self.xclip_out("UTF8_STRING")
            return "is larger than --clipboard-limit" in self.server.proc.output()
        self.until(refused, "the over-limit copy to be refused and logged")
        self.wl_copy("small after big ✓".encode(), "text/plain;charset=utf-8")
        self.until(lambda: self.xclip_out("UTF8_STRING") == "small after big ✓".encode(),
                   "a small copy after the refused one")

        # A Ctrl+C storm: 50 copies in a row, then the last one is what the client gets.
        for i in range(50):
            # wl-copy forks to serve the copy: its output pipes stay open, so don't capture.
            p = subprocess.run(["wl-copy", "--type", "text/plain;charset=utf-8", f"storm {i}"],
                               env=self.server.wayland_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=20)
            self.assertEqual(p.returncode, 0)
        self.until(lambda: self.xclip_out("UTF8_STRING") == b"storm 49",
                   "the last of 50 rapid copies to be the client's clipboard")
        self.assertTrue(self.server.proc.alive())

    def test_client_to_desktop(self):
        text = BIG_TEXT.encode()
        self.xclip_in(text, "UTF8_STRING")
        self.until(lambda: self.wl_paste("text/plain;charset=utf-8") == text,
                   "100 KB of UTF-8 text to reach the desktop intact")

        self.xclip_in(HTML.encode(), "text/html")
        self.until(lambda: HTML.encode() in (self.wl_paste("text/html") or b""),
                   "HTML to reach the desktop")

        # xfreerdp 2.11 cannot send PNG (its X11 clipboard only converts image/bmp, as CF_DIB),
        # so the client copies a BMP; the desktop gets it as image/png through the DIB parser.
        png_bytes(self.workdir)
        bmp = self.workdir / "img.bmp"
        subprocess.run(["convert", str(self.workdir / "img.png"), f"bmp3:{bmp}"], check=True,
                       timeout=30)
        want = subprocess.run(["convert", str(bmp), "-depth", "8", "rgb:-"], capture_output=True,
                              check=True, timeout=30).stdout
        self.xclip_in(bmp.read_bytes(), "image/bmp")

        def image_arrived():
            got = self.wl_paste("image/png")
            return got and got[:8] == b"\x89PNG\r\n\x1a\n" and \
                png_pixels(got, self.workdir, "got") == want
        self.until(image_arrived, "a PNG image to reach the desktop")

        # Over the limit: the paste is refused (logged, counted); the next copy works.
        self.xclip_in(b"y" * (LIMIT + 1000), "UTF8_STRING")
        def refused():
            self.wl_paste("text/plain;charset=utf-8")
            return "exceeds --clipboard-limit" in self.server.proc.output()
        self.until(refused, "the over-limit paste to be refused and logged")
        self.assertIn("deskpod_clipboard_refused_total", self.server.metrics())
        self.xclip_in("small after big ✓".encode(), "UTF8_STRING")
        self.until(lambda: self.wl_paste("text/plain;charset=utf-8") ==
                   "small after big ✓".encode(), "a small copy after the refused one")

        # A Ctrl+C storm at the client.
        # xclip forks to serve each copy and exits when the next one takes over; the last one
        # goes with the client's X server.
        for i in range(50):
            p = subprocess.run(["xclip", "-selection", "clipboard", "-i"],
                               input=f"storm {i}".encode(), env=self.client.xvfb.env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
            self.assertEqual(p.returncode, 0)
        self.until(lambda: self.wl_paste("text/plain;charset=utf-8") == b"storm 49",
                   "the last of 50 rapid client copies to reach the desktop")
        metrics = self.server.metrics()
        self.assertRegex(metrics, r'deskpod_clipboard_transfers_total\{[^}]*from_client[^}]*\} [1-9]')


if __name__ == "__main__":
    unittest.main(verbosity=2)
