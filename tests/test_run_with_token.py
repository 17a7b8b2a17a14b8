"""`gridbot run` with a token talks to whatever TELEGRAM_API_BASE_URL names, by long polling: here the Bot API
double stands in for Telegram, so the production path (not the sandbox) is exercised end to end."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from bot.config import ROOT
from bot.double.server import BotApiDouble

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


async def test_with_a_token_the_bot_polls_the_configured_server_and_answers(tmp_path):
    double = BotApiDouble(token=TOKEN)
    await double.start()
    double.add_user(1001, "王秀兰")
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": double.base_url,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        await double.wait_for(lambda: any(m == "getUpdates" for _, m, _ in double.requests), timeout=60)
        double.send_text(1001, 1001, "/start")
        reply = await double.wait_bot_message(1001, contains="网格通", timeout=15)
        assert "/my" in reply["text"]
        assert any(method == "setMyCommands" for _, method, _ in double.requests)
    finally:
        proc.send_signal(signal.SIGINT)
        output = (await asyncio.wait_for(proc.communicate(), timeout=20))[0].decode()
        await double.stop()
    assert proc.returncode == 0, output
    assert "Traceback" not in output, output
