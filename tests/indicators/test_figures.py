"""12345 indicators (bot/indicators) on hand-built histories: every history is made through the real workflow
actions with a fake clock, so the figures read what the bot really writes; each expected figure is worked out by
hand in the comments.

The fixture county (tests/fixtures): T-LD 路灯 → 住建 zjj (accept 4h, resolve 3d), T-WJ 违法建设 → 执法 zfj (onsite:
accept 2h, arrive 24h, resolve 5wd), T-DL 道路 → 交通 jtj (onsite: accept 2h, arrive 24h), T-ZS 噪音 → 公安 gaj.
The clock starts on Thursday 2026-11-26 09:00 local (01:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.indicators import Indicators, PeriodError, month, parse_period
from nlp.catalogue import load_catalogue
from storage.models import Department, Grid, Member, Role
from tests.conftest import FIXTURES
from tests.indicators.conftest import (
    DECEMBER,
    DISPATCHER,
    GRID_WORKER,
    NEIGHBOUR,
    NOVEMBER,
    RESIDENT,
    SPOT,
    ZFJ_STAFF,
    ZJJ_STAFF,
)


# -- periods -----------------------------------------------------------------------------------------------
def test_periods_are_local_days_half_open_in_utc():
    now = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # Sunday 11:00 local
    day = parse_period("", now)
    assert (day.start, day.end) == (datetime(2026, 11, 28, 16, tzinfo=UTC), datetime(2026, 11, 29, 16, tzinfo=UTC))
    assert parse_period("今天", now) == day == parse_period("today", now)
    assert parse_period("昨天", now).start == datetime(2026, 11, 27, 16, tzinfo=UTC)
    week = parse_period("本周", now)  # Monday 23rd to today
    assert (week.start, week.end) == (datetime(2026, 11, 22, 16, tzinfo=UTC), day.end)
    mtd = parse_period("本月", now)
    assert (mtd.start, mtd.end) == (datetime(2026, 10, 31, 16, tzinfo=UTC), day.end)
    assert parse_period("month", now) == mtd
    assert parse_period("上月", now) == parse_period("上个月", now) == month(2026, 10)
    assert month(2026, 10).label == "2026年10月"
    nov = parse_period("2026-11", now)
    assert (nov.start, nov.end) == (datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC))
    dec = parse_period("2026-12", now)
    assert dec.end == datetime(2026, 12, 31, 16, tzinfo=UTC), "December ends at the new year, local"
    span = parse_period("2026-11-01..2026-11-15", now)  # both days included
    assert (span.start, span.end) == (datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 15, 16, tzinfo=UTC))
    assert datetime(2026, 11, 15, 15, 59, tzinfo=UTC) in span and datetime(2026, 11, 15, 16, tzinfo=UTC) not in span


@pytest.mark.parametrize("text", ["明年", "2026-13", "2026-02-30", "2026-11-15..2026-11-01", "1999-01", "本月 吧",
                                  "2020-01-01..2026-01-01"])
def test_a_period_the_bot_cannot_read_is_refused_in_chinese(text):
    with pytest.raises(PeriodError) as refused:
        parse_period(text, datetime(2026, 11, 29, tzinfo=UTC))
    assert isinstance(refused.value, ValueError) and "时间段" in refused.value.reply


# -- ticket indicators ---------------------------------------------------------------------------------------
async def test_on_time_and_late_acceptance_and_the_response_times(world):
    zjj = await world.unit("zjj")
    a = await world.file("T-LD")  # 09:00, accept limit 4h → 13:00
    world.later(hours=1)
    await world.accept(a, ZJJ_STAFF)  # 10:00: on time, 60 minutes
    b = await world.file("T-LD")  # 10:00 → limit 14:00
    world.later(hours=5)
    await world.accept(b, ZJJ_STAFF)  # 15:00: late, 300 minutes
    c = await world.file("T-LD")  # 15:00 → limit 19:00; at 15:00 not yet decided: not counted
    f = await world.indicators().figures(NOVEMBER, zjj)
    assert (f.dispatched, f.accept_base, f.accepted_on_time) == (3, 2, 1)
    assert f.accept_rate == 0.5  # 1 / 2
    assert f.response_minutes == [60.0, 300.0]
    assert dict(f.rows())["及时签收率"] == "50.0%"
    assert dict(f.rows())["响应时长（中位/90%）"] == "180 分钟 / 300 分钟"  # median 180; nearest-rank p90 of 2: 300
    world.later(hours=5)  # 20:00: c's limit has passed, still not accepted: late
    f = await world.indicators().figures(NOVEMBER, zjj)
    assert (f.accept_base, f.accepted_on_time) == (3, 1) and c


async def test_an_approved_extension_makes_a_late_resolution_on_time(world):
    zjj = await world.unit("zjj")
    extended = await world.file("T-LD")  # due 3d later: Sun 29 Nov 09:00
    plain = await world.file("T-LD")  # due Sun 29 Nov 09:00 too
    await world.accept(extended, ZJJ_STAFF)
    await world.accept(plain, ZJJ_STAFF)
    await world.flow.department.request_extension(extended, world.p[ZJJ_STAFF], world.clock.now() + timedelta(days=7),
                                                  "等配件")  # to Thu 3 Dec
    async with world.db.read() as s:
        from bot import queries
        pending = await queries.pending_extension(s, extended)
    await world.flow.department.decide_extension(extended, pending.id, world.p[DISPATCHER], approve=True)
    world.later(days=5)  # Tue 1 Dec: after the first limit, before the extended one
    await world.resolve(extended, ZJJ_STAFF)
    await world.resolve(plain, ZJJ_STAFF)
    ind = world.indicators()
    nov, dec = await ind.figures(NOVEMBER, zjj), await ind.figures(DECEMBER, zjj)
    # November: only `plain` fell due (29 Nov) and it was resolved late; the extended one is due in December
    assert (nov.due, nov.resolved_on_time, nov.resolve_rate) == (1, 0, 0.0)
    assert (dec.due, dec.resolved_on_time, dec.resolve_rate) == (1, 1, 1.0)
    # 延期率: 1 approved extension / 2 dispatched in November
    assert (nov.dispatched, nov.extensions, nov.extend_rate) == (2, 1, 0.5)
    assert (dec.dispatched, dec.extend_rate) == (0, None), "no denominator: None, never 0/0 = 0"
    assert dict(dec.rows())["延期率"] == "—"


async def test_tickets_are_counted_when_due_not_when_received(world):
    zjj = await world.unit("zjj")
    world.clock.at = datetime(2026, 10, 30, 1, 0, tzinfo=UTC)  # Fri 30 Oct 09:00: due Mon 2 Nov 09:00 (3d)
    ticket = await world.file("T-LD")
    await world.accept(ticket, ZJJ_STAFF)
    world.later(days=2)  # Sun 1 Nov
    await world.resolve(ticket, ZJJ_STAFF)
    ind = world.indicators()
    october, november = await ind.figures(month(2026, 10), zjj), await ind.figures(NOVEMBER, zjj)
    assert (october.received, october.dispatched, october.due, october.resolve_rate) == (1, 1, 0, None)
    assert (november.received, november.due, november.resolved_on_time, november.resolve_rate) == (0, 1, 1, 1.0)
    assert november.resolved == 1 and october.resolved == 0  # 办结 on 1 Nov


async def test_callbacks_unrated_is_never_satisfied_and_basic_weighs_point_nine(world):
    zjj = await world.unit("zjj")
    tickets = [await world.file("T-LD") for _ in range(4)]
    for t in tickets:
        await world.accept(t, ZJJ_STAFF)
    world.later(hours=1)
    for t in tickets:
        await world.resolve(t, ZJJ_STAFF)
    await world.flow.callback.rate(tickets[0], world.p[RESIDENT], True, "satisfied")
    await world.flow.callback.rate(tickets[1], world.p[RESIDENT], True, "basic")
    await world.flow.callback.rate(tickets[2], world.p[RESIDENT], False, "dissatisfied")  # → 重办
    world.later(days=5)
    await world.flow.sweep()  # tickets[3]: no answer → 未评价
    f = await world.indicators().figures(NOVEMBER, zjj)
    # resolved 4; answered 3 (回访率 3/4); solved 2 of 3; 满意率 (1 + 0.9 × 1) / 3; 未评价 1 (not a valid callback)
    assert (f.resolved, f.callbacks, f.solved, f.unrated) == (4, 3, 2, 1)
    assert f.callback_rate == 0.75
    assert f.solve_rate == pytest.approx(2 / 3)
    assert f.satisfy_rate == pytest.approx(1.9 / 3)
    assert (f.reopened, f.reopen_rate) == (1, 0.25)  # 重办 1 / resolved 4
    # due in November: the four (Sun 29 Nov 09:00) and [2]'s 重办 (29 Nov 10:00, not resolved by 1 Dec: late);
    # closed: [0] rated, [1] rated, [3] 未评价 → 结案率 3/5; on time: the four first resolutions → 4/5
    assert (f.due, f.closed, f.resolved_on_time) == (5, 3, 4)
    lenient = await world.indicators(satisfied_weight=1.0).figures(NOVEMBER, zjj)
    assert lenient.satisfy_rate == pytest.approx(2 / 3)


async def test_a_callback_still_waiting_for_its_answer_is_not_counted_yet(world):
    zjj = await world.unit("zjj")
    ticket = await world.file("T-LD")
    await world.accept(ticket, ZJJ_STAFF)
    await world.resolve(ticket, ZJJ_STAFF)
    f = await world.indicators().figures(NOVEMBER, zjj)
    assert (f.resolved, f.callbacks, f.unrated, f.callback_rate) == (1, 0, 0, None), "not 0 %: not decided yet"
    world.later(days=5)
    await world.flow.sweep()  # no answer: 未评价
    f = await world.indicators().figures(NOVEMBER, zjj)
    assert (f.unrated, f.callback_rate) == (1, 0.0)


async def test_invalid_and_merged_tickets_are_in_no_rate_and_counted_apart(world):
    kept = await world.file("T-LD")
    spam = await world.file("T-LD")
    duplicate = await world.file("T-LD", who=NEIGHBOUR)
    await world.flow.command.invalidate(spam, world.p[DISPATCHER], "广告")
    number = (await world.flow.routing.submit(world.p[RESIDENT], "又一个", matter_code=None)).number
    await world.flow.command.merge(duplicate, world.p[DISPATCHER], number)  # merged into a received one
    world.later(hours=5)  # every accept limit has passed: `kept` was not accepted
    f = await world.indicators().figures(NOVEMBER)
    # valid: `kept` and the received one (no department yet); dispatched: only `kept`
    assert (f.received, f.dispatched, f.accept_base, f.accepted_on_time) == (2, 1, 1, 0)
    assert (f.invalid, f.merged) == (1, 1)
    zjj = await world.indicators().figures(NOVEMBER, await world.unit("zjj"))
    assert (zjj.dispatched, zjj.invalid, zjj.merged) == (1, 1, 1) and kept
    rows = dict(f.rows())
    assert rows["无效工单"] == "1" and rows["并单"] == "1"


async def test_returns_upheld_and_rerouted_are_counted_apart(world):
    upheld = await world.file("T-LD")
    rerouted = await world.file("T-LD")
    world.later(hours=1)
    await world.flow.department.return_(upheld, world.p[ZJJ_STAFF], "不归我们")  # within the limit: answered
    await world.flow.department.return_(rerouted, world.p[ZJJ_STAFF], "不归我们")
    await world.flow.routing.uphold(upheld, world.p[DISPATCHER], "属于你们")  # back to zjj: a new dispatch
    await world.flow.routing.dispatch(rerouted, "T-WJ", world.p[DISPATCHER])  # to zfj
    ind = world.indicators()
    zjj = await ind.figures(NOVEMBER, await world.unit("zjj"))
    # zjj: dispatched 3 (two, then the upheld one again), returns 2 of which upheld 1 and re-routed 1
    assert (zjj.dispatched, zjj.returns, zjj.returns_upheld, zjj.returns_rerouted) == (3, 2, 1, 1)
    assert zjj.return_rate == pytest.approx(2 / 3)
    assert dict(zjj.rows())["退单（维持原派/改派他处）"] == "2（1/1）"
    assert (zjj.accept_base, zjj.accepted_on_time) == (2, 2), "a 退回 within the limit answers in time"
    zfj = await ind.figures(NOVEMBER, await world.unit("zfj"))
    assert (zfj.dispatched, zfj.returns, zfj.received) == (1, 0, 1), "the re-routed ticket is zfj's now"


async def test_a_reassigned_ticket_is_charged_to_the_new_department(world):
    zjj, zfj = await world.unit("zjj"), await world.unit("zfj")
    early = await world.file("T-LD")  # zjj's accept limit 13:00
    world.later(hours=1)
    await world.flow.routing.reassign(early, world.p[DISPATCHER], "属于违建", matter_code="T-WJ")  # 10:00, in time
    world.later(hours=1)
    await world.accept(early, ZFJ_STAFF)  # 11:00; zfj's limit 12:00: on time
    await world.resolve(early, ZFJ_STAFF, onsite=True)
    late = await world.file("T-LD")  # 11:00, limit 15:00
    world.later(hours=5)
    await world.flow.routing.reassign(late, world.p[DISPATCHER], "属于违建", matter_code="T-WJ")  # 16:00: zjj late
    ind = world.indicators()
    old, new = await ind.figures(NOVEMBER, zjj), await ind.figures(NOVEMBER, zfj)
    # zjj: 2 dispatched; charged for 签收 only on `late` (its limit passed before the 改派): 0 of 1
    assert (old.dispatched, old.accept_base, old.accepted_on_time) == (2, 1, 0)
    assert (old.received, old.resolved, old.due) == (0, 0, 0), "what follows the 改派 is not zjj's"
    # zfj: 2 dispatched by 改派; `early` accepted on time, resolved; `late` (limit 18:00) is undecided at 16:00
    assert (new.received, new.dispatched, new.accept_base, new.accepted_on_time, new.resolved) == (2, 2, 1, 1, 1)


async def test_escalations_count_as_supervision_of_the_department_escalated(world):
    ticket = await world.file("T-LD")
    world.later(hours=4, minutes=1)  # past the 4h accept limit: 催办 then 督办
    await world.flow.sweep()
    f = await world.indicators().figures(NOVEMBER, await world.unit("zjj"))
    assert (f.escalated, f.escalated2) == (1, 0) and ticket
    world.later(hours=4)  # 领导督办 one limit later
    await world.flow.sweep()
    f = await world.indicators().figures(NOVEMBER)
    assert (f.escalated, f.escalated2) == (1, 1)
    assert dict(f.rows())["督办（督办/领导督办）"] == "1 / 1"


async def test_a_township_and_its_grids_get_the_tickets_in_their_grids(world):
    async with world.db.session() as s:
        ld = (await s.exec(select(Department).where(Department.code == "ld"))).one()
        grids = (await s.exec(select(Grid).where(Grid.township_id == ld.id).order_by(Grid.code))).all()
    await world.file("T-LD", grid_id=grids[0].id)
    await world.file("T-LD", grid_id=grids[1].id)
    await world.file("T-WJ", grid_id=grids[1].id)
    ind = world.indicators()
    township = await ind.figures(NOVEMBER, await world.unit("ld"))
    assert (township.received, township.dispatched) == (3, 3)
    table = await ind.table(NOVEMBER, "grid")
    assert [(u.code, f.received) for u, f in table] == [("ld-01", 1), ("ld-02", 2)]
    assert table[0][0].name == "龙都街道·第一网格"
    departments = await ind.table(NOVEMBER, "department")
    assert [u.code for u, _ in departments] == sorted(u.code for u, _ in departments), "by code"
    assert {u.code: f.dispatched for u, f in departments}["zjj"] == 2
    sheets = await ind.tables(NOVEMBER)  # one reading for an export's sheets
    assert list(sheets) == ["county", "department", "township", "grid"]
    assert sheets["county"][0][1].received == 3 and sheets["department"] == departments


# -- calls -----------------------------------------------------------------------------------------------------
async def test_calls_response_and_arrival_medians_and_the_rating(world):
    calls = world.flow.calls
    worker = world.p[GRID_WORKER]
    zfj = world.p[ZFJ_STAFF]
    made = []
    for respond, arrive in ((10, 30), (20, 90), (70, 300)):  # minutes after the call; limits 1h and 4h
        call = await calls.make(worker, "zfj", "占道经营", urgency="normal", matter_code=None)
        world.later(minutes=respond)
        await calls.respond(call.id, zfj, "张三马上到")
        world.later(minutes=arrive - respond)
        await calls.arrive(call.id, zfj, *SPOT)
        made.append(call.id)
    await calls.resolve(made[0], zfj, "已劝离")
    await calls.confirm_done(made[0], worker)
    await calls.rate(made[0], worker, "satisfied", "basic", "dissatisfied")
    withdrawn = await calls.make(worker, "zfj", "又一处", urgency="normal", matter_code=None)
    await calls.cancel(withdrawn.id, worker)
    ind = world.indicators()
    f = await ind.calls(NOVEMBER, await world.unit("zfj"))
    assert (f.calls, f.cancelled, f.respond_rate, f.arrive_rate) == (3, 1, pytest.approx(2 / 3), pytest.approx(2 / 3))
    # response [10, 20, 70]: median 20, p90 (nearest rank: 3rd of 3) 70; arrival [30, 90, 300]: 90 and 300
    assert (f.response_median, f.response_p90, f.arrival_median, f.arrival_p90) == (20, 70, 90, 300)
    # 一哨一考核: (满意 1 + 基本满意 0.9 + 不满意 0) / 3 aspects = 63.3
    assert f.rated == 1 and f.rating == pytest.approx(190 / 3)
    rows = dict(f.rows())
    assert rows["响应时长（中位/90%）"] == "20 分钟 / 70 分钟" and rows["一哨一考核得分"] == "63.3"
    county = await ind.calls(NOVEMBER)
    assert county.calls == 3
    grid = [(u.code, c.calls) for u, c in await ind.call_table(NOVEMBER, "grid")]
    assert grid == [("ld-01", 3), ("ld-02", 0)]
    assert (await ind.calls(DECEMBER)).respond_rate is None


async def test_member_roles_do_not_matter_to_the_figures(sqlite_world):
    """A ticket filed by a grid worker (巡查) is counted like a resident's."""
    world = sqlite_world
    async with world.db.read() as s:
        worker = (await s.exec(select(Member).where(Member.role == Role.GRID_WORKER))).first()
    assert worker is not None
    await world.file("T-LD", who=GRID_WORKER)
    assert (await world.indicators().figures(NOVEMBER)).received == 1


def test_the_indicator_settings_have_defaults_and_refuse_nonsense():
    from bot.config import ConfigError, load_settings

    settings = load_settings({}, dotenv=None)
    assert (settings.satisfied_weight, settings.score_weights, settings.rank_min_orders, settings.rank_list_size) == (
        0.9, "响应:0.1,解决:0.5,满意:0.4", 5, 3)
    ind = Indicators(None, load_catalogue(FIXTURES / "catalogue.yaml"), load_settings(
        {"GRIDBOT_SCORE_WEIGHTS": "办结：0.6，满意：0.4", "GRIDBOT_RANK_MIN_ORDERS": "10"}, dotenv=None))
    assert (ind.weights, ind.min_orders, ind.satisfied_weight) == ((("办结", 0.6), ("满意", 0.4)), 10, 0.9)
    for name, value in (("GRIDBOT_SCORE_WEIGHTS", "速度:1"), ("GRIDBOT_SCORE_WEIGHTS", "响应:0"),
                        ("GRIDBOT_SATISFIED_WEIGHT", "1.5"), ("GRIDBOT_RANK_LIST_SIZE", "three")):
        with pytest.raises(ConfigError, match=name):
            load_settings({name: value}, dotenv=None)
