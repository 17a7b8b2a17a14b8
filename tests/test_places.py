"""Every request lands in its grid, through the real bot and the Bot API double: from a shared location (inside
a grid, on a border, just outside, outside every grid, shared after the draft), from a place named in the text
(one grid, or several: asked with buttons), from the grid worker who files it, from the resident's registered
grid, or — nobody knowing — by asking once with the draft and filing anyway. The ticket records how; the cards
name the grid; the grid's township cooperates (属地)."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlmodel import select

from bot import texts
from storage.models import Grid, PendingInput, Ticket
from tests.conftest import FIXTURES, Clock, start_bot
from tests.helpers import GRID_WORKER, ILLEGAL_BUILDING, RESIDENT, STRANGER, ZFJ, count, row_counts

# tests/fixtures/county.yaml: ld-01 west of 119.41 E, ld-02 east of it, both 35.986–35.998 N
IN_LD_02 = (35.992, 119.415)
ON_THE_BORDER = (35.992, 119.410)
JUST_OUTSIDE_LD_02 = (35.992, 119.4215)  # ~135 m east of ld-02's edge (tolerance 200 m)
FAR_AWAY = (36.5, 118.5)
GARBAGE = "垃圾堆积好几天了，垃圾没人清运"  # T-LJ, no place in it


async def newcomer(bot) -> int:
    """A resident the county file does not know: no registered grid."""
    bot.double.add_user(STRANGER, "新居民")
    return STRANGER


async def grid_of(bot, number: str) -> tuple[str | None, str | None]:
    async with bot.svc.db.read() as s:
        ticket = (await s.exec(select(Ticket).where(Ticket.number == number))).one()
        grid = await s.get(Grid, ticket.grid_id) if ticket.grid_id else None
    return (grid.code if grid else None), ticket.grid_source


async def submit(bot, user: int) -> str:
    await bot.press(user, user, texts.BTN_SUBMIT)
    return bot.find(user, "工单号：")["text"].split("工单号：")[1].split()[0]


async def test_a_location_inside_a_grid_places_the_request_there_and_travels_as_a_venue(bot):
    await bot.locate(RESIDENT, *IN_LD_02)  # the resident lives in ld-01; the problem is in ld-02
    await bot.say(RESIDENT, ILLEGAL_BUILDING)
    assert "地点：龙都街道·第二网格" in bot.last(RESIDENT)["text"]
    number = await submit(bot, RESIDENT)
    assert await grid_of(bot, number) == ("ld-02", "location")
    card = bot.find(ZFJ, f"【工单 {number}")
    assert "网格：龙都街道·第二网格（按定位）" in card["text"]
    venue = next(m for m in bot.double.bot_messages(ZFJ) if m.get("venue"))
    assert venue["venue"]["title"] == "龙都街道·第二网格" and venue["message_id"] < card["message_id"]
    assert venue["location"]["latitude"] == IN_LD_02[0]


async def test_a_location_on_a_shared_border_goes_to_one_grid_always_the_same(bot):
    await bot.locate(RESIDENT, *ON_THE_BORDER)
    await bot.say(RESIDENT, ILLEGAL_BUILDING)
    number = await submit(bot, RESIDENT)
    assert await grid_of(bot, number) == ("ld-01", "location")


async def test_a_location_just_outside_goes_to_the_nearest_grid_and_says_so(bot):
    user = await newcomer(bot)
    await bot.locate(user, *JUST_OUTSIDE_LD_02)
    await bot.say(user, ILLEGAL_BUILDING)
    number = await submit(bot, user)
    assert await grid_of(bot, number) == ("ld-02", "near")
    assert texts.GRID_SOURCE["near"] in bot.find(ZFJ, f"【工单 {number}")["text"]


async def test_a_location_outside_every_grid_is_said_and_kept_nowhere(bot):
    before = await row_counts(bot.svc.db, PendingInput)
    await bot.locate(RESIDENT, *FAR_AWAY)
    assert bot.last(RESIDENT)["text"] == texts.LOCATION_OFF_MAP
    assert await row_counts(bot.svc.db, PendingInput) == before
    await bot.say(RESIDENT, ILLEGAL_BUILDING)
    number = await submit(bot, RESIDENT)
    assert await grid_of(bot, number) == ("ld-01", "home"), "the resident's own grid, not a place far away"


async def test_a_location_shared_after_the_draft_places_that_draft(bot):
    user = await newcomer(bot)
    await bot.say(user, ILLEGAL_BUILDING)
    assert count(bot, user, texts.PLACE_ASK) == 1
    await bot.locate(user, *IN_LD_02)
    assert bot.last(user)["text"] == texts.PLACE_SET.format(grid="龙都街道·第二网格")
    number = await submit(bot, user)
    assert await grid_of(bot, number) == ("ld-02", "location")


async def test_a_place_of_the_gazetteer_named_in_the_text_finds_its_grid_without_asking(bot):
    user = await newcomer(bot)
    await bot.say(user, "金地家园小区门口" + GARBAGE)
    assert "地点：龙都街道·第一网格" in bot.last(user)["text"]
    assert count(bot, user, texts.PLACE_ASK) == 0
    number = await submit(bot, user)
    assert await grid_of(bot, number) == ("ld-01", "place")
    assert texts.GRID_SOURCE["place"] in bot.find(ZFJ, f"【工单 {number}")["text"]
    venue = next(m for m in bot.double.bot_messages(ZFJ) if m.get("venue"))  # the gazetteer's point for it
    assert (venue["location"]["latitude"], venue["location"]["longitude"]) == (35.9921, 119.4052)


async def test_an_ambiguous_place_is_asked_with_buttons(bot):
    user = await newcomer(bot)
    await bot.say(user, "幸福小区" + GARBAGE)
    question = bot.last(user)
    assert question["text"] == texts.PLACE_WHICH.format(place="幸福小区")
    assert [b["text"] for row in question["reply_markup"]["inline_keyboard"] for b in row] == ["第一网格", "第二网格"]
    await bot.press(user, user, "第二网格", message_id=question["message_id"])
    assert bot.last(user)["text"] == texts.PLACE_CHOSEN.format(grid="龙都街道·第二网格")
    number = await submit(bot, user)
    assert await grid_of(bot, number) == ("ld-02", "chosen")


async def test_no_place_at_all_is_asked_once_by_township_then_grid(bot):
    user = await newcomer(bot)
    await bot.say(user, GARBAGE)
    draft = next(m for m in bot.double.bot_messages(user) if texts.BTN_SUBMIT in str(m.get("reply_markup")))
    question = bot.last(user)
    assert question["text"] == texts.PLACE_ASK and question["message_id"] > draft["message_id"], \
        "the draft first: the resident sees what was understood, then where"
    await bot.press(user, user, "龙都街道", message_id=question["message_id"])
    assert texts.PLACE_PICK_GRID.format(township="龙都街道") == bot.last(user)["text"]
    await bot.press(user, user, "第一网格", message_id=question["message_id"])
    await bot.press(user, user, texts.BTN_OTHER)  # changing the matter does not ask again
    await bot.press(user, user, texts.BTN_HUMAN)
    place_questions = [t for t in bot.texts(user) if t == texts.PLACE_ASK or t.startswith("已选择：")]
    assert place_questions == [texts.PLACE_CHOSEN.format(grid="龙都街道·第一网格")], "asked once, answered in place"
    number = await submit(bot, user)
    assert await grid_of(bot, number) == ("ld-01", "chosen")


async def test_unanswered_the_request_is_filed_anyway_and_the_card_says_no_grid(bot):
    user = await newcomer(bot)
    await bot.say(user, ILLEGAL_BUILDING)
    number = await submit(bot, user)
    assert await grid_of(bot, number) == (None, None)
    assert f"网格：{texts.NO_GRID}" in bot.find(ZFJ, f"【工单 {number}")["text"]


async def test_a_grid_worker_files_in_their_own_grid(bot):
    await bot.say(GRID_WORKER, "巡查发现" + ILLEGAL_BUILDING)
    number = await submit(bot, GRID_WORKER)
    assert await grid_of(bot, number) == ("ld-01", "grid_worker")
    assert texts.GRID_SOURCE["grid_worker"] in bot.find(ZFJ, f"【工单 {number}")["text"]


async def test_the_grid_found_decides_the_township_that_cooperates(sqlite_db, double, tmp_path: Path):
    doc = yaml.safe_load((FIXTURES / "county.yaml").read_text(encoding="utf-8"))
    doc["townships"].append({"code": "mz", "name": "密州街道", "chat_id": -100810, "grids": [{
        "code": "mz-01", "name": "城北网格", "places": ["府前小区"], "boundary": {"type": "Polygon", "coordinates": [
            [[119.400, 35.998], [119.420, 35.998], [119.420, 36.010], [119.400, 36.010], [119.400, 35.998]]]}}]})
    county = tmp_path / "county.yaml"
    county.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    double.add_group(-100810, "密州街道")
    local = await start_bot(sqlite_db, double, Clock(), county=county)
    try:
        await local.say(RESIDENT, "府前小区" + ILLEGAL_BUILDING)  # lives in 龙都街道; the problem is in 密州街道
        assert "协办：住房和城乡建设局、密州街道" in local.last(RESIDENT)["text"]
        number = await submit(local, RESIDENT)
        assert any(number in t for t in local.texts(-100810)), "the grid's township gets the 属地 card"
        assert not any(number in t for t in local.texts(-100800))
    finally:
        await local.stop()


async def test_arrival_is_measured_against_the_reported_place_and_far_ones_are_flagged(bot):
    """报到 at the place (~100 m) is 在范围内; 2 km away is flagged on the card and told to the command center."""
    from tests.helpers import CENTER, ZFJ_STAFF

    for arrival, outside in (((35.9929, 119.415), False), ((36.010, 119.415), True)):
        await bot.locate(RESIDENT, *IN_LD_02)
        await bot.say(RESIDENT, ILLEGAL_BUILDING)
        number = await submit(bot, RESIDENT)
        card = bot.find(ZFJ, f"【工单 {number}")
        await bot.press(ZFJ, ZFJ_STAFF, "签收", message_id=card["message_id"])
        await bot.press(ZFJ, ZFJ_STAFF, "报到", message_id=card["message_id"])
        await bot.locate(ZFJ_STAFF, *arrival, chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
        told = bot.last(ZFJ)["text"]  # the staff member hears the distance at once, and that it is too far
        assert told.startswith("已报到") and "米" in told and ("超出" in told) is outside
        card = bot.find(ZFJ, f"【工单 {number}")
        assert "报到位置距反映地点约" in card["text"]
        assert ("超出" in card["text"]) is outside and ("在范围内" in card["text"]) is not outside
        assert (count(bot, CENTER, f"工单 {number}：【综合行政执法局】报到位置") == 1) is outside
