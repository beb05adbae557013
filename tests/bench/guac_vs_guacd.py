#!/usr/bin/env python3
"""deskpod's Guacamole endpoint next to guacd, side by side in one run, on X11 workloads whose
rate the app fixes (so per-second figures compare directly):

  ball      tests/clients/deskpod-ball: a ball on a flat background at 30 frames a second
  terminal  xterm printing --lines-per-second numbered lines (a shell-free Python loop with
            absolute deadlines)

deskpod runs the app through its Xwayland (`--xwayland`); guacd 1.5.5 (VNC protocol) is
pointed at TigerVNC's Xvnc running the same binary. Both are driven by the same
protocol-level client (the integration harness's GuacWire), which announces PNG, JPEG and
WebP and acknowledges every `sync` at once. For --duration seconds after a warm-up:

  bytes/s, syncs/s, bytes/sync   Guacamole bytes received, `sync`s acknowledged
  images by mimetype, fills, copies   what the instructions were
  server CPU/s    utime+stime of the encoder (deskpod, all threads / guacd and its per-connection
                  child) and of the X server (Xwayland / Xvnc), per second

Not a pass/fail test. guacd is not in Debian 12: build it from apache/guacamole-server 1.5.5
(docs/performance.md, "Guacamole next to guacd") and pass its path. Example:
  tests/bench/guac_vs_guacd.py --guacd /opt/guacd/sbin/guacd --duration 20
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
import harness as H  # noqa: E402
from harness import GuacWire  # noqa: E402

PRINTER = r'''
import itertools, sys, time
rate = float(sys.argv[1])
t = time.monotonic()
for i in itertools.count(1):
    print(f"line {i:6d}: the quick brown fox jumps over the lazy dog {i * 7919 % 100000:05d}",
          flush=True)
    t += 1 / rate
    time.sleep(max(0.0, t - time.monotonic()))
'''




def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command name) for every process."""
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            text = (d / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        out[int(d.name)] = (ppid, name)
    return out


def descendants(root: int) -> list[int]:
    procs = processes()
    found, frontier = [], [root]
    while frontier:
        p = frontier.pop()
        found.append(p)
        frontier += [c for c, (pp, _) in procs.items() if pp == p]
    return found


def named(pids: list[int], name: str) -> list[int]:
    procs = processes()
    return [p for p in pids if p in procs and procs[p][1] == name]


def xwayland_pids(log: str) -> list[int]:
    """deskpod's Xwayland (wlroots double-forks it, so it is not a descendant): the Xwayland
    process whose command line names the display deskpod logged."""
    m = re.search(r"Xwayland ready on DISPLAY=(:\d+)", log)
    if not m:
        return []
    found = []
    for p in named(list(processes()), "Xwayland"):
        try:
            argv = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if m.group(1).encode() in argv:
            found.append(p)
    return found


def workload_argv(name: str, ball: str, workdir: Path, lines: float) -> list[str]:
    if name == "ball":
        return [ball, "--fps", "30"]
    printer = workdir / "printer.py"
    printer.write_text(PRINTER)
    # -maximized: the whole screen in Xvnc (no window manager), as deskpod maximizes windows.
    return ["xterm", "-maximized", "-e", "python3", str(printer), str(lines)]


def measure(wire: GuacWire, duration: float, encoder_pids, xserver_pids) -> dict:
    counts = collections.Counter()
    syncs, nbytes = 0, 0
    cpu = lambda pids: sum(H.cpu_seconds(p) for p in pids())  # noqa: E731
    enc0, x0, t0 = cpu(encoder_pids), cpu(xserver_pids), time.monotonic()
    raw = b""
    while time.monotonic() - t0 < duration:
        wire.sock.settimeout(0.2)
        try:
            data = wire.sock.recv(1 << 20)
        except TimeoutError:
            continue
        if not data:
            raise AssertionError("the server closed the connection")
        nbytes += len(data)
        raw += data
        # Instructions are ASCII here (base64 images); decode whole characters only.
        wire.buf += raw.decode()
        raw = b""
        while (ins := wire._parse_one()) is not None:
            op = ins[0]
            if op == "sync":
                syncs += 1
                wire.send("sync", ins[1])
            elif op == "img":
                counts[ins[4]] += 1
            elif op == "copy":
                counts["copy from buffer" if ins[1].startswith("-") else
                       "copy to buffer" if ins[7].startswith("-") else "copy"] += 1
            elif op in ("cfill", "rect"):
                counts[op] += 1
    elapsed = time.monotonic() - t0
    return {"elapsed": elapsed, "bytes": nbytes, "syncs": syncs, "counts": dict(counts),
            "encoder_cpu": cpu(encoder_pids) - enc0, "xserver_cpu": cpu(xserver_pids) - x0}


def handshake(wire: GuacWire, protocol: str, size: str, values: dict[str, str]):
    w, h = (int(v) for v in size.split("x"))
    wire.send("select", protocol)
    args = wire.read()
    assert args and args[0] == "args", args
    wire.send("size", w, h, 96)
    wire.send("audio")
    wire.send("video")
    wire.send("image", "image/png", "image/jpeg", "image/webp")
    wire.send("connect", *[("VERSION_1_5_0" if n.startswith("VERSION_") else values.get(n, ""))
                           for n in args[1:]])
    ready = wire.read()
    assert ready and ready[0] == "ready", ready


def run_deskpod(name: str, args, workdir: Path) -> dict:
    stack = H.Stack()
    try:
        port = H.free_port()
        argv = workload_argv(name, args.ball, workdir, args.lines_per_second)
        server = H.Deskpod(stack, workdir, " ".join(argv), size=args.size, log_level="info",
                           extra=["--guac", f"127.0.0.1:{port}", "--xwayland"],
                           env_extra=args.deskpod_env)
        time.sleep(3)  # Xwayland and the app start
        wire = GuacWire(port)
        handshake(wire, "rdp", args.size, {})
        wire.until("sync")
        time.sleep(args.warmup)
        pid = server.proc.popen.pid
        r = measure(wire, args.duration, lambda: [pid],
                    lambda: xwayland_pids(server.proc.output()))
        return r
    finally:
        stack.close()


def run_guacd(name: str, args, workdir: Path) -> dict:
    stack = H.Stack()
    try:
        display = 100 + os.getpid() % 500
        rfb = H.free_port()
        w, h = args.size.split("x")
        xvnc = H.Proc("Xvnc", ["Xvnc", f":{display}", "-geometry", f"{w}x{h}", "-depth", "24",
                               "-SecurityTypes", "None", "-rfbport", str(rfb), "-localhost",
                               "-AlwaysShared", "-nolisten", "tcp"],
                      workdir / "xvnc.log")
        stack.push(xvnc.stop)
        H.wait_until(lambda: H.tcp_open(rfb), 20, "Xvnc to listen")
        env = dict(os.environ, DISPLAY=f":{display}")
        app = H.Proc(name, workload_argv(name, args.ball, workdir, args.lines_per_second),
                     workdir / "app.log", env=env)
        stack.push(app.stop)
        port = H.free_port()
        guacd_env = dict(os.environ)
        lib = Path(args.guacd).resolve().parent.parent / "lib"
        guacd_env["LD_LIBRARY_PATH"] = f"{lib}:{guacd_env.get('LD_LIBRARY_PATH', '')}"
        guacd = H.Proc("guacd", [args.guacd, "-f", "-b", "127.0.0.1", "-l", str(port), "-L",
                                 "info"], workdir / "guacd.log", env=guacd_env)
        stack.push(guacd.stop)
        H.wait_until(lambda: H.tcp_open(port), 20, "guacd to listen")
        time.sleep(2)
        wire = GuacWire(port)
        handshake(wire, "vnc", args.size, {"hostname": "127.0.0.1", "port": str(rfb)})
        wire.until("sync", timeout=30)
        time.sleep(args.warmup)
        gpid, xpid = guacd.popen.pid, xvnc.popen.pid
        return measure(wire, args.duration, lambda: descendants(gpid), lambda: [xpid])
    finally:
        stack.close()


def summary(r: dict) -> dict:
    t = r["elapsed"]
    images = sum(v for k, v in r["counts"].items() if k.startswith("image/"))
    return {"bytes/s": r["bytes"] / t, "syncs/s": r["syncs"] / t,
            "bytes/sync": r["bytes"] / r["syncs"] if r["syncs"] else 0.0,
            "images/s": images / t,
            "encoder CPU s/s": r["encoder_cpu"] / t, "X server CPU s/s": r["xserver_cpu"] / t}


def table(name: str, d: dict, g: dict, args) -> str:
    sd, sg = summary(d), summary(g)
    lines = [f"**{name}**", "", "| metric | deskpod | guacd 1.5.5 | deskpod/guacd |",
             "|---|---:|---:|---:|"]
    for k, fmt in (("bytes/s", "{:,.0f}"), ("syncs/s", "{:.1f}"), ("bytes/sync", "{:,.0f}"),
                   ("images/s", "{:.1f}"), ("encoder CPU s/s", "{:.3f}"),
                   ("X server CPU s/s", "{:.3f}")):
        ratio = f"{sd[k] / sg[k]:.2f}" if sg[k] else "-"
        lines.append(f"| {k} | {fmt.format(sd[k])} | {fmt.format(sg[k])} | {ratio} |")
    for side, r in (("deskpod", d), ("guacd", g)):
        c = ", ".join(f"{k} {v}" for k, v in sorted(r["counts"].items()))
        lines.append(f"| instructions, {side} ({r['elapsed']:.0f} s) | {c} | | |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--guacd", required=True, help="path to a guacd 1.5.5 binary (with VNC)")
    ap.add_argument("--ball", default=str(H.config.DESKPOD_BIN.parent / "tests/clients/deskpod-ball"),
                    help="the deskpod-ball binary (default: next to DESKPOD_BIN)")
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--size", default="1280x800")
    ap.add_argument("--lines-per-second", type=float, default=20)
    ap.add_argument("--workloads", default="ball,terminal")
    ap.add_argument("--deskpod-env", action="append", default=[], metavar="NAME=VALUE")
    args = ap.parse_args()
    args.deskpod_env = dict(e.split("=", 1) for e in args.deskpod_env)
    for tool in ("Xvnc", "xterm"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (apt-get install tigervnc-standalone-server xterm)")
    print(f"Command: `{' '.join(['tests/bench/guac_vs_guacd.py'] + sys.argv[1:])}`\n")
    print(f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"{os.cpu_count()} CPUs; load average at the start {os.getloadavg()}\n")
    for name in args.workloads.split(","):
        results = {}
        for side, fn in (("deskpod", run_deskpod), ("guacd", run_guacd)):
            workdir = Path(tempfile.mkdtemp(prefix=f"guac-vs-guacd-{name}-{side}-"))
            try:
                results[side] = fn(name, args, workdir)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            print(f"{name} {side}: {results[side]}", file=sys.stderr)
        print(table(name, results["deskpod"], results["guacd"], args))
    print(f"Load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
