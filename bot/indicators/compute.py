"""Counting: one pass over a period's rows gives the figures of every unit at once (county, each department,
township and grid), so /stats, a table and a ranking cost the same handful of queries.

Each lead assignment (one 派单 to a department: 派单, 维持原派单, 改派, 重办 each make one) is charged to its
department; the ticket's grid gives its township and grid. The README's "Indicators (指标口径)" says what each
count is; the comments here say how.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from bot.indicators.figures import CallFigures, Figures
from bot.indicators.load import ROUTING, CallRows, Places, Rows
from bot.indicators.periods import Period
from storage.models import CallState
from storage.models import TicketState as S

Key = tuple[str, int | None]
EXCLUDED = frozenset({S.INVALID, S.MERGED})  # 无效工单 and 并单: in no rate, counted apart
CLOSED = frozenset({S.RATED, S.CLOSED})
MARK = {"satisfied": 1.0, "dissatisfied": 0.0}  # 基本满意 counts the satisfied weight


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


class _Tally:
    """Counts per unit key (plain dicts while counting, Figures at the end), and the distinct tickets each unit is
    charged with (its orders)."""

    def __init__(self, make: Callable[[], Any], places: Places) -> None:
        self.make, self.places = make, places
        self.counts: dict[Key, dict[str, float]] = defaultdict(lambda: defaultdict(int))
        self.lists: dict[Key, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.tickets: dict[Key, set[int]] = defaultdict(set)
        self._keys: dict[tuple[int | None, int | None], tuple[Key, ...]] = {}

    def keys(self, grid_id: int | None, department_id: int | None) -> tuple[Key, ...]:
        """The county, the department (if any), the grid's township and the grid (if known)."""
        found = self._keys.get((grid_id, department_id))
        if found is None:
            keys: list[Key] = [("county", None)]
            if department_id is not None:
                keys.append(("department", department_id))
            grid = self.places.grids.get(grid_id) if grid_id is not None else None
            if grid is not None:
                keys += [("township", grid.township_id), ("grid", grid.id)]
            found = self._keys[(grid_id, department_id)] = tuple(keys)
        return found

    def add(self, keys: Iterable[Key], name: str, amount: float = 1, ticket: int | None = None) -> None:
        for key in keys:
            self.counts[key][name] += amount
            if ticket is not None:
                self.tickets[key].add(ticket)

    def append(self, keys: Iterable[Key], name: str, value: float) -> None:
        for key in keys:
            self.lists[key][name].append(value)

    def figures(self) -> dict[Key, Any]:
        result = {}
        for key in sorted(set(self.counts) | set(self.lists), key=lambda k: (k[0], k[1] or 0)):
            f = result[key] = self.make()
            for name, value in (*self.counts.get(key, {}).items(), *self.lists.get(key, {}).items()):
                setattr(f, name, value)
            if hasattr(f, "orders"):
                f.orders = len(self.tickets.get(key, ()))
        return result


def tickets(rows: Rows, places: Places, period: Period, satisfied_weight: float, now: datetime) -> dict[Key, Figures]:
    """Figures of every unit that has any (a unit missing from the result has none), as of `now`: what is still
    within its limit and not done yet is not counted yet (neither on time nor late)."""
    tally = _Tally(lambda: Figures(satisfied_weight=satisfied_weight), places)
    leads: dict[int, list[Any]] = defaultdict(list)
    for a in sorted(rows.leads, key=lambda a: a.id):
        leads[a.ticket_id].append(a)
    events: dict[int, list[Any]] = defaultdict(list)
    for e in sorted(rows.events, key=lambda e: e.id):
        events[e.ticket_id].append(e)
    first_rating: dict[tuple[int, int], Any] = {}
    for r in sorted(rows.ratings, key=lambda r: r.id):  # the first answer of a round decides (as the workflow)
        first_rating.setdefault((r.ticket_id, r.round), r)

    for t in sorted(rows.tickets, key=lambda t: t.id):
        mine, history = leads.get(t.id, []), events.get(t.id, [])
        current = mine[-1].department_id if mine else None  # after 改派, the new department
        here = tally.keys(t.grid_id, current)
        if t.state in EXCLUDED:
            for e in history:
                if e.kind in ("invalidated", "merged") and e.at in period:
                    tally.add(here, "invalid" if e.kind == "invalidated" else "merged")
            continue
        for e in history:  # 督办 / 领导督办 to the department escalated at the time (none for the dispatch stage)
            if e.kind in ("escalated", "escalated2") and e.at in period:
                tally.add(tally.keys(t.grid_id, e.department_id), e.kind)
        if t.created_at in period:
            tally.add(here, "received", ticket=t.id)
        _assignments(tally, period, now, t, mine, [e for e in history if e.kind in ROUTING], first_rating,
                     rows.extended)
    return tally.figures()


