"""systemd units of the VM image: systemd-analyze verify (no warnings at all), the hardening
exposure score, and the cloud-init user data's shape. Starting deskpod from a root filesystem
under systemd-nspawn is part of tests/deploy/image-test (it needs the built rootfs)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from deploy_common import DESKPOD_BIN, SOURCE_ROOT, run

UNITS = SOURCE_ROOT / "vm" / "systemd"


class Units(unittest.TestCase):
    def setUp(self):
        if not shutil.which("systemd-analyze"):
            raise AssertionError("systemd-analyze is missing (Debian package systemd)")
        self.tmp = Path(tempfile.mkdtemp(prefix="deskpod-units-"))
        # The units name the installed paths; verify checks that executables exist, so point
        # them at this build's binary and the repository's script.
        for unit in ("deskpod.service", "deskpod-xvfb.service"):
            text = (UNITS / unit).read_text()
            text = text.replace("/usr/local/bin/deskpod", str(DESKPOD_BIN))
            text = text.replace("/usr/local/lib/deskpod/xvfb-start.sh",
                                str(SOURCE_ROOT / "scripts" / "xvfb-start.sh"))
            (self.tmp / unit).write_text(text)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def verify(self, *units) -> str:
        r = run(["systemd-analyze", "verify", "--man=no", *units], cwd=self.tmp,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_LOG_LEVEL": "info"})
        return (r.stdout + r.stderr).strip() + ("" if r.returncode == 0 else f"\nexit {r.returncode}")

    def test_units_verify_cleanly(self):
        out = self.verify("./deskpod.service", "./deskpod-xvfb.service")
        self.assertEqual(out, "", f"systemd-analyze verify complained:\n{out}")

    def test_verify_catches_mistakes(self):
        """The check above can fail: a misspelt directive is reported."""
        text = (self.tmp / "deskpod.service").read_text()
        (self.tmp / "deskpod.service").write_text(text.replace("ProtectSystem=", "ProtectSytem="))
        self.assertIn("Unknown key", self.verify("./deskpod.service"))

    def test_hardening(self):
        text = (UNITS / "deskpod.service").read_text()
        for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "StateDirectory=deskpod",
                     "RuntimeDirectory=deskpod", "Restart=on-failure", "User=deskpod",
                     "CapabilityBoundingSet=\n", "PrivateTmp=yes"):
            self.assertIn(line, text)
        r = run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                 "./deskpod.service"], cwd=self.tmp)
        last = [line for line in r.stdout.splitlines() if "Overall exposure level" in line]
        self.assertTrue(last, r.stdout + r.stderr)
        score = float(last[0].split(":")[1].split()[0])
        print(f"deskpod.service exposure score {score}")
        self.assertLessEqual(score, 3.0, "deskpod.service lost hardening")

    def test_x11_dropin_names_the_xvfb_unit(self):
        dropin = (UNITS / "deskpod.service.d" / "x11.conf.example").read_text()
        self.assertIn("JoinsNamespaceOf=deskpod-xvfb.service", dropin)
        self.assertIn("DESKPOD_BACKEND=x11", dropin)
        self.assertIn("--display 99", (UNITS / "deskpod-xvfb.service").read_text())
        self.assertIn("DISPLAY=:99", dropin)

    def test_cloud_init_user_data(self):
        text = (SOURCE_ROOT / "vm" / "cloud-init" / "user-data.yaml").read_text()
        self.assertTrue(text.startswith("#cloud-config\n"))
        self.assertIn("path: /etc/deskpod/password", text)
        self.assertIn("[systemctl, enable, --now, deskpod.service]", text)
        unit = (UNITS / "deskpod.service").read_text()
        self.assertIn("LoadCredential=password:/etc/deskpod/password", unit)
        self.assertIn("EnvironmentFile=-/etc/deskpod/deskpod.env", unit)


if __name__ == "__main__":
    unittest.main(verbosity=2)
