"""What a Guacamole client draws, replayed in Python: layers (0 visible, negative indices
off-screen buffers), `img` streams of PNG (decoded here with zlib: palette at 1, 2, 4 or 8 bits,
or 8-bit RGB/RGBA, any filter), `copy`, `rect` + `cfill`. Tests compare layer 0 with the desktop's
own pixels exactly."""

from __future__ import annotations

import base64
import struct
import zlib


def _unfilter(raw: bytes, height: int, stride: int, bpp: int) -> bytearray:
    out = bytearray(height * stride)
    prev = bytearray(stride)
    pos = 0
    for y in range(height):
        kind = raw[pos]
        line = bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xFF
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        elif kind != 0:
            raise AssertionError(f"PNG filter {kind}")
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return out


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, RGB bytes) of a non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, palette = 8, b"", b""
    width = height = depth = colour = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert interlace == 0, "interlaced PNG"
        elif kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    if colour == 3:
        stride = (width * depth + 7) // 8
        rows = _unfilter(raw, height, stride, 1)
        rgb = bytearray(width * height * 3)
        per_byte, mask = 8 // depth, (1 << depth) - 1
        for y in range(height):
            row = rows[y * stride:(y + 1) * stride]
            for x in range(width):
                index = (row[x // per_byte] >> (8 - depth * (x % per_byte + 1))) & mask
                rgb[(y * width + x) * 3:(y * width + x) * 3 + 3] = palette[index * 3:index * 3 + 3]
        return width, height, bytes(rgb)
    assert depth == 8 and colour in (2, 6), f"PNG colour type {colour} depth {depth}"
    channels = 3 if colour == 2 else 4
    rows = _unfilter(raw, height, width * channels, channels)
    if channels == 3:
        return width, height, bytes(rows)
    rgb = bytearray(width * height * 3)
    rgb[0::3], rgb[1::3], rgb[2::3] = rows[0::4], rows[1::4], rows[2::4]
    return width, height, bytes(rgb)


class GuacCanvas:
    def __init__(self):
        self.layers: dict[int, list] = {}  # index -> [width, height, bytearray RGB]
        self.streams: dict[str, list] = {}
        self.path = (0, 0, 0, 0)
        self.counts: dict[str, int] = {}

    def _count(self, what: str):
        self.counts[what] = self.counts.get(what, 0) + 1

    def resize(self, layer: int, w: int, h: int):
        old = self.layers.get(layer, [0, 0, bytearray()])
        new = bytearray(w * h * 3)
        for y in range(min(h, old[1])):
            n = min(w, old[0]) * 3
            new[y * w * 3:y * w * 3 + n] = old[2][y * old[0] * 3:y * old[0] * 3 + n]
        self.layers[layer] = [w, h, new]

    def _blit(self, layer: int, x: int, y: int, w: int, h: int, rgb: bytes):
        lw, lh, px = self.layers[layer]
        assert 0 <= x and 0 <= y and x + w <= lw and y + h <= lh, \
            f"drawing {w}x{h}+{x}+{y} outside layer {layer} ({lw}x{lh})"
        for row in range(h):
            at = ((y + row) * lw + x) * 3
            px[at:at + w * 3] = rgb[row * w * 3:(row + 1) * w * 3]

    def _read(self, layer: int, x: int, y: int, w: int, h: int) -> bytes:
        lw, lh, px = self.layers[layer]
        assert 0 <= x and 0 <= y and x + w <= lw and y + h <= lh, \
            f"reading {w}x{h}+{x}+{y} outside layer {layer} ({lw}x{lh})"
        return b"".join(bytes(px[((y + r) * lw + x) * 3:((y + r) * lw + x + w) * 3])
                        for r in range(h))

    def apply(self, ins: list[str]):
        op, a = ins[0], ins[1:]
        self._count(op)
        if op == "size":
            self.resize(int(a[0]), int(a[1]), int(a[2]))
        elif op == "img":
            self.streams[a[0]] = [int(a[2]), a[3], int(a[4]), int(a[5]), []]
            self._count(a[3])
        elif op == "blob" and a[0] in self.streams:
            self.streams[a[0]][4].append(a[1])
        elif op == "end" and a[0] in self.streams:
            layer, mimetype, x, y, parts = self.streams.pop(a[0])
            assert mimetype == "image/png", f"{mimetype}: this canvas decodes PNG only"
            w, h, rgb = decode_png(base64.b64decode("".join(parts)))
            self._blit(layer, x, y, w, h, rgb)
        elif op == "copy":
            src, sx, sy, w, h, _mask, dst, dx, dy = (int(v) for v in a[:9])
            self._count("copy from buffer" if src < 0 else "copy to buffer" if dst < 0
                        else "copy within the layer")
            self._blit(dst, dx, dy, w, h, self._read(src, sx, sy, w, h))
        elif op == "rect":
            self.path = tuple(int(v) for v in a[1:5])
        elif op == "cfill":
            x, y, w, h = self.path
            self._blit(int(a[1]), x, y, w, h, bytes((int(a[2]), int(a[3]), int(a[4]))) * (w * h))

    def picture(self) -> tuple[int, int, bytes]:
        w, h, px = self.layers[0]
        return w, h, bytes(px)
