"""Factories for Bot-API-shaped update dicts (plain, JSON-ready), for use with :class:`FakeBotApi`.

Entity offsets and lengths are in UTF-16 code units, as Telegram sends them. Every factory returns a fresh
dict with a provisional ``update_id``; :meth:`FakeBotApi.push_update` replaces it with its own counter.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any, Literal

JSON = dict[str, Any]

BOT_ID = 4242
BOT_USERNAME = "konstanz_faq_bot"
BOT_FIRST_NAME = "Konstanz FAQ"
DEFAULT_USER_ID = 1001
DEFAULT_FIRST_NAME = "Erika"
DEFAULT_GROUP_ID = -1001234567890
DEFAULT_GROUP_TITLE = "Konstanz Bürgerfragen"
DEFAULT_CHANNEL_ID = -1009876543210

ChatType = Literal["private", "group", "supergroup"]

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)
_callback_ids = itertools.count(1)
_file_ids = itertools.count(1)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (Telegram's unit for entity offsets)."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def utf16_offset(text: str, index: int) -> int:
    """UTF-16 offset of the Python string index ``index`` in ``text``."""
    return utf16_len(text[:index])


def entity(text: str, sub: str, type_: str, *, start: int = 0, **extra: Any) -> JSON:
    """A MessageEntity dict for the first occurrence of ``sub`` in ``text`` (at or after ``start``)."""
    index = text.find(sub, start)
    if index < 0:
        raise ValueError(f"{sub!r} not in {text!r}")
    return {"type": type_, "offset": utf16_offset(text, index), "length": utf16_len(sub), **extra}


def now() -> int:
    """Current Unix time as Telegram sends it."""
    return int(time.time())


def next_message_id() -> int:
    """A fresh message id (unique within this test process)."""
    return next(_message_ids)


def _file(prefix: str) -> JSON:
    n = next(_file_ids)
    return {"file_id": f"{prefix}-file-{n:06d}", "file_unique_id": f"{prefix}-uniq-{n:06d}"}


def user(
    user_id: int = DEFAULT_USER_ID,
    first_name: str = DEFAULT_FIRST_NAME,
    *,
    language_code: str | None = "de",
    username: str | None = None,
    last_name: str | None = None,
    is_bot: bool = False,
) -> JSON:
    """A User dict."""
    data: JSON = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name:
        data["last_name"] = last_name
    if username:
        data["username"] = username
    if language_code:
        data["language_code"] = language_code
    return data


def bot_user() -> JSON:
    """The bot's own User dict (as seen inside updates)."""
    return {"id": BOT_ID, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME}


def chat_type_for(chat_id: int) -> ChatType:
    """Telegram's chat type implied by the id's shape."""
    if chat_id > 0:
        return "private"
    return "supergroup" if chat_id <= -1_000_000_000_000 else "group"


def chat(chat_id: int, *, title: str = DEFAULT_GROUP_TITLE, first_name: str = DEFAULT_FIRST_NAME) -> JSON:
    """A Chat dict; the type follows from the id (positive: private, -100…: supergroup, else group)."""
    kind = chat_type_for(chat_id)
    if kind == "private":
        return {"id": chat_id, "type": "private", "first_name": first_name}
    return {"id": chat_id, "type": kind, "title": title}


def _from(from_user: int | JSON, first_name: str, language_code: str | None) -> JSON:
    if isinstance(from_user, dict):
        return dict(from_user)
    return user(from_user, first_name, language_code=language_code)


