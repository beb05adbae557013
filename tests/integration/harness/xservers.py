"""Private X servers: Xvfb through scripts/xvfb-start.sh, one per client."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from . import config
from .processes import Stack, log


class Xvfb:
    def __init__(self, stack: Stack, workdir: Path, size: str, name: str = "xvfb"):
        self.pid_file = workdir / f"{name}.pid"
        self.log_file = workdir / f"{name}.log"
        out = subprocess.run(
            [str(config.XVFB_START), "--display", "auto", "--size", size, "--pid-file",
             str(self.pid_file), "--log-file", str(self.log_file)],
            capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError(f"scripts/xvfb-start.sh failed ({out.returncode}): {out.stderr}")
        m = re.search(r"^DISPLAY=(:\d+)$", out.stdout, re.M)
        assert m, f"xvfb-start.sh printed no DISPLAY: {out.stdout!r}"
        self.display = m.group(1)
        self.pid = int(self.pid_file.read_text())
        stack.push(self.stop)
        log(f"{name}: Xvfb {self.display} pid {self.pid}")

    def stop(self):
        Xvfb.stop_pid(self.pid)

    @staticmethod
    def stop_pid(pid: int):
        # xvfb-start.sh runs Xvfb as a session leader: its pid is its process group.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, sig)
            for _ in range(50):
                if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
                    return
                time.sleep(0.05)

    def env(self) -> dict:
        env = dict(os.environ)
        env["DISPLAY"] = self.display
        env.pop("WAYLAND_DISPLAY", None)
        return env


def _is_zombie(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    return True
