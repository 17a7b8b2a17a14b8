"""Routing and emergencies as residents meet them in chat, with the shipped catalogue: a mood word does not
decide the matter, a tie is routed the same way in every process, a real danger is reported to the command
center the moment it arrives, a hypothetical is not."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot import texts
from bot.config import DATA
from tests.conftest import FIXTURES, Clock, start_bot  # noqa: F401
from tests.helpers import CENTER, GRID_WORKER, RESIDENT

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def shipped(sqlite_db, double):
    """The bot with the shipped catalogue (data/catalogue.yaml) over the test county."""
    local = await start_bot(sqlite_db, double, Clock(), catalogue=DATA / "catalogue.yaml")
    yield local
    await local.stop()


async def test_a_mood_word_does_not_decide_the_matter(shipped):
    bot = shipped
    await bot.say(RESIDENT, "小区门口路灯坏了一个多星期，反映了好几次都没人管，相关部门不作为")
    draft = bot.last(RESIDENT)["text"]
    assert "路灯照明" in draft and "住房和城乡建设局" in draft and "纪委" not in draft


async def test_a_real_danger_alerts_the_command_center_before_anything_is_submitted(shipped):
    bot = shipped
    await bot.say(RESIDENT, "楼道里的配电箱冒烟还有火花，快来人")
    alert = bot.last(CENTER)
    assert "紧急预警" in alert["text"] and "配电箱冒烟" in alert["text"] and "尚未提交" in alert["text"]
    assert any("紧急情况" in t and "配电箱冒烟" in t for t in bot.texts(GRID_WORKER)), "the grid's worker is nearest"
    warned = next(t for t in bot.texts(RESIDENT) if "危及人身安全" in t)
    assert "119" in warned and "已同时通知指挥中心" in warned
    assert texts.EMERGENCY_TIP["electric"] in warned and "发送现场位置" in warned  # what to do; where is it?
    assert not any("工单号" in t for t in bot.texts(RESIDENT)), "nothing was submitted yet"
    await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
    assert "地点：群众未发送定位" in bot.find(CENTER, "紧急预警续报")["text"]


async def test_an_emergency_sent_with_its_place_is_not_asked_where_and_the_center_gets_the_point(shipped):
    bot = shipped
    await bot.locate(RESIDENT, 35.99581, 119.41012)
    await bot.say(RESIDENT, "楼道里有很浓的煤气味")
    warned = next(t for t in bot.texts(RESIDENT) if "危及人身安全" in t)
    assert texts.EMERGENCY_TIP["gas"] in warned and "发送现场位置" not in warned
    await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
    assert "地点：定位 35.99581, 119.41012（WGS-84）" in bot.find(CENTER, "紧急预警续报")["text"]


async def test_a_hypothetical_danger_is_not_an_emergency(shipped):
    bot = shipped
    await bot.say(RESIDENT, "万一发生火灾怎么办，小区消防通道被杂物堵死了")
    assert not bot.texts(CENTER) and not any("危及人身安全" in t for t in bot.texts(RESIDENT))
    await bot.say(RESIDENT, "煤气费涨价太厉害了，一个月多交了好几十")
    assert not bot.texts(CENTER)


def _tie_county(tmp_path: Path) -> Path:
    county = tmp_path / "county.yaml"
    county.write_text(
        "command_center: {code: zhzx, name: 指挥中心, chat_id: -100900}\n"
        "departments:\n  - {code: zjj, chat_id: -100102}\n  - {code: hbj, chat_id: -100106}\n"
        "  - {code: rsj, chat_id: -100104}\n"
        "townships:\n  - {code: ld, name: 龙都街道, chat_id: -100800, grids: [{code: ld-01, name: 第一网格}]}\n"
        f"members:\n  - {{telegram_id: {RESIDENT}, name: 王秀兰, grid: ld-01}}\n", encoding="utf-8")
    return county


def _sandbox(tmp_path: Path, seed: str) -> subprocess.Popen:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDBOT_", "TELEGRAM_"))} | {
        "PYTHONHASHSEED": seed, "GRIDBOT_WEB_PORT": str(port),
        "GRIDBOT_CATALOGUE": str(FIXTURES / "nlp" / "tie_catalogue.yaml"),
        "GRIDBOT_COUNTY": str(_tie_county(tmp_path)), "DATABASE_URL": f"sqlite:///{tmp_path / f'{seed}.db'}"}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    return proc


def _ask(url: str, text: str) -> str:
    def call(path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as r:
            return json.loads(r.read())

    deadline = time.monotonic() + 60
    while True:
        try:
            call("/_control/send", {"chat_id": RESIDENT, "user_id": RESIDENT, "text": text})
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    while time.monotonic() < deadline:
        for change in call("/_control/state")["messages"]:
            body = change["message"].get("text") or ""
            if change["from_bot"] and change["chat_id"] == RESIDENT and texts.UNDERSTOOD[:6] in body:
                return body.split("主办部门：")[1].split("\n")[0]
        time.sleep(0.2)
    raise AssertionError("no draft")


def test_a_tie_is_routed_the_same_way_in_every_process(tmp_path):
    """Two keywords of two offices weighing the same: the bot, started with different string hashing
    (PYTHONHASHSEED), always sends the request to the same office."""
    leads = []
    for seed in ("1", "2", "3"):
        proc = _sandbox(tmp_path, seed)
        try:
            leads.append(_ask(proc.url, "路灯坏了，晚上还噪音扰民"))  # type: ignore[attr-defined]
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(20)
    assert len(set(leads)) == 1 and leads[0], leads