def message(
    text: str | None,
    *,
    chat_id: int,
    from_user: int | JSON | None = DEFAULT_USER_ID,
    first_name: str = DEFAULT_FIRST_NAME,
    language_code: str | None = "de",
    entities: list[JSON] | None = None,
    message_id: int | None = None,
    title: str = DEFAULT_GROUP_TITLE,
    **extra: Any,
) -> JSON:
    """A Message dict (text may be None for media/service messages; ``extra`` is merged in)."""
    msg: JSON = {
        "message_id": message_id if message_id is not None else next_message_id(),
        "date": now(),
        "chat": chat(chat_id, title=title, first_name=first_name),
    }
    if from_user is not None:
        msg["from"] = _from(from_user, first_name, language_code)
    if text is not None:
        msg["text"] = text
    if entities:
        msg["entities"] = [dict(e) for e in entities]
    msg.update(extra)
    return msg


def wrap(kind: str, payload: JSON) -> JSON:
    """Wrap a payload into an update dict: ``{"update_id": …, kind: payload}``."""
    return {"update_id": next(_update_ids), kind: payload}


def private_text(
    text: str,
    user_id: int = DEFAULT_USER_ID,
    chat_id: int | None = None,
    first_name: str = DEFAULT_FIRST_NAME,
    language_code: str | None = "de",
    *,
    entities: list[JSON] | None = None,
    message_id: int | None = None,
) -> JSON:
    """A text message from a user in their private chat with the bot."""
    return wrap(
        "message",
        message(
            text,
            chat_id=chat_id if chat_id is not None else user_id,
            from_user=user_id,
            first_name=first_name,
            language_code=language_code,
            entities=entities,
            message_id=message_id,
        ),
    )


def group_text(
    text: str,
    chat_id: int = DEFAULT_GROUP_ID,
    user_id: int = DEFAULT_USER_ID,
    entities: list[JSON] | None = None,
    reply_to_bot: bool = False,
    *,
    first_name: str = DEFAULT_FIRST_NAME,
    language_code: str | None = "de",
    title: str = DEFAULT_GROUP_TITLE,
    message_id: int | None = None,
    reply_to_message_id: int | None = None,
    reply_text: str = "Frühere Antwort des Bots",
) -> JSON:
    """A text message in a group; ``reply_to_bot`` makes it a reply to an earlier bot message."""
    extra: JSON = {}
    if reply_to_bot:
        extra["reply_to_message"] = message(
            reply_text,
            chat_id=chat_id,
            from_user=bot_user(),
            title=title,
            message_id=reply_to_message_id if reply_to_message_id is not None else next_message_id(),
        )
    return wrap(
        "message",
        message(
            text,
            chat_id=chat_id,
            from_user=user_id,
            first_name=first_name,
            language_code=language_code,
            entities=entities,
            title=title,
            message_id=message_id,
            **extra,
        ),
    )


_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,64})?")


def command_entities(text: str) -> list[JSON]:
    """bot_command entity for a command at the start of ``text`` (``/cmd`` or ``/cmd@bot``)."""
    m = _COMMAND_RE.match(text)
    if not m:
        raise ValueError(f"not a command: {text!r}")
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))}]


def command(
    text: str,
    chat_type: Literal["private", "group", "supergroup"] = "private",
    *,
    user_id: int = DEFAULT_USER_ID,
    chat_id: int | None = None,
    first_name: str = DEFAULT_FIRST_NAME,
    language_code: str | None = "de",
    title: str = DEFAULT_GROUP_TITLE,
) -> JSON:
    """A command message, e.g. ``command("/frage@konstanz_faq_bot Müll", chat_type="group")``."""
    entities = command_entities(text)
    if chat_type == "private":
        return private_text(text, user_id, chat_id, first_name, language_code, entities=entities)
    if chat_id is None:
        chat_id = DEFAULT_GROUP_ID if chat_type == "supergroup" else -4001234567
    return group_text(text, chat_id, user_id, entities, first_name=first_name, language_code=language_code, title=title)


