"""Decisions of the Telegram transport as pure functions: who is addressed, which language, who may talk.

The handlers in :mod:`bot.tg.handlers` only read an update, call these, call the domain and send.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from telegram import Message, MessageEntity, Update

from bot.knowledge.model import LANGS, Lang

MAX_QUESTION_CHARS: Final = 1000
DEEP_LINK_ENTRY: Final = re.compile(r"e_([a-z0-9-]{1,62})")
_LEADING_JUNK: Final = " \t\n,.:;!?-–—"


def resolve_lang(stored: str | None, language_code: str | None) -> Lang:
    """The UI language: the user's /sprache choice, else English for English Telegram clients, else German."""
    if stored in LANGS:
        return "en" if stored == "en" else "de"
    if language_code and language_code.lower().startswith("en"):
        return "en"
    return "de"


def question_lang(stored: str | None) -> Lang | None:
    """The language forced on the matcher: only an explicit /sprache choice overrides detection."""
    if stored == "en":
        return "en"
    if stored == "de":
        return "de"
    return None


def too_long(text: str) -> bool:
    return len(text) > MAX_QUESTION_CHARS


def deep_link_entry(args: Iterable[str]) -> str | None:
    """``/start e_<entry_id>`` → the entry id (shape only; whether it exists is the caller's business)."""
    first = next(iter(args), "")
    m = DEEP_LINK_ENTRY.fullmatch(first)
    return m.group(1) if m else None


def parse_days(args: Iterable[str], default: int = 30, maximum: int = 365) -> int | None:
    """``/stats [days]``: the number of days, the default without an argument, None if malformed."""
    first = next(iter(args), None)
    if first is None:
        return default
    if not re.fullmatch(r"[0-9]{1,4}", first):
        return None
    days = int(first)
    return days if 1 <= days <= maximum else None


def allowed(allowed_chats: frozenset[int] | None, chat_id: int | None, user_id: int | None, is_admin: bool) -> bool:
    """Whether an update may be handled under the optional allow-list (admins always may)."""
    if allowed_chats is None or is_admin:
        return True
    if chat_id is not None:
        return chat_id in allowed_chats
    return user_id is not None and user_id in allowed_chats  # inline queries have no chat


# ----------------------------------------------------------------------------------------------- groups


@dataclass(frozen=True, slots=True)
class Addressed:
    """A group message meant for the bot; ``question`` may be empty (then show a usage hint)."""

    question: str
    how: str  # "mention" | "text_mention" | "reply"


def _utf16_index(text: str, offset16: int) -> int:
    """The Python index of a UTF-16 offset in ``text``."""
    units = 0
    for index, ch in enumerate(text):
        if units >= offset16:
            return index
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text)


def _strip_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Remove UTF-16 ``(offset, length)`` spans from ``text``."""
    out = text
    for offset, length in sorted(spans, reverse=True):
        start = _utf16_index(out, offset)
        end = _utf16_index(out, offset + length)
        out = out[:start] + " " + out[end:]
    return out


def clean_question(text: str) -> str:
    """Collapse whitespace and drop punctuation left over at the start (``@bot, wann …`` → ``wann …``)."""
    collapsed = re.sub(r"\s+([,.:;!?])", r"\1", " ".join(text.split()))
    return collapsed.lstrip(_LEADING_JUNK).strip()


def addressed_in_group(message: Message, bot_id: int, bot_username: str | None) -> Addressed | None:
    """Whether a group text message is meant for the bot (and the question in it), else None.

    Meant for the bot: it mentions ``@bot_username`` (a ``mention`` entity), mentions the bot by
    ``text_mention``, or replies to one of the bot's own messages. Everything else is people talking to
    each other, and the bot stays silent — also when its privacy mode is off.
    """
    text = message.text or ""
    handle = f"@{bot_username}".lower() if bot_username else None
    spans: list[tuple[int, int]] = []
    how = ""
    for entity in message.entities:
        if entity.type == MessageEntity.MENTION and handle:
            piece = _utf16_slice(text, entity.offset, entity.length)
            if piece.lower() == handle:
                spans.append((entity.offset, entity.length))
                how = how or "mention"
        elif entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            spans.append((entity.offset, entity.length))
            how = how or "text_mention"
    if spans:
        return Addressed(clean_question(_strip_spans(text, spans)), how)
    replied = message.reply_to_message
    if (
        replied is not None
        and replied.from_user is not None
        and replied.from_user.id == bot_id
        and replied.forum_topic_created is None
    ):
        return Addressed(clean_question(text), "reply")
    return None


def _utf16_slice(text: str, offset: int, length: int) -> str:
    data = text.encode("utf-16-le")
    return data[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


def text_after_command(message: Message) -> str:
    """The text after a leading ``/command`` or ``/command@bot`` (line breaks kept)."""
    text = message.text or ""
    for entity in message.entities:
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            return text[_utf16_index(text, entity.length) :].strip()
    return text.strip()


# ------------------------------------------------------------------------------------------- ordering


def order_key(update: object) -> int | None:
    """Updates with the same key are handled one after another (same chat; inline: same user)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None
