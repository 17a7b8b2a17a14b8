"""一端受理: a resident's words become a draft (what the bot understood), then a ticket on 提交.

The draft is stored, so a restart between "here is what I understood" and the resident's button press
loses nothing. Duplicates of an open ticket in the same grid are offered to be joined (附议).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import col, select

from bot import requests, texts
from bot.directory import Directory
from bot.places import CHOSEN, LOCATION, NEAR, find_grid
from bot.workflow import OPEN_STATES, NotFound, Workflow, WorkflowError
from bot.workflow.base import WORD_CHARS
from nlp.catalogue import Catalogue
from nlp.classifier import Classifier
from nlp.similarity import similarity
from storage.db import Database
from storage.models import Attachment, Department, Draft, Grid, Member, Ticket

MIN_LENGTH = 4
MAX_LENGTH = 1500
MIN_DISTINCT = 3  # different letters or characters: "啊啊啊啊啊" says nothing
_TAIL = r"(?:你们|您|了|啦|啊|呀|哈|吗)*[\W_]*$"
_GREETING = re.compile(r"^(?:你好|您好|在吗|在不在|hello|hi)" + _TAIL, re.IGNORECASE)
_THANKS = re.compile(r"^(?:谢谢|感谢|多谢|好的|收到|辛苦了?|知道了|明白了?|嗯+|哦+|ok|okay)" + _TAIL, re.IGNORECASE)
DUPLICATE_SIMILARITY = 0.45


def masked(phone: str | None) -> str:
    """139****5678: enough for a grid worker to recognise, never the whole number in a chat."""
    phone = phone or ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def validate_text(text: str | None) -> str:
    """The request text, stripped; WorkflowError with a polite reply if it can't be a request (a greeting or a
    thank-you is answered as one, not made a draft)."""
    text = (text or "").strip()
    if not text:
        raise WorkflowError(texts.EMPTY_TEXT)
    if _GREETING.match(text):
        raise WorkflowError(texts.GREETING_REPLY)
    if _THANKS.match(text):
        raise WorkflowError(texts.THANKS_REPLY)
    if len(text) < MIN_LENGTH:
        raise WorkflowError(texts.TOO_SHORT)
    if len(text) > MAX_LENGTH:
        raise WorkflowError(texts.TOO_LONG.format(length=len(text), limit=MAX_LENGTH))
    if len(set(WORD_CHARS.findall(text))) < MIN_DISTINCT:
        raise WorkflowError(texts.NOT_UNDERSTOOD)
    return text


@dataclass
class GridFound:
    grid_id: int | None
    source: str | None
    choices: list[int]
    off_map: bool
    place: str | None = None
    point: tuple[float, float] | None = None


@dataclass
class DraftView:
    draft: Draft
    confident: bool
    duplicates: list[Ticket] = field(default_factory=list)
    township: str | None = None  # the township of the request's grid: who 属地 is
    alerted: bool = False  # an emergency: the command center was told the moment the message arrived
    on_behalf_of: str | None = None  # 代办: the resident, as the grid worker may see them (phone masked)
    place_choices: list[int] = field(default_factory=list)  # grids sharing the place named: ask which
    ask_place: bool = False  # nobody knows where: ask once (share a location, or pick the community)
    off_map: bool = False  # the location shared is in no grid of the county
    emergency_kind: str | None = None  # which danger (nlp.emergency.HOTLINES)
    grid: str | None = None  # the grid found (its label), when one was
    place: str | None = None  # the place name several grids share


class Intake:
    def __init__(self, db: Database, workflow: Workflow, classifier: Classifier, catalogue: Catalogue,
                 threshold: float, duplicate_window: timedelta, directory: Directory) -> None:
        self.directory = directory
        self.db = db
        self.workflow = workflow
        self.classifier = classifier
        self.catalogue = catalogue
        self.threshold = threshold
        self.duplicate_window = duplicate_window

    async def draft(self, member: Member, text: str, *, photos: list[str] | None = None,
                    latitude: float | None = None, longitude: float | None = None,
                    on_behalf_of: Member | None = None, media_group_id: str | None = None) -> DraftView:
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
                      on_behalf_of=on_behalf_of.id if on_behalf_of else None, media_group_id=media_group_id)
        found = await self.place(member, text, latitude, longitude)
        draft.grid_id, draft.grid_source = found.grid_id, found.source
        if draft.latitude is None and found.point is not None:  # the named place's point: staff can navigate
            draft.latitude, draft.longitude = found.point
        async with self.db.session() as s:
            s.add(draft)
            await s.flush()
            s.add_all(Attachment(draft_id=draft.id, kind="photo", file_id=f, created_at=now) for f in photos or ())
        alerted = False
        if result.emergency:
            alerted = await self.workflow.routing.alert_emergency(text, await self.directory.grid_label(draft.grid_id),
                                                                  result.emergency_kind, draft.grid_id, member.id)
        duplicates = await self.duplicates(member, draft) if confident else []
        return DraftView(draft, confident, duplicates, await self.township_of(draft.grid_id), alerted,
                         on_behalf_of=masked(on_behalf_of.phone) if on_behalf_of else None,
                         emergency_kind=result.emergency_kind, place_choices=found.choices,
                         ask_place=found.grid_id is None and not found.choices, off_map=found.off_map,
                         grid=await self.directory.grid_label(draft.grid_id) if draft.grid_id else None,
                         place=found.place)

    async def place(self, member: Member, text: str, latitude: float | None, longitude: float | None) -> GridFound:
        """Where the request is: its grid and how that was found (bot/places.py)."""
        grids = await self.directory.grids_by_code()
        home = next((code for code, grid in grids.items() if grid.id == member.grid_id), None)
        found = find_grid(await self.directory.grid_map(), member, text, latitude, longitude, home)
        return GridFound(grids[found.grid_code].id if found.grid_code in grids else None, found.source,
                         [grids[c].id for c in found.choices if c in grids], found.off_map, found.place,
                         found.point)

    async def add_to_album(self, member: Member, media_group_id: str, file_id: str) -> bool:
        """A further photo of an album whose caption became a draft: it joins that draft's evidence."""
        async with self.db.session() as s:
            draft = (await s.exec(select(Draft).where(Draft.member_id == member.id,
                                                      Draft.media_group_id == media_group_id))).first()
            if draft is None or draft.status == "cancelled":
                return draft is not None
            owner = Attachment.draft_id == draft.id if draft.ticket_id is None else Attachment.ticket_id == draft.ticket_id
            known = (await s.exec(select(Attachment.id).where(owner, Attachment.file_id == file_id))).first()
            if known is None:  # the same update handled again adds nothing; submitted already: the ticket's
                s.add(Attachment(draft_id=draft.id if draft.ticket_id is None else None, ticket_id=draft.ticket_id,
                                 kind="photo", file_id=file_id, created_at=self.workflow.now()))
            return True

    async def locate_draft(self, member: Member, latitude: float, longitude: float,
                           within: timedelta = timedelta(hours=1)) -> tuple[Draft | None, GridFound]:
        """A location shared after the draft was shown: the place of that draft (if recent and still open), its
        grid found again. A location in no grid changes nothing."""
        async with self.db.session() as s:
            draft = (await s.exec(select(Draft).where(
                Draft.member_id == member.id, Draft.status == "open", col(Draft.kind).in_(["request", "proxy"]),
                Draft.created_at >= self.workflow.now() - within).order_by(col(Draft.id).desc()))).first()
            found = await self.place(member, draft.text if draft else "", latitude, longitude)
            if draft is None or found.off_map:
                return None, found
            draft.latitude, draft.longitude = latitude, longitude
            if found.source in (LOCATION, NEAR):
                draft.grid_id, draft.grid_source = found.grid_id, found.source
            s.add(draft)
            return draft, found

    async def choose_grid(self, draft_id: int, member: Member, grid_id: int) -> Draft:
        """The resident picked the community when asked."""
        async with self.db.session() as s:
            draft = await self._open_draft(s, draft_id, member)
            code = next((c for c, g in (await self.directory.grids_by_code()).items() if g.id == grid_id), None)
            if code is None:
                raise NotFound(texts.ERR_FORGED)
            draft.grid_id, draft.grid_source = grid_id, CHOSEN
            if draft.latitude is None:  # the place named, as it is in the grid chosen, may have a point
                grid_map = await self.directory.grid_map()
                point = next((p for name, codes in grid_map.places_in(draft.text) if code in codes
                              if (p := grid_map.point(name, code)) is not None), None)
                if point is not None:
                    draft.latitude, draft.longitude = point
            s.add(draft)
            return draft

    async def voice(self, member: Member, kind: str, file_id: str, duration: int | None,
                    size: int | None) -> Ticket:
        """A voice note (or a video): no speech recognition offline, so it becomes a ticket for the dispatcher
        to hear and route, with the recording attached."""
        request = requests.current()
        async with self.db.session() as s:
            if request is not None:
                replayed = (await s.exec(select(Draft).where(Draft.member_id == member.id,
                                                             Draft.request_id == request))).first()
                if replayed is not None and replayed.ticket_id is not None:
                    return await s.get(Ticket, replayed.ticket_id)
            text = (texts.VOICE_TEXT if kind == "voice" else texts.VIDEO_TEXT).format(seconds=duration or "?")
            found = await self.place(member, "", None, None)
            ticket = await self.workflow.routing.submit(
                member, text, matter_code=None, media=[(kind, file_id, duration, size)], session=s,
                grid_id=found.grid_id, grid_source=found.source)
            s.add(Draft(member_id=member.id, text=text, kind=kind, status="submitted", ticket_id=ticket.id,
                        request_id=request, created_at=self.workflow.now()))
        self.workflow.routing.committed()
        return ticket

    async def _drafted(self, member: Member, request: str) -> DraftView | None:
        async with self.db.read() as s:
            draft = (await s.exec(select(Draft).where(Draft.member_id == member.id,
                                                      Draft.request_id == request))).first()
        if draft is None:
            return None
        confident = draft.matter_code is not None
        duplicates = await self.duplicates(member, draft) if confident and draft.status == "open" else []
        return DraftView(draft, confident, duplicates, await self.township_of(draft.grid_id),
                         grid=await self.directory.grid_label(draft.grid_id) if draft.grid_id else None)

    async def township_of(self, grid_id: int | None) -> str | None:
        """The township of a grid: the 属地 that cooperates."""
        if grid_id is None:
            return None
        async with self.db.read() as s:
            return (await s.exec(select(Department.name).join(Grid, Grid.township_id == Department.id)
                                 .where(Grid.id == grid_id))).first()

    async def duplicates(self, member: Member, draft: Draft) -> list[Ticket]:
        """Open tickets of the same matter in the same grid, recent, with similar text."""
        grid_id = draft.grid_id if draft.grid_id is not None else member.grid_id
        if grid_id is None or draft.matter_code is None:
            return []
        since = self.workflow.now() - self.duplicate_window
        async with self.db.read() as s:
            rows = (await s.exec(select(Ticket).where(
                Ticket.grid_id == grid_id, Ticket.matter_code == draft.matter_code,
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
        return DraftView(draft, matter_code is not None, township=await self.township_of(draft.grid_id),
                         grid=await self.directory.grid_label(draft.grid_id) if draft.grid_id else None)

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
                grid_id=draft.grid_id, grid_source=draft.grid_source,
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
