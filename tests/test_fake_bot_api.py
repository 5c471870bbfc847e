"""The fake Bot API server works with the real python-telegram-bot library (loopback only)."""

from __future__ import annotations

import asyncio
import datetime as dtm
import socket
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import (
    Bot,
    ChatMemberAdministrator,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from tests.support import updates as U
from tests.support.fake_bot_api import (
    TOKEN,
    Call,
    FakeBotApi,
    Fault,
    HtmlParseError,
    parse_html,
    polling,
)

pytestmark = pytest.mark.e2e

CHAT = 1001


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    request = HTTPXRequest(httpx_kwargs={"trust_env": False})
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url, request=request) as b:
        yield b


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    assert update.effective_message.text is not None
    await update.effective_message.reply_text(update.effective_message.text)


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# --------------------------------------------------------------------------- real Application


async def test_echo_roundtrip_with_real_application(api: FakeBotApi) -> None:
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"http://127.0.0.1:{api.port}/bot")
        .base_file_url(f"http://127.0.0.1:{api.port}/file/bot")
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with polling(app):
        incoming = api.push_update(U.private_text("Grüß Gott 👋 <b>"))
        call = await api.wait_for("sendMessage")
        api.push_update(U.private_text("zweite"))
        await api.wait_for("sendMessage", count=2)
    first, second = api.sent_messages(CHAT)
    assert call.ok
    assert first["text"] == "Grüß Gott 👋 <b>"
    assert first["from"]["id"] == 4242
    assert first["chat"] == {"id": CHAT, "type": "private", "first_name": "Erika"}
    assert first["message_id"] > incoming["message"]["message_id"]
    assert second["message_id"] > first["message_id"]  # one id space per chat, shared with users
    assert {"getMe", "deleteWebhook", "getUpdates"} <= {c.method for c in api.calls}
    assert api.rejections == []
    assert api.unknown_methods == []


async def test_group_command_with_bot_suffix_and_html_reply(api: FakeBotApi) -> None:
    async def frage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            f"<b>Frage:</b> {' '.join(context.args or [])} 🗑️", parse_mode=ParseMode.HTML
        )

    app = api.app_builder().build()
    app.add_handler(CommandHandler("frage", frage))
    async with polling(app):
        upd = api.push_update(U.command("/frage@konstanz_faq_bot Müllabfuhr", chat_type="group"))
        call = await api.wait_for("sendMessage")
    assert call.params["parse_mode"] == "HTML"
    assert call.result["chat"]["id"] == upd["message"]["chat"]["id"]
    assert call.result["chat"]["type"] == "group"
    assert call.result["text"] == "Frage: Müllabfuhr 🗑️"
    assert call.result["entities"] == [{"type": "bold", "offset": 0, "length": 6}]


async def test_callback_answer_and_edit(api: FakeBotApi) -> None:
    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Zurück", callback_data="back")]])
        await query.edit_message_text(f"Antwort zu {query.data}", reply_markup=keyboard)

    app = api.app_builder().build()
    app.add_handler(CallbackQueryHandler(on_button))
    async with polling(app):
        upd = api.push_update(U.callback("faq:abfall", message_id=77))
        edit = await api.wait_for("editMessageText")
    assert api.calls_of("answerCallbackQuery")[0].ok
    assert edit.ok
    assert edit.result["message_id"] == 77
    assert edit.result["text"] == "Antwort zu faq:abfall"
    assert edit.result["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "back"
    assert edit.params["chat_id"] == upd["callback_query"]["from"]["id"]
    assert api.rejections == []


async def test_webhook_mode_delivers_pushed_updates(api: FakeBotApi) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/tg"
    app = api.app_builder().build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1", port=port, url_path="tg", webhook_url=url, secret_token="s3cr3t"
        )
        try:
            assert api.webhook["url"] == url
            assert api.webhook["secret_token"] == "s3cr3t"
            api.push_update(U.private_text("per Webhook"))
            await api.wait_for("sendMessage")
            status, _ = await api.post_webhook(url, U.private_text("falsches Geheimnis"), secret_token="nope")
            assert status == 403
            status, _ = await api.post_webhook(url, U.private_text("direkt"), secret_token="s3cr3t")
            assert status == 200
            await api.wait_for("sendMessage", count=2)
        finally:
            await app.updater.stop()
            await app.stop()
    assert api.sent_texts() == ["per Webhook", "direkt"]
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        await api.post_webhook("http://example.org/tg", U.private_text("x"))


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("fault", "exc_type"),
    [
        (Fault.forbidden(), Forbidden),
        (Fault.chat_not_found(), BadRequest),
        (Fault.bad_request("message thread not found"), BadRequest),
        (Fault.server_error(), NetworkError),
        (Fault.server_error(502), NetworkError),
    ],
)
async def test_faults_map_to_ptb_exceptions(api: FakeBotApi, bot: Bot, fault: Fault, exc_type: type[Exception]) -> None:
    api.inject("sendMessage", fault)
    with pytest.raises(exc_type) as info:
        await bot.send_message(CHAT, "Hallo")
    assert type(info.value) is exc_type
    if fault.status != 502:
        assert fault.description.removeprefix("Bad Request: ").lower() in str(info.value).lower()
    assert (await bot.send_message(CHAT, "Hallo")).text == "Hallo"  # fault consumed
    assert [c.status for c in api.calls_of("sendMessage")] == [fault.status, 200]


