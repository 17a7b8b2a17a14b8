"""The ticket workflow on its own: every action driven from every state by every kind of person, and the
outcome checked in the database — the rules table (bot/workflow/rules.py) is what the code obeys."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from bot.calendar import WorkCalendar
from bot.directory import load_county
from bot.workflow import RULES, IllegalTransition, NotAllowed, Workflow, WorkflowError
from bot.workflow.rules import Who
from nlp.catalogue import load_catalogue
from storage.models import Assignment, Event, Member, Outbox, Ticket
from storage.models import TicketState as S
from tests.conftest import FIXTURES, Clock
from tests.helpers import member

REPORTER, NEIGHBOUR, GRID_WORKER, LEAD, COOPERATING, OTHER_DEPT, DISPATCHER, ADMIN = (
    1001, 1002, 1101, 2001, 2101, 2201, 3001, 4001)
PEOPLE = (REPORTER, NEIGHBOUR, GRID_WORKER, LEAD, COOPERATING, OTHER_DEPT, DISPATCHER, ADMIN)
WHO = {  # who the rules table says may act, for this ticket (违法建设: lead zfj, cooperating zjj)
    Who.COMMAND: {DISPATCHER, ADMIN}, Who.LEAD: {LEAD}, Who.COOPERATING: {COOPERATING},
    Who.ASSIGNED: {LEAD, COOPERATING}, Who.REPORTER: {REPORTER}, Who.ANYONE: set(PEOPLE), Who.SYSTEM: set(),
}


@pytest.fixture
async def flow(database):
    catalogue = load_catalogue(FIXTURES / "catalogue.yaml")
    await load_county(database, catalogue, FIXTURES / "county.yaml")
    return Workflow(database, catalogue, WorkCalendar(), now=Clock().now)


async def history(db, ticket_id: int) -> list[tuple[str, str | None, str | None]]:
    async with db.read() as s:
        rows = await s.exec(select(Event).where(Event.ticket_id == ticket_id).order_by(col(Event.id)))
        return [(e.kind, e.from_state, e.to_state) for e in rows.all()]


async def snapshot(db, ticket_id: int) -> tuple:
    async with db.read() as s:
        ticket = await s.get(Ticket, ticket_id)
        events = (await s.exec(select(func.count()).select_from(Event).where(Event.ticket_id == ticket_id))).one()
        owed = (await s.exec(select(func.count()).select_from(Outbox))).one()
        return ticket.state, events, owed


# -- building a ticket in each state through real actions --------------------------------------------
async def ticket_in(flow: Workflow, state: str, clock: Clock, p: dict[int, Member]) -> int:
    db = flow.db
    if state == S.RECEIVED:
        return (await flow.routing.submit(p[REPORTER], "院子里私搭乱建", matter_code=None)).id
    ticket = await flow.routing.submit(p[REPORTER], "院子里私搭乱建", matter_code="T-WJ")
    if state == S.INVALID:
        await flow.command.invalidate(ticket.id, p[DISPATCHER], "广告")
        return ticket.id
    if state == S.MERGED:
        other = await flow.routing.submit(p[NEIGHBOUR], "院子里私搭乱建", matter_code="T-WJ")
        await flow.command.merge(ticket.id, p[DISPATCHER], other.number)
        return ticket.id
    if state == S.DISPATCHED:
        return ticket.id
    if state == S.RETURNED:
        await flow.department.return_(ticket.id, p[LEAD], "不归我们")
        return ticket.id
    await flow.department.accept(ticket.id, p[LEAD])
    if state == S.ACCEPTED:
        return ticket.id
    await flow.department.arrive(ticket.id, p[LEAD], 36.0, 119.4)
    await flow.department.resolve(ticket.id, p[LEAD], "已拆除")
    if state == S.RESOLVED:
        return ticket.id
    if state == S.CLOSED:
        clock.advance(timedelta(days=5))
        await flow.sweep()
        assert (await snapshot(db, ticket.id))[0] == S.CLOSED
        return ticket.id
    solved = state == S.RATED
    await flow.callback.rate(ticket.id, p[REPORTER], solved, "satisfied" if solved else "dissatisfied")
    return ticket.id


async def prepare(flow: Workflow, action: str, state: str, ticket_id: int, lead: Member) -> None:
    """What an action needs beyond the ticket's state, where the state allows it."""
    if state == S.ACCEPTED and action == "resolve":
        await flow.department.arrive(ticket_id, lead, 36.0, 119.4)
    if action == "merge":  # an open ticket to merge into
        target = await flow.routing.submit(await member(flow.db, NEIGHBOUR), "院子里私搭乱建", matter_code="T-WJ")
        MERGE_INTO[ticket_id] = target.number
    if state == S.ACCEPTED and action == "decide_extension":
        await flow.department.request_extension(ticket_id, lead, flow.now() + timedelta(days=20), "等配件")


