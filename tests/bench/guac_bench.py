#!/usr/bin/env python3
"""Guacamole-path benchmark: deskpod's guacd-compatible endpoint driven by a protocol-level
client that acknowledges every `sync` at once (a fast client, like a browser on a LAN; it does not
decode images, so this measures the server). Per workload, for --duration seconds:

  delivered fps      `sync`s (frames) acknowledged per second
  server CPU/frame   utime+stime of deskpod (all threads, not the session's apps) / frames
  bytes/frame        Guacamole bytes received / frames
  first paint        TCP connect to the end of the first frame (handshake included)

Workloads: full-screen repaint (deskpod-test-client --animate), animation (weston-simple-shm),
terminal scroll (foot scrolling a long text), idle. Not pass/fail. Example:
  tests/bench/guac_bench.py --duration 15 --size 1280x800
"""
from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
import harness as H  # noqa: E402
from harness import GuacWire  # noqa: E402




def workloads(test_client: str) -> dict[str, str]:
    w = {"fullscreen": f"{shlex.quote(test_client)} --animate",
         "terminal": "foot sh -c 'while true; do seq 1 200000; done'",
         "idle": f"{shlex.quote(test_client)} --color 204060"}
    if shutil.which("weston-simple-shm"):
        w["animation"] = "weston-simple-shm"
    return w


def run(name: str, session: str, size: str, duration: float, images: list[str]) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"guac-bench-{name}-"))
    stack = H.Stack()
    try:
        port = H.free_port()
        server = H.Deskpod(stack, workdir, session, size=size, log_level="info",
                           extra=["--guac", f"127.0.0.1:{port}"])
        time.sleep(2)  # let the session map its window
        w, h = (int(v) for v in size.split("x"))
        started = time.monotonic()
        wire = GuacWire(port)
        wire.send("select", "rdp")
        args = wire.read()
        wire.send("size", w, h, 96)
        wire.send("image", *images)
        wire.send("connect", "VERSION_1_5_0", *([""] * (len(args) - 2)))
        wire.read()
        wire.until("sync")
        first_paint = time.monotonic() - started
        time.sleep(1)
        wire.buf = ""
        frames, nbytes = 0, 0
        cpu0, t0 = H.cpu_seconds(server.proc.popen.pid), time.monotonic()
        while time.monotonic() - t0 < duration:
            wire.sock.settimeout(0.2)
            try:
                data = wire.sock.recv(1 << 20)
            except TimeoutError:
                continue
            nbytes += len(data)
            wire.buf += data.decode()
            while (ins := wire._parse_one()) is not None:
                if ins[0] == "sync":
                    frames += 1
                    wire.send("sync", ins[1])
        elapsed = time.monotonic() - t0
        cpu = H.cpu_seconds(server.proc.popen.pid) - cpu0
        return {"workload": name, "fps": frames / elapsed,
                "cpu_ms": 1000 * cpu / frames if frames else 0.0,
                "kb": nbytes / frames / 1024 if frames else 0.0,
                "cpu_pct": 100 * cpu / elapsed, "first": first_paint, "bytes": nbytes}
    finally:
        stack.close()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--size", default="1280x800")
    ap.add_argument("--images", default="image/png,image/jpeg,image/webp",
                    help="image mimetypes the client announces")
    ap.add_argument("--only", help="comma-separated workloads")
    args = ap.parse_args()
    rows = []
    for name, session in workloads(str(H.TEST_CLIENT)).items():
        if args.only and name not in args.only.split(","):
            continue
        r = run(name, session, args.size, args.duration, args.images.split(","))
        rows.append(r)
        print(f"{name}: {r}", file=sys.stderr)
    print("| workload | delivered fps | server CPU ms/frame | KB/frame | server CPU % | first paint s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['workload']} | {r['fps']:.1f} | {r['cpu_ms']:.2f} | {r['kb']:.1f} | "
              f"{r['cpu_pct']:.1f} | {r['first']:.2f} |")


if __name__ == "__main__":
    main()