def _assignments(tally: _Tally, period: Period, now: datetime, t: Any, mine: list[Any], routes: list[Any],
                 first_rating: dict[tuple[int, int], Any], extended: set[int]) -> None:
    # What made each lead assignment: a routing event (in order, one each), or a 重办 when the one before it was
    # resolved (a resolved assignment is followed by nothing else). The 回访 round counts the resolutions before.
    made: list[tuple[str, datetime | None]] = []
    pending = iter(routes)
    round_, rounds = 0, []
    for i, a in enumerate(mine):
        if i and mine[i - 1].resolved_at is not None:
            made.append(("reopened", a.assigned_at))
        else:
            e = next(pending, None)
            made.append((e.kind, e.at) if e is not None else ("dispatched", a.assigned_at))
        rounds.append(round_)
        round_ += a.resolved_at is not None
    for i, a in enumerate(mine):
        then, then_at = made[i + 1] if i + 1 < len(mine) else (None, None)
        moved_away = then == "reassigned" and a.resolved_at is None and a.returned_at is None  # 改派
        keys = tally.keys(t.grid_id, a.department_id)
        if a.assigned_at in period:
            tally.add(keys, "dispatched", ticket=t.id)
            # 签收: charged unless 改派 took the ticket away before its accept limit and before it was accepted
            answered = a.accepted_at or a.returned_at  # 签收, or a 退回 (an answer) within the limit
            if moved_away:
                charged = answered is not None or (a.accept_due is not None and a.accept_due < then_at)
            else:
                charged = answered is not None or a.accept_due is None or a.accept_due <= now
            if charged:
                tally.add(keys, "accept_base")
                if answered is not None and a.accept_due is not None and answered <= a.accept_due:
                    tally.add(keys, "accepted_on_time")
            if a.accepted_at is not None:
                tally.append(keys, "response_minutes", _minutes(a.assigned_at, a.accepted_at))
            if a.arrived_at is not None:
                tally.append(keys, "arrival_minutes", _minutes(a.assigned_at, a.arrived_at))
            if a.returned_at is not None:
                tally.add(keys, "returns")
                if then == "upheld":
                    tally.add(keys, "returns_upheld")
                elif then == "rerouted":
                    tally.add(keys, "returns_rerouted")
            if a.id in extended:
                tally.add(keys, "extensions")
        if a.returned_at is not None or moved_away:
            continue  # what follows is the next department's (or the dispatcher's)
        if a.resolve_due in period and (a.resolved_at is not None or a.resolve_due <= now):
            tally.add(keys, "due", ticket=t.id)
            if a.resolved_at is not None and a.resolved_at <= a.resolve_due:  # resolve_due: after approved 延期
                tally.add(keys, "resolved_on_time")
            if a.resolved_at is not None and then is None and t.state in CLOSED:
                tally.add(keys, "closed")
        if a.arrive_due in period and not a.arrival_waiver and (a.arrived_at is not None or a.arrive_due <= now):
            tally.add(keys, "arrive_base", ticket=t.id)
            if a.arrived_at is not None and a.arrived_at <= a.arrive_due:
                tally.add(keys, "arrived_on_time")
        if a.resolved_at in period:
            tally.add(keys, "resolved", ticket=t.id)
            rating = first_rating.get((t.id, rounds[i]))
            if rating is not None:
                tally.add(keys, "callbacks")
                tally.add(keys, "solved", int(bool(rating.solved)))
                tally.add(keys, {"satisfied": "satisfied", "basic": "basic"}.get(rating.satisfaction,
                                                                                   "dissatisfied"))
            elif then is None and t.state == S.CLOSED:
                tally.add(keys, "unrated")
            if then == "reopened":
                tally.add(keys, "reopened")


def calls(rows: CallRows, places: Places, satisfied_weight: float, now: datetime) -> dict[Key, CallFigures]:
    """Every unit's call figures, as of `now` (a call still within a limit is not counted for it yet)."""
    tally = _Tally(lambda: CallFigures(satisfied_weight=satisfied_weight), places)
    ratings: dict[int, list[Any]] = defaultdict(list)
    for r in sorted(rows.ratings, key=lambda r: r.id):
        ratings[r.call_id].append(r)
    for c in sorted(rows.calls, key=lambda c: c.id):
        keys = tally.keys(c.grid_id, c.department_id)
        if c.state == CallState.CANCELLED:
            tally.add(keys, "cancelled")
            continue
        tally.add(keys, "calls")
        responded = c.responded_at or c.arrived_at  # 报到 without a 响应 first answers the call too
        if responded is not None or c.respond_due <= now:
            tally.add(keys, "respond_base")
        if c.arrived_at is not None or c.arrive_due <= now:
            tally.add(keys, "arrive_base")
        if responded is not None:
            tally.append(keys, "response_minutes", _minutes(c.created_at, responded))
            if responded <= c.respond_due:
                tally.add(keys, "responded_on_time")
        if c.arrived_at is not None:
            tally.append(keys, "arrival_minutes", _minutes(c.created_at, c.arrived_at))
            if c.arrived_at <= c.arrive_due:
                tally.add(keys, "arrived_on_time")
        if ratings.get(c.id):
            tally.add(keys, "rated")
        for r in ratings.get(c.id, []):
            for aspect in (r.speed, r.arrival, r.outcome):
                tally.append(keys, "marks", {**MARK, "basic": satisfied_weight}.get(aspect, 0.0))
    return tally.figures()