async def act(flow: Workflow, action: str, ticket_id: int, actor: Member) -> None:
    d, r, c, k = flow.department, flow.routing, flow.callback, flow.command
    here = actor.department_id  # the button is pressed in the actor's own department's chat
    calls = {
        "join": lambda: r.join(ticket_id, actor),
        "dispatch": lambda: r.dispatch(ticket_id, "T-LD", actor),
        "uphold": lambda: r.uphold(ticket_id, actor, "属于你们"),
        "ask_reporter": lambda: r.ask_reporter(ticket_id, actor, "具体在哪里？"),
        "answer_dispatcher": lambda: r.answer_dispatcher(ticket_id, actor, "在东门"),
        "decide_extension": lambda: _decide(flow, ticket_id, actor),
        "accept": lambda: d.accept(ticket_id, actor, acting_for=here),
        "return": lambda: d.return_(ticket_id, actor, "不归我们", acting_for=here),
        "note": lambda: d.add_note(ticket_id, actor, "明天去", relay=True, acting_for=here),
        "arrive": lambda: d.arrive(ticket_id, actor, 36.0, 119.4, acting_for=here),
        "waive_arrival": lambda: d.waive_arrival(ticket_id, actor, "电话已解决", acting_for=here),
        "extend": lambda: d.request_extension(ticket_id, actor, flow.now() + timedelta(days=20), "等配件",
                                              acting_for=here),
        "resolve": lambda: d.resolve(ticket_id, actor, "已处理", acting_for=here),
        "rate": lambda: c.rate(ticket_id, actor, True, "satisfied"),
        "invalidate": lambda: k.invalidate(ticket_id, actor, "广告"),
        "merge": lambda: k.merge(ticket_id, actor, MERGE_INTO[ticket_id]),
        "reassign": lambda: r.reassign(ticket_id, actor, "属于路灯", matter_code="T-LD"),
    }
    await calls[action]()


async def _decide(flow: Workflow, ticket_id: int, actor: Member) -> None:
    from bot import queries

    async with flow.db.read() as s:
        pending = await queries.pending_extension(s, ticket_id)
    await flow.department.decide_extension(ticket_id, pending.id if pending else 0, actor, approve=True)


def expected(action: str, state: str, person: int) -> tuple[bool, str]:
    """(allowed?, the rule) for pressing `action` — 签收 is accept_share for the cooperating department, and a
    回访 answer after the first is rate_late — according to the rules table."""
    name = action
    if action == "accept" and person == COOPERATING:
        name = "accept_share"
    if action == "rate" and state != S.RESOLVED:
        name = "rate_late"
    rule = RULES[name]
    return state in rule.sources and person in WHO[rule.who], name


MATRIX = ["join", "dispatch", "uphold", "ask_reporter", "answer_dispatcher", "decide_extension", "accept", "return",
          "note", "arrive", "waive_arrival", "extend", "resolve", "rate", "invalidate", "merge", "reassign"]
MERGE_INTO: dict[int, str] = {}  # ticket id -> the open ticket a 并单 press merges it into


