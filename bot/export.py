"""/export: the period's tickets with every stage time, the indicators per unit (a sheet per table) and the calls,
as an xlsx (bot/reports/workbook.py). The command center's copy covers the county and names the reporters (it
makes the callbacks); a department head's covers their own department and carries no personal data.

A ticket is in the export when it was received in the period; the indicator sheets are bot/indicators' figures
for the same period, the county first — the same numbers /stats shows.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlmodel import col, select

from bot import texts
from bot.indicators import Figures, Indicators, Period, Unit
from bot.indicators.figures import RATES
from bot.reports.workbook import Sheet, workbook
from storage.models import Assignment, AssignmentRole, AssignmentState, Call, Department, Grid, Matter, Member, Ticket


@dataclass
class Export:
    data: bytes
    filename: str
    tickets: int


class Exporter:
    def __init__(self, indicators: Indicators) -> None:
        self.indicators = indicators
        self.db = indicators.db

    async def export(self, period: Period, department: Unit | None) -> Export:
        """The county's workbook (department None) or one department's, without personal data."""
        ticket_rows = await self._tickets(period, department)
        sheets = [Sheet(texts.SHEET_TICKETS, texts.TICKET_COLUMNS + ([] if department else texts.REPORTER_COLUMNS),
                        ticket_rows)]
        kinds = ("department",) if department else ("county", "department", "township", "grid")
        tables = await self.indicators.tables(period, kinds)
        for kind in ("department", "township", "grid"):
            if kind in tables:
                sheets.append(_unit_sheet(texts.SHEET_UNITS[kind], tables.get("county", []) + tables[kind],
                                          department))
        sheets.append(await self._calls(period, department))
        sheets.append(await self._call_units(period, department))
        name = texts.EXPORT_FILENAME.format(scope=department.code if department else "county",
                                            start=period.start.astimezone(self.indicators.tz).strftime("%Y%m%d"))
        data = await asyncio.to_thread(workbook, sheets, self.indicators.tz)  # seconds for a big month: off the loop
        return Export(data, name, len(ticket_rows))

    async def _call_units(self, period: Period, only: Unit | None) -> Sheet:
        county = await self.indicators.calls(period)
        header = [texts.UNIT_COLUMN] + [label for label, _ in county.rows()]
        rows = [] if only else [[texts.UNIT_COUNTY] + [value for _, value in county.rows()]]
        for unit, figures in await self.indicators.call_table(period, "department"):
            if only is None or unit == only:
                rows.append([unit.name] + [value for _, value in figures.rows()])
        return Sheet(texts.SHEET_CALL_UNITS, header, rows)

    async def _tickets(self, period: Period, only: Unit | None) -> list[list]:
        async with self.db.read() as s:
            tickets = (await s.exec(select(Ticket).where(Ticket.created_at >= period.start,
                                                         Ticket.created_at < period.end)
                                    .order_by(col(Ticket.id)))).all()
            ids = [t.id for t in tickets]
            leads: dict[int, Assignment] = {}
            for a in (await s.exec(select(Assignment).where(col(Assignment.ticket_id).in_(ids),
                                                            Assignment.role == AssignmentRole.LEAD)
                                   .order_by(col(Assignment.id)))).all():
                if a.state != AssignmentState.WITHDRAWN or a.ticket_id not in leads:
                    leads[a.ticket_id] = a  # the current lead (the latest not withdrawn)
            names = {d.id: d.name for d in (await s.exec(select(Department))).all()}
            grids = {g.id: g for g in (await s.exec(select(Grid))).all()}
            matters = {m.code: m.name for m in (await s.exec(select(Matter))).all()}
            reporters = {} if only else {m.id: m for m in (await s.exec(select(Member).where(
                col(Member.id).in_({t.reporter_id for t in tickets})))).all()}
        rows = []
        for t in tickets:
            lead = leads.get(t.id)
            if only is not None and (lead is None or lead.department_id != only.id):
                continue
            grid = grids.get(t.grid_id)
            row = [t.number, t.created_at, texts.TICKET_SOURCE.get(t.source, t.source),
                   matters.get(t.matter_code, ""), names.get(lead.department_id, "") if lead else "",
                   names.get(grid.township_id, "") if grid else "", grid.name if grid else "",
                   texts.STATE.get(t.state, t.state)]
            row += [getattr(lead, f) if lead else None for f in (
                "assigned_at", "accept_due", "accepted_at", "arrive_due", "arrived_at", "resolve_due", "resolved_at")]
            row += [t.closed_at, texts.SOLVED.get(t.solved, ""), texts.SATISFACTION.get(t.satisfaction or "", ""),
                    t.reopen_count, t.text]
            if only is None:
                reporter = reporters.get(t.reporter_id)
                row += [reporter.name if reporter else "", reporter.phone or "" if reporter else ""]
            rows.append(row)
        return rows

    async def _calls(self, period: Period, only: Unit | None) -> Sheet:
        async with self.db.read() as s:
            query = select(Call).where(Call.created_at >= period.start, Call.created_at < period.end)
            if only is not None:
                query = query.where(Call.department_id == only.id)
            calls = (await s.exec(query.order_by(col(Call.id)))).all()
            names = {d.id: d.name for d in (await s.exec(select(Department))).all()}
            grids = {g.id: g.name for g in (await s.exec(select(Grid))).all()}
        rows = [[c.number, c.created_at, names.get(c.department_id, ""), grids.get(c.grid_id, ""),
                 texts.URGENCY.get(c.urgency, c.urgency).lstrip("🚨"), texts.CALL_STATE.get(c.state, c.state), c.respond_due,
                 c.responded_at, c.arrive_due, c.arrived_at,
                 None if c.arrival_distance_m is None else round(c.arrival_distance_m), c.resolved_at, c.text]
                for c in calls]
        return Sheet(texts.SHEET_CALLS, texts.CALL_COLUMNS, rows)


def _unit_sheet(title: str, table: list[tuple[Unit, Figures]], only: Unit | None) -> Sheet:
    """One row per unit (only a head's own department in theirs), the county first in the command center's.
    Counts and rates are numbers (rates in %, the column says so) so that Excel can sort, sum and chart them."""
    rows = [(unit, figures) for unit, figures in table if only is None or unit == only]
    labels = [label for label, _ in Figures().rows()]
    header = [texts.UNIT_COLUMN] + [texts.PERCENT_COLUMN.format(label=lb) if lb in RATES else lb for lb in labels]
    return Sheet(title, header, [[unit.name] + [_number(value) for _, value in figures.rows()]
                                 for unit, figures in rows])


def _number(value: str) -> int | float | str | None:
    """A figure as a cell: "12" → 12, "93.5%" → 93.5, "—" → empty; anything else (a pair of durations) as text."""
    if value == texts.NO_VALUE:
        return None
    try:
        return float(value[:-1]) if value.endswith("%") else int(value) if value.isdigit() else float(value)
    except ValueError:
        return value
