"""What residents send besides text, in their private chat: photos and albums, locations, voice notes and
videos — and the things the bot cannot take (documents, contacts, stickers), each with a friendly reply.

    photo + caption          ─▶ the caption is the request, the photo its evidence (the rest of an album joins)
    photo(s), no caption     ─▶ kept; "请简单描述一下问题" once per album; the next text is the request
    location                 ─▶ the open draft's place (its grid), else kept for the next text
    voice / video            ─▶ a ticket for the dispatcher to hear, with the recording (no speech recognition)
"""

from __future__ import annotations

import warnings

from telegram import Update
from telegram.ext import Application, MessageHandler, filters
from telegram.warnings import PTBDeprecationWarning

from bot import texts
from bot.media import TELEGRAM_DOWNLOAD_LIMIT, too_big
from bot.places import valid_location
from handlers.common import Context, acting_member, attach, polite, services
from handlers.resident import draft_from

PRIVATE = filters.ChatType.PRIVATE


@polite
async def request_photo(update: Update, context: Context) -> None:
    """A photo (or an album's photo): with a caption it is a request; without one it waits for the words."""
    message = update.effective_message
    photo, album = message.photo[-1].file_id, message.media_group_id
    svc = services(context)
    if album and await svc.intake.add_to_album(await acting_member(update, context), album, photo):
        return  # a further photo of an album whose caption is already a draft
    if message.caption:
        await draft_from(update, context, message.caption, photo, media_group_id=album)
        return
    kept = await svc.prompts.attachments(update.effective_chat.id, update.effective_user.id)
    same_album = album is not None and kept is not None and kept.data.get("album") == album
    await attach(update, context, photos=[photo], album=album)
    if not same_album:
        await message.reply_text(texts.PHOTO_SAVED)


@polite
async def request_location(update: Update, context: Context) -> None:
    """A location: where the open draft is (its grid found again), else kept for the next request."""
    message = update.effective_message
    lat, lon = message.location.latitude, message.location.longitude
    if not valid_location(lat, lon):
        await message.reply_text(texts.LOCATION_INVALID)
        return
    svc = services(context)
    member = await acting_member(update, context)
    draft, found = await svc.intake.locate_draft(member, lat, lon)
    if found.off_map:
        await message.reply_text(texts.LOCATION_OFF_MAP)
        return
    if draft is not None:
        await message.reply_text(texts.PLACE_SET.format(grid=await svc.directory.grid_label(draft.grid_id)))
        return
    await attach(update, context, latitude=lat, longitude=lon)
    await message.reply_text(texts.LOCATION_SAVED.format(lat=lat, lon=lon))


def seconds(media) -> int | None:
    """A recording's length in seconds (PTB 22 gives int, later versions a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        duration = media.duration
    return int(duration.total_seconds()) if hasattr(duration, "total_seconds") else duration


@polite
async def recording(update: Update, context: Context) -> None:
    """A voice note or a video: a ticket the dispatcher hears and routes; the resident learns by when."""
    message = update.effective_message
    kind = "voice" if message.voice else "video_note" if message.video_note else "video"
    media = message.voice or message.video_note or message.video
    if too_big(media.file_size):
        await message.reply_text(texts.FILE_TOO_BIG.format(mb=round(media.file_size / 2**20, 1),
                                                           limit=TELEGRAM_DOWNLOAD_LIMIT // 2**20))
        return
    svc = services(context)
    ticket = await svc.intake.voice(await acting_member(update, context), "voice" if kind == "voice" else "video",
                                    media.file_id, seconds(media), media.file_size)
    due = svc.workflow.routing.dispatch_due(ticket.created_at)
    await message.reply_text(texts.VOICE_RECEIVED.format(number=ticket.number, due=texts.local(due)))


async def document(update: Update, context: Context) -> None:
    """Files are not taken (a photo sent as a file included): a clear word on what to send instead."""
    doc = update.effective_message.document
    if too_big(doc.file_size):
        await update.effective_message.reply_text(texts.FILE_TOO_BIG.format(
            mb=round(doc.file_size / 2**20, 1), limit=TELEGRAM_DOWNLOAD_LIMIT // 2**20))
        return
    await update.effective_message.reply_text(texts.DOCUMENT_REFUSED)


async def contact(update: Update, context: Context) -> None:
    await update.effective_message.reply_text(texts.CONTACT_REPLY)


async def sticker(update: Update, context: Context) -> None:
    await update.effective_message.reply_text(texts.STICKER_REPLY)


def register_fallbacks(app: Application) -> None:
    """Registered with the private fallbacks (after commands, buttons and answers)."""
    app.add_handler(MessageHandler(PRIVATE & filters.PHOTO, request_photo))
    app.add_handler(MessageHandler(PRIVATE & filters.LOCATION, request_location))
    app.add_handler(MessageHandler(PRIVATE & (filters.VOICE | filters.VIDEO | filters.VIDEO_NOTE), recording))
    app.add_handler(MessageHandler(PRIVATE & filters.Document.ALL, document))
    app.add_handler(MessageHandler(PRIVATE & filters.CONTACT, contact))
    app.add_handler(MessageHandler(PRIVATE & filters.Sticker.ALL, sticker))
