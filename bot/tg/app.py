"""Wiring: :func:`build_application` (handlers, rate limiting, jobs, command menu) and :func:`run`.

``run`` is what ``faqbot run`` calls: long polling by default, a webhook server when
``FAQBOT_WEBHOOK_URL`` is set. PTB's ``run_polling``/``run_webhook`` stop gracefully on SIGINT/SIGTERM;
the store is closed in ``post_shutdown``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import sqlite3
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, BaseRateLimiter, BaseUpdateProcessor
from telegram.ext import CallbackContext as _CallbackContext

from bot.config import Settings
from bot.knowledge.model import Lang, Text
from bot.service import FaqService, KnowledgeInvalid
from bot.storage import StorageError, Store
from bot.tg import policy
from bot.tg import texts as t
from bot.tg.handlers import ALLOWED_UPDATES, FaqHandlers
from bot.tg.logs import configure_logging

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
JobContext = _CallbackContext[Any, Any, Any, Any]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_INVALID: Final = 2
# Concurrent updates: Telegram allows ~30 messages/s; at ~100 ms per API call 16 in flight are plenty, and
# fewer connections keep httpx's pool cheap (measured: 8–16 beat 32–128 on loopback).
DEFAULT_CONCURRENCY: Final = 16
DEFAULT_POOL_SIZE: Final = 32
PRUNE_INTERVAL: Final = dt.timedelta(days=1)
HEARTBEAT_INTERVAL: Final = dt.timedelta(seconds=60)


# ------------------------------------------------------------------------------------- update processing


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, in order within one chat.

    Different people are answered in parallel (a slow Telegram call for one does not hold up the others),
    while two messages of the same chat are answered in the order they were sent (asyncio locks are FIFO).
    """

    __slots__ = ("_locks",)

    def __init__(self, max_concurrent_updates: int = DEFAULT_CONCURRENCY) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = policy.order_key(update)
        if key is None:
            await coroutine
            return
        lock, users = self._locks.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        except asyncio.CancelledError:
            if isinstance(coroutine, Coroutine):
                coroutine.close()  # cancelled while waiting: it never started, do not warn about it
            raise
        finally:
            current, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (current, users - 1)

    @property
    def waiting_chats(self) -> int:
        """Chats with an update in progress (for tests and debugging)."""
        return len(self._locks)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


class RetryingRateLimiter(AIORateLimiter):
    """PTB's :class:`AIORateLimiter` (flood limits, retries after 429 ``retry_after``) that also retries
    server errors (5xx) and connection failures a few times with a short back-off.

    Not retried: ``BadRequest`` (our mistake; retrying cannot help) and ``TimedOut`` (Telegram may have
    executed the request already; retrying could deliver an answer twice).
    """

    __slots__ = ("_backoff", "_network_retries")

    def __init__(self, *, network_retries: int = 2, backoff: float = 0.5, **kwargs: Any) -> None:
        kwargs.setdefault("max_retries", 3)
        super().__init__(**kwargs)
        self._network_retries = network_retries
        self._backoff = backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        attempt = 0
        while True:
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except (BadRequest, TimedOut):
                raise
            except NetworkError as exc:
                if attempt >= self._network_retries:
                    raise
                delay = self._backoff * 2**attempt
                attempt += 1
                log.warning("Telegram %s: %s – neuer Versuch %d in %.1f s", endpoint, exc, attempt, delay)
                await asyncio.sleep(delay)


def default_rate_limiter() -> RetryingRateLimiter:
    """Telegram's documented limits: 30 messages/s overall, 20/min per group; 3 retries after a 429."""
    return RetryingRateLimiter(max_retries=3)


# ------------------------------------------------------------------------------------------- application


