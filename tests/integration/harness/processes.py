"""Child processes and their cleanup: Proc, Stack, wait_until, log, tail."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


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
