"""Cards: the live messages about a ticket in department and command-center chats.

A card is posted once (`post`) and then kept current (`refresh`, after every change): each card is rendered
again from the ticket's present state and edited when its text or buttons differ, so nobody ever presses a
button that is no longer allowed. Kinds, by key:

    assignment:<id>   a department's card for its share (主办 or 协办); buttons derived from the rules table
    dispatch:<n>      the command center's 待分派 card (the n-th time the ticket waits for a dispatcher)
    extension:<id>    a 延期 request waiting for the command center's decision

Cards never carry the resident's name or phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import geo, queries, texts
from bot.outbox import Button, button, owe
from bot.workflow.rules import AWAITING_DISPATCH, card_actions
from nlp.catalogue import Catalogue
from storage.models import Assignment, AssignmentRole, AssignmentState, Card, Department, Event, Extension, Ticket
from storage.models import TicketState as S

MAX_SUGGESTIONS = 6
DONE_STATES = frozenset({S.RESOLVED, S.RATED, S.CLOSED})
ENDED = frozenset({S.INVALID, S.MERGED})  # ended by the command center


@dataclass
class _Shared:
    """What every card of a ticket shows alike, read once per rendering pass."""

    lead: str
    cooperate: list[str]
    grid: str  # its name, and how it was found
    photos: int  # the request's photos
    recording: str | None  # a voice note or video the request came as
    result_photos: int  # 处置后照片

    @property
    def evidence(self) -> str:
        """The lines saying what came before the card (photos, a recording)."""
        line = texts.CARD_PHOTOS.format(n=self.photos) if self.photos else ""
        if self.recording:
            line += texts.CARD_RECORDING.format(what=texts.RECORDING[self.recording])
        return line


class CardBoard:
    """Posting cards about a subject and keeping them current; subclasses say how a subject's cards look."""

    subject_kind = ""

    async def shared(self, s: AsyncSession, subject) -> object:
        """What all of a subject's cards show alike, read once per rendering pass."""
        return None

    async def render(self, s: AsyncSession, subject, card: Card, shared) -> tuple[str, list[list[Button]]]:
        raise NotImplementedError

    def _owed(self, subject) -> dict:
        return {"ticket_id": subject.id} if self.subject_kind == "ticket" else {}

    async def post(self, s: AsyncSession, subject, key: str, recipient: str, now: datetime, *,
                   data: dict | None = None, media: dict | None = None) -> Card:
        """A new card (with the request's photos and place before it, when given)."""
        card = Card(subject_kind=self.subject_kind, subject_id=subject.id, key=key, recipient=recipient,
                    data=data or {}, created_at=now, updated_at=now)
        s.add(card)
        await s.flush()
        card.text, card.buttons = await self.render(s, subject, card, await self.shared(s, subject))
        owe(s, recipient, card.text, now, kind="card", buttons=card.buttons, media=media, card_id=card.id,
            **self._owed(subject))
        return card

    async def refresh(self, s: AsyncSession, subject, now: datetime, skip: frozenset[int] = frozenset()) -> None:
        """Render every card of the subject again (except those in `skip`, just posted); edit those whose text
        or buttons changed."""
        await s.flush()
        cards = (await s.exec(select(Card).where(Card.subject_kind == self.subject_kind,
                                                 Card.subject_id == subject.id).order_by(col(Card.id)))).all()
        shared = await self.shared(s, subject)
        for card in cards:
            if card.id in skip:
                continue
            text, buttons = await self.render(s, subject, card, shared)
            if text == card.text and buttons == card.buttons:
                continue
            card.text, card.buttons, card.updated_at = text, buttons, now
            s.add(card)
            owe(s, card.recipient, text, now, kind="card_edit", buttons=buttons, card_id=card.id,
                **self._owed(subject))


def arrival_distance(ticket: Ticket, assignment: Assignment) -> float | None:
    """Metres from the reported place to where the department reported arrival (None: either is unknown)."""
    if None in (ticket.latitude, ticket.longitude, assignment.arrival_latitude, assignment.arrival_longitude):
        return None
    return geo.distance_m(ticket.latitude, ticket.longitude, assignment.arrival_latitude, assignment.arrival_longitude)


