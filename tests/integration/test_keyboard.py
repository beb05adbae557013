#!/usr/bin/env python3
"""Keyboard layouts: the RDP client's keyboard layout id picks the desktop's xkb layout. With
/kbd:0x407 (German), pressing the key labelled Y on the client's US keyboard types z in the
app, as it would on a German keyboard (docs/clipboard-keyboard.md)."""
import shlex
import unittest

from harness import TEST_CLIENT, IntegrationTest, needs_deskpod, tail, wait_until


@needs_deskpod
class KeyboardTest(IntegrationTest):
    def test_german_layout_from_client(self):
        out = self.workdir / "keys.txt"
        server = self.start_server(
            f"{shlex.quote(str(TEST_CLIENT))} --color 202040 --keys-out {shlex.quote(str(out))}")
        client = self.connect(server, extra=["/kbd:0x407"])
        self.assert_client_matches_desktop(server, client, "before-typing")
        client.focus()
        # The client's X keyboard is US: these are the keys labelled y, z and minus there.
        client.key("y", "z", "minus")

        def arrived():
            return out.exists() and out.read_text(errors="replace") == "zyß"

        try:
            wait_until(arrived, 30, "German key meanings (zyß)", interval=0.2)
        except AssertionError as e:
            got = out.read_text(errors="replace") if out.exists() else "(no file)"
            raise AssertionError(f"{e}; the app got {got!r}\n--- server log:\n"
                                 f"{tail(server.proc.output())}") from None
        self.assertIn("keymap now German", server.proc.output())


if __name__ == "__main__":
    unittest.main(verbosity=2)
