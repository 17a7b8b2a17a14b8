"""Bad input, fuzzed (Hypothesis) through the real bot: any Unicode, very long, empty, junk command arguments,
media, edited and forwarded messages, random callback_data — no crash, and a clear reply to every message."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import texts
from tests.helpers import RESIDENT, ZFJ

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

text = st.one_of(
    st.text(min_size=0, max_size=60),  # any Unicode, control characters and emoji included
    st.text(alphabet="路灯坏了噪音扰民😀\n\t \u200b", min_size=0, max_size=5000),  # long and whitespace-heavy
    st.builds(lambda cmd, arg: f"/{cmd} {arg}", st.sampled_from(["t", "start", "invite", "my", "help", "x", "呼叫"]),
              st.text(max_size=80)),
)
event = st.one_of(
    st.tuples(st.just("text"), text),
    st.tuples(st.just("forward"), text.filter(bool)),
    st.tuples(st.just("edit"), text.filter(lambda t: t.strip())),
    st.tuples(st.just("photo"), st.one_of(st.none(), text)),
    st.tuples(st.just("location"), st.tuples(st.floats(-90, 90), st.floats(-180, 180))),
    st.tuples(st.just("sticker"), st.just("")),
    st.tuples(st.just("contact"), st.just("13900000000")),
    st.tuples(st.just("press"), st.text(max_size=70)),
)


class Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@FUZZ
@given(events=st.lists(event, min_size=1, max_size=4))
async def test_whatever_a_person_sends_gets_a_clear_reply_and_nothing_crashes(sqlite_bot, events):
    bot, double = sqlite_bot, sqlite_bot.double
    failures = Failures()
    logging.getLogger().addHandler(failures)
    try:
        for kind, value in events:
            before = len(double.bot_messages(RESIDENT))
            answers = len(double.callback_answers)
            if kind == "text":
                double.send_text(RESIDENT, RESIDENT, value)
            elif kind == "forward":
                double.forward_text(RESIDENT, RESIDENT, value)
            elif kind == "edit":
                sent = double.send_text(RESIDENT, RESIDENT, "小区门口路灯坏了")
                await bot.settle()
                before = len(double.bot_messages(RESIDENT))
                double.edit_text(RESIDENT, RESIDENT, sent["message_id"], value)
            elif kind == "photo":
                double.send_photo(RESIDENT, RESIDENT, caption=value or None)
            elif kind == "location":
                double.send_location(RESIDENT, RESIDENT, *value)
            elif kind == "sticker":
                double.send_sticker(RESIDENT, RESIDENT)
            elif kind == "contact":
                double.send_contact(RESIDENT, RESIDENT, value)
            else:
                double.press(ZFJ, 1, RESIDENT, value or "x", force=True)
            await bot.settle()
            if kind == "press":
                assert len(double.callback_answers) > answers or double.bot_messages(ZFJ), "a press is answered"
            else:
                assert len(double.bot_messages(RESIDENT)) > before, f"no reply to {kind} {value!r}"
                assert texts.ERR_INTERNAL not in double.bot_messages(RESIDENT)[-1].get("text", "")
    finally:
        logging.getLogger().removeHandler(failures)
    assert not failures.records, [r.getMessage() for r in failures.records]
