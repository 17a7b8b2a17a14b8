"""`make run` without a token, as a person would meet it: the `gridbot run` process serves the chat page of the
Bot API double and the real bot answers in it.

Both tests start the real command (`python -m bot.cli run`) as a subprocess on a free port with its own SQLite
file, and stop it with SIGINT like Ctrl-C does. The first drives it over the double's HTTP control API (the
same calls the page makes); the second drives the page itself in a headless Chromium through Playwright
(`-m browser`; skipped when `playwright` or /usr/bin/chromium is missing).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

RESIDENT = 1001  # 王秀兰, a resident of 东关社区第一网格 in data/county.yaml
RESIDENT_NAME = "王秀兰"
ILLEGAL_BUILDING = "我家楼下有人私搭乱建，在院子里加盖了一个大棚子"
NUMBER = re.compile(r"工单号：(\d{8}-\d{4})")
START_TIMEOUT = 60.0  # the first start imports jieba and builds the classifier
STEP_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0


# -- the `gridbot run` process ------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sandbox:
    """A running `gridbot run` (no token) and a client of its double's control API, keeping the page's view
    of every chat (messages merged by seq, as chat.html does)."""

    def __init__(self, proc: subprocess.Popen, url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log
        self.since = 0
        self.state: dict[str, Any] = {}
        self.msgs: dict[tuple[int, int], dict] = {}

    # plain HTTP, as the page does it
    def get(self, path: str, timeout: float = 5.0) -> tuple[int, str, str]:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8")

    def control(self, action: str, **body: Any) -> Any:
        request = urllib.request.Request(self.url + "/_control/" + action, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as r:
                answer = json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise AssertionError(f"/_control/{action} {body} → {e.code} {e.read().decode()}") from None
        assert answer.get("ok") is True, f"/_control/{action} {body} → {answer}"
        return answer["result"]

    def refresh(self) -> dict[str, Any]:
        state = json.loads(self.get(f"/_control/state?since={self.since}")[2])
        state = state.get("result", state) if "seq" not in state else state
        for record in state["messages"]:
            key = (record["chat_id"], record["message_id"])
            if record["deleted"]:
                self.msgs.pop(key, None)
            else:
                self.msgs[key] = record
        self.since = state["seq"]
        self.state = state
        return state

    def bot_messages(self, chat_id: int | None = None) -> list[dict]:
        """Bot messages (newest last), in one chat or in all of them."""
        records = sorted(self.msgs.values(), key=lambda r: r["seq"])
        return [r for r in records if r["from_bot"] and (chat_id is None or r["chat_id"] == chat_id)]

    def wait(self, find: Callable[[], Any], what: str, timeout: float = STEP_TIMEOUT) -> Any:
        """Poll the state until `find()` is truthy; fail with what was seen (and the process log) if not."""
        deadline = time.monotonic() + timeout
        while True:
            self.refresh()
            if found := find():
                return found
            self.assert_alive()
            if time.monotonic() > deadline:
                seen = "\n".join(f"  [{r['chat_id']}] {r['message'].get('text')!r} {buttons(r)}"
                                 for r in self.bot_messages()[-8:])
                raise AssertionError(f"not within {timeout}s: {what}\nlast bot messages:\n{seen}\n{self.tail()}")
            time.sleep(0.1)

    def assert_alive(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(f"gridbot run exited with {self.proc.returncode}\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "--- gridbot run output (tail) ---\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self, sig: int = signal.SIGINT, timeout: float = STOP_TIMEOUT) -> tuple[int | None, float]:
        """Send `sig` (Ctrl-C) and wait; returns (exit code or None if still running, seconds taken)."""
        start = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None, time.monotonic() - start
        return self.proc.returncode, time.monotonic() - start


def buttons(record: dict) -> list[str]:
    rows = (record["message"].get("reply_markup") or {}).get("inline_keyboard") or []
    return [b["text"] for row in rows for b in row]


def start_sandbox(tmp_path: Path, county: Path | None = None) -> Sandbox:
    """`gridbot run` without a token on a free port, with the demo county or `county`."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    # Blank, not just absent: the environment wins over a developer's .env, and a blank setting means
    # "the default" — so a token (or another county) in .env can never turn this into a real Telegram run.
    env.update({name: "" for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "GRIDBOT_CATALOGUE",
                                      "GRIDBOT_COUNTY", "GRIDBOT_CALENDAR", "GRIDBOT_MODEL")})
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 's.db'}", GRIDBOT_WEB_HOST="127.0.0.1",
               GRIDBOT_WEB_PORT=str(port), PYTHONUNBUFFERED="1")
    if county is not None:
        env["GRIDBOT_COUNTY"] = str(county)
    log = tmp_path / "gridbot-run.log"
    with log.open("wb") as out:  # the child keeps its own handle
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    sandbox = Sandbox(proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        sandbox.assert_alive()
        try:
            status, _, page = sandbox.get("/", timeout=2)
            if status == 200 and "网格通" in page:
                return sandbox
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            sandbox.stop(signal.SIGKILL, 5)
            raise AssertionError(f"the chat page was not served on {sandbox.url}/ within {START_TIMEOUT}s\n"
                                 f"{sandbox.tail()}")
        time.sleep(0.2)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path)
    try:
        yield running
    finally:
        if running.proc.poll() is None:
            code, _ = running.stop()
            if code is None:
                running.proc.kill()
                running.proc.wait(5)


