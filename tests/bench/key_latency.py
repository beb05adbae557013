#!/usr/bin/env python3
"""Key press to changed pixels at the RDP client: deskpod next to weston's RDP backend.

The session is the test client with --key-flips, which inverts its colour and redraws on every
key press. xfreerdp runs in a private Xvfb. Each sample:

  1. reads a pixel of the xfreerdp window (libxcb, as frame_counter.py reads rows),
  2. notes the time and presses a key through XTEST (libXtst, in this process: no program is
     started between the timestamp and the event),
  3. reads the pixel every 0.5 ms until it changes; the latency is the time from 2 to the change.

It covers all of it: XTEST to xfreerdp, the RDP input PDU, the server's input path and the app,
the compositor's next output frame, capture, encoding, the wire, the client's decoding and its
X drawing. Presses are 150 to 250 ms apart (random, so they do not lock to the 60 Hz output
clock). The table reports median, 90th percentile and worst per server, and deskpod's mean
encode time per frame (deskpod_encode_seconds) beside the 16.7 ms output frame interval.

Not pass/fail. Example:
  tests/bench/key_latency.py --deskpod build-test/deskpod --presses 60 --codec avc420
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import random
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
import harness as H  # noqa: E402
import frame_counter as fc  # noqa: E402

_x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
_xtst = ctypes.CDLL(ctypes.util.find_library("Xtst") or "libXtst.so.6")
_x11.XOpenDisplay.restype = ctypes.c_void_p
_x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
_x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
_x11.XFlush.argtypes = [ctypes.c_void_p]
_x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
_x11.XKeysymToKeycode.restype = ctypes.c_ubyte
_xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
XK_SPACE = 0x20


def measure(server_kind: str, args, workdir: Path) -> dict:
    stack = H.Stack()
    color = "203040"
    session = f"{shlex.quote(str(args.test_client))} --key-flips --color {color}"
    result = {"server": server_kind, "samples": []}
    try:
        if server_kind == "deskpod":
            server = H.Deskpod(stack, workdir, session, size=args.size, log_level="info")
        else:
            server = H.WestonRdp(stack, workdir, session, size=args.size)
        xvfb = H.Xvfb(stack, workdir, args.size, name="client-xvfb")
        avc = server_kind == "deskpod" and args.codec == "avc420"
        client = H.RdpClient(stack, workdir, "client", server.rdp_port, args.size,
                             codec="none" if avc else "rfx", log_level="WARN", xvfb=xvfb,
                             extra=["/gfx:AVC420"] if avc else [])
        client.find_window(timeout=60)
        server.after_client_connected()
        window = int(client.window, 0)
        w, h = (int(v) for v in args.size.split("x"))
        x, y = w // 2, h // 2
        conn = fc.connect(xvfb.display)
        stack.push(fc.disconnect, conn)
        dpy = _x11.XOpenDisplay(xvfb.display.encode())
        if not dpy:
            raise OSError(f"cannot open {xvfb.display}")
        stack.push(_x11.XCloseDisplay, dpy)
        keycode = _x11.XKeysymToKeycode(dpy, XK_SPACE)
        want = H.parse_rgb(color)

        def pixel():
            return fc.read_row(conn, window, x, y, 1)

        # The app's colour on screen first (and the keyboard focus on xfreerdp).
        def shows_color():
            p = pixel()  # B, G, R, X
            return p is not None and all(abs(a - b) <= 24 for a, b in zip(p[2::-1], want))
        H.wait_until(shows_color, 60, "the session's colour at the client")
        client.focus()
        time.sleep(args.warmup)
        encode0 = encode_totals(server)
        for _ in range(args.presses):
            time.sleep(random.uniform(0.15, 0.25))
            before = pixel()
            t0 = time.monotonic()
            _xtst.XTestFakeKeyEvent(dpy, keycode, 1, 0)
            _x11.XFlush(dpy)
            while True:
                now = time.monotonic()
                if pixel() != before:
                    result["samples"].append((now - t0) * 1000)
                    break
                if now - t0 > 2.0:
                    result.setdefault("lost", 0)
                    result["lost"] += 1
                    break
                time.sleep(0.0005)
            _xtst.XTestFakeKeyEvent(dpy, keycode, 0, 0)
            _x11.XFlush(dpy)
        encode1 = encode_totals(server)
        if encode0 and encode1 and encode1[1] > encode0[1]:
            result["encode_ms"] = (encode1[0] - encode0[0]) / (encode1[1] - encode0[1]) * 1000
    except (AssertionError, OSError) as e:
        result["error"] = str(e).splitlines()[0][:200]
        H.log(f"{server_kind}: {e}")
    finally:
        stack.close()
    return result


def encode_totals(server):
    """deskpod's RDP encode time: (seconds, frames), or None for weston."""
    if not isinstance(server, H.Deskpod):
        return None
    text = server.metrics()
    s = H.metric_value(text, "deskpod_encode_seconds_sum", {"protocol": "rdp"})
    n = H.metric_value(text, "deskpod_encode_seconds_count", {"protocol": "rdp"})
    return (s, n) if s is not None and n is not None else None


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--deskpod", type=Path, default=H.DESKPOD_BIN)
    ap.add_argument("--test-client", type=Path, default=None)
    ap.add_argument("--servers", default="deskpod,weston")
    ap.add_argument("--presses", type=int, default=60)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--size", default="1280x800")
    ap.add_argument("--codec", choices=["rfx", "avc420"], default="rfx",
                    help="what deskpod's client asks for (weston's keeps /rfx -gfx)")
    args = ap.parse_args()
    H.config.DESKPOD_BIN = args.deskpod.resolve()
    args.test_client = (args.test_client
                        or args.deskpod.parent / "tests/clients/deskpod-test-client").resolve()
    root = Path(tempfile.mkdtemp(prefix="deskpod-latency-"))
    rows = []
    for kind in [s for s in args.servers.split(",") if s]:
        wd = root / kind
        wd.mkdir()
        r = measure(kind, args, wd)
        s = r["samples"]
        if not s:
            rows.append(f"| {kind} | – | – | – | – | {r.get('error', 'no samples')} |")
            continue
        encode = f"{r['encode_ms']:.1f}" if "encode_ms" in r else "–"
        rows.append(f"| {kind} | {statistics.median(s):.1f} | {percentile(s, 0.9):.1f} | "
                    f"{max(s):.1f} | {encode} | {len(s)} presses, {r.get('lost', 0)} lost |")
    print(f"Desktop {args.size}; deskpod's client {'/gfx:AVC420' if args.codec == 'avc420' else '/rfx -gfx'}, "
          "weston's /rfx -gfx; key press to changed pixel at the client, ms")
    print()
    print("| server | median | p90 | worst | encode ms/frame | |")
    print("|---|---:|---:|---:|---:|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
