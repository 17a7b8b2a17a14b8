"""The CJK font the charts set Chinese in, and matplotlib loaded lazily (the bot starts without it).

The font is found by file path, never by matplotlib's font cache or name matching (which silently falls back
to DejaVu Sans and draws boxes, "tofu", for every Chinese character): GRIDBOT_CJK_FONT if set, else the first
of FONT_CANDIDATES that exists — the Debian packages fonts-wqy-microhei (what .ci/run and the Dockerfile
install: 5 MB), fonts-wqy-zenhei and fonts-noto-cjk. No font: `FontMissing`, and the caller sends text only.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",  # Noto's own SC release
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # fonts-noto-cjk (face 0: the JP forms)
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora, Arch
    "/System/Library/Fonts/PingFang.ttc",  # a developer's Mac
)
PROBE = "网格通"  # every candidate must have these glyphs


class FontMissing(RuntimeError):
    """No CJK font is installed: charts cannot be drawn (the caller sends the figures as text)."""


_warned = False


def find_cjk_font(explicit: str | Path | None = None) -> Path:
    """The font file for Chinese text: `explicit`, else GRIDBOT_CJK_FONT, else the first installed candidate
    that has the probe glyphs. Raises FontMissing (logged once per process) when there is none."""
    global _warned
    chosen = explicit or os.environ.get("GRIDBOT_CJK_FONT", "").strip() or None
    candidates = [Path(chosen)] if chosen else [Path(p) for p in FONT_CANDIDATES]
    for path in candidates:
        if path.is_file() and has_glyphs(path, PROBE):
            return path
    where = f"GRIDBOT_CJK_FONT={chosen} (missing, or without Chinese glyphs)" if chosen else \
        "none of " + ", ".join(FONT_CANDIDATES)
    if not _warned:
        _warned = True
        log.warning("no CJK font for charts: %s; install fonts-wqy-microhei (apt) or set GRIDBOT_CJK_FONT. "
                    "Reports are sent as text only.", where)
    raise FontMissing(f"no CJK font for charts: {where}; install fonts-wqy-microhei or set GRIDBOT_CJK_FONT")


@cache
def has_glyphs(path: Path, text: str) -> bool:
    """Whether the font file maps every character of `text` to a real glyph (index 0 is .notdef: a box)."""
    ft2font = mpl()[2]
    try:
        font = ft2font.FT2Font(str(path))
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(c)) != 0 for c in text if not c.isspace())


@cache
def mpl():
    """matplotlib's pieces, imported on first use: Figure drawn by the Agg canvas directly (no display, no
    pyplot and so no global figure state shared between calls or threads)."""
    from matplotlib import ft2font
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    return Figure, FigureCanvasAgg, ft2font, FontProperties


@cache
def font_properties(path: Path, size: float):
    """FontProperties for the file at one size (cached: the same object for every chart)."""
    FontProperties = mpl()[3]
    return FontProperties(fname=str(path), size=size)
