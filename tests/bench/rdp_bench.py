#!/usr/bin/env python3
"""Side-by-side RDP benchmark: deskpod vs weston's RDP backend, same workloads, same client.

For each workload (terminal scroll, weston-simple-shm animation, full-screen repaint, idle) it runs
the workload under deskpod and under `weston --backend=rdp-backend.so` (kiosk-shell), one after the
other, connects the same xfreerdp (RemoteFX surface bits: `/rfx -gfx`) inside a private Xvfb, lets
it settle, then measures for --duration seconds:

  delivered fps      client paints per second: xfreerdp's software-GDI EndPaint calls that had a
                     non-empty invalid region (logged at TRACE by com.freerdp.client.x11 as
                     "xf_lock_x11_ ... from xf_sw_end_paint"); the same client code path for both
                     servers, so a frame is what the client actually put on screen
  server CPU/frame   utime+stime of the server process only (all its threads, not the session's
                     apps) over the window, divided by delivered frames
  bytes/frame        bytes the client's TCP socket received (`ss -tin` bytes_received) / frames
  first frame        xfreerdp start to its first paint, from xfreerdp's own log timestamps
  RSS                server VmRSS at the end of the window

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

PAINT_MARK = "from xf_sw_end_paint"
LOG_TS = re.compile(r"^\[(\d\d):(\d\d):(\d\d):(\d{3})\]")

WORKLOADS = {
    # name: (description, session command; {client} = deskpod-test-client)
    "terminal": ("foot scrolling `seq` output",
                 "foot sh -c 'while :; do seq 1 2000000; done'"),
    "animation": ("weston-simple-shm", "weston-simple-shm"),
    "fullscreen": ("test client repainting the whole output every frame",
                   "{client} --animate"),
    "idle": ("foot showing a shell prompt, nothing changing", "foot sh -c 'exec sleep infinity'"),
}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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


def log_time(line: str, day: dt.date) -> float | None:
    m = LOG_TS.match(line)
    if not m:
        return None
    h, mi, s, ms = (int(g) for g in m.groups())
    return dt.datetime(day.year, day.month, day.day, h, mi, s, ms * 1000).timestamp()


def run_one(server_kind: str, workload: str, args, workdir: Path) -> dict:
    desc, cmd = WORKLOADS[workload]
    cmd = cmd.format(client=shlex.quote(str(args.test_client)))
    stack = H.Stack()
    result = {"server": server_kind, "workload": workload}
    try:
        if server_kind == "deskpod":
            server = H.Deskpod(stack, workdir, cmd, size=args.size, log_level="info")
        else:
            server = H.WestonRdp(stack, workdir, cmd, size=args.size)
        spawn_wall = time.time()
        client = H.RdpClient(stack, workdir, "client", server.rdp_port, args.size, codec="rfx",
                             log_level="WARN",
                             extra=["/log-filters:com.freerdp.client.x11:TRACE"])
        client.find_window(timeout=60)
        server.after_client_connected()
        H.wait_until(lambda: paints(client.proc.log_path), 60, "the first paint")
        first = log_time(paints(client.proc.log_path)[0], dt.date.today())
        result["first_frame_s"] = first - spawn_wall if first else float("nan")
        time.sleep(args.warmup)
        assert client.proc.alive() and server.alive(), "client or server died during warm-up"
        p0, c0, b0 = len(paints(client.proc.log_path)), cpu_seconds(server.proc.pid), \
            client_bytes(server.rdp_port)
        m0 = metric_sum(server, "deskpod_frames_sent_total")
        t0 = time.monotonic()
        time.sleep(args.duration)
        m1 = metric_sum(server, "deskpod_frames_sent_total")
        p1, c1, b1 = len(paints(client.proc.log_path)), cpu_seconds(server.proc.pid), \
            client_bytes(server.rdp_port)
        elapsed = time.monotonic() - t0
        assert client.proc.alive() and server.alive(), "client or server died during the run"
        frames = p1 - p0
        result.update(
            frames=frames, seconds=elapsed, fps=frames / elapsed, cpu_s=c1 - c0,
            bytes=b1 - b0, rss_mb=rss_mb(server.proc.pid),
            cpu_ms_per_frame=(c1 - c0) * 1000 / frames if frames else float("nan"),
            kb_per_frame=(b1 - b0) / 1024 / frames if frames else float("nan"),
            server_fps=(m1 - m0) / elapsed if m0 is not None and m1 is not None else None,
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
    return format(v, spec)


def ratio(a, b):
    if a is None or b is None or a != a or b != b or b == 0:
        return "–"
    return f"{a / b:.2f}"


METRICS = [
    ("delivered fps", "fps", ".1f"),
    ("server CPU ms / frame", "cpu_ms_per_frame", ".2f"),
    ("server CPU s (whole window)", "cpu_s", ".2f"),
    ("KB / frame on the wire", "kb_per_frame", ".1f"),
    ("MB on the wire (whole window)", "mb", ".2f"),
    ("connect to first frame, s", "first_frame_s", ".2f"),
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
    for pkg in ("freerdp2-x11", "weston"):
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
        f"Desktop {args.size}, client xfreerdp `/rfx -gfx` (RemoteFX surface bits) in Xvfb, "
        f"{args.warmup:g} s warm-up, {args.duration:g} s measured per run.",
        "",
    ]
    by = {(r["server"], r["workload"]): r for r in results}
    for r in results:
        if "bytes" in r:
            r["mb"] = r["bytes"] / 1e6
    for workload in args.workloads:
        desc = WORKLOADS[workload][0]
        lines += [f"**{workload}** ({desc})", "",
                  "| metric | deskpod | weston | deskpod/weston |", "|---|---:|---:|---:|"]
        d = by.get(("deskpod", workload), {})
        w = by.get(("weston", workload), {})
        for label, key, spec in METRICS:
            lines.append(f"| {label} | {fmt(d.get(key), spec)} | {fmt(w.get(key), spec)} | "
                         f"{ratio(d.get(key), w.get(key))} |")
        for name, r in (("deskpod", d), ("weston", w)):
            if "error" in r:
                lines.append(f"\n{name} did not complete: {r['error']}")
            elif not r:
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
    ap.add_argument("--servers", default="deskpod,weston")
    ap.add_argument("--deskpod", type=Path, default=H.DESKPOD_BIN)
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
    H.DESKPOD_BIN = args.deskpod.resolve()
    args.test_client = (args.test_client or args.deskpod.parent / "tests/clients/deskpod-test-client").resolve()

    root = Path(tempfile.mkdtemp(prefix="deskpod-bench-"))
    results = []
    try:
        for workload in args.workloads:
            for kind in servers:
                if kind == "deskpod" and not H.DESKPOD_BIN.exists():
                    results.append({"server": kind, "workload": workload,
                                    "error": f"no deskpod binary at {H.DESKPOD_BIN}"})
                    continue
                if "{client}" in WORKLOADS[workload][1] and not args.test_client.exists():
                    results.append({"server": kind, "workload": workload,
                                    "error": f"no test client at {args.test_client}"})
                    continue
                wd = root / f"{kind}-{workload}"
                wd.mkdir()
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