def mention(
    text: str,
    chat_id: int = DEFAULT_GROUP_ID,
    user_id: int = DEFAULT_USER_ID,
    *,
    username: str = BOT_USERNAME,
    first_name: str = DEFAULT_FIRST_NAME,
    language_code: str | None = "de",
) -> JSON:
    """A group message mentioning ``@username`` (prepended if ``text`` does not contain it)."""
    handle = f"@{username}"
    index = text.lower().find(handle.lower())
    if index < 0:
        text = f"{handle} {text}"
        index = 0
    ent = {"type": "mention", "offset": utf16_offset(text, index), "length": utf16_len(handle)}
    return group_text(text, chat_id, user_id, [ent], first_name=first_name, language_code=language_code)


def callback(
    data: str,
    from_user: int | JSON = DEFAULT_USER_ID,
    message_chat_id: int | None = None,
    message_id: int | None = None,
    *,
    message_text: str = "Bitte wählen:",
    inline_keyboard: list[list[JSON]] | None = None,
    first_name: str = DEFAULT_FIRST_NAME,
    language_code: str | None = "de",
) -> JSON:
    """A callback_query for a button under a bot message (chat defaults to the user's private chat)."""
    sender = _from(from_user, first_name, language_code)
    chat_id = message_chat_id if message_chat_id is not None else sender["id"]
    keyboard = inline_keyboard or [[{"text": "Auswahl", "callback_data": data}]]
    msg = message(
        message_text,
        chat_id=chat_id,
        from_user=bot_user(),
        message_id=message_id,
        reply_markup={"inline_keyboard": keyboard},
    )
    query: JSON = {
        "id": f"{next(_callback_ids)}{sender['id']}",
        "from": sender,
        "message": msg,
        "chat_instance": f"-{abs(chat_id) % 10**12 + 7000000000000}",
        "data": data,
    }
    return wrap("callback_query", query)


def inline_query(
    query: str,
    user_id: int = DEFAULT_USER_ID,
    *,
    offset: str = "",
    chat_type: str | None = "sender",
    first_name: str = DEFAULT_FIRST_NAME,
    language_code: str | None = "de",
) -> JSON:
    """An inline_query (``@konstanz_faq_bot <query>`` typed in some chat)."""
    payload: JSON = {
        "id": f"{next(_callback_ids)}{user_id}",
        "from": user(user_id, first_name, language_code=language_code),
        "query": query,
        "offset": offset,
    }
    if chat_type:
        payload["chat_type"] = chat_type
    return wrap("inline_query", payload)


def _media(chat_id: int, user_id: int, caption: str | None, **fields: Any) -> JSON:
    extra: JSON = dict(fields)
    if caption is not None:
        extra["caption"] = caption
    return wrap("message", message(None, chat_id=chat_id, from_user=user_id, **extra))


def sticker(user_id: int = DEFAULT_USER_ID, chat_id: int | None = None, *, emoji: str = "👍") -> JSON:
    """A sticker message."""
    data = {
        **_file("sticker"),
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
        "set_name": "KonstanzTest",
        "file_size": 23456,
    }
    return _media(chat_id if chat_id is not None else user_id, user_id, None, sticker=data)


def photo(user_id: int = DEFAULT_USER_ID, chat_id: int | None = None, *, caption: str | None = None) -> JSON:
    """A photo message (three sizes, like Telegram sends)."""
    base = _file("photo")
    sizes = [
        {
            "file_id": f"{base['file_id']}-{w}",
            "file_unique_id": f"{base['file_unique_id']}-{w}",
            "width": w,
            "height": w * 3 // 4,
            "file_size": w * 60,
        }
        for w in (90, 320, 1280)
    ]
    return _media(chat_id if chat_id is not None else user_id, user_id, caption, photo=sizes)


def voice(user_id: int = DEFAULT_USER_ID, chat_id: int | None = None, *, duration: int = 3) -> JSON:
    """A voice message."""
    data = {**_file("voice"), "duration": duration, "mime_type": "audio/ogg", "file_size": 8123}
    return _media(chat_id if chat_id is not None else user_id, user_id, None, voice=data)


