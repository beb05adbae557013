#!/usr/bin/env python3
"""(c, g) Text typed at the RDP client reaches the app inside the desktop, on the headless
backend and on the x11 backend inside Xvfb."""
import shlex
import unittest
from pathlib import Path

from harness import TEST_CLIENT, Deskpod, IntegrationTest, Xvfb, needs_deskpod, tail, wait_until

TEXT = "hello deskpod"


class InputTest(IntegrationTest):
    def type_and_expect(self, server, out: Path, text: str = TEXT, press_return: bool = True):
        expect = text + ("\n" if press_return else "")
        client = self.connect(server, codec="rfx")
        # The terminal must be on screen before keys can reach it.
        self.assert_client_matches_desktop(server, client, "before-typing")
        client.focus()
        client.type_text(text)
        if press_return:
            client.key("Return")  # xdotool types "\n" as Linefeed, which has no RDP scancode

        def arrived():
            return out.exists() and out.read_text(errors="replace") == expect

        try:
            wait_until(arrived, 30, f"the app to receive {expect!r}", interval=0.2)
        except AssertionError as e:
            got = out.read_text(errors="replace") if out.exists() else "(no file)"
            client.screenshot(self.workdir / "after-typing-client.png")
            raise AssertionError(f"{e}; the app got {got!r}\n--- server log:\n"
                                 f"{tail(server.proc.output())}") from None

    def test_typed_text_reaches_terminal(self):
        out = self.workdir / "typed.txt"
        server = self.start_server(f"foot sh -c {shlex.quote('cat > ' + str(out))}")
        self.type_and_expect(server, out)

    @needs_deskpod  # the weston reference run has no test client
    def test_typed_text_reaches_test_client(self):
        out = self.workdir / "keys.txt"
        server = self.start_server(
            f"{shlex.quote(str(TEST_CLIENT))} --color 202040 --keys-out {shlex.quote(str(out))}")
        # Shifted letters, punctuation and digits: the keymap path, not just lowercase.
        self.type_and_expect(server, out, text="Hello, Deskpod! 42", press_return=False)

    @needs_deskpod
    def test_typed_text_reaches_terminal_on_x11_backend(self):
        xvfb = Xvfb(self.stack, self.workdir, "1024x768", name="desktop-xvfb")
        out = self.workdir / "typed.txt"
        server = Deskpod(self.stack, self.workdir,
                         f"foot sh -c {shlex.quote('cat > ' + str(out))}", size="1024x768",
                         extra=["--backend", "x11"], env_extra={"DISPLAY": xvfb.display})
        self.type_and_expect(server, out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
