"""The composite score (综合得分, 0–100): a weighted mean of rates, GRIDBOT_SCORE_WEIGHTS ("响应:0.1,解决:0.5,满意:0.4").

A rate without a denominator (nothing to measure) is left out and the remaining weights renormalised; a unit
with none of the rates has no score. No database, no Telegram: bot/config.py validates the setting with it.
"""

from __future__ import annotations

from bot import texts
from bot.indicators.figures import Figures

DEFAULT_WEIGHTS = "响应:0.1,解决:0.5,满意:0.4"
ABSOLUTE, RELATIVE = "absolute", "relative"  # GRIDBOT_SCORE_MODE
MODES = (ABSOLUTE, RELATIVE)


def parse_weights(text: str) -> tuple[tuple[str, float], ...]:
    """"响应:0.1,解决:0.5,满意:0.4" → (("响应", 0.1), …) in the written order; ValueError naming what is wrong."""
    weights: list[tuple[str, float]] = []
    for part in (text or "").replace("，", ",").replace("：", ":").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition(":")
        key = key.strip()
        if not sep or key not in texts.SCORE_KEYS:
            raise ValueError(f"expected key:weight with a key among {', '.join(texts.SCORE_KEYS)}, got {part.strip()!r}")
        try:
            weight = float(value)
        except ValueError:
            raise ValueError(f"weight of {key} is not a number: {value.strip()!r}") from None
        if not 0 <= weight <= 100 or key in dict(weights):
            raise ValueError(f"weight of {key} must be a number ≥ 0, once: {part.strip()!r}")
        weights.append((key, weight))
    if not weights or sum(w for _, w in weights) <= 0:
        raise ValueError("at least one positive weight is needed")
    return tuple(weights)


def indicator(key: str) -> str:
    """The Chinese label of the rate a weight key stands for (响应 → 及时签收率)."""
    return texts.SCORE_KEYS[key]


def score(figures: Figures, weights: tuple[tuple[str, float], ...],
          best: dict[str, float] | None = None) -> float | None:
    """100 × the weighted mean of the rates (absolute mode); with `best` (relative mode, 比值法: each rate over
    the best of the peer group for it) the best unit of every indicator gets its full weight. A rate whose best
    is 0 says nothing about the peers and is left out like a missing one."""
    total = weight_sum = 0.0
    for key, weight in weights:
        label = indicator(key)
        value = figures.rate(label)
        if best is not None and value is not None:
            value = value / best[label] if best.get(label) else None
        if value is not None and weight > 0:
            total += weight * value
            weight_sum += weight
    return 100 * total / weight_sum if weight_sum else None


def relative(table: list[tuple[object, Figures]], weights: tuple[tuple[str, float], ...]) -> list[float | None]:
    """比值法 scores of a peer group's units, in the table's order."""
    best: dict[str, float] = {}
    for _, figures in table:
        for key, _ in weights:
            value = figures.rate(indicator(key))
            if value is not None:
                best[indicator(key)] = max(best.get(indicator(key), 0.0), value)
    return [score(figures, weights, best) for _, figures in table]
