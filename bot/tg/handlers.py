"""The Telegram handlers: read the update, ask the domain, render, send. Decisions live in pure modules
(:mod:`bot.tg.policy`, :mod:`bot.tg.callbacks`, :mod:`bot.tg.render`, :mod:`bot.tg.admin`).

Privacy: the question log gets no user or chat id (see :mod:`bot.storage`); log lines never contain
question texts; only refusals of admin commands log a user id.
"""

from __future__ import annotations

import asyncio
import html
import logging
import sqlite3
from collections.abc import Sequence
from typing import Any, Final

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackContext,
    CallbackQueryHandler,
    ChatMemberHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.answers import Reply
from bot.broadcast import AlreadyAnnounced, BroadcastError, NothingToSend, Outbox, Report
from bot.config import Settings
from bot.knowledge.model import Entry, Lang
from bot.service import FaqService
from bot.storage import ChatType as LogChatType
from bot.storage import Store
from bot.tg import announce, policy, render
from bot.tg import callbacks as cb
from bot.tg import texts as t
from bot.tg.editors import EditorWorkflow

log = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]
INLINE_RESULTS: Final = 5
INLINE_CACHE_SECONDS: Final = 30
MAX_REFUSED_CHATS: Final = 10_000
STALE_QUERY_HINTS: Final = ("query is too old", "query id is invalid")
GROUP_ADMIN_STATUSES: Final = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
PROGRESS_INTERVAL: Final = 3.0

# Update types the bot asks Telegram for (edited messages and channel posts are received and ignored).
ALLOWED_UPDATES: Final = (
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CHANNEL_POST,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
    Update.CHOSEN_INLINE_RESULT,
    Update.MY_CHAT_MEMBER,
)


def is_parse_error(error: BaseException) -> bool:
    """Telegram refused the HTML (``Bad Request: can't parse entities: …``)."""
    return isinstance(error, BadRequest) and "parse entities" in error.message.lower()


def is_not_modified(error: BaseException) -> bool:
    return isinstance(error, BadRequest) and "message is not modified" in error.message.lower()


