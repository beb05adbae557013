"""Shared helpers of the deployment tests (tests/deploy/): paths, the deskpod binary, kubectl,
the npm schema validators. The integration harness (tests/integration/harness/) provides the
process, Xvfb and xfreerdp helpers and is imported from there."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_ROOT = Path(os.environ.get("DESKPOD_SOURCE_ROOT", HERE.parent.parent))
DESKPOD_BIN = Path(os.environ.get("DESKPOD_BIN", SOURCE_ROOT / "build-deploy" / "deskpod")).resolve()
WORK = Path(os.environ.get("DESKPOD_DEPLOY_WORK", DESKPOD_BIN.parent / "deploy-work")).resolve()

sys.path.insert(0, str(SOURCE_ROOT / "tests" / "integration"))
# The harness also installs the CI rule that a skipped test fails (harness._fail_skips_on_ci).
import harness  # noqa: E402,F401


def log(msg: str) -> None:
    print(f"[deploy] {msg}", file=sys.stderr, flush=True)


def run(argv, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 600)
    return subprocess.run([str(a) for a in argv], **kw)


def help_options() -> dict[str, str]:
    """deskpod --help parsed: option name -> metavar ('' for flags)."""
    out = run([DESKPOD_BIN, "--help"], check=True).stdout
    options = {}
    for m in re.finditer(r"^\s+(--[a-z][a-z0-9-]*(?:, --[a-z][a-z0-9-]*)*)(?: ([^\s]+))?", out, re.M):
        for name in m.group(1).split(", "):
            options[name[2:]] = m.group(2) or ""
    # "--tls-cert FILE ... Else a" / "--tls-key FILE" share lines; both are caught above.
    return options


def help_text() -> str:
    return run([DESKPOD_BIN, "--help"], check=True).stdout


def env_names(options: dict[str, str]) -> set[str]:
    skip = {"config", "help", "version", "licenses", "no-xwayland"}
    names = {"DESKPOD_" + o.upper().replace("-", "_") for o in options if o not in skip}
    names.add("DESKPOD_CONFIG")
    names.add("DESKPOD_PASSWORD")  # documented under --password-file
    return names


def kubectls() -> list[str]:
    """kubectl binaries to render with: the one on PATH, plus any in $DESKPOD_EXTRA_KUBECTL
    (e.g. Debian's kubernetes-client 1.20 with kustomize v2, to check old-kustomize support)."""
    found = []
    if shutil.which("kubectl"):
        found.append(shutil.which("kubectl"))
    for extra in os.environ.get("DESKPOD_EXTRA_KUBECTL", "").split(":"):
        if extra and Path(extra).exists():
            found.append(extra)
    return found


def schema_tools() -> Path:
    """tests/deploy/schema with its npm packages installed (npm ci into the build tree; the
    lock file pins every version). Re-installed only when the lock file changes."""
    src = HERE / "schema"
    dest = WORK / "schema"
    lock = (src / "package-lock.json").read_bytes()
    stamp = dest / ".lock-sha256"
    digest = hashlib.sha256(lock).hexdigest()
    dest.mkdir(parents=True, exist_ok=True)
    for f in ("package.json", "package-lock.json", "validate.cjs", "strict.cjs"):
        shutil.copy2(src / f, dest / f)
    if not (stamp.exists() and stamp.read_text() == digest and (dest / "node_modules").exists()):
        npm = shutil.which("npm")
        if not npm:
            raise AssertionError("npm is missing (Debian package npm; scripts/bootstrap installs it)")
        log("npm ci for the schema validators (kubernetes-models, kubernetes-types, typescript)")
        r = run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=dest, timeout=600)
        if r.returncode != 0:
            raise AssertionError(f"npm ci failed:\n{r.stdout}\n{r.stderr}")
        stamp.write_text(digest)
    return dest
