"""Real, small media files made in code for the chat page's samples (示例照片, 示例语音): a picture a browser
shows and a recording it plays, so no binary fixtures live in the repository."""

from __future__ import annotations

import array
import math
import struct
import zlib
from functools import lru_cache

SAMPLE_RATE = 8000  # Hz: telephone quality, 16 kB a second
MAX_SECONDS = 60

# A 3x5 bitmap of each digit, row by row (1 = ink).
_DIGITS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001001001",
    "8": "111101111101111", "9": "111101111001111",
}  # fmt: skip
_WALLS = [(196, 120, 86), (86, 140, 196), (120, 170, 96), (190, 160, 70), (150, 110, 170)]


def _png(width: int, height: int, rows: list[bytearray]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(row) for row in rows)  # filter type 0 on every scan line
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


@lru_cache(maxsize=16)
def sample_picture(number: int = 1, width: int = 320, height: int = 240) -> bytes:
    """A PNG street scene: sky, road, a house whose colour and big number (in the sky) tell the samples apart."""
    wall = _WALLS[(number - 1) % len(_WALLS)]
    horizon = height * 2 // 3
    rows = []
    for y in range(height):
        if y < horizon:  # sky, lighter towards the horizon
            shade = y * 90 // horizon
            row = bytearray((120 + shade // 2, 170 + shade // 2, 230 + shade // 4) * width)
        else:
            row = bytearray((110, 110, 115) * width)
        rows.append(row)
    left, right, top = width // 8, width // 2, height // 3

    def fill(x0: int, y0: int, x1: int, y1: int, colour: tuple[int, int, int]) -> None:
        for y in range(max(0, y0), min(height, y1)):
            rows[y][3 * max(0, x0):3 * min(width, x1)] = bytes(colour) * (min(width, x1) - max(0, x0))

    fill(left, top, right, horizon, wall)
    for wx in range(left + 10, right - 20, 28):  # windows
        for wy in range(top + 10, horizon - 24, 30):
            fill(wx, wy, wx + 16, wy + 18, (250, 240, 200))
    fill(0, horizon + 8, width, horizon + 12, (240, 240, 240))  # the road's line
    scale, digits = max(2, height // 30), str(number)[:3]
    for i, digit in enumerate(digits):  # in the sky right of the house, clear of a square crop's edges
        x0 = width * 5 // 8 + i * 4 * scale
        for cell, ink in enumerate(_DIGITS[digit]):
            if ink == "1":
                x, y = x0 + (cell % 3) * scale, height // 8 + (cell // 3) * scale
                fill(x, y, x + scale, y + scale, (255, 255, 255))
    return _png(width, height, rows)


@lru_cache(maxsize=8)
def sample_voice(seconds: int = 3) -> bytes:
    """A WAV recording of ``seconds`` (1-60): syllable-like hums, four a second, as a voice note has."""
    seconds = int(seconds)
    if not 1 <= seconds <= MAX_SECONDS:
        raise ValueError(f"a sample voice note lasts 1 to {MAX_SECONDS} seconds")
    samples = array.array("h")
    for n in range(seconds * SAMPLE_RATE):
        t = n / SAMPLE_RATE
        syllable = math.sin(math.pi * ((t * 4) % 1)) ** 2  # swells and fades four times a second
        pitch = 180 + 40 * math.sin(2 * math.pi * 0.7 * t)
        samples.append(int(9000 * syllable * math.sin(2 * math.pi * pitch * t)))
    data = samples.tobytes() if array.array("h", [1]).tobytes() == b"\x01\x00" else _swapped(samples)
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 1, 1,
                         SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16, b"data", len(data))
    return header + data


def _swapped(samples: array.array) -> bytes:
    copy = array.array("h", samples)
    copy.byteswap()  # WAV is little-endian
    return copy.tobytes()
