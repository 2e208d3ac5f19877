"""The app's logo as PNG, drawn here (no image library): the console's database mark, white
on the accent blue, in a rounded square. Zendesk asks for `logo.png` (320 px) and
`logo-small.png` (128 px) in an app package.

Each pixel is sampled 3 by 3 times for smooth edges. The mark is the console's `database` icon
(`web/icons.py`) on its 24-unit grid: a cylinder's top ellipse, its sides, and two arcs.
"""

from __future__ import annotations

import math
import struct
import zlib
from functools import cache

_ACCENT = (0x1D, 0x5F, 0xBF)
_WHITE = (0xFF, 0xFF, 0xFF)
_SAMPLES = 3
# The mark, on the icon's 24-unit grid.
_STROKE = 2.0 / 2
_CX, _RX, _RY = 12.0, 7.5, 3.0
_TOP, _MIDDLE, _BOTTOM = 5.5, 12.0, 18.5


def _near_ellipse(x: float, y: float, cy: float, lower_half: bool) -> bool:
    """Whether (x, y) is within the stroke of the ellipse at (12, cy) (of its lower half)."""
    if lower_half and y < cy:
        return False
    dx, dy = (x - _CX) / _RX, (y - cy) / _RY
    value = dx * dx + dy * dy
    gradient = math.hypot(2 * (x - _CX) / (_RX * _RX), 2 * (y - cy) / (_RY * _RY))
    if gradient == 0:
        return False
    return abs(value - 1) / gradient <= _STROKE


def _on_mark(x: float, y: float) -> bool:
    """Whether a point of the 24-unit grid is on the mark's strokes."""
    if _near_ellipse(x, y, _TOP, lower_half=False):
        return True
    if _near_ellipse(x, y, _MIDDLE, lower_half=True):
        return True
    if _near_ellipse(x, y, _BOTTOM, lower_half=True):
        return True
    on_side = min(abs(x - (_CX - _RX)), abs(x - (_CX + _RX))) <= _STROKE
    return on_side and _TOP <= y <= _BOTTOM


def _in_rounded_square(x: float, y: float, size: float, radius: float) -> bool:
    nearest_x = min(max(x, radius), size - radius)
    nearest_y = min(max(y, radius), size - radius)
    return math.hypot(x - nearest_x, y - nearest_y) <= radius


def _pixels(size: int) -> bytes:
    rows = bytearray()
    # The mark spans about 17 of its 24 units; it fills 60% of the square.
    scale = 24 / (size * 0.85)
    offset = size * 0.075
    radius = size * 0.2
    step = 1 / _SAMPLES
    for row in range(size):
        rows.append(0)  # filter: none
        for column in range(size):
            square = mark = 0
            for i in range(_SAMPLES):
                for j in range(_SAMPLES):
                    px, py = column + (j + 0.5) * step, row + (i + 0.5) * step
                    if not _in_rounded_square(px, py, size, radius):
                        continue
                    square += 1
                    mark += _on_mark((px - offset) * scale, (py - offset) * scale)
            total = _SAMPLES * _SAMPLES
            if square == 0:
                rows.extend((0, 0, 0, 0))
                continue
            share = mark / square
            color = [round(a + (b - a) * share) for a, b in zip(_ACCENT, _WHITE, strict=True)]
            rows.extend((*color, round(255 * square / total)))
    return bytes(rows)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


@cache
def logo_png(size: int) -> bytes:
    """The logo as an RGBA PNG of `size` by `size` pixels."""
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(_pixels(size), 9))
        + _chunk(b"IEND", b"")
    )