@pytest.mark.parametrize("action", MATRIX)
async def test_every_action_from_every_state_by_every_person_obeys_the_rules_table(sqlite_db, action):
    catalogue = load_catalogue(FIXTURES / "catalogue.yaml")
    await load_county(sqlite_db, catalogue, FIXTURES / "county.yaml")
    clock = Clock()
    flow = Workflow(sqlite_db, catalogue, WorkCalendar(), now=clock.now)
    people = {n: await member(sqlite_db, n) for n in PEOPLE}
    for state in S:
        if action == "rate" and state in (S.RATED, S.REOPENED):
            continue  # the reporter answered to get here; a second answer is refused as 已评价 (tested below)
        ticket_id = await ticket_in(flow, state, clock, people)
        await prepare(flow, action, state, ticket_id, people[LEAD])
        ordered = sorted(PEOPLE, key=lambda n: expected(action, state, n)[0])  # refusals first: they change nothing
        for person in ordered:
            allowed, rule = expected(action, state, person)
            before = await snapshot(sqlite_db, ticket_id)
            if not allowed:
                with pytest.raises(WorkflowError):
                    await act(flow, action, ticket_id, people[person])
                assert await snapshot(sqlite_db, ticket_id) == before, (action, state, person)
                continue
            await act(flow, action, ticket_id, people[person])
            after = await snapshot(sqlite_db, ticket_id)
            target = RULES[rule].target or state
            if action == "rate" and state == S.RESOLVED:
                target = S.RATED
            assert after[0] == target, (action, state, person)
            if not (action == "join" and person == REPORTER):  # joining one's own ticket changes nothing
                assert after[1] > before[1], (action, state, person, "no event written")
            if RULES[rule].target is not None:
                break  # the ticket moved on; the other permitted people are tried from a fresh ticket
            if rule in ("accept", "accept_share", "arrive", "waive_arrival", "extend", "decide_extension",
                        "return", "resolve"):
                break  # done once, it cannot be done again


# -- scenarios ---------------------------------------------------------------------------------------
async def test_the_full_path_writes_one_event_per_change(flow):
    db = flow.db
    resident, staff = await member(db, 1001), await member(db, 2001)
    ticket = await flow.routing.submit(resident, "院子里私搭乱建", matter_code="T-WJ", confidence=0.9)
    await flow.department.accept(ticket.id, staff)
    await flow.department.add_note(ticket.id, staff, "明天到现场", relay=True)
    await flow.department.arrive(ticket.id, staff, 36.0, 119.4)
    done = await flow.department.resolve(ticket.id, staff, "已拆除")
    assert done.ticket.state == S.RESOLVED
    assert await history(db, ticket.id) == [
        ("submitted", None, "received"), ("dispatched", "received", "dispatched"),
        ("accepted", "dispatched", "accepted"), ("note", None, None), ("arrived", None, None),
        ("resolved", "accepted", "resolved")]


async def test_the_lead_and_cooperating_departments_and_the_township_are_assigned(flow):
    db = flow.db
    ticket = await flow.routing.submit(await member(db, 1001), "私搭乱建", matter_code="T-WJ")
    async with db.read() as s:
        rows = (await s.exec(select(Assignment).where(Assignment.ticket_id == ticket.id))).all()
    assert sorted(a.role for a in rows) == ["cooperate", "cooperate", "lead"]
    lead = next(a for a in rows if a.role == "lead")
    assert lead.accept_due > lead.assigned_at and lead.resolve_due > lead.accept_due


async def test_a_cooperating_department_accepts_its_share_without_moving_the_ticket(flow):
    db = flow.db
    ticket = await flow.routing.submit(await member(db, 1001), "私搭乱建", matter_code="T-WJ")
    done = await flow.department.accept(ticket.id, await member(db, 2101))  # 住建局 cooperates on 违法建设
    assert done.ticket.state == S.DISPATCHED
    with pytest.raises(IllegalTransition):
        await flow.department.accept(ticket.id, await member(db, 2101))
    with pytest.raises(NotAllowed):  # only the lead resolves or returns
        await flow.department.return_(ticket.id, await member(db, 2101), "不归我们")


