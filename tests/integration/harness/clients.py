"""The clients the tests connect with: xfreerdp (RdpClient, run_auth_only) in a private Xvfb,
an RDP client that stops reading (StalledRdpClient), headless Chromium behind
js/browser_driver.mjs (Browser), and a raw guacd-protocol client (GuacWire)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from . import config
from .config import PASSWORD, USER
from .images import compare_images, image_size
from .net import metric_value
from .processes import Proc, Stack, tail, wait_until
from .xservers import Xvfb

# xfreerdp codec selections. FreeRDP 2.11's xfreerdp: /rfx = RemoteFX surface bits, /nsc = NSCodec
# surface bits, /gfx = graphics pipeline. With none of them and /bpp:16 there is no RemoteFX/NSCodec
# capability (both need 32 bpp), -gfx keeps the graphics pipeline off: planar/interleaved bitmaps.
CODEC_FLAGS = {
    "rfx": ["/rfx", "-gfx"],
    "nsc": ["/nsc", "-gfx"],
    "bitmap": ["/bpp:16", "-gfx"],
    "gfx": ["/gfx"],
    "none": [],  # the test passes its own flags
}


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

    def resize_window_until(self, server, w: int, h: int, timeout: float = 30):
        """Resizes the client's window (xfreerdp /dynamic-resolution asks for the new size
        through Display Control) until the server's desktop is w x h."""
        env = self.xvfb.env()
        tries = [0]

        def size(width, height):
            subprocess.run(["xdotool", "windowsize", self.window, str(width), str(height)],
                           env=env, check=True, capture_output=True, timeout=10)

        def resized():
            text = server.metrics()
            if (metric_value(text, "deskpod_desktop_width"),
                    metric_value(text, "deskpod_desktop_height")) == (w, h):
                return True
            # xfreerdp may drop a resize (too soon after its last one, or before its display
            # channel is up); the same size again makes no new X event, so wiggle first.
            if tries[0] % 5 == 0:
                if tries[0]:
                    size(w - 2, h)
                size(w, h)
            tries[0] += 1
            return False

        wait_until(resized, timeout, f"the desktop to become {w}x{h}", interval=1.0)


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


class StalledRdpClient:
    """tests/clients/deskpod-stalled-rdp-client: logs in with NLA, opens the clipboard channel,
    then never reads again while it sends what it is told (`clip N`, `move N MS`)."""

    def __init__(self, stack: Stack, workdir: Path, name: str, port: int,
                 size: str = "1024x768", password: str = PASSWORD, user: str = USER):
        if not config.STALLED_RDP_CLIENT.exists():
            raise AssertionError(f"{config.STALLED_RDP_CLIENT} not found (build the tests)")
        self.name = name
        env = dict(os.environ)
        # FreeRDP keeps known hosts and its config under $HOME: keep it per test.
        env["HOME"] = str(workdir / f"{name}-home")
        Path(env["HOME"]).mkdir(exist_ok=True)
        self.proc = Proc(name, [config.STALLED_RDP_CLIENT, "--port", str(port), "--user", user,
                                "--password", password, "--size", size],
                         workdir / f"{name}.log", env=env, stdin=subprocess.PIPE)
        stack.push(self.proc.stop)
        self.wait_for("stopped reading", 60)

    def wait_for(self, line: str, timeout: float):
        def seen():
            assert self.proc.alive(), (f"{self.name} exited with {self.proc.popen.returncode}:\n"
                                       f"{tail(self.proc.output())}")
            return line in self.proc.output().splitlines()

        wait_until(seen, timeout, f"{self.name} to print {line!r}")

    def command(self, line: str):
        self.proc.popen.stdin.write(f"{line}\n".encode())
        self.proc.popen.stdin.flush()


# ---------------------------------------------------------------------------------------------
# Headless Chromium (the built-in web client, guacamole-common-js)


def browser_missing() -> str | None:
    if not shutil.which("node"):
        return "node is not installed (scripts/bootstrap installs it)"
    if not Path(config.CHROMIUM).exists():
        return f"{config.CHROMIUM} is not installed (scripts/bootstrap installs chromium)"
    if not (config.NODE_MODULES / "playwright-core").exists():
        return (f"playwright-core not installed in {config.NODE_MODULES} (meson builds it with "
                "npm ci)")
    return None


