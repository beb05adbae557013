"""The clients the tests connect with: xfreerdp (RdpClient, run_auth_only) in a private Xvfb."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .config import PASSWORD, USER
from .processes import Proc, Stack, wait_until
from .xservers import Xvfb

# xfreerdp codec selections. FreeRDP 2.11's xfreerdp: /rfx = RemoteFX surface bits, /nsc = NSCodec
# surface bits, /gfx = graphics pipeline. With none of them and /bpp:16 there is no RemoteFX/NSCodec
# capability (both need 32 bpp), -gfx keeps the graphics pipeline off: planar/interleaved bitmaps.
CODEC_FLAGS = {
    "rfx": ["/rfx", "-gfx"],
    "nsc": ["/nsc", "-gfx"],
    "bitmap": ["/bpp:16", "-gfx"],
    "gfx": ["/gfx"],
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

