"""The ticket workflow on its own: every allowed and forbidden transition, and who may do each."""

from __future__ import annotations

import itertools

import pytest
from sqlmodel import col, select

from bot.calendar import WorkCalendar
from bot.directory import load_county
from bot.workflow import ALLOWED, TRANSITIONS, IllegalTransition, NotAllowed, Workflow, WorkflowError, check
from nlp.catalogue import load_catalogue
from storage.models import Assignment, Event, Member, Outbox, Ticket
from storage.models import TicketState as S
from tests.conftest import FIXTURES, Clock

EXPECTED = {  # the diagram in bot/workflow.py, written out
    ("dispatch", S.RECEIVED): S.DISPATCHED, ("dispatch", S.RETURNED): S.DISPATCHED,
    ("uphold", S.RETURNED): S.DISPATCHED,
    ("accept", S.DISPATCHED): S.ACCEPTED, ("accept", S.REOPENED): S.ACCEPTED,
    ("return", S.DISPATCHED): S.RETURNED, ("return", S.REOPENED): S.RETURNED,
    ("resolve", S.ACCEPTED): S.RESOLVED,
    ("note", S.DISPATCHED): None, ("note", S.ACCEPTED): None, ("note", S.REOPENED): None, ("note", S.RESOLVED): None,
    ("arrive", S.ACCEPTED): None, ("extend", S.ACCEPTED): None, ("decide_extension", S.ACCEPTED): None,
    ("rate", S.RESOLVED): S.RATED, ("reopen", S.RESOLVED): S.REOPENED, ("close", S.RESOLVED): S.CLOSED,
}


@pytest.mark.parametrize(("action", "state"), list(itertools.product(TRANSITIONS, list(S))))
def test_every_transition_is_allowed_or_refused_as_drawn(action, state):
    if (action, state) in EXPECTED:
        assert check(action, state, "N") == EXPECTED[(action, state)]
    else:
        with pytest.raises(IllegalTransition) as refused:
            check(action, state, "20261126-0001")
        assert "20261126-0001" in refused.value.reply and "不能" in refused.value.reply


def test_every_action_names_who_may_do_it():
    assert set(ALLOWED) == set(TRANSITIONS)


@pytest.fixture
async def flow(database):
    catalogue = load_catalogue(FIXTURES / "catalogue.yaml")
    await load_county(database, catalogue, FIXTURES / "county.yaml")
    return Workflow(database, catalogue, WorkCalendar(), now=Clock().now)


async def member(db, telegram_id: int) -> Member:
    async with db.session() as s:
        return (await s.exec(select(Member).where(Member.telegram_id == telegram_id))).one()


async def history(db, ticket_id: int) -> list[tuple[str, str | None, str | None]]:
    async with db.session() as s:
        rows = await s.exec(select(Event).where(Event.ticket_id == ticket_id).order_by(col(Event.id)))
        return [(e.kind, e.from_state, e.to_state) for e in rows.all()]


async def test_the_full_path_writes_one_event_per_change(flow):
    db = flow.db
    resident, staff = await member(db, 1001), await member(db, 2001)
    ticket = await flow.submit(resident, "院子里私搭乱建", matter_code="T-WJ", confidence=0.9)
    await flow.accept(ticket.id, staff)
    await flow.add_note(ticket.id, staff, "明天到现场")
    done = await flow.resolve(ticket.id, staff, "已拆除")
    assert done.ticket.state == S.RESOLVED
    assert await history(db, ticket.id) == [
        ("submitted", None, "received"), ("dispatched", "received", "dispatched"),
        ("accepted", "dispatched", "accepted"), ("note", None, None), ("resolved", "accepted", "resolved")]