async def test_retry_after_and_migrated(api: FakeBotApi, bot: Bot) -> None:
    api.inject("sendMessage", Fault.retry_after(7), Fault.migrated(-1009999))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        with pytest.raises(RetryAfter) as retry:
            await bot.send_message(CHAT, "a")
        assert _seconds(retry.value.retry_after) == 7
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(-4001, "b")
    assert migrated.value.new_chat_id == -1009999


async def test_timeout_fault_surfaces_as_timed_out(api: FakeBotApi, bot: Bot) -> None:
    api.inject("sendMessage", Fault.timeout(3.0))
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "langsam", read_timeout=0.2)
    assert (await bot.send_message(CHAT, "schnell")).text == "schnell"


async def test_fault_plan_and_wildcard(api: FakeBotApi, bot: Bot) -> None:
    api.fault_plan(lambda method, params: Fault.forbidden() if params.get("chat_id") == 13 else None)
    with pytest.raises(Forbidden):
        await bot.send_message(13, "x")
    await bot.send_message(14, "x")
    api.inject("*", Fault.server_error())
    with pytest.raises(NetworkError):
        await bot.send_chat_action(14, "typing")
    api.fault_plan(None)
    await bot.send_message(13, "x")


async def test_state_based_errors(api: FakeBotApi, bot: Bot) -> None:
    api.block(55)
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await bot.send_message(55, "x")
    api.set_chat_member(U.DEFAULT_GROUP_ID, 4242, "kicked")
    with pytest.raises(Forbidden, match=r"(?i)kicked from the supergroup chat"):
        await bot.send_message(U.DEFAULT_GROUP_ID, "x")
    api.push_update(U.migrate_to_chat_id(-4005, -1004005))
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(-4005, "x")
    assert info.value.new_chat_id == -1004005
    assert api.rejections == []


# --------------------------------------------------------------------------- validation


async def test_html_validator_through_bot(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, "<b>x", parse_mode=ParseMode.HTML)
    msg = await bot.send_message(CHAT, "&lt;b&gt;x", parse_mode=ParseMode.HTML)
    assert msg.text == "<b>x"
    assert msg.entities == ()
    assert [r.method for r in api.rejections] == ["sendMessage"]
    assert api.rejections[0].description.startswith("Bad Request: can't parse entities: ")


async def test_length_button_and_empty_validation(api: FakeBotApi, bot: Bot) -> None:
    await bot.send_message(CHAT, "ü" * 4096)
    await bot.send_message(CHAT, "<b>" + "x" * 4090 + "</b>&amp;", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "&amp;" * 4097, parse_mode=ParseMode.HTML)
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="ä" * 32)]])
    await bot.send_message(CHAT, "Knöpfe", reply_markup=ok)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("zu lang", callback_data="ä" * 33)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "Knöpfe", reply_markup=too_long)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(CHAT, "  ")
    assert len(api.rejections) == 4
    assert len(api.sent_messages()) == 3


