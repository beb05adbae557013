#!/usr/bin/env python3
"""--primary-selection: the desktop's primary selection (select to copy, middle-click paste)
shared with the viewers, and kept local without the option (docs/clipboard-keyboard.md).

With the option, through a real xfreerdp (+clipboard) in its own Xvfb and a raw Guacamole
client: `wl-copy --primary` (and an X11 app's PRIMARY through Xwayland) reaches the client's
CLIPBOARD, the most recent of clipboard and primary selection wins, and a client's copy is what
`wl-paste --primary` (middle-click) reads, without echoing back to the client. Without the
option, the same primary copy never reaches the client within the same time window the shared
case needs (SHARE_WINDOW), and a client's copy does not replace the desktop's primary selection.
"""
import base64
import re
import shutil
import subprocess
import time
import unittest

from harness import (GuacWire, IntegrationTest, Proc, free_port, guac_handshake, needs_deskpod,
                     solid_session, tail, wait_until)

TEXT = "text/plain;charset=utf-8"
# How long a desktop selection may take to reach the client. The shared case must arrive within
# it; the local case waits exactly this long and must see nothing.
SHARE_WINDOW = 8.0


class PrimarySelectionTest(IntegrationTest):
    share = False

    def setUp(self):
        super().setUp()
        for tool in ("xclip", "wl-copy", "wl-paste"):
            if not shutil.which(tool):
                self.fail(f"{tool} is not installed (scripts/bootstrap installs it)")
        self.guac_port = free_port()
        # Off is the default: the local case passes no flag at all.
        extra = ["--guac", f"127.0.0.1:{self.guac_port}"]
        if self.share:
            extra.append("--primary-selection")
        self.server = self.start_server(solid_session("305070"), extra=extra)
        self.client = self.connect(self.server)
        self.n = 0
        # xfreerdp announces its own (empty) clipboard once the channel is up; a desktop copy
        # made before that would be replaced by it.
        self.until(lambda: "clipboard: client offers" in self.server.proc.output(),
                   "the client's clipboard channel")
        # The clipboard works before anything else is asserted, and the client holds a known
        # clipboard.
        self.desktop_copy("baseline ✓")
        self.until(lambda: self.client_clipboard() == "baseline ✓",
                   "the desktop clipboard to reach the client")

    # ---- helpers ----
    def fail_with_logs(self, e):
        raise AssertionError(f"{e}\n--- deskpod:\n{tail(self.server.proc.output(), 60)}") from None

    def until(self, predicate, what: str, timeout: float = 30):
        try:
            wait_until(predicate, timeout, what, interval=0.3)
        except AssertionError as e:
            self.fail_with_logs(e)

    def desktop_copy(self, text: str, primary: bool = False) -> Proc:
        """A Wayland app sets the clipboard or (primary=True) selects text: wl-copy stays in the
        foreground serving pastes until another selection replaces it."""
        self.n += 1
        src = self.workdir / f"wl-src-{self.n}"
        src.write_text(text)
        flags = "--primary " if primary else ""
        proc = Proc(f"wl-copy-{self.n}",
                    ["sh", "-c", f"exec wl-copy --foreground {flags}--type '{TEXT}' < {src}"],
                    self.workdir / f"wl-copy-{self.n}.log", env=self.server.wayland_env())
        self.stack.push(proc.stop)
        return proc

    def desktop_paste(self, primary: bool) -> str | None:
        argv = ["wl-paste", "--no-newline", "--type", TEXT] + (["--primary"] if primary else [])
        r = subprocess.run(argv, env=self.server.wayland_env(), capture_output=True, timeout=20)
        return r.stdout.decode(errors="replace") if r.returncode == 0 else None

    def client_clipboard(self) -> str | None:
        # xfreerdp leaves the X requestor waiting when the server refuses: bound each read.
        try:
            r = subprocess.run(["xclip", "-selection", "clipboard", "-o", "-t", "UTF8_STRING"],
                               env=self.client.xvfb.env(), capture_output=True, timeout=5)
        except subprocess.TimeoutExpired:
            return None
        return r.stdout.decode(errors="replace") if r.returncode == 0 else None

    def client_copy(self, text: str) -> Proc:
        """The client's user copies: xclip owns the client's CLIPBOARD until someone else takes
        it (then it exits). Returns once deskpod has the client's format list, and a moment
        later: xfreerdp 2.11 fails a paste requested within milliseconds of its announcement
        when it owned the clipboard just before (and then announces an empty clipboard)."""
        announced = self.server.proc.output().count("clipboard: client offers")
        self.n += 1
        src = self.workdir / f"x-src-{self.n}"
        src.write_text(text)
        proc = Proc(f"xclip-{self.n}", ["xclip", "-quiet", "-selection", "clipboard", "-t",
                                         "UTF8_STRING", "-i", str(src)],
                    self.workdir / f"xclip-{self.n}.log", env=self.client.xvfb.env())
        self.stack.push(proc.stop)
        self.until(lambda: self.server.proc.output().count("clipboard: client offers") > announced,
                   "the client's copy to be announced")
        time.sleep(0.5)
        return proc

    def reaches_client(self, text: str, window: float = SHARE_WINDOW) -> bool:
        """Whether the client's clipboard becomes `text` within `window` seconds."""
        deadline = time.monotonic() + window
        while time.monotonic() < deadline:
            if self.client_clipboard() == text:
                return True
            time.sleep(0.2)
        return False

    def transfers(self, direction: str) -> int:
        m = re.search(r'deskpod_clipboard_transfers_total\{protocol="rdp",direction="'
                      + direction + r'"\} (\d+)', self.server.metrics())
        self.assertIsNotNone(m, "no rdp clipboard transfer counter in /metrics")
        return int(m.group(1))

    def guac_user(self) -> GuacWire:
        wire = GuacWire(self.guac_port)
        guac_handshake(self, wire)
        wire.until("sync")
        return wire

    def guac_clipboard(self, wire: GuacWire, want: str | None,
                       timeout: float) -> list[str]:
        """Clipboard texts the Guacamole user receives within `timeout` (until `want` arrives)."""
        texts, current = [], None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                ins = wire.read(max(0.05, deadline - time.monotonic()))
            except TimeoutError:
                break
            if ins is None:
                raise AssertionError("the Guacamole connection closed")
            if ins[0] == "sync":
                wire.send("sync", ins[1])
            elif ins[0] == "clipboard":
                current = (ins[1], [])
            elif ins[0] == "blob" and current and ins[1] == current[0]:
                current[1].append(base64.b64decode(ins[2]))
            elif ins[0] == "end" and current and ins[1] == current[0]:
                texts.append(b"".join(current[1]).decode())
                current = None
                if want is not None and texts[-1] == want:
                    break
        return texts

    def guac_copy(self, wire: GuacWire, text: str):
        wire.send("clipboard", "7", "text/plain")
        wire.send("blob", "7", base64.b64encode(text.encode()).decode())
        wire.send("end", "7")

    def xwayland_env(self) -> dict | None:
        m = re.search(r"Xwayland ready on DISPLAY=(:\d+)", self.server.proc.output())
        if not m:
            return None
        env = self.server.wayland_env()
        env["DISPLAY"] = m.group(1)
        return env