class Browser:
    """Headless Chromium behind browser_driver.mjs: one JSON command per line."""

    def __init__(self, stack, workdir: Path, name: str = "chromium", scale: float = 1):
        env = dict(os.environ, DESKPOD_NODE_MODULES=str(config.NODE_MODULES),
                   CHROMIUM=config.CHROMIUM, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1",
                   DESKPOD_BROWSER_SCALE=str(scale))
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        self.log_path = workdir / f"{name}.log"
        self.popen = subprocess.Popen(
            ["node", str(config.BROWSER_DRIVER), str(workdir / f"{name}-profile")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log_path.open("w"),
            text=True, env=env, start_new_session=True)
        stack.push(self.close)

    def __call__(self, op: str, **args):
        self.popen.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.popen.stdin.flush()
        line = self.popen.stdout.readline()
        if not line:
            raise AssertionError(f"browser driver died:\n{tail(self.log_path.read_text())}")
        answer = json.loads(line)
        if not answer["ok"]:
            raise AssertionError(f"browser {op} failed: {answer['error']}")
        return answer["value"]

    def wait(self, expression: str, timeout: float = 30):
        self("waitFor", expression=expression, timeout=int(timeout * 1000))

    def close(self):
        if self.popen.poll() is None:
            try:
                self.popen.stdin.write(json.dumps({"op": "close"}) + "\n")
                self.popen.stdin.flush()
                self.popen.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.popen.pid, 9)
                self.popen.wait()


def wait_picture_matches(test, server, browser, selector: str, tag: str, timeout: float = 30):
    """Screenshots `selector` until it matches the desktop's own pixels (grim)."""
    state = {}

    def matches():
        shot = test.workdir / f"{tag}-browser.png"
        desk = test.workdir / f"{tag}-desktop.png"
        browser("screenshot", selector=selector, path=str(shot))
        server.capture(desk)
        (sw, sh), (dw, dh) = image_size(shot), image_size(desk)
        if (sw, sh) != (dw, dh) and 0 <= sw - dw <= 2 and 0 <= sh - dh <= 2:
            # Element screenshots round a fractional layout box up by a pixel.
            subprocess.run(["convert", str(shot), "-crop", f"{dw}x{dh}+0+0", "+repage",
                            str(shot)], check=True)
        if image_size(shot) != image_size(desk):
            state["diff"] = f"sizes differ: {image_size(shot)} vs {image_size(desk)}"
            return False
        diff = compare_images(shot, desk)
        state["diff"] = diff
        return diff.differing <= 0.01 and diff.mean_abs <= 4.0

    try:
        wait_until(matches, timeout, f"the browser's picture ({tag}) to match the desktop",
                   interval=0.5)
    except AssertionError as e:
        raise AssertionError(f"{e}; last: {state.get('diff')}; images in {tag}-*.png") from None
    return state["diff"]


# ---------------------------------------------------------------------------------------------
# The guacd protocol


def enc(*elements) -> bytes:
    return "".join(
        ("," if i else "") + f"{len(str(e))}.{e}" for i, e in enumerate(elements)).encode() + b";"


class GuacWire:
    """A minimal guacd-protocol client over TCP (ASCII only, which is all these tests send)."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = ""

    def send(self, *elements):
        self.sock.sendall(enc(*elements))

    def read(self, timeout: float = 10):
        deadline = time.monotonic() + timeout
        while True:
            parsed = self._parse_one()
            if parsed is not None:
                return parsed
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            data = self.sock.recv(1 << 20)
            if not data:
                return None
            self.buf += data.decode()

    def _parse_one(self):
        elements, i = [], 0
        while True:
            dot = self.buf.find(".", i)
            if dot < 0:
                return None
            n = int(self.buf[i:dot])
            if dot + 1 + n >= len(self.buf):
                return None
            elements.append(self.buf[dot + 1:dot + 1 + n])
            term = self.buf[dot + 1 + n]
            i = dot + 2 + n
            if term == ";":
                self.buf = self.buf[i:]
                return elements

    def until(self, opcode: str, timeout: float = 15, on_each=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ins = self.read(deadline - time.monotonic())
            if ins is None:
                raise AssertionError(f"connection closed while waiting for {opcode}")
            if on_each:
                on_each(ins)
            if ins[0] == "sync":
                self.send("sync", ins[1])
            if ins[0] == opcode:
                return ins
        raise AssertionError(f"no {opcode} within {timeout}s")


def guac_handshake(test, wire: GuacWire, width=800, height=600, version="VERSION_1_5_0",
                   dpi=96, images=("image/png", "image/jpeg")) -> str:
    """The 1.5.0 handshake for the rdp protocol, checked with `test`'s assertions; returns the
    connection id from `ready`."""
    wire.send("select", "rdp")
    args = wire.read()
    test.assertEqual(args[0], "args")
    test.assertEqual(args[1], "VERSION_1_5_0")
    for ins in (("size", width, height, dpi), ("audio",), ("video",),
                ("image", *images), ("timezone", "UTC")):
        wire.send(*ins)
    wire.send("connect", version, *([""] * (len(args) - 2)))
    ready = wire.read()
    test.assertEqual(ready[0], "ready")
    test.assertTrue(ready[1].startswith("$"))
    return ready[1]
