"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests with a real PTB ``Application``.

Usage::

    async with FakeBotApi() as api:
        app = api.app_builder().build()          # or ApplicationBuilder().token(api.token).base_url(...)
        ...
        api.push_update(updates.private_text("Hallo"))
        call = await api.wait_for("sendMessage")

PTB 22's ``HTTPXRequest`` posts ``application/x-www-form-urlencoded`` bodies (``multipart/form-data`` when
uploading files) whose non-string values are JSON-encoded strings; JSON bodies and GET query strings are
accepted too. Nothing here ever talks to anything but loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import re
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from ipaddress import ip_address
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from .updates import BOT_FIRST_NAME, BOT_ID, BOT_USERNAME, chat_member_dict, utf16_len

if TYPE_CHECKING:
    from telegram.ext import Application, ApplicationBuilder

JSON = dict[str, Any]
ChatKey = int | str

TOKEN = f"{BOT_ID}:AAFakeLoopbackTokenForTestsOnly_x"
MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
# Telegram does not send these update types unless they are requested explicitly via allowed_updates.
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
STALE_QUERY = "Bad Request: query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
# Form values that stay strings even if they look like JSON ("123", "true", ...).
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "query",
        "callback_query_id",
        "inline_query_id",
        "url",
        "secret_token",
        "description",
        "short_description",
        "language_code",
        "title",
        "question",
        "next_offset",
        "message_text",
        "emoji",
        "action",
        "ip_address",
        "file_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "name",
        "custom_title",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "address",
        "payload",
        "currency",
        "start_parameter",
        "error_message",
        "photo",
        "document",
        "sticker",
        "voice",
        "audio",
        "video",
        "animation",
        "video_note",
        "thumbnail",
    }
)
_INLINE_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)


# --------------------------------------------------------------------------- faults & records


@dataclass(frozen=True)
class Fault:
    """An error (or delay) the fake answers with instead of the normal result.

    ``delay`` alone answers 504 after it (a timeout); with ``process_after_delay`` the call is executed after it
    (latency); an error fault (``status`` ≥ 400) with a ``delay`` is answered after it (a slow error)."""

    kind: str
    status: int = 200
    description: str = ""
    parameters: Mapping[str, Any] | None = None
    delay: float = 0.0
    process_after_delay: bool = False
    raw_body: str | None = None

    @classmethod
    def retry_after(cls, seconds: int) -> Fault:
        """HTTP 429 flood wait → ``telegram.error.RetryAfter``."""
        return cls("retry_after", 429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})

    @classmethod
    def forbidden(cls, description: str = "Forbidden: bot was blocked by the user") -> Fault:
        """HTTP 403 → ``telegram.error.Forbidden``."""
        return cls("forbidden", 403, description)

    @classmethod
    def chat_not_found(cls) -> Fault:
        """HTTP 400 "chat not found" → ``telegram.error.BadRequest``."""
        return cls("chat_not_found", 400, "Bad Request: chat not found")

    @classmethod
    def migrated(cls, new_chat_id: int) -> Fault:
        """HTTP 400 with ``migrate_to_chat_id`` → ``telegram.error.ChatMigrated``."""
        return cls(
            "migrated",
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": new_chat_id},
        )

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """HTTP 5xx → ``telegram.error.NetworkError`` (502 comes with nginx's HTML body, like in reality)."""
        if status == 502:
            body = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"  # noqa: E501
            return cls("server_error", 502, "Bad Gateway", raw_body=body)
        return cls("server_error", status, "Internal Server Error")

    @classmethod
    def timeout(cls, seconds: float = 2.0, *, then_process: bool = False) -> Fault:
        """Answer only after ``seconds`` (longer than the client's read timeout → ``TimedOut``).

        With ``then_process=True`` the call is executed after the delay, like Telegram does when the
        client gave up (e.g. a message is delivered although the bot saw ``TimedOut``).
        """
        return cls("timeout", 200, "", delay=seconds, process_after_delay=then_process)

    @classmethod
    def bad_request(cls, text: str) -> Fault:
        """HTTP 400 "Bad Request: <text>" → ``telegram.error.BadRequest``."""
        desc = text if text.startswith("Bad Request") else f"Bad Request: {text}"
        return cls("bad_request", 400, desc)

    def body(self) -> JSON:
        """The JSON error body Telegram would send."""
        data: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            data["parameters"] = dict(self.parameters)
        return data


FaultPlan = Callable[[str, JSON], Fault | None]


@dataclass
class Call:
    """One recorded API request. ``status`` is None while it is still being answered."""

    method: str
    params: JSON
    time: float
    status: int | None = None
    result: Any = None
    description: str | None = None
    fault: Fault | None = None

    @property
    def done(self) -> bool:
        return self.status is not None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class Rejection:
    """A request the fake refused because real Telegram would refuse it (a bot bug, usually)."""

    method: str
    params: JSON
    description: str


@dataclass
class _SendStamp:
    time: float
    chat: ChatKey
    call: Call


class _ApiError(Exception):
    def __init__(
        self, status: int, description: str, parameters: JSON | None = None, *, rejection: bool = True
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        self.rejection = rejection


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


# --------------------------------------------------------------------------- text validation


class HtmlParseError(ValueError):
    """Telegram's HTML parse mode would reject the text."""


_HTML_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z][a-zA-Z0-9]*));")
_START_TAG_RE = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
_END_TAG_RE = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_ATTR_RE = re.compile(r"""([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>]+)))?""")


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start16: int
    start_index: int
    language: str | None = None


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, i: int) -> tuple[str, int]:
    m = _ENTITY_RE.match(text, i)
    if m:
        dec, hexa, name = m.groups()
        if name is not None:
            if name in _NAMED_ENTITIES:
                return _NAMED_ENTITIES[name], m.end()
        else:
            code = int(dec) if dec is not None else int(hexa, 16)
            if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                return chr(code), m.end()
    raise HtmlParseError(
        f'Unsupported HTML entity or unescaped "&" at byte offset {_byte_offset(text, i)}; '
        "use &amp;, &lt;, &gt;, &quot; or numeric entities"
    )