async def test_edit_not_modified_and_unknown_message(api: FakeBotApi, bot: Bot) -> None:
    msg = await bot.send_message(CHAT, "eins")
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("eins", chat_id=CHAT, message_id=msg.message_id)
    edited = await bot.edit_message_text("zwei", chat_id=CHAT, message_id=msg.message_id)
    assert isinstance(edited, type(msg))
    assert edited.text == "zwei"
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=999)
    assert await bot.delete_message(CHAT, msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("123")


def test_parse_html_entities_use_utf16() -> None:
    text, entities = parse_html(
        '👋 <b>fett <i>kursiv</i></b> <a href="https://konstanz.de/?a=1&amp;b=2">Link</a> '
        '<span class="tg-spoiler">x</span> <pre><code class="language-python">p</code></pre> &#128512;&quot;'
    )
    assert text == '👋 fett kursiv Link x p 😀"'
    assert entities == [
        {"type": "bold", "offset": 3, "length": 11},
        {"type": "italic", "offset": 8, "length": 6},
        {"type": "text_link", "offset": 15, "length": 4, "url": "https://konstanz.de/?a=1&b=2"},
        {"type": "spoiler", "offset": 20, "length": 1},
        {"type": "pre", "offset": 22, "length": 1, "language": "python"},
    ]


@pytest.mark.parametrize(
    "bad",
    ["<b>x", "a < b", "a > b", "AT&T", "&nbsp;", "<br>", "<b><i>x</b></i>", "x</b>", "<span>x</span>", "<b x"],
)
def test_parse_html_rejects_malformed(bad: str) -> None:
    with pytest.raises(HtmlParseError):
        parse_html(bad)


# --------------------------------------------------------------------------- getUpdates, commands, members


async def test_get_updates_offset_long_poll_and_cap(bot: Bot) -> None:
    api = FakeBotApi(max_poll_wait=0.3)
    await api.start()
    try:
        request = HTTPXRequest(httpx_kwargs={"trust_env": False})
        async with Bot(TOKEN, base_url=api.base_url, request=request) as b:
            for text in ("a", "b", "c"):
                api.push_update(U.private_text(text))
            got = await b.get_updates(timeout=0)
            assert [u.message.text for u in got if u.message] == ["a", "b", "c"]
            assert await b.get_updates(offset=got[-1].update_id + 1, timeout=0) == ()
            waiter = asyncio.create_task(b.get_updates(offset=got[-1].update_id + 1, timeout=20))
            await asyncio.sleep(0.05)
            api.push_update(U.private_text("d"))
            late = await asyncio.wait_for(waiter, 1.0)
            assert [u.message.text for u in late if u.message] == ["d"]
            started = asyncio.get_running_loop().time()
            assert await b.get_updates(offset=late[-1].update_id + 1, timeout=20) == ()
            assert asyncio.get_running_loop().time() - started < 1.0  # capped by max_poll_wait
            await b.set_webhook("http://127.0.0.1:9/none")
            with pytest.raises(Conflict):
                await b.get_updates(timeout=0)
    finally:
        await api.stop()


async def test_allowed_updates_default_excludes_chat_member(api: FakeBotApi, bot: Bot) -> None:
    member = U.my_chat_member(U.DEFAULT_GROUP_ID)
    member["chat_member"] = member.pop("my_chat_member")
    api.push_update(member)
    api.push_update(U.my_chat_member(U.DEFAULT_GROUP_ID))
    got = await bot.get_updates(timeout=0)
    assert [u.my_chat_member is not None for u in got] == [True]
    assert len(api.dropped_updates) == 1


async def test_commands_members_chat_and_unknown(api: FakeBotApi, bot: Bot) -> None:
    assert bot.username == "konstanz_faq_bot"
    assert bot.id == 4242
    assert bot.supports_inline_queries
    await bot.set_my_commands([("frage", "Eine Frage stellen"), ("hilfe", "Hilfe")])
    assert [c.command for c in await bot.get_my_commands()] == ["frage", "hilfe"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Frage", "Groß geschrieben")])
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    assert await bot.set_my_description("Beschreibung")
    assert await bot.set_my_short_description("kurz")
    assert isinstance(await bot.get_chat_member(U.DEFAULT_GROUP_ID, 7), ChatMemberMember)
    api.set_chat_member(U.DEFAULT_GROUP_ID, 7, "administrator")
    assert isinstance(await bot.get_chat_member(U.DEFAULT_GROUP_ID, 7), ChatMemberAdministrator)
    for status in ("creator", "restricted", "left", "kicked"):
        api.set_chat_member(-42, 8, status)
        assert (await bot.get_chat_member(-42, 8)).status == status
    chat = await bot.get_chat(U.DEFAULT_GROUP_ID)
    assert chat.type == "supergroup"
    assert await bot.leave_chat(U.DEFAULT_GROUP_ID)
    assert (await bot.get_chat_member(U.DEFAULT_GROUP_ID, 4242)).status == "left"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert await bot.do_api_request("someFutureMethod", api_kwargs={"x": 1}) is True
    assert api.unknown_methods == ["someFutureMethod"]
    assert api.calls_of("somefuturemethod")[0].params == {"x": 1}


async def test_rate_measurement(api: FakeBotApi, bot: Bot) -> None:
    await asyncio.gather(*(bot.send_message(1, f"m{i}") for i in range(5)))
    await asyncio.gather(*(bot.send_message(2, f"n{i}") for i in range(3)))
    assert api.max_rate_global(1.0) == 8
    assert api.max_rate_per_chat(60.0) == 5
    assert api.max_rate_per_chat(60.0, chat_id=2) == 3
    assert FakeBotApi._max_in_window([0.0, 0.5, 0.99, 1.0, 1.4, 3.0], 1.0) == 4


async def test_privacy_mode_drops_unaddressed_group_messages() -> None:
    async with FakeBotApi(privacy_mode=True) as api:
        api.push_update(U.group_text("nur unter uns"))
        api.push_update(U.mention("wann hat das Bürgeramt offen?"))
        api.push_update(U.group_text("danke", reply_to_bot=True))
        api.push_update(U.command("/frage Müll", chat_type="group"))
        assert len(api.dropped_updates) == 1
        assert len(api._pending) == 3


async def test_wait_for_times_out_with_context(api: FakeBotApi) -> None:
    with pytest.raises(TimeoutError, match="no call matching"):
        await api.wait_for(lambda c: c.method == "sendMessage", timeout=0.05)
    assert isinstance(Call("x", {}, 0.0), Call)


# --------------------------------------------------------------------------- update factories


def test_factories_parse_as_ptb_updates() -> None:
    samples = [
        U.private_text("hi"),
        U.group_text("hallo", reply_to_bot=True),
        U.command("/start"),
        U.command("/frage@konstanz_faq_bot foo", chat_type="group"),
        U.mention("Frage"),
        U.callback("faq:1"),
        U.inline_query("müll"),
        U.sticker(),
        U.photo(caption="Bild"),
        U.voice(),
        U.document(),
        U.edited_text("neu"),
        U.channel_post("News"),
        U.my_chat_member(U.DEFAULT_GROUP_ID, "left", "administrator"),
        U.migrate_to_chat_id(-4001, -1004001),
        U.migrate_from_chat_id(-4001, -1004001),
    ]
    parsed = [Update.de_json(s, None) for s in samples]
    assert all((p is not None and p.effective_chat is not None) or p.inline_query for p in parsed)
    assert parsed[1].effective_message.reply_to_message.from_user.id == 4242  # type: ignore[union-attr]
    assert parsed[5].callback_query.data == "faq:1"  # type: ignore[union-attr]
    assert parsed[14].effective_message.migrate_to_chat_id == -1004001  # type: ignore[union-attr]


def test_entity_offsets_are_utf16() -> None:
    msg = Update.de_json(U.mention("👋🏽 @konstanz_faq_bot wann ist Sperrmüll?"), None).effective_message
    assert msg is not None
    assert msg.entities[0].offset == 5
    assert msg.parse_entities(["mention"]) == {msg.entities[0]: "@konstanz_faq_bot"}
    cmd = Update.de_json(U.command("/frage@konstanz_faq_bot 🚮 foo", chat_type="group"), None).effective_message
    assert cmd is not None
    assert cmd.parse_entities(["bot_command"]).popitem()[1] == "/frage@konstanz_faq_bot"
    assert U.utf16_len("a😀") == 3