async def test_the_lead_and_cooperating_departments_and_the_township_are_assigned(flow):
    db = flow.db
    ticket = await flow.submit(await member(db, 1001), "私搭乱建", matter_code="T-WJ")
    async with db.session() as s:
        rows = (await s.exec(select(Assignment).where(Assignment.ticket_id == ticket.id))).all()
    roles = sorted((a.role, a.department_id) for a in rows)
    assert [r for r, _ in roles] == ["cooperate", "cooperate", "lead"]
    lead = next(a for a in rows if a.role == "lead")
    assert lead.accept_due > lead.assigned_at and lead.resolve_due > lead.accept_due


@pytest.mark.parametrize("who", [1001, 2201, 3001, 4001])  # resident, another department, dispatcher, admin
async def test_only_the_departments_own_staff_may_accept(flow, who):
    db = flow.db
    ticket = await flow.submit(await member(db, 1001), "私搭乱建", matter_code="T-WJ")
    with pytest.raises(NotAllowed):
        await flow.accept(ticket.id, await member(db, who))
    assert [k for k, *_ in await history(db, ticket.id)] == ["submitted", "dispatched"]


async def test_a_cooperating_department_accepts_its_share_without_moving_the_ticket(flow):
    db = flow.db
    ticket = await flow.submit(await member(db, 1001), "私搭乱建", matter_code="T-WJ")
    done = await flow.accept(ticket.id, await member(db, 2101))  # 住建局 cooperates on 违法建设
    assert done.ticket.state == S.DISPATCHED
    with pytest.raises(IllegalTransition):
        await flow.accept(ticket.id, await member(db, 2101))
    with pytest.raises(NotAllowed):  # only the lead resolves or returns
        await flow.return_(ticket.id, await member(db, 2101), "不归我们")


async def test_return_needs_a_reason_and_is_only_possible_before_acceptance(flow):
    db = flow.db
    staff = await member(db, 2001)
    ticket = await flow.submit(await member(db, 1001), "私搭乱建", matter_code="T-WJ")
    with pytest.raises(WorkflowError):
        await flow.return_(ticket.id, staff, "  ")
    await flow.accept(ticket.id, staff)
    with pytest.raises(IllegalTransition):
        await flow.return_(ticket.id, staff, "不归我们管")


async def test_dispatch_is_for_dispatchers_and_an_unknown_matter_is_refused(flow):
    db = flow.db
    ticket = await flow.submit(await member(db, 1001), "说不清的事", matter_code=None)
    assert ticket.state == S.RECEIVED
    with pytest.raises(NotAllowed):
        await flow.dispatch(ticket.id, "T-WJ", await member(db, 2001))
    with pytest.raises(WorkflowError):
        await flow.dispatch(ticket.id, "NOPE", await member(db, 3001))
    done = await flow.dispatch(ticket.id, "T-LD", await member(db, 3001))
    assert done.ticket.state == S.DISPATCHED and done.ticket.matter_code == "T-LD"


async def test_a_failed_action_leaves_no_event_and_no_message(flow):
    db = flow.db
    ticket = await flow.submit(await member(db, 1001), "私搭乱建", matter_code="T-WJ")
    async with db.session() as s:
        before = len((await s.exec(select(Outbox))).all())
    with pytest.raises(IllegalTransition):
        await flow.resolve(ticket.id, await member(db, 2001), "想直接办结")
    async with db.session() as s:
        assert len((await s.exec(select(Outbox))).all()) == before
        assert (await s.get(Ticket, ticket.id)).state == S.DISPATCHED


async def test_ticket_numbers_count_per_local_day(flow):
    db = flow.db
    resident = await member(db, 1001)
    first = await flow.submit(resident, "私搭乱建一", matter_code="T-WJ")
    second = await flow.submit(resident, "私搭乱建二", matter_code="T-WJ")
    assert (first.number, second.number) == ("20261126-0001", "20261126-0002")
    flow.now = Clock(flow.now().replace(hour=16, minute=30)).now  # 00:30 on the 27th in the county
    assert (await flow.submit(resident, "私搭乱建三", matter_code="T-WJ")).number == "20261127-0001"
