"""The command center's tools, in its group or a dispatcher's private chat (and a department head's own list):

    /open, /overdue          ─▶ [按部门] [按镇街] [全部] ─▶ units with counts ─▶ a page of tickets ◀ ▶
    /t NUMBER (dispatcher)   ─▶ the ticket, with [无效工单] [并单] [改派] as the rules allow now
    [无效工单] ─▶ reason (reply) ─▶ workflow.command.invalidate     (the reporters are told)
    [并单]     ─▶ the ticket it duplicates (reply) ─▶ workflow.command.merge
    [改派]     ─▶ category ─▶ matter ─▶ reason (reply) ─▶ workflow.routing.reassign
"""

from __future__ import annotations

import functools
import math

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import texts
from bot.lists import ALL, BY_DEPARTMENT, BY_TOWNSHIP, NONE, OPEN, OVERDUE, OpenLists, Row
from bot.outbox import button
from bot.workflow import RULES, NotAllowed, WorkflowError
from handlers import keyboard
from handlers.common import Context, acting_member, answer_with, answers, ask, polite, pressed, services
from storage.models import Member, PendingInput, Role, Ticket

PAGE = 8
TOOLS = ("invalidate", "merge", "reassign")
ASK = {"invalidate": texts.ASK_INVALID_REASON, "merge": texts.ASK_MERGE_TARGET}


def commands(member: Member) -> bool:
    return member.role in (Role.DISPATCHER, Role.ADMIN)


def head_of(member: Member) -> int | None:
    """The department this member heads (its figures and open list are theirs to see)."""
    return member.department_id if member.role == Role.STAFF and member.head else None


def tool_buttons(ticket: Ticket) -> list[list]:
    """The command center's buttons for a ticket, as the rules allow them from its state now."""
    labels = {"invalidate": texts.BTN_INVALID, "merge": texts.BTN_MERGE, "reassign": texts.BTN_REASSIGN}
    row = [button(labels[a], a, ticket.id) for a in TOOLS if ticket.state in RULES[a].sources]
    if ticket.state in RULES["dispatch"].sources:  # waiting for 派单: dispatch it from here, as from its card
        row.insert(0, button(texts.BTN_BROWSE, "browse", ticket.id))
    return [row] if row else []


# -- /open and /overdue ------------------------------------------------------------------------------
@polite
async def open_list(update: Update, context: Context) -> None:
    await _start(update, context, OPEN)


@polite
async def overdue_list(update: Update, context: Context) -> None:
    await _start(update, context, OVERDUE)


async def _start(update: Update, context: Context, kind: str) -> None:
    member = await acting_member(update, context)
    if head_of(member) is not None:
        text, rows = await _page(context, kind, BY_DEPARTMENT, head_of(member), 0, back=False)
    elif commands(member):
        n = len(await _rows(context, kind))
        text = texts.LIST_SUMMARY.format(title=texts.LIST_TITLE[kind], n=n) if n else texts.LIST_EMPTY.format(
            title=texts.LIST_TITLE[kind])
        rows = [[button(texts.LIST_BY[by], "list", 0, kind + by) for by in (BY_DEPARTMENT, BY_TOWNSHIP, ALL)]] if n \
            else []
    else:
        raise NotAllowed(texts.COMMAND_ONLY)
    await update.effective_message.reply_text(text, reply_markup=keyboard.inline(rows))


@polite
async def list_button(update: Update, context: Context) -> None:
    """A grouping (units with counts), or a page of one unit's tickets."""
    query = update.callback_query
    press, _, member = await pressed(update, context)
    arg = press.arg or ""
    if len(arg) < 2 or arg[0] not in (OPEN, OVERDUE) or arg[1] not in (BY_DEPARTMENT, BY_TOWNSHIP, ALL):
        raise WorkflowError(texts.ERR_FORGED)
    kind, by, page = arg[0], arg[1], arg[2:]
    if not commands(member) and not (head_of(member) == press.id and by == BY_DEPARTMENT and page.isdigit()):
        raise NotAllowed(texts.COMMAND_ONLY)
    if page.isdigit():
        text, rows = await _page(context, kind, by, press.id, int(page), back=commands(member))
    elif not page and by != ALL:
        text, rows = await _units(context, kind, by)
    elif not page:
        text, rows = await _page(context, kind, ALL, NONE, 0, back=True)
    else:
        raise WorkflowError(texts.ERR_FORGED)
    await query.answer()
    await query.edit_message_text(text[:4096], reply_markup=keyboard.inline(rows))


async def _rows(context: Context, kind: str, department_id: int | None = None) -> list[Row]:
    svc = services(context)
    return await OpenLists(svc.db).rows(kind, svc.workflow.now(), department_id)


async def _units(context: Context, kind: str, by: str) -> tuple[str, list]:
    units = OpenLists.units(await _rows(context, kind), by)
    empty = texts.LIST_NO_DEPARTMENT if by == BY_DEPARTMENT else texts.NO_GRID
    buttons = [button(texts.LIST_UNIT_BUTTON.format(name=name or empty, n=n), "list", uid, f"{kind}{by}0")
               for uid, name, n in units]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    title = texts.LIST_TITLE[kind]
    return (texts.LIST_UNITS.format(title=title, by=texts.LIST_BY[by]) if units
            else texts.LIST_EMPTY.format(title=title)), rows


