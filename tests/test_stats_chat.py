"""The command center's figures through the real bot: /stats answers with a chart and the key figures in its
caption (no arguments: today and the month to date), a department head sees only their own department, a
resident is refused; /rank ranks within peer groups; /export's workbook opens with openpyxl and its figures are
the indicators'; the daily brief and the monthly ranking arrive on their own, once each, across a restart."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from sqlmodel import func, select

from bot import texts
from bot.indicators import month_to_date
from bot.reports.fonts import FontMissing, find_cjk_font
from bot.reports.schedule import ReportSchedule
from storage.models import Audit, Outbox, ReportRun, Ticket
from tests.conftest import Clock, start_bot
from tests.helpers import (
    CENTER,
    DISPATCHER,
    GRID_WORKER,
    ILLEGAL_BUILDING,
    LEADERS,
    RESIDENT,
    ZFJ,
    ZFJ_HEAD,
    ZFJ_STAFF,
    ZJJ,
    ZJJ_STAFF,
    advance,
    row_counts,
)

STREETLIGHT = "小区门口的路灯坏了一个星期，晚上黑灯瞎火"  # T-LD: 住建 (zjj)


def font_installed() -> bool:
    try:
        find_cjk_font()
        return True
    except FontMissing:
        return False


def picture(bot, chat_id: int) -> tuple[bytes | None, str]:
    """The newest reply: a photo's bytes and caption (a long text follows as its own message), or text only."""
    messages = bot.double.bot_messages(chat_id)
    for m in reversed(messages):
        if m.get("photo"):
            after = [n.get("text", "") for n in messages if n["message_id"] > m["message_id"]]
            return bot.double.file_bytes(m["photo"][-1]["file_id"]), m.get("caption") or "\n".join(after)
    return None, messages[-1].get("text", "")


async def two_tickets(bot) -> str:
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await bot.press(ZFJ, ZFJ_STAFF, "签收")
    await bot.submit(RESIDENT, STREETLIGHT)
    return number


async def test_stats_answers_with_a_chart_and_the_key_figures_of_today_and_the_month(bot):
    await two_tickets(bot)
    await bot.say(DISPATCHER, "/stats")
    png, caption = picture(bot, DISPATCHER)
    if font_installed():
        assert png is not None and png.startswith(b"\x89PNG"), "a chart"
    else:
        assert caption.startswith(texts.CHART_UNAVAILABLE), "no CJK font: the figures as text, said so"
    assert caption.count(texts.UNIT_COUNTY) == 2, "today and the month to date"
    assert "今天" in caption and "本月" in caption
    assert f"{texts.IND_RECEIVED}：2" in caption
    assert f"{texts.IND_ACCEPT_RATE}：100.0%" in caption, "the one accepted ticket was accepted in time"


async def test_stats_for_a_unit_named_as_people_say_it_and_polite_refusals(bot):
    await two_tickets(bot)
    await bot.say(DISPATCHER, "/stats 本月 城管")
    _, caption = picture(bot, DISPATCHER)
    assert "综合行政执法局" in caption and f"{texts.IND_RECEIVED}：1" in caption
    await bot.say(DISPATCHER, "/stats 本月 月球管理局")
    assert bot.last(DISPATCHER)["text"].startswith(texts.STATS_UNKNOWN_UNIT.format(name="月球管理局"))
    await bot.say(DISPATCHER, "/stats 前年的某天 城管")
    assert bot.last(DISPATCHER)["text"] == texts.PERIOD_BAD.format(text="前年的某天")
    await bot.say(DISPATCHER, "/stats 明年")
    assert bot.last(DISPATCHER)["text"].startswith(texts.STATS_NEITHER.format(text="明年"))


