"""Sending milestone announcements through the Application's bot (thin: the outbox decides, this sends).

:func:`deliver` takes the ``pending`` rows of an announcement and sends each with ``bot.send_message``.
The bot's rate limiter (PTB's :class:`~telegram.ext.AIORateLimiter`, see :mod:`bot.tg.app`) keeps the flood
limits and waits out ``429 retry_after``; this module only maps each outcome to the outbox:

=====================================  =======================================================================
outcome                                outbox
=====================================  =======================================================================
message sent                           ``sent`` (with Telegram's message id)
``Forbidden`` (403), chat not found    ``removed``; the subscription ends
``ChatMigrated``                       subscription and row move to the supergroup id; sent there
``TimedOut``                           ``unknown`` – Telegram may have delivered it; never sent again
5xx / connection errors                retried (bounded, back-off), then ``failed``
``RetryAfter`` after the limiter's     waited out and retried (bounded), then ``failed``
own retries
other errors (bad request, …)          ``failed``
=====================================  =======================================================================

:func:`due_milestones` and :func:`announce_scheduled` are what :func:`bot.tg.app.schedule_announcements` uses to put
milestones with ``announce_at`` (Europe/Berlin) on the job queue; it also resumes interrupted announcements.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import html
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.answers import Renderer
from bot.broadcast import AlreadyAnnounced, NothingToSend, Outbox, Report
from bot.knowledge.model import Lang, Milestone
from bot.tg import render
from bot.tg import texts as t

log = logging.getLogger(__name__)

BERLIN: Final = ZoneInfo("Europe/Berlin")
DEFAULT_CONCURRENCY: Final = 8
GONE_HINTS: Final = ("chat not found", "bot was kicked", "bot is not a member", "group chat was deactivated")

Progress = Callable[[Report], Awaitable[None] | None]

# Set by the sender around one ``send_message``: the rate limiter of :mod:`bot.tg.app` calls it after it
# granted the slot, right before the HTTP request, so a row waiting for its turn is still ``pending``
# (a crash then leaves it to be resumed, not in doubt). Limiters without this support: claimed earlier.
BEFORE_SEND: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "faqbot_before_send", default=None
)


class NotClaimed(Exception):
    """The row was no longer ``pending`` when its turn came: it must not be sent."""


def announcement_html(milestone: Milestone, lang: Lang) -> str:
    """Title, text and status of the milestone in ``lang``, as Telegram HTML (everything escaped)."""
    title = html.escape(milestone.title.get(lang), quote=False)
    body = html.escape(milestone.text.get(lang), quote=False)
    status = html.escape(Renderer.milestone_status(milestone, lang), quote=False)
    label = html.escape(t.ANNOUNCE_STATUS.get(lang), quote=False)
    return f"📣 <b>{title}</b>\n\n{body}\n\n{label}: {status}"


def _lang(code: str) -> Lang:
    return "en" if code == "en" else "de"


@dataclass(frozen=True, slots=True)
class SendPolicy:
    """Bounded retries on top of the rate limiter's own (which already retries 429 and 5xx a few times)."""

    network_retries: int = 2
    backoff: float = 0.5
    retry_after_retries: int = 2


