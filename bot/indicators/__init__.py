"""12345 indicators and fair rankings for the command center, read from the event log (no Telegram).

    periods.py   Period, parse_period (今天, 本月, 上月, 2026-11, 2026-11-01..2026-11-15 …)
    figures.py   Unit, Figures, CallFigures: counts, rates (None without a denominator), rows for captions
    load.py      a period's rows in a handful of queries;  compute.py  one pass → every unit's figures
    score.py     the composite score (GRIDBOT_SCORE_WEIGHTS);  ranking.py  peer groups, red and black lists

The definitions (指标口径) are in the README, section "Indicators (指标口径)".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.calendar import TZ
from bot.indicators import compute, load
from bot.indicators.figures import COUNTY, CallFigures, Figures, Unit
from bot.indicators.periods import (
    Period,
    PeriodError,
    month,
    month_to_date,
    parse_period,
    previous_month,
    today,
    week_to_date,
    yesterday,
)
from bot.indicators.ranking import GROUPS, Listed, Ranking, rank
from bot.indicators.score import ABSOLUTE, DEFAULT_WEIGHTS, parse_weights, score
from nlp.catalogue import Catalogue
from storage.db import Database
from storage.models import DepartmentKind, utcnow

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = ["COUNTY", "GROUPS", "CallFigures", "Figures", "Indicators", "Listed", "Period", "PeriodError", "Ranking",
           "Unit", "month", "month_to_date", "parse_period", "previous_month", "today", "week_to_date",
           "yesterday"]

TABLE_KINDS = ("department", "township", "grid")


class Indicators:
    """The figures of any period for the county, a department, a township or a grid, and the rankings.

    Settings (or the explicit parameters, which win): GRIDBOT_SATISFIED_WEIGHT (基本满意's weight in 满意率),
    GRIDBOT_SCORE_WEIGHTS, GRIDBOT_RANK_MIN_ORDERS, GRIDBOT_RANK_LIST_SIZE."""

    def __init__(self, db: Database, catalogue: Catalogue, settings: Settings | None = None, *,
                 satisfied_weight: float | None = None, score_weights: str | None = None,
                 min_orders: int | None = None, list_size: int | None = None, score_mode: str | None = None,
                 tz: ZoneInfo = TZ,
                 now: Callable[[], datetime] = utcnow) -> None:
        def pick(explicit, name, default):
            if explicit is not None:
                return explicit
            return getattr(settings, name) if settings is not None else default

        self.db = db
        self.catalogue = catalogue
        self.tz = tz
        self.now = now  # what is still within its limit at this moment is not counted yet
        self.satisfied_weight = float(pick(satisfied_weight, "satisfied_weight", 0.9))
        self.weights = parse_weights(pick(score_weights, "score_weights", DEFAULT_WEIGHTS))
        self.min_orders = int(pick(min_orders, "rank_min_orders", 5))
        self.list_size = int(pick(list_size, "rank_list_size", 3))
        self.score_mode = pick(score_mode, "score_mode", ABSOLUTE)

    def period(self, text: str | None, now: datetime | None = None) -> Period:
        return parse_period(text, now or self.now(), self.tz)

    # -- units -------------------------------------------------------------------------------------------
    async def units(self, kind: str, places: load.Places | None = None) -> list[Unit]:
        """Every unit of a kind, by code: departments (county departments and utilities), townships, grids."""
        places = places or await load.places(self.db)
        if kind == "department":
            rows = [d for d in places.departments.values() if d.kind == DepartmentKind.COUNTY]
        elif kind == "township":
            rows = [d for d in places.departments.values() if d.kind == DepartmentKind.TOWNSHIP]
        elif kind == "grid":
            townships = {d.id: d.name for d in places.departments.values()}
            return sorted((Unit("grid", g.id, f"{townships.get(g.township_id, '')}·{g.name}", g.code)
                           for g in places.grids.values()), key=lambda u: (u.code, u.id))
        else:
            raise ValueError(f"unknown unit kind {kind!r}: expected one of {', '.join(TABLE_KINDS)}")
        return sorted((Unit(kind, d.id, d.name, d.code) for d in rows), key=lambda u: (u.code, u.id))

    def group_of(self, unit: Unit) -> str:
        """The peer group a unit is ranked in."""
        if unit.kind == "township":
            return "township"
        dept = self.catalogue.departments.get(unit.code)
        return dept.group if dept is not None else "county"

    # -- figures -----------------------------------------------------------------------------------------
    async def _all(self, period: Period) -> tuple[load.Places, dict]:
        places = await load.places(self.db)
        figures = compute.tickets(await load.tickets(self.db, period), places, period, self.satisfied_weight,
                                  self.now())
        for f in figures.values():
            f.score = score(f, self.weights)
        return places, figures

    def _empty(self) -> Figures:
        return Figures(satisfied_weight=self.satisfied_weight)

    async def figures(self, period: Period, unit: Unit | None = None) -> Figures:
        """The figures of a unit (None: the county) for the period."""
        _, figures = await self._all(period)
        unit = unit or COUNTY
        return figures.get((unit.kind, unit.id)) or self._empty()

    async def table(self, period: Period, kind: str) -> list[tuple[Unit, Figures]]:
        """Every unit of the kind with its figures (units without any have empty figures), by code."""
        places, figures = await self._all(period)
        return [(u, figures.get((u.kind, u.id)) or self._empty()) for u in await self.units(kind, places)]

    async def tables(self, period: Period, kinds: tuple[str, ...] = ("county", *TABLE_KINDS)
                     ) -> dict[str, list[tuple[Unit, Figures]]]:
        """Several tables from one reading of the period (an export's sheets): kind → [(unit, figures)]; "county"
        gives the one row of the county."""
        places, figures = await self._all(period)
        result = {}
        for kind in kinds:
            units = [COUNTY] if kind == "county" else await self.units(kind, places)
            result[kind] = [(u, figures.get((u.kind, u.id)) or self._empty()) for u in units]
        return result

    async def calls(self, period: Period, unit: Unit | None = None) -> CallFigures:
        """网格呼叫 figures of a unit (None: the county): calls made in the period."""
        figures = await self._calls(period)
        unit = unit or COUNTY
        return figures.get((unit.kind, unit.id)) or CallFigures(satisfied_weight=self.satisfied_weight)

    async def call_table(self, period: Period, kind: str) -> list[tuple[Unit, CallFigures]]:
        places = await load.places(self.db)
        figures = await self._calls(period, places)
        return [(u, figures.get((u.kind, u.id)) or CallFigures(satisfied_weight=self.satisfied_weight))
                for u in await self.units(kind, places)]

    async def _calls(self, period: Period, places: load.Places | None = None) -> dict:
        places = places or await load.places(self.db)
        return compute.calls(await load.calls(self.db, period), places, self.satisfied_weight, self.now())

    # -- rankings ----------------------------------------------------------------------------------------
    async def ranking(self, period: Period, group: str) -> Ranking:
        """The ranking of a peer group: "county" (county departments), "utility", "township" (镇街)."""
        if group not in GROUPS:
            raise ValueError(f"unknown peer group {group!r}: expected one of {', '.join(GROUPS)}")
        table = await self.table(period, "township" if group == "township" else "department")
        peers = [(u, f) for u, f in table if self.group_of(u) == group]
        return rank(period, group, peers, self.weights, self.min_orders, self.list_size, self.score_mode)
