"""一端受理: a resident's words become a draft (what the bot understood), then a ticket on 提交.

The draft is stored, so a restart between "here is what I understood" and the resident's button press
loses nothing. Duplicates of an open ticket in the same grid are offered to be joined (附议).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import col, select

from bot import queries, requests, texts
from bot.workflow import OPEN_STATES, NotFound, Workflow, WorkflowError
from nlp.catalogue import Catalogue
from nlp.classifier import Classifier
from nlp.similarity import similarity
from storage.db import Database
from storage.models import Attachment, Department, Draft, Grid, Member, Ticket

MIN_LENGTH = 4
MAX_LENGTH = 1500
DUPLICATE_SIMILARITY = 0.45


def masked(phone: str | None) -> str:
    """139****5678: enough for a grid worker to recognise, never the whole number in a chat."""
    phone = phone or ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def validate_text(text: str | None) -> str:
    """The request text, stripped; WorkflowError with a polite reply if it can't be a request."""
    text = (text or "").strip()
    if not text:
        raise WorkflowError(texts.EMPTY_TEXT)
    if len(text) < MIN_LENGTH:
        raise WorkflowError(texts.TOO_SHORT)
    if len(text) > MAX_LENGTH:
        raise WorkflowError(texts.TOO_LONG.format(length=len(text), limit=MAX_LENGTH))
    return text


@dataclass
class DraftView:
    draft: Draft
    confident: bool
    duplicates: list[Ticket] = field(default_factory=list)
    township: str | None = None  # the resident's own township: who 属地 is for them
    alerted: bool = False  # an emergency: the command center was told the moment the message arrived
    on_behalf_of: str | None = None  # 代办: the resident, as the grid worker may see them (phone masked)
    emergency_kind: str | None = None  # which danger (nlp.emergency.HOTLINES)


