"""Integration test harness: a real deskpod (or weston's RDP backend as a reference), real
xfreerdp clients inside private Xvfb servers, screenshots and pixel comparison.

Everything a test starts is registered with a Stack and torn down in reverse order, by process
group, even when the test fails. Each test gets its own ports, displays, runtime dir and state
dir, so test modules run in parallel. On failure the test's work dir (server and client logs,
screenshots) is kept under $DESKPOD_TEST_ARTIFACTS/<test id>/.

Environment (set by tests/integration/meson.build; defaults allow running a module by hand):
  DESKPOD_BIN            the deskpod executable
  DESKPOD_TEST_CLIENT    tests/clients/deskpod-test-client
  DESKPOD_SOURCE_ROOT    the repository (for scripts/xvfb-start.sh)
  DESKPOD_TEST_ARTIFACTS where failing tests leave their logs and screenshots
  DESKPOD_IT_SERVER      "deskpod" (default) or "weston": run the server-agnostic tests against
                         weston's RDP backend, to check the harness itself
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

# tests/integration (this file is tests/integration/harness/testcase.py).
HERE = Path(__file__).resolve().parent.parent
SOURCE_ROOT = Path(os.environ.get("DESKPOD_SOURCE_ROOT", HERE.parent.parent))
DESKPOD_BIN = Path(os.environ.get("DESKPOD_BIN", SOURCE_ROOT / "build" / "deskpod"))
TEST_CLIENT = Path(
    os.environ.get("DESKPOD_TEST_CLIENT", DESKPOD_BIN.parent / "tests/clients/deskpod-test-client")
)
ARTIFACTS = Path(
    os.environ.get("DESKPOD_TEST_ARTIFACTS", DESKPOD_BIN.parent / "meson-logs" / "integration")
)
XVFB_START = SOURCE_ROOT / "scripts" / "xvfb-start.sh"
SERVER_KIND = os.environ.get("DESKPOD_IT_SERVER", "deskpod")

def running_on_ci() -> bool:
    """CI sets CI=true; "", "0" and "false" mean not CI (same rule as tests/support/gtest_main.cpp)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def _fail_skips_on_ci() -> None:
    """Under CI a skipped test is a failure: a skip that can happen on CI proves nothing there.
    Installed once, here, for every module that imports the harness (the deployment tests do
    too, through deploy_common). It replaces unittest's addSkip, so skip decorators, skipTest()
    and SkipTest raised in setUpClass are all caught; outside CI a skip still prints its reason."""
    if not running_on_ci():
        return

    def add_skip(result, test, reason):
        try:
            raise AssertionError(f"skipped under CI={os.environ.get('CI')!r}, and on CI a skip "
                                 f"is a failure (docs/testing.md): {reason}") from None
        except AssertionError:
            result.addFailure(test, sys.exc_info())

    unittest.TestResult.addSkip = add_skip
    unittest.TextTestResult.addSkip = add_skip


_fail_skips_on_ci()

PASSWORD = "It-s3cret-pw"
USER = "deskpod"

