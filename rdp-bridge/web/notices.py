#!/usr/bin/env python3
"""Writes the licence text the deskpod binary ships with (`deskpod --licenses`, the web client's
/licenses page, /usr/share/doc/deskpod/LICENSES in the packages and the image): deskpod's own
LICENSE, then every piece of third-party code embedded into the binary with its licence and
notice, taken from the very package that was embedded.
Usage: notices.py OUTPUT LICENSE package-lock.json GUACAMOLE_LICENSE|- [NAME=COPYRIGHT_FILE]...
NAME=COPYRIGHT_FILE: a header-only library compiled into the binary, with the Debian copyright
file of the package its headers came from. linked-gpl=NAME: the binary links NAME, a GPL library
(libx264), which puts the binary as a whole under the GPL."""
import json
import sys

out, own_license, lock, guac_license = sys.argv[1:5]
pairs = [arg.split("=", 1) for arg in sys.argv[5:]]
header_only = [p for p in pairs if p[0] != "linked-gpl"]
gpl_linked = [p[1] for p in pairs if p[0] == "linked-gpl"]
rule = "=" * 78
parts = [
    "deskpod: the licence of deskpod itself", rule, open(own_license, encoding="utf-8").read().strip(),
    "", "",
    "Third-party code in this binary", rule,
    "The deskpod binary embeds the third-party code listed below; its licence and notice follow.",
    "deskpod also links dynamically against system libraries (wlroots, FreeRDP, WinPR, Boost,",
    "pixman, wayland, libxkbcommon, OpenSSL, libpng, libjpeg-turbo, libwebp, OpenH264, fmt, toml++ and",
    "their dependencies). Those are not part of this binary: each comes with its own licence,",
    "installed by its package (on Debian: /usr/share/doc/PACKAGE/copyright). Boost.Asio and",
    "Boost.Beast are header-only and compiled in; the Boost Software License 1.0 asks for no",
    "notice in machine-executable form.",
]
for name in gpl_linked:
    parts += [
        "", "",
        f"This binary is linked with {name} (GPL-2.0-or-later)", rule,
        f"{name} is licensed under the GNU General Public License, version 2 or later. deskpod's",
        "own code is MIT licensed, which the GPL allows to be combined with it; this binary, as a",
        "whole, is distributed under the terms of the GPL, version 2 or later. Its complete",
        "source is deskpod's source tree, and the Debian source package of the library. A build",
        "configured with `meson setup -Dx264=disabled` does not link it and carries no such",
        "condition (it encodes H.264 with OpenH264, BSD-2-Clause, instead).",
    ]
if guac_license != "-":
    version = json.load(open(lock, encoding="utf-8"))["packages"]["node_modules/guacamole-common-js"]["version"]
    parts += [
        "", "",
        f"guacamole-common-js {version} (Apache Guacamole's JavaScript client library)", rule,
        "Embedded in the built-in web client as /guacamole-common.js, unmodified, from the npm",
        "package of the same name and version. Licensed under the Apache License, Version 2.0.",
        "",
        "NOTICE:",
        "Apache Guacamole",
        "Copyright 2020 The Apache Software Foundation",
        "",
        "This product includes software developed at",
        "The Apache Software Foundation (http://www.apache.org/).",
        "",
        "LICENSE (as shipped in the npm package):",
        "",
        open(guac_license, encoding="utf-8").read().strip(),
    ]
else:
    parts += ["", "(This build has no web client library: npm was not available when it was built.)"]
for name, copyright_file in header_only:
    parts += [
        "", "",
        f"{name} (header-only, compiled into the binary)", rule,
        "Its Debian copyright file, from the package the headers were built from:", "",
        open(copyright_file, encoding="utf-8").read().strip(),
    ]
open(out, "w", encoding="utf-8").write("\n".join(parts) + "\n")
