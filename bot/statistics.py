"""The command center's figures as people receive them: /stats (a chart and the key figures), /rank, and the
scheduled daily brief and monthly ranking (bot/reports/schedule.py fires them; they are owed through the
outbox to the command center's chat and, for the ranking, the leadership chat). /export is bot/export.py.

Who sees what (`Scope`): dispatchers and admins the whole county and any unit; a department head (county
file `head: true`, /invite head) their own department only; everyone else is refused. The figures come from
bot/indicators; the pictures from bot/reports (no CJK font installed: text only, said once in the reply).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import texts
from bot.calls.parsing import Departments
from bot.indicators import (
    GROUPS,
    Figures,
    Indicators,
    Period,
    PeriodError,
    Ranking,
    Unit,
    load,
    month_to_date,
    previous_month,
    today,
    yesterday,
)
from bot.lists import OPEN, OpenLists
from bot.outbox import owe, to_department
from bot.reports import charts
from bot.reports.schedule import DAILY_BRIEF, MONTHLY_RANKING
from bot.workflow.rules import NotAllowed, WorkflowError
from storage.models import Department, DepartmentKind, Member, Role, utcnow

log = logging.getLogger(__name__)
CAPTION_LIMIT = 1024  # Telegram's, for a photo's caption
KEEP_CHARTS = timedelta(days=40)  # a scheduled report's chart on disk, long after the sender has sent it
KEY = (texts.IND_SCORE, texts.IND_RECEIVED, texts.IND_DISPATCHED, texts.IND_ACCEPT_RATE, texts.IND_RESOLVE_RATE,
       texts.IND_CLOSE_RATE, texts.IND_ARRIVE_RATE, texts.IND_CALLBACK_RATE, texts.IND_SOLVE_RATE,
       texts.IND_SATISFY_RATE, texts.IND_RETURN_RATE, texts.IND_ESCALATED)  # the figures a caption carries (all of them: /export)
CHARTED = (texts.IND_ACCEPT_RATE, texts.IND_RESOLVE_RATE, texts.IND_CLOSE_RATE, texts.IND_ARRIVE_RATE,
           texts.IND_CALLBACK_RATE, texts.IND_SOLVE_RATE, texts.IND_SATISFY_RATE)


@dataclass(frozen=True)
class Scope:
    """What a person may see: the county (department None) or one department."""

    department: Unit | None


@dataclass
class Picture:
    """A reply: a PNG (None: nothing to draw, or no CJK font — `font_missing`) and its text (the photo's caption
    when it fits)."""

    png: bytes | None
    text: str
    font_missing: bool = False


class Statistics:
    def __init__(self, indicators: Indicators, *, reports_dir: Path, now: Callable[[], datetime] = utcnow) -> None:
        self.indicators = indicators
        self.db = indicators.db
        self.departments = Departments(indicators.catalogue)
        self.reports_dir = reports_dir
        self.now = now
        self.font_missing = False  # no CJK font installed (found at the first chart): replies say so

    # -- who may see what ----------------------------------------------------------------------------------
    async def scope(self, member: Member, refusal: str) -> Scope:
        if member.role in (Role.DISPATCHER, Role.ADMIN):
            return Scope(None)
        if member.role == Role.STAFF and member.head and member.department_id is not None:
            units = {u.id: u for u in await self.indicators.units("department")}
            if member.department_id in units:
                return Scope(units[member.department_id])
        raise NotAllowed(refusal)

    async def arguments(self, args: list[str], scope: Scope) -> tuple[list[Period], Unit | None]:
        """/stats [period] [unit]: the periods (none given: today and the month to date) and the unit (a head's
        own department; else the one named, or None for the county)."""
        periods: list[Period] = []
        rest = list(args)
        not_a_period = None
        if rest:
            try:
                periods = [self.indicators.period(rest[0])]
                rest = rest[1:]
            except PeriodError as bad:
                if len(rest) > 1:
                    raise WorkflowError(bad.reply) from None
                not_a_period = rest[0]
        if not periods:
            periods = [today(self.now(), self.indicators.tz), month_to_date(self.now(), self.indicators.tz)]
        name = " ".join(rest).strip()
        try:
            unit = await self.unit_named(name) if name else None
        except WorkflowError:
            if not_a_period is None:
                raise
            raise WorkflowError(texts.STATS_NEITHER.format(text=not_a_period[:40]) + "\n\n" + texts.STATS_USAGE) \
                from None
        if scope.department is not None:
            if unit is not None and unit != scope.department:
                raise NotAllowed(texts.STATS_OWN_ONLY.format(dept=scope.department.name))
            unit = scope.department
        return periods, unit

    def period(self, args: list[str] | None) -> Period:
        """/rank and /export: the period the arguments name (none: the month to date)."""
        text = " ".join(args or []).strip()
        if not text:
            return month_to_date(self.now(), self.indicators.tz)
        try:
            return self.indicators.period(text)
        except PeriodError as bad:
            raise WorkflowError(bad.reply) from None

    async def unit_named(self, name: str) -> Unit:
        """A department as people say it (城管, 住建局, the code), a township (龙都街道, 龙都) or a grid (its code or
        name); refused with the usage when nothing matches."""
        words = self.departments.parse(name)
        places = await load.places(self.db)  # one reading for the three kinds of unit
        departments = {u.code: u for u in await self.indicators.units("department", places)}
        if words.department in departments and not words.text:
            return departments[words.department]
        wanted = name.strip().lower()
        for kind in ("township", "grid"):
            units = await self.indicators.units(kind, places)
            exact = [u for u in units if wanted in (u.name.lower(), u.code.lower(), u.name.split("·")[-1].lower())]
            near = exact or [u for u in units if u.name.split("·")[-1].lower().startswith(wanted)]
            if len(near) == 1:
                return near[0]
        raise WorkflowError(texts.STATS_UNKNOWN_UNIT.format(name=name[:40]) + "\n\n" + texts.STATS_USAGE)

    # -- /stats --------------------------------------------------------------------------------------------
    async def stats(self, periods: list[Period], unit: Unit | None, chart: int = -1) -> Picture:
        """The key figures of each period; the chart is of `periods[chart]` (default the last: the month to date
        beside today, which has more to show)."""
        name = unit.name if unit else texts.UNIT_COUNTY
        blocks = []
        shown: list[Figures] = []
        for period in periods:
            last = await self.indicators.figures(period, unit)
            shown.append(last)
            calls = await self.indicators.calls(period, unit)
            block = [texts.STATS_TITLE.format(unit=name, period=period.label)]
            if last.received == 0 and last.dispatched == 0 and last.due == 0 and calls.calls == 0:
                block.append(texts.STATS_NOTHING)
            else:
                block += [f"{label}：{value}" for label, value in last.rows() if label in KEY]
                if calls.calls:
                    call_rows = dict(calls.rows())
                    block.append(texts.STATS_CALLS_LINE.format(**{k: call_rows.get(v, texts.NO_VALUE) for k, v in (
                        ("made", texts.IND_CALLS), ("respond", texts.IND_CALL_RESPOND_RATE),
                        ("arrive", texts.IND_CALL_ARRIVE_RATE), ("rating", texts.IND_CALL_RATING))}))
            blocks.append("\n".join(block))
        text = "\n\n".join(blocks)
        values = [_percent(shown[chart].rate(label)) for label in CHARTED]
        title = texts.STATS_CHART_TITLE.format(unit=name, period=periods[chart].label)
        png = await self._draw(charts.bar_chart, title, list(CHARTED), values)
        return Picture(png, text, self.font_missing)

    # -- /rank ---------------------------------------------------------------------------------------------
    async def rankings(self, period: Period) -> list[Picture]:
        """One picture per peer group that has units: the ranking chart and its text."""
        out = []
        for group in GROUPS:
            ranking = await self.indicators.ranking(period, group)
            if not (ranking.ranked or ranking.below_minimum or ranking.no_orders or ranking.unscored):
                continue
            text = ranking_text(ranking)
            title = texts.RANK_CHART_TITLE.format(group=texts.PEER_GROUP[group], period=period.label)
            png = await self._draw(charts.ranking_chart, title, [(u.name, s) for u, _, s in ranking.ranked]) \
                if ranking.ranked else None
            out.append(Picture(png, text, self.font_missing))
        return out

    async def _draw(self, draw, *args) -> bytes | None:
        """Rendered in a worker thread (a chart takes a few hundred ms: the bot keeps answering meanwhile); None
        without a CJK font (`font_missing` says so)."""
        try:
            return await asyncio.to_thread(draw, *args)
        except charts.FontMissing:
            self.font_missing = True
            return None

    # -- scheduled reports ---------------------------------------------------------------------------------
    async def fire(self, kind: str, start: datetime, end: datetime, s: AsyncSession) -> None:
        """The daily brief (to the command center) or the monthly ranking (to the command center and the
        leadership chat), owed in the schedule's transaction; the chart is kept on disk for the sender."""
        tz = self.indicators.tz
        period = yesterday(end, tz) if kind == DAILY_BRIEF else previous_month(end, tz)  # the day / month before
        if kind == DAILY_BRIEF:
            pictures = [await self._brief(period)]
            kinds = (DepartmentKind.COMMAND,)
        elif kind == MONTHLY_RANKING:
            pictures = [Picture(None, texts.MONTHLY_TITLE.format(period=period.label))] + await self.rankings(period)
            kinds = (DepartmentKind.COMMAND, DepartmentKind.LEADERSHIP)
        else:
            log.warning("unknown scheduled report %s", kind)
            return
        recipients = (await s.exec(select(Department).where(col(Department.kind).in_(kinds))
                                   .order_by(col(Department.id)))).all()
        now = self.now()
        for n, picture in enumerate(pictures):
            media = {"photo_file": str(self._keep(kind, start, n, picture.png))} if picture.png else None
            for dept in recipients:
                owe(s, to_department(dept.id), picture.text, now, kind="report", media=media)

    async def _brief(self, period: Period) -> Picture:
        month = month_to_date(period.end - timedelta(seconds=1), self.indicators.tz)  # yesterday's month
        picture = await self.stats([period, month], None, chart=0)
        now = self.now()
        open_rows = await OpenLists(self.db).rows(OPEN, now)  # one reading: the overdue are the late ones
        open_n, overdue_n = len(open_rows), sum(row.late(now) for row in open_rows)
        text = "\n\n".join([texts.BRIEF_TITLE.format(period=period.label), picture.text,
                            texts.BRIEF_OPEN.format(open=open_n, overdue=overdue_n)])
        return Picture(picture.png, text, picture.font_missing)

    def _keep(self, kind: str, start: datetime, n: int, png: bytes) -> Path:
        """The chart for the sender, on disk; charts older than KEEP_CHARTS (sent long ago) are removed."""
        self.reports_dir.mkdir(parents=True, exist_ok=True)
        stale = time.time() - KEEP_CHARTS.total_seconds()
        for old in self.reports_dir.glob("*.png"):
            if old.stat().st_mtime < stale:
                old.unlink(missing_ok=True)
        path = self.reports_dir / f"{kind}-{start:%Y%m%d}-{n}.png"
        path.write_bytes(png)
        return path.resolve()


def ranking_text(ranking: Ranking) -> str:
    group = texts.PEER_GROUP[ranking.group]
    lines = [texts.RANK_TITLE.format(group=group, period=ranking.period.label)]
    if not ranking.ranked:
        lines.append(texts.RANK_EMPTY.format(group=group))
    lines += [texts.RANK_LINE.format(n=n, unit=u.name, score=score, orders=f.orders)
              for n, (u, f, score) in enumerate(ranking.ranked, 1)]
    for listed, template in ((ranking.red, texts.RANK_RED), (ranking.black, texts.RANK_BLACK)):
        if listed:
            lines.append(template.format(entries="、".join(texts.RANK_ENTRY.format(
                unit=e.unit.name, indicator=e.indicator, value=f"{100 * e.value:.1f}%") for e in listed)))
    apart = ranking.below_minimum + ranking.unscored
    if apart:
        lines.append(texts.RANK_BELOW_MINIMUM.format(minimum=ranking.min_orders,
                                                     units="、".join(u.name for u, _ in apart)))
    if ranking.no_orders:
        lines.append(texts.RANK_NO_ORDERS.format(units="、".join(u.name for u, _ in ranking.no_orders)))
    return "\n".join(lines)


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)
