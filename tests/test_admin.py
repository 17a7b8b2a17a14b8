"""Setting a county up from chat: invite links bind a group to a department and give people roles."""

from __future__ import annotations

import subprocess
import sys

from sqlmodel import select

from bot.config import ROOT
from storage.models import Department, Member

ADMIN, RESIDENT, NEWCOMER = 4001, 1001, 9_000_001
NEW_GROUP = -100777


def invite_code(bot) -> str:
    return bot.find(ADMIN, "邀请链接")["text"].rsplit("/start ", 1)[1].strip()


async def test_an_admin_binds_a_new_group_to_a_department_from_chat(sqlite_bot):
    bot = sqlite_bot
    bot.double.add_group(NEW_GROUP, "交通运输局新群", members=[2201])
    await bot.say(ADMIN, "/invite group jtj")
    link = bot.find(ADMIN, "邀请链接")["text"]
    assert "startgroup=" in link and "交通运输局" in link
    await bot.say(2201, f"/start {invite_code(bot)}", chat_id=NEW_GROUP)
    assert "已绑定为【交通运输局】工作群" in bot.last(NEW_GROUP)["text"]
    async with bot.svc.db.session() as s:
        assert (await s.exec(select(Department.chat_id).where(Department.code == "jtj"))).one() == NEW_GROUP
    # the next road ticket's card lands in the newly bound group
    await bot.submit(RESIDENT, "小区门口的路面有个大坑，坑洼塌陷了")
    assert "签收" in str(bot.last(NEW_GROUP)["reply_markup"])


async def test_an_invite_gives_a_role_once(sqlite_bot):
    bot = sqlite_bot
    await bot.say(ADMIN, "/invite staff zfj")
    code = invite_code(bot)
    await bot.say(NEWCOMER, f"/start {code}")
    assert "部门工作人员（综合行政执法局）" in bot.last(NEWCOMER)["text"]
    async with bot.svc.db.session() as s:
        member = (await s.exec(select(Member).where(Member.telegram_id == NEWCOMER))).one()
    assert member.role == "staff"
    await bot.say(RESIDENT, f"/start {code}")  # used up
    assert "邀请码无效或已过期" in bot.last(RESIDENT)["text"]
    async with bot.svc.db.session() as s:
        assert (await s.exec(select(Member.role).where(Member.telegram_id == RESIDENT))).one() == "resident"


async def test_only_admins_invite_and_wrong_codes_are_explained(sqlite_bot):
    bot = sqlite_bot
    await bot.say(RESIDENT, "/invite staff zfj")
    assert "只有管理员" in bot.last(RESIDENT)["text"]
    await bot.say(ADMIN, "/invite staff nowhere")
    assert "没有代码为 nowhere 的部门" in bot.last(ADMIN)["text"]
    await bot.say(ADMIN, "/invite")
    assert "用法" in bot.last(ADMIN)["text"]
    await bot.say(RESIDENT, "/start not-a-code")
    assert "邀请码无效" in bot.last(RESIDENT)["text"]


def test_make_demo_plays_the_whole_loop_and_exits_0(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bot.cli", "demo"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for step in ("居民拍照反映", "[照片]", "工单号：", "签收", "明天上午到现场核查", "处置后照片", "已办结", "全流程完成"):
        assert step in out, step