@needs_deskpod
class PrimarySharedTest(PrimarySelectionTest):
    share = True

    def test_selection_reaches_client_and_most_recent_wins(self):
        self.assertIn("the primary selection is shared with viewers", self.server.proc.output())
        before = self.transfers("to_client")
        # Selecting text in an app puts it on the client's clipboard, as a Ctrl+C would; within
        # the window the local case waits out.
        self.desktop_copy("selected in the desktop ✓", primary=True)
        if not self.reaches_client("selected in the desktop ✓"):
            self.fail_with_logs(f"the primary selection did not reach the client within "
                                f"{SHARE_WINDOW}s")
        # The most recent of clipboard and primary selection wins, each way round.
        self.desktop_copy("copied with Ctrl+C")
        self.until(lambda: self.client_clipboard() == "copied with Ctrl+C",
                   "a later clipboard copy to replace the selection at the client")
        self.desktop_copy("selected again", primary=True)
        self.until(lambda: self.client_clipboard() == "selected again",
                   "a later selection to replace the copy at the client")
        # Transfers of the primary selection count like clipboard transfers.
        self.assertGreaterEqual(self.transfers("to_client"), before + 2)

        # The clipboard is what viewers have now; clearing the primary selection (its app goes
        # away) leaves it alone. The reverse: clearing the clipboard while the primary selection
        # is current leaves that alone too.
        self.desktop_copy("clipboard stays")
        self.until(lambda: self.client_clipboard() == "clipboard stays", "the clipboard copy")
        cleared = self.server.proc.output().count("primary selection now offered by nobody")
        subprocess.run(["wl-copy", "--primary", "--clear"], env=self.server.wayland_env(),
                       check=True, timeout=20)
        self.until(lambda: self.server.proc.output().count(
                   "primary selection now offered by nobody") > cleared,
                   "the compositor to see the primary selection cleared")
        time.sleep(2)
        self.assertEqual(self.client_clipboard(), "clipboard stays")
        self.desktop_copy("primary stays", primary=True)
        self.until(lambda: self.client_clipboard() == "primary stays", "the selection")
        cleared = self.server.proc.output().count("clipboard now offered by nobody")
        subprocess.run(["wl-copy", "--clear"], env=self.server.wayland_env(), check=True,
                       timeout=20)
        self.until(lambda: self.server.proc.output().count(
                   "clipboard now offered by nobody") > cleared,
                   "the compositor to see the clipboard cleared")
        time.sleep(2)
        self.assertEqual(self.client_clipboard(), "primary stays")

    def test_client_copy_is_middle_click_pastable_without_echo(self):
        before = self.transfers("from_client")
        announced = self.server.proc.output().count("now offered by an app")
        xclip = self.client_copy("from the client ✓")
        # Middle-click paste (the primary selection) and Ctrl+V (the clipboard) both get it.
        self.until(lambda: self.desktop_paste(primary=True) == "from the client ✓",
                   "the client's copy to be the desktop's primary selection")
        self.until(lambda: self.desktop_paste(primary=False) == "from the client ✓",
                   "the client's copy to be the desktop's clipboard")
        self.assertGreaterEqual(self.transfers("from_client"), before + 2)
        # No echo: setting the desktop's selections from the client's copy announced nothing
        # back, so xfreerdp never took the client's CLIPBOARD from xclip.
        time.sleep(2)
        self.assertTrue(xclip.alive(), "the client's copy echoed back: xclip lost CLIPBOARD")
        self.assertEqual(self.server.proc.output().count("now offered by an app"), announced)
        self.assertEqual(self.client_clipboard(), "from the client ✓")

        # A selection in the desktop after that still reaches the client.
        self.desktop_copy("selected after the client's copy", primary=True)
        self.until(lambda: self.client_clipboard() == "selected after the client's copy",
                   "a new selection to replace the client's copy")
        self.until(lambda: not xclip.alive(), "xclip to lose the client's CLIPBOARD")
        # The client's copy is gone at the client, so the desktop's clipboard, which still
        # offered it, is withdrawn instead of failing when an app pastes.
        self.until(lambda: "clipboard now offered by nobody" in self.server.proc.output(),
                   "the desktop clipboard holding the client's old copy to be withdrawn")
        self.assertIsNone(self.desktop_paste(primary=False))
        self.assertEqual(self.desktop_paste(primary=True), "selected after the client's copy")

    def test_x11_primary_through_xwayland(self):
        env = self.xwayland_env()
        if env is None:
            self.skipTest("Xwayland is not running (not installed?)")
        # wlroots lets X11 clients exchange selections only while an X11 window has keyboard
        # focus, as when a person selects text in xterm: map one (deskpod focuses it).
        xlogo = Proc("xlogo", ["xlogo"], self.workdir / "xlogo.log", env=env)
        self.stack.push(xlogo.stop)

        def mapped():
            r = subprocess.run(["xdotool", "search", "--onlyvisible", "--class", "xlogo"],
                               env=env, capture_output=True, text=True, timeout=10)
            return bool(r.stdout.split())
        self.until(mapped, "an X11 window to map inside the desktop")
        time.sleep(0.5)
        # An X11 app owns PRIMARY; wlroots turns it into the Wayland primary selection, and the
        # client's clipboard gets it.
        src = self.workdir / "x11-primary"
        src.write_text("selected in an X11 app ✓")
        owner = Proc("xclip-xwayland", ["xclip", "-quiet", "-selection", "primary", "-t",
                                        "UTF8_STRING", "-i", str(src)],
                     self.workdir / "xclip-xwayland.log", env=env)
        self.stack.push(owner.stop)
        self.until(lambda: self.client_clipboard() == "selected in an X11 app ✓",
                   "an X11 app's PRIMARY to reach the client through Xwayland")
        # The client's copy becomes the desktop's primary selection, so X11 apps' PRIMARY too.
        self.client_copy("from the client to X11 ✓")
        self.until(lambda: not owner.alive(), "the X11 app to lose PRIMARY to the client's copy")

        def x11_primary():
            r = subprocess.run(["xclip", "-o", "-selection", "primary", "-t", "UTF8_STRING"],
                               env=env, capture_output=True, timeout=10)
            return r.stdout.decode(errors="replace") if r.returncode == 0 else None
        self.until(lambda: x11_primary() == "from the client to X11 ✓",
                   "an X11 app to middle-click paste the client's copy")

    def test_guacamole_user(self):
        wire = self.guac_user()
        self.desktop_copy("selected for Guacamole ✓", primary=True)
        texts = self.guac_clipboard(wire, "selected for Guacamole ✓", 30)
        self.assertIn("selected for Guacamole ✓", texts)
        self.assertEqual(self.client_clipboard(), "selected for Guacamole ✓")
        # The Guacamole user's clipboard is middle-click pastable in the desktop, and reaches
        # the RDP client too.
        self.guac_copy(wire, "from Guacamole ✓")
        self.until(lambda: self.desktop_paste(primary=True) == "from Guacamole ✓",
                   "the Guacamole user's text to be the desktop's primary selection")
        self.until(lambda: self.client_clipboard() == "from Guacamole ✓",
                   "the Guacamole user's text to reach the RDP client")


