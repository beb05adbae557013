#!/usr/bin/env python3
"""(b) NLA: the right password authenticates, a wrong one is refused and logged with the peer's
address."""
import re
import time
import unittest

from harness import PASSWORD, IntegrationTest, needs_deskpod, run_auth_only, solid_session, tail


@needs_deskpod
class AuthTest(IntegrationTest):
    def test_right_password_authenticates(self):
        server = self.start_server(solid_session("3366ff"))
        code, out = run_auth_only(self.workdir, self.stack, "auth-right", server.rdp_port,
                                  PASSWORD)
        self.assertEqual(code, 0, f"xfreerdp +auth-only with the right password failed:\n"
                                  f"{tail(out)}\n--- deskpod:\n{tail(server.proc.output())}")

    def test_wrong_password_is_refused_and_logged(self):
        server = self.start_server(solid_session("3366ff"))
        code, out = run_auth_only(self.workdir, self.stack, "auth-wrong", server.rdp_port,
                                  "not-the-password")
        self.assertNotEqual(code, 0, f"xfreerdp +auth-only with a wrong password succeeded:\n"
                                     f"{tail(out)}")
        # deskpod says who failed: a line about the failed authentication naming 127.0.0.1.
        pattern = re.compile(r"(?i)(auth|logon|login|credential|password|nla|ntlm)"
                             r".*(fail|refus|denied|reject|wrong|invalid|bad)"
                             r"|(fail|refus|denied|reject|wrong|invalid|bad)"
                             r".*(auth|logon|login|credential|password|nla|ntlm)")
        deadline = time.monotonic() + 10
        lines = []
        while time.monotonic() < deadline:
            lines = [ln for ln in server.proc.output().splitlines()
                     if pattern.search(ln) and "127.0.0.1" in ln]
            if lines:
                break
            time.sleep(0.2)
        self.assertTrue(lines, "deskpod logged no authentication failure naming 127.0.0.1:\n"
                               + tail(server.proc.output()))
        print("deskpod logged:", lines[0])
        self.assertTrue(server.alive(), "deskpod died after a failed login")
        self.assertEqual(server.healthz(), 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
