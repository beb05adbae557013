"""Screenshots as pixels: sizes, raw RGB (ImageMagick), comparisons, colour fractions."""

from __future__ import annotations

import subprocess
from pathlib import Path


def image_size(path: Path) -> tuple[int, int]:
    out = subprocess.run(["identify", "-format", "%w %h", str(path)], check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[0]), int(out[1])


def raw_rgb(path: Path) -> tuple[int, int, bytes]:
    w, h = image_size(path)
    data = subprocess.run(["convert", str(path), "-alpha", "off", "-depth", "8", "rgb:-"],
                          check=True, capture_output=True).stdout
    if len(data) != w * h * 3:
        raise AssertionError(f"{path}: expected {w * h * 3} bytes of RGB, got {len(data)}")
    return w, h, data


class Diff:
    def __init__(self, mean_abs: float, differing: float, size_a, size_b):
        self.mean_abs = mean_abs  # mean absolute difference per channel, 0..255
        self.differing = differing  # fraction of pixels with any channel off by more than tol
        self.size_a = size_a
        self.size_b = size_b

    def __str__(self):
        return (f"mean abs diff {self.mean_abs:.2f}/255, {self.differing * 100:.2f}% pixels differ"
                f" (sizes {self.size_a} vs {self.size_b})")


def compare_images(a: Path, b: Path, tol: int = 24) -> Diff:
    """Mean absolute difference and the fraction of pixels that differ by more than `tol` in any
    channel. Different sizes compare as completely different."""
    wa, ha, da = raw_rgb(a)
    wb, hb, db = raw_rgb(b)
    if (wa, ha) != (wb, hb):
        return Diff(255.0, 1.0, (wa, ha), (wb, hb))
    n = wa * ha
    total = 0
    bad = 0
    # Row by row keeps memory flat; per-pixel work stays in tight generator expressions.
    stride = wa * 3
    for y in range(ha):
        ra = da[y * stride:(y + 1) * stride]
        rb = db[y * stride:(y + 1) * stride]
        if ra == rb:
            continue
        diffs = [abs(p - q) for p, q in zip(ra, rb)]
        total += sum(diffs)
        bad += sum(1 for i in range(0, stride, 3)
                   if diffs[i] > tol or diffs[i + 1] > tol or diffs[i + 2] > tol)
    return Diff(total / (n * 3), bad / n, (wa, ha), (wb, hb))


def color_fraction(path: Path, rgb: tuple[int, int, int], tol: int = 24) -> float:
    """Fraction of the image's pixels within `tol` of the colour in every channel."""
    w, h, data = raw_rgb(path)
    r0, g0, b0 = rgb
    hits = 0
    # Exact-colour runs are counted by bytes.count, the rest pixel by pixel.
    for i in range(0, len(data), 3):
        if (abs(data[i] - r0) <= tol and abs(data[i + 1] - g0) <= tol
                and abs(data[i + 2] - b0) <= tol):
            hits += 1
    return hits / (w * h)


def parse_rgb(hexstr: str) -> tuple[int, int, int]:
    return int(hexstr[0:2], 16), int(hexstr[2:4], 16), int(hexstr[4:6], 16)
