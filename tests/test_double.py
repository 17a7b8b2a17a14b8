"""The Bot API double speaks Telegram to a real PTB Application (no mocks).

Every scenario drives ``telegram.ext.Application`` against the double over HTTP, the way the bot
runs in tests and in the sandbox, or calls the double's HTTP endpoints directly with aiohttp.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.double import BotApiDouble, DoubleError

# PTB itself warns about RetryAfter.retry_after turning into a timedelta; not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore:Deprecated since version v22.2:DeprecationWarning")

from bot.double.spec import find_spec  # noqa: E402

SPEC = find_spec(Path(__file__))
ALICE, BOB = 1001, 1002
DEPT = -1_001_000_000_001  # a department supergroup


# ---------------------------------------------------------------- fixtures & helpers


async def _started(double: BotApiDouble) -> BotApiDouble:
    await double.start()
    double.add_user(ALICE, "李网格员", "grid_li", role_label="网格员")
    double.add_user(BOB, "王主任", role_label="部门负责人")
    double.add_group(DEPT, "城建部门群", members=[ALICE, BOB])
    return double


@pytest.fixture
async def double() -> AsyncIterator[BotApiDouble]:
    started = await _started(BotApiDouble())
    yield started
    await started.stop()


@pytest.fixture
async def strict_double() -> AsyncIterator[BotApiDouble]:
    if SPEC is None:
        pytest.skip(f"Bot API spec not found at {SPEC}")
    started = await _started(BotApiDouble(spec_path=SPEC))
    yield started
    await started.stop()


@asynccontextmanager
async def running_bot(double: BotApiDouble, *handlers: BaseHandler[Any, Any, Any]) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A real PTB Application polling the double, as the bot runs in production."""
    app = (
        ApplicationBuilder()
        .token(double.token)
        .base_url(double.base_url)
        .base_file_url(double.base_file_url)
        .build()
    )
    for handler in handlers:
        app.add_handler(handler)
    await app.initialize()
    await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))  # type: ignore[union-attr]
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()
        await app.shutdown()


@asynccontextmanager
async def bot_only(double: BotApiDouble) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """An initialized Application that does not poll: for calling Bot API methods directly."""
    app = (
        ApplicationBuilder()
        .token(double.token)
        .base_url(double.base_url)
        .base_file_url(double.base_file_url)
        .build()
    )
    await app.initialize()
    try:
        yield app
    finally:
        await app.shutdown()


async def raw_call(double: BotApiDouble, method: str, token: str | None = None, **params: Any) -> tuple[int, dict[str, Any]]:
    """POST form-encoded like PTB: every non-string value JSON-encoded."""
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    url = f"{double.base_url}{token or double.token}/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, data=form) as response:
        return response.status, await response.json()


def echo_handler() -> MessageHandler[Any, Any]:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer every text with 收到：<text>."""
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"收到：{update.effective_message.text}")

    return MessageHandler(filters.TEXT & ~filters.COMMAND, echo)


# ---------------------------------------------------------------- PTB end to end


async def test_get_me_initializes_ptb_with_the_sandbox_bot(double: BotApiDouble) -> None:
    async with bot_only(double) as app:
        me = await app.bot.get_me()
    assert (me.id, me.username, me.is_bot) == (double.bot_id, "gridbot_sandbox_bot", True)
    assert app.bot.username == "gridbot_sandbox_bot"


async def test_user_text_reaches_the_handler_and_the_reply_is_in_history(double: BotApiDouble) -> None:
    started: list[str] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Record the command arguments."""
        started.append(" ".join(context.args or []))
        await update.effective_message.reply_text("欢迎使用网格通")  # type: ignore[union-attr]

    async with running_bot(double, CommandHandler("start", start), echo_handler()):
        sent = double.send_text(ALICE, ALICE, "你好")
        reply = await double.wait_bot_message(ALICE, "收到：你好", after=sent["message_id"])
        double.send_text(ALICE, ALICE, "/start@gridbot_sandbox_bot 邀请码")
        await double.wait_bot_message(ALICE, "欢迎使用网格通")
    assert reply["from"]["is_bot"] and reply["chat"] == {"id": ALICE, "type": "private", "first_name": "李网格员", "username": "grid_li"}
    assert "reply_to_message" not in reply  # PTB's reply_text quotes only outside private chats
    assert started == ["邀请码"]
    assert [m["text"] for m in double.messages(ALICE)][:2] == ["你好", "收到：你好"]


