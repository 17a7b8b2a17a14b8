"""A grid worker's 呼叫 before it is sent: which department (named, as people say it, or found by the catalogue
from the words), how urgent, what evidence — shown back for confirmation (发送呼叫), like a resident's draft."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import col, select

from bot import requests, texts
from bot.calls.parsing import Departments
from bot.directory import Directory
from bot.places import find_grid
from bot.workflow import NotAllowed, NotFound, Workflow, WorkflowError
from nlp.catalogue import TOWNSHIP, Catalogue
from nlp.classifier import Classifier
from storage.db import Database
from storage.models import Attachment, Call, Draft, Member, Role

URGENT_WORDS = ("紧急", "马上", "立即", "赶紧", "速来", "危险")


@dataclass
class CallDraftView:
    draft: Draft
    needs_department: bool  # the department is not known yet: the grid worker picks
    choices: list[str] = field(default_factory=list)  # department codes to offer
    unknown_name: str | None = None


class CallIntake:
    def __init__(self, db: Database, workflow: Workflow, classifier: Classifier, catalogue: Catalogue,
                 threshold: float, directory: Directory | None = None) -> None:
        self.db, self.workflow, self.classifier, self.catalogue = db, workflow, classifier, catalogue
        self.threshold = threshold
        self.departments = Departments(catalogue)
        self.directory = directory

    async def draft(self, member: Member, message: str, *, photos: list[str] | None = None,
                    latitude: float | None = None, longitude: float | None = None) -> CallDraftView:
        """呼叫城管 人民路… → a call draft for 综合行政执法局; 呼叫 河道里… → the catalogue decides the department."""
        if member.role != Role.GRID_WORKER:
            raise NotAllowed(texts.CALL_ONLY_GRID_WORKERS)
        words = self.departments.parse(message)
        if not words.text.strip():
            raise WorkflowError(texts.CALL_USAGE)
        result = self.classifier.classify(words.text)
        matter = result.top.code if result.confident(self.threshold) and result.top else None
        department = words.department or (self.catalogue.matter(matter).lead if matter else None)
        urgent = result.emergency or any(w in words.text for w in URGENT_WORDS)
        if latitude is None and self.directory is not None:  # no location shared: the named place's point, if
            grid_map = await self.directory.grid_map()  # the gazetteer has one (报到 is measured against it)
            latitude, longitude = find_grid(grid_map, member, words.text, None, None, None).point or (None, None)
        now = self.workflow.now()
        draft = Draft(member_id=member.id, text=words.text.strip(), kind="call", department_code=department,
                      matter_code=matter, urgency="urgent" if urgent else "normal", latitude=latitude,
                      longitude=longitude, candidates=[c.code for c in result.candidates], emergency=result.emergency,
                      created_at=now, request_id=requests.current())
        async with self.db.session() as s:
            s.add(draft)
            await s.flush()
            s.add_all(Attachment(draft_id=draft.id, kind="photo", file_id=f, created_at=now) for f in photos or ())
        if words.unknown_name:
            return CallDraftView(draft, True, self.departments.closest(words.unknown_name), words.unknown_name)
        if department is None:
            return CallDraftView(draft, True, self.choices(draft))
        return CallDraftView(draft, False)

    def choices(self, draft: Draft) -> list[str]:
        """Departments to offer: the leads and cooperators of the catalogue's candidates, then the township."""
        codes: list[str] = []
        for code in draft.candidates:
            matter = self.catalogue.matters.get(code)
            if matter:
                codes += [matter.lead, *matter.cooperate]
        codes.append(TOWNSHIP)
        return [c for c in dict.fromkeys(codes) if c == TOWNSHIP or c in self.catalogue.departments][:6]

    async def _open(self, s, draft_id: int, member: Member) -> Draft:
        draft = await s.get(Draft, draft_id)
        if draft is None or draft.member_id != member.id or draft.status != "open" or draft.kind != "call":
            raise NotFound(texts.DRAFT_GONE)
        return draft

    async def choose(self, draft_id: int, member: Member, *, department: str | None = None,
                     urgency: str | None = None) -> CallDraftView:
        """换部门 / 改为紧急 on the draft."""
        if department is not None and department != TOWNSHIP and department not in self.catalogue.departments:
            raise NotFound(texts.ERR_FORGED)
        if urgency is not None and urgency not in texts.URGENCY:
            raise NotFound(texts.ERR_FORGED)
        async with self.db.session() as s:
            draft = await self._open(s, draft_id, member)
            draft.department_code = department or draft.department_code
            draft.urgency = urgency or draft.urgency
            s.add(draft)
        return CallDraftView(draft, draft.department_code is None, self.choices(draft))

    async def send(self, draft_id: int, member: Member) -> Call:
        """发送呼叫: the draft becomes a call in the same transaction; pressed again, it shows that call."""
        async with self.db.session() as s:
            draft = await s.get(Draft, draft_id)
            if draft is not None and draft.member_id == member.id and draft.call_id is not None:
                return await s.get(Call, draft.call_id)
            draft = await self._open(s, draft_id, member)
            if draft.department_code is None:
                raise WorkflowError(texts.CALL_PICK_DEPARTMENT.format(text=draft.text))
            photos = (await s.exec(select(Attachment.file_id).where(Attachment.draft_id == draft.id)
                                   .order_by(col(Attachment.id)))).all()
            call = await self.workflow.calls.make(
                member, draft.department_code, draft.text, urgency=draft.urgency or "normal",
                matter_code=draft.matter_code, photos=list(photos), latitude=draft.latitude,
                longitude=draft.longitude, session=s)
            draft.status, draft.call_id = "submitted", call.id
            s.add(draft)
        self.workflow.calls.committed()
        return call
