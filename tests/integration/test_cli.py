#!/usr/bin/env python3
"""(h) The command-line contract: --help, a bad option value, SIGTERM."""
import signal
import subprocess
import unittest

from harness import (DESKPOD_BIN, IntegrationTest, check_no_sanitizer_report, http_get,
                     needs_deskpod, sanitizer_env, solid_session, tail, wait_until)

OPTIONS = ["--config", "--backend", "--size", "--rdp", "--guac", "--http", "--rdp-security",
           "--user", "--password-file", "--tls-cert", "--tls-key", "--state-dir", "--session",
           "--session-exit", "--wayland-socket", "--xwayland", "--max-clients",
           "--clipboard-limit", "--log-level", "--log-format", "--version", "--licenses", "--help"]


@needs_deskpod
class CliTest(IntegrationTest):
    def run_deskpod(self, *args):
        # A clean environment, but a sanitizer build keeps its settings (suppressions, halting).
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.workdir), **sanitizer_env()}
        r = subprocess.run([str(DESKPOD_BIN), *args], capture_output=True, text=True, timeout=30,
                           env=env)
        check_no_sanitizer_report(f"deskpod {' '.join(args)}", r.stderr, "its stderr")
        return r

    def test_help_lists_every_option(self):
        r = self.run_deskpod("--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        missing = [o for o in OPTIONS if o not in r.stdout]
        self.assertEqual(missing, [], f"--help does not mention {missing}:\n{r.stdout}")

    def test_invalid_size_exits_2_naming_the_option(self):
        r = self.run_deskpod("--size", "12x")
        self.assertEqual(r.returncode, 2, f"stdout={r.stdout!r} stderr={r.stderr!r}")
        self.assertIn("--size", r.stderr)

    def assert_licence_text(self, text):
        # deskpod's own licence, then the embedded web client library with its licence and notice.
        self.assertIn("MIT License", text)
        self.assertIn("The deskpod authors", text)
        self.assertRegex(text, r"guacamole-common-js \d+\.\d+\.\d+")
        self.assertIn("Apache License", text)
        self.assertIn("Version 2.0, January 2004", text)
        self.assertIn("The Apache Software Foundation (http://www.apache.org/)", text)

    def test_licenses_option_prints_every_licence(self):
        r = self.run_deskpod("--licenses")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_licence_text(r.stdout)

    def test_licenses_page_is_served_with_the_web_client(self):
        server = self.start_server(solid_session("336699"))
        status, body = http_get(server.http_port, "/licenses")
        self.assertEqual(status, 200)
        self.assert_licence_text(body)
        self.assertEqual(body, self.run_deskpod("--licenses").stdout)

    def test_sigterm_exits_0_and_disconnects_clients(self):
        server = self.start_server(solid_session("ffcc00"))
        client = self.connect(server)
        self.assert_client_matches_desktop(server, client, "before-term", expect_color="ffcc00")
        server.proc.signal(signal.SIGTERM)
        try:
            code = server.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.fail("deskpod still running 30s after SIGTERM:\n" + tail(server.proc.output()))
        self.assertEqual(code, 0, "deskpod's exit status after SIGTERM:\n"
                         + tail(server.proc.output()))
        wait_until(lambda: not client.proc.alive(), 30, "the client to be disconnected")


if __name__ == "__main__":
    unittest.main(verbosity=2)