async def _send_one(
    bot: Bot, outbox: Outbox, announcement_id: int, chat_id: int, text: str, policy: SendPolicy
) -> None:
    """Send one claimed row (state ``sending``) and record the outcome."""
    network_failures = 0
    retry_afters = 0
    migrations = 0
    while True:
        try:
            message = await bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, link_preview_options=render.NO_PREVIEW
            )
        except RetryAfter as exc:  # the limiter's retries are used up; the request was not executed
            if retry_afters >= policy.retry_after_retries:
                outbox.mark_failed(announcement_id, chat_id, f"RetryAfter: {exc}")
                return
            retry_afters += 1
            outbox.note_attempt(announcement_id, chat_id, f"RetryAfter: {exc}")
            await asyncio.sleep(exc.retry_after if isinstance(exc.retry_after, int | float) else 1.0)
        except ChatMigrated as exc:
            new_id = int(exc.new_chat_id)
            migrations += 1
            if migrations > 2 or not outbox.migrate_chat(announcement_id, chat_id, new_id):
                log.info(
                    "Ankündigung %d: Gruppe %d ist jetzt %d (dort schon geplant)", announcement_id, chat_id, new_id
                )
                return
            log.info(
                "Ankündigung %d: Gruppe %d ist jetzt Supergruppe %d; Abo umgezogen", announcement_id, chat_id, new_id
            )
            chat_id = new_id
        except Forbidden as exc:
            outbox.mark_removed(announcement_id, chat_id, f"Forbidden: {exc.message}")
            log.info("Ankündigung %d: kein Zugang mehr zu Chat %d; Abo beendet", announcement_id, chat_id)
            return
        except TimedOut as exc:
            outbox.mark_unknown(announcement_id, chat_id, f"TimedOut: {exc.message}")
            log.warning("Ankündigung %d: Zeitüberschreitung bei Chat %d; Zustellung unklar", announcement_id, chat_id)
            return
        except BadRequest as exc:
            if any(hint in exc.message.lower() for hint in GONE_HINTS):
                outbox.mark_removed(announcement_id, chat_id, f"BadRequest: {exc.message}")
                log.info("Ankündigung %d: Chat %d nicht gefunden; Abo beendet", announcement_id, chat_id)
            else:
                outbox.mark_failed(announcement_id, chat_id, f"BadRequest: {exc.message}")
            return
        except NetworkError as exc:  # 5xx, connection refused/reset: nothing was delivered
            if network_failures >= policy.network_retries:
                outbox.mark_failed(announcement_id, chat_id, f"{type(exc).__name__}: {exc.message}")
                return
            network_failures += 1
            outbox.note_attempt(announcement_id, chat_id, f"{type(exc).__name__}: {exc.message}")
            await asyncio.sleep(policy.backoff * 2 ** (network_failures - 1))
        except TelegramError as exc:
            outbox.mark_failed(announcement_id, chat_id, f"{type(exc).__name__}: {exc.message}")
            return
        else:
            outbox.mark_sent(announcement_id, chat_id, message.message_id)
            return