async def _page(context: Context, kind: str, by: str, unit: int, page: int, back: bool) -> tuple[str, list]:
    """One page of a unit's tickets (a head's own department has no way back to the others)."""
    svc = services(context)
    now = svc.workflow.now()
    rows = [r for r in await _rows(context, kind) if by == ALL or r.unit(by) == unit]
    title = texts.LIST_TITLE[kind]
    if not rows:
        return texts.LIST_EMPTY.format(title=title), []
    pages = math.ceil(len(rows) / PAGE)
    page = min(max(page, 0), pages - 1)
    first = rows[0]
    name = texts.LIST_ALL if by == ALL else (
        (first.lead if by == BY_DEPARTMENT else first.township) or (NONE, texts.LIST_NO_DEPARTMENT
                                                                  if by == BY_DEPARTMENT else texts.NO_GRID))[1]
    lines = "\n".join(_line(svc, r, now) for r in rows[page * PAGE:(page + 1) * PAGE])
    text = texts.LIST_PAGE.format(title=title, unit=name, page=page + 1, pages=pages, n=len(rows), lines=lines)
    nav = []
    if page > 0:
        nav.append(button(texts.BTN_PREV, "list", unit, f"{kind}{by}{page - 1}"))
    if page + 1 < pages:
        nav.append(button(texts.BTN_NEXT, "list", unit, f"{kind}{by}{page + 1}"))
    if back:
        nav.append(button(texts.BTN_UNITS, "list", 0, f"{kind}{by if by != ALL else BY_DEPARTMENT}"))
    return text, [nav] if nav else []


def _line(svc, row: Row, now) -> str:
    t = row.ticket
    matter = svc.catalogue.matters[t.matter_code].name if t.matter_code in svc.catalogue.matters else \
        texts.UNCLASSIFIED
    waiting = texts.LIST_WAITING.format(stage=texts.STAGE[row.stage], due=texts.local(row.due),
                                        late=texts.LIST_LATE if row.late(now) else "") if row.due else ""
    return texts.LIST_LINE.format(number=t.number, state=texts.STATE[t.state], matter=matter,
                                  lead=row.lead[1] if row.lead else texts.LIST_NO_DEPARTMENT, waiting=waiting)


# -- 无效工单, 并单, 改派 ---------------------------------------------------------------------------------
@polite
async def tool_button(update: Update, context: Context) -> None:
    press, svc, member = await pressed(update, context)
    who = update.effective_user.full_name
    if press.action in ASK:
        ticket = await svc.workflow.may(press.action, press.id, member)
        await ask(update, context, press.action, ASK[press.action].format(who=who, number=ticket.number),
                  ticket.id, placeholder=texts.ACTION[press.action])
        return
    if press.action == "reassign":
        await reassign_picker(update, context, press, member)
        return
    if press.action == "reassign_to" and press.arg in svc.catalogue.matters:
        ticket = await svc.workflow.may("reassign", press.id, member)
        lead = svc.catalogue.departments.get(svc.catalogue.matter(press.arg).lead)
        await ask(update, context, "reassign", texts.ASK_REASSIGN_REASON.format(
            who=who, number=ticket.number, dept=lead.name if lead else texts.TOWNSHIP_LABEL), ticket.id,
            placeholder=texts.ACTION["reassign"], data={"matter": press.arg})
        return
    raise WorkflowError(texts.ERR_FORGED)


async def reassign_picker(update: Update, context: Context, press, member: Member) -> None:
    """Categories, then the matters of one: the new lead is the chosen matter's."""
    from handlers.dispatch import catalogue_rows

    ticket = await services(context).workflow.may("reassign", press.id, member)
    rows = catalogue_rows(services(context).catalogue, ticket.id, press.arg, browse="reassign", pick="reassign_to")
    await update.callback_query.answer()
    await update.callback_query.edit_message_text(
        texts.REASSIGN_PICK.format(number=ticket.number, text=ticket.text)[:4096], reply_markup=keyboard.inline(rows))


@answers("invalidate")
async def answer_invalidate(update: Update, context: Context, pending: PendingInput) -> None:
    await answer_with(update, context, pending, services(context).workflow.command.invalidate)


@answers("merge")
async def answer_merge(update: Update, context: Context, pending: PendingInput) -> None:
    await answer_with(update, context, pending, services(context).workflow.command.merge)


@answers("reassign")
async def answer_reassign(update: Update, context: Context, pending: PendingInput) -> None:
    await answer_with(update, context, pending, functools.partial(services(context).workflow.routing.reassign,
                                                                  matter_code=pending.data.get("matter", "")))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("open", open_list))
    app.add_handler(CommandHandler("overdue", overdue_list))
    app.add_handler(CallbackQueryHandler(list_button, pattern=keyboard.pattern("list")))
    app.add_handler(CallbackQueryHandler(tool_button, pattern=keyboard.pattern(
        "invalidate", "merge", "reassign", "reassign_to")))
