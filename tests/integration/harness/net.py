"""Loopback networking: free ports, HTTP GET, raw TCP connections, Prometheus samples."""

from __future__ import annotations

import contextlib
import http.client
import socket


_ports_given: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on. The socket is closed before the caller binds, so the
    kernel may offer the same port again at once: never hand out one port twice in a process
    (two calls in a row once gave deskpod the same port for --rdp and --http)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port


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