async def test_a_head_sees_their_own_department_only(bot):
    await two_tickets(bot)
    await bot.say(ZFJ_HEAD, "/stats")
    _, caption = picture(bot, ZFJ_HEAD)
    assert "综合行政执法局" in caption and texts.UNIT_COUNTY not in caption
    assert f"{texts.IND_RECEIVED}：1" in caption
    await bot.say(ZFJ_HEAD, "/stats 本月 住建")
    assert bot.last(ZFJ_HEAD)["text"] == texts.STATS_OWN_ONLY.format(dept="综合行政执法局")
    await bot.say(ZFJ_HEAD, "/rank")
    assert bot.last(ZFJ_HEAD)["text"] == texts.RANK_REFUSED
    await bot.say(ZFJ_HEAD, "/export", chat_id=ZFJ)
    assert bot.last(ZFJ)["text"] == texts.EXPORT_PRIVATE and not bot.last(ZFJ).get("document"), "not in the group"


async def test_rank_with_nobody_ranked_yet_says_so_without_blaming_the_font(bot):
    await two_tickets(bot)  # default minimum of 5 orders: nobody is ranked
    await bot.say(DISPATCHER, "/rank")
    text = "\n".join(bot.texts(DISPATCHER))
    assert texts.RANK_EMPTY.format(group=texts.PEER_GROUP["county"]) in text
    assert texts.CHART_UNAVAILABLE not in text


@pytest.mark.parametrize("who", [RESIDENT, GRID_WORKER, ZFJ_STAFF])
async def test_residents_grid_workers_and_staff_are_refused_and_nothing_changes(sqlite_bot, who):
    bot = sqlite_bot
    before = await row_counts(bot.svc.db, Ticket, Outbox)
    for command, refusal in (("/stats", texts.STATS_REFUSED), ("/export", texts.EXPORT_REFUSED),
                             ("/rank", texts.RANK_REFUSED)):
        await bot.say(who, command)
        assert bot.last(who)["text"] == refusal
        assert not bot.last(who).get("photo") and not bot.last(who).get("document")
    async with bot.svc.db.read() as s:
        refused = (await s.exec(select(func.count()).select_from(Audit))).one()
    assert refused == 3, "each refusal on the record"
    after = await row_counts(bot.svc.db, Ticket, Outbox)
    assert after[0] == before[0]


async def test_rank_ranks_within_peer_groups_with_the_deciding_indicator(sqlite_db, double):
    bot = await start_bot(sqlite_db, double, Clock(), rank_min_orders=1, rank_list_size=1)
    try:
        await two_tickets(bot)
        await advance(bot, days=2)
        await bot.press(ZJJ, ZJJ_STAFF, "签收")  # late: 住建's 及时签收率 is 0 %
        await bot.say(DISPATCHER, "/rank")
        text = "\n".join(bot.texts(DISPATCHER))
        assert texts.RANK_TITLE.format(group=texts.PEER_GROUP["county"], period="").strip(" ·") in text
        assert "1. 综合行政执法局" in text and "2. 住房和城乡建设局" in text
        assert texts.RANK_RED.format(entries=f"综合行政执法局（{texts.IND_ACCEPT_RATE} 100.0%）") in text
        assert texts.RANK_BLACK.format(entries=f"住房和城乡建设局（{texts.IND_ACCEPT_RATE} 0.0%）") in text
        assert texts.RANK_NO_ORDERS.split("：")[0] in text, "units without orders listed apart"
    finally:
        await bot.stop()


