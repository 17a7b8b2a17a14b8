"""Questions the bot is waiting on (退回理由, 办结结果, a reporter's answer to the dispatcher, attachments
waiting for their text), stored so a restart forgets none. Several may be open for one person at once: a
reply says which one it answers (the question's message); a plain message answers only an unambiguous one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import col, delete, select

from storage.db import Database
from storage.models import Member, Outbox, PendingInput, utcnow

TTL = timedelta(hours=24)
ATTACH = "attach"  # photos / a place waiting for the resident's next text: one per chat, replaced, not stacked
ALBUM = "album"  # the album last answered in this chat (one reply per album, not one per photo)
ANSWERED = "answered"  # a plain message taken as an answer, kept so that one press makes it a request instead
NOT_QUESTIONS = (ATTACH, ALBUM, ANSWERED)


class Prompts:
    def __init__(self, db: Database, now: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.now = now  # the workflow's clock: questions it asks through the outbox carry its time

    async def ask(self, chat_id: int, user_id: int, kind: str, *, ticket_id: int | None = None,
                  prompt_message_id: int | None = None, data: dict | None = None) -> PendingInput:
        """Record a question asked in this chat. The same question asked again (same kind and ticket) replaces
        the older one; other open questions stay open."""
        async with self.db.session() as s:
            same = delete(PendingInput).where(PendingInput.chat_id == chat_id, PendingInput.user_id == user_id,
                                              PendingInput.kind == kind)
            if kind != ATTACH:
                same = same.where(PendingInput.ticket_id == ticket_id)
            await s.exec(same)
            prompt = PendingInput(chat_id=chat_id, user_id=user_id, kind=kind, ticket_id=ticket_id,
                                  prompt_message_id=prompt_message_id, data=data or {}, created_at=self.now())
            s.add(prompt)
        return prompt

    async def replied(self, chat_id: int, user_id: int, reply_to: int) -> PendingInput | None:
        """The open question whose message `reply_to` is (asked directly, or through the outbox)."""
        since = self.now() - TTL
        async with self.db.read() as s:
            direct = await s.exec(select(PendingInput).where(
                PendingInput.chat_id == chat_id, PendingInput.user_id == user_id,
                PendingInput.prompt_message_id == reply_to, PendingInput.created_at >= since))
            found = direct.first()
            if found is not None:
                return found
            relayed = await s.exec(select(PendingInput).join(Outbox, Outbox.id == PendingInput.outbox_id)
                                   .join(Member, Member.id == PendingInput.member_id)
                                   .where(Outbox.chat_id == chat_id, Outbox.sent_message_id == reply_to,
                                          Member.telegram_id == user_id, PendingInput.created_at >= since))
            return relayed.first()

    async def open(self, chat_id: int, user_id: int) -> list[PendingInput]:
        """This person's open questions in this chat, asked directly or delivered through the outbox, newest
        first (attachments waiting for text and the like excluded)."""
        since = self.now() - TTL
        async with self.db.read() as s:
            direct = await s.exec(select(PendingInput).where(
                PendingInput.chat_id == chat_id, PendingInput.user_id == user_id,
                col(PendingInput.kind).not_in(NOT_QUESTIONS), PendingInput.created_at >= since))
            relayed = await s.exec(select(PendingInput).join(Outbox, Outbox.id == PendingInput.outbox_id)
                                   .join(Member, Member.id == PendingInput.member_id)
                                   .where(Outbox.chat_id == chat_id, col(Outbox.sent_message_id).is_not(None),
                                          Member.telegram_id == user_id, PendingInput.created_at >= since))
            found = {p.id: p for p in [*direct.all(), *relayed.all()]}
            return [found[key] for key in sorted(found, reverse=True)]

    async def attachments(self, chat_id: int, user_id: int) -> PendingInput | None:
        async with self.db.read() as s:
            return (await s.exec(select(PendingInput).where(
                PendingInput.chat_id == chat_id, PendingInput.user_id == user_id, PendingInput.kind == ATTACH))).first()

    async def get(self, prompt_id: int) -> PendingInput | None:
        async with self.db.read() as s:
            return await s.get(PendingInput, prompt_id)

    async def keep(self, prompt_id: int, data: dict) -> None:
        """Keep more with an open question (photos sent before the words of the answer)."""
        async with self.db.session() as s:
            prompt = await s.get(PendingInput, prompt_id)
            if prompt is not None:
                prompt.data = {**prompt.data, **data}
                s.add(prompt)

    async def first_of_album(self, chat_id: int, user_id: int, album: str) -> bool:
        """Whether this is the first photo of the album seen here (its others get no reply of their own)."""
        async with self.db.session() as s:
            row = (await s.exec(select(PendingInput).where(PendingInput.chat_id == chat_id,
                                                           PendingInput.user_id == user_id,
                                                           PendingInput.kind == ALBUM))).first()
            if row is not None and row.data.get("album") == album:
                return False
            if row is not None:
                await s.delete(row)
            s.add(PendingInput(chat_id=chat_id, user_id=user_id, kind=ALBUM, data={"album": album},
                               created_at=self.now()))
            return True

    async def done(self, prompt_id: int) -> None:
        async with self.db.session() as s:
            await s.exec(delete(PendingInput).where(PendingInput.id == prompt_id))
