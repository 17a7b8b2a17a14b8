"""Charts for the command center, as PNG bytes for a Telegram photo: plain data in, no database, no Telegram.

- `bar_chart`: one indicator across units or periods (a bar per label; None: no figure, drawn as a gap "—");
- `ranking_chart`: a ranking as horizontal bars, the first row (the best) at the top;
- `figures_card`: key figures as a table-like card (label | value).

Each is a fresh matplotlib Figure drawn by the Agg canvas (no pyplot: nothing is shared between calls), at a
fixed size that depends only on the number of rows (1024 px wide; Telegram shows photos up to 1280 px), with
Chinese text in the CJK font found by bot/reports/fonts.py. No CJK font: `FontMissing` (send text instead).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from bot.reports.fonts import FontMissing, find_cjk_font, font_properties, mpl

__all__ = ["FontMissing", "bar_chart", "figures_card", "ranking_chart", "WIDTH_PX"]

DPI = 100
WIDTH_PX = 1024
MAX_RANKED = 40  # rows drawn in a ranking chart (the caption or the xlsx carries the rest)
MAX_FIGURES = 30  # rows drawn on a figures card
BAR = "#2f6fb0"
BAR_LOW = "#c0504d"
GRID = "#dddddd"
TEXT = "#222222"
MUTED = "#888888"


def bar_chart(title: str, labels: list[str], values: list[float | None], unit: str = "%",
              font: str | Path | None = None) -> bytes:
    """One bar per label, its value written above it (`unit` after the number); None is a gap marked "—"."""
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels but {len(values)} values")
    fp = _fonts(font)
    fig, ax = _figure(WIDTH_PX, 576)
    xs = list(range(len(labels)))
    heights = [0.0 if v is None else float(v) for v in values]
    ax.bar(xs, heights, color=BAR, width=0.6, zorder=2)
    top = max([abs(h) for h in heights] + [100.0 if unit == "%" else 1.0])  # rates: always a 0–100 scale
    for x, v in zip(xs, values, strict=True):
        text = "—" if v is None else f"{_number(v)}{unit}"
        ax.text(x, (0 if v is None else max(v, 0)) + top * 0.02, text, ha="center", va="bottom",
                fontproperties=fp["small"], color=MUTED if v is None else TEXT)
    ax.set_ylim(min([0.0] + heights) * 1.1, top * 1.15)
    ax.set_xticks(xs)
    long = len(labels) > 8 or max((len(label) for label in labels), default=0) > 6
    ax.set_xticklabels(labels, rotation=35 if long else 0, ha="right" if long else "center")
    _style(ax, fp, title)
    ax.yaxis.grid(True, color=GRID, zorder=0)
    return _png(fig)


def ranking_chart(title: str, rows: list[tuple[str, float]], unit: str = "", font: str | Path | None = None) -> bytes:
    """Horizontal bars in the given (rank) order, the first at the top; at most MAX_RANKED rows are drawn."""
    fp = _fonts(font)
    rows = rows[:MAX_RANKED]
    n = max(len(rows), 1)
    fig, ax = _figure(WIDTH_PX, 140 + 34 * n)
    ys = list(range(len(rows)))
    values = [float(v) for _, v in rows]
    ax.barh(ys, values, color=BAR, height=0.6, zorder=2)
    top = max([abs(v) for v in values] + [1.0])
    for y, v in zip(ys, values, strict=True):
        ax.text(max(v, 0) + top * 0.01, y, f"{_number(v)}{unit}", va="center", fontproperties=fp["small"], color=TEXT)
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{i}. {label}" for i, (label, _) in enumerate(rows, 1)])
    ax.set_ylim(n - 0.5, -0.5)  # the first row at the top
    ax.set_xlim(min([0.0] + values) * 1.1, top * 1.15)
    _style(ax, fp, title)
    ax.xaxis.grid(True, color=GRID, zorder=0)
    return _png(fig)


def figures_card(title: str, rows: list[tuple[str, str]], font: str | Path | None = None) -> bytes:
    """Key figures as a two-column card: the label on the left, the value on the right, rows shaded in turn."""
    fp = _fonts(font)
    rows = rows[:MAX_FIGURES]
    row_px, head_px = 44, 80
    height = head_px + row_px * max(len(rows), 1) + 20
    Figure = mpl()[0]
    fig = Figure(figsize=(720 / DPI, height / DPI), dpi=DPI, facecolor="white")
    fig.text(24 / 720, 1 - 44 / height, title, fontproperties=fp["title"], color=TEXT, va="center")
    for i, (label, value) in enumerate(rows):
        y0 = 1 - (head_px + row_px * (i + 1)) / height
        if i % 2 == 0:
            fig.patches.append(_rect(fig, y0, row_px / height))
        mid = y0 + row_px / height / 2
        fig.text(24 / 720, mid, str(label), fontproperties=fp["body"], color=TEXT, va="center")
        fig.text(1 - 24 / 720, mid, str(value), fontproperties=fp["body"], color=TEXT, va="center", ha="right")
    if not rows:
        fig.text(0.5, 1 - (head_px + row_px / 2) / height, "—", fontproperties=fp["body"], color=MUTED,
                 ha="center", va="center")
    return _png(fig)


# -- pieces -------------------------------------------------------------------------------------
def _fonts(font: str | Path | None) -> dict:
    path = find_cjk_font(font)
    return {"title": font_properties(path, 18), "body": font_properties(path, 15), "tick": font_properties(path, 12),
            "small": font_properties(path, 11)}


def _figure(width_px: int, height_px: int):
    Figure = mpl()[0]
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, facecolor="white")
    return fig, fig.add_subplot(1, 1, 1)


def _style(ax, fp: dict, title: str) -> None:
    ax.set_title(title, fontproperties=fp["title"], color=TEXT, pad=14)
    for label in ax.get_xticklabels() + ax.get_yticklabels():
        label.set_fontproperties(fp["tick"])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.figure.tight_layout()


def _rect(fig, y0: float, h: float):
    from matplotlib.patches import Rectangle

    return Rectangle((0.02, y0), 0.96, h, transform=fig.transFigure, figure=fig, facecolor="#f1f4f8",
                     edgecolor="none", zorder=0)


def _number(v: float) -> str:
    if isinstance(v, int) or (math.isfinite(v) and float(v).is_integer()):
        return str(int(v))
    return f"{v:.1f}"


def _png(fig) -> bytes:
    canvas = mpl()[1](fig)
    out = io.BytesIO()
    # no bbox_inches="tight": the picture keeps the size it was made with
    canvas.print_png(out, metadata={"Software": None})
    return out.getvalue()
