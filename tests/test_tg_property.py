"""Property test: random updates through the real handlers against the fake Bot API.

Whatever arrives (emoji, ``<&>``, control characters, random chats, random or forged callback data, inline
queries, media, edits, channel posts): no unhandled exception, nothing over 4096 characters, and the fake
never has to reject a request.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.tg import callbacks as cb
from tests.support import updates as U
from tests.support.fake_bot_api import BOT_USERNAME
from tests.test_tg_harness import ADMIN_ID, KNOWLEDGE_DIR, Harness, running_bot

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]
_PRESSED_MESSAGE_IDS = itertools.count(10**7)
ENTRY_IDS = ["schul-it-wechsel", "amt-aufgaben", "kgst-was", "gibt-es-nicht"]

_chars = st.characters(blacklist_categories=("Cs",))
_texts = st.one_of(
    st.text(_chars, min_size=1, max_size=60),
    st.text(st.sampled_from(list("<>&\"'/ab \n\t\x00\x07\u200b😀👍🏽ßÄ")), min_size=1, max_size=40),
    st.sampled_from(["Wann wechselt die Schul-IT?", "Was ist die KGSt?", "Hallo", "<b>Schule</b> & IT?", "Amt"]),
    st.text(_chars, min_size=900, max_size=1100),
).filter(lambda s: s.strip() != "")
_users = st.sampled_from([1001, 1002, ADMIN_ID])
_langs = st.sampled_from(["de", "en", None, "fr"])
_groups = st.sampled_from([U.DEFAULT_GROUP_ID, -4001234567])
_commands = st.sampled_from(
    ["/start", "/start e_kgst-was", "/start e_x", "/hilfe", "/help", "/themen", "/meilensteine", "/sprache",
     "/datenschutz", "/vergessen", "/frage", "/frage Was ist die KGSt?", "/stats", "/stats 0", "/unbeantwortet",
     "/reload", "/gibtsnicht", f"/frage@{BOT_USERNAME} Schule", "/frage@anderer_bot Schule"]
)  # fmt: skip
_valid_data = st.one_of(
    st.builds(cb.entry, st.sampled_from(ENTRY_IDS)),
    st.builds(cb.feedback, st.sampled_from([1, -1]), st.sampled_from(ENTRY_IDS), st.integers(1, 10**6)),
    st.builds(cb.topic, st.sampled_from(["amt", "schul-it", "alt"]), st.integers(0, 999)),
    st.builds(cb.topics, st.integers(0, 999)),
    st.builds(cb.lang, st.sampled_from(["de", "en"])),
)
_data = st.one_of(_valid_data, st.text(_chars, min_size=1, max_size=70))


@st.composite
def _update(draw: st.DrawFn) -> JSON:
    kind = draw(st.sampled_from(["private", "group", "mention", "reply", "command", "callback", "inline", "media",
                                 "edited", "channel"]))  # fmt: skip
    user, lang = draw(_users), draw(_langs)
    if kind == "private":
        return U.private_text(draw(_texts), user, language_code=lang)
    if kind == "group":
        return U.group_text(draw(_texts), draw(_groups), user, language_code=lang)
    if kind == "mention":
        return U.mention(draw(_texts), draw(_groups), user, language_code=lang)
    if kind == "reply":
        return U.group_text(draw(_texts), draw(_groups), user, reply_to_bot=True, language_code=lang)
    if kind == "command":
        chat_type = draw(st.sampled_from(["private", "supergroup"]))
        return U.command(draw(_commands), chat_type, user_id=user, language_code=lang)  # type: ignore[arg-type]
    if kind == "callback":
        data = draw(_data)
        shown = data if draw(st.booleans()) else draw(_valid_data)  # sometimes forged: not among the buttons
        chat = user if draw(st.booleans()) else draw(_groups)
        keyboard = [[{"text": "x", "callback_data": shown}]]
        # a fresh id far above those of real messages: a pressed message is always one the bot sent
        message_id = next(_PRESSED_MESSAGE_IDS)
        return U.callback(data, user, chat, message_id, inline_keyboard=keyboard, language_code=lang)
    if kind == "inline":
        return U.inline_query(draw(st.one_of(st.just(""), _texts)), user, language_code=lang)
    if kind == "media":
        chat = user if draw(st.booleans()) else draw(_groups)
        return draw(st.sampled_from([U.sticker, U.photo, U.voice, U.document]))(user, chat)  # type: ignore[no-any-return]
    if kind == "edited":
        return U.edited_text(draw(_texts), user_id=user)
    return U.channel_post(draw(_texts))


class _ErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[tuple[Harness, _ErrorCounter]]:
    counter = _ErrorCounter()
    logging.getLogger().addHandler(counter)
    try:
        async with running_bot(tmp_path, knowledge_dir=KNOWLEDGE_DIR, production_limits=False) as h:
            yield h, counter
    finally:
        logging.getLogger().removeHandler(counter)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(updates=st.lists(_update(), min_size=1, max_size=4))
async def test_random_updates_never_break_the_bot(harness: tuple[Harness, _ErrorCounter], updates: list[JSON]) -> None:
    h, errors = harness
    for update in updates:
        h.push(update)
    await h.settle()
    assert h.fake.rejections == []
    assert errors.records == [], [r.getMessage() for r in errors.records]
    for call in h.fake.calls_of("sendMessage") + h.fake.calls_of("editMessageText"):
        assert call.ok, (call.method, call.status, call.description)
    for message in h.sent():
        assert 0 < len(message["text"]) <= 4096
    for call in h.fake.calls_of("answerCallbackQuery") + h.fake.calls_of("answerInlineQuery"):
        assert call.ok, (call.method, call.description)
