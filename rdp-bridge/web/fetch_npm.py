#!/usr/bin/env python3
"""Fetches the web client's pinned npm dependency at build time and copies one file out.
Usage: fetch_npm.py WORKDIR package.json package-lock.json FILE_IN_NODE_MODULES OUTPUT

`npm ci` runs only when the lock file changed since the last run, so rebuilds stay offline.
Scripts are disabled: nothing from the registry runs on the build machine."""
import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

workdir, package, lock, wanted, output = sys.argv[1:6]
work = Path(workdir)
work.mkdir(parents=True, exist_ok=True)
stamp = work / '.installed-lock.json'
target = work / 'node_modules' / wanted
if not (target.exists() and stamp.exists() and filecmp.cmp(stamp, lock, shallow=False)):
    shutil.copy(package, work / 'package.json')
    shutil.copy(lock, work / 'package-lock.json')
    subprocess.run(['npm', 'ci', '--no-audit', '--no-fund', '--ignore-scripts',
                    '--loglevel=error'], cwd=work, check=True)
    shutil.copy(lock, stamp)
shutil.copy(target, output)