# -- 1. over the control API --------------------------------------------------------------------------
def test_make_run_without_a_token_serves_the_chat_page_and_the_bot_answers(sandbox: Sandbox):
    status, content_type, page = sandbox.get("/")
    assert status == 200 and content_type.startswith("text/html")
    assert "网格通" in page and 'id="persona"' in page and 'id="chat"' in page

    state = sandbox.refresh()
    assert state["bot"] and state["bot"]["is_bot"]
    users = {u["id"]: u for u in state["users"]}
    assert users[RESIDENT]["first_name"] == RESIDENT_NAME and users[RESIDENT]["role_label"] == "居民"
    groups = {c["id"]: c for c in state["chats"] if c["type"] != "private"}
    assert len(groups) > 1 and any(c["members"] for c in groups.values()), "department groups should be playable"

    # the resident writes one sentence in her private chat with the bot
    sandbox.control("send", chat_id=RESIDENT, user_id=RESIDENT, text=ILLEGAL_BUILDING)
    understood = sandbox.wait(
        lambda: next((r for r in reversed(sandbox.bot_messages(RESIDENT)) if "提交" in " ".join(buttons(r))), None),
        "the bot answers the resident with a 提交 button")
    text = understood["message"]["text"]
    assert "我理解您反映的是" in text and ILLEGAL_BUILDING in text, text
    assert any("提交" in b for b in buttons(understood)) and any("取消" in b for b in buttons(understood))
    lead = re.search(r"主办部门：(\S+)", text)
    assert lead, text
    lead = lead.group(1)

    # she presses 提交 and gets a ticket number
    sandbox.control("press_button", chat_id=RESIDENT, user_id=RESIDENT, text_contains="提交",
                    message_id=understood["message_id"])
    submitted = sandbox.wait(
        lambda: next((r for r in sandbox.bot_messages(RESIDENT) if NUMBER.search(r["message"].get("text") or "")),
                     None),
        "the resident gets 已提交。工单号：…")
    assert submitted["message"]["text"].startswith("已提交"), submitted["message"]["text"]
    number = NUMBER.search(submitted["message"]["text"]).group(1)

    # the lead department's group gets the card with 签收 / 退回
    card = sandbox.wait(
        lambda: next((r for r in sandbox.bot_messages() if r["chat_id"] < 0
                      and number in (r["message"].get("text") or "") and "签收" in buttons(r)), None),
        f"a department group gets the card of {number} with 签收")
    assert "退回" in buttons(card) and ILLEGAL_BUILDING in card["message"]["text"]
    assert RESIDENT_NAME not in card["message"]["text"]  # no resident identity on cards
    assert groups[card["chat_id"]]["title"] == lead, f"card went to {groups[card['chat_id']]['title']}, not {lead}"
    sandbox.wait(lambda: any(f"已派至【{lead}】" in (r["message"].get("text") or "")
                             for r in sandbox.bot_messages(RESIDENT)), "the resident is told where it went")
    sandbox.assert_alive()

    # Ctrl-C: a clean exit, promptly, without a traceback
    code, took = sandbox.stop(signal.SIGINT)
    assert code == 0, f"exit code {code} ({took:.1f}s after SIGINT)\n{sandbox.tail()}"
    assert "Traceback" not in sandbox.log.read_text(encoding="utf-8", errors="replace"), sandbox.tail(80)


# -- 2. in a real browser -----------------------------------------------------------------------------
def playwright_or_skip() -> Any:
    try:
        from playwright import sync_api
    except ImportError as e:  # not installed, or a broken install
        pytest.skip(f"playwright is not importable ({e}); pip install playwright — the browser is {CHROMIUM}")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)")
    return sync_api