async def test_a_button_pressed_in_another_departments_chat_is_refused(flow):
    db = flow.db
    ticket = await flow.routing.submit(await member(db, 1001), "私搭乱建", matter_code="T-WJ")
    staff = await member(db, 2001)
    with pytest.raises(NotAllowed):
        await flow.department.accept(ticket.id, staff, acting_for=staff.department_id + 1)


async def test_on_site_matters_need_an_arrival_or_a_recorded_reason_before_resolving(flow):
    db = flow.db
    staff = await member(db, 2001)
    ticket = await flow.routing.submit(await member(db, 1001), "私搭乱建", matter_code="T-WJ")
    await flow.department.accept(ticket.id, staff)
    with pytest.raises(WorkflowError, match="到场"):
        await flow.department.resolve(ticket.id, staff, "已处理")
    with pytest.raises(WorkflowError):
        await flow.department.waive_arrival(ticket.id, staff, "  ")
    await flow.department.waive_arrival(ticket.id, staff, "当事人已自行拆除，电话核实")
    assert (await flow.department.resolve(ticket.id, staff, "已处理")).ticket.state == S.RESOLVED
    assert ("arrival_waived", None, None) in await history(db, ticket.id)


async def test_a_reporter_rates_once_per_round(flow):
    db = flow.db
    resident, staff = await member(db, 1001), await member(db, 2001)
    ticket = await flow.routing.submit(resident, "路灯坏了", matter_code="T-LD")
    lead = await member(db, 2101)
    await flow.department.accept(ticket.id, lead)
    await flow.department.resolve(ticket.id, lead, "已修好")
    await flow.callback.rate(ticket.id, resident, True, "satisfied")
    with pytest.raises(WorkflowError, match="评价过"):
        await flow.callback.rate(ticket.id, resident, True, "satisfied")
    with pytest.raises(NotAllowed):
        await flow.callback.rate(ticket.id, staff, True, "satisfied")


async def test_dispatch_is_for_dispatchers_and_an_unknown_matter_is_refused(flow):
    db = flow.db
    ticket = await flow.routing.submit(await member(db, 1001), "说不清的事", matter_code=None)
    assert ticket.state == S.RECEIVED
    with pytest.raises(NotAllowed):
        await flow.routing.dispatch(ticket.id, "T-WJ", await member(db, 2001))
    with pytest.raises(WorkflowError):
        await flow.routing.dispatch(ticket.id, "NOPE", await member(db, 3001))
    done = await flow.routing.dispatch(ticket.id, "T-LD", await member(db, 3001))
    assert done.ticket.state == S.DISPATCHED and done.ticket.matter_code == "T-LD"


async def test_a_failed_action_leaves_no_event_and_no_message(flow):
    db = flow.db
    ticket = await flow.routing.submit(await member(db, 1001), "私搭乱建", matter_code="T-WJ")
    before = await snapshot(db, ticket.id)
    with pytest.raises(IllegalTransition):
        await flow.department.resolve(ticket.id, await member(db, 2001), "想直接办结")
    assert await snapshot(db, ticket.id) == before


async def test_ticket_numbers_count_per_local_day(flow):
    db = flow.db
    resident = await member(db, 1001)
    first = await flow.routing.submit(resident, "私搭乱建一", matter_code="T-WJ")
    second = await flow.routing.submit(resident, "私搭乱建二", matter_code="T-WJ")
    assert (first.number, second.number) == ("20261126-0001", "20261126-0002")
    flow.set_clock(Clock(flow.now().replace(hour=16, minute=30)).now)  # 00:30 on the 27th in the county
    assert (await flow.routing.submit(resident, "私搭乱建三", matter_code="T-WJ")).number == "20261127-0001"


def test_every_rule_is_reachable_and_names_who_may_act():
    assert all(rule.who in WHO for rule in RULES.values())
    sources = set(itertools.chain.from_iterable(rule.sources for rule in RULES.values()))
    assert sources <= set(S)