def _parse_start_tag(text: str, i: int) -> tuple[str, dict[str, str], int]:
    m = _START_TAG_RE.match(text, i)
    offset = _byte_offset(text, i)
    if not m:
        raise HtmlParseError(f'Unexpected "<" at byte offset {offset}; a literal "<" must be written as &lt;')
    name = m.group(1).lower()
    if name not in _HTML_TAG_ENTITY:
        raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
    attrs: dict[str, str] = {}
    j = m.end()
    while True:
        k = j
        while k < len(text) and text[k].isspace():
            k += 1
        if k >= len(text):
            raise HtmlParseError(f"Unclosed start tag at byte offset {offset}")
        if text[k] == ">":
            return name, attrs, k + 1
        a = _ATTR_RE.match(text, k) if k > j else None
        if not a:
            raise HtmlParseError(f'Invalid attribute or unclosed start tag "{name}" at byte offset {offset}')
        value = next((g for g in a.groups()[1:] if g is not None), "")
        attrs[a.group(1).lower()] = html.unescape(value)
        j = a.end()


def _close_tag(tag: _OpenTag, out: list[str], pos16: int, stack: list[_OpenTag]) -> JSON | None:
    length = pos16 - tag.start16
    kind = _HTML_TAG_ENTITY[tag.name]
    if tag.name == "code" and stack and stack[-1].name == "pre":
        cls = tag.attrs.get("class", "")
        if cls.startswith("language-"):
            stack[-1].language = cls.removeprefix("language-")
            return None
    if length <= 0:
        return None
    ent: JSON = {"type": kind, "offset": tag.start16, "length": length}
    if kind == "text_link":
        url = tag.attrs.get("href") or "".join(out[tag.start_index :])
        user = re.fullmatch(r"tg://user\?id=(\d+)", url)
        if user:
            ent = {
                "type": "text_mention",
                "offset": tag.start16,
                "length": length,
                "user": {"id": int(user.group(1)), "is_bot": False, "first_name": "User"},
            }
        else:
            ent["url"] = url
    elif kind == "pre" and tag.language:
        ent["language"] = tag.language
    elif kind == "blockquote" and "expandable" in tag.attrs:
        ent["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        ent["custom_emoji_id"] = tag.attrs["emoji-id"]
    return ent


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Parse Telegram-HTML into (plain text, entities with UTF-16 offsets); raise HtmlParseError.

    Stricter than Telegram in one respect, on purpose: a bare ``>`` or an ``&`` that starts no valid
    entity is an error (Telegram's docs require escaping them; the server sometimes tolerates it).
    """
    out: list[str] = []
    pos16 = 0
    stack: list[_OpenTag] = []
    entities: list[JSON] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded, i = _decode_entity(text, i)
            out.append(decoded)
            pos16 += utf16_len(decoded)
            continue
        if ch == ">":
            raise HtmlParseError(
                f'Unexpected ">" at byte offset {_byte_offset(text, i)}; a literal ">" must be written as &gt;'
            )
        if ch != "<":
            out.append(ch)
            pos16 += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        offset = _byte_offset(text, i)
        if text.startswith("</", i):
            m = _END_TAG_RE.match(text, i)
            if not m:
                raise HtmlParseError(f"Unclosed end tag at byte offset {offset}")
            name = m.group(1).lower()
            if not stack:
                raise HtmlParseError(f'Unexpected end tag "{name}" at byte offset {offset}')
            top = stack.pop()
            if top.name != name:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{top.name}>", found "</{name}>"'
                )
            ent = _close_tag(top, out, pos16, stack)
            if ent:
                entities.append(ent)
            i = m.end()
            continue
        name, attrs, i = _parse_start_tag(text, i)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if name == "tg-emoji" and not attrs.get("emoji-id"):
            raise HtmlParseError(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {offset}')
        stack.append(_OpenTag(name, attrs, pos16, len(out)))
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


_MD_LINK_RE = re.compile(r"\[((?:\\.|[^\]\\])*)\]\((?:\\.|[^)\\])*\)")


def markdown_plain_text(text: str, *, v2: bool = True) -> str:
    """Approximate visible text of a (legacy) Markdown message; markup is not validated."""
    text = _MD_LINK_RE.sub(r"\1", text)
    text = re.sub(r"```[^\s`]*\n", "", text)
    markup = "*_~|`" if v2 else "*_`["
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if v2 and ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch not in markup:
            out.append(ch)
        i += 1
    return "".join(out)


def visible_text(text: str, parse_mode: str | None) -> tuple[str, list[JSON] | None]:
    """Text as Telegram stores it after entity parsing, plus parsed entities (None if not parsed)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            return parse_html(text)
        except HtmlParseError as exc:
            raise _bad(f"can't parse entities: {exc}") from None
    if mode in ("markdownv2", "markdown"):
        return markdown_plain_text(text, v2=mode == "markdownv2"), None
    return text, None


def check_reply_markup(markup: Any) -> None:
    """Raise like Telegram for invalid inline keyboards (callback_data must be 1–64 bytes, etc.)."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list):
        raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in rows:
        for button in row if isinstance(row, list) else []:
            if not isinstance(button, dict):
                raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(str(data).encode("utf-8"))
                if not isinstance(data, str) or not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad("BUTTON_DATA_INVALID")
            if "url" in button and not str(button["url"]).strip():
                raise _bad("BUTTON_URL_INVALID")
            if not _INLINE_BUTTON_ACTIONS & button.keys():
                raise _bad("text buttons are unallowed in the inline keyboard")


# --------------------------------------------------------------------------- the server


class FakeBotApi:
    """In-process fake of ``https://api.telegram.org`` bound to 127.0.0.1 (see module docstring)."""

    LOOPBACK_HOSTS: ClassVar[frozenset[str]] = frozenset({"127.0.0.1", "::1"})

    def __init__(
        self,
        token: str | None = TOKEN,
        *,
        bot_id: int = BOT_ID,
        username: str = BOT_USERNAME,
        first_name: str = BOT_FIRST_NAME,
        privacy_mode: bool = False,
        max_poll_wait: float = 1.0,
        deliver_webhooks: bool = True,
    ) -> None:
        """``token=None`` accepts any token; ``privacy_mode=True`` drops group messages not meant for the
        bot (as Telegram does for bots with privacy mode on); ``max_poll_wait`` caps getUpdates waits."""
        self.token = token if token is not None else TOKEN
        self._check_token = token is not None
        self.privacy_mode = privacy_mode
        self.max_poll_wait = max_poll_wait
        self.deliver_webhooks = deliver_webhooks
        self.bot_user: JSON = {"id": bot_id, "is_bot": True, "first_name": first_name, "username": username}

        self.calls: list[Call] = []
        self.rejections: list[Rejection] = []
        self.dropped_updates: list[JSON] = []
        self.chats: dict[ChatKey, JSON] = {}
        self.users: dict[int, JSON] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        self.webhook: JSON = {"url": ""}

        self._pending: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._updates_event = asyncio.Event()
        self._calls_event = asyncio.Event()
        self._closing = asyncio.Event()
        self._poll_generation = 0
        self._allowed_updates: frozenset[str] | None = None
        self._messages: dict[tuple[ChatKey, int], JSON] = {}
        self._next_message_id: dict[ChatKey, int] = {}
        self._members: dict[tuple[ChatKey, int], JSON] = {}
        self._blocked: set[int] = set()
        self._migrated: dict[int, int] = {}
        self._open_queries: set[str] = set()
        self._files: dict[str, tuple[str, bytes]] = {}
        self._faults: dict[str, deque[Fault]] = {}
        self._fault_plan: FaultPlan | None = None
        self._send_stamps: list[_SendStamp] = []
        self._deliverer: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers: dict[str, Callable[[JSON], Any]] = {
            name[3:].lower(): getattr(self, name) for name in dir(self) if name.startswith("_m_")
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> Self:
        """Bind 127.0.0.1 on a free port and start serving."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        self._closing.clear()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Wake all waiting requests and shut the server down."""
        self._closing.set()
        self._wake_pollers()
        if self._deliverer:
            self._deliverer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._deliverer
            self._deliverer = None
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url``: ``http://127.0.0.1:PORT/bot``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder.base_file_url``: ``http://127.0.0.1:PORT/file/bot``."""
        return f"{self.url}/file/bot"

    def app_builder(self, **request_kwargs: Any) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
        """An ``ApplicationBuilder`` wired to this fake (httpx ignores proxy env vars: loopback only)."""
        from telegram.ext import ApplicationBuilder
        from telegram.request import HTTPXRequest

        def request() -> HTTPXRequest:
            kwargs = {"connection_pool_size": 16, **request_kwargs}
            kwargs["httpx_kwargs"] = {"trust_env": False, **kwargs.get("httpx_kwargs", {})}
            return HTTPXRequest(**kwargs)

        return (
            ApplicationBuilder()
            .token(self.token)
            .base_url(self.base_url)
            .base_file_url(self.base_file_url)
            .request(request())
            .get_updates_request(request())
        )

    # ------------------------------------------------------------------ recording helpers

    def calls_of(self, method: str) -> list[Call]:
        """All recorded calls of ``method`` (case-insensitive)."""
        low = method.lower()
        return [c for c in self.calls if c.method.lower() == low]

    def sent_messages(self, chat_id: ChatKey | None = None) -> list[JSON]:
        """Message dicts returned by successful sendMessage calls (optionally for one chat)."""
        key = None if chat_id is None else self._chat_key(chat_id)
        return [
            c.result
            for c in self.calls_of("sendMessage")
            if c.ok and isinstance(c.result, dict) and (key is None or c.result["chat"]["id"] == key)
        ]

    def sent_texts(self, chat_id: ChatKey | None = None) -> list[str]:
        """Texts of :meth:`sent_messages` (after entity parsing, as Telegram stores them)."""
        return [m.get("text", "") for m in self.sent_messages(chat_id)]

    @property
    def unknown_methods(self) -> list[str]:
        """Names of called methods the fake has no handler for (answered with ``true``)."""
        return [c.method for c in self.calls if c.method.lower() not in self._handlers]

    async def wait_for(
        self,
        predicate_or_method: str | Callable[[Call], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - waiting with a deadline is this helper's job
        *,
        count: int = 1,
    ) -> Call:
        """Wait until ``count`` answered calls match (method name or predicate); return the last match."""
        matches: Callable[[Call], bool]
        if isinstance(predicate_or_method, str):
            low = predicate_or_method.lower()
            matches = lambda c: c.method.lower() == low  # noqa: E731
        else:
            matches = predicate_or_method
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._calls_event
            found = [c for c in self.calls if c.done and matches(c)]
            if len(found) >= count:
                return found[count - 1]
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = ", ".join(f"{c.method}:{c.status}" for c in self.calls[-15:])
                raise TimeoutError(
                    f"no call matching {predicate_or_method!r} (count={count}) within {timeout}s; "
                    f"recent calls: [{recent}]"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def clear(self) -> None:
        """Forget recorded calls, rejections, dropped updates and send timestamps (not state/faults)."""
        self.calls.clear()
        self.rejections.clear()
        self.dropped_updates.clear()
        self._send_stamps.clear()

    # ------------------------------------------------------------------ state configuration

    def set_chat_member(self, chat_id: ChatKey, user_id: int, status: str, **fields: Any) -> None:
        """Status getChatMember reports (default "member"); for the bot itself it also gates sending."""
        member = chat_member_dict(self._user(user_id), status)
        member.update(fields)
        self._members[(self._chat_key(chat_id), user_id)] = member

    def set_chat(self, chat_id: int, **fields: Any) -> None:
        """Register or update chat details (title, type, username …) used in results and getChat."""
        self.chats[chat_id] = {**self._chat(chat_id), **fields}

    def block(self, user_id: int, blocked: bool = True) -> None:
        """The user blocked the bot: sending to their private chat fails with 403."""
        if blocked:
            self._blocked.add(user_id)
        else:
            self._blocked.discard(user_id)

    def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        """Group ``old_chat_id`` became supergroup ``new_chat_id``; sends to the old id get ChatMigrated."""
        self._migrated[old_chat_id] = new_chat_id

    def add_file(self, file_id: str, content: bytes, *, file_path: str | None = None) -> str:
        """Make ``file_id`` downloadable via getFile + base_file_url; returns its file_path."""
        path = file_path or f"files/{file_id}"
        self._files[file_id] = (path, content)
        return path

    # ------------------------------------------------------------------ faults

    def inject(self, method: str, *faults: Fault) -> None:
        """Queue faults for ``method`` ("*" = any method); each matching call consumes one."""
        self._faults.setdefault(method.lower(), deque()).extend(faults)

    def fault_plan(self, fn: FaultPlan | None) -> None:
        """Decide a fault per call with ``fn(method, params)`` (after queued faults); None removes it."""
        self._fault_plan = fn

    def clear_faults(self) -> None:
        """Drop queued faults and the fault plan."""
        self._faults.clear()
        self._fault_plan = None

    def _take_fault(self, method: str, params: JSON) -> Fault | None:
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        if self._fault_plan is not None:
            return self._fault_plan(method, params)
        return None

    # ------------------------------------------------------------------ rates

    def send_times(self, chat_id: ChatKey | None = None, *, successful_only: bool = False) -> list[float]:
        """Monotonic arrival times of message-sending calls (sendMessage and other send*/copy/forward)."""
        key = None if chat_id is None else self._chat_key(chat_id)
        return sorted(
            s.time for s in self._send_stamps if (key is None or s.chat == key) and (not successful_only or s.call.ok)
        )

    @staticmethod
    def _max_in_window(times: list[float], window: float) -> int:
        best = 0
        lo = 0
        for hi, t in enumerate(times):
            while t - times[lo] >= window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def max_rate_global(self, window: float = 1.0, *, successful_only: bool = False) -> int:
        """Most message sends within any ``window`` seconds, over all chats."""
        return self._max_in_window(self.send_times(successful_only=successful_only), window)

    def max_rate_per_chat(
        self, window: float = 60.0, *, chat_id: ChatKey | None = None, successful_only: bool = False
    ) -> int:
        """Most message sends within any ``window`` seconds to one chat (the worst chat, or ``chat_id``)."""
        chats = {s.chat for s in self._send_stamps} if chat_id is None else {self._chat_key(chat_id)}
        return max(
            (self._max_in_window(self.send_times(c, successful_only=successful_only), window) for c in chats),
            default=0,
        )

    # ------------------------------------------------------------------ feeding updates

    def push_update(self, update: Mapping[str, Any]) -> JSON:
        """Queue an update for getUpdates (or the webhook); assigns a fresh update_id; returns the copy."""
        upd = self._prepare_update(update)
        if self.privacy_mode and not self._visible_in_privacy_mode(upd):
            self.dropped_updates.append(upd)
            return upd
        self._pending.append(upd)
        self._wake_pollers()
        self._kick_deliverer()
        return upd

    async def post_webhook(
        self, url: str, update: Mapping[str, Any], secret_token: str | None = None
    ) -> tuple[int, str]:
        """POST one update to a loopback webhook URL like Telegram does; returns (status, body)."""
        upd = self._prepare_update(update)
        return await self._post_json(url, upd, secret_token)

    def _prepare_update(self, update: Mapping[str, Any]) -> JSON:
        upd = copy.deepcopy(dict(update))
        upd["update_id"] = next(self._update_ids)
        self._learn(upd)
        return upd

    async def _post_json(self, url: str, payload: JSON, secret_token: str | None) -> tuple[int, str]:
        host = urlsplit(url).hostname or ""
        if host not in self.LOOPBACK_HOSTS or not ip_address(host).is_loopback:
            raise ValueError(f"FakeBotApi only talks to 127.0.0.1, refusing {url!r}")
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(trust_env=False, timeout=timeout) as session,
            session.post(url, json=payload, headers=headers) as resp,
        ):
            return resp.status, await resp.text()

    def _wake_pollers(self) -> None:
        event, self._updates_event = self._updates_event, asyncio.Event()
        event.set()

    def _notify_calls(self) -> None:
        event, self._calls_event = self._calls_event, asyncio.Event()
        event.set()

    @staticmethod
    def _update_kind(update: JSON) -> str:
        return next((k for k in update if k != "update_id"), "")

    def _allowed(self, update: JSON) -> bool:
        kind = self._update_kind(update)
        if self._allowed_updates is None:
            return kind not in DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    def _set_allowed_updates(self, value: Any) -> None:
        if isinstance(value, list):
            self._allowed_updates = frozenset(value) if value else None

    def _visible_in_privacy_mode(self, update: JSON) -> bool:
        msg = update.get("message") or update.get("edited_message")
        if not isinstance(msg, dict) or msg.get("chat", {}).get("type") not in ("group", "supergroup"):
            return True
        status = self._member(msg["chat"]["id"], self.bot_user["id"])["status"]
        if status in ("administrator", "creator"):
            return True
        text = msg.get("text") or msg.get("caption")
        if text is None:
            return True  # service messages
        if (msg.get("reply_to_message") or {}).get("from", {}).get("id") == self.bot_user["id"]:
            return True
        handle = "@" + self.bot_user["username"].lower()
        for ent in msg.get("entities") or msg.get("caption_entities") or []:
            piece = _utf16_slice(text, ent["offset"], ent["length"]).lower()
            if ent["type"] == "mention" and piece == handle:
                return True
            if ent["type"] == "bot_command" and ("@" not in piece or piece.endswith(handle)):
                return True
        return False

    # ------------------------------------------------------------------ learning from updates

    def _learn(self, update: JSON) -> None:
        for kind, payload in update.items():
            if not isinstance(payload, dict):
                continue
            if isinstance(payload.get("from"), dict):
                self._learn_user(payload["from"])
            if kind in ("message", "channel_post", "business_message"):
                self._learn_message(payload, new=True)
            elif kind in ("edited_message", "edited_channel_post"):
                self._learn_message(payload, new=False, overwrite=True)
            elif kind == "callback_query":
                self._open_queries.add(str(payload["id"]))
                if isinstance(payload.get("message"), dict):
                    self._learn_message(payload["message"], new=False)
            elif kind == "inline_query":
                self._open_queries.add(str(payload["id"]))
            elif kind in ("my_chat_member", "chat_member"):
                self._learn_chat(payload["chat"])
                member = payload["new_chat_member"]
                self._members[(payload["chat"]["id"], member["user"]["id"])] = copy.deepcopy(member)

    def _learn_user(self, user: JSON) -> None:
        self.users[user["id"]] = {**self.users.get(user["id"], {}), **user}

    def _learn_chat(self, chat: JSON) -> None:
        self.chats[chat["id"]] = {**self.chats.get(chat["id"], {}), **chat}

    def _learn_message(self, msg: JSON, *, new: bool, overwrite: bool = False) -> None:
        chat = msg["chat"]
        self._learn_chat(chat)
        key = chat["id"]
        if isinstance(msg.get("from"), dict):
            self._learn_user(msg["from"])
        if new and (key, msg["message_id"]) in self._messages:
            msg["message_id"] = self._alloc_message_id(key)  # Telegram never reuses message ids
        if overwrite or (key, msg["message_id"]) not in self._messages:
            self._messages[(key, msg["message_id"])] = copy.deepcopy(msg)
        self._next_message_id[key] = max(self._next_message_id.get(key, 1), msg["message_id"] + 1)
        if isinstance(msg.get("reply_to_message"), dict):
            self._learn_message(msg["reply_to_message"], new=False)
        if "migrate_to_chat_id" in msg:
            self._migrated[key] = msg["migrate_to_chat_id"]
        bot_id = self.bot_user["id"]
        if any(u.get("id") == bot_id for u in msg.get("new_chat_members", [])):
            self.set_chat_member(key, bot_id, "member")
        if (msg.get("left_chat_member") or {}).get("id") == bot_id:
            self.set_chat_member(key, bot_id, "left")

    # ------------------------------------------------------------------ chats, users, messages

    def _chat_key(self, chat_id: Any) -> ChatKey:
        if isinstance(chat_id, bool):
            raise _bad("chat not found")
        if isinstance(chat_id, int):
            return chat_id
        if isinstance(chat_id, str):
            s = chat_id.strip()
            if re.fullmatch(r"-?\d+", s):
                return int(s)
            if s.startswith("@") and len(s) > 1:
                for cid, chat in self.chats.items():
                    if str(chat.get("username", "")).lower() == s[1:].lower():
                        return cid
                return -1_000_000_000_000 - zlib.crc32(s.lower().encode())
        raise _bad("chat not found")

    def _chat(self, chat_id: ChatKey) -> JSON:
        if chat_id in self.chats:
            return dict(self.chats[chat_id])
        cid = int(chat_id)
        if cid > 0:
            user = self.users.get(cid, {})
            return {"id": cid, "type": "private", "first_name": user.get("first_name", f"User {cid}")}
        kind = "supergroup" if cid <= -1_000_000_000_000 else "group"
        return {"id": cid, "type": kind, "title": f"Chat {cid}"}

    def _user(self, user_id: int) -> JSON:
        if user_id == self.bot_user["id"]:
            return dict(self.bot_user)
        return dict(self.users.get(user_id, {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}))

    def _member(self, chat_id: ChatKey, user_id: int) -> JSON:
        member = self._members.get((chat_id, user_id))
        return copy.deepcopy(member) if member else chat_member_dict(self._user(user_id), "member")

    def _alloc_message_id(self, chat: ChatKey) -> int:
        n = self._next_message_id.get(chat, 1)
        self._next_message_id[chat] = n + 1
        return n

    def _target_chat(self, params: JSON) -> ChatKey:
        if "chat_id" not in params or params["chat_id"] in ("", None):
            raise _bad("chat_id is empty")
        key = self._chat_key(params["chat_id"])
        if isinstance(key, int) and key in self._migrated:
            raise _ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[key]},
                rejection=False,
            )
        return key

    def _check_can_send(self, key: ChatKey) -> None:
        chat = self._chat(key)
        if chat["type"] == "private":
            if key in self._blocked:
                raise _ApiError(403, "Forbidden: bot was blocked by the user", rejection=False)
            return
        status = self._member(key, self.bot_user["id"])["status"]
        kind = "supergroup chat" if chat["type"] == "supergroup" else "group chat"
        if chat["type"] == "channel":
            kind = "channel chat"
        if status == "kicked":
            raise _ApiError(403, f"Forbidden: bot was kicked from the {kind}", rejection=False)
        if status == "left":
            raise _ApiError(403, f"Forbidden: bot is not a member of the {kind}", rejection=False)

    def _new_message(self, key: ChatKey, params: JSON, **content: Any) -> JSON:
        msg: JSON = {
            "message_id": self._alloc_message_id(key),
            "from": dict(self.bot_user),
            "chat": self._chat(key),
            "date": int(time.time()),
        }
        if msg["chat"]["type"] == "channel":
            msg.pop("from")
            msg["sender_chat"] = dict(msg["chat"])
        if "message_thread_id" in params:
            msg["message_thread_id"] = params["message_thread_id"]
        reply_id = (params.get("reply_parameters") or {}).get("message_id", params.get("reply_to_message_id"))
        if reply_id is not None and (key, reply_id) in self._messages:
            reply = copy.deepcopy(self._messages[(key, reply_id)])
            reply.pop("reply_to_message", None)
            msg["reply_to_message"] = reply
        msg.update({k: v for k, v in content.items() if v is not None})
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup  # Telegram echoes inline keyboards only
        self._messages[(key, msg["message_id"])] = copy.deepcopy(msg)
        return msg

    def _text_and_entities(
        self, params: JSON, text_key: str = "text", limit: int = MAX_MESSAGE_LENGTH
    ) -> tuple[str, list[JSON] | None]:
        is_caption = text_key == "caption"
        raw = params.get(text_key)
        if raw is None and is_caption:
            return "", None
        if not isinstance(raw, str):
            raise _bad("message text is empty" if raw is None else f"{text_key} must be a String")
        text, entities = visible_text(raw, params.get("parse_mode"))
        entities_key = "caption_entities" if is_caption else "entities"
        if params.get(entities_key):
            entities = params[entities_key]
        if not is_caption and not text.strip():
            raise _bad("message text is empty")
        if len(text) > limit:
            raise _bad("message caption is too long" if is_caption else "message is too long")
        return text, entities

    # ------------------------------------------------------------------ HTTP plumbing

    async def _read_params(self, request: web.Request) -> JSON:
        params: JSON = {k: _decode_value(k, v) for k, v in request.query.items()}
        if request.method != "POST" or not request.body_exists:
            return params
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad("can't parse JSON body") from None
            if not isinstance(body, dict):
                raise _bad("JSON body must be an Object")
            params.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    content = value.file.read()
                    params[key] = {
                        "filename": value.filename,
                        "content_type": value.content_type,
                        "size": len(content),
                    }
                else:
                    text = value if isinstance(value, str) else bytes(value).decode("utf-8", "replace")
                    params[key] = _decode_value(key, text)
        return params

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if self._check_token and request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        path = request.match_info["path"]
        for file_path, content in self._files.values():
            if file_path == path:
                return web.Response(body=content, content_type="application/octet-stream")
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method_name = request.match_info["method"]
        if request.method not in ("GET", "POST"):
            return web.json_response({"ok": False, "error_code": 405, "description": "Method Not Allowed"}, status=405)
        if self._check_token and request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        handler = self._handlers.get(method_name.lower())
        canonical = handler.__name__[3:] if handler else method_name
        call = Call(canonical, {}, time.monotonic())
        self.calls.append(call)
        try:
            call.params = await self._read_params(request)
            if _is_send_method(canonical) and "chat_id" in call.params:
                with contextlib.suppress(_ApiError):
                    self._send_stamps.append(_SendStamp(call.time, self._chat_key(call.params["chat_id"]), call))
            fault = self._take_fault(canonical, call.params)
            call.fault = fault
            if fault is not None and fault.delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), fault.delay)
                if fault.status >= 400 and not self._closing.is_set():  # an error that takes its time, as on a WAN
                    return self._finish_fault(call, fault)
                if not fault.process_after_delay or self._closing.is_set():
                    return self._finish(call, 504, {"ok": False, "error_code": 504, "description": "timeout"})
            elif fault is not None:
                return self._finish_fault(call, fault)
            result = await handler(call.params) if handler else True
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            err = _bad(f"invalid parameters ({exc!r})")
            self.rejections.append(Rejection(canonical, call.params, err.description))
            return self._finish(call, 400, {"ok": False, "error_code": 400, "description": err.description})
        except _ApiError as err:
            if err.status == 409 and (request.transport is None or request.transport.is_closing()):
                call.description = "abandoned: the client had already disconnected"
                return self._finish(call, 499, {"ok": False, "error_code": 499, "description": call.description})
            if err.rejection:
                self.rejections.append(Rejection(canonical, call.params, err.description))
            body: JSON = {"ok": False, "error_code": err.status, "description": err.description}
            if err.parameters:
                body["parameters"] = err.parameters
            return self._finish(call, err.status, body)
        call.result = result
        return self._finish(call, 200, {"ok": True, "result": result})

    def _finish_fault(self, call: Call, fault: Fault) -> web.Response:
        if fault.raw_body is not None:
            call.status = fault.status
            call.description = fault.description
            self._notify_calls()
            return web.Response(status=fault.status, text=fault.raw_body, content_type="text/html")
        return self._finish(call, fault.status, fault.body())

    def _finish(self, call: Call, status: int, body: JSON) -> web.Response:
        call.status = status
        if not body.get("ok"):
            call.description = body.get("description")
        self._notify_calls()
        return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    # ------------------------------------------------------------------ methods: bot & updates

    async def _m_getMe(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_getUpdates(self, params: JSON) -> list[JSON]:
        if self.webhook.get("url"):
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()  # a waiting older poll is terminated, as on Telegram
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        if "allowed_updates" in params:
            self._set_allowed_updates(params["allowed_updates"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout, self.max_poll_wait)
        while True:
            event = self._updates_event
            if self._poll_generation != generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                    rejection=False,
                )
            ready = self._take_updates(offset, limit)
            remaining = deadline - loop.time()
            if ready or remaining <= 0 or self._closing.is_set():
                return ready
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _take_updates(self, offset: int, limit: int) -> list[JSON]:
        if offset < 0:
            self._pending = self._pending[offset:]
        elif offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        kept = []
        for upd in self._pending:
            if self._allowed(upd):
                kept.append(upd)
            else:
                self.dropped_updates.append(upd)
        self._pending = kept
        return copy.deepcopy(kept[:limit])

    async def _m_setWebhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        self.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "max_connections": int(params.get("max_connections") or 40),
            "ip_address": params.get("ip_address"),
        }
        self._set_allowed_updates(params.get("allowed_updates"))
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._kick_deliverer()
        return True

    async def _m_deleteWebhook(self, params: JSON) -> bool:
        self.webhook = {"url": ""}
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _m_getWebhookInfo(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if info["url"]:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            if self.webhook.get("ip_address"):
                info["ip_address"] = self.webhook["ip_address"]
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
            for key in ("last_error_date", "last_error_message"):
                if key in self.webhook:
                    info[key] = self.webhook[key]
        return info

    def _kick_deliverer(self) -> None:
        if not (self.deliver_webhooks and self.webhook.get("url") and self._pending):
            return
        if self._deliverer is None or self._deliverer.done():
            with contextlib.suppress(RuntimeError):
                self._deliverer = asyncio.get_running_loop().create_task(self._deliver_loop())

    async def _deliver_loop(self) -> None:
        failures = 0
        while self.webhook.get("url") and self._pending and not self._closing.is_set():
            upd = self._pending[0]
            if not self._allowed(upd):
                self.dropped_updates.append(self._pending.pop(0))
                continue
            try:
                status, text = await self._post_json(self.webhook["url"], upd, self.webhook.get("secret_token"))
                error = None if 200 <= status < 300 else f"Wrong response from the webhook: {status} {text[:80]}"
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
                error = f"Connection failed: {exc}"
            if error is None:
                failures = 0
                if self._pending and self._pending[0] is upd:
                    self._pending.pop(0)
                continue
            self.webhook.update(last_error_date=int(time.time()), last_error_message=error)
            failures += 1
            if failures >= 5:
                failures = 0
                if self._pending and self._pending[0] is upd:
                    self.dropped_updates.append(self._pending.pop(0))
            await asyncio.sleep(0.1)

    # ------------------------------------------------------------------ methods: commands & profile

    def _scope_key(self, params: JSON) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _m_setMyCommands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad('field "commands" must be an Array')
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for cmd in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(cmd.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", "")).strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._scope_key(params)] = copy.deepcopy(commands)
        return True

    async def _m_getMyCommands(self, params: JSON) -> list[JSON]:
        return copy.deepcopy(self.commands.get(self._scope_key(params), []))

    async def _m_deleteMyCommands(self, params: JSON) -> bool:
        self.commands.pop(self._scope_key(params), None)
        return True

    async def _set_description(self, params: JSON, field_name: str, limit: int) -> bool:
        text = str(params.get(field_name) or "")
        if len(text) > limit:
            raise _bad(f"{field_name} is too long")  # approximate wording
        self.descriptions[(field_name, str(params.get("language_code") or ""))] = text
        return True

    async def _m_setMyDescription(self, params: JSON) -> bool:
        return await self._set_description(params, "description", 512)

    async def _m_setMyShortDescription(self, params: JSON) -> bool:
        return await self._set_description(params, "short_description", 120)

    async def _m_getMyDescription(self, params: JSON) -> JSON:
        return {"description": self.descriptions.get(("description", str(params.get("language_code") or "")), "")}

    async def _m_getMyShortDescription(self, params: JSON) -> JSON:
        lang = str(params.get("language_code") or "")
        return {"short_description": self.descriptions.get(("short_description", lang), "")}

    # ------------------------------------------------------------------ methods: messages

    async def _m_sendMessage(self, params: JSON) -> JSON:
        key = self._target_chat(params)
        text, entities = self._text_and_entities(params)
        check_reply_markup(params.get("reply_markup"))
        self._check_can_send(key)
        return self._new_message(key, params, text=text, entities=entities or None)

    def _edit_target(self, params: JSON) -> tuple[ChatKey, int] | None:
        if params.get("inline_message_id"):
            return None
        key = self._target_chat(params)
        if "message_id" not in params:
            raise _bad("message identifier is not specified")
        mid = int(params["message_id"])
        stored = self._messages.get((key, mid))
        if stored is None:
            raise _bad("message to edit not found")
        if (stored.get("from") or {}).get("id", self.bot_user["id"]) != self.bot_user["id"]:
            raise _bad("message can't be edited")
        return key, mid

    async def _m_editMessageText(self, params: JSON) -> JSON | bool:
        text, entities = self._text_and_entities(params)
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        target = self._edit_target(params)
        if target is None:
            return True
        stored = self._messages[target]
        new_markup = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        if (
            stored.get("text") == text
            and (stored.get("entities") or None) == (entities or None)
            and stored.get("reply_markup") == new_markup
        ):
            raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        stored.update(text=text, edit_date=int(time.time()))
        for name, value in (("entities", entities or None), ("reply_markup", new_markup)):
            if value is None:
                stored.pop(name, None)
            else:
                stored[name] = value
        return copy.deepcopy(stored)

    async def _m_editMessageReplyMarkup(self, params: JSON) -> JSON | bool:
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        target = self._edit_target(params)
        if target is None:
            return True
        stored = self._messages[target]
        new_markup = markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None
        if stored.get("reply_markup") == new_markup:
            raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        if new_markup is None:
            stored.pop("reply_markup", None)
        else:
            stored["reply_markup"] = new_markup
        stored["edit_date"] = int(time.time())
        return copy.deepcopy(stored)

    async def _m_editMessageCaption(self, params: JSON) -> JSON | bool:
        caption, entities = self._text_and_entities(params, "caption", MAX_CAPTION_LENGTH)
        check_reply_markup(params.get("reply_markup"))
        target = self._edit_target(params)
        if target is None:
            return True
        stored = self._messages[target]
        stored.update(caption=caption, edit_date=int(time.time()))
        if entities:
            stored["caption_entities"] = entities
        return copy.deepcopy(stored)

    async def _m_deleteMessage(self, params: JSON) -> bool:
        key = self._target_chat(params)
        if self._messages.pop((key, int(params.get("message_id") or 0)), None) is None:
            raise _bad("message to delete not found")
        return True

    async def _m_deleteMessages(self, params: JSON) -> bool:
        key = self._target_chat(params)
        for mid in params.get("message_ids") or []:
            self._messages.pop((key, int(mid)), None)
        return True

    async def _m_answerCallbackQuery(self, params: JSON) -> bool:
        qid = str(params.get("callback_query_id") or "")
        if qid not in self._open_queries:
            raise _ApiError(400, STALE_QUERY)
        self._open_queries.discard(qid)
        return True

    async def _m_answerInlineQuery(self, params: JSON) -> bool:
        qid = str(params.get("inline_query_id") or "")
        results = params.get("results") or []
        if not isinstance(results, list):
            raise _bad('field "results" must be an Array')
        if len(results) > 50:
            raise _bad("RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if any(not 1 <= len(i.encode()) <= 64 for i in ids):
            raise _bad("RESULT_ID_INVALID")
        if len(set(ids)) != len(ids):
            raise _bad("RESULT_ID_DUPLICATE")
        for res in results:
            check_reply_markup(res.get("reply_markup"))
            content = res.get("input_message_content") or {}
            if "message_text" in content:
                self._text_and_entities(content, "message_text")
        if qid not in self._open_queries:
            raise _ApiError(400, STALE_QUERY)
        self._open_queries.discard(qid)
        return True

    async def _m_sendChatAction(self, params: JSON) -> bool:
        key = self._target_chat(params)
        self._check_can_send(key)
        return True

    # ------------------------------------------------------------------ methods: chats

    async def _m_getChatMember(self, params: JSON) -> JSON:
        key = self._target_chat(params)
        return self._member(key, int(params.get("user_id") or 0))

    async def _m_getChat(self, params: JSON) -> JSON:
        key = self._target_chat(params)
        return {
            **self._chat(key),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    async def _m_leaveChat(self, params: JSON) -> bool:
        key = self._target_chat(params)
        self.set_chat_member(key, self.bot_user["id"], "left")
        return True

    async def _m_getFile(self, params: JSON) -> JSON:
        file_id = str(params.get("file_id") or "")
        if file_id not in self._files:
            raise _bad("invalid file_id")
        path, content = self._files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": f"u{zlib.crc32(file_id.encode())}",
            "file_size": len(content),
            "file_path": path,
        }

    # ------------------------------------------------------------------ methods: other sends

    async def _send_media(self, params: JSON, **content: Any) -> JSON:
        key = self._target_chat(params)
        caption, entities = self._text_and_entities(params, "caption", MAX_CAPTION_LENGTH)
        check_reply_markup(params.get("reply_markup"))
        self._check_can_send(key)
        return self._new_message(key, params, caption=caption or None, caption_entities=entities or None, **content)

    @staticmethod
    def _file_obj(params: JSON, name: str, **extra: Any) -> JSON:
        value = params.get(name)
        ident = value if isinstance(value, str) else f"{name}-{zlib.crc32(json.dumps(value).encode())}"
        return {"file_id": ident, "file_unique_id": f"u{zlib.crc32(ident.encode())}", **extra}

    async def _m_sendPhoto(self, params: JSON) -> JSON:
        return await self._send_media(params, photo=[self._file_obj(params, "photo", width=800, height=600)])

    async def _m_sendDocument(self, params: JSON) -> JSON:
        doc = self._file_obj(params, "document")
        if isinstance(params.get("document"), dict):
            doc["file_name"] = params["document"].get("filename")
        return await self._send_media(params, document=doc)

    async def _m_sendSticker(self, params: JSON) -> JSON:
        sticker = self._file_obj(
            params, "sticker", type="regular", width=512, height=512, is_animated=False, is_video=False
        )
        return await self._send_media(params, sticker=sticker)

    async def _m_sendVoice(self, params: JSON) -> JSON:
        return await self._send_media(params, voice=self._file_obj(params, "voice", duration=1))

    async def _m_sendAudio(self, params: JSON) -> JSON:
        return await self._send_media(params, audio=self._file_obj(params, "audio", duration=1))

    async def _m_sendVideo(self, params: JSON) -> JSON:
        video = self._file_obj(params, "video", width=640, height=360, duration=1)
        return await self._send_media(params, video=video)

    async def _m_sendAnimation(self, params: JSON) -> JSON:
        anim = self._file_obj(params, "animation", width=320, height=240, duration=1)
        return await self._send_media(params, animation=anim)

    async def _m_sendLocation(self, params: JSON) -> JSON:
        loc = {"latitude": float(params.get("latitude", 0)), "longitude": float(params.get("longitude", 0))}
        return await self._send_media(params, location=loc)

    async def _m_sendVenue(self, params: JSON) -> JSON:
        loc = {"latitude": float(params.get("latitude", 0)), "longitude": float(params.get("longitude", 0))}
        venue = {"location": loc, "title": params.get("title", ""), "address": params.get("address", "")}
        return await self._send_media(params, location=loc, venue=venue)

    async def _m_sendContact(self, params: JSON) -> JSON:
        contact = {"phone_number": params.get("phone_number", ""), "first_name": params.get("first_name", "")}
        return await self._send_media(params, contact=contact)

    async def _m_copyMessage(self, params: JSON) -> JSON:
        key = self._target_chat(params)
        self._check_can_send(key)
        return {"message_id": self._new_message(key, params, text="(copy)")["message_id"]}

    async def _m_forwardMessage(self, params: JSON) -> JSON:
        key = self._target_chat(params)
        self._check_can_send(key)
        source = self._messages.get((self._chat_key(params.get("from_chat_id")), int(params.get("message_id", 0))))
        text = (source or {}).get("text", "(forwarded)")
        return self._new_message(key, params, text=text)


def _utf16_slice(text: str, offset: int, length: int) -> str:
    data = text.encode("utf-16-le")
    return data[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


def _decode_value(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _is_send_method(method: str) -> bool:
    low = method.lower()
    return (low.startswith("send") and low != "sendchataction") or low in ("copymessage", "forwardmessage")


@contextlib.asynccontextmanager
async def polling(app: Application[Any, Any, Any, Any, Any, Any], **start_polling_kwargs: Any) -> AsyncIterator[None]:
    """Run ``app`` (initialize, start, start_polling) for the ``async with`` body, then shut it down."""
    start_polling_kwargs.setdefault("poll_interval", 0.0)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(**start_polling_kwargs)
        try:
            yield
        finally:
            await app.updater.stop()
            await app.stop()


def iter_buttons(markup: Mapping[str, Any] | None) -> Iterable[JSON]:
    """All inline keyboard buttons of a reply_markup dict (convenience for assertions)."""
    for row in (markup or {}).get("inline_keyboard", []):
        yield from row