class Intake:
    def __init__(self, db: Database, workflow: Workflow, classifier: Classifier, catalogue: Catalogue,
                 threshold: float, duplicate_window: timedelta) -> None:
        self.db = db
        self.workflow = workflow
        self.classifier = classifier
        self.catalogue = catalogue
        self.threshold = threshold
        self.duplicate_window = duplicate_window

    async def draft(self, member: Member, text: str, *, photos: list[str] | None = None,
                    latitude: float | None = None, longitude: float | None = None,
                    on_behalf_of: Member | None = None) -> DraftView:
        """What the bot understood of a request, kept until the resident confirms it. A danger right now is
        reported to the command center at once, before anything is confirmed."""
        text = validate_text(text)
        request = requests.current()
        if request is not None:
            again = await self._drafted(member, request)
            if again is not None:
                return again  # the same message handled again: the same draft, shown again
        result = self.classifier.classify(text)
        top = result.top
        confident = result.confident(self.threshold)
        now = self.workflow.now()
        confidence = result.lead_confidence if result.lead_confidence is not None else top.confidence if top else None
        draft = Draft(member_id=member.id, text=text, latitude=latitude, longitude=longitude,
                      matter_code=top.code if confident else None, confidence=confidence,
                      emergency=result.emergency, candidates=[c.code for c in result.candidates], created_at=now,
                      request_id=request, kind="proxy" if on_behalf_of else "request",
                      on_behalf_of=on_behalf_of.id if on_behalf_of else None)
        async with self.db.session() as s:
            s.add(draft)
            await s.flush()
            s.add_all(Attachment(draft_id=draft.id, kind="photo", file_id=f, created_at=now) for f in photos or ())
        alerted = False
        if result.emergency:
            alerted = await self.workflow.routing.alert_emergency(text, await self.grid_label(member),
                                                                  result.emergency_kind)
        duplicates = await self.duplicates(member, draft) if confident else []
        return DraftView(draft, confident, duplicates, await self.township_of(member), alerted,
                         on_behalf_of=masked(on_behalf_of.phone) if on_behalf_of else None,
                         emergency_kind=result.emergency_kind)

    async def _drafted(self, member: Member, request: str) -> DraftView | None:
        async with self.db.read() as s:
            draft = (await s.exec(select(Draft).where(Draft.member_id == member.id,
                                                      Draft.request_id == request))).first()
        if draft is None:
            return None
        confident = draft.matter_code is not None
        duplicates = await self.duplicates(member, draft) if confident and draft.status == "open" else []
        return DraftView(draft, confident, duplicates, await self.township_of(member))

    async def grid_label(self, member: Member) -> str:
        async with self.db.read() as s:
            return await queries.grid_name(s, member.grid_id)

    async def township_of(self, member: Member) -> str | None:
        if member.grid_id is None:
            return None
        async with self.db.read() as s:
            row = (await s.exec(select(Department.name).join(Grid, Grid.township_id == Department.id)
                                .where(Grid.id == member.grid_id))).first()
        return row

    async def duplicates(self, member: Member, draft: Draft) -> list[Ticket]:
        """Open tickets of the same matter in the same grid, recent, with similar text."""
        if member.grid_id is None or draft.matter_code is None:
            return []
        since = self.workflow.now() - self.duplicate_window
        async with self.db.read() as s:
            rows = (await s.exec(select(Ticket).where(
                Ticket.grid_id == member.grid_id, Ticket.matter_code == draft.matter_code,
                col(Ticket.state).in_(OPEN_STATES), Ticket.created_at >= since,
                Ticket.reporter_id != member.id).order_by(col(Ticket.id).desc()).limit(20))).all()
        scored = sorted(((similarity(draft.text, t.text), t) for t in rows), key=lambda p: -p[0])
        return [t for score, t in scored if score >= DUPLICATE_SIMILARITY][:3]

    async def _open_draft(self, s, draft_id: int, member: Member) -> Draft:
        draft = await s.get(Draft, draft_id)
        if draft is None or draft.member_id != member.id or draft.status != "open":
            raise NotFound(texts.DRAFT_GONE)
        return draft

    async def pick(self, draft_id: int, member: Member, matter_code: str | None) -> DraftView:
        """换一类: the resident chose a matter (or None: let a dispatcher decide)."""
        if matter_code is not None and matter_code not in self.catalogue.matters:
            raise NotFound(texts.ERR_FORGED)
        async with self.db.session() as s:
            draft = await self._open_draft(s, draft_id, member)
            draft.matter_code = matter_code
            draft.confidence = None
            s.add(draft)
        return DraftView(draft, matter_code is not None, township=await self.township_of(member))

    async def get(self, draft_id: int, member: Member) -> Draft:
        async with self.db.read() as s:
            return await self._open_draft(s, draft_id, member)

    async def cancel(self, draft_id: int, member: Member) -> None:
        async with self.db.session() as s:
            draft = await self._open_draft(s, draft_id, member)
            draft.status = "cancelled"
            s.add(draft)

    async def submit(self, draft_id: int, member: Member) -> Ticket:
        """提交: the draft becomes a ticket in the same transaction that closes the draft. Pressed again (a
        double tap, a replayed update after a crash), it shows the ticket the draft already became."""
        async with self.db.session() as s:
            draft = await s.get(Draft, draft_id)
            if draft is not None and draft.member_id == member.id and draft.ticket_id is not None:
                return await s.get(Ticket, draft.ticket_id)
            draft = await self._open_draft(s, draft_id, member)
            photos = (await s.exec(select(Attachment.file_id).where(Attachment.draft_id == draft.id)
                                   .order_by(col(Attachment.id)))).all()
            reporter = await s.get(Member, draft.on_behalf_of) if draft.on_behalf_of else member
            ticket = await self.workflow.routing.submit(
                reporter, draft.text, matter_code=draft.matter_code, confidence=draft.confidence,
                emergency=draft.emergency, photos=list(photos), latitude=draft.latitude,
                longitude=draft.longitude, candidates=draft.candidates, session=s,
                grid_id=member.grid_id if draft.on_behalf_of else None,
                filed_by=member if draft.on_behalf_of else None)
            draft.status = "submitted"
            draft.ticket_id = ticket.id
            s.add(draft)
        self.workflow.routing.committed()
        return ticket

    async def join(self, draft_id: int, member: Member, ticket_id: int) -> Ticket:
        """加入该工单: become a co-reporter of the open duplicate instead of filing a new ticket."""
        async with self.db.session() as s:
            draft = await self._open_draft(s, draft_id, member)
            draft.status = "submitted"
            draft.ticket_id = ticket_id
            s.add(draft)
            ticket = await self.workflow.routing.join(ticket_id, member, session=s)
        self.workflow.routing.committed()
        return ticket
