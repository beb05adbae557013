#!/usr/bin/env python3
"""Side-by-side RDP benchmark: deskpod vs weston's RDP backend, same workloads, same client.

For each workload (terminal scroll, weston-simple-shm animation, full-screen repaint, idle) it runs
the workload under deskpod and under `weston --backend=rdp-backend.so` (kiosk-shell), one after the
other, connects the same xfreerdp (RemoteFX surface bits: `/rfx -gfx`) inside a private Xvfb, lets
it settle, then measures for --duration seconds:

  distinct fps       frames a person at the client sees per second: rows of the client window
                     (one across the middle; for simple-shm two across its 250x250 window in
                     each of its placements, the corner and the middle) read from the client's
                     X server every 2 ms, counted each time they change, the busiest row's
                     count (tests/bench/frame_counter.py). The figure to compare servers by
  KB / distinct frame  bytes on the wire / distinct frames
  delivered fps      client paints per second: xfreerdp's software-GDI EndPaint calls that had a
                     non-empty invalid region (logged at TRACE by com.freerdp.client.x11 as
                     "xf_lock_x11_ ... from xf_sw_end_paint"); the same client code path for both
                     servers, so a frame is what the client actually put on screen
  server CPU/frame   utime+stime of the server process only (all its threads, not the session's
                     apps) over the window, divided by delivered frames
  bytes/frame        bytes the client's TCP socket received (`ss -tin` bytes_received) / frames
  first frame        xfreerdp start to its first paint, split at the client's TCP connect, the
                     end of TLS/NLA and activation, from xfreerdp's own log lines; their
                     timestamps are corrected (see log_time); for deskpod also the server's
                     own split from deskpod_rdp_connect_phase_seconds
  RSS                server VmRSS at the end of the window

`--servers deskpod,weston,shadow` adds FreeRDP's own shadow server (`freerdp-shadow-cli`, the
peer that already sends H.264: it encodes with libavcodec's libx264) shadowing an Xvfb where the
workload's X11 variant runs (only `video` has one: mpv `--vo=x11`); its client asks for
`/gfx:AVC420`, its best path.

Workloads whose rate the app fixes (terminal-50, video, browser-scroll, animation's own pacing
aside) compare per second directly. `video` needs mpv and ffmpeg (the clip is made with
ffmpeg's lavfi sources), `browser-scroll` needs chromium; `scripts/bootstrap --bench` installs
them and weston.

Not pass/fail. Example:
  tests/bench/rdp_bench.py --duration 20 --size 1280x800 --write docs/performance.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
import harness as H  # noqa: E402
from frame_counter import RowSampler  # noqa: E402

PAINT_MARK = "from xf_sw_end_paint"
LOG_TS = re.compile(r"^\[(\d\d):(\d\d):(\d\d):(\d{3})\]")
# xfreerdp log lines that mark the steps of its connection (FreeRDP 2.11 client).
CLIENT_FILTERS = ",".join([
    "com.freerdp.client.x11:TRACE",        # paints (PAINT_MARK)
    "com.freerdp.core:DEBUG",              # "connecting to peer"
    "com.freerdp.core.connection:DEBUG",   # state transitions
])
CLIENT_STEPS = [
    # (key, first log line containing this marks the end of the step)
    ("tcp", "connecting to peer"),
    ("security", "--> CONNECTION_STATE_MCS_CONNECT"),   # TLS (and NLA) done
    ("active", "--> CONNECTION_STATE_ACTIVE"),
    ("paint", PAINT_MARK),
]
# deskpod's own split (deskpod_rdp_connect_phase_seconds), one connection per run.
SERVER_PHASES = ["request", "security", "handover", "capabilities", "activation", "first_frame",
                 "total"]

WORKLOADS = {
    # name: (description, session command; {client} = deskpod-test-client, {clip} = a 30 fps
    # video clip, {page} = a long page that scrolls itself, {profile} = a browser profile dir)
    "terminal": ("foot scrolling `seq` output",
                 "foot sh -c 'while :; do seq 1 2000000; done'"),
    # The app fixes this rate (50 lines a second), not the server, so per-second figures of
    # the two servers compare directly.
    "terminal-50": ("foot printing 50 lines a second",
                    "foot sh -c 'i=0; while :; do i=$((i+1)); "
                    "echo \"line $i: the quick brown fox jumps over the lazy dog\"; "
                    "sleep 0.02; done'"),
    "video": ("mpv playing a 30 fps clip of the desktop's size full screen (`--vo=wlshm`)",
              "mpv --vo=wlshm --fs --loop-file=inf --no-audio --no-osc --no-input-default-bindings "
              "--really-quiet {clip}"),
    "browser-scroll": ("Chromium (Wayland) showing a long article that scrolls itself 4 px "
                       "every 33 ms",
                       "chromium --ozone-platform=wayland --no-sandbox --no-first-run "
                       "--disable-gpu --user-data-dir={profile} --kiosk --app=file://{page}"),
    "animation": ("weston-simple-shm", "weston-simple-shm"),
    "fullscreen": ("test client repainting the whole output every frame",
                   "{client} --animate"),
    "idle": ("foot showing a shell prompt, nothing changing", "foot sh -c 'exec sleep infinity'"),
}


# The workloads FreeRDP's shadow server can run: X11 programs in the Xvfb it shadows.
X11_WORKLOADS = {
    "video": "mpv --vo=x11 --fs --loop-file=inf --no-audio --no-osc --no-input-default-bindings "
             "--really-quiet {clip}",
}


class FreerdpShadow:
    """freerdp-shadow-cli (FreeRDP 2.11's shadow server, X11 subsystem) serving an Xvfb in
    which `session` runs; no authentication, TLS with the certificate it makes itself."""

    kind = "shadow"

    def __init__(self, stack, workdir: Path, session: str, size: str):
        self.rdp_port = H.free_port()
        self.xvfb = H.Xvfb(stack, workdir, size, name="shadow-xvfb")
        env = self.xvfb.env()
        env["HOME"] = str(workdir / "shadow-home")
        Path(env["HOME"]).mkdir(exist_ok=True)
        self.proc = H.Proc("shadow", ["freerdp-shadow-cli", f"/port:{self.rdp_port}",
                                      "/bind-address:127.0.0.1", "-auth"],
                           workdir / "shadow.log", env=env)
        stack.push(self.proc.stop)
        self.session = H.Proc("session", ["/bin/sh", "-c", session], workdir / "session.log",
                              env=self.xvfb.env())
        stack.push(self.session.stop)
        H.wait_until(lambda: self._check_alive() and H.tcp_open(self.rdp_port), 60,
                     "the shadow server's port")

    def _check_alive(self):
        assert self.proc.alive(), f"freerdp-shadow-cli exited:\n{H.tail(self.proc.output())}"
        return True

    def alive(self) -> bool:
        return self.proc.alive()

    def after_client_connected(self):
        pass


# Rows sampled for distinct frames, as fractions of the client window's height or in pixels.
# simple-shm's 250x250 window sits in a corner in one server and in the middle in the other, so
# rows through each placement: its middle row (which crosses mostly the inner disc, whose
# colours step every 64 ms) and one 60 px from its top (through the ring and the outer band,
# which step every 32 and 16 ms). Measured under deskpod at 58 frames sent a second: the middle
# row changed 31 times a second, the upper one 58.
SAMPLE_ROWS = {"animation": ["60px", "125px", "mid-65px", "mid"]}

PAGE = """<!doctype html><meta charset=utf-8><title>scroll</title>
<style>body{font:16px/1.5 sans-serif;max-width:60em;margin:2em auto;color:#222;background:#fff}
h2{color:#245}</style><body><script>
const words = "the quick brown fox jumps over the lazy dog while a remote desktop sends only \
what changed and copies what moved".split(" ");
let seed = 7, html = "";
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
for (let s = 1; s <= 400; s++) {
  html += `<h2>Section ${s}</h2><p>`;
  for (let i = 0; i < 120; i++) html += words[Math.floor(rnd() * words.length)] + " ";
  html += "</p>";
}
document.body.innerHTML = html;
// The page fixes the rate: 4 px every 33 ms, whatever the display does.
setInterval(() => window.scrollBy(0, 4), 33);
</script>"""


def make_inputs(root: Path, size: str) -> dict:
    """The files workloads refer to; the clip only when ffmpeg exists."""
    page = root / "scroll.html"
    page.write_text(PAGE)
    inputs = {"page": str(page), "profile": str(root / "chromium-profile"), "clip": ""}
    if shutil.which("ffmpeg"):
        clip = root / "clip.mkv"
        # Smooth moving gradients with temporal grain: many colours in every tile and a new
        # picture every frame, like camera video.
        # Made at the desktop's size, so that mpv does not scale (its software scaler would
        # cost more CPU than either server).
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                        f"gradients=s={size}:r=30:speed=0.02:n=4,noise=alls=6:allf=t",
                        "-t", "40", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18",
                        "-pix_fmt", "yuv420p", str(clip)], check=True, timeout=300)
        inputs["clip"] = str(clip)
    return inputs


def samplers(workload: str, xvfb, window: str, size: str) -> list[RowSampler]:
    w, h = (int(v) for v in size.split("x"))
    out = []
    for row in SAMPLE_ROWS.get(workload, [0.5]):
        if row == "mid":
            y = h // 2
        elif isinstance(row, str) and row.startswith("mid-"):
            y = h // 2 - int(row[4:-2])
        else:
            y = int(row[:-2]) if isinstance(row, str) else int(h * row)
        out.append(RowSampler(xvfb.display, int(window, 0), y, 0, w))
    return out






def client_bytes(port: int) -> int:
    out = subprocess.run(["ss", "-tinH", "state", "established", "dst", f"127.0.0.1:{port}"],
                         capture_output=True, text=True, check=True).stdout
    return sum(int(m) for m in re.findall(r"bytes_received:(\d+)", out))


def paints(log_path: Path) -> list[str]:
    return [ln for ln in log_path.read_text(errors="replace").splitlines()
            if PAINT_MARK in ln and "xf_lock_x11_" in ln]


def metric_sum(server, name: str) -> float | None:
    """Sum of a deskpod /metrics counter over all its label sets (None for weston)."""
    if not isinstance(server, H.Deskpod):
        return None
    total = 0.0
    for line in server.metrics().splitlines():
        if line.startswith(name) and not line.startswith("#"):
            key = line.split()[0]
            if key == name or key.startswith(name + "{"):
                total += float(line.split()[-1])
    return total


def raw_clock() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC_RAW)


def log_time(line: str, day: dt.date, raw_minus_wall: float,
             not_before: float = 0.0) -> float | None:
    """When xfreerdp wrote a log line, on the CLOCK_MONOTONIC_RAW scale (seconds).

    WinPR 2.11 stamps log lines with GetLocalTime(), whose seconds come from time() but whose
    milliseconds are GetTickCount() % 1000, i.e. CLOCK_MONOTONIC_RAW milliseconds truncated to
    32 bits: the printed "HH:MM:SS:mmm" is off by up to a second. Taken literally (as this
    script did before), connect-to-first-frame figures were wrong by up to +-1 s. But within
    the wall-clock second HH:MM:SS there is exactly one raw millisecond T with
    (T mod 2^32) mod 1000 == mmm; that T is when the line was written. time() is a coarse
    clock that can still show the previous second a few ms into the next one; then T comes
    out 1 s early, which `not_before` (the previous line's time: lines are written in order)
    catches."""
    m = LOG_TS.match(line)
    if not m:
        return None
    h, mi, s, ms = (int(g) for g in m.groups())
    wall = dt.datetime(day.year, day.month, day.day, h, mi, s).timestamp()
    start = int((wall + raw_minus_wall) * 1000)  # raw ms when that wall second began
    for t in range(start - 1, start + 1000):
        if (t % 2**32) % 1000 == ms:
            if t / 1000 < not_before - 0.005:
                t += 1000
            return t / 1000
    return None


def client_times(log_path: Path, spawned_raw: float, raw_minus_wall: float) -> dict:
    """Seconds from starting xfreerdp to each CLIENT_STEPS line (absent: not reached)."""
    found = {}
    day = dt.date.today()
    last = spawned_raw
    for line in log_path.read_text(errors="replace").splitlines():
        t = log_time(line, day, raw_minus_wall, last)
        if t is None:
            continue
        last = max(last, t)
        for key, mark in CLIENT_STEPS:
            if key not in found and mark in line and (key != "paint" or "xf_lock_x11_" in line):
                found[key] = t - spawned_raw
    return found


def server_phases(server) -> dict:
    """deskpod's own connect phases (seconds) from /metrics; {} for weston."""
    if not isinstance(server, H.Deskpod):
        return {}
    text = server.metrics()
    out = {}
    for phase in SERVER_PHASES:
        v = H.metric_value(text, "deskpod_rdp_connect_phase_seconds_sum", {"phase": phase})
        n = H.metric_value(text, "deskpod_rdp_connect_phase_seconds_count", {"phase": phase})
        if v is not None and n:
            out[phase] = v / n
    return out


def run_one(server_kind: str, workload: str, args, workdir: Path) -> dict:
    desc, cmd = WORKLOADS[workload]
    if server_kind == "shadow":
        if workload not in X11_WORKLOADS:
            return {"server": server_kind, "workload": workload,
                    "error": "no X11 variant of this workload"}
        cmd = X11_WORKLOADS[workload]
    cmd = cmd.format(client=shlex.quote(str(args.test_client)),
                     **{k: shlex.quote(v) for k, v in args.inputs.items()})
    if "{profile}" in WORKLOADS[workload][1]:
        shutil.rmtree(args.inputs["profile"], ignore_errors=True)
    stack = H.Stack()
    result = {"server": server_kind, "workload": workload}
    try:
        if server_kind == "deskpod":
            server = H.Deskpod(stack, workdir, cmd, size=args.size, log_level="info",
                               env_extra=dict(args.deskpod_env))
        elif server_kind == "shadow":
            server = FreerdpShadow(stack, workdir, cmd, args.size)
        else:
            server = H.WestonRdp(stack, workdir, cmd, size=args.size)
        # The client's X server first, so that its start-up is not part of the client's time.
        xvfb = H.Xvfb(stack, workdir, args.size, name="client-xvfb")
        raw_minus_wall = raw_clock() - time.time()
        spawned_raw = raw_clock()
        # deskpod's client may ask for H.264 (--deskpod-codec avc420); weston's RDP backend has
        # no graphics pipeline, so its client keeps RemoteFX surface bits, its best path.
        # FreeRDP's shadow server sends H.264 to clients that take it: its best path too.
        avc = (server_kind == "deskpod" and args.deskpod_codec == "avc420") or \
            server_kind == "shadow"
        client = H.RdpClient(stack, workdir, "client", server.rdp_port, args.size,
                             codec="none" if avc else "rfx", log_level="WARN", xvfb=xvfb,
                             extra=[f"/log-filters:{CLIENT_FILTERS}",
                                    *(["/gfx:AVC420"] if avc else [])])
        client.find_window(timeout=60)
        server.after_client_connected()
        H.wait_until(lambda: paints(client.proc.log_path), 60, "the first paint")
        steps = client_times(client.proc.log_path, spawned_raw, raw_minus_wall)
        result["first_frame_s"] = steps.get("paint", float("nan"))
        prev = 0.0
        for key, _ in CLIENT_STEPS:
            if key in steps:
                result[f"client_{key}_s"] = steps[key] - prev
                prev = steps[key]
        for phase, seconds in server_phases(server).items():
            result[f"server_{phase}_s"] = seconds
        time.sleep(args.warmup + (6 if workload == "browser-scroll" else 0))
        assert client.proc.alive() and server.alive(), "client or server died during warm-up"
        rows = samplers(workload, xvfb, client.window, args.size)
        for r in rows:
            r.start()
        p0, c0, b0 = len(paints(client.proc.log_path)), H.cpu_seconds(server.proc.pid), \
            client_bytes(server.rdp_port)
        m0 = metric_sum(server, "deskpod_frames_sent_total")
        t0 = time.monotonic()
        time.sleep(args.duration)
        m1 = metric_sum(server, "deskpod_frames_sent_total")
        p1, c1, b1 = len(paints(client.proc.log_path)), H.cpu_seconds(server.proc.pid), \
            client_bytes(server.rdp_port)
        elapsed = time.monotonic() - t0
        # A frame changes at least one of the sampled rows; the busiest row counts them.
        distinct = max(r.stop() for r in rows)
        assert client.proc.alive() and server.alive(), "client or server died during the run"
        frames = p1 - p0
        result.update(
            frames=frames, seconds=elapsed, fps=frames / elapsed, cpu_s=c1 - c0,
            bytes=b1 - b0, rss_mb=H.rss_mb(server.proc.pid),
            cpu_ms_per_frame=(c1 - c0) * 1000 / frames if frames else float("nan"),
            kb_per_frame=(b1 - b0) / 1024 / frames if frames else float("nan"),
            server_fps=(m1 - m0) / elapsed if m0 is not None and m1 is not None else None,
            distinct_frames=distinct, distinct_fps=distinct / elapsed,
            kb_per_distinct=(b1 - b0) / 1024 / distinct if distinct else float("nan"),
            mb_per_s=(b1 - b0) / 1e6 / elapsed, cpu_per_s=(c1 - c0) / elapsed,
        )
    except (AssertionError, OSError, subprocess.SubprocessError) as e:
        result["error"] = str(e).splitlines()[0][:200]
        H.log(f"{server_kind}/{workload} failed: {e}")
    finally:
        stack.close()
    H.log(f"{server_kind}/{workload}: {result}")
    return result


def fmt(v, spec):
    if v is None or (isinstance(v, float) and v != v):
        return "–"
    if isinstance(v, list):  # several runs: median (min–max)
        if len(v) == 1:
            return format(v[0], spec)
        return f"{format(median(v), spec)} ({format(min(v), spec)}–{format(max(v), spec)})"
    return format(v, spec)


def median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def aggregate(runs: list[dict]) -> dict:
    """One row per (server, workload): each figure as the list of its values over --repeat
    runs (a run without it, e.g. one that failed, contributes nothing)."""
    out = {}
    for r in runs:
        for key, value in r.items():
            if isinstance(value, (int, float)) and value == value:
                out.setdefault(key, []).append(float(value))
            elif key == "error":
                out.setdefault("errors", []).append(value)
    return out


def ratio(a, b):
    if isinstance(a, list):
        a = median(a) if a else None
    if isinstance(b, list):
        b = median(b) if b else None
    if a is None or b is None or a != a or b != b or b == 0:
        return "–"
    return f"{a / b:.2f}"


METRICS = [
    ("distinct frames / s at the client", "distinct_fps", ".1f"),
    ("MB / s on the wire", "mb_per_s", ".2f"),
    ("server CPU s / s", "cpu_per_s", ".3f"),
    ("KB / distinct frame", "kb_per_distinct", ".1f"),
    ("delivered fps (client paints)", "fps", ".1f"),
    ("server CPU ms / frame", "cpu_ms_per_frame", ".2f"),
    ("server CPU s (whole window)", "cpu_s", ".2f"),
    ("KB / frame on the wire", "kb_per_frame", ".1f"),
    ("MB on the wire (whole window)", "mb", ".2f"),
    ("connect to first frame, s", "first_frame_s", ".2f"),
    ("↳ xfreerdp start → TCP connect, s", "client_tcp_s", ".2f"),
    ("↳ TCP connect → TLS/NLA done, s", "client_security_s", ".2f"),
    ("↳ TLS/NLA done → activated (MCS, channels, capabilities), s", "client_active_s", ".2f"),
    ("↳ activated → first paint, s", "client_paint_s", ".2f"),
    ("server: accept → first frame written, s (deskpod only)", "server_total_s", ".3f"),
    ("server: TLS+NLA, s (deskpod only)", "server_security_s", ".3f"),
    ("server: activated → first frame written, s (deskpod only)", "server_first_frame_s", ".3f"),
    ("server RSS, MB", "rss_mb", ".0f"),
    ("frames/s the server reports sending (deskpod /metrics only)", "server_fps", ".1f"),
]


def markdown(results: list[dict], args, command: str) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    versions = []
    for pkg in ("freerdp2-x11", "weston", "freerdp2-shadow-x11"):
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True,
                             text=True)
        versions.append(f"{pkg} {out.stdout.strip() or '?'}")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    lines = [
        f"Command: `{command}`",
        "",
        f"Date: {now}. Machine: {cpu}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}; {', '.join(versions)}; "
        f"load average at the end {load}.",
        f"Desktop {args.size}, client xfreerdp `/rfx -gfx` (RemoteFX surface bits) in Xvfb"
        + (", deskpod's with `/gfx:AVC420` instead" if args.deskpod_codec == "avc420" else "")
        + (", the shadow server's with `/gfx:AVC420`" if "shadow" in args.servers_list else "")
        + ", "
        f"{args.warmup:g} s warm-up, {args.duration:g} s measured per run"
        + (f"; {args.repeat} runs of each, alternating servers, shown as median (min–max), "
           "ratios of medians." if args.repeat > 1 else "."),
        "",
    ]
    for r in results:
        if "bytes" in r:
            r["mb"] = r["bytes"] / 1e6
    by = {}
    for r in results:
        by.setdefault((r["server"], r["workload"]), []).append(r)
    by = {k: aggregate(v) for k, v in by.items()}
    for workload in args.workloads:
        desc = WORKLOADS[workload][0]
        servers = [k for k in args.servers_list if k != "deskpod"]
        lines += [f"**{workload}** ({desc})", "",
                  "| metric | deskpod | " + " | ".join(servers) + " | "
                  + " | ".join(f"deskpod/{k}" for k in servers) + " |",
                  "|---|---:|" + "---:|" * (2 * len(servers))]
        d = by.get(("deskpod", workload), {})
        others = [by.get((k, workload), {}) for k in servers]
        for label, key, spec in METRICS:
            if key.startswith("server_") and key != "server_fps" and key not in d:
                continue  # an older deskpod without the phase metric
            lines.append(f"| {label} | {fmt(d.get(key), spec)} | "
                         + "".join(f"{fmt(o.get(key), spec)} | " for o in others)
                         + "".join(f"{ratio(d.get(key), o.get(key))} | " for o in others).rstrip())
        for name, r in [("deskpod", d), *zip(servers, others)]:
            for error in r.get("errors", []):
                lines.append(f"\n{name}: a run did not complete: {error}")
            if not r:
                lines.append(f"\n{name}: not run")
        lines.append("")
    return "\n".join(lines)


def write_doc(path: Path, table: str):
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    text = path.read_text() if path.exists() else f"# Performance\n\n{begin}\n{end}\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{table}\n{end}{tail}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--duration", type=float, default=20, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=3, help="seconds after the first frame")
    ap.add_argument("--size", default="1280x800")
    ap.add_argument("--workloads", default=",".join(WORKLOADS),
                    help=f"comma-separated subset of {','.join(WORKLOADS)}")
    ap.add_argument("--servers", default="deskpod,weston",
                    help="comma-separated: deskpod, weston (its RDP backend), shadow "
                    "(freerdp-shadow-cli, X11 workloads only)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each workload and server (alternating); figures are shown as "
                    "median (min–max). Useful for connect-to-first-frame, which varies by 0.1 s "
                    "steps (xfreerdp 2 polls every 100 ms while it connects)")
    ap.add_argument("--deskpod", type=Path, default=H.DESKPOD_BIN)
    ap.add_argument("--deskpod-codec", choices=["rfx", "avc420"], default="rfx",
                    help="what deskpod's client asks for: rfx (`/rfx -gfx`, as weston's) or "
                         "avc420 (`/gfx:AVC420`: the pipeline with H.264)")
    ap.add_argument("--deskpod-env", action="append", default=[], metavar="NAME=VALUE",
                    help="extra environment for deskpod (repeatable)")
    ap.add_argument("--test-client", type=Path, default=None)
    ap.add_argument("--write", type=Path, help="update this Markdown file (between the "
                    "<!-- bench:begin/end --> markers)")
    ap.add_argument("--keep", action="store_true", help="keep logs in the work dir")
    args = ap.parse_args()
    args.workloads = [w for w in args.workloads.split(",") if w]
    for w in args.workloads:
        if w not in WORKLOADS:
            ap.error(f"unknown workload {w!r}")
    servers = [s for s in args.servers.split(",") if s]
    for s_ in servers:
        if s_ not in ("deskpod", "weston", "shadow"):
            ap.error(f"unknown server {s_!r} (deskpod, weston, shadow)")
    args.servers_list = servers
    try:
        args.deskpod_env = [tuple(e.split("=", 1)) for e in args.deskpod_env]
        assert all(len(e) == 2 for e in args.deskpod_env)
    except AssertionError:
        ap.error("--deskpod-env takes NAME=VALUE")
    # H.Deskpod reads the binary from the harness's config when it starts one.
    H.config.DESKPOD_BIN = args.deskpod.resolve()
    args.test_client = (args.test_client or args.deskpod.parent / "tests/clients/deskpod-test-client").resolve()

    root = Path(tempfile.mkdtemp(prefix="deskpod-bench-"))
    results = []
    args.inputs = make_inputs(root, args.size)
    try:
        for workload in args.workloads:
            for rep in range(args.repeat):
                for kind in servers:
                    if kind == "deskpod" and not H.config.DESKPOD_BIN.exists():
                        results.append({"server": kind, "workload": workload,
                                        "error": f"no deskpod binary at {H.config.DESKPOD_BIN}"})
                        continue
                    if "{client}" in WORKLOADS[workload][1] and not args.test_client.exists():
                        results.append({"server": kind, "workload": workload,
                                        "error": f"no test client at {args.test_client}"})
                        continue
                    missing = [p for p, w in (("mpv", "video"), ("ffmpeg", "video"),
                                              ("chromium", "browser-scroll"))
                               if w == workload and not shutil.which(p)]
                    if missing:
                        results.append({"server": kind, "workload": workload,
                                        "error": f"{', '.join(missing)} not installed "
                                                 "(scripts/bootstrap --bench)"})
                        continue
                    wd = root / f"{kind}-{workload}" / str(rep)
                    wd.mkdir(parents=True)
                    results.append(run_one(kind, workload, args, wd))
    finally:
        if args.keep:
            print(f"logs kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    command = "tests/bench/rdp_bench.py " + shlex.join(sys.argv[1:])
    table = markdown(results, args, command)
    print(table)
    if args.write:
        write_doc(args.write, table)
        print(f"updated {args.write}", file=sys.stderr)


if __name__ == "__main__":
    main()
