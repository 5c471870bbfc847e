"""Persistent state of the bot in one SQLite file (stdlib :mod:`sqlite3` only, nothing Telegram-specific).

What is stored, and what deliberately is not:

* ``processed_updates`` – Telegram update ids already handled, so a replayed update is answered only once.
* ``question_log`` – what was asked and how the bot answered, for the admin statistics and the list of
  unanswered questions. **No user id, no chat id**: only the text (at most 500 characters), its normalized
  form, language, outcome, the entry shown, the score and the *kind* of chat.
* ``feedback`` – 👍/👎 per entry (and, if still present, per logged question). No user id.
* ``feedback_votes`` – one row per (user, message) vote so the same person cannot vote twice on one answer.
  The key is ``HMAC-SHA256(salt, user_id, message_key)``: a salted one-way hash kept *only* for this
  deduplication. The salt is random (:mod:`secrets`), generated once per database and stored in ``meta``.
  The rows are deleted by :meth:`Store.prune` together with the feedback they belong to. (Anyone holding the
  database file *and* its salt could test guessed user ids against the keys, so the file itself stays
  confidential; without it the keys reveal nothing.)
* ``user_prefs`` – the language a user chose (user id → ``lang``); removed by :meth:`Store.forget_user`.
* ``subscriptions`` – chats that receive announcements, with their title, language and topic filter.
* ``announcements`` / ``deliveries`` – the outbox of milestone announcements (:mod:`bot.broadcast`): which
  milestone was announced when and by what (``cli``/``admin``/``schedule``, no user id), and per group chat
  the delivery state. Written through :class:`bot.broadcast.Outbox`'s own connection.
* ``learned_phrasings`` – questions an admin attached to an entry as a new phrasing
  (:mod:`bot.knowledge.learned`). Text, entry, language and date only; kept until removed (``faqbot learned
  remove``), as an admin deliberately adopted them – not subject to retention.
* ``review_dismissed`` – normalized questions an admin dismissed from (or resolved in) the review queue, with
  the time; older rows are deleted by :meth:`Store.prune`.
* ``stale_reminders`` – which (kind, item id, review date) the daily job has already reminded admins of. No
  personal data, a few rows per entry; kept, so a past review date is never reminded twice.
* ``meta`` – small key/value settings of the store itself (the vote salt, …).

The review queue (:meth:`Store.review_items`) is read from ``question_log`` and ``feedback``: fallbacks,
clarify questions whose options nobody picked (``question_log.resolved_entry_id`` stays empty) and answers
with a 👎.

All timestamps are UTC and stored as ``YYYY-MM-DDTHH:MM:SSZ`` text, which sorts chronologically. Every
function that writes or evaluates time takes an optional ``now`` (naive datetimes are taken as UTC).

The schema version lives in ``PRAGMA user_version``; :data:`MIGRATIONS` is the ordered list of forward
migrations, version *n* being the state after ``MIGRATIONS[:n]``. Each migration runs in its own
transaction. Never edit a released migration – append a new one.

One :class:`Store` holds one connection (``check_same_thread=False``); every call takes a lock, so it may be
used from the asyncio loop and from worker threads alike. All calls are short.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, NamedTuple, Self, cast

from bot.knowledge.learned import LearnedPhrasing
from bot.knowledge.model import LANGS, Lang

__all__ = [
    "CHAT_TYPES",
    "MAX_QUESTION_CHARS",
    "MIGRATIONS",
    "STATUSES",
    "ChatType",
    "DayCount",
    "EntryCount",
    "EntryFeedback",
    "LearnedConflict",
    "LoggedQuestion",
    "ReviewItem",
    "SchemaVersionError",
    "Stats",
    "StorageError",
    "Store",
    "Subscription",
    "migrate",
    "schema_version",
]

Status = Literal["answer", "clarify", "fallback", "smalltalk"]
ReviewKind = Literal["fallback", "clarify", "downvote"]
DismissReason = Literal["dismissed", "learned"]
ChatType = Literal["private", "group", "inline", "cli"]
STATUSES: Final[tuple[Status, ...]] = ("answer", "clarify", "fallback", "smalltalk")
CHAT_TYPES: Final[tuple[ChatType, ...]] = ("private", "group", "inline", "cli")
MAX_QUESTION_CHARS: Final = 500
BUSY_TIMEOUT_MS: Final = 5000
_SALT_KEY: Final = "vote_salt"
_LIVE_KEY: Final = "live_knowledge"
_TS_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: core tables.
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE processed_updates (
        update_id INTEGER PRIMARY KEY,
        seen_at   TEXT NOT NULL
    );
    CREATE TABLE question_log (
        id         INTEGER PRIMARY KEY,
        asked_at   TEXT NOT NULL,
        day        TEXT NOT NULL,
        question   TEXT NOT NULL,
        normalized TEXT NOT NULL,
        lang       TEXT NOT NULL,
        status     TEXT NOT NULL CHECK (status IN ('answer', 'clarify', 'fallback', 'smalltalk')),
        entry_id   TEXT,
        score      INTEGER NOT NULL DEFAULT 0,
        chat_type  TEXT NOT NULL CHECK (chat_type IN ('private', 'group', 'inline', 'cli'))
    );
    CREATE TABLE feedback (
        id          INTEGER PRIMARY KEY,
        question_id INTEGER REFERENCES question_log (id) ON DELETE SET NULL,
        entry_id    TEXT NOT NULL,
        value       INTEGER NOT NULL CHECK (value IN (-1, 1)),
        at          TEXT NOT NULL
    );
    CREATE TABLE feedback_votes (
        vote_key    TEXT PRIMARY KEY,
        feedback_id INTEGER NOT NULL REFERENCES feedback (id) ON DELETE CASCADE,
        voted_at    TEXT NOT NULL
    );
    CREATE TABLE user_prefs (
        user_id INTEGER PRIMARY KEY,
        lang    TEXT NOT NULL
    );
    """,
    # 2: announcement subscriptions and indexes for statistics and retention.
    """
    CREATE TABLE subscriptions (
        chat_id       INTEGER PRIMARY KEY,
        title         TEXT NOT NULL DEFAULT '',
        lang          TEXT NOT NULL DEFAULT 'de',
        topics        TEXT NOT NULL DEFAULT '',
        subscribed_at TEXT NOT NULL
    );
    CREATE INDEX question_log_day ON question_log (day);
    CREATE INDEX question_log_asked_at ON question_log (asked_at);
    CREATE INDEX question_log_status_normalized ON question_log (status, normalized);
    CREATE INDEX feedback_at ON feedback (at);
    CREATE INDEX feedback_question ON feedback (question_id);
    CREATE INDEX feedback_votes_feedback ON feedback_votes (feedback_id);
    CREATE INDEX feedback_votes_voted_at ON feedback_votes (voted_at);
    CREATE INDEX processed_updates_seen_at ON processed_updates (seen_at);
    """,
    # 3: the announcement outbox (bot.broadcast): one row per announcement, one per (announcement, chat).
    """
    CREATE TABLE announcements (
        id           INTEGER PRIMARY KEY,
        milestone_id TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        created_by   TEXT NOT NULL CHECK (created_by IN ('cli', 'admin', 'schedule')),
        status       TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done')),
        dry_run      INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1))
    );
    CREATE INDEX announcements_milestone ON announcements (milestone_id);
    CREATE TABLE deliveries (
        announcement_id INTEGER NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
        chat_id         INTEGER NOT NULL,
        lang            TEXT NOT NULL DEFAULT 'de',
        state           TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unknown', 'removed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        updated_at      TEXT NOT NULL,
        message_id      INTEGER,
        UNIQUE (announcement_id, chat_id)
    );
    CREATE INDEX deliveries_state ON deliveries (state, announcement_id);
    CREATE INDEX deliveries_chat ON deliveries (chat_id);
    """,
    # 4: learning from users – picked clarify options, learned phrasings, the review queue, stale reminders.
    """
    ALTER TABLE question_log ADD COLUMN resolved_entry_id TEXT;
    CREATE TABLE learned_phrasings (
        id       INTEGER PRIMARY KEY,
        entry_id TEXT NOT NULL,
        lang     TEXT NOT NULL CHECK (lang IN ('de', 'en')),
        text     TEXT NOT NULL,
        added_at TEXT NOT NULL,
        UNIQUE (lang, text)
    );
    CREATE TABLE review_dismissed (
        normalized TEXT PRIMARY KEY,
        reason     TEXT NOT NULL CHECK (reason IN ('dismissed', 'learned')),
        at         TEXT NOT NULL
    );
    CREATE INDEX review_dismissed_at ON review_dismissed (at);
    CREATE TABLE stale_reminders (
        kind        TEXT NOT NULL,
        item_id     TEXT NOT NULL,
        review_by   TEXT NOT NULL,
        reminded_at TEXT NOT NULL,
        PRIMARY KEY (kind, item_id, review_by)
    );
    """,
)