async def test_confirmed_updates_are_not_redelivered_after_a_restart_but_pending_ones_are(double: BotApiDouble) -> None:
    seen: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Remember each text."""
        seen.append(update.effective_message.text)  # type: ignore[union-attr]

    handler = MessageHandler(filters.TEXT, record)
    async with running_bot(double, handler):
        double.send_text(ALICE, ALICE, "第一条")
        await double.wait_for(lambda: seen == ["第一条"])
        await double.updates_confirmed()
    double.send_text(ALICE, ALICE, "停机时发的")  # nobody polls: stays pending
    async with running_bot(double, handler):
        await double.wait_for(lambda: len(seen) >= 2)
        await asyncio.sleep(0.05)  # a redelivery of 第一条 would show up here
    assert seen == ["第一条", "停机时发的"]


async def test_get_updates_offset_confirms_and_forgets_older_updates(double: BotApiDouble) -> None:
    for text in ("一", "二", "三"):
        double.send_text(ALICE, ALICE, text)
    _, first = await raw_call(double, "getUpdates")
    _, again = await raw_call(double, "getUpdates", limit=2)
    ids = [u["update_id"] for u in first["result"]]
    assert len(ids) == 3 and [u["update_id"] for u in again["result"]] == ids[:2]  # unconfirmed: redelivered
    _, rest = await raw_call(double, "getUpdates", offset=ids[1] + 1)
    assert [u["message"]["text"] for u in rest["result"]] == ["三"]
    _, last = await raw_call(double, "getUpdates", offset=-1)
    assert [u["update_id"] for u in last["result"]] == [ids[2]]


async def test_long_poll_answers_as_soon_as_an_update_arrives(double: BotApiDouble) -> None:
    poll = asyncio.create_task(raw_call(double, "getUpdates", timeout=10))
    await asyncio.sleep(0.2)
    assert not poll.done()  # really waiting
    begin = time.monotonic()
    double.send_text(ALICE, ALICE, "来了")
    status, body = await asyncio.wait_for(poll, 2)
    assert status == 200 and body["result"][0]["message"]["text"] == "来了"
    assert time.monotonic() - begin < 0.5


async def test_a_newer_get_updates_terminates_the_older_long_poll_with_409(double: BotApiDouble) -> None:
    older = asyncio.create_task(raw_call(double, "getUpdates", timeout=10))
    await asyncio.sleep(0.1)
    status, body = await raw_call(double, "getUpdates", timeout=0)
    old_status, old_body = await asyncio.wait_for(older, 2)
    assert status == 200
    assert old_status == 409 and old_body["description"].startswith("Conflict: terminated by other getUpdates request")


async def test_get_updates_is_refused_while_a_webhook_is_set(double: BotApiDouble) -> None:
    async with bot_only(double) as app:
        await app.bot.set_webhook("https://example.org/hook")
        assert (await app.bot.get_webhook_info()).url == "https://example.org/hook"
        with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
            await app.bot.get_updates()
        await app.bot.delete_webhook()
        assert await app.bot.get_updates() == ()


async def test_button_press_reaches_the_callback_handler_which_answers_and_edits(double: BotApiDouble) -> None:
    async def offer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Offer a ticket to accept."""
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("签收", callback_data="accept:42")]])
        await update.effective_message.reply_text("工单 #42 待签收", reply_markup=keyboard)  # type: ignore[union-attr]

    async def accept(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Accept: answer the query and edit the offer."""
        query = update.callback_query
        assert query is not None and query.data == "accept:42"
        await query.answer("已签收")
        await query.edit_message_text("工单 #42 已由李网格员签收")

    async with running_bot(double, CommandHandler("offer", offer), CallbackQueryHandler(accept)):
        double.send_text(DEPT, ALICE, "/offer")
        offer_message = await double.wait_bot_message(DEPT, "待签收")
        query_id = double.press_button(DEPT, ALICE, "签收")
        edited = await double.wait_bot_message(DEPT, "已由李网格员签收")
    assert double.callback_answers[0]["callback_query_id"] == query_id
    assert (double.callback_answers[0]["text"], double.callback_answers[0]["show_alert"]) == ("已签收", False)
    assert edited["message_id"] == offer_message["message_id"] and "edit_date" in edited
    assert "reply_markup" not in double.messages(DEPT)[-1]  # editing without markup drops the keyboard


async def test_pressing_requires_a_real_button_unless_forced(double: BotApiDouble) -> None:
    async with bot_only(double) as app:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("签收", callback_data="accept:1")]])
        message = await app.bot.send_message(ALICE, "工单", reply_markup=keyboard)
    with pytest.raises(DoubleError, match="no button"):
        double.press(ALICE, message.message_id, ALICE, "accept:999")
    double.press(ALICE, message.message_id, ALICE, "accept:999", force=True)
    assert double._updates[-1]["callback_query"]["data"] == "accept:999"


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda bot: bot.send_message(424242, "hi"), "Chat not found"),
        (lambda bot: bot.send_message(ALICE, "   "), "Message text is empty"),
        (lambda bot: bot.send_message(ALICE, "长" * 4097), "Message is too long"),
        (
            # 22 Chinese characters are 66 bytes of UTF-8: over the 64-byte limit.
            lambda bot: bot.send_message(ALICE, "x", reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("签收", callback_data="签" * 22)]])),
            "Button_data_invalid",
        ),
        (lambda bot: bot.edit_message_text("x", chat_id=ALICE, message_id=999), "Message to edit not found"),
        (lambda bot: bot.answer_callback_query("123"), "Query is too old and response timeout expired or query id is invalid"),
        (lambda bot: bot.send_message(ALICE, "a<br>b", parse_mode="HTML"), 'Can\'t parse entities: unsupported start tag "br" at byte offset 1'),
        (lambda bot: bot.delete_message(ALICE, 999), "Message to delete not found"),
    ],
)
async def test_telegram_errors_surface_in_ptb_as_bad_request(double: BotApiDouble, call: Callable[[Any], Any], expected: str) -> None:
    async with bot_only(double) as app:
        with pytest.raises(BadRequest) as caught:
            await call(app.bot)
    assert caught.value.message == expected  # PTB strips "Bad Request: " and capitalizes
    assert double.messages(ALICE) == []


async def test_an_identical_edit_is_rejected_as_not_modified(double: BotApiDouble) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("签收", callback_data="a")]])
    async with bot_only(double) as app:
        sent = await app.bot.send_message(ALICE, "工单", reply_markup=keyboard)
        with pytest.raises(BadRequest, match="Message is not modified"):
            await app.bot.edit_message_text("工单", ALICE, sent.message_id, reply_markup=keyboard)
        await app.bot.edit_message_reply_markup(ALICE, sent.message_id)
        with pytest.raises(BadRequest, match="Message is not modified"):
            await app.bot.edit_message_reply_markup(ALICE, sent.message_id)
    assert "reply_markup" not in double.messages(ALICE)[0]


async def test_html_is_parsed_into_plain_text_and_entities(double: BotApiDouble) -> None:
    async with bot_only(double) as app:
        message = await app.bot.send_message(ALICE, "<b>工单</b> &lt;紧急&gt;", parse_mode="HTML")
    assert message.text == "工单 <紧急>"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, 2)]


async def test_faults_become_ptb_exceptions_and_skip_the_action(double: BotApiDouble) -> None:
    async with bot_only(double) as app:
        double.inject_fault("sendMessage", "429", retry_after=3)
        with pytest.raises(RetryAfter) as flood:
            await app.bot.send_message(ALICE, "一")
        double.inject_fault(None, "500")
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await app.bot.send_message(ALICE, "二")
        double.inject_fault("sendMessage", "403")
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_message(ALICE, "三")
        assert double.messages(ALICE) == []
        double.inject_fault("sendMessage", "timeout", delay=0.3)
        begin = time.monotonic()
        await app.bot.send_message(ALICE, "四")
    assert flood.value.retry_after in (3, dtm.timedelta(seconds=3))
    assert time.monotonic() - begin >= 0.3
    assert [m["text"] for m in double.messages(ALICE)] == ["四"]  # a slow answer still acts


async def test_enforced_limits_answer_429_to_a_bot_flooding_one_private_chat(double: BotApiDouble) -> None:
    double.enforce_limits = True
    async with bot_only(double) as app:
        await app.bot.send_message(ALICE, "一")
        with pytest.raises(RetryAfter):
            await app.bot.send_message(ALICE, "二")
        await app.bot.send_message(BOB, "另一个聊天不受影响")
    assert [m["text"] for m in double.messages(ALICE)] == ["一"]


async def test_group_privacy_delivers_only_commands_replies_and_mentions(double: BotApiDouble) -> None:
    async with bot_only(double) as app:
        notice = await app.bot.send_message(DEPT, "请回复本消息处理工单")
    double.send_text(DEPT, ALICE, "大家好")
    double.send_text(DEPT, ALICE, "/start@other_bot")
    double.send_text(DEPT, BOB, "已处理", reply_to_message_id=notice.message_id)
    double.send_text(DEPT, BOB, "@gridbot_sandbox_bot 帮忙")
    _, body = await raw_call(double, "getUpdates")
    assert [u["message"]["text"] for u in body["result"]] == ["已处理", "@gridbot_sandbox_bot 帮忙"]
    assert len(double.messages(DEPT)) == 5  # everything is still in the chat


async def test_photos_and_documents_upload_and_download(double: BotApiDouble) -> None:
    async with bot_only(double) as app:
        sent = await app.bot.send_photo(ALICE, photo=b"\x89PNG-bytes", caption="现场照片")
        doc = await app.bot.send_document(ALICE, document=b"a,b\n1,2\n", filename="台账.csv")
        file = await app.bot.get_file(sent.photo[-1].file_id)
        content = await file.download_as_bytearray()
        location = await app.bot.send_location(ALICE, latitude=35.99, longitude=119.41)
    assert bytes(content) == b"\x89PNG-bytes" and sent.caption == "现场照片"
    assert doc.document is not None and doc.document.file_name == "台账.csv"
    assert location.location is not None and location.location.latitude == pytest.approx(35.99)
    user_photo = double.send_photo(ALICE, ALICE, caption="路灯坏了")
    assert user_photo["photo"][-1]["file_id"] in double._files


# ---------------------------------------------------------------- HTTP level and spec


async def test_wrong_token_is_401_and_unknown_method_404(double: BotApiDouble) -> None:
    status, body = await raw_call(double, "getMe", token="999:WRONG")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = await raw_call(double, "frobnicate")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    status, _ = await raw_call(double, "GETME")  # method names are case-insensitive
    assert status == 200


async def test_spec_validation_rejects_unknown_missing_and_mistyped_parameters(strict_double: BotApiDouble) -> None:
    status, body = await raw_call(strict_double, "sendMessage", chat_id=ALICE, text="hi", colour="red")
    assert (status, body["description"]) == (400, "Bad Request: unknown parameter colour")
    status, body = await raw_call(strict_double, "sendMessage", text="hi")
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")
    status, body = await raw_call(strict_double, "sendMessage", chat_id=ALICE, text="hi", disable_notification="yes")
    assert (status, body["description"]) == (400, 'Bad Request: field "disable_notification" must be of type Boolean')
    assert len(strict_double.violations) == 3
    assert strict_double.messages(ALICE) == []


async def test_ordinary_ptb_traffic_has_no_spec_violations(strict_double: BotApiDouble) -> None:
    async def offer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Exercise the methods GridBot uses."""
        chat = update.effective_chat
        assert chat is not None
        await context.bot.send_chat_action(chat.id, "typing")
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("签收", callback_data="ok")]])
        await update.effective_message.reply_text("<b>工单</b>", parse_mode="HTML", reply_markup=keyboard)  # type: ignore[union-attr]
        await context.bot.send_photo(chat.id, b"img", caption="图")
        await context.bot.send_document(chat.id, b"a,b", filename="台账.csv")
        pin = await context.bot.send_location(chat.id, latitude=36.0, longitude=119.4)
        await pin.delete()
        await context.bot.get_chat(chat.id)
        await context.bot.get_chat_member(chat.id, ALICE)

    async def accept(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer and edit."""
        await update.callback_query.answer("好", show_alert=True)  # type: ignore[union-attr]
        await update.callback_query.edit_message_text("已签收")  # type: ignore[union-attr]

    async with running_bot(strict_double, CommandHandler("offer", offer), CallbackQueryHandler(accept)) as app:
        await app.bot.set_my_commands([("offer", "派单")])
        strict_double.send_text(ALICE, ALICE, "/offer")
        await strict_double.wait_bot_message(ALICE, "工单")
        assert not strict_double.unanswered_queries()
        strict_double.press_button(ALICE, ALICE, "签收")
        assert len(strict_double.unanswered_queries()) == 1  # pressed, not answered yet: the harness counts these
        await strict_double.wait_bot_message(ALICE, "已签收")
        assert not strict_double.unanswered_queries()
        assert [c.command for c in await app.bot.get_my_commands()] == ["offer"]
    assert strict_double.violations == []
    assert {"getUpdates", "sendPhoto", "editMessageText", "answerCallbackQuery"} <= {m for _, m, _ in strict_double.requests}


async def test_control_api_plays_users_and_the_chat_page_is_served(double: BotApiDouble) -> None:
    zhao = {"chat_id": 2001, "user_id": 2001}
    async with aiohttp.ClientSession(double.url) as http:
        async with http.post("/_control/users", json={"user_id": 2001, "first_name": "赵社工", "role_label": "社工"}) as r:
            assert r.status == 200
        async with http.post("/_control/send", json={**zhao, "text": "你好"}) as r:
            hello = (await r.json())["result"]
        async with http.get("/_control/state") as r:
            before = await r.json()
        async with http.post("/_control/location", json={**zhao, "latitude": 36.0, "longitude": 119.4}) as r:
            assert r.status == 200
        async with http.post("/_control/send", json={**zhao, "user_id": ALICE, "text": "串门"}) as r:
            assert r.status == 400  # Alice cannot write in 赵社工's private chat
        async with http.post("/_control/press", json={**zhao, "message_id": hello["message_id"], "data": "x"}) as r:
            assert r.status == 400  # a user message has no buttons
        async with http.post("/_control/fault", json={"method": "sendMessage", "kind": "500"}) as r:
            assert r.status == 200
        async with http.get("/_control/state", params={"since": str(before["seq"])}) as r:
            after = await r.json()
        async with http.get("/") as r:
            page = await r.text()
    assert any(u["first_name"] == "赵社工" and u["role_label"] == "社工" for u in before["users"])
    assert {c["id"] for c in before["chats"]} >= {2001, DEPT}
    assert [m["message"].get("text") for m in before["messages"] if m["chat_id"] == 2001] == ["你好"]
    assert [m["message"]["location"] for m in after["messages"]] == [{"latitude": 36.0, "longitude": 119.4}]
    assert after["seq"] > before["seq"]
    assert "网格通 · 本地沙盒" in page and "<script>" in page
    assert [m.get("text") for m in double.messages(2001)] == ["你好", None]  # the location has no text