async def deliver(
    bot: Bot,
    outbox: Outbox,
    announcement_id: int,
    milestone: Milestone | None,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Progress | None = None,
    progress_interval: float = 3.0,
    policy: SendPolicy | None = None,
) -> Report:
    """Send every ``pending`` row of the announcement; returns the final report.

    ``progress`` (sync or async) is called at most every ``progress_interval`` seconds and once at the end.
    Rows are claimed (``pending → sending``, committed) one by one right before their request (with the
    limiter of :mod:`bot.tg.app`: after it granted the slot), so a crash leaves in doubt only requests
    actually in flight – at most ``concurrency`` – reported as ``unknown`` after a restart.
    """
    policy = policy or SendPolicy()
    if milestone is None:
        outbox.fail_pending(announcement_id, "milestone no longer in the knowledge")
        outbox.finish(announcement_id)
        return outbox.report(announcement_id)
    texts = {lang: announcement_html(milestone, lang) for lang in ("de", "en")}
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for row in outbox.pending(announcement_id):
        queue.put_nowait((row.chat_id, row.lang))
    last_progress = time.monotonic()
    reporting = asyncio.Lock()

    async def report_progress(force: bool = False) -> None:
        nonlocal last_progress
        if progress is None or reporting.locked():
            return
        now = time.monotonic()
        if not force and now - last_progress < progress_interval:
            return
        last_progress = now
        async with reporting:
            try:
                result = progress(outbox.report(announcement_id))
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.warning("Fortschrittsanzeige fehlgeschlagen", exc_info=True)

    async def worker() -> None:
        while True:
            try:
                chat_id, lang = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            hooked = bool(getattr(getattr(bot, "rate_limiter", None), "runs_before_send_hook", False))
            if not hooked and not outbox.claim(announcement_id, chat_id):
                continue  # taken by someone else or already finished: never send twice
            claimed = not hooked

            def claim(chat_id: int = chat_id) -> None:
                nonlocal claimed
                if claimed:
                    return
                if not outbox.claim(announcement_id, chat_id):
                    raise NotClaimed(chat_id)
                claimed = True

            token = BEFORE_SEND.set(claim if hooked else None)
            try:
                await _send_one(bot, outbox, announcement_id, chat_id, texts[_lang(lang)], policy)
            except NotClaimed:
                continue  # taken by someone else or already finished: never send twice
            except Exception as exc:  # a bug or a database error: keep the row in doubt, not re-sent
                log.exception("Ankündigung %d: unerwarteter Fehler bei Chat %d", announcement_id, chat_id)
                try:
                    outbox.mark_unknown(announcement_id, chat_id, f"{type(exc).__name__}: {exc}")
                except Exception:
                    log.exception("Zustand von Chat %d nicht speicherbar", chat_id)
            finally:
                BEFORE_SEND.reset(token)
            asyncio.get_running_loop().create_task(report_progress(), context=contextvars.Context())

    workers = [asyncio.create_task(worker()) for _ in range(max(1, concurrency))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
    outbox.finish(announcement_id)
    report = outbox.report(announcement_id)
    if progress is not None:
        async with reporting:
            try:
                result = progress(report)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.warning("Fortschrittsanzeige fehlgeschlagen", exc_info=True)
    log.info(
        "Ankündigung %d (%s): %d gesendet, %d fehlgeschlagen, %d entfernt, %d unklar, %d offen",
        report.id,
        report.milestone_id,
        report.sent,
        report.failed,
        report.removed,
        report.unknown,
        report.pending,
    )
    return report


# ------------------------------------------------------------------------------------------------ reports


def report_text(report: Report, lang: Lang, title: str | None = None) -> str:
    """The delivery record as plain text (escape it for HTML)."""
    head = t.ANNOUNCE_REPORT.get(lang).format(id=report.id, milestone=title or report.milestone_id)
    counts = t.ANNOUNCE_COUNTS.get(lang).format(
        sent=report.sent,
        failed=report.failed,
        removed=report.removed,
        unknown=report.unknown,
        pending=report.pending,
        total=report.total,
    )
    lines = [head, counts]
    if report.unknown:
        chats = ", ".join(str(c) for c in report.unknown_chats[:20])
        lines.append(t.ANNOUNCE_UNKNOWN.get(lang).format(chats=chats))
    return "\n".join(lines)


def progress_text(report: Report, lang: Lang) -> str:
    return t.ANNOUNCE_PROGRESS.get(lang).format(
        done=report.done, total=report.total, sent=report.sent, failed=report.failed + report.removed
    )


# ----------------------------------------------------------------------------------------------- schedule


def berlin_time(moment: dt.datetime) -> dt.datetime:
    """``announce_at`` from the knowledge (naive = Europe/Berlin wall time) as an aware datetime."""
    return moment.replace(tzinfo=BERLIN) if moment.tzinfo is None else moment


def due_milestones(
    milestones: list[Milestone], outbox: Outbox, now: dt.datetime
) -> tuple[list[Milestone], list[tuple[Milestone, dt.datetime]]]:
    """Split milestones with ``announce_at`` that were never announced into (due now, later with time)."""
    due: list[Milestone] = []
    later: list[tuple[Milestone, dt.datetime]] = []
    for milestone in milestones:
        if milestone.announce_at is None or outbox.was_announced(milestone.id):
            continue
        when = berlin_time(milestone.announce_at)
        if when <= now:
            due.append(milestone)
        else:
            later.append((milestone, when))
    return due, later


async def announce_scheduled(bot: Bot, outbox: Outbox, milestone: Milestone, **kwargs: Any) -> Report | None:
    """The job of one ``announce_at``: announce unless it was announced already (e.g. by an admin)."""
    try:
        announcement_id, _ = outbox.create(milestone.id, milestone.tags, "schedule")
    except AlreadyAnnounced:
        log.info("Meilenstein %s wurde schon angekündigt; geplante Ankündigung entfällt", milestone.id)
        return None
    except NothingToSend:
        log.info("Meilenstein %s: keine abonnierte Gruppe; geplante Ankündigung entfällt", milestone.id)
        return None
    return await deliver(bot, outbox, announcement_id, milestone, **kwargs)