def build_application(
    settings: Settings,
    service: FaqService,
    store: Store,
    *,
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] | None = None,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> App:
    """The bot as a PTB :class:`Application`, ready for ``run_polling``/``run_webhook`` or a manual start.

    ``builder`` lets tests start from a pre-configured builder (e.g. ``FakeBotApi.app_builder()``, which
    pins requests to loopback); token and base URL always come from ``settings``. ``rate_limiter``
    defaults to :func:`default_rate_limiter`.
    """
    handlers = FaqHandlers(settings, service, store)

    async def post_init(app: App) -> None:
        me = app.bot
        log.info(
            "faqbot läuft als @%s; Wissensbasis %s (%d Einträge)",
            me.username,
            service.knowledge.version,
            len(service.knowledge.entries),
        )
        await register_commands(app, settings)
        write_heartbeat(settings)  # initialised: alive (the job refreshes it every minute)

    async def post_shutdown(app: App) -> None:
        store.close()
        log.info("faqbot beendet; Datenbank geschlossen")

    if builder is None:
        builder = ApplicationBuilder().connection_pool_size(DEFAULT_POOL_SIZE)
    builder = builder.token(settings.token)
    if settings.base_url:
        builder = builder.base_url(settings.base_url)
    app: App = (
        builder.rate_limiter(rate_limiter or default_rate_limiter())
        .concurrent_updates(ChatOrderedUpdateProcessor(concurrency))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    handlers.register(app)
    app.bot_data["faqbot"] = handlers
    if app.job_queue is None:  # pragma: no cover - the job-queue extra is a dependency
        raise RuntimeError("python-telegram-bot[job-queue] is required")
    app.job_queue.run_repeating(prune_job(store, settings.retention_days), PRUNE_INTERVAL, first=60, name="prune")
    app.job_queue.run_repeating(heartbeat_job(settings), HEARTBEAT_INTERVAL, name="heartbeat")
    return app


def _commands(entries: tuple[tuple[str, Text], ...], lang: Lang) -> list[BotCommand]:
    return [BotCommand(name, text.get(lang)) for name, text in entries]


async def register_commands(app: App, settings: Settings) -> None:
    """The command menu: German by default, English for English clients; admins also see their commands.

    A failure is logged and does not stop the bot (the menu is a convenience)."""
    bot = app.bot
    scopes: list[tuple[Any, tuple[tuple[str, Text], ...]]] = [
        (BotCommandScopeDefault(), t.COMMANDS),
        (BotCommandScopeAllGroupChats(), t.GROUP_COMMANDS),
    ]
    admin_commands = t.COMMANDS + t.ADMIN_COMMANDS
    scopes += [(BotCommandScopeChat(admin_id), admin_commands) for admin_id in sorted(settings.admin_ids)]
    for scope, entries in scopes:
        languages: tuple[tuple[str | None, Lang], ...] = ((None, "de"), ("en", "en"))
        for language_code, lang in languages:
            try:
                await bot.set_my_commands(_commands(entries, lang), scope=scope, language_code=language_code)
            except TelegramError as exc:
                log.warning("Befehlsmenü (%s, %s) nicht gesetzt: %s", scope.type, language_code or "de", exc)


def prune_job(store: Store, retention_days: int) -> Callable[[JobContext], Coroutine[Any, Any, None]]:
    """The daily retention job: delete log rows, feedback and update ids older than ``retention_days``."""

    async def prune(context: JobContext) -> None:
        try:
            deleted = store.prune(retention_days)
        except (sqlite3.Error, StorageError):
            log.exception("Aufräumen der Datenbank fehlgeschlagen")
            return
        log.info("Aufbewahrungsfrist %d Tage: %d alte Zeilen gelöscht", retention_days, deleted)

    return prune


def heartbeat_job(settings: Settings) -> Callable[[JobContext], Coroutine[Any, Any, None]]:
    """Touch ``data/heartbeat`` while the bot runs (read by the container HEALTHCHECK, bot.tg.health)."""

    async def heartbeat(context: JobContext) -> None:
        updater = context.application.updater
        if updater is not None and not updater.running:
            return  # not receiving updates: let the heartbeat go stale
        write_heartbeat(settings)

    return heartbeat


def write_heartbeat(settings: Settings) -> None:
    try:
        settings.heartbeat_path.parent.mkdir(parents=True, exist_ok=True)
        settings.heartbeat_path.write_text(f"{int(time.time())}\n", encoding="ascii")
    except OSError as exc:
        log.warning("Heartbeat-Datei nicht schreibbar: %s", exc)


# ------------------------------------------------------------------------------------------------- run


def run(settings: Settings) -> int:
    """Run the bot until SIGINT/SIGTERM. Returns a process exit code (0 after a normal stop)."""
    configure_logging(settings.log_level, settings.secrets)
    try:
        service = FaqService.from_directory(settings.knowledge_dir)
    except KnowledgeInvalid as exc:
        log.error("Wissensbasis %s ist fehlerhaft (%d Fehler):", settings.knowledge_dir, len(exc.result.errors))
        for problem in exc.result.errors:
            log.error("  %s", problem)
        return EXIT_INVALID
    try:
        store = Store.open(settings.db_path)
    except (OSError, sqlite3.Error, StorageError) as exc:
        log.error("Datenbank %s nicht nutzbar: %s", settings.db_path, exc)
        return EXIT_INVALID
    try:
        app = build_application(settings, service, store)
        if settings.webhook_url:
            secret = settings.webhook_secret or secrets.token_urlsafe(32)
            log.info(  # host only: some setups keep a secret in the URL path
                "Webhook-Modus für %s (lauscht auf %s:%d)",
                urlsplit(settings.webhook_url).hostname,
                settings.webhook_listen,
                settings.webhook_port,
            )
            app.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=settings.webhook_path,
                webhook_url=settings.webhook_url,
                secret_token=secret,
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=False,
                bootstrap_retries=3,
            )
        else:
            log.info("Long-Polling-Modus")
            app.run_polling(allowed_updates=list(ALLOWED_UPDATES), drop_pending_updates=False, bootstrap_retries=3)
    except InvalidToken:
        log.error("Telegram lehnt das Token ab (TELEGRAM_BOT_TOKEN prüfen; ggf. bei @BotFather neu erzeugen)")
        return EXIT_FAILED
    except TelegramError as exc:
        log.error("Telegram-Fehler beim Start: %s: %s", type(exc).__name__, exc)
        return EXIT_FAILED
    finally:
        with contextlib.suppress(Exception):
            store.close()
    return EXIT_OK
