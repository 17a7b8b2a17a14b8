"""What the figures are: counts, the rates derived from them (None when the denominator is 0 — never 0/0 = 0),
durations as median and 90th percentile, and their (label, value) rows for captions and sheets.
The definitions are in the README, "Indicators (指标口径)"; bot/indicators/compute.py counts."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot import texts

UNIT_KINDS = ("county", "department", "township", "grid")


@dataclass(frozen=True, order=True)
class Unit:
    """Whom figures are about: a department, a township (镇街), a grid, or the county (id None)."""

    kind: str
    id: int | None
    name: str
    code: str = ""

    def __post_init__(self) -> None:
        if self.kind not in UNIT_KINDS:
            raise ValueError(f"unknown unit kind {self.kind!r}")


COUNTY = Unit("county", None, texts.UNIT_COUNTY)


def ratio(numerator: float, denominator: float) -> float | None:
    """A share in 0..1, or None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by the nearest-rank method: the smallest value with at least 90 % of values at or
    below it (of 10 values, the 9th smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def fmt_rate(value: float | None) -> str:
    return texts.NO_VALUE if value is None else texts.RATE.format(value=100 * value)


def fmt_minutes(values: Sequence[float]) -> str:
    if not values:
        return texts.NO_VALUE
    return texts.PAIR.format(a=texts.MINUTES.format(value=median(values)), b=texts.MINUTES.format(value=p90(values)))


@dataclass
class Figures:
    """A unit's ticket figures for a period. Counts are plain; rates are properties (None without a denominator)."""

    satisfied_weight: float = 0.9
    received: int = 0  # tickets received in the period (valid ones)
    dispatched: int = 0  # lead assignments made in the period (派单, 维持原派, 改派, 重办)
    accept_base: int = 0  # … of which 签收 is charged to the department
    accepted_on_time: int = 0
    due: int = 0  # lead assignments whose (extended) resolve limit falls in the period
    resolved_on_time: int = 0
    closed: int = 0  # … of those, the ticket closed (已评价 or 未评价) without a later 重办
    arrive_base: int = 0  # lead assignments needing arrival whose arrival limit falls in the period
    arrived_on_time: int = 0
    resolved: int = 0  # lead assignments resolved (办结) in the period
    callbacks: int = 0  # … of which a reporter answered the 回访 (valid callbacks)
    solved: int = 0
    satisfied: int = 0
    basic: int = 0  # 基本满意
    dissatisfied: int = 0
    unrated: int = 0  # … closed as 未评价 (no answer): not valid callbacks, never satisfied
    reopened: int = 0  # … followed by 重办
    returns: int = 0  # dispatched lead assignments the department returned (退回)
    returns_upheld: int = 0  # … the dispatcher upheld (维持原派单)
    returns_rerouted: int = 0  # … the dispatcher sent elsewhere
    extensions: int = 0  # dispatched lead assignments with an approved 延期
    escalated: int = 0  # 督办 in the period
    escalated2: int = 0  # 领导督办 in the period
    invalid: int = 0  # 无效工单 in the period (counted apart, in no rate)
    merged: int = 0  # 并单 in the period (counted apart, in no rate)
    orders: int = 0  # distinct valid tickets in any of the counts above (the ranking's minimum applies to it)
    response_minutes: list[float] = field(default_factory=list)  # 派单 → 签收
    arrival_minutes: list[float] = field(default_factory=list)  # 派单 → 报到
    score: float | None = None  # the composite score 0–100 (bot/indicators/score.py)

    # -- rates ----------------------------------------------------------------------------------------------
    @property
    def accept_rate(self) -> float | None:  # 及时签收率
        return ratio(self.accepted_on_time, self.accept_base)

    @property
    def resolve_rate(self) -> float | None:  # 按时办结率
        return ratio(self.resolved_on_time, self.due)

    @property
    def close_rate(self) -> float | None:  # 结案率
        return ratio(self.closed, self.due)

    @property
    def arrive_rate(self) -> float | None:  # 按时到场率
        return ratio(self.arrived_on_time, self.arrive_base)

    @property
    def callback_rate(self) -> float | None:  # 回访率: of the callbacks decided (a ticket still waiting: not yet)
        return ratio(self.callbacks, self.callbacks + self.unrated)

    @property
    def solve_rate(self) -> float | None:  # 解决率
        return ratio(self.solved, self.callbacks)

    @property
    def satisfy_rate(self) -> float | None:  # 满意率
        return ratio(self.satisfied + self.satisfied_weight * self.basic, self.callbacks)

    @property
    def return_rate(self) -> float | None:  # 退单率
        return ratio(self.returns, self.dispatched)

    @property
    def reopen_rate(self) -> float | None:  # 重办率
        return ratio(self.reopened, self.resolved)

    @property
    def extend_rate(self) -> float | None:  # 延期率
        return ratio(self.extensions, self.dispatched)

    def rate(self, label: str) -> float | None:
        """A rate by its Chinese label (texts.IND_…)."""
        return RATES[label](self)

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) for a caption or a sheet, in a fixed order."""
        t = texts
        score = t.NO_VALUE if self.score is None else t.SCORE.format(value=self.score)
        return [
            (t.IND_SCORE, score),
            (t.IND_RECEIVED, str(self.received)),
            (t.IND_DISPATCHED, str(self.dispatched)),
            (t.IND_ACCEPT_RATE, fmt_rate(self.accept_rate)),
            (t.IND_DUE, str(self.due)),
            (t.IND_RESOLVE_RATE, fmt_rate(self.resolve_rate)),
            (t.IND_CLOSE_RATE, fmt_rate(self.close_rate)),
            (t.IND_ARRIVE_RATE, fmt_rate(self.arrive_rate)),
            (t.IND_RESPONSE, fmt_minutes(self.response_minutes)),
            (t.IND_ARRIVAL, fmt_minutes(self.arrival_minutes)),
            (t.IND_RESOLVED, str(self.resolved)),
            (t.IND_CALLBACK_RATE, fmt_rate(self.callback_rate)),
            (t.IND_SOLVE_RATE, fmt_rate(self.solve_rate)),
            (t.IND_SATISFY_RATE, fmt_rate(self.satisfy_rate)),
            (t.IND_UNRATED, str(self.unrated)),
            (t.IND_RETURN_RATE, fmt_rate(self.return_rate)),
            (t.IND_RETURNS, t.RETURNS.format(total=self.returns, upheld=self.returns_upheld,
                                             rerouted=self.returns_rerouted)),
            (t.IND_REOPEN_RATE, fmt_rate(self.reopen_rate)),
            (t.IND_EXTEND_RATE, fmt_rate(self.extend_rate)),
            (t.IND_ESCALATED, t.PAIR.format(a=self.escalated, b=self.escalated2)),
            (t.IND_INVALID, str(self.invalid)),
            (t.IND_MERGED, str(self.merged)),
        ]


RATES = {
    texts.IND_ACCEPT_RATE: lambda f: f.accept_rate,
    texts.IND_RESOLVE_RATE: lambda f: f.resolve_rate,
    texts.IND_CLOSE_RATE: lambda f: f.close_rate,
    texts.IND_ARRIVE_RATE: lambda f: f.arrive_rate,
    texts.IND_CALLBACK_RATE: lambda f: f.callback_rate,
    texts.IND_SOLVE_RATE: lambda f: f.solve_rate,
    texts.IND_SATISFY_RATE: lambda f: f.satisfy_rate,
    texts.IND_RETURN_RATE: lambda f: f.return_rate,
    texts.IND_REOPEN_RATE: lambda f: f.reopen_rate,
    texts.IND_EXTEND_RATE: lambda f: f.extend_rate,
}


@dataclass
class CallFigures:
    """A unit's 网格呼叫 figures for a period (calls made in the period)."""

    satisfied_weight: float = 0.9
    calls: int = 0  # made in the period, not withdrawn
    cancelled: int = 0  # withdrawn by the caller (counted apart)
    respond_base: int = 0  # calls responded, or whose response limit has passed
    responded_on_time: int = 0
    arrive_base: int = 0  # calls arrived at, or whose arrival limit has passed
    arrived_on_time: int = 0
    response_minutes: list[float] = field(default_factory=list)  # 呼叫 → 响应
    arrival_minutes: list[float] = field(default_factory=list)  # 呼叫 → 报到
    rated: int = 0  # calls rated (一哨一考核)
    marks: list[float] = field(default_factory=list)  # every aspect of every rating: 满意 1, 基本满意 w, 不满意 0

    @property
    def respond_rate(self) -> float | None:  # 按时响应率
        return ratio(self.responded_on_time, self.respond_base)

    @property
    def arrive_rate(self) -> float | None:  # 按时到场率
        return ratio(self.arrived_on_time, self.arrive_base)

    @property
    def rating(self) -> float | None:
        """一哨一考核 as 0–100: the mean of the three aspects (响应速度, 到场, 处置结果) of every rating."""
        return 100 * sum(self.marks) / len(self.marks) if self.marks else None

    @property
    def response_median(self) -> float | None:
        return median(self.response_minutes)

    @property
    def response_p90(self) -> float | None:
        return p90(self.response_minutes)

    @property
    def arrival_median(self) -> float | None:
        return median(self.arrival_minutes)

    @property
    def arrival_p90(self) -> float | None:
        return p90(self.arrival_minutes)

    def rows(self) -> list[tuple[str, str]]:
        t = texts
        return [
            (t.IND_CALLS, str(self.calls)),
            (t.IND_CALL_RESPOND_RATE, fmt_rate(self.respond_rate)),
            (t.IND_CALL_ARRIVE_RATE, fmt_rate(self.arrive_rate)),
            (t.IND_CALL_RESPONSE, fmt_minutes(self.response_minutes)),
            (t.IND_CALL_ARRIVAL, fmt_minutes(self.arrival_minutes)),
            (t.IND_CALL_RATED, str(self.rated)),
            (t.IND_CALL_RATING, t.NO_VALUE if self.rating is None else t.SCORE.format(value=self.rating)),
            (t.IND_CALLS_CANCELLED, str(self.cancelled)),
        ]
