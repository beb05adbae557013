"""Child processes and their cleanup: Proc, Stack, wait_until, log, tail; sanitizer reports in a
child's output (sanitizer_reports, SanitizerReport)."""

from __future__ import annotations

import contextlib
import os
import re
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


# The first line of every report of ASan, LSan, UBSan and TSan (scripts/test --sanitize builds
# deskpod with them; docs/testing.md, "Sanitizers").
SANITIZER_MARKERS = re.compile(
    r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|WARNING: ThreadSanitizer"
    r"|ThreadSanitizer: reported \d+ warnings")
# The sanitizer settings the children of a test must keep (their suppression files, halt rules).
SANITIZER_ENV = ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS")


def sanitizer_env() -> dict:
    """The sanitizer variables of this environment, for a child started with an env of its own."""
    return {k: os.environ[k] for k in SANITIZER_ENV if k in os.environ}


def sanitizer_reports(text: str) -> list[str]:
    """The lines of `text` that start a sanitizer report (empty when there is none)."""
    return [line for line in text.splitlines() if SANITIZER_MARKERS.search(line)]


class SanitizerReport(AssertionError):
    """A sanitizer reported an error in one of our processes: a bug in deskpod, never noise
    (library frames are suppressed in tests/sanitizers/). Stack.close() re-raises it."""


def check_no_sanitizer_report(name: str, text: str, where: str) -> None:
    found = sanitizer_reports(text)
    if found:
        raise SanitizerReport(f"{name} has {len(found)} sanitizer report(s) in {where}; "
                              f"first: {found[0].strip()}\n{tail(text, 80)}")


class Proc:
    """A child in its own process group, output to a log file; stop() ends the whole group."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict | None = None,
                 cwd: Path | None = None, stdin=subprocess.DEVNULL):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self._log.write(f"$ {shlex.join(self.argv)}\n".encode())
        self._log.flush()
        log(f"start {name}: {shlex.join(self.argv)}")
        self.popen = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=stdin, env=env, cwd=cwd,
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
        if self.popen.stdin:
            with contextlib.suppress(OSError):
                self.popen.stdin.close()
        self._log.close()
        return self.popen.returncode

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")


class Stack:
    """Cleanup callbacks run in reverse order; every one runs even if another raises. A
    SanitizerReport raised by one is raised again once all have run (the test fails); any other
    exception is logged."""

    def __init__(self):
        self._callbacks = []

    def push(self, fn, *args):
        self._callbacks.append((fn, args))

    def close(self):
        report = None
        while self._callbacks:
            fn, args = self._callbacks.pop()
            try:
                fn(*args)
            except SanitizerReport as e:
                log(f"sanitizer report: {str(e).splitlines()[0]}")
                report = report or e
            except Exception as e:  # noqa: BLE001 - cleanup must go on
                log(f"cleanup {fn!r} failed: {e!r}")
        if report:
            raise report


def rss_mb(pid: int) -> float:
    """Resident memory of a process (VmRSS), in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all its threads, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
