"""Wiring: :func:`build_application` (handlers, rate limiting, jobs, command menu) and :func:`run`.

``run`` is what ``faqbot run`` calls: long polling by default, a webhook server when
``FAQBOT_WEBHOOK_URL`` is set. PTB's ``run_polling``/``run_webhook`` stop gracefully on SIGINT/SIGTERM;
the store is closed in ``post_shutdown``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import logging
import secrets
import sqlite3
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final
from urllib.parse import urlsplit

from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, BaseRateLimiter, BaseUpdateProcessor
from telegram.ext import CallbackContext as _CallbackContext

from bot.broadcast import Report
from bot.config import Settings
from bot.knowledge.learned import LEARNED_FILE
from bot.knowledge.model import Lang, Text
from bot.service import FaqService, KnowledgeInvalid, Snapshot
from bot.storage import LiveKnowledge, StorageError, Store
from bot.tg import announce, policy
from bot.tg import texts as t
from bot.tg.handlers import ALLOWED_UPDATES, FaqHandlers
from bot.tg.logs import configure_logging

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
JobContext = _CallbackContext[Any, Any, Any, Any]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_INVALID: Final = 2
# Concurrent updates: Telegram allows ~30 messages/s; at ~100 ms per API call 8 in flight already allow ~80/s.
# httpcore scans every pooled connection on each request, so a small pool is cheaper: 16 connections cover the
# 8 updates plus the 8 announcement workers (bench_telegram.py, 3000 updates × 3: concurrency 16 / pool 32
# 297 updates/s, 8 / 16 344 updates/s).
DEFAULT_CONCURRENCY: Final = 8
DEFAULT_POOL_SIZE: Final = 16
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

    # bot.tg.announce may rely on process_request calling its BEFORE_SEND hook right before a sendMessage
    runs_before_send_hook: Final = True

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
        hook = announce.BEFORE_SEND.get()
        if hook is not None and endpoint == "sendMessage":
            request = callback

            async def callback(*a: Any, **kw: Any) -> bool | dict[str, Any] | list[dict[str, Any]]:
                hook()  # the announcement outbox marks the row `sending` now, right before the request
                return await request(*a, **kw)

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

    async def _run_request(
        self,
        chat: bool,
        group: str | int | bool,
        allow_paid_broadcast: bool,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """PTB's request step, with the wait for a 429 pause moved *before* taking a slot of the limiters.

        PTB takes the slot first and then waits for the pause to end, so every request that got its slot
        during the pause is sent the moment the pause ends – a burst above the configured rate. Here a request
        waits out the pause, then takes its slots; if another 429 started a pause meanwhile, those slots are
        given up (never used) and it queues again. Requests thus leave at the limiter's spacing only.
        """
        if allow_paid_broadcast:  # not used by faqbot; PTB's own path
            return await super()._run_request(chat, group, allow_paid_broadcast, callback, args, kwargs)
        base = self._base_limiter if chat else None
        per_group = self._get_group_limiter(group) if group and self._group_max_rate else None
        paused = self._retry_after_event
        while True:
            await paused.wait()
            if per_group is not None:
                await per_group.acquire()
            if base is not None:
                await base.acquire()
            if paused.is_set():
                return await callback(*args, **kwargs)


def default_rate_limiter() -> RetryingRateLimiter:
    """Telegram's documented limits: 30 messages/s overall, 20/min per group; 3 retries after a 429."""
    return smooth_rate_limiter(OVERALL_PER_SECOND)


ANNOUNCE_JOB: Final = "announce:"
OVERALL_PER_SECOND: Final = 30
SLACK: Final = 0.5  # how many message slots a late sender may catch up