def document(
    user_id: int = DEFAULT_USER_ID,
    chat_id: int | None = None,
    *,
    file_name: str = "antrag.pdf",
    mime_type: str = "application/pdf",
    caption: str | None = None,
) -> JSON:
    """A document message."""
    data = {**_file("doc"), "file_name": file_name, "mime_type": mime_type, "file_size": 54321}
    return _media(chat_id if chat_id is not None else user_id, user_id, caption, document=data)


def edited_text(
    text: str,
    chat_id: int | None = None,
    user_id: int = DEFAULT_USER_ID,
    message_id: int | None = None,
    *,
    entities: list[JSON] | None = None,
) -> JSON:
    """An edited_message update (private chat unless ``chat_id`` is given)."""
    msg = message(
        text,
        chat_id=chat_id if chat_id is not None else user_id,
        from_user=user_id,
        entities=entities,
        message_id=message_id,
    )
    msg["edit_date"] = msg["date"] + 1
    msg["date"] -= 60
    return wrap("edited_message", msg)


def channel_post(
    text: str,
    chat_id: int = DEFAULT_CHANNEL_ID,
    *,
    title: str = "Stadt Konstanz News",
    username: str | None = "konstanz_news",
    entities: list[JSON] | None = None,
) -> JSON:
    """A channel_post (no ``from``; ``sender_chat`` is the channel)."""
    channel: JSON = {"id": chat_id, "type": "channel", "title": title}
    if username:
        channel["username"] = username
    msg: JSON = {
        "message_id": next_message_id(),
        "date": now(),
        "chat": channel,
        "sender_chat": dict(channel),
        "text": text,
    }
    if entities:
        msg["entities"] = [dict(e) for e in entities]
    return wrap("channel_post", msg)


def chat_member_dict(member: JSON, status: str) -> JSON:
    """A ChatMember dict with the fields PTB requires for ``status``."""
    data: JSON = {"status": status, "user": member}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=False,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=False,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_pin_messages=True,
        )
    elif status == "restricted":
        data.update(
            is_member=True,
            can_send_messages=False,
            can_send_audios=False,
            can_send_documents=False,
            can_send_photos=False,
            can_send_videos=False,
            can_send_video_notes=False,
            can_send_voice_notes=False,
            can_send_polls=False,
            can_send_other_messages=False,
            can_add_web_page_previews=False,
            can_change_info=False,
            can_invite_users=False,
            can_pin_messages=False,
            can_manage_topics=False,
            can_edit_tag=False,
            can_react_to_messages=False,
            until_date=0,
        )
    elif status == "kicked":
        data["until_date"] = 0
    elif status not in ("member", "left"):
        raise ValueError(f"unknown chat member status {status!r}")
    return data


def my_chat_member(
    chat_id: int,
    old: str = "left",
    new: str = "member",
    by_user: int = DEFAULT_USER_ID,
    *,
    title: str = DEFAULT_GROUP_TITLE,
) -> JSON:
    """The bot's own membership changed (e.g. added to a group: ``old="left", new="member"``)."""
    payload: JSON = {
        "chat": chat(chat_id, title=title),
        "from": user(by_user),
        "date": now(),
        "old_chat_member": chat_member_dict(bot_user(), old),
        "new_chat_member": chat_member_dict(bot_user(), new),
    }
    return wrap("my_chat_member", payload)


def migrate_to_chat_id(old: int, new: int, user_id: int = DEFAULT_USER_ID) -> JSON:
    """Service message in the old group: it was upgraded to supergroup ``new``."""
    return wrap("message", message(None, chat_id=old, from_user=user_id, migrate_to_chat_id=new))


def migrate_from_chat_id(old: int, new: int, user_id: int = DEFAULT_USER_ID) -> JSON:
    """Service message in the new supergroup: it was migrated from group ``old``."""
    return wrap("message", message(None, chat_id=new, from_user=user_id, migrate_from_chat_id=old))