class StorageError(Exception):
    """Base class of the errors raised by this module."""


class SchemaVersionError(StorageError):
    """The database was written by a newer faqbot than this one (its schema version is unknown)."""


class LearnedConflict(StorageError, ValueError):
    """This text is already learned, in this language, for another entry (``existing``)."""

    def __init__(self, existing: LearnedPhrasing) -> None:
        super().__init__(
            f"phrasing {existing.text!r} ({existing.lang}) is already learned for entry {existing.entry_id!r}"
            f" (#{existing.id})"
        )
        self.existing = existing


# --------------------------------------------------------------------------------------------- rows


class DayCount(NamedTuple):
    day: str  # YYYY-MM-DD (UTC)
    questions: int


class EntryCount(NamedTuple):
    entry_id: str
    questions: int  # times it was the answer


@dataclass(frozen=True, slots=True)
class LoggedQuestion:
    """One row of the question log (no user or chat id is ever stored)."""

    id: int
    question: str
    normalized: str
    lang: str
    status: Status
    entry_id: str | None
    asked_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """Questions of one kind with the same normalized text (and, for 👎, the same answered entry)."""

    question_id: int  # the latest row of the group
    question: str  # its wording
    normalized: str
    lang: str  # its language
    kind: ReviewKind
    times: int  # rows in the group
    last_asked: datetime
    entry_id: str | None  # downvote: the entry that was answered and got the 👎; otherwise None
    question_ids: tuple[int, ...]  # every row of the group, oldest first


