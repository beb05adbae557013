"""The RDP servers under test: Deskpod (the real binary) and WestonRdp (weston's RDP backend,
the reference peer), behind one Server interface; solid_session() for either."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from pathlib import Path

from . import config
from .config import PASSWORD
from .net import free_port, http_get, tcp_open
from .processes import Proc, Stack, check_no_sanitizer_report, tail, wait_until


class Server:
    kind = "?"
    rdp_port: int
    proc: Proc
    runtime_dir: Path
    socket_name: str

    def wayland_env(self) -> dict:
        env = dict(os.environ)
        env.pop("DISPLAY", None)
        env["XDG_RUNTIME_DIR"] = str(self.runtime_dir)
        env["WAYLAND_DISPLAY"] = self.socket_name
        return env

    def capture(self, path: Path) -> Path | None:
        """The desktop's own pixels, or None when the server offers no way to read them."""
        raise NotImplementedError

    def after_client_connected(self):
        """Weston creates its seat only when a client connects; deskpod needs nothing."""

    def alive(self) -> bool:
        return self.proc.alive()


def make_runtime_dir(workdir: Path) -> Path:
    d = workdir / "xdg-runtime"
    d.mkdir(mode=0o700)
    os.chmod(d, 0o700)
    return d


class Deskpod(Server):
    kind = "deskpod"

    def __init__(self, stack: Stack, workdir: Path, session: str, size: str = "1024x768",
                 extra: list[str] | None = None, env_extra: dict | None = None,
                 password: str = PASSWORD, wait_ready: bool = True, log_level: str = "debug"):
        if not config.DESKPOD_BIN.exists():
            raise AssertionError(f"deskpod binary not found at {config.DESKPOD_BIN} "
                                 "(build it first)")
        self.workdir = workdir
        self.size = size
        self.rdp_port = free_port()
        self.http_port = free_port()
        self.runtime_dir = make_runtime_dir(workdir)
        self.state_dir = workdir / "state"
        self.socket_name = f"wayland-it-{os.getpid()}-{self.rdp_port}"
        argv = [config.DESKPOD_BIN, "--rdp", f"127.0.0.1:{self.rdp_port}",
                "--http", f"127.0.0.1:{self.http_port}", "--guac", "off", "--size", size,
                "--state-dir", self.state_dir, "--wayland-socket", self.socket_name,
                "--session", session, "--log-level", log_level, *(extra or [])]
        env = dict(os.environ)
        # Never draw into (or be confused by) the developer's own display; the x11 test passes
        # its Xvfb in env_extra.
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("DISPLAY", None)
        env["XDG_RUNTIME_DIR"] = str(self.runtime_dir)
        env["DESKPOD_PASSWORD"] = password
        # The session inherits the environment: keep test tools reachable.
        env["DESKPOD_TEST_CLIENT"] = str(config.TEST_CLIENT)
        env.update(env_extra or {})
        self.proc = Proc("deskpod", argv, workdir / "deskpod.log", env=env)
        stack.push(self.stop)
        if wait_ready:
            self.wait_ready()

    def stop(self) -> int | None:
        """Stops deskpod (TERM, then KILL), then fails the test with SanitizerReport when its
        log has a sanitizer report: in a sanitizer build (scripts/test --sanitize) a memory
        error, leak, undefined behaviour or data race in deskpod or its session fails the test
        even when the test saw nothing wrong. LeakSanitizer reports at exit, so the grace period
        is long enough for a sanitizer build to exit."""
        code = self.proc.stop(grace=15.0)
        check_no_sanitizer_report("deskpod", self.proc.output(), str(self.proc.log_path))
        return code

    def wait_ready(self, timeout: float = 60):
        def ready():
            assert self.proc.alive(), (f"deskpod exited with {self.proc.popen.returncode}:\n"
                                       + tail(self.proc.output()))
            return http_get(self.http_port, "/readyz")[0] == 200

        wait_until(ready, timeout, "deskpod /readyz to answer 200")

    def healthz(self) -> int:
        return http_get(self.http_port, "/healthz")[0]

    def metrics(self) -> str:
        return http_get(self.http_port, "/metrics")[1]

    def capture(self, path: Path) -> Path:
        """The desktop's own pixels, through wlr-screencopy (grim)."""
        r = subprocess.run(["grim", str(path)], env=self.wayland_env(), capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError(f"grim could not capture the deskpod desktop: {r.stderr.strip()}")
        return path


class WestonRdp(Server):
    """weston 10's RDP backend: the reference peer (accepts any password)."""

    kind = "weston"

    def __init__(self, stack: Stack, workdir: Path, session: str | None, size: str = "1024x768",
                 shell: str = "kiosk-shell.so", extra: list[str] | None = None):
        self.workdir = workdir
        self.size = size
        self.session = session
        self.stack = stack
        self.rdp_port = free_port()
        self.runtime_dir = make_runtime_dir(workdir)
        self.socket_name = f"wayland-weston-{os.getpid()}-{self.rdp_port}"
        cert, key = workdir / "tls.crt", workdir / "tls.key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=deskpod-test"],
                       check=True, capture_output=True, timeout=60)
        w, h = size.split("x")
        argv = ["weston", "--backend=rdp-backend.so", "--no-config", f"--shell={shell}",
                "--debug", "-i", "0", f"--width={w}", f"--height={h}", "--address=127.0.0.1",
                f"--port={self.rdp_port}", f"--rdp-tls-cert={cert}", f"--rdp-tls-key={key}",
                f"--socket={self.socket_name}", *(extra or [])]
        env = dict(os.environ)
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("DISPLAY", None)
        env["XDG_RUNTIME_DIR"] = str(self.runtime_dir)
        self.proc = Proc("weston", argv, workdir / "weston.log", env=env)
        stack.push(self.proc.stop)
        self.session_proc = None
        wait_until(lambda: self._check_alive() and tcp_open(self.rdp_port)
                   and (self.runtime_dir / self.socket_name).exists(),
                   60, "weston's RDP port and Wayland socket")

    def _check_alive(self):
        assert self.proc.alive(), f"weston exited:\n{tail(self.proc.output())}"
        return True

    def after_client_connected(self):
        if self.session and self.session_proc is None:
            # The seat appears when the RDP peer activates; clients started before exit.
            time.sleep(1.0)
            self.session_proc = Proc("session", ["/bin/sh", "-c", self.session],
                                     self.workdir / "session.log", env=self.wayland_env())
            self.stack.push(self.session_proc.stop)

    def capture(self, path: Path) -> None:
        # weston 10 has no wlr-screencopy (grim) and weston-screenshooter fails on the RDP
        # backend: the weston reference run checks the expected colour only.
        return None


def solid_session(color: str) -> str:
    """A session whose whole desktop is one known colour."""
    if config.SERVER_KIND == "weston":
        # The reference run has no deskpod test client: a borderless terminal in kiosk-shell
        # with that background is nearly one colour.
        return f"foot -o colors.background={color} -o pad=0x0"
    return f"{shlex.quote(str(config.TEST_CLIENT))} --color {color}"
