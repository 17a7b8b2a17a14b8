"""Admins set a county up from chat: invite links bind a group to a department and give users roles.

    /invite group zfj        → t.me/<bot>?startgroup=CODE  (opened in the department's group: binds it)
    /invite staff zfj        → t.me/<bot>?start=CODE       (opened by a person: makes them zfj staff)
    /invite grid_worker G01 · /invite dispatcher · /invite admin
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot import texts
from bot.directory import HEAD
from handlers.common import Context, acting_member, member_with_role, polite, services
from storage.models import Role

INVITE_HOURS = 72
GROUP_ROLES = {Role.STAFF: "department", HEAD: "department", Role.GRID_WORKER: "grid", Role.DISPATCHER: None,
               Role.ADMIN: None, Role.RESIDENT: "grid"}


@polite
async def invite(update: Update, context: Context) -> None:
    """/invite KIND [CODE]: a one-off deep link for a group binding or a role."""
    svc = services(context)
    member = await member_with_role(update, context, Role.ADMIN, texts.ADMIN_ONLY)
    args = context.args or []
    kind = args[0] if args else ""
    code = args[1] if len(args) > 1 else None
    if kind == "group":
        target = {"department": code}
    elif kind in GROUP_ROLES and (GROUP_ROLES[kind] is None or code):
        target = {GROUP_ROLES[kind]: code} if GROUP_ROLES[kind] else {}
    else:
        await update.effective_message.reply_text(texts.INVITE_USAGE)
        return
    if kind == "group" and not code:
        await update.effective_message.reply_text(texts.INVITE_USAGE)
        return
    try:
        inv, dept, grid = await svc.directory.create_invite(
            member, "group" if kind == "group" else "role", role=None if kind == "group" else kind,
            hours=INVITE_HOURS, **target)
    except LookupError:
        template = texts.INVITE_UNKNOWN_GRID if "grid" in target else texts.INVITE_UNKNOWN_DEPARTMENT
        await update.effective_message.reply_text(template.format(code=code))
        return
    username = context.bot.username
    if kind == "group":
        what = texts.INVITE_WHAT_GROUP.format(dept=dept.name)
        link = f"https://t.me/{username}?startgroup={inv.code}"
    else:
        what = texts.INVITE_WHAT_ROLE.format(role=texts.ROLE[kind], where=_where(dept, grid))
        link = f"https://t.me/{username}?start={inv.code}"
    await update.effective_message.reply_text(texts.INVITE_LINK.format(
        what=what, hours=INVITE_HOURS, uses=inv.uses_left, link=f"{link}\n/start {inv.code}"))


async def redeem(update: Update, context: Context, code: str) -> None:
    """/start CODE in a group (binds it) or a private chat (sets the role)."""
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    result = await svc.directory.redeem(code[:32], telegram_id=user.id, name=user.full_name, chat_id=chat.id)
    if result is None:
        await update.effective_message.reply_text(texts.INVITE_INVALID)
        return
    inv, dept, grid = result
    if inv.kind == "group":
        await update.effective_message.reply_text(texts.BOUND_GROUP.format(dept=dept.name))
    else:
        member = await acting_member(update, context)
        await context.bot_data["menus"].ensure(context.bot, member)
        await update.effective_message.reply_text(
            texts.BOUND_ROLE.format(role=texts.ROLE[inv.role], where=_where(dept, grid)) + "\n\n"
            + texts.HELP[texts.role_key(member)])


async def group_start(update: Update, context: Context) -> None:
    if context.args:
        await redeem(update, context, context.args[0])
    else:
        dept = await services(context).directory.department_of_chat(update.effective_chat.id)
        await update.effective_message.reply_text(
            texts.BOUND_GROUP.format(dept=dept.name) if dept else texts.GROUP_NOT_BOUND)


async def list_departments(update: Update, context: Context) -> None:
    depts = await services(context).directory.departments()
    lines = "\n".join(f"{d.code}　{d.name}" for d in depts) or texts.NOTHING
    await update.effective_message.reply_text(texts.DEPARTMENTS_LIST.format(lines=lines)[:4096])


async def list_grids(update: Update, context: Context) -> None:
    grids = await services(context).directory.grids()
    lines = "\n".join(f"{g.code}　{t.name}·{g.name}" for g, t in grids) or texts.NOTHING
    await update.effective_message.reply_text(texts.GRIDS_LIST.format(lines=lines)[:4096])


def _where(dept, grid) -> str:
    if dept is not None:
        return f"（{dept.name}）"
    if grid is not None:
        return f"（{grid.name}）"
    return ""


def register(app: Application) -> None:
    app.add_handler(CommandHandler("invite", invite, filters=filters.ChatType.PRIVATE))
    app.add_handler(CommandHandler("departments", list_departments))
    app.add_handler(CommandHandler("grids", list_grids))
    app.add_handler(CommandHandler("start", group_start, filters=filters.ChatType.GROUPS))
