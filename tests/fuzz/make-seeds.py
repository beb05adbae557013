#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets whose inputs are binary or tedious to write by
hand (tests/fuzz/corpus/<target>/): realistic sessions encoded the way each target reads its
input (see the comment at the top of each *_fuzz.cpp). Run it after changing a target's input
format; the files it writes are committed."""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CONNECTION_ID = "$6a1f0c52-93b4-4e8d-b7a2-5c0d9e81f364"


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def guac(opcode, *args):
    """One Guacamole instruction (lengths in code points)."""
    return ",".join(f"{len(str(e))}.{e}" for e in (opcode,) + tuple(str(a) for a in args)) + ";"


def u8(v): return struct.pack("<B", v & 0xFF)
def u16(v): return struct.pack("<H", v & 0xFFFF)
def u32(v): return struct.pack("<I", v & 0xFFFFFFFF)


# ---- guac_handshake, guac_user ----
FULL_HANDSHAKE = (guac("select", "rdp") + guac("size", 1024, 768, 96) + guac("audio", "audio/L16") +
                  guac("video") + guac("image", "image/png", "image/jpeg", "image/webp") +
                  guac("timezone", "Europe/Berlin") + guac("name", "alice") +
                  guac("connect", "VERSION_1_5_0", "", "", "", "", 1024, 768, 96, "false"))
JOIN = (guac("select", CONNECTION_ID) + guac("size", 1280, 720, 192) + guac("image", "image/png") +
        guac("connect", "VERSION_1_1_0", "", "", "", "", "", "", "", "true"))
OLD_CLIENT = (guac("select", "vnc") + guac("size", 800, 600) + guac("audio") + guac("video") +
              guac("image") + guac("connect", "", "", "", "", "", "", ""))
write("guac_handshake", "full", FULL_HANDSHAKE)
write("guac_handshake", "join_read_only", JOIN)
write("guac_handshake", "client_1_0_0", OLD_CLIENT)
write("guac_handshake", "wrong_connection", guac("select", "$00000000-0000-0000-0000-000000000000"))
write("guac_handshake", "bad_size", guac("select", "rdp") + guac("size", 0, "x"))
write("guac_handshake", "after_ready", FULL_HANDSHAKE + guac("nop") + guac("select", "rdp"))

SESSION = (guac("mouse", 100, 50, 0) + guac("mouse", 100, 50, 1) + guac("mouse", 120, 60, 1) +
           guac("mouse", 120, 60, 0) + guac("mouse", 120, 60, 8) + guac("mouse", 120, 60, 0) +
           guac("mouse", 120, 60, 16) + guac("mouse", -5, 99999, 4) + guac("mouse", 0, 0, 0) +
           guac("key", 65507, 1) + guac("key", 99, 1) + guac("key", 99, 0) + guac("key", 65507, 0) +
           guac("sync", 1700000000000) + guac("size", 1280, 720) + guac("nop") + guac("ack", 1, "OK", 0))
CLIPBOARD = (guac("clipboard", 7, "text/plain") + guac("blob", 7, "aGVsbG8gd29ybGQ=") +
             guac("blob", 7, "IMOpw6Dwn5iA") + guac("end", 7))
write("guac_user", "session", b"\x40" + (FULL_HANDSHAKE + SESSION + CLIPBOARD).encode())
write("guac_user", "clipboard_split", b"\x07" + (FULL_HANDSHAKE + CLIPBOARD + guac("disconnect")).encode())
write("guac_user", "read_only_join", b"\x20" + (JOIN + SESSION + CLIPBOARD).encode())
write("guac_user", "old_client", b"\x00" + (OLD_CLIENT + guac("mouse", 10, 10, 1)).encode())
write("guac_user", "bad_clipboard", b"\x90" + (FULL_HANDSHAKE + guac("clipboard", 1, "text/plain") +
                                               guac("blob", 1, "not base64!") + guac("end", 1)).encode())


# ---- web_tunnel: a query line, then WebSocket frames as a browser masks them ----
def frame(payload, opcode=1, fin=True, key=b"\x12\x34\x56\x78"):
    payload = payload.encode() if isinstance(payload, str) else payload
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


QUERY = "width=1024&height=768&dpi=96&image=image%2Fpng&image=image%2Fjpeg&timezone=Europe%2FBerlin"
write("web_tunnel", "session", (QUERY + "\n").encode() +
      frame(guac("", "ping", 1700000000000)) + frame(SESSION) + frame(CLIPBOARD) +
      frame(b"\x03\xe8", opcode=8))
write("web_tunnel", "fragmented", ("width=1920&height=1080&dpi=192&read-only=false\n").encode() +
      frame(guac("mouse", 10, 10, 1)[:5], fin=False) + frame(b"ping", opcode=9) +
      frame(guac("mouse", 10, 10, 1)[5:], opcode=0) + frame(guac("", "ping", 42)))
write("web_tunnel", "read_only", ("width=800&height=600&read-only=true\n").encode() +
      frame(SESSION) + frame(guac("disconnect")))
write("web_tunnel", "split_instruction", (QUERY + "\n").encode() +
      frame(guac("key", 65293, 1)[:7]) + frame(guac("key", 65293, 1)[7:]) + frame("5.mouse,x;"))

# ---- http: a setup byte (bit 0 compositor alive, bit 1 ready, bit 2 IPv6 peer), then requests ----
def req(method, target, headers=(), body=""):
    h = [f"{method} {target} HTTP/1.1", "Host: desk.example:8080"] + list(headers)
    if body:
        h.append(f"Content-Length: {len(body.encode())}")
        h.append("Content-Type: application/x-www-form-urlencoded")
    return "\r\n".join(h) + "\r\n\r\n" + body


COOKIE = "Cookie: theme=dark; deskpod_session=@TOKEN@"
UPGRADE = ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13",
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol: guacamole"]
write("http", "probes", b"\x03" + (req("GET", "/healthz") + req("HEAD", "/readyz") +
                                   req("GET", "/metrics") + req("POST", "/healthz")).encode())
write("http", "login_session", b"\x03" + (
    req("GET", "/") + req("GET", "/session") +
    req("POST", "/login", body="user=DeskPod&password=correct+horse%20battery") +
    req("GET", "/session", [COOKIE]) +
    req("GET", "/websocket-tunnel?width=1024&height=768", UPGRADE + [COOKIE, "Origin: http://desk.example:8080"]) +
    req("POST", "/logout", [COOKIE]) + req("GET", "/session", [COOKIE])).encode())
write("http", "login_wrong", b"\x04" + (
    req("POST", "/login", body="user=deskpod&password=guess") +
    req("POST", "/login", body="password=correct+horse+battery&user=deskpod") +
    req("GET", "/websocket-tunnel", UPGRADE + ["Cookie: deskpod_session=0123"])).encode())
write("http", "cross_origin", b"\x01" + (
    req("POST", "/login", body="user=deskpod&password=correct%20horse%20battery") +
    req("GET", "/websocket-tunnel", UPGRADE + [COOKIE, "Origin: https://evil.example"]) +
    req("GET", "/websocket-tunnel", [COOKIE])).encode())
write("http", "chunked", b"\x00" + (
    "POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5\r\nuser=\r\n7\r\ndeskpod\r\n0\r\n\r\n" + req("GET", "/nope?x=1") +
    "GET /healthz HTTP/1.0\r\n\r\n").encode())

# ---- rdp_input: KLID, desktop width and height, then events (op byte % 7) ----
KBD_RELEASE, KBD_EXTENDED, KBD_EXTENDED1 = 0x8000, 0x0100, 0x0200
PTR_MOVE, PTR_DOWN, PTR_B1, PTR_B2, PTR_WHEEL, PTR_HWHEEL, PTR_NEG = (
    0x0800, 0x8000, 0x1000, 0x2000, 0x0200, 0x0400, 0x0100)
def key(flags, code): return u8(0) + u16(flags) + u16(code)
def uni(flags, code): return u8(2) + u16(flags) + u16(code)
def sync(flags): return u8(3) + u32(flags)
def mouse(flags, x, y): return u8(4) + u16(flags) + u16(x) + u16(y)
def xmouse(flags, x, y): return u8(5) + u16(flags) + u16(x) + u16(y)
RELEASE_ALL = u8(6)
write("rdp_input", "typing", u32(0x00000409) + u16(1920) + u16(1080) + sync(0x2) +
      key(0, 0x2A) + key(0, 0x23) + key(KBD_RELEASE, 0x23) + key(KBD_RELEASE, 0x2A) +
      key(0, 0x17) + key(KBD_RELEASE, 0x17) + key(KBD_EXTENDED, 0x1D) + key(0, 0x2E) +
      key(KBD_RELEASE, 0x2E) + key(KBD_EXTENDED | KBD_RELEASE, 0x1D) +
      key(KBD_EXTENDED1, 0x1D) + key(0, 0x45) + key(KBD_EXTENDED1 | KBD_RELEASE, 0x1D) +
      key(KBD_RELEASE, 0x45) + key(KBD_EXTENDED, 0x5B) + RELEASE_ALL)
write("rdp_input", "unicode", u32(0x00000407) + u16(1280) + u16(800) +
      uni(0, 0x00E9) + uni(KBD_RELEASE, 0x00E9) + uni(0, 0xD83D) + uni(0, 0xDE00) +
      uni(KBD_RELEASE, 0xD83D) + uni(KBD_RELEASE, 0xDE00) + uni(0, 0xDC00) + uni(0, 0xD800))
write("rdp_input", "mouse", u32(0x00010407) + u16(1024) + u16(768) +
      mouse(PTR_MOVE, 100, 200) + mouse(PTR_DOWN | PTR_B1, 100, 200) + mouse(PTR_MOVE, 5000, 5000) +
      mouse(PTR_B1, 300, 300) + mouse(PTR_DOWN | PTR_B2, 1, 1) + mouse(PTR_WHEEL | 0x78, 0, 0) +
      mouse(PTR_WHEEL | PTR_NEG | 0x88, 0, 0) + mouse(PTR_HWHEEL | 0x78, 0, 0) +
      xmouse(0x8000 | 0x0001, 10, 10) + xmouse(0x0001, 10, 10) + xmouse(0x8000 | 0x0002, 65535, 65535) +
      RELEASE_ALL)
write("rdp_input", "empty_desktop", u32(0xE0010411) + u16(0) + u16(0) + mouse(PTR_MOVE, 10, 10) +
      key(0, 0x1E))

# ---- rdp_disp: monitor count, then per monitor flags, left, top, width, height, scale ----
def pos(v): return u32(v + 10000)
def monitor(flags, left, top, w, h, scale):
    return u8(flags) + pos(left) + pos(top) + u32(w) + u32(h) + u16(scale)
write("rdp_disp", "single", u8(1) + monitor(1, 0, 0, 1920, 1080, 100))
write("rdp_disp", "two", u8(2) + monitor(1, 0, 0, 1920, 1080, 100) + monitor(0, 1920, 0, 1280, 1024, 100))
write("rdp_disp", "hidpi_left", u8(2) + monitor(0, -2560, 0, 2560, 1440, 150) + monitor(1, 0, 0, 3840, 2160, 200))
write("rdp_disp", "mirrored_odd", u8(3) + monitor(0, 0, 0, 1023, 767, 0) + monitor(0, 0, 0, 1023, 767, 0) +
      monitor(0, 100, 100, 200, 100, 550))
write("rdp_disp", "overlap", u8(2) + monitor(1, 0, 0, 1920, 1080, 100) + monitor(0, 1000, 0, 1920, 1080, 100))

# ---- rdp_cliprdr: ops (op byte % 8), see rdp_cliprdr_fuzz.cpp ----
UNICODETEXT, TEXT, OEMTEXT, DIB, DIBV5, HTML, PNGID, OTHER = range(8)   # format_id() picks
M_TEXT, M_HTML, M_PNG = 0, 1, 2                                         # mime() picks
def caps(flags): return u8(0) + u8(1) + u8(0) + u8(2) + u32(flags)
def fmt_list(*formats):
    out = u8(1) + u8(len(formats))
    for fid, name in formats:
        out += u8(fid)
        if name is None:
            out += u8(0)
        elif name == "HTML Format":
            out += u8(1)
        elif name == "PNG":
            out += u8(2)
        elif name == "":
            out += u8(3)
        else:
            out += u8(4) + u8(len(name)) + name.encode()
    return out
def client_request(fid): return u8(2) + u8(fid)
def client_response(flags, data): return u8(3) + u8(flags) + u16(len(data)) + data + (u8(0) if not data else b"")
def desktop_copy(*mimes): return u8(4) + u8(sum(1 << m for m in mimes))
def desktop_answer(data, ok=True): return u8(5) + u8(0 if ok else 0xF0) + u16(len(data)) + data
def desktop_paste(m): return u8(6) + u8(m)
def viewer_paste(m): return u8(7) + u8(m)

def png(w, h):
    rows = b""
    for y in range(h):
        rows += b"\x00" + b"".join(bytes([x * 50 % 256, y * 50 % 256, 200, 255]) for x in range(w))
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))

with open(os.path.join(HERE, "corpus", "dib", "a32.dib"), "rb") as f:
    DIB_BYTES = f.read()
write("rdp_cliprdr", "client_copies_text", caps(0x2) +
      fmt_list((UNICODETEXT, None), (TEXT, None), (HTML, "HTML Format"), (OTHER, "Rich Text Format")) +
      desktop_paste(M_TEXT) + client_response(1, "héllo\r\nwörld 😀\0".encode("utf-16-le")) +
      desktop_paste(M_HTML) + client_response(1, open(os.path.join(HERE, "corpus", "cf_html", "minimal.txt"), "rb").read()) +
      viewer_paste(M_TEXT) + client_response(2, b""))
write("rdp_cliprdr", "client_copies_image", caps(0x2) + fmt_list((DIB, None), (PNGID, "")) +
      desktop_paste(M_PNG) + client_response(1, png(3, 2)) + fmt_list((DIB, None)) +
      desktop_paste(M_PNG) + client_response(1, DIB_BYTES) + desktop_paste(M_TEXT))
write("rdp_cliprdr", "desktop_copies", caps(0) + desktop_copy(M_TEXT, M_HTML, M_PNG) +
      client_request(UNICODETEXT) + desktop_answer("grüße\nzeile".encode()) +
      client_request(TEXT) + desktop_answer(b"plain") +
      client_request(HTML) + desktop_answer(b"<b>bold</b>") +
      client_request(DIBV5) + desktop_answer(png(4, 4)) + client_request(DIB) + desktop_answer(png(1, 1)) +
      client_request(OTHER) + client_request(PNGID) + desktop_answer(b"", ok=False))
write("rdp_cliprdr", "before_ready", desktop_copy(M_TEXT) + fmt_list((OEMTEXT, None)) + caps(0x2) +
      desktop_paste(M_TEXT) + desktop_paste(M_TEXT) + client_response(1, b"caf\xe9\r\n\0") +
      client_response(1, b"second") + client_response(1, b"unsolicited"))

# ---- config: TOML ----
write("config", "documented.toml", '''# /etc/deskpod/deskpod.toml
size = "1280x800"
rdp = "0.0.0.0:3389"
guac = "off"
http = "[::]:8080"
rdp-security = "nla"
user = "alice"
password-file = "/run/secrets/deskpod-password"
session = "firefox-esr"
session-exit = "quit"
max-clients = 2
clipboard-limit = "4M"     # or 4194304
xwayland = false
primary-selection = true   # select-to-copy reaches the viewers' clipboard
log-format = "json"
''')
write("config", "underscores.toml", 'max_clients = 8\nclipboard_limit = 4194304\nlog_level = "debug"\nrdp = "localhost:13389"\n')
write("config", "errors.toml", 'max-clients = 0\nsize = 1280\n[table]\nx = 1\n')
write("config", "duplicate.toml", 'max-clients = 2\nmax_clients = 3\nsize = "640x480"\n')
write("config", "types.toml", 'xwayland = "maybe"\nclipboard-limit = 1.5\nhttp = ["a"]\nguac = { host = "x" }\n')
