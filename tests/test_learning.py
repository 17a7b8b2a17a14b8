"""A dispatcher's choice is training data: the next similar request is understood without a dispatcher."""

from __future__ import annotations

RESIDENT, NEIGHBOUR, DISPATCHER = 1001, 1002, 3001
CENTER = -100900
UNKNOWN_KIND = "小区绿化带里有人养了一群鸡鸭，天天打鸣臭气熏天"


async def test_a_dispatchers_correction_changes_the_next_prediction(sqlite_bot):
    bot = sqlite_bot
    await bot.say(RESIDENT, UNKNOWN_KIND)
    assert "还不能确定" in bot.last(RESIDENT)["text"]
    await bot.press(RESIDENT, RESIDENT, "提交")
    await bot.press(CENTER, DISPATCHER, "按类别选择")
    await bot.press(CENTER, DISPATCHER, "环境保护")
    await bot.press(CENTER, DISPATCHER, "噪音扰民")
    assert "已分派" in bot.last(CENTER)["text"]

    await bot.say(NEIGHBOUR, "绿化带里养的鸡鸭天天打鸣，臭气熏天")
    understood = bot.last(NEIGHBOUR)["text"]
    assert "我理解您反映的是" in understood and "噪音扰民" in understood


async def test_the_learning_survives_a_restart(sqlite_db, double):
    from tests.conftest import Clock, start_bot

    first = await start_bot(sqlite_db, double, Clock())
    await first.say(RESIDENT, UNKNOWN_KIND)
    await first.press(RESIDENT, RESIDENT, "提交")
    await first.press(CENTER, DISPATCHER, "按类别选择")
    await first.press(CENTER, DISPATCHER, "环境保护")
    await first.press(CENTER, DISPATCHER, "噪音扰民")
    await first.stop()
    second = await start_bot(sqlite_db, double, Clock())  # replays dispatchers' labels from the database
    try:
        await second.say(NEIGHBOUR, "绿化带里养的鸡鸭天天打鸣，臭气熏天")
        assert "噪音扰民" in second.last(NEIGHBOUR)["text"]
    finally:
        await second.stop()