class Cards(CardBoard):
    """A ticket's cards."""

    subject_kind = "ticket"

    def __init__(self, catalogue: Catalogue, radius_m: float = 500.0) -> None:
        self.catalogue = catalogue
        self.radius_m = radius_m  # 报到 farther than this from the reported place is marked

    async def render(self, s: AsyncSession, ticket: Ticket, card: Card,
                     shared: _Shared) -> tuple[str, list[list[Button]]]:
        kind, _, ident = card.key.partition(":")
        if kind == "assignment":
            return await self._department(s, ticket, await s.get(Assignment, int(ident)), card.data, shared)
        if kind == "dispatch":
            return await self._dispatch(s, ticket, card, shared)
        if kind == "extension":
            return await self._extension(s, ticket, await s.get(Extension, int(ident)))
        raise ValueError(f"unknown card key {card.key!r}")

    # -- a department's card ----------------------------------------------------------------------
    async def shared(self, s: AsyncSession, ticket: Ticket) -> _Shared:
        live = await queries.assignments(s, ticket.id, live=True)
        names = {d.id: d.name for d in (await s.exec(select(Department).where(
            col(Department.id).in_([x.department_id for x in live])))).all()}
        lead = next((names[x.department_id] for x in live if x.role == AssignmentRole.LEAD), "")
        coop = list(dict.fromkeys(names[x.department_id] for x in live if x.role == AssignmentRole.COOPERATE))
        evidence = await queries.attachments(s, ticket.id)
        grid = await queries.grid_name(s, ticket.grid_id)
        if ticket.grid_id is not None and ticket.grid_source in texts.GRID_SOURCE:
            grid += texts.GRID_SOURCE[ticket.grid_source]
        return _Shared(lead, coop, grid, sum(a.kind == "photo" for a in evidence),
                       next((a.kind for a in evidence if a.kind in texts.RECORDING), None),
                       len(await queries.attachments(s, ticket.id, purpose="result")))

    async def _department(self, s: AsyncSession, ticket: Ticket, a: Assignment, data: dict,
                          shared: _Shared) -> tuple[str, list[list[Button]]]:
        matter = self.catalogue.matter(ticket.matter_code)
        lead, coop = shared.lead, shared.cooperate
        if a.state == AssignmentState.WITHDRAWN and ticket.state in ENDED:
            state = texts.CARD_ENDED[ticket.state]
        elif a.state == AssignmentState.WITHDRAWN:
            state = texts.CARD_WITHDRAWN
        else:
            state = texts.STATE[ticket.state]
        extra = ""
        if a.role == AssignmentRole.COOPERATE:
            extra += texts.CARD_ROLE_COOP
        extra += shared.evidence
        if ticket.latitude is not None:
            extra += texts.CARD_LOCATION.format(lat=ticket.latitude, lon=ticket.longitude)
        if data.get("note") and a.state != AssignmentState.WITHDRAWN and ticket.state not in DONE_STATES:
            extra += texts.CARD_NOTE.format(label=data.get("label", ""), note=data["note"])
        if a.state != AssignmentState.WITHDRAWN:  # what the reporter told the dispatcher belongs to the matter
            extra += await self._conversation(s, ticket)
        if a.arrived_at:
            extra += texts.CARD_ARRIVED.format(at=texts.local(a.arrived_at))
            far = arrival_distance(ticket, a)
            if far is not None:
                extra += texts.CARD_ARRIVED_DISTANCE.format(m=round(far), mark=texts.ARRIVAL_OUTSIDE.format(
                    r=round(self.radius_m)) if far > self.radius_m else texts.ARRIVAL_INSIDE)
        if ticket.result and a.state != AssignmentState.WITHDRAWN:
            extra += texts.CARD_RESULT.format(result=ticket.result)
            if shared.result_photos:
                extra += texts.CARD_RESULT_PHOTOS.format(n=shared.result_photos)
        text = texts.CARD.format(
            urgent=texts.CARD_URGENT if ticket.emergency else "", number=ticket.number, state=state,
            matter=f"{matter.name}（{matter.code}）", lead=lead,
            cooperate=texts.CARD_COOP_LINE.format(names="、".join(coop)) if coop else "",
            grid=shared.grid, text=ticket.text, extra=extra, limits=self._limits(ticket, a))
        if a.state == AssignmentState.WITHDRAWN:
            return text, []
        needs_arrival = a.arrive_due is not None and a.arrived_at is None
        actions = card_actions(ticket.state, a.role == AssignmentRole.LEAD, a.state, needs_arrival)
        labels = texts.CARD_BUTTON if a.role == AssignmentRole.LEAD else texts.CARD_BUTTON | texts.CARD_BUTTON_COOP
        row = [button(labels[action], action, ticket.id) for action in actions]
        return text, [row] if row else []

    @staticmethod
    def _limits(ticket: Ticket, a: Assignment) -> str:
        if ticket.resolved_at and ticket.state in DONE_STATES:
            return texts.LIMIT_DONE.format(at=texts.local(ticket.resolved_at))
        if a.state == AssignmentState.WITHDRAWN:
            return texts.NOTHING
        parts = []
        if a.state == AssignmentState.PENDING and a.accept_due and a.role == AssignmentRole.LEAD:
            parts.append(texts.LIMIT_ACCEPT.format(due=texts.local(a.accept_due)))
        if a.arrive_due and not a.arrived_at:
            parts.append(texts.LIMIT_ARRIVE.format(due=texts.local(a.arrive_due)))
        if a.resolve_due:
            parts.append(texts.LIMIT_RESOLVE.format(due=texts.local(a.resolve_due)))
        return "；".join(parts)

    # -- the command center's 待分派 card ------------------------------------------------------------
    async def _dispatch(self, s: AsyncSession, ticket: Ticket, card: Card,
                        shared: _Shared) -> tuple[str, list[list[Button]]]:
        newest = (await s.exec(select(Card.id).where(Card.subject_kind == "ticket", Card.subject_id == ticket.id,
                                                     col(Card.key).startswith("dispatch:"))
                               .order_by(col(Card.id).desc()))).first()
        live = newest == card.id and ticket.state in AWAITING_DISPATCH
        returned = card.data.get("returned")  # the matter a department just returned: not suggested again
        codes = [c for c in dict.fromkeys([*([ticket.matter_code] if not returned else []), *ticket.candidates])
                 if c in self.catalogue.matters and c != returned]
        suggestion = "、".join(self.catalogue.matter(c).name for c in codes[:3]) or texts.NOTHING
        talk = await self._conversation(s, ticket, card.data.get("after", 0))
        text = texts.DISPATCH_CARD.format(
            urgent=texts.CARD_URGENT if ticket.emergency else "", number=ticket.number, text=ticket.text,
            grid=shared.grid, evidence=shared.evidence, reason=card.data.get("reason", ""), suggestion=suggestion,
            talk=talk)
        if not live:
            return text + "\n" + await self._dispatch_outcome(s, ticket, card), []
        rows: list[list[Button]] = []
        if ticket.state == S.RETURNED:
            rows.append([button(texts.BTN_UPHOLD, "uphold", ticket.id)])
        rows += [[button(self.catalogue.matter(c).name, "dispatch", ticket.id, c)] for c in codes[:MAX_SUGGESTIONS]]
        rows.append([button(texts.BTN_BROWSE, "browse", ticket.id)])
        rows.append([button(texts.BTN_INVALID, "invalidate", ticket.id), button(texts.BTN_MERGE, "merge", ticket.id)])
        return text + texts.DISPATCH_PROMPT, rows

    async def _conversation(self, s: AsyncSession, ticket: Ticket, after: int = 0) -> str:
        """The dispatcher's questions to the reporter and the answers (since event ``after``: a card's own)."""
        rows = (await s.exec(select(Event).where(Event.ticket_id == ticket.id, Event.id > after,
                                                 col(Event.kind).in_(["asked_reporter", "reporter_answered"]))
                             .order_by(col(Event.id)))).all()
        label = {"asked_reporter": texts.TALK_ASKED, "reporter_answered": texts.TALK_ANSWERED}
        return "".join(label[e.kind].format(text=e.note) for e in rows)

    async def _dispatch_outcome(self, s: AsyncSession, ticket: Ticket, card: Card) -> str:
        event = (await s.exec(select(Event).where(
            Event.ticket_id == ticket.id, Event.id > card.data.get("after", 0),
            col(Event.kind).in_(["dispatched", "rerouted", "upheld", "invalidated", "merged"]))
            .order_by(col(Event.id)))).first()
        if event is None:
            return texts.DISPATCH_CLOSED
        if event.kind in ("invalidated", "merged"):
            return texts.DISPATCH_ENDED[event.kind].format(note=event.note or "")
        dept = await s.get(Department, event.department_id) if event.department_id else None
        matter = self.catalogue.matters.get(event.data.get("matter") or "")
        template = texts.DISPATCH_UPHELD if event.kind == "upheld" else texts.DISPATCH_DONE
        return template.format(matter=matter.name if matter else "", lead=dept.name if dept else "")

    # -- a 延期 request -------------------------------------------------------------------------------
    async def _extension(self, s: AsyncSession, ticket: Ticket, ext: Extension) -> tuple[str, list[list[Button]]]:
        assignment = await s.get(Assignment, ext.assignment_id)
        dept = await s.get(Department, assignment.department_id)
        text = texts.EXTENSION_CARD.format(
            number=ticket.number, matter=self.catalogue.matter(ticket.matter_code).name, dept=dept.name,
            old=texts.local(ext.old_due), new=texts.local(ext.new_due), reason=ext.reason)
        if ext.state == "pending" and ticket.state == S.ACCEPTED:
            return text, [[button(texts.BTN_APPROVE, "approve_extension", ticket.id, str(ext.id)),
                           button(texts.BTN_REFUSE, "refuse_extension", ticket.id, str(ext.id))]]
        outcome = {"approved": texts.EXTENSION_APPROVED, "refused": texts.EXTENSION_REFUSED}.get(
            ext.state, texts.EXTENSION_MOOT)
        return text + "\n" + texts.EXTENSION_OUTCOME.format(decision=outcome), []
