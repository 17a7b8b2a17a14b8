"""Where a resident's request is, when the bot could not tell (bot/places.py): asked once, right after the
draft, never instead of it.

    a place name several grids share ─▶ [grid] [grid] …                    ─▶ intake.choose_grid
    no place at all                  ─▶ share a location, or [township] …  ─▶ [grid] … (paged) ─▶ choose_grid
    a location shared later          ─▶ the open draft's place (handlers/media.py)

Unanswered, the request is filed anyway (网格：未指定) and the dispatcher sees that.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot import texts
from bot.intake import DraftView
from bot.outbox import button
from bot.workflow import WorkflowError
from handlers import keyboard
from handlers.common import Context, polite, pressed, services

PAGE = 8  # grids per page of the picker


async def ask_place(update: Update, context: Context, view: DraftView) -> None:
    """After the draft: which of the grids sharing the name, or where (townships)."""
    d = view.draft
    if view.place_choices:
        names = {g.id: g.name for g, _ in await services(context).directory.grids()}
        rows = [[button(names.get(g, str(g)), "grid", d.id, str(g))] for g in view.place_choices]
        await update.effective_message.reply_text(texts.PLACE_WHICH.format(place=view.place),
                                                  reply_markup=keyboard.inline(rows))
    elif view.ask_place:
        text, rows = await _townships(context, d.id)
        if rows:
            prefix = texts.LOCATION_OFF_MAP + "\n\n" if view.off_map else ""
            await update.effective_message.reply_text(prefix + text, reply_markup=keyboard.inline(rows))


async def _townships(context: Context, draft_id: int) -> tuple[str, list]:
    townships: dict[int, str] = {}
    for _, township in await services(context).directory.grids():
        townships.setdefault(township.id, township.name)
    names = sorted(townships.items(), key=lambda item: item[1])
    buttons = [button(name, "township", draft_id, f"{tid}-0") for tid, name in names]
    return texts.PLACE_ASK, [buttons[i:i + 2] for i in range(0, len(buttons), 2)]


@polite
async def place_button(update: Update, context: Context) -> None:
    """A township (its grids, a page at a time), back to the townships, or the grid itself."""
    query = update.callback_query
    press, svc, member = await pressed(update, context)
    if press.action == "grid" and press.arg and press.arg.isdigit():
        draft = await svc.intake.choose_grid(press.id, member, int(press.arg))
        await query.answer()
        await query.edit_message_text(texts.PLACE_CHOSEN.format(grid=await svc.directory.grid_label(draft.grid_id)))
        return
    await svc.intake.get(press.id, member)  # the draft must still be open
    if press.action == "places":
        text, rows = await _townships(context, press.id)
    elif press.action == "township" and press.arg and "-" in press.arg:
        township, _, page = press.arg.partition("-")
        if not (township.isdigit() and page.isdigit()):
            raise WorkflowError(texts.ERR_FORGED)
        grids = [(g, t) for g, t in await svc.directory.grids() if t.id == int(township)]
        if not grids:
            raise WorkflowError(texts.ERR_FORGED)
        start = int(page) * PAGE
        rows = [[button(g.name, "grid", press.id, str(g.id))] for g, _ in grids[start:start + PAGE]]
        more = [button(texts.BTN_TOWNSHIPS, "places", press.id)]
        if start + PAGE < len(grids):
            more.append(button(texts.BTN_MORE_GRIDS, "township", press.id, f"{township}-{int(page) + 1}"))
        rows.append(more)
        text = texts.PLACE_PICK_GRID.format(township=grids[0][1].name)
    else:
        raise WorkflowError(texts.ERR_FORGED)
    await query.answer()
    await query.edit_message_text(text, reply_markup=keyboard.inline(rows))


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(place_button, pattern=keyboard.pattern("grid", "township", "places")))
