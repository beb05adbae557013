#!/usr/bin/env python3
"""The include rule of deskpod's layout, checked on every file (docs/architecture.md):

- compositor/ and shared/ include no FreeRDP, WinPR or Boost header and nothing from rdp-bridge/;
- rdp-bridge/ includes no wlroots or Wayland server header and nothing from compositor/;
- shared/ includes nothing from compositor/ either: it is the contract between the two sides.

Usage: check_includes.py [ROOT]   exit 1 and one line per violation when the rule is broken.
       check_includes.py --self-test   checks that a violation in a scratch tree is reported."""
import re
import sys
import tempfile
from pathlib import Path

RULES = {
    "compositor": ["<freerdp/", "<winpr/", "<boost/", '"rdp-bridge/'],
    "shared": ["<freerdp/", "<winpr/", "<boost/", '"rdp-bridge/', "<wlr/", "<wayland-server",
               '"compositor/'],
    "rdp-bridge": ["<wlr/", "<wayland-server", '"compositor/'],
}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"][^>"]+[>"])', re.M)


def violations(root: Path) -> list[str]:
    found = []
    for top, forbidden in RULES.items():
        for path in sorted((root / top).rglob("*")):
            if path.suffix not in (".cpp", ".hpp", ".h", ".cc") or not path.is_file():
                continue
            text = path.read_text(errors="replace")
            for m in INCLUDE.finditer(text):
                target = m.group(1)
                if any(target.startswith(prefix) for prefix in forbidden):
                    line = text[:m.start()].count("\n") + 1
                    found.append(f"{path.relative_to(root)}:{line}: {top}/ must not include {target}")
    return found


def self_test() -> int:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for top in RULES:
            (root / top).mkdir()
        (root / "compositor" / "ok.cpp").write_text('#include "shared/events.hpp"\n#include <wlr/types/wlr_seat.h>\n')
        (root / "rdp-bridge" / "bad.cpp").write_text('#include <utility>\n#include <wlr/util/box.h>\n')
        (root / "shared" / "bad.hpp").write_text('#pragma once\n#include <boost/asio.hpp>\n')
        got = violations(root)
        want = ["rdp-bridge/bad.cpp:2: rdp-bridge/ must not include <wlr/util/box.h>",
                "shared/bad.hpp:2: shared/ must not include <boost/asio.hpp>"]
        if sorted(got) != sorted(want):
            print(f"check_includes self-test: expected {want}, got {got}")
            return 1
    print("check_includes self-test: violations are reported")
    return 0


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent.parent)
    found = violations(root)
    for v in found:
        print(v)
    if found:
        print(f"{len(found)} include(s) break the layout's rule (docs/architecture.md)")
        return 1
    print("include rule: compositor/, shared/ and rdp-bridge/ keep to their sides")
    return 0


if __name__ == "__main__":
    sys.exit(main())