def smooth_rate_limiter(
    per_second: float, *, headroom: float = 0.97, group_max_rate: float = 20, **kwargs: Any
) -> RetryingRateLimiter:
    """PTB's limiter with the overall limit as a small bucket: messages evenly spaced, never a burst.

    ``AIORateLimiter(overall_max_rate=30)`` is a leaky bucket of 30 that may send a burst of 30 and then
    30/s, i.e. up to ~60 within one second. Here the bucket holds 1.5 messages and drips a little below
    ``per_second`` (28.4/s for 30/s; 3 % below at high rates): messages are spaced evenly, a sender that is a
    little late (event loop busy) may catch up by half a slot instead of losing it, and a window of one
    second holds at most ``per_second - 1`` requests as sent – the one message of room absorbs jitter
    between the client and the server. The per-group limit stays PTB's default (20 per minute).
    """
    kwargs.setdefault("max_retries", 3)
    max_rate, time_period = smooth_bucket(per_second, headroom)
    return RetryingRateLimiter(
        overall_max_rate=max_rate, overall_time_period=time_period, group_max_rate=group_max_rate, **kwargs
    )


def smooth_bucket(per_second: float, headroom: float = 0.97) -> tuple[float, float]:
    """``(overall_max_rate, overall_time_period)`` of the small leaky bucket behind :func:`smooth_rate_limiter`."""
    # A bucket of 1 + SLACK dripping at r lets at most 1 + floor(r + SLACK) messages into one second; keep that
    # one message below per_second (room for jitter) and within the relative headroom at high rates.
    drip = min(per_second * headroom, per_second - 1 - SLACK - 0.1)
    return 1 + SLACK, (1 + SLACK) / drip


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
        service.on_swap = lambda snapshot: record_live(store, snapshot)
        record_live(store, service.snapshot)
        write_heartbeat(settings)  # initialised: alive (the job refreshes it every minute)
        try:
            schedule_announcements(app, handlers, settings)
        except (sqlite3.Error, StorageError):
            log.exception("Ankündigungen konnten nicht geplant/fortgesetzt werden")
        handlers.editors.on_live = lambda: schedule_milestones(app, handlers)
        if settings.watch_knowledge:
            handlers.editors.start_watching(app.bot, settings.watch_debounce_ms)

    async def post_shutdown(app: App) -> None:
        handlers.editors.stop_watching()
        for task in list(handlers.tasks):
            task.cancel()  # rows in flight stay `sending` and are reported `unknown` after the restart
        handlers.close()
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
    app.job_queue.run_daily(
        handlers.editors.remind_stale, dt.time(settings.reminder_hour, tzinfo=announce.BERLIN), name="stale-reminder"
    )
    return app


def record_live(store: Store, snapshot: Snapshot) -> None:
    """Note the version that serves in the database, where ``faqbot check`` shows it to editors."""
    live = LiveKnowledge(
        version=snapshot.knowledge.version,
        files_version=snapshot.editors_knowledge.version,
        entries=len(snapshot.knowledge.entries),
        learned=len(snapshot.learned),
        loaded_at=snapshot.loaded_at,
    )
    try:
        store.record_live(live)
    except (sqlite3.Error, StorageError):
        log.exception("Aktive Version nicht speicherbar")


def load_service(settings: Settings, store: Store) -> FaqService:
    """At start-up: the knowledge files plus the phrasings admins attached in the review queue (kept in the
    database), built and self-tested once. Raises :class:`KnowledgeInvalid` like
    :meth:`FaqService.from_directory`; if the database cannot be read, the knowledge files alone serve."""
    try:
        learned = store.learned()
    except (sqlite3.Error, StorageError):
        log.exception("Gelernte Formulierungen nicht lesbar; es gilt nur die Wissensbasis")
        learned = []
    service = FaqService.from_directory(settings.knowledge_dir, learned)
    if learned:
        _log_learned(service, len(learned))
    return service


def _log_learned(service: FaqService, given: int) -> None:
    """How many of the ``given`` learned phrasings serve, and why the others do not."""
    used = len(service.snapshot.learned)
    log.info("%d gelernte Formulierungen in Gebrauch (%d ausgelassen)", used, given - used)
    for problem in service.snapshot.warnings:
        if problem.file == LEARNED_FILE:
            log.warning("  %s", problem)