@needs_deskpod
class PrimaryLocalTest(PrimarySelectionTest):
    share = False

    def test_primary_selection_stays_local(self):
        wire = self.guac_user()
        self.desktop_copy("selected but private", primary=True)
        self.until(lambda: self.desktop_paste(primary=True) == "selected but private",
                   "the desktop's own primary selection")
        # The shared case gets there within SHARE_WINDOW; here the client keeps its clipboard
        # for all of it, and the Guacamole user receives nothing.
        if self.reaches_client("selected but private"):
            self.fail_with_logs("the primary selection reached the client without "
                                "--primary-selection")
        self.assertEqual(self.client_clipboard(), "baseline ✓")
        self.assertNotIn("selected but private", self.guac_clipboard(wire, None, 1))
        self.assertIn("not shared (--primary-selection is off)", self.server.proc.output())
        # (A Guacamole user reads every new clipboard at once; xfreerdp 2.11 fails a read that
        # arrives within milliseconds of its own announcement, so it leaves before the client
        # copies below.)
        wire.sock.close()

        # The clipboard itself still crosses, both ways...
        self.desktop_copy("copied after the selection")
        self.until(lambda: self.client_clipboard() == "copied after the selection",
                   "a clipboard copy to reach the client")
        self.client_copy("from the client")
        self.until(lambda: self.desktop_paste(primary=False) == "from the client",
                   "the client's copy to reach the desktop clipboard")
        # ...but the client's copy does not replace the desktop's primary selection.
        self.assertEqual(self.desktop_paste(primary=True), "selected but private")


if __name__ == "__main__":
    unittest.main(verbosity=2)