async def test_export_totals_are_the_indicators_and_a_heads_copy_has_no_personal_data(bot):
    await two_tickets(bot)
    await bot.say(DISPATCHER, "/export")
    sent = bot.last(DISPATCHER)
    assert sent["document"]["file_name"].endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(bot.double.file_bytes(sent["document"]["file_id"])))
    assert book.sheetnames[:4] == [texts.SHEET_TICKETS, *texts.SHEET_UNITS.values()]
    tickets = book[texts.SHEET_TICKETS]
    assert tickets.freeze_panes == "A2"
    header = [c.value for c in tickets[1]]
    assert header == texts.TICKET_COLUMNS + texts.REPORTER_COLUMNS, "the command center makes the callbacks"
    assert tickets.max_row - 1 == 2
    period = month_to_date(bot.clock.now())
    county = await bot.svc.indicators.figures(period)
    sheet = book[texts.SHEET_UNITS["department"]]
    rows = {r[0]: list(r[1:]) for r in sheet.iter_rows(min_row=2, values_only=True)}

    def same(cells: list, figures) -> bool:  # the workbook's numbers are the figures /stats shows
        for cell, (_, value) in zip(cells, figures.rows(), strict=True):
            if value == texts.NO_VALUE:
                ok = cell is None
            elif value.endswith("%"):
                ok = cell == pytest.approx(float(value[:-1]))
            else:
                ok = str(cell) == value or cell == pytest.approx(float(value))
            if not ok:
                return False
        return True

    assert same(rows[texts.UNIT_COUNTY], county), "the county row is the indicators'"
    for unit, figures in await bot.svc.indicators.table(period, "department"):
        assert same(rows[unit.name], figures), unit.name
    assert sum(rows[name][1] for name in rows if name != texts.UNIT_COUNTY) == county.received, "numbers: they sum"
    assert rows[texts.UNIT_COUNTY][3] == 100 and sheet.cell(1, 5).value == f"{texts.IND_ACCEPT_RATE}（%）", "rates in %"

    await bot.say(ZFJ_HEAD, "/export")
    sent = bot.last(ZFJ_HEAD)
    book = openpyxl.load_workbook(io.BytesIO(bot.double.file_bytes(sent["document"]["file_id"])))
    tickets = book[texts.SHEET_TICKETS]
    assert [c.value for c in tickets[1]] == texts.TICKET_COLUMNS, "no reporter columns"
    assert tickets.max_row - 1 == 1 and tickets["E2"].value == "综合行政执法局", "their own department's only"
    assert [r[0] for r in book[texts.SHEET_UNITS["department"]].iter_rows(min_row=2, values_only=True)] == \
        ["综合行政执法局"]
    cells = " ".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row)
    assert "张三" not in cells and "13800000001" not in cells


async def test_the_daily_brief_and_the_monthly_ranking_arrive_once_each_across_a_restart(sqlite_db, double):
    clock = Clock()
    bot = await start_bot(sqlite_db, double, clock)
    schedule = ReportSchedule(sqlite_db, clock.now)
    await schedule.run_due(bot.svc.statistics.fire)  # a new county starts with the next occurrence
    await two_tickets(bot)
    clock.advance(timedelta(days=1))
    clock.at = clock.at.replace(hour=0, minute=31)  # 08:31 in the county (UTC+8)
    fired = await schedule.run_due(bot.svc.statistics.fire)
    assert [r.kind for r in fired] == ["daily_brief"]
    await bot.settle()
    brief = bot.find(CENTER, "每日简报")
    assert f"{texts.IND_RECEIVED}：2" in brief["text"]
    if font_installed():
        photos = [m for m in bot.double.bot_messages(CENTER) if m.get("photo")]
        assert photos and photos[-1]["message_id"] < brief["message_id"], "the chart right before the brief"
    await bot.stop()

    bot = await start_bot(sqlite_db, double, clock)  # a restart: nothing fires twice
    try:
        assert await ReportSchedule(sqlite_db, clock.now).run_due(bot.svc.statistics.fire) == []
        await bot.settle()
        assert sum("每日简报" in t for t in bot.texts(CENTER)) == 1
        first = clock.at.replace(day=1, hour=1, minute=5) + timedelta(days=32)  # the 1st of the next month
        clock.at = first.replace(day=1)
        fired = await ReportSchedule(sqlite_db, clock.now).run_due(bot.svc.statistics.fire)
        assert "monthly_ranking" in [r.kind for r in fired]
        await bot.settle()
        for chat in (CENTER, LEADERS):
            assert bot.find(chat, "月度排名")
        async with sqlite_db.read() as s:
            runs = (await s.exec(select(ReportRun).where(ReportRun.fired_at != None))).all()  # noqa: E711
        assert sorted(r.kind for r in runs).count("monthly_ranking") == 1
    finally:
        await bot.stop()


async def test_stats_carry_the_calls_figures(sqlite_bot):
    bot = sqlite_bot
    await bot.say(GRID_WORKER, "呼叫城管 人民路菜市场门口占道经营")
    await bot.press(GRID_WORKER, GRID_WORKER, texts.BTN_SEND_CALL)
    await bot.say(DISPATCHER, "/stats")
    _, caption = picture(bot, DISPATCHER)
    assert "网格呼叫：1 次" in caption