def schedule_announcements(app: App, handlers: FaqHandlers, settings: Settings) -> None:
    """At start-up: rows left ``sending`` by a crash become ``unknown``; interrupted announcements resume;
    milestones with ``announce_at`` (Europe/Berlin) are put on the job queue, past-due ones run now."""
    assert app.job_queue is not None
    outbox = handlers.outbox
    in_doubt = outbox.recover()
    if in_doubt:
        log.warning("%d Ankündigungs-Zustellungen nach Neustart unklar (werden nicht erneut gesendet)", in_doubt)
    for announcement_id in outbox.resumable():
        app.job_queue.run_once(_resume_job(handlers, settings, announcement_id), 0, name=f"resume:{announcement_id}")
    schedule_milestones(app, handlers)


def schedule_milestones(app: App, handlers: FaqHandlers) -> None:
    """Put the milestones with ``announce_at`` on the job queue (past-due ones run now). Called at start-up
    and whenever a new knowledge version goes live, so an ``announce_at`` added or moved by editors counts
    without a restart; jobs of the previous version are replaced."""
    assert app.job_queue is not None
    for job in app.job_queue.jobs():
        if job.name and job.name.startswith(ANNOUNCE_JOB):
            job.schedule_removal()
    milestones = list(handlers.service.knowledge.milestones.values())
    due, later = announce.due_milestones(milestones, handlers.outbox, dt.datetime.now(announce.BERLIN))
    settings = handlers.settings
    for milestone in due:
        app.job_queue.run_once(_scheduled_job(handlers, settings, milestone.id), 0, name=ANNOUNCE_JOB + milestone.id)
    for milestone, when in later:
        app.job_queue.run_once(_scheduled_job(handlers, settings, milestone.id), when, name=ANNOUNCE_JOB + milestone.id)
    if due or later:
        log.info("Ankündigungen: %d fällig, %d geplant", len(due), len(later))


async def _report_to_admins(handlers: FaqHandlers, bot: Bot, report: Report) -> None:
    """The delivery record of a scheduled or resumed announcement, to every admin in their language."""
    await handlers.editors.notify_admins(bot, lambda lang: html.escape(announce.report_text(report, lang)))


def _resume_job(
    handlers: FaqHandlers, settings: Settings, announcement_id: int
) -> Callable[[JobContext], Coroutine[Any, Any, None]]:
    async def resume(context: JobContext) -> None:
        report = handlers.outbox.report(announcement_id)
        milestone = handlers.service.knowledge.milestones.get(report.milestone_id)
        log.info("Ankündigung %d (%s) wird fortgesetzt", announcement_id, report.milestone_id)
        report = await announce.deliver(
            context.bot, handlers.outbox, announcement_id, milestone, concurrency=handlers.announce_concurrency
        )
        await _report_to_admins(handlers, context.bot, report)

    return resume


def _scheduled_job(
    handlers: FaqHandlers, settings: Settings, milestone_id: str
) -> Callable[[JobContext], Coroutine[Any, Any, None]]:
    async def scheduled(context: JobContext) -> None:
        milestone = handlers.service.knowledge.milestones.get(milestone_id)
        if milestone is None or milestone.announce_at is None:
            log.info("Geplante Ankündigung %s entfällt (nicht mehr in der Wissensbasis)", milestone_id)
            return
        report = await announce.announce_scheduled(
            context.bot, handlers.outbox, milestone, concurrency=handlers.announce_concurrency
        )
        if report is not None:
            await _report_to_admins(handlers, context.bot, report)

    return scheduled


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
        store = Store.open(settings.db_path)
    except (OSError, sqlite3.Error, StorageError) as exc:
        log.error("Datenbank %s nicht nutzbar: %s", settings.db_path, exc)
        return EXIT_INVALID
    try:
        service = load_service(settings, store)
    except KnowledgeInvalid as exc:
        store.close()
        log.error("Wissensbasis %s ist fehlerhaft (%d Fehler):", settings.knowledge_dir, len(exc.result.errors))
        for problem in exc.result.errors:
            log.error("  %s", problem)
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