@contextmanager
def browser_session(tmp_path: Path, county: Path | None = None, browser_args: tuple[str, ...] = (),
                    **page_options: Any) -> Iterator[tuple[Sandbox, Any]]:
    """A `gridbot run` sandbox and its chat page, connected, in a headless Chromium. On the way out: no page
    error, no failed request, no console error; the process alive and stopping cleanly on Ctrl-C. A failure
    leaves failure.png in tmp_path and shows the process's log."""
    sync_api = playwright_or_skip()
    running = start_sandbox(tmp_path, county)
    errors: list[str] = []
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                         args=[*CHROMIUM_ARGS, *browser_args])
            page = browser.new_page(**{"viewport": {"width": 1100, "height": 860}, "locale": "zh-CN", **page_options})
            try:
                page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
                page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}")
                        if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
                page.on("response", lambda r: errors.append(f"HTTP {r.status} {r.request.method} {r.url}")
                        if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)  # no icon: fine
                page.goto(running.url + "/")
                sync_api.expect(page).to_have_title(re.compile("网格通"))
                sync_api.expect(page.get_by_test_id("status")).to_contain_text("已连接", timeout=STEP_TIMEOUT * 1000)
                yield running, page
            except Exception:
                page.screenshot(path=str(tmp_path / "failure.png"))
                raise
            finally:
                browser.close()
        assert not errors, errors
        running.assert_alive()
    except AssertionError as e:  # what the bot process said helps more than the page alone
        raise AssertionError(f"{e}\n(screenshots in {tmp_path})\n{running.tail()}") from None
    finally:
        code, took = running.stop(signal.SIGINT)
        if code is None:
            running.proc.kill()
            running.proc.wait(5)
    assert code == 0, f"exit code {code} ({took:.1f}s after SIGINT)\n{running.tail()}"


def play(page: Any, persona_label: str, chat_label: str) -> None:
    """Pick a persona and one of their chats, as a person does in the page's header."""
    persona, chat = page.get_by_test_id("persona"), page.get_by_test_id("chat")
    persona.select_option(option_value(persona, persona_label))
    chat.select_option(option_value(chat, chat_label))


@pytest.mark.browser
def test_a_person_can_file_a_request_in_the_browser(tmp_path: Path):
    expect = playwright_or_skip().expect
    # a browser in another zone: the page must still show the county's time
    with browser_session(tmp_path, timezone_id="America/Los_Angeles") as (running, page):
        # be 王秀兰 in her private chat with the bot
        play(page, RESIDENT_NAME, "与机器人私聊")
        persona, chat = page.get_by_test_id("persona"), page.get_by_test_id("chat")
        expect(chat).to_have_value(str(RESIDENT))

        box = page.get_by_test_id("text")
        box.fill(ILLEGAL_BUILDING)
        box.press("Enter")
        expect(box).to_have_value("")
        log = page.get_by_test_id("log")
        mine = log.locator(".msg").filter(has_text=ILLEGAL_BUILDING).first
        expect(mine).to_be_visible()
        understood = log.locator(".msg").filter(has_text="我理解您反映的是").last
        expect(understood).to_be_visible(timeout=STEP_TIMEOUT * 1000)
        lead = re.search(r"主办部门：(\S+)", understood.inner_text())
        assert lead, understood.inner_text()
        lead = lead.group(1)
        page.screenshot(path=str(tmp_path / "1-understood.png"))

        understood.get_by_role("button", name=re.compile("提交")).click()
        submitted = log.locator(".msg").filter(has_text="工单号：").last
        expect(submitted).to_be_visible(timeout=STEP_TIMEOUT * 1000)
        number = NUMBER.search(submitted.inner_text())
        assert number, submitted.inner_text()
        number = number.group(1)
        expect(log).to_contain_text(f"已派至【{lead}】", timeout=STEP_TIMEOUT * 1000)
        page.screenshot(path=str(tmp_path / "2-submitted.png"))

        # now be someone of the lead department and open its group
        group = next(c for c in running.refresh()["chats"] if c["type"] != "private" and c["title"] == lead)
        assert group["members"], f"nobody can open the group of {lead} in the page"
        persona.select_option(str(group["members"][0]))
        chat.select_option(option_value(chat, f"群：{lead}"))
        card = log.locator(".msg").filter(has_text=number).last
        expect(card).to_be_visible(timeout=STEP_TIMEOUT * 1000)
        expect(card).to_contain_text(ILLEGAL_BUILDING)
        expect(card.get_by_role("button", name="签收")).to_be_visible()
        expect(card.get_by_role("button", name="退回")).to_be_visible()
        page.screenshot(path=str(tmp_path / "3-department-card.png"))

        # the county's clock, not the browser's; travel two hours ahead: the 签收 reminder (催办) arrives
        county_hour = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%H:")
        expect(page.get_by_test_id("clock")).to_contain_text(county_hour)
        page.get_by_test_id("travel-hour").click()
        page.get_by_test_id("travel-hour").click()
        expect(log.locator(".msg").filter(has_text="【催办】").last).to_be_visible(timeout=STEP_TIMEOUT * 1000)
        later = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=2)).strftime("%H:")
        expect(page.get_by_test_id("clock")).to_contain_text(later)
        page.screenshot(path=str(tmp_path / "4-after-time-travel.png"))


def option_value(select, label_contains: str) -> str:
    """The value of the first option whose label contains the text (what a person looks for in the list)."""
    options = select.evaluate("s => [...s.options].map(o => [o.value, o.textContent])")
    for value, label in options:
        if label_contains in label:
            return value
    raise AssertionError(f"no option containing {label_contains!r} in {[label for _, label in options]}")