class FaqHandlers:
    """All handlers of the bot, bound to one settings/service/store triple."""

    def __init__(self, settings: Settings, service: FaqService, store: Store) -> None:
        self.settings = settings
        self.service = service
        self.store = store
        self._refused: set[int] = set()
        self._outbox: Outbox | None = None
        # announcement previews awaiting confirmation: (chat id, message id) → (admin user id, milestone id)
        self._previews: dict[tuple[int, int], tuple[int, str]] = {}
        self.announce_concurrency = announce.DEFAULT_CONCURRENCY
        self.progress_interval = PROGRESS_INTERVAL
        self.tasks: set[asyncio.Task[Any]] = set()
        self.editors = EditorWorkflow(self)

    @property
    def outbox(self) -> Outbox:
        """The announcement outbox (own connection to the store's database file, opened on first use)."""
        if self._outbox is None:
            self._outbox = Outbox(self.store.path)
        return self._outbox

    def close(self) -> None:
        if self._outbox is not None:
            self._outbox.close()
            self._outbox = None

    # ------------------------------------------------------------------------------------- registration

    def register(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        msg = filters.UpdateType.MESSAGE
        private = filters.ChatType.PRIVATE
        groups = filters.ChatType.GROUPS
        app.add_handler(TypeHandler(Update, self.admit), group=-1)
        self.editors.register(app)  # first: an admin's reply to "which entry?" is not a question
        app.add_handlers(
            [
                CommandHandler("start", self.start, filters=msg),
                CommandHandler(["hilfe", "help"], self.help, filters=msg),
                CommandHandler(["themen", "topics"], self.topics, filters=msg),
                CommandHandler(["meilensteine", "zeitplan", "milestones"], self.milestones, filters=msg),
                CommandHandler(["sprache", "language"], self.language, filters=msg & private),
                CommandHandler(["datenschutz", "privacy"], self.privacy, filters=msg),
                CommandHandler(["vergessen", "forget"], self.forget, filters=msg & private),
                CommandHandler(["frage", "ask"], self.ask_command, filters=msg),
                CommandHandler(["abonnieren", "subscribe"], self.subscribe, filters=msg),
                CommandHandler(["abbestellen", "unsubscribe"], self.unsubscribe, filters=msg),
                CommandHandler(["ankuendigen", "announce"], self.announce, filters=msg & private),
                MessageHandler(msg & filters.StatusUpdate.MIGRATE, self.migrate),
                MessageHandler(msg & private & filters.COMMAND, self.unknown_command),
                MessageHandler(msg & private & filters.TEXT, self.private_text),
                MessageHandler(msg & groups & filters.TEXT & ~filters.COMMAND, self.group_text),
                MessageHandler(msg & private & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.non_text),
                CallbackQueryHandler(self.callback),
                InlineQueryHandler(self.inline),
                ChosenInlineResultHandler(self.chosen_inline),
                ChatMemberHandler(self.my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
                TypeHandler(Update, self.ignored),  # last: whatever no handler above took
            ]
        )
        app.add_error_handler(self.error)

    # ------------------------------------------------------------------------------------------ helpers

    def ui_lang(self, user: User | None) -> Lang:
        return policy.resolve_lang(self._stored_lang(user), user.language_code if user else None)

    def _stored_lang(self, user: User | None) -> str | None:
        if user is None:
            return None
        try:
            return self.store.get_lang(user.id)
        except sqlite3.Error:
            log.exception("Spracheinstellung nicht lesbar")
            return None

    def _is_admin(self, user: User | None) -> bool:
        return self.settings.is_admin(user.id if user else None)

    async def send_html(
        self,
        target: Message,
        chunks: Sequence[str],
        keyboard: InlineKeyboardMarkup | None = None,
        *,
        quote: bool = False,
    ) -> Message | None:
        """Send ``chunks`` into ``target``'s chat (and thread); the keyboard goes under the last one.

        If Telegram cannot parse a chunk's HTML, that chunk is sent again as plain text.
        """
        last: Message | None = None
        for i, chunk in enumerate(chunks):
            markup = keyboard if i == len(chunks) - 1 else None
            reply_parameters = (
                ReplyParameters(target.message_id, allow_sending_without_reply=True) if quote and i == 0 else None
            )
            try:
                last = await target.reply_text(
                    chunk,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=render.NO_PREVIEW,
                    reply_markup=markup,
                    reply_parameters=reply_parameters,
                    do_quote=False,
                )
            except BadRequest as exc:
                if not is_parse_error(exc):
                    raise
                log.warning("Telegram lehnt HTML ab (%s); sende als Klartext", exc.message)
                last = await target.reply_text(
                    render.html_to_plain(chunk),
                    parse_mode=None,
                    link_preview_options=render.NO_PREVIEW,
                    reply_markup=markup,
                    reply_parameters=reply_parameters,
                    do_quote=False,
                )
        return last

    async def send_text(self, target: Message, text: str, *, quote: bool = False) -> Message | None:
        """Send a plain UI text (escaped, split if needed)."""
        return await self.send_html(target, render.split_html(html.escape(text, quote=False)), quote=quote)

    async def send_reply(
        self, target: Message, reply: Reply, *, question_id: int | None = None, quote: bool = False
    ) -> Message | None:
        return await self.send_html(
            target, render.split_html(reply.html()), render.answer_keyboard(reply, question_id), quote=quote
        )

    async def answer_question(self, message: Message, text: str, chat_type: LogChatType) -> None:
        """The core: ask the domain, log the question (no ids), send the answer with its buttons."""
        user = message.from_user
        quote = chat_type == "group"
        if policy.too_long(text):
            notice = t.ASK_SHORTER.get(self.ui_lang(user)).format(length=len(text), limit=policy.MAX_QUESTION_CHARS)
            await self.send_text(message, notice, quote=quote)
            return
        answer = self.service.ask(text, lang=policy.question_lang(self._stored_lang(user)))
        match = answer.match
        question_id: int | None = None
        try:
            question_id = self.store.log_question(
                text,
                match.normalized,
                match.lang,
                match.status,
                match.entry_id,
                round(match.score),
                chat_type,
            )
        except (sqlite3.Error, ValueError):
            log.exception("Frage konnte nicht protokolliert werden")
        await self.send_reply(message, answer.reply, question_id=question_id, quote=quote)

    # -------------------------------------------------------------------------------------------- gates

    async def admit(self, update: Update, context: Context) -> None:
        """Before any handler: skip replayed updates, then apply the allow-list (both stop the update)."""
        await self.dedupe(update, context)
        if self.settings.allowed_chats is not None:
            await self.gate(update, context)

    async def dedupe(self, update: Update, context: Context) -> None:
        """Handle every update at most once (Telegram may deliver an update again after a restart)."""
        try:
            fresh = self.store.mark_update(update.update_id)
        except sqlite3.Error:
            log.exception("Update-ID nicht speicherbar; verarbeite trotzdem")
            return
        if not fresh:
            log.info("Update %d schon verarbeitet; übersprungen", update.update_id)
            raise ApplicationHandlerStop

    async def gate(self, update: Update, context: Context) -> None:
        """The optional allow-list: other private chats get one polite refusal, everything else silence."""
        chat = update.effective_chat
        user = update.effective_user
        if policy.allowed(
            self.settings.allowed_chats, chat.id if chat else None, user.id if user else None, self._is_admin(user)
        ):
            return
        if update.callback_query is not None:
            await self._answer_query(update.callback_query, t.NOT_ALLOWED.get(self.ui_lang(user)))
        elif (
            chat is not None
            and chat.type == ChatType.PRIVATE
            and update.message is not None
            and chat.id not in self._refused
        ):
            if len(self._refused) >= MAX_REFUSED_CHATS:
                self._refused.clear()
            self._refused.add(chat.id)
            await self.send_text(update.message, t.NOT_ALLOWED.get(self.ui_lang(user)))
        log.info("Update %d aus nicht freigegebenem Chat ignoriert", update.update_id)
        raise ApplicationHandlerStop

    # ----------------------------------------------------------------------------------------- commands

    async def start(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        lang = self.ui_lang(update.effective_user)
        entry_id = policy.deep_link_entry(context.args or ())
        if entry_id is not None:
            reply = self.service.entry_reply(entry_id, lang)
            if reply is not None:
                await self.send_reply(message, reply)
                return
        text = f"{t.WELCOME.get(lang)}\n\n{t.WELCOME_PRIVACY.get(lang)}"
        rows = [
            [InlineKeyboardButton(render.label(e.title(lang)), callback_data=cb.entry(e.id))] for e in self._examples()
        ]
        rows.append([InlineKeyboardButton(t.BTN_BROWSE.get(lang), callback_data=cb.topics())])
        await self.send_html(message, render.split_html(html.escape(text, quote=False)), InlineKeyboardMarkup(rows))

    def _examples(self, count: int = 3) -> list[Entry]:
        """One entry of each of the first topics: example questions for the welcome message."""
        knowledge = self.service.knowledge
        examples = []
        for topic in render.browsable_topics(knowledge):
            examples.append(knowledge.entries_in_topic(topic.id)[0])
            if len(examples) == count:
                break
        return examples

    async def help(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        lang = self.ui_lang(update.effective_user)
        text = t.HELP.get(lang).format(username=context.bot.username)
        if self._is_admin(update.effective_user) and message.chat.type == ChatType.PRIVATE:
            text += "\n\n" + t.ADMIN_HELP.get(lang)
        await self.send_text(message, text, quote=message.chat.type != ChatType.PRIVATE)

    async def topics(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        text, keyboard = render.topics_view(self.service.knowledge, self.ui_lang(update.effective_user))
        await self.send_html(message, [text], keyboard, quote=message.chat.type != ChatType.PRIVATE)

    async def milestones(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        lang = self.ui_lang(update.effective_user)
        snapshot = self.service.snapshot
        milestones = list(snapshot.knowledge.milestones.values())
        status = {m.id: snapshot.renderer.milestone_status(m, lang) for m in milestones}
        text = render.milestones_html(milestones, lang, status)
        await self.send_html(message, render.split_html(text), quote=message.chat.type != ChatType.PRIVATE)

    async def language(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        lang = self.ui_lang(update.effective_user)
        await self.send_html(message, [html.escape(t.LANG_PROMPT.get(lang), quote=False)], render.lang_keyboard())

    async def privacy(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        text = t.PRIVACY.get(self.ui_lang(update.effective_user)).format(days=self.settings.retention_days)
        await self.send_text(message, text, quote=message.chat.type != ChatType.PRIVATE)

    async def forget(self, update: Update, context: Context) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return
        deleted = self.store.forget_user(user.id)
        lang = policy.resolve_lang(None, user.language_code)
        await self.send_text(message, (t.FORGOTTEN if deleted else t.NOTHING_TO_FORGET).get(lang))

    async def ask_command(self, update: Update, context: Context) -> None:
        """``/frage <text>`` (also ``/frage@bot``): the way to ask in groups; works in private chats too."""
        message = update.effective_message
        if message is None:
            return
        in_group = message.chat.type != ChatType.PRIVATE
        question = policy.text_after_command(message)
        if not question:
            await self.send_text(message, t.FRAGE_USAGE.get(self.ui_lang(update.effective_user)), quote=in_group)
            return
        await self.answer_question(message, question, "group" if in_group else "private")

    async def unknown_command(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        await self.send_text(message, t.UNKNOWN_COMMAND.get(self.ui_lang(update.effective_user)))

    # ----------------------------------------------------------------------------------------- messages

    async def private_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        await self.answer_question(message, message.text, "private")

    async def group_text(self, update: Update, context: Context) -> None:
        """In groups the bot speaks only when spoken to (mention, text mention, reply to the bot)."""
        message = update.effective_message
        if message is None or not message.text:
            return
        addressed = policy.addressed_in_group(message, context.bot.id, context.bot.username)
        if addressed is None:
            return
        if not addressed.question:
            lang = self.ui_lang(update.effective_user)
            await self.send_text(message, t.MENTION_USAGE.get(lang).format(username=context.bot.username), quote=True)
            return
        await self.answer_question(message, addressed.question, "group")

    async def non_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        await self.send_text(message, t.TEXT_ONLY.get(self.ui_lang(update.effective_user)))

    async def migrate(self, update: Update, context: Context) -> None:
        """A group became a supergroup: its subscription follows the new chat id."""
        message = update.effective_message
        if message is None or message.migrate_to_chat_id is None:
            return
        if self.store.move_subscription(message.chat.id, message.migrate_to_chat_id):
            log.info("Abo von Gruppe %d nach %d umgezogen", message.chat.id, message.migrate_to_chat_id)

    async def my_chat_member(self, update: Update, context: Context) -> None:
        """The bot left or was removed from a group: its subscription ends (nothing else is kept).
        The bot was added to a group: it introduces itself and explains /abonnieren."""
        change = update.my_chat_member
        if change is None:
            return
        status = change.new_chat_member.status
        old = change.old_chat_member.status
        gone = (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
        if status in gone and change.chat.type != ChatType.PRIVATE:
            if self.store.unsubscribe(change.chat.id):
                log.info("Bot hat Chat %d verlassen; Abo beendet", change.chat.id)
            return
        log.info("Bot-Mitgliedschaft in Chat %d: %s", change.chat.id, status)
        if (
            change.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
            and old in gone
            and status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR)
        ):
            lang = policy.resolve_lang(None, change.from_user.language_code if change.from_user else None)
            text = t.GROUP_WELCOME.get(lang).format(username=context.bot.username)
            await context.bot.send_message(
                change.chat.id,
                html.escape(text, quote=False),
                parse_mode=ParseMode.HTML,
                link_preview_options=render.NO_PREVIEW,
            )

    # ------------------------------------------------------------------------------------ subscriptions

    async def _may_manage_group(self, message: Message, user: User | None, context: Context) -> bool:
        """Group administrators (creator/administrator, or anonymous admins writing as the group) and bot
        admins may change a group's subscription."""
        if message.sender_chat is not None and message.sender_chat.id == message.chat.id:
            return True  # an anonymous group admin
        if self._is_admin(user):
            return True
        if user is None or message.sender_chat is not None:
            return False
        try:
            member = await context.bot.get_chat_member(message.chat.id, user.id)
        except TelegramError as exc:
            log.warning("Mitgliedsstatus in Chat %d nicht abfragbar: %s", message.chat.id, exc)
            return False
        return member.status in GROUP_ADMIN_STATUSES

    def _milestone_tags(self) -> list[str]:
        return sorted({tag.lower() for m in self.service.knowledge.milestones.values() for tag in m.tags})

    async def _managed_group_message(self, update: Update, context: Context) -> tuple[Message, Lang] | None:
        """The group message of a subscription command, if its sender may manage the group's subscription.

        Private chats and group members who are not administrators get a polite refusal (None is returned).
        """
        message = update.effective_message
        if message is None:
            return None
        user = update.effective_user
        lang = self.ui_lang(user)
        if message.chat.type == ChatType.PRIVATE:
            await self.send_text(message, t.SUBSCRIBE_GROUPS_ONLY.get(lang))
            return None
        if not await self._may_manage_group(message, user, context):
            await self.send_text(message, t.SUBSCRIBE_ADMINS_ONLY.get(lang), quote=True)
            return None
        return message, lang

    async def subscribe(self, update: Update, context: Context) -> None:
        """``/abonnieren [Thema …] [de|en]`` in a group: announcements for this group (admins only)."""
        managed = await self._managed_group_message(update, context)
        if managed is None:
            return
        message, lang = managed
        known = self._milestone_tags()
        group_lang = "de"
        topics: list[str] = []
        for arg in context.args or ():
            word = arg.strip().lower().strip(",")
            if word in ("de", "en"):
                group_lang = word
            elif word in known:
                topics.append(word)
            elif word:
                notice = t.SUBSCRIBE_UNKNOWN_TOPIC.get(lang).format(topic=arg[:40], topics=", ".join(known) or "–")
                await self.send_text(message, notice, quote=True)
                return
        chat = message.chat
        if self.store.is_subscribed(chat.id):
            self.store.unsubscribe(chat.id)  # re-subscribing replaces topics and language
        self.store.subscribe(chat.id, chat.title or "", group_lang, topics)
        log.info("Gruppe %d hat Ankündigungen abonniert (%d Themen)", chat.id, len(topics))
        reply_lang: Lang = "en" if group_lang == "en" else "de"
        shown = (
            t.SUBSCRIBED_TOPICS.get(reply_lang).format(topics=", ".join(topics))
            if topics
            else t.SUBSCRIBED_ALL.get(reply_lang)
        )
        language = "English" if group_lang == "en" else "Deutsch"
        await self.send_text(message, t.SUBSCRIBED.get(reply_lang).format(topics=shown, lang=language), quote=True)

    async def unsubscribe(self, update: Update, context: Context) -> None:
        """``/abbestellen`` in a group: no more announcements (admins only)."""
        managed = await self._managed_group_message(update, context)
        if managed is None:
            return
        message, lang = managed
        if self.store.unsubscribe(message.chat.id):
            log.info("Gruppe %d hat Ankündigungen abbestellt", message.chat.id)
            await self.send_text(message, t.UNSUBSCRIBED.get(lang), quote=True)
        else:
            await self.send_text(message, t.NOT_SUBSCRIBED.get(lang), quote=True)

    # ------------------------------------------------------------------------------------ announcements

    async def announce(self, update: Update, context: Context) -> None:
        """``/ankuendigen <milestone>`` (admins, private): preview and recipients, confirm/cancel buttons."""
        message = await self._admin_message(update, "ankuendigen")
        if message is None or update.effective_user is None:
            return
        lang = self.ui_lang(update.effective_user)
        milestones = self.service.knowledge.milestones
        ids = ", ".join(milestones) or "–"
        wanted = (context.args or [""])[0].strip().lower()
        if not wanted:
            example = next(iter(milestones), "…")
            await self.send_text(message, t.ANNOUNCE_USAGE.get(lang).format(example=example, ids=ids))
            return
        milestone = milestones.get(wanted)
        if milestone is None:
            await self.send_text(message, t.ANNOUNCE_UNKNOWN_MILESTONE.get(lang).format(id=wanted[:60], ids=ids))
            return
        plan = self.outbox.plan(milestone.id, milestone.tags)
        if not plan.recipients:
            await self.send_text(message, t.ANNOUNCE_NOBODY.get(lang).format(skipped=plan.already_reached))
            return
        parts = [html.escape(t.ANNOUNCE_PREVIEW.get(lang).format(count=len(plan.recipients)), quote=False)]
        if plan.previous:
            parts.append(html.escape(t.ANNOUNCE_AGAIN.get(lang).format(skipped=plan.already_reached), quote=False))
        parts.append(announce.announcement_html(milestone, "de"))
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t.BTN_ANNOUNCE_CONFIRM.get(lang), callback_data=cb.announce(True, milestone.id)
                    ),
                    InlineKeyboardButton(
                        t.BTN_ANNOUNCE_CANCEL.get(lang), callback_data=cb.announce(False, milestone.id)
                    ),
                ]
            ]
        )
        sent = await self.send_html(message, render.split_html("\n\n".join(parts)), keyboard)
        if sent is not None:
            self._previews[(sent.chat.id, sent.message_id)] = (update.effective_user.id, milestone.id)

    async def _announce_pressed(self, query: CallbackQuery, message: Message | None, action: cb.Announce) -> None:
        user = query.from_user
        lang = self.ui_lang(user)
        key = (message.chat.id, message.message_id) if message is not None else None
        preview = self._previews.get(key) if key is not None else None
        milestone = cb.resolve_milestone(self.service.knowledge, action.milestone_ref)
        if preview is None or milestone is None or message is None or preview[1] != milestone.id:
            await self._answer_query(query, t.CB_STALE.get(lang) if milestone is None else t.CB_INVALID.get(lang))
            return
        if preview[0] != user.id or not self._is_admin(user):
            log.warning("Bestätigung einer Ankündigung abgelehnt für user_id=%s", user.id)
            await self._answer_query(query, t.ANNOUNCE_NOT_YOURS.get(lang))
            return
        del self._previews[key]  # type: ignore[arg-type]
        await self._answer_query(query)
        if not action.confirm:
            await self._edit_or_send(query, message, [html.escape(t.ANNOUNCE_CANCELLED.get(lang), quote=False)], None)
            return
        try:
            announcement_id, _ = self.outbox.create(milestone.id, milestone.tags, "admin", force=True)
        except NothingToSend:
            await self._edit_or_send(query, message, [html.escape(t.ANNOUNCE_NOBODY.get(lang).format(skipped=0))], None)
            return
        except (AlreadyAnnounced, BroadcastError, sqlite3.Error):
            log.exception("Ankündigung von %s nicht anlegbar", milestone.id)
            await self._edit_or_send(query, message, [html.escape(t.SORRY_ERROR.get(lang), quote=False)], None)
            return
        log.info("Ankündigung %d (%s) von einem Admin bestätigt", announcement_id, milestone.id)
        await self._edit_or_send(query, message, [html.escape(t.ANNOUNCE_STARTED.get(lang), quote=False)], None)
        title = milestone.title.get(lang)

        async def progress(report: Report) -> None:
            done = not report.pending
            text = announce.report_text(report, lang, title) if done else announce.progress_text(report, lang)
            try:
                await query.get_bot().edit_message_text(
                    html.escape(text, quote=False), message.chat.id, message.message_id, parse_mode=ParseMode.HTML
                )
            except BadRequest as exc:
                if not is_not_modified(exc):
                    raise

        async def run() -> None:
            try:
                await announce.deliver(
                    query.get_bot(),
                    self.outbox,
                    announcement_id,
                    milestone,
                    concurrency=self.announce_concurrency,
                    progress=progress,
                    progress_interval=self.progress_interval,
                )
            except Exception:
                log.exception("Ankündigung %d abgebrochen", announcement_id)

        self.start_task(run())

    def start_task(self, coro: Any) -> asyncio.Task[Any]:
        """Run a background job (an announcement) and keep a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def ignored(self, update: Update, context: Context) -> None:
        """Updates the bot deliberately does not answer (group chatter, edits, channel posts, …)."""
        log.debug("Update %d ignoriert (%s)", update.update_id, _describe(update))

    # --------------------------------------------------------------------------------------- callbacks

    async def _answer_query(self, query: CallbackQuery, text: str | None = None) -> None:
        try:
            await query.answer(text)
        except BadRequest as exc:
            if not any(hint in exc.message.lower() for hint in STALE_QUERY_HINTS):
                raise
            log.info("Callback-Query zu alt zum Beantworten")

    async def callback(self, update: Update, context: Context) -> None:
        """Button presses. Data is parsed strictly, resolved against the current knowledge, and checked
        against the buttons of the message it came from; anything else gets a polite notice."""
        query = update.callback_query
        if query is None:
            return
        user = query.from_user
        lang = self.ui_lang(user)
        action = cb.parse(query.data)
        message = query.message if isinstance(query.message, Message) else None
        if action is None or not self._button_present(message, query.data):
            log.info("Ungültige Callback-Daten verworfen (%d Bytes)", len((query.data or "").encode()))
            await self._answer_query(query, t.CB_INVALID.get(lang))
            return
        knowledge = self.service.knowledge
        if isinstance(action, cb.ReviewPage | cb.Review):
            if message is None:
                await self._answer_query(query, t.CB_INVALID.get(lang))
                return
            await self.editors.pressed(query, message, action)
            return
        if isinstance(action, cb.Announce):
            await self._announce_pressed(query, message, action)
            return
        if isinstance(action, cb.SetLang):
            self.store.set_lang(user.id, action.lang)
            await self._answer_query(query, t.LANG_TOAST.get(action.lang))
            if message is not None:
                await self._edit_or_send(query, message, [html.escape(t.LANG_SET.get(action.lang))], None)
            return
        if isinstance(action, cb.ShowTopics):
            text, keyboard = render.topics_view(knowledge, lang, action.page)
            await self._answer_query(query)
            if message is not None:
                await self._edit_or_send(query, message, [text], keyboard)
            return
        if isinstance(action, cb.ShowTopic):
            topic = cb.resolve_topic(knowledge, action.topic_ref)
            if topic is None or not knowledge.entries_in_topic(topic.id):
                await self._answer_query(query, t.CB_STALE.get(lang))
                return
            text, keyboard = render.topic_view(knowledge, topic, lang, action.page)
            await self._answer_query(query)
            if message is not None:
                await self._edit_or_send(query, message, [text], keyboard)
            return
        entry = cb.resolve_entry(knowledge, action.entry_ref)
        if entry is None or message is None:
            await self._answer_query(query, t.CB_STALE.get(lang) if entry is None else t.CB_INVALID.get(lang))
            return
        if isinstance(action, cb.Feedback):
            fresh = self.store.record_feedback(
                user.id, f"{message.chat.id}:{message.message_id}", entry.id, action.value, action.question_id
            )
            await self._answer_query(query, (t.FEEDBACK_THANKS if fresh else t.FEEDBACK_DUPLICATE).get(lang))
            return
        if action.question_id is not None:  # an option of a clarify question was picked: not abandoned
            try:
                self.store.resolve_clarify(action.question_id, entry.id)
            except sqlite3.Error:
                log.exception("Auswahl nach Rückfrage nicht speicherbar")
        reply = self.service.entry_reply(entry.id, lang)
        await self._answer_query(query)
        if reply is not None:
            await self.send_reply(message, reply)

    @staticmethod
    def _button_present(message: Message | None, data: str | None) -> bool:
        """A press must come from a button the bot put under that message (when the message is known)."""
        if message is None or message.reply_markup is None:
            return message is None  # inaccessible (old) message: the data alone has to do
        return any(button.callback_data == data for row in message.reply_markup.inline_keyboard for button in row)

    async def _edit_or_send(
        self, query: CallbackQuery, message: Message, chunks: list[str], keyboard: InlineKeyboardMarkup | None
    ) -> None:
        """Browse in place: edit the message with the buttons; if it cannot be edited, send a new one."""
        try:
            await query.edit_message_text(
                chunks[0], parse_mode=ParseMode.HTML, reply_markup=keyboard, link_preview_options=render.NO_PREVIEW
            )
        except BadRequest as exc:
            if is_not_modified(exc):
                return
            log.info("Nachricht nicht editierbar (%s); sende neu", exc.message)
            await self.send_html(message, chunks, keyboard)

    # ------------------------------------------------------------------------------------------ inline

    async def inline(self, update: Update, context: Context) -> None:
        """``@bot text`` in any chat: the best entries as articles (the answer HTML as message content)."""
        query = update.inline_query
        if query is None:
            return
        text = query.query.strip()
        stored = self._stored_lang(query.from_user)
        snapshot = self.service.snapshot
        knowledge = snapshot.knowledge
        entries: list[Entry]
        if not text:
            lang = policy.resolve_lang(stored, query.from_user.language_code)
            entries = [knowledge.entries_in_topic(tp.id)[0] for tp in render.browsable_topics(knowledge)]
        elif policy.too_long(text):
            lang, entries = policy.resolve_lang(stored, query.from_user.language_code), []
        else:
            match = snapshot.matcher.match(text, policy.question_lang(stored))
            lang = match.lang
            entries = []
            if match.status in ("answer", "clarify"):
                floor = snapshot.matcher.thresholds.clarify * snapshot.matcher.thresholds.option_floor
                ranked = snapshot.matcher.rank(text, lang)
                entries = [knowledge.entries[c.entry_id] for c in ranked if c.score >= floor]
        articles = [self._article(entry, lang, context.bot.username) for entry in entries[:INLINE_RESULTS]]
        results = [article for article in articles if article is not None]
        button = None
        if not results:
            button = InlineQueryResultsButton(t.BTN_ASK_IN_CHAT.get(lang), start_parameter="inline")
        await query.answer(
            results,
            cache_time=INLINE_CACHE_SECONDS,
            is_personal=not text or stored is not None,
            button=button,
        )

    def _article(self, entry: Entry, lang: Lang, username: str | None) -> InlineQueryResultArticle | None:
        reply = self.service.entry_reply(entry.id, lang)
        if reply is None:
            return None
        chunks = render.split_html(reply.html())
        markup = None
        if username:
            url = f"https://t.me/{username}?start=e_{entry.id}"
            if len(entry.id) <= 62:
                markup = InlineKeyboardMarkup([[InlineKeyboardButton(t.BTN_OPEN_CHAT.get(lang), url=url)]])
        return InlineQueryResultArticle(
            id=cb.ref(entry.id),
            title=render.label(entry.title(lang), 100),
            description=render.label(reply.body, 120),
            input_message_content=InputTextMessageContent(
                chunks[0], parse_mode=ParseMode.HTML, link_preview_options=render.NO_PREVIEW
            ),
            reply_markup=markup,
        )

    async def chosen_inline(self, update: Update, context: Context) -> None:
        """An inline answer was sent (needs inline feedback enabled at @BotFather): log it like a question."""
        chosen = update.chosen_inline_result
        if chosen is None:
            return
        entry = cb.resolve_entry(self.service.knowledge, chosen.result_id)
        question = chosen.query.strip()
        if entry is None or not question or policy.too_long(question):
            return
        match = self.service.ask(question, policy.question_lang(self._stored_lang(chosen.from_user))).match
        try:
            score = round(match.score)
            self.store.log_question(question, match.normalized, match.lang, "answer", entry.id, score, "inline")
        except (sqlite3.Error, ValueError):
            log.exception("Inline-Auswahl konnte nicht protokolliert werden")

    # ------------------------------------------------------------------------------------------- admin

    async def _admin_message(self, update: Update, command: str) -> Message | None:
        """The message of an admin command, or None after refusing a non-admin (logged, never stored)."""
        message = update.effective_message
        user = update.effective_user
        if message is None:
            return None
        if not self._is_admin(user):
            log.warning("Admin-Befehl /%s abgelehnt für user_id=%s", command, user.id if user else None)
            await self.send_text(message, t.ADMIN_ONLY.get(self.ui_lang(user)))
            return None
        return message

    # ------------------------------------------------------------------------------------------- errors

    async def error(self, update: object, context: Context) -> None:
        """Log every error (the redacting log filter keeps the token out) and never raise."""
        error = context.error
        where = _describe(update)
        chat = update.effective_chat if isinstance(update, Update) else None
        if isinstance(error, Forbidden):
            log.info("Telegram verweigert das Senden (%s): %s", where, error.message)
            if chat is not None and chat.type != ChatType.PRIVATE and self.store.unsubscribe(chat.id):
                log.info("Kein Zugang mehr zu Chat %d; Abo beendet", chat.id)
            return
        if isinstance(error, ChatMigrated):
            log.info("Chat ist jetzt eine Supergruppe (%s)", where)
            if chat is not None and self.store.move_subscription(chat.id, int(error.new_chat_id)):
                log.info("Abo von Gruppe %d nach %d umgezogen", chat.id, error.new_chat_id)
            return
        if isinstance(error, RetryAfter):
            log.warning("Telegram-Flood-Limit trotz Wiederholungen (%s): %s", where, error)
            return
        if isinstance(error, TelegramError):
            log.warning("Telegram-Fehler (%s): %s: %s", where, type(error).__name__, error)
            return
        log.error("Fehler bei der Verarbeitung (%s)", where, exc_info=error)
        if isinstance(update, Update) and update.effective_chat and update.effective_chat.type == ChatType.PRIVATE:
            message = update.effective_message
            if message is not None and update.callback_query is None:
                try:
                    await self.send_text(message, t.SORRY_ERROR.get(self.ui_lang(update.effective_user)))
                except Exception:  # the error handler itself must never fail
                    log.warning("Entschuldigung konnte nicht gesendet werden", exc_info=True)


def _describe(update: object) -> str:
    """Which update it is, without any content or user id (for logs)."""
    if not isinstance(update, Update):
        return "ohne Update" if update is None else type(update).__name__
    kind = next((k for k in Update.ALL_TYPES if getattr(update, k, None) is not None), "unbekannt")
    chat = update.effective_chat
    return f"update {update.update_id}, {kind}, {chat.type if chat else 'kein Chat'}"


__all__ = ["ALLOWED_UPDATES", "FaqHandlers", "is_parse_error"]