# xfreerdp codec selections. FreeRDP 2.11's xfreerdp: /rfx = RemoteFX surface bits, /nsc = NSCodec
# surface bits, /gfx = graphics pipeline. With none of them and /bpp:16 there is no RemoteFX/NSCodec
# capability (both need 32 bpp), -gfx keeps the graphics pipeline off: planar/interleaved bitmaps.
CODEC_FLAGS = {
    "rfx": ["/rfx", "-gfx"],
    "nsc": ["/nsc", "-gfx"],
    "bitmap": ["/bpp:16", "-gfx"],
    "gfx": ["/gfx"],
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):
    """Polls predicate() until it returns a truthy value; raises AssertionError naming `what`.
    The timeout is a hang guard, never a measured threshold."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - reported when the wait gives up
            last_exc = e
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_exc!r})" if last_exc else ""
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)


def http_get(port: int, path: str, timeout: float = 2.0) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def tcp_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


def connect_from(source: str, port: int, timeout: float = 5.0) -> socket.socket:
    """A TCP connection to 127.0.0.1:port from the loopback address `source` (Linux routes
    all of 127.0.0.0/8 to lo, so 127.0.0.2, 127.0.0.3 ... act as distinct client addresses).
    Returned non-blocking, ready for still_open()."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((source, 0))
        sock.settimeout(timeout)
        sock.connect(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    # A Python socket timeout would make still_open() wait instead of peeking.
    sock.setblocking(False)
    return sock


def still_open(sock: socket.socket) -> bool:
    """True while the server has neither closed nor reset the connection. Discards what the
    server sent (e.g. an X.224 Connection Confirm) so that a close behind it is seen. The socket
    must be non-blocking."""
    try:
        while True:
            if sock.recv(4096, socket.MSG_DONTWAIT) == b"":
                return False
    except BlockingIOError:
        return True
    except OSError:
        return False


def metric_value(text: str, name: str, labels: dict | None = None) -> float | None:
    """The value of one sample in Prometheus text (`labels` must match exactly), or None."""
    want = ",".join(f'{k}="{v}"' for k, v in (labels or {}).items())
    key = f"{name}{{{want}}}" if want else name
    for line in text.splitlines():
        if not line.startswith("#") and line.rsplit(" ", 1)[0] == key:
            return float(line.rsplit(" ", 1)[1])
    return None


class Proc:
    """A child in its own process group, output to a log file; stop() ends the whole group."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict | None = None,
                 cwd: Path | None = None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self._log.write(f"$ {shlex.join(self.argv)}\n".encode())
        self._log.flush()
        log(f"start {name}: {shlex.join(self.argv)}")
        self.popen = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                      start_new_session=True)
        self.pid = self.popen.pid
        self.started = time.monotonic()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout)

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def stop(self, grace: float = 5.0) -> int | None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                log(f"{self.name} ignored SIGTERM for {grace}s; killing")
        # Whatever is left in the group (session children, helpers) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)
        self._log.close()
        return self.popen.returncode

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")


class Stack:
    """Cleanup callbacks run in reverse order; every one runs even if another raises."""

    def __init__(self):
        self._callbacks = []

    def push(self, fn, *args):
        self._callbacks.append((fn, args))

    def close(self):
        while self._callbacks:
            fn, args = self._callbacks.pop()
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001 - cleanup must go on
                log(f"cleanup {fn!r} failed: {e!r}")


# ---------------------------------------------------------------------------------------------
# Images


def image_size(path: Path) -> tuple[int, int]:
    out = subprocess.run(["identify", "-format", "%w %h", str(path)], check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[0]), int(out[1])


def raw_rgb(path: Path) -> tuple[int, int, bytes]:
    w, h = image_size(path)
    data = subprocess.run(["convert", str(path), "-alpha", "off", "-depth", "8", "rgb:-"],
                          check=True, capture_output=True).stdout
    if len(data) != w * h * 3:
        raise AssertionError(f"{path}: expected {w * h * 3} bytes of RGB, got {len(data)}")
    return w, h, data


class Diff:
    def __init__(self, mean_abs: float, differing: float, size_a, size_b):
        self.mean_abs = mean_abs  # mean absolute difference per channel, 0..255
        self.differing = differing  # fraction of pixels with any channel off by more than tol
        self.size_a = size_a
        self.size_b = size_b

    def __str__(self):
        return (f"mean abs diff {self.mean_abs:.2f}/255, {self.differing * 100:.2f}% pixels differ"
                f" (sizes {self.size_a} vs {self.size_b})")


def compare_images(a: Path, b: Path, tol: int = 24) -> Diff:
    """Mean absolute difference and the fraction of pixels that differ by more than `tol` in any
    channel. Different sizes compare as completely different."""
    wa, ha, da = raw_rgb(a)
    wb, hb, db = raw_rgb(b)
    if (wa, ha) != (wb, hb):
        return Diff(255.0, 1.0, (wa, ha), (wb, hb))
    n = wa * ha
    total = 0
    bad = 0
    # Row by row keeps memory flat; per-pixel work stays in tight generator expressions.
    stride = wa * 3
    for y in range(ha):
        ra = da[y * stride:(y + 1) * stride]
        rb = db[y * stride:(y + 1) * stride]
        if ra == rb:
            continue
        diffs = [abs(p - q) for p, q in zip(ra, rb)]
        total += sum(diffs)
        bad += sum(1 for i in range(0, stride, 3)
                   if diffs[i] > tol or diffs[i + 1] > tol or diffs[i + 2] > tol)
    return Diff(total / (n * 3), bad / n, (wa, ha), (wb, hb))


def color_fraction(path: Path, rgb: tuple[int, int, int], tol: int = 24) -> float:
    """Fraction of the image's pixels within `tol` of the colour in every channel."""
    w, h, data = raw_rgb(path)
    r0, g0, b0 = rgb
    hits = 0
    # Exact-colour runs are counted by bytes.count, the rest pixel by pixel.
    for i in range(0, len(data), 3):
        if (abs(data[i] - r0) <= tol and abs(data[i + 1] - g0) <= tol
                and abs(data[i + 2] - b0) <= tol):
            hits += 1
    return hits / (w * h)


def parse_rgb(hexstr: str) -> tuple[int, int, int]:
    return int(hexstr[0:2], 16), int(hexstr[2:4], 16), int(hexstr[4:6], 16)


# ---------------------------------------------------------------------------------------------
# X servers and RDP clients


class Xvfb:
    def __init__(self, stack: Stack, workdir: Path, size: str, name: str = "xvfb"):
        self.pid_file = workdir / f"{name}.pid"
        self.log_file = workdir / f"{name}.log"
        out = subprocess.run(
            [str(XVFB_START), "--display", "auto", "--size", size, "--pid-file",
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


class RdpClient:
    """xfreerdp in its own Xvfb, sized exactly like the remote desktop."""

    def __init__(self, stack: Stack, workdir: Path, name: str, port: int, size: str,
                 codec: str = "rfx", password: str = PASSWORD, user: str = USER,
                 extra: list[str] | None = None, xvfb: Xvfb | None = None,
                 log_level: str = "INFO"):
        self.workdir = workdir
        self.name = name
        self.size = size
        self.xvfb = xvfb or Xvfb(stack, workdir, size, name=f"{name}-xvfb")
        # stdbuf: wLog writes to stdout through stdio; without line buffering a killed client
        # loses its last (most interesting) lines.
        argv = ["stdbuf", "-oL", "-eL", "xfreerdp", f"/v:127.0.0.1:{port}", f"/u:{user}", f"/p:{password}",
                "/cert:ignore", f"/size:{size}", "+clipboard", "-wallpaper",
                f"/log-level:{log_level}", *CODEC_FLAGS[codec], *(extra or [])]
        env = self.xvfb.env()
        # xfreerdp keeps known hosts and its config under $HOME: keep it per test.
        env["HOME"] = str(workdir / f"{name}-home")
        Path(env["HOME"]).mkdir(exist_ok=True)
        self.proc = Proc(name, argv, workdir / f"{name}.log", env=env)
        stack.push(self.proc.stop)
        self.window = None

    def find_window(self, timeout: float = 30) -> str:
        def search():
            assert self.proc.alive(), f"{self.name} exited with {self.proc.popen.returncode}"
            r = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(self.proc.pid)],
                               env=self.xvfb.env(), capture_output=True, text=True)
            ids = r.stdout.split()
            return ids[0] if ids else None

        self.window = wait_until(search, timeout, f"{self.name}'s window")
        return self.window

    def screenshot(self, path: Path) -> Path:
        target = self.window or "root"
        subprocess.run(["import", "-display", self.xvfb.display, "-window", target, str(path)],
                       check=True, capture_output=True, timeout=30)
        return path

    def focus(self):
        win = self.window or self.find_window()
        env = self.xvfb.env()
        subprocess.run(["xdotool", "windowactivate", "--sync", win], env=env, capture_output=True,
                       timeout=10)
        subprocess.run(["xdotool", "windowfocus", "--sync", win], env=env, check=True,
                       capture_output=True, timeout=10)
        # A click in the middle gives the remote desktop's window keyboard focus as a person would.
        w, h = (int(v) for v in self.size.split("x"))
        subprocess.run(["xdotool", "mousemove", "--window", win, str(w // 2), str(h // 2),
                        "click", "1"], env=env, check=True, capture_output=True, timeout=10)

    # Keys go through XTEST to the focused xfreerdp window, as a person's typing would.
    def type_text(self, text: str):
        subprocess.run(["xdotool", "type", "--delay", "50", text],
                       env=self.xvfb.env(), check=True, capture_output=True, timeout=60)

    def key(self, *keys: str):
        subprocess.run(["xdotool", "key", "--delay", "50", *keys], env=self.xvfb.env(),
                       check=True, capture_output=True, timeout=30)


def run_auth_only(workdir: Path, stack: Stack, name: str, port: int, password: str,
                  user: str = USER, timeout: float = 60,
                  xvfb: Xvfb | None = None) -> tuple[int, str]:
    """xfreerdp +auth-only: authenticates (NLA) and exits; 0 means the credentials worked.
    Pass `xvfb` to reuse an X server started earlier (e.g. before a timed situation)."""
    xvfb = xvfb or Xvfb(stack, workdir, "640x480", name=f"{name}-xvfb")
    env = xvfb.env()
    env["HOME"] = str(workdir / f"{name}-home")
    Path(env["HOME"]).mkdir(exist_ok=True)
    argv = ["stdbuf", "-oL", "-eL", "xfreerdp", "+auth-only", f"/v:127.0.0.1:{port}", f"/u:{user}", f"/p:{password}",
            "/cert:ignore", "/sec:nla", "/log-level:INFO"]
    proc = Proc(name, argv, workdir / f"{name}.log", env=env)
    stack.push(proc.stop)
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"xfreerdp +auth-only did not finish within {timeout}s") from None
    return code, proc.output()


# ---------------------------------------------------------------------------------------------
# Servers


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
        if not DESKPOD_BIN.exists():
            raise AssertionError(f"deskpod binary not found at {DESKPOD_BIN} (build it first)")
        self.workdir = workdir
        self.size = size
        self.rdp_port = free_port()
        self.http_port = free_port()
        self.runtime_dir = make_runtime_dir(workdir)
        self.state_dir = workdir / "state"
        self.socket_name = f"wayland-it-{os.getpid()}-{self.rdp_port}"
        argv = [DESKPOD_BIN, "--rdp", f"127.0.0.1:{self.rdp_port}",
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
        env["DESKPOD_TEST_CLIENT"] = str(TEST_CLIENT)
        env.update(env_extra or {})
        self.proc = Proc("deskpod", argv, workdir / "deskpod.log", env=env)
        stack.push(self.proc.stop)
        if wait_ready:
            self.wait_ready()

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
    if SERVER_KIND == "weston":
        # The reference run has no deskpod test client: a borderless terminal in kiosk-shell
        # with that background is nearly one colour.
        return f"foot -o colors.background={color} -o pad=0x0"
    return f"{shlex.quote(str(TEST_CLIENT))} --color {color}"


def needs_deskpod(test):
    """For tests of deskpod's own contract: skipped in the weston reference run."""
    return unittest.skipIf(SERVER_KIND != "deskpod", "checks deskpod itself")(test)


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------------------------------------
# Test base class


class IntegrationTest(unittest.TestCase):
    """Gives each test a work dir and a cleanup stack; keeps the work dir when the test fails."""

    keep_on_success = os.environ.get("DESKPOD_IT_KEEP", "") == "1"

    def setUp(self):
        self.workdir = Path(tempfile.mkdtemp(prefix="deskpod-it-"))
        self.stack = Stack()
        self._failed_before = self._failure_count()
        log(f"=== {self.id()} in {self.workdir}")

    def _failure_count(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if result is None:
            return 0
        return len(result.failures) + len(result.errors)

    def _test_failed(self) -> bool:
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        # Python 3.11: outcome.result collects failures; errors during the test end up there.
        if getattr(outcome, "success", True) is False:
            return True
        return self._failure_count() > self._failed_before

    def tearDown(self):
        self.stack.close()
        failed = self._test_failed()
        if failed or self.keep_on_success:
            dest = ARTIFACTS / self.id().split(".", 1)[-1]
            with contextlib.suppress(OSError):
                if dest.exists():
                    shutil.rmtree(dest)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copytree(self.workdir, dest, ignore=_ignore_sockets, symlinks=True)
                log(f"{'FAILED: ' if failed else ''}logs and screenshots kept in {dest}")
        shutil.rmtree(self.workdir, ignore_errors=True)

    # Helpers shared by the test modules ------------------------------------------------------

    def start_server(self, session: str, size: str = "1024x768", **kw) -> Server:
        if SERVER_KIND == "weston":
            kw.pop("extra", None)
            return WestonRdp(self.stack, self.workdir, session, size=size)
        return Deskpod(self.stack, self.workdir, session, size=size, **kw)

    def connect(self, server: Server, name: str = "client", codec: str = "rfx",
                **kw) -> RdpClient:
        client = RdpClient(self.stack, self.workdir, name, server.rdp_port, server.size,
                           codec=codec, **kw)
        client.find_window()
        server.after_client_connected()
        return client

    def assert_client_matches_desktop(self, server: Server, client: RdpClient, tag: str,
                                      timeout: float = 45, max_differing: float = 0.01,
                                      max_mean: float = 4.0, expect_color: str | None = None):
        """Waits until the client's screenshot shows what the desktop shows (grim), then returns
        the last comparison. Fails with both images kept for a person to look at."""
        state = {}

        def matches():
            assert client.proc.alive(), (f"{client.name} exited with "
                                         f"{client.proc.popen.returncode}:\n"
                                         f"{tail(client.proc.output())}")
            assert server.alive(), f"{server.kind} exited:\n{tail(server.proc.output())}"
            shot = client.screenshot(self.workdir / f"{tag}-client.png")
            desk = server.capture(self.workdir / f"{tag}-desktop.png")
            diff = compare_images(shot, desk) if desk else Diff(0.0, 0.0, "-", "-")
            state["diff"] = diff
            if expect_color:
                frac = color_fraction(shot, parse_rgb(expect_color))
                state["color"] = frac
                if frac < 0.95:
                    return False
            return diff.differing <= max_differing and diff.mean_abs <= max_mean

        try:
            wait_until(matches, timeout, f"{client.name}'s picture to match the desktop",
                       interval=0.5)
        except AssertionError as e:
            detail = f"; last comparison: {state.get('diff')}"
            if "color" in state:
                detail += f"; {state['color'] * 100:.1f}% of the client shows #{expect_color}"
            raise AssertionError(f"{e}{detail}; images in {tag}-client.png / {tag}-desktop.png"
                                 ) from None
        return state["diff"]


class SharedDeskpodTest(unittest.TestCase):
    """One deskpod (session `sleep infinity`, no Xwayland) and one client Xvfb shared by every
    test of the class, for tests that only open connections and log in (xfreerdp +auth-only)."""

    workdir_prefix = "deskpod-shared-"

    @classmethod
    def setUpClass(cls):
        cls.workdir = Path(tempfile.mkdtemp(prefix=cls.workdir_prefix))
        cls.addClassCleanup(shutil.rmtree, cls.workdir, ignore_errors=True)
        cls.stack = Stack()
        cls.addClassCleanup(cls.stack.close)
        cls.server = Deskpod(cls.stack, cls.workdir, "sleep infinity", extra=["--no-xwayland"])
        # Started up front, so that while a test holds handshake slots only xfreerdp itself
        # has to start.
        cls.xvfb = Xvfb(cls.stack, cls.workdir, "640x480", name="client-xvfb")

    def log_tail(self) -> str:
        return tail(self.server.proc.output())


def _ignore_sockets(directory, names):
    out = []
    for n in names:
        p = Path(directory) / n
        with contextlib.suppress(OSError):
            if p.is_socket() or p.is_fifo() or n == "xdg-runtime":
                out.append(n)
    return out
