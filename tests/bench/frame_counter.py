"""Distinct frames as a person at the client sees them: one row of the client window's pixels,
read from its X server every 2 ms, and counted each time it differs from the previous reading.

xfreerdp calls its end-of-paint several times per server frame (and a server may send frames
that change nothing visible), so paint calls are not frames; a sampled row is. A row that the
workload's motion crosses (the video, the scrolling text, the animated window) changes once
per frame the client shows. Reading is through libxcb with ctypes (GetImage of a 1-pixel-high
rectangle); libxcb is on every machine that runs xfreerdp, so nothing is built for this.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time


class _Cookie(ctypes.Structure):
    _fields_ = [("sequence", ctypes.c_uint)]


_xcb = ctypes.CDLL(ctypes.util.find_library("xcb") or "libxcb.so.1")
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
_xcb.xcb_connect.restype = ctypes.c_void_p
_xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
_xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
_xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
_xcb.xcb_get_image.restype = _Cookie
_xcb.xcb_get_image.argtypes = [ctypes.c_void_p, ctypes.c_uint8, ctypes.c_uint32, ctypes.c_int16,
                               ctypes.c_int16, ctypes.c_uint16, ctypes.c_uint16, ctypes.c_uint32]
_xcb.xcb_get_image_reply.restype = ctypes.c_void_p
_xcb.xcb_get_image_reply.argtypes = [ctypes.c_void_p, _Cookie, ctypes.c_void_p]
_xcb.xcb_get_image_data.restype = ctypes.POINTER(ctypes.c_uint8)
_xcb.xcb_get_image_data.argtypes = [ctypes.c_void_p]
_xcb.xcb_get_image_data_length.restype = ctypes.c_int
_xcb.xcb_get_image_data_length.argtypes = [ctypes.c_void_p]
_libc.free.argtypes = [ctypes.c_void_p]
_Z_PIXMAP = 2


def read_row(conn, window: int, x: int, y: int, width: int) -> bytes | None:
    """Pixels of one row of `window` through an open xcb connection (None on an error)."""
    cookie = _xcb.xcb_get_image(conn, _Z_PIXMAP, window, x, y, width, 1, 0xFFFFFFFF)
    reply = _xcb.xcb_get_image_reply(conn, cookie, None)
    if not reply:
        return None
    try:
        n = _xcb.xcb_get_image_data_length(reply)
        return ctypes.string_at(_xcb.xcb_get_image_data(reply), n)
    finally:
        _libc.free(reply)


def connect(display: str):
    """An xcb connection to `display` (close it with disconnect())."""
    conn = _xcb.xcb_connect(display.encode(), None)
    if _xcb.xcb_connection_has_error(conn):
        _xcb.xcb_disconnect(conn)
        raise OSError(f"cannot connect to X display {display}")
    return conn


def disconnect(conn):
    _xcb.xcb_disconnect(conn)


class RowSampler:
    """Counts changes of row `y` (x from `x` over `width` pixels) of X window `window` on
    `display` while running; start() and stop() bracket the measured window."""

    def __init__(self, display: str, window: int, y: int, x: int, width: int,
                 interval: float = 0.002):
        self.display, self.window = display, window
        self.y, self.x, self.width, self.interval = y, x, width, interval
        self.changes = 0
        self.samples = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _read(self, conn) -> bytes | None:
        return read_row(conn, self.window, self.x, self.y, self.width)

    def _run(self):
        conn = _xcb.xcb_connect(self.display.encode(), None)
        try:
            if _xcb.xcb_connection_has_error(conn):
                self.errors += 1
                return
            last = self._read(conn)
            next_at = time.monotonic()
            while not self._stop.is_set():
                next_at += self.interval
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                else:
                    next_at = time.monotonic()  # late: do not try to catch up
                row = self._read(conn)
                self.samples += 1
                if row is None:
                    self.errors += 1
                elif row != last:
                    self.changes += 1
                    last = row
        finally:
            _xcb.xcb_disconnect(conn)

    def start(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> int:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        return self.changes
