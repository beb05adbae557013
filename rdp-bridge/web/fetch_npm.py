#!/usr/bin/env python3
"""Fetches the web client's pinned npm dependency at build time and copies files out.
Usage: fetch_npm.py WORKDIR package.json package-lock.json FILE_IN_NODE_MODULES OUTPUT [FILE OUTPUT]...

`npm ci` runs only when the lock file changed since the last run, so rebuilds stay offline.
Scripts are disabled: nothing from the registry runs on the build machine."""
import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

workdir, package, lock = sys.argv[1:4]
pairs = sys.argv[4:]
if not pairs or len(pairs) % 2:
    sys.exit('fetch_npm.py: give FILE_IN_NODE_MODULES OUTPUT pairs')
work = Path(workdir)
work.mkdir(parents=True, exist_ok=True)
stamp = work / '.installed-lock.json'
targets = [work / 'node_modules' / wanted for wanted in pairs[0::2]]
if not (all(t.exists() for t in targets) and stamp.exists() and filecmp.cmp(stamp, lock, shallow=False)):
    shutil.copy(package, work / 'package.json')
    shutil.copy(lock, work / 'package-lock.json')
    subprocess.run(['npm', 'ci', '--no-audit', '--no-fund', '--ignore-scripts',
                    '--loglevel=error'], cwd=work, check=True)
    shutil.copy(lock, stamp)
for target, output in zip(targets, pairs[1::2]):
    shutil.copy(target, output)