@dataclass(frozen=True, slots=True)
class EntryFeedback:
    entry_id: str
    up: int
    down: int

    @property
    def total(self) -> int:
        return self.up + self.down


@dataclass(frozen=True, slots=True)
class LiveKnowledge:
    """Which knowledge version the running bot serves (written on every swap, read by ``faqbot check``)."""

    version: str  # of what is served (learned phrasings included)
    files_version: str  # of the editors' files alone: compare with ``faqbot check``
    entries: int
    learned: int
    loaded_at: datetime

    def to_json(self) -> str:
        payload = {
            "version": self.version,
            "files_version": self.files_version,
            "entries": self.entries,
            "learned": self.learned,
            "loaded_at": _ts(self.loaded_at),
        }
        return json.dumps(payload)

    @classmethod
    def from_json(cls, text: str) -> LiveKnowledge | None:
        try:
            data = json.loads(text)
            return cls(
                str(data["version"]),
                str(data["files_version"]),
                int(data["entries"]),
                int(data["learned"]),
                _parse_ts(str(data["loaded_at"])),
            )
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True, slots=True)
class Stats:
    """Admin statistics over the last ``days`` UTC calendar days (today included)."""

    days: int
    since: str  # first day of the window, YYYY-MM-DD
    until: str  # last day of the window (today), YYYY-MM-DD
    total: int
    per_day: list[DayCount]  # every day of the window, oldest first, zero-filled
    status_counts: dict[str, int]  # one key per status in STATUSES
    status_rates: dict[str, float]  # count / total (0.0 when there were no questions)
    top_entries: list[EntryCount]  # most answered entries (status 'answer'), at most 10
    feedback: list[EntryFeedback]  # per entry, most votes first
    feedback_up: int
    feedback_down: int


@dataclass(frozen=True, slots=True)
class Subscription:
    chat_id: int
    title: str
    lang: str
    topics: tuple[str, ...]  # empty: all topics
    subscribed_at: datetime

    def wants(self, topic: str | None) -> bool:
        """Whether an announcement about ``topic`` (None: general) goes to this chat."""
        return topic is None or not self.topics or topic in self.topics


# ---------------------------------------------------------------------------------------- helpers


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


def _ts(moment: datetime) -> str:
    return moment.strftime(_TS_FORMAT)


def _parse_ts(text: str) -> datetime:
    return datetime.strptime(text, _TS_FORMAT).replace(tzinfo=UTC)


def _learned(row: Sequence[object]) -> LearnedPhrasing:
    return LearnedPhrasing(
        id=cast(int, row[0]),
        entry_id=str(row[1]),
        lang=cast(Lang, row[2]),
        text=str(row[3]),
        added_at=_parse_ts(str(row[4])),
    )


