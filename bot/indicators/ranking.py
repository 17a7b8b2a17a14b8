"""Fair rankings: units are ranked only among peers (county departments, utilities, townships), only once they
have the minimum number of orders (fewer: listed apart, not ranked; none: listed apart again), by the composite
score (GRIDBOT_SCORE_MODE: each unit's own rates, or 比值法 against the group's best); ties by orders (more first), then code. The red list (红榜) is the top N, the black list (黑榜) the bottom
N — never the same unit on both: with fewer than 2N ranked, each list takes half — and each entry names the
indicator that put it there: among the score's rates, the one where the unit is furthest above (red) or below
(black) the mean of the ranked units that have that rate."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.indicators.figures import Figures, Unit
from bot.indicators.periods import Period
from bot.indicators.score import ABSOLUTE, RELATIVE, indicator, relative

GROUPS = ("county", "utility", "township")


@dataclass(frozen=True)
class Listed:
    """A unit on the red or black list, and why: the deciding indicator, its value and the group's mean."""

    unit: Unit
    figures: Figures
    score: float
    indicator: str  # the Chinese label, e.g. 及时签收率
    value: float
    group_mean: float


@dataclass
class Ranking:
    period: Period
    group: str
    min_orders: int
    ranked: list[tuple[Unit, Figures, float]] = field(default_factory=list)  # best first
    below_minimum: list[tuple[Unit, Figures]] = field(default_factory=list)  # 0 < orders < the minimum
    no_orders: list[tuple[Unit, Figures]] = field(default_factory=list)
    unscored: list[tuple[Unit, Figures]] = field(default_factory=list)  # enough orders, none of the score's rates yet
    red: list[Listed] = field(default_factory=list)
    black: list[Listed] = field(default_factory=list)


def rank(period: Period, group: str, table: list[tuple[Unit, Figures]], weights: tuple[tuple[str, float], ...],
         min_orders: int, list_size: int, mode: str = ABSOLUTE) -> Ranking:
    """`mode` relative: the units with enough orders are scored against each other (比值法, bot/indicators/
    score.py) instead of by their own rates; the figures' own `score` is left as it is (/stats shows it)."""
    result = Ranking(period, group, min_orders)
    scored = []
    if mode == RELATIVE:
        eligible = [(u, f) for u, f in table if f.orders >= min_orders]
        against = dict(zip([u for u, _ in eligible], relative(eligible, weights), strict=True))
    for unit, figures in table:
        points = against.get(unit) if mode == RELATIVE else figures.score
        if figures.orders == 0:
            result.no_orders.append((unit, figures))
        elif figures.orders < min_orders:
            result.below_minimum.append((unit, figures))
        elif points is None:
            result.unscored.append((unit, figures))
        else:
            scored.append((unit, figures, points))
    scored.sort(key=lambda e: (-e[2], -e[1].orders, e[0].code, e[0].id or 0))
    result.ranked = scored
    n = min(list_size, len(scored) // 2)
    if n:
        labels = [indicator(key) for key, weight in weights if weight > 0]
        means = {}
        for label in labels:
            values = [f.rate(label) for _, f, _ in scored if f.rate(label) is not None]
            if values:
                means[label] = sum(values) / len(values)
        result.red = [_why(entry, labels, means, best=True) for entry in scored[:n]]
        result.black = [_why(entry, labels, means, best=False) for entry in reversed(scored[-n:])]
    return result


def _why(entry: tuple[Unit, Figures, float], labels: list[str], means: dict[str, float], best: bool) -> Listed:
    unit, figures, score = entry
    options = []
    for order, label in enumerate(dict.fromkeys(labels)):  # 响应 and 签收 are one indicator
        value = figures.rate(label)
        if value is not None and label in means:
            gap = value - means[label]
            options.append(((gap if best else -gap), -order, label, value))
    _, _, label, value = max(options)  # a scored unit has at least one of the rates
    return Listed(unit, figures, score, label, value, means[label])
