"""The editors' workflow in Telegram: reload (by /reload or when knowledge files change), /stats, the
/unbeantwortet review queue with learned phrasings, and the daily reminder of overdue ``review_by`` dates.

Thin like the other handlers: what to show is decided in :mod:`bot.tg.admin`, :mod:`bot.review`,
:mod:`bot.lint` and :mod:`bot.service`; this module reads updates, calls those and sends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from telegram import Bot, CallbackQuery, ForceReply, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackContext, CommandHandler, MessageHandler, filters

from bot.knowledge.learned import LearnedPhrasing, check_learnable, learned_path
from bot.knowledge.loader import LoadResult
from bot.knowledge.model import Entry, Lang
from bot.lint import stale_items
from bot.matching.normalize import fold
from bot.review import ReviewGroup, build_review, candidates, find_group
from bot.service import FaqService
from bot.storage import LearnedConflict, StorageError
from bot.tg import admin, policy, render
from bot.tg import callbacks as cb
from bot.tg import texts as t
from bot.tg.announce import BERLIN
from bot.watch import watch_knowledge

if TYPE_CHECKING:
    from bot.tg.handlers import FaqHandlers

log = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]
MAX_SEARCH_RESULTS: Final = 6
MAX_SEARCH_CHARS: Final = 100
SEARCH_TIMEOUT: Final = 600.0  # seconds an admin has to answer "which entry?"


class EditorWorkflow:
    """Handlers and jobs for the admins listed in ``FAQBOT_ADMIN_IDS``. Owned by :class:`FaqHandlers`."""

    def __init__(self, core: FaqHandlers) -> None:
        self.core = core
        self.on_live: Callable[[], None] | None = None  # called after a new knowledge version went live
        self._reload_lock = asyncio.Lock()
        # admin id → (question row, days, prompt message id, when asked) while a search term is awaited
        # admin id → (question row, days, prompt message id, asked at): at most one per admin, so bounded
        self._pending: dict[int, tuple[int, int, int, float]] = {}
        self.searching = filters.User(allow_empty=False)  # admins whose next text is a search term
        self._watching: asyncio.Task[None] | None = None

    @property
    def service(self) -> FaqService:
        return self.core.service

    def register(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Add the admin commands; the search reply must come before the normal question handler."""
        msg = filters.UpdateType.MESSAGE
        private = filters.ChatType.PRIVATE
        app.add_handlers(
            [
                CommandHandler("reload", self.reload_command, filters=msg & private),
                CommandHandler("stats", self.stats, filters=msg & private),
                CommandHandler("unbeantwortet", self.unanswered, filters=msg & private),
                MessageHandler(msg & private & filters.TEXT & ~filters.COMMAND & self.searching, self.search_reply),
            ]
        )

    def _lang(self, user_id: int) -> Lang:
        return policy.resolve_lang(self.core.store.get_lang(user_id), None)

    # --------------------------------------------------------------------------------------------- reload

    async def reload_command(self, update: Update, context: Context) -> None:
        message = await self.core._admin_message(update, "reload")
        if message is None:
            return
        lang = self.core.ui_lang(update.effective_user)
        text = await self.reload(lang)
        await self.core.send_html(message, render.split_html(text))

    async def reload(self, lang: Lang) -> str:
        """Reload the knowledge files (with the learned phrasings); the answer for the admins as HTML."""
        return (await self._reload())(lang)

    async def _reload(self) -> Callable[[Lang], str]:
        """Reload under the lock; returns the admins' answer (HTML) in a given language."""
        async with self._reload_lock:
            serving = self.service.knowledge
            try:
                result: LoadResult = await asyncio.to_thread(self.service.reload, self._stored_learned())
            except Exception as exc:
                log.exception("Neuladen der Wissensbasis fehlgeschlagen")
                failure: BaseException = exc  # `exc` itself is unbound after the except block
                return lambda lang: admin.reload_failed_html(failure, serving, lang)
        if result.knowledge is None:
            log.warning("Neue Wissensbasis abgelehnt: %d Fehler", len(result.errors))
        else:
            self._went_live()
        return lambda lang: admin.reload_html(result, serving, lang)

    def _stored_learned(self) -> list[LearnedPhrasing] | None:
        """The learned phrasings in the database; None (keep those in use) if it cannot be read."""
        try:
            return self.core.store.learned()
        except (sqlite3.Error, StorageError):
            log.exception("Gelernte Formulierungen nicht lesbar")
            return None

    def _went_live(self) -> None:
        if self.on_live is not None:
            try:
                self.on_live()
            except Exception:
                log.exception("Nach dem Neuladen: Folgeaufgaben fehlgeschlagen")

    async def files_changed(self, bot: Bot, names: frozenset[str]) -> None:
        """The file watcher's callback: reload if the files really differ, and tell the admins what happened
        (a refused version once, not again for every save of the same broken files)."""
        if not await asyncio.to_thread(self.service.files_changed):
            await self._learned_changed()
            return
        answer = await self._reload()
        folder = self.service.directory.name if self.service.directory else "knowledge"
        files = ", ".join(sorted(names)) or f"{folder}/"  # no names: found by the periodic rescan
        await self.notify_admins(
            bot, lambda lang: html.escape(t.RELOAD_AUTO.get(lang).format(files=files)) + "\n" + answer(lang)
        )

    async def _learned_changed(self) -> None:
        """Learned phrasings added or removed outside this process (``faqbot learned remove``) go live too."""
        learned = self._stored_learned()
        if learned is None or {item.id for item in learned} == self.service.snapshot.learned_given:
            return
        async with self._reload_lock:
            prepared = await asyncio.to_thread(self.service.use_learned, learned)
        log.info("Gelernte Formulierungen geändert: %d in Gebrauch", len(self.service.snapshot.learned))
        if prepared.snapshot is not None:
            self._went_live()

    def start_watching(self, bot: Bot, debounce_ms: int) -> asyncio.Task[None] | None:
        directory = self.service.directory
        if directory is None:
            return None

        async def changed(names: frozenset[str]) -> None:
            await self.files_changed(bot, names)

        self._watching = self.core.start_task(watch_knowledge(directory, changed, debounce_ms=debounce_ms))
        return self._watching

    def stop_watching(self) -> None:
        if self._watching is not None:
            self._watching.cancel()
            self._watching = None

    async def notify_admins(self, bot: Bot, text_for: Callable[[Lang], str]) -> int:
        """Send a message to every admin in their language; returns how many got it."""
        sent = 0
        for admin_id in sorted(self.core.settings.admin_ids):
            lang = self._lang(admin_id)
            try:
                for chunk in render.split_html(text_for(lang)):
                    await bot.send_message(
                        admin_id, chunk, parse_mode=ParseMode.HTML, link_preview_options=render.NO_PREVIEW
                    )
                sent += 1
            except TelegramError as exc:  # the admin never started the bot, blocked it, …
                log.info("Nachricht an Admin nicht zustellbar: %s", exc)
        return sent

    # ---------------------------------------------------------------------------------------------- stats

    async def _admin_days(self, update: Update, context: Context, command: str) -> tuple[Message, Lang, int] | None:
        """An admin command with an optional number of days (``/stats 7``); None after a refusal or a usage hint."""
        message = await self.core._admin_message(update, command)
        if message is None:
            return None
        lang = self.core.ui_lang(update.effective_user)
        days = policy.parse_days(context.args or ())
        if days is None:
            await self.core.send_text(message, t.DAYS_USAGE.get(lang).format(max=365))
            return None
        return message, lang, days

    async def stats(self, update: Update, context: Context) -> None:
        asked = await self._admin_days(update, context, "stats")
        if asked is None:
            return
        message, lang, days = asked
        snapshot = self.service.snapshot
        stale = stale_items(snapshot.editors_knowledge, dt.datetime.now(BERLIN).date())
        text = admin.stats_html(self.core.store.stats(days), snapshot, stale, lang)
        await self.core.send_html(message, render.split_html(text))

    async def remind_stale(self, context: Context) -> None:
        """Daily job: tell the admins about entries and facts whose ``review_by`` passed – once per item and
        date (a new, again passed ``review_by`` is reminded again)."""
        knowledge = self.service.snapshot.editors_knowledge
        try:
            due = [
                item
                for item in stale_items(knowledge, dt.datetime.now(BERLIN).date())
                if self.core.store.mark_reminded(item.kind, item.id, item.review_by)
            ]
        except (sqlite3.Error, StorageError):
            log.exception("Erinnerung an überfällige Einträge nicht möglich")
            return
        if not due:
            return
        sent = await self.notify_admins(context.bot, lambda lang: admin.stale_reminder_html(due, lang))
        log.info("Erinnerung an %d überfällige Einträge/Fakten an %d Admins", len(due), sent)

    # --------------------------------------------------------------------------------------- review queue

    def review_groups(self, days: int) -> list[ReviewGroup]:
        return build_review(self.core.store.review_items(days=days))

    async def _review_groups(self, days: int) -> list[ReviewGroup]:
        """:meth:`review_groups` off the event loop: grouping hundreds of wordings takes a noticeable moment."""
        return await asyncio.to_thread(self.review_groups, days)

    def review_card(
        self, groups: list[ReviewGroup], index: int, days: int, lang: Lang
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        snapshot = self.service.snapshot
        return admin.review_card(
            groups, index, days, snapshot.knowledge, lang, lambda group: candidates(group, snapshot.matcher)
        )

    async def unanswered(self, update: Update, context: Context) -> None:
        asked = await self._admin_days(update, context, "unbeantwortet")
        if asked is None:
            return
        message, lang, days = asked
        text, keyboard = self.review_card(await self._review_groups(days), 0, days, lang)
        await self.core.send_html(message, [text], keyboard)

    async def pressed(self, query: CallbackQuery, message: Message, action: cb.ReviewPage | cb.Review) -> None:
        """A button of a review card or of search results (admins only; forged data was refused before)."""
        user = query.from_user
        lang = self.core.ui_lang(user)
        if not self.core._is_admin(user):
            log.warning("Review-Knopf abgelehnt für user_id=%s", user.id)
            await self.core._answer_query(query, t.ADMIN_ONLY.get(lang))
            return
        if isinstance(action, cb.ReviewPage):
            await self.core._answer_query(query)
            await self._show_card(query, message, action.days, action.index, lang)
            return
        groups = await self._review_groups(action.days)
        group = find_group(groups, action.question_id)
        row = self.core.store.question(action.question_id)
        if group is None or row is None:
            await self.core._answer_query(query, t.REVIEW_GONE.get(lang))
            await self._show_card(query, message, action.days, 0, lang, groups)
            return
        index = groups.index(group)
        if action.verb == "dismiss":
            self.core.store.dismiss_review(group.normalized_keys, "dismissed")
            await self.core._answer_query(
                query, t.REVIEW_DISMISSED.get(lang).format(question=render.label(row.question))
            )
            # Dismissing takes exactly this group's rows out of the queue: the others stay as they were.
            rest = [g for g in groups if g is not group]
            await self._show_card(query, message, action.days, index, lang, rest)
        elif action.verb == "search":
            await self.core._answer_query(query)
            text = t.REVIEW_SEARCH_PROMPT.get(lang).format(question=render.label(row.question, 200))
            prompt = await message.reply_text(text, reply_markup=ForceReply(selective=True), do_quote=False)
            self._pending[user.id] = (action.question_id, action.days, prompt.message_id, time.monotonic())
            self.searching.add_user_ids(user.id)
        else:
            entry = cb.resolve_entry(self.service.knowledge, action.entry_ref or "")
            if entry is None:
                await self.core._answer_query(query, t.CB_STALE.get(lang))
                return
            await self.core._answer_query(query)
            text = await self.attach(row.question, row.lang, entry, group, lang)
            await self.core.send_html(message, [text])
            if _is_card(message):  # pressed on the card itself: show the next open question there
                await self._show_card(query, message, action.days, index, lang)

    async def attach(self, question: str, question_lang: str, entry: Entry, group: ReviewGroup, lang: Lang) -> str:
        """Adopt ``question`` as a learned phrasing of ``entry``: validated, stored, live at once, self-tested.
        Returns the admin's confirmation or the reason it was refused (HTML)."""
        phrasing_lang: Lang = "en" if question_lang == "en" else "de"
        reason = check_learnable(self.service.knowledge, entry.id, phrasing_lang, question)
        if reason is not None:
            return html.escape(t.REVIEW_REFUSED.get(lang).format(reason=reason))
        async with self._reload_lock:
            try:
                learned = self.core.store.add_learned(entry.id, phrasing_lang, question)
            except (LearnedConflict, ValueError) as exc:
                return html.escape(t.REVIEW_REFUSED.get(lang).format(reason=str(exc)))
            prepared = await asyncio.to_thread(self.service.use_learned, self.core.store.learned())
            if prepared.snapshot is None or learned.id not in prepared.snapshot.learned_ids:
                # left out by the self-test (or the version refused): take it back, the old phrasings serve on
                # (if a version went live, it is the one without it: nothing to undo there)
                self.core.store.remove_learned(learned.id)
                problems = [str(p) for p in prepared.result.problems if p.path == learned_path(learned.id)]
                problems += [str(p) for p in prepared.result.errors]
                detail = t.REVIEW_SELFTEST_FAILED.get(lang).format(problem="; ".join(problems[:2]) or "?")
                return html.escape(t.REVIEW_REFUSED.get(lang).format(reason=detail))
            self.core.store.dismiss_review(group.normalized_keys, "learned")
        answer = self.service.ask(question, phrasing_lang).match
        text = t.REVIEW_LEARNED.get(lang).format(question=question, title=entry.title(lang), entry=entry.id)
        lines = [html.escape(text)]
        if answer.status == "answer" and answer.entry_id == entry.id:
            lines.append(html.escape(t.REVIEW_LEARNED_CHECK.get(lang)))
        return "\n".join(lines)

    async def _show_card(
        self,
        query: CallbackQuery,
        message: Message,
        days: int,
        index: int,
        lang: Lang,
        groups: list[ReviewGroup] | None = None,
    ) -> None:
        """The review card at ``index`` (``groups``: the queue as it stands, if the caller has it already)."""
        if groups is None:
            groups = await self._review_groups(days)
        text, keyboard = self.review_card(groups, index, days, lang)
        await self.core._edit_or_send(query, message, [text], keyboard)

    async def search_reply(self, update: Update, context: Context) -> None:
        """The admin's answer to "which entry?": the entries that fit, as buttons to attach the question."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or not message.text:
            return
        self.searching.remove_user_ids(user.id)
        pending = self._pending.pop(user.id, None)
        lang = self.core.ui_lang(user)
        replied_to = message.reply_to_message.message_id if message.reply_to_message else None
        if (
            pending is None
            or not self.core._is_admin(user)
            or time.monotonic() - pending[3] > SEARCH_TIMEOUT
            or replied_to not in (None, pending[2])
        ):  # not an answer to "which entry?" (any more): an ordinary question
            await self.core.private_text(update, context)
            return
        question_id, days = pending[:2]
        term = message.text.strip()[:MAX_SEARCH_CHARS]
        text, keyboard = admin.search_results(self.search_entries(term, lang), term, question_id, days, lang)
        await self.core.send_html(message, [text], keyboard)

    def search_entries(self, term: str, lang: Lang) -> list[Entry]:
        """Entries whose id or phrasings contain ``term``, then those the matcher ranks for it."""
        snapshot = self.service.snapshot
        needle = fold(term)
        found: dict[str, Entry] = {}
        for entry in snapshot.knowledge.entries.values():
            texts = [entry.id, *(p for phrasings in entry.questions.values() for p in phrasings)]
            if needle and any(needle in fold(text) for text in texts):
                found[entry.id] = entry
        for candidate in snapshot.matcher.rank(term, lang):
            if candidate.entry_id in snapshot.knowledge.entries:
                found.setdefault(candidate.entry_id, snapshot.knowledge.entries[candidate.entry_id])
        return list(found.values())[:MAX_SEARCH_RESULTS]


def _is_card(message: Message) -> bool:
    """Whether ``message`` is a review card (it has a dismiss button), not a list of search results."""
    markup = message.reply_markup
    if markup is None:
        return False
    actions = (cb.parse(button.callback_data) for row in markup.inline_keyboard for button in row)
    return any(isinstance(a, cb.Review) and a.verb == "dismiss" for a in actions)