def _split_sql(script: str) -> list[str]:
    """Split a script into complete statements (semicolons in literals and trigger bodies are safe)."""
    statements: list[str] = []
    buffer = ""
    for part in script.split(";"):
        buffer += part + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        statements.append(buffer.strip().rstrip(";"))
    return statements


def _topics(topics: Iterable[str]) -> tuple[str, ...]:
    cleaned: list[str] = []
    for topic in topics:
        t = topic.strip().lower()
        if not t:
            continue
        if "," in t:
            raise ValueError(f"topic must not contain a comma: {topic!r}")
        if t not in cleaned:
            cleaned.append(t)
    return tuple(cleaned)


def schema_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, migrations: Sequence[str] = MIGRATIONS) -> int:
    """Bring the database up to ``len(migrations)``; returns the number of migrations applied.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Each migration and its version bump
    run in one ``BEGIN IMMEDIATE`` transaction, and the version is re-read inside it, so two processes
    opening the same file at once do not apply a migration twice.
    """
    target = len(migrations)
    applied = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = schema_version(conn)
            if current > target:
                raise SchemaVersionError(
                    f"database schema version {current} is newer than this faqbot supports ({target}); "
                    "update faqbot or restore a matching backup"
                )
            if current == target:
                conn.execute("COMMIT")
                return applied
            for statement in _split_sql(migrations[current]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {current + 1:d}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        applied += 1


# ------------------------------------------------------------------------------------------ store


class Database:
    """One migrated connection to the bot's SQLite file: thread-safe (one lock), WAL, foreign keys, short
    transactions with :meth:`_tx`. :class:`Store` and :class:`bot.broadcast.Outbox` each open their own."""

    def __init__(self, path: Path | str, *, synchronous: Literal["NORMAL", "FULL"] = "NORMAL") -> None:
        self.path = str(path)
        if self.path != ":memory:" and not self.path.startswith("file:"):
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:" and not self.path.startswith("file::memory:"):
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute(f"PRAGMA synchronous = {synchronous}")
            migrate(self._conn)
            self._setup()
        except BaseException:
            self._conn.close()
            raise
        self._closed = False

    def _setup(self) -> None:
        """Runs once after the migrations (subclasses add their own start-up rows)."""

    @classmethod
    def open(cls, path: Path | str) -> Self:
        """Open (and create or migrate) the database at ``path``, creating its directory if needed."""
        return cls(path)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._lock:
            return schema_version(self._conn)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """Lock, then one write transaction (committed on success, rolled back on any error)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")


class Store(Database):
    """The bot's database: question log, feedback, preferences, subscriptions, learned phrasings, meta."""

    def _setup(self) -> None:
        self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (_SALT_KEY, secrets.token_hex(32)))
        self._salt = bytes.fromhex(self._get_meta(_SALT_KEY) or "")

    # ------------------------------------------------------------------------------------ meta

    def _get_meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            return self._get_meta(key)

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def record_live(self, live: LiveKnowledge) -> None:
        self.set_meta(_LIVE_KEY, live.to_json())

    def live_knowledge(self) -> LiveKnowledge | None:
        text = self.get_meta(_LIVE_KEY)
        return None if text is None else LiveKnowledge.from_json(text)

    @staticmethod
    def peek_live(path: Path | str) -> LiveKnowledge | None:
        """The live version recorded in the database at ``path``, read-only (never creates or migrates it)."""
        if not Path(path).is_file():
            return None
        try:
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)) as conn:
                row = conn.execute("SELECT value FROM meta WHERE key = ?", (_LIVE_KEY,)).fetchone()
        except sqlite3.Error:
            return None
        return None if row is None else LiveKnowledge.from_json(str(row[0]))

    # ------------------------------------------------------------------------------- updates

    def mark_update(self, update_id: int, now: datetime | None = None) -> bool:
        """Remember a Telegram update id; False if it was seen before (then do not handle it again)."""
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO processed_updates (update_id, seen_at) VALUES (?, ?)",
                (update_id, _ts(_utc(now))),
            )
            return cur.rowcount == 1

    # ----------------------------------------------------------------------------- questions

    def log_question(
        self,
        question: str,
        normalized: str,
        lang: str,
        status: Status,
        entry_id: str | None = None,
        score: int = 0,
        chat_type: ChatType = "private",
        now: datetime | None = None,
    ) -> int:
        """Log one question (no user or chat id). Texts are cut to 500 characters; returns the row id."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; expected one of {STATUSES}")
        if chat_type not in CHAT_TYPES:
            raise ValueError(f"unknown chat_type {chat_type!r}; expected one of {CHAT_TYPES}")
        moment = _utc(now).replace(second=0, microsecond=0)
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO question_log (asked_at, day, question, normalized, lang, status, entry_id,"
                " score, chat_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _ts(moment),
                    moment.date().isoformat(),
                    question[:MAX_QUESTION_CHARS],
                    normalized[:MAX_QUESTION_CHARS],
                    lang,
                    status,
                    entry_id,
                    int(score),
                    chat_type,
                ),
            )
            rowid = cur.lastrowid
            assert rowid is not None
            return rowid

    def resolve_clarify(self, question_id: int, entry_id: str) -> bool:
        """Note which offered option the user picked after a clarify question (a later pick replaces it).

        False if ``question_id`` is unknown (or pruned) or was not a clarify question."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE question_log SET resolved_entry_id = ? WHERE id = ? AND status = 'clarify'",
                (entry_id, question_id),
            )
            return cur.rowcount == 1

    def question(self, question_id: int) -> LoggedQuestion | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, question, normalized, lang, status, entry_id, asked_at FROM question_log WHERE id = ?",
                (question_id,),
            ).fetchone()
        if row is None:
            return None
        return LoggedQuestion(
            id=int(row[0]),
            question=str(row[1]),
            normalized=str(row[2]),
            lang=str(row[3]),
            status=cast(Status, row[4]),
            entry_id=None if row[5] is None else str(row[5]),
            asked_at=_parse_ts(str(row[6])),
        )

    # ------------------------------------------------------------------------------ feedback

    def _vote_key(self, user_id: int, message_key: str) -> str:
        message = f"{int(user_id)}\x1f{message_key}".encode()
        return hmac.new(self._salt, message, hashlib.sha256).hexdigest()

    def record_feedback(
        self,
        user_id: int,
        message_key: str,
        entry_id: str,
        value: int,
        question_id: int | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Record a 👍 (+1) or 👎 (-1) on the answer ``message_key`` (e.g. ``"<chat_id>:<message_id>"``).

        Returns True if the vote was stored or changed an earlier vote of this user on this message
        (the feedback row is then updated, not duplicated); False if the user already cast exactly this
        vote. The user id is only used for the salted one-way dedup key and is never stored.
        """
        if value not in (1, -1):
            raise ValueError(f"feedback value must be +1 or -1, not {value!r}")
        stamp = _ts(_utc(now))
        key = self._vote_key(user_id, message_key)
        with self._tx() as conn:
            row = conn.execute(
                "SELECT f.id, f.value FROM feedback_votes v JOIN feedback f ON f.id = v.feedback_id"
                " WHERE v.vote_key = ?",
                (key,),
            ).fetchone()
            if row is not None:
                feedback_id, old_value = int(row[0]), int(row[1])
                if old_value == value:
                    return False
                conn.execute("UPDATE feedback SET value = ?, at = ? WHERE id = ?", (value, stamp, feedback_id))
                conn.execute("UPDATE feedback_votes SET voted_at = ? WHERE vote_key = ?", (stamp, key))
                return True
            if question_id is not None:
                exists = conn.execute("SELECT 1 FROM question_log WHERE id = ?", (question_id,)).fetchone()
                if exists is None:  # pruned meanwhile: keep the vote, drop the link
                    question_id = None
            cur = conn.execute(
                "INSERT INTO feedback (question_id, entry_id, value, at) VALUES (?, ?, ?, ?)",
                (question_id, entry_id, value, stamp),
            )
            conn.execute(
                "INSERT INTO feedback_votes (vote_key, feedback_id, voted_at) VALUES (?, ?, ?)",
                (key, cur.lastrowid, stamp),
            )
            return True

    # ---------------------------------------------------------------------------- user prefs

    def get_lang(self, user_id: int) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT lang FROM user_prefs WHERE user_id = ?", (user_id,)).fetchone()
            return None if row is None else str(row[0])

    def set_lang(self, user_id: int, lang: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO user_prefs (user_id, lang) VALUES (?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET lang = excluded.lang",
                (user_id, lang),
            )

    def forget_user(self, user_id: int) -> bool:
        """Delete what is stored under this user id: the language and the subscription of the private
        chat (whose chat id is the user id). Vote keys cannot be traced back and expire with retention.
        Returns True if anything was deleted."""
        with self._tx() as conn:
            deleted = conn.execute("DELETE FROM user_prefs WHERE user_id = ?", (user_id,)).rowcount
            if user_id > 0:  # private chat ids are positive; group ids are negative
                deleted += conn.execute("DELETE FROM subscriptions WHERE chat_id = ?", (user_id,)).rowcount
            return deleted > 0

    # ------------------------------------------------------------------------- subscriptions

    def subscribe(
        self,
        chat_id: int,
        title: str,
        lang: str = "de",
        topics: Iterable[str] = (),
        now: datetime | None = None,
    ) -> bool:
        """Subscribe a chat to announcements (``topics`` empty: all). False if it already was (unchanged)."""
        topic_list = ",".join(_topics(topics))
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO subscriptions (chat_id, title, lang, topics, subscribed_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (chat_id, title, lang, topic_list, _ts(_utc(now))),
            )
            return cur.rowcount == 1

    def unsubscribe(self, chat_id: int) -> bool:
        with self._tx() as conn:
            return conn.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,)).rowcount == 1

    def move_subscription(self, old_chat_id: int, new_chat_id: int) -> bool:
        """Follow a group that became a supergroup (new chat id). True if a subscription was moved.

        If the new chat is already subscribed, its row is kept and the old one removed."""
        if old_chat_id == new_chat_id:
            return self.is_subscribed(old_chat_id)
        with self._tx() as conn:
            if conn.execute("SELECT 1 FROM subscriptions WHERE chat_id = ?", (new_chat_id,)).fetchone():
                return conn.execute("DELETE FROM subscriptions WHERE chat_id = ?", (old_chat_id,)).rowcount == 1
            cur = conn.execute("UPDATE subscriptions SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id))
            return cur.rowcount == 1

    def is_subscribed(self, chat_id: int) -> bool:
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM subscriptions WHERE chat_id = ?", (chat_id,)).fetchone()
            return row is not None

    def subscriptions(self, topic: str | None = None) -> list[Subscription]:
        """All subscriptions (``topic`` None), or those that want ``topic`` (all-topics ones included)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT chat_id, title, lang, topics, subscribed_at FROM subscriptions ORDER BY subscribed_at, chat_id"
            ).fetchall()
        subs = [
            Subscription(
                chat_id=int(r[0]),
                title=str(r[1]),
                lang=str(r[2]),
                topics=tuple(t for t in str(r[3]).split(",") if t),
                subscribed_at=_parse_ts(str(r[4])),
            )
            for r in rows
        ]
        wanted = None if topic is None else topic.strip().lower()
        return [s for s in subs if s.wants(wanted)]

    # --------------------------------------------------------------------- learned phrasings

    def add_learned(self, entry_id: str, lang: str, text: str, now: datetime | None = None) -> LearnedPhrasing:
        """Store ``text`` (stripped) as a learned phrasing of ``entry_id``; returns the stored row.

        Idempotent: if exactly this text is already learned in this language for this entry, that row is
        returned (a double tap on a button stores nothing twice). For another entry it raises
        :class:`LearnedConflict`; an unknown language or an empty text raise :class:`ValueError`. Whether the
        phrasing fits the knowledge is :func:`bot.knowledge.learned.check_learnable`'s job, before this.
        """
        if lang not in LANGS:
            raise ValueError(f"unknown lang {lang!r}; expected one of {LANGS}")
        text = text.strip()
        if not text:
            raise ValueError("a learned phrasing must not be empty")
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO learned_phrasings (entry_id, lang, text, added_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (lang, text) DO NOTHING",
                (entry_id, lang, text, _ts(_utc(now))),
            )
            row = conn.execute(
                "SELECT id, entry_id, lang, text, added_at FROM learned_phrasings WHERE lang = ? AND text = ?",
                (lang, text),
            ).fetchone()
        learned = _learned(row)
        if learned.entry_id != entry_id:
            raise LearnedConflict(learned)
        return learned

    def learned(self) -> list[LearnedPhrasing]:
        """All learned phrasings, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, entry_id, lang, text, added_at FROM learned_phrasings ORDER BY id"
            ).fetchall()
        return [_learned(r) for r in rows]

    def remove_learned(self, learned_id: int) -> bool:
        with self._tx() as conn:
            return conn.execute("DELETE FROM learned_phrasings WHERE id = ?", (learned_id,)).rowcount == 1

    # -------------------------------------------------------------------------- review queue

    def review_items(
        self,
        days: int = 30,
        now: datetime | None = None,
        abandon_after: timedelta = timedelta(minutes=10),
        limit: int = 500,
    ) -> list[ReviewItem]:
        """What admins should look at, from the last ``days`` UTC days, most frequent first (ties: latest first);
        the ``limit`` most frequent only (grouping them by wording compares each with every group).

        Three kinds, each grouped by the exact normalized text:

        * ``fallback`` – the bot did not know;
        * ``clarify`` – the bot offered options and nobody picked one (:meth:`resolve_clarify`) within
          ``abandon_after``;
        * ``downvote`` – an answer whose feedback is currently 👎 (at least one vote; a vote changed to 👍 no
          longer counts), grouped per answered entry as well (``entry_id``).

        Questions asked up to the moment their normalized text was dismissed (:meth:`dismiss_review`) are left
        out; the same question asked *after* the dismissal shows up again (times are per minute, so one asked
        in the very minute of the dismissal stays hidden).
        """
        first, last = self._window(days, now)
        abandoned = _ts(_utc(now) - abandon_after)
        window = (first.isoformat(), last.isoformat())
        with self._lock:
            rows = self._conn.execute(
                "SELECT r.id, r.question, r.normalized, r.lang, r.asked_at, r.kind, r.entry_id FROM ("
                "  SELECT id, question, normalized, lang, asked_at, 'fallback' AS kind, NULL AS entry_id"
                "  FROM question_log WHERE status = 'fallback' AND day BETWEEN ? AND ?"
                "  UNION ALL"
                "  SELECT id, question, normalized, lang, asked_at, 'clarify', NULL FROM question_log"
                "  WHERE status = 'clarify' AND resolved_entry_id IS NULL AND asked_at <= ? AND day BETWEEN ? AND ?"
                "  UNION ALL"
                "  SELECT q.id, q.question, q.normalized, q.lang, q.asked_at, 'downvote', f.entry_id"
                "  FROM question_log q"
                "  JOIN (SELECT DISTINCT question_id, entry_id FROM feedback WHERE value = -1) f"
                "    ON f.question_id = q.id"
                "  WHERE q.day BETWEEN ? AND ?"
                ") r LEFT JOIN review_dismissed d ON d.normalized = r.normalized"
                " WHERE d.at IS NULL OR r.asked_at > d.at"
                " ORDER BY r.asked_at, r.id",
                (*window, abandoned, *window, *window),
            ).fetchall()
        groups: dict[tuple[str, str, str | None], list[Sequence[object]]] = {}
        for row in rows:
            entry_id = None if row[6] is None else str(row[6])
            groups.setdefault((str(row[5]), str(row[2]), entry_id), []).append(row)
        items = []
        for (kind, normalized, entry_id), members in groups.items():
            latest = members[-1]
            items.append(
                ReviewItem(
                    question_id=cast(int, latest[0]),
                    question=str(latest[1]),
                    normalized=normalized,
                    lang=str(latest[3]),
                    kind=cast(ReviewKind, kind),
                    times=len(members),
                    last_asked=_parse_ts(str(latest[4])),
                    entry_id=entry_id,
                    question_ids=tuple(cast(int, m[0]) for m in members),
                )
            )
        items.sort(key=lambda i: (-i.times, -i.last_asked.timestamp(), i.kind, i.normalized, i.entry_id or ""))
        return items[:limit]

    def dismiss_review(self, normalized_keys: Iterable[str], reason: DismissReason, now: datetime | None = None) -> int:
        """Take these normalized texts out of the review queue (asked until now); returns how many keys.

        ``reason`` says whether an admin dismissed them or attached them as a learned phrasing. Dismissing a
        key again moves its time forward."""
        if reason not in ("dismissed", "learned"):
            raise ValueError(f"unknown reason {reason!r}; expected 'dismissed' or 'learned'")
        keys = sorted(set(normalized_keys))
        stamp = _ts(_utc(now))
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO review_dismissed (normalized, reason, at) VALUES (?, ?, ?)"
                " ON CONFLICT (normalized) DO UPDATE SET reason = excluded.reason, at = excluded.at",
                [(key, reason, stamp) for key in keys],
            )
        return len(keys)

    # ----------------------------------------------------------------------- stale reminders

    def mark_reminded(self, kind: str, item_id: str, review_by: date, now: datetime | None = None) -> bool:
        """True the first time for this (kind, item, review date): remind admins then, and not again."""
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO stale_reminders (kind, item_id, review_by, reminded_at) VALUES (?, ?, ?, ?)",
                (kind, item_id, review_by.isoformat(), _ts(_utc(now))),
            )
            return cur.rowcount == 1

    # ----------------------------------------------------------------------------- retention

    def prune(self, retention_days: int, now: datetime | None = None) -> int:
        """Delete log, feedback, vote keys, processed update ids and review dismissals older than
        ``retention_days``.

        Subscriptions, language preferences, learned phrasings, stale reminders and meta are kept. Returns the
        number of rows deleted."""
        if retention_days < 0:
            raise ValueError("retention_days must not be negative")
        cutoff = _ts(_utc(now) - timedelta(days=retention_days))
        with self._tx() as conn:
            deleted = conn.execute(
                "DELETE FROM feedback_votes WHERE voted_at < ?"
                " OR feedback_id IN (SELECT id FROM feedback WHERE at < ?)",
                (cutoff, cutoff),
            ).rowcount
            deleted += conn.execute("DELETE FROM feedback WHERE at < ?", (cutoff,)).rowcount
            deleted += conn.execute("DELETE FROM question_log WHERE asked_at < ?", (cutoff,)).rowcount
            deleted += conn.execute("DELETE FROM processed_updates WHERE seen_at < ?", (cutoff,)).rowcount
            deleted += conn.execute("DELETE FROM review_dismissed WHERE at < ?", (cutoff,)).rowcount
            return deleted

    # --------------------------------------------------------------------------------- stats

    @staticmethod
    def _window(days: int, now: datetime | None) -> tuple[date, date]:
        if days < 1:
            raise ValueError("days must be at least 1")
        until = _utc(now).date()
        return until - timedelta(days=days - 1), until

    def stats(self, days: int = 30, now: datetime | None = None) -> Stats:
        """Statistics over the last ``days`` UTC days including today (see :class:`Stats`)."""
        first, last = self._window(days, now)
        since, until = first.isoformat(), last.isoformat()
        feedback_since = since + "T00:00:00Z"
        with self._lock:
            conn = self._conn
            by_day = dict(
                conn.execute(
                    "SELECT day, COUNT(*) FROM question_log WHERE day BETWEEN ? AND ? GROUP BY day",
                    (since, until),
                ).fetchall()
            )
            by_status = dict(
                conn.execute(
                    "SELECT status, COUNT(*) FROM question_log WHERE day BETWEEN ? AND ? GROUP BY status",
                    (since, until),
                ).fetchall()
            )
            top = conn.execute(
                "SELECT entry_id, COUNT(*) AS n FROM question_log"
                " WHERE day BETWEEN ? AND ? AND status = 'answer' AND entry_id IS NOT NULL"
                " GROUP BY entry_id ORDER BY n DESC, entry_id LIMIT 10",
                (since, until),
            ).fetchall()
            votes = conn.execute(
                "SELECT entry_id, SUM(value = 1), SUM(value = -1) FROM feedback WHERE at >= ?"
                " GROUP BY entry_id ORDER BY COUNT(*) DESC, entry_id",
                (feedback_since,),
            ).fetchall()
        per_day = [
            DayCount(d.isoformat(), int(by_day.get(d.isoformat(), 0)))
            for d in (first + timedelta(days=i) for i in range(days))
        ]
        total = sum(dc.questions for dc in per_day)
        counts: dict[str, int] = {s: int(by_status.get(s, 0)) for s in STATUSES}
        rates: dict[str, float] = {s: (counts[s] / total if total else 0.0) for s in STATUSES}
        feedback = [EntryFeedback(str(r[0]), int(r[1]), int(r[2])) for r in votes]
        return Stats(
            days=days,
            since=since,
            until=until,
            total=total,
            per_day=per_day,
            status_counts=counts,
            status_rates=rates,
            top_entries=[EntryCount(str(r[0]), int(r[1])) for r in top],
            feedback=feedback,
            feedback_up=sum(f.up for f in feedback),
            feedback_down=sum(f.down for f in feedback),
        )
