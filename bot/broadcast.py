"""The outbox of milestone announcements: who gets which announcement, and what happened to each delivery.

Plain Python and SQLite (no Telegram): :mod:`bot.tg.announce` does the sending and reports every outcome
back here. The tables (``announcements``, ``deliveries``) are created by migration 3 of :mod:`bot.storage`.

Guarantees, and how they are kept:

* **One transaction before the first send.** :meth:`Outbox.create` reads the subscriptions, writes the
  announcement and one ``pending`` delivery row per recipient group in a single ``BEGIN IMMEDIATE``
  transaction. A crash before it commits leaves nothing; after it, every recipient is on record.
* **At most once per group.** Telegram has no idempotency key, so a message whose request was sent may
  have arrived even if the bot never saw the answer. Every row therefore moves ``pending → sending``
  (committed, ``PRAGMA synchronous = FULL``) *before* the HTTP request, and only then to ``sent``,
  ``failed`` or ``removed``. After a crash, ``pending`` rows are resumed, but rows still in ``sending``
  are never sent again: :meth:`Outbox.recover` marks them ``unknown`` and the report lists them.
* **No second copy on re-announcing.** A milestone that was announced before needs ``force=True``, and even
  then groups that already got it (or may have got it: ``sent``, ``unknown``, or still ``pending``/
  ``sending`` in an unfinished run) are left out; only ``failed``/``removed`` ones and new subscribers are
  planned again.
* **A record for admins.** :class:`Report` (counts per state, the in-doubt chats) is plain data, shown in
  Telegram, by ``faqbot announcements`` and in the logs.

All writes use this module's own connection (WAL, ``synchronous = FULL``), separate from
:class:`bot.storage.Store`'s connection (``synchronous = NORMAL``), so outbox commits are durable even on
power loss. Run one sender per announcement at a time; :meth:`Outbox.claim` is atomic (``WHERE state =
'pending'``), so two senders can never both send the same row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal

from bot.storage import Database, Subscription

__all__ = [
    "CREATED_BY",
    "STATES",
    "AlreadyAnnounced",
    "BroadcastError",
    "Delivery",
    "NothingToSend",
    "Outbox",
    "Plan",
    "Recipient",
    "Report",
    "UnknownAnnouncement",
]

State = Literal["pending", "sending", "sent", "failed", "unknown", "removed"]
CreatedBy = Literal["cli", "admin", "schedule"]
STATES: Final[tuple[State, ...]] = ("pending", "sending", "sent", "failed", "unknown", "removed")
CREATED_BY: Final[tuple[CreatedBy, ...]] = ("cli", "admin", "schedule")
# Earlier deliveries that keep a group out of a new announcement of the same milestone.
REACHED: Final[tuple[State, ...]] = ("sent", "unknown", "pending", "sending")
MAX_ERROR_CHARS: Final = 300
_TS_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"


class BroadcastError(Exception):
    """Base class of this module's errors."""


class AlreadyAnnounced(BroadcastError):
    """The milestone was announced before; pass ``force=True`` to announce it to the groups it missed."""

    def __init__(self, milestone_id: str, previous: Sequence[int]) -> None:
        super().__init__(f"milestone {milestone_id!r} was already announced (announcement {list(previous)})")
        self.milestone_id = milestone_id
        self.previous = tuple(previous)


class NothingToSend(BroadcastError):
    """No subscribed group is left to receive this announcement."""


class UnknownAnnouncement(BroadcastError):
    """No announcement with this id."""


# ------------------------------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class Recipient:
    chat_id: int
    lang: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    """Who would receive an announcement of ``milestone_id`` now (nothing is written)."""

    milestone_id: str
    recipients: tuple[Recipient, ...]
    already_reached: int  # subscribed groups left out because an earlier announcement reached them
    previous: tuple[int, ...]  # ids of earlier (real, not dry-run) announcements of this milestone


@dataclass(frozen=True, slots=True)
class Delivery:
    announcement_id: int
    chat_id: int
    lang: str
    state: State
    attempts: int
    last_error: str | None
    message_id: int | None


@dataclass(frozen=True, slots=True)
class Report:
    """The delivery record of one announcement."""

    id: int
    milestone_id: str
    created_at: datetime
    created_by: str
    status: str  # running | done
    dry_run: bool
    counts: Mapping[str, int] = field(default_factory=dict)  # one key per state in STATES
    unknown_chats: tuple[int, ...] = ()
    failed_chats: tuple[int, ...] = ()

    def count(self, state: State) -> int:
        return int(self.counts.get(state, 0))

    @property
    def sent(self) -> int:
        return self.count("sent")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def removed(self) -> int:
        return self.count("removed")

    @property
    def unknown(self) -> int:
        return self.count("unknown")

    @property
    def pending(self) -> int:
        """Not finished yet: ``pending`` plus ``sending`` (in flight)."""
        return self.count("pending") + self.count("sending")

    @property
    def total(self) -> int:
        return sum(int(v) for v in self.counts.values())

    @property
    def done(self) -> int:
        return self.total - self.pending

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "milestone_id": self.milestone_id,
            "created_at": self.created_at.strftime(_TS_FORMAT),
            "created_by": self.created_by,
            "status": self.status,
            "dry_run": self.dry_run,
            "total": self.total,
            **{state: self.count(state) for state in STATES},
            "unknown_chats": list(self.unknown_chats),
            "failed_chats": list(self.failed_chats),
        }


def recipients_for(subscriptions: Iterable[Subscription], tags: Iterable[str]) -> list[Recipient]:
    """Groups whose topic filter matches a milestone with ``tags`` (no filter: everything; untagged
    milestones are general news and go to every subscriber). Private chats (positive ids) are skipped."""
    wanted = {t.strip().lower() for t in tags if t.strip()}
    out = []
    for sub in subscriptions:
        if sub.chat_id >= 0:
            continue
        if not wanted or not sub.topics or wanted.intersection(sub.topics):
            out.append(Recipient(sub.chat_id, sub.lang or "de", sub.title))
    return out


# ------------------------------------------------------------------------------------------------ helpers


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _ts(now: datetime | None) -> str:
    return _utc(now).strftime(_TS_FORMAT)


def _error(text: str | None) -> str | None:
    return None if text is None else text[:MAX_ERROR_CHARS]


def _delivery(row: Sequence[object]) -> Delivery:
    return Delivery(
        announcement_id=int(row[0]),  # type: ignore[call-overload]
        chat_id=int(row[1]),  # type: ignore[call-overload]
        lang=str(row[2]),
        state=str(row[3]),  # type: ignore[arg-type]
        attempts=int(row[4]),  # type: ignore[call-overload]
        last_error=None if row[5] is None else str(row[5]),
        message_id=None if row[6] is None else int(row[6]),  # type: ignore[call-overload]
    )


_DELIVERY_COLUMNS: Final = "announcement_id, chat_id, lang, state, attempts, last_error, message_id"


# -------------------------------------------------------------------------------------------------- outbox


class Outbox(Database):
    """The announcement outbox in the bot's SQLite file (own connection; thread-safe; short calls). Every
    commit reaches the disk (``synchronous = FULL``): a row marked ``sending`` must survive a power cut."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, synchronous="FULL")

    # ------------------------------------------------------------------------------------------ planning

    @staticmethod
    def _subscriptions(conn: sqlite3.Connection) -> list[Subscription]:
        rows = conn.execute(
            "SELECT chat_id, title, lang, topics, subscribed_at FROM subscriptions ORDER BY subscribed_at, chat_id"
        ).fetchall()
        return [
            Subscription(
                chat_id=int(r[0]),
                title=str(r[1]),
                lang=str(r[2]),
                topics=tuple(t for t in str(r[3]).split(",") if t),
                subscribed_at=datetime.strptime(str(r[4]), _TS_FORMAT).replace(tzinfo=UTC),
            )
            for r in rows
        ]

    @staticmethod
    def _previous(conn: sqlite3.Connection, milestone_id: str) -> list[int]:
        rows = conn.execute(
            "SELECT id FROM announcements WHERE milestone_id = ? AND dry_run = 0 ORDER BY id", (milestone_id,)
        ).fetchall()
        return [int(r[0]) for r in rows]

    def _plan(self, conn: sqlite3.Connection, milestone_id: str, tags: Iterable[str]) -> Plan:
        previous = self._previous(conn, milestone_id)
        reached: set[int] = set()
        if previous:
            marks = ",".join("?" * len(REACHED))
            rows = conn.execute(
                "SELECT DISTINCT d.chat_id FROM deliveries d JOIN announcements a ON a.id = d.announcement_id"
                f" WHERE a.milestone_id = ? AND a.dry_run = 0 AND d.state IN ({marks})",
                (milestone_id, *REACHED),
            ).fetchall()
            reached = {int(r[0]) for r in rows}
        everyone = recipients_for(self._subscriptions(conn), tags)
        fresh = tuple(r for r in everyone if r.chat_id not in reached)
        return Plan(milestone_id, fresh, len(everyone) - len(fresh), tuple(previous))

    def plan(self, milestone_id: str, tags: Iterable[str] = ()) -> Plan:
        """Who an announcement of this milestone would go to now (read only)."""
        with self._lock:
            return self._plan(self._conn, milestone_id, tags)

    def create(
        self,
        milestone_id: str,
        tags: Iterable[str] = (),
        created_by: CreatedBy = "cli",
        *,
        force: bool = False,
        dry_run: bool = False,
        now: datetime | None = None,
    ) -> tuple[int, Plan]:
        """Record an announcement and one ``pending`` delivery per recipient, in one transaction.

        Raises :class:`AlreadyAnnounced` if the milestone was announced before and ``force`` is false,
        :class:`NothingToSend` if no group is left to receive it. A dry run records the announcement
        (``dry_run = 1``, status ``done``) without delivery rows; it never blocks a later real one.
        """
        if created_by not in CREATED_BY:
            raise ValueError(f"created_by must be one of {CREATED_BY}, not {created_by!r}")
        stamp = _ts(now)
        with self._tx() as conn:
            plan = self._plan(conn, milestone_id, tags)
            if plan.previous and not force and not dry_run:
                raise AlreadyAnnounced(milestone_id, plan.previous)
            if not plan.recipients and not dry_run:
                raise NothingToSend(f"no subscribed group is left to receive {milestone_id!r}")
            cur = conn.execute(
                "INSERT INTO announcements (milestone_id, created_at, created_by, status, dry_run)"
                " VALUES (?, ?, ?, ?, ?)",
                (milestone_id, stamp, created_by, "done" if dry_run else "running", int(dry_run)),
            )
            announcement_id = cur.lastrowid
            assert announcement_id is not None
            if not dry_run:
                conn.executemany(
                    "INSERT INTO deliveries (announcement_id, chat_id, lang, state, updated_at)"
                    " VALUES (?, ?, ?, 'pending', ?)",
                    [(announcement_id, r.chat_id, r.lang, stamp) for r in plan.recipients],
                )
            return announcement_id, plan

    # ----------------------------------------------------------------------------------- state machine

    def _move(
        self,
        announcement_id: int,
        chat_id: int,
        frm: Sequence[State],
        to: State,
        *,
        error: str | None = None,
        message_id: int | None = None,
        count_attempt: bool = False,
        now: datetime | None = None,
    ) -> bool:
        marks = ",".join("?" * len(frm))
        with self._tx() as conn:
            cur = conn.execute(
                f"UPDATE deliveries SET state = ?, updated_at = ?, last_error = COALESCE(?, last_error),"
                f" message_id = COALESCE(?, message_id), attempts = attempts + ?"
                f" WHERE announcement_id = ? AND chat_id = ? AND state IN ({marks})",
                (to, _ts(now), _error(error), message_id, int(count_attempt), announcement_id, chat_id, *frm),
            )
            return cur.rowcount == 1

    def claim(self, announcement_id: int, chat_id: int, now: datetime | None = None) -> bool:
        """``pending → sending``, committed durably; call right before the HTTP request. False if the row
        is not pending (another sender took it, or it is finished): then do not send."""
        return self._move(announcement_id, chat_id, ("pending",), "sending", count_attempt=True, now=now)

    def note_attempt(self, announcement_id: int, chat_id: int, error: str, now: datetime | None = None) -> None:
        """Another try of a row in ``sending`` (after an error that proves nothing was delivered)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, updated_at = ?"
                " WHERE announcement_id = ? AND chat_id = ? AND state = 'sending'",
                (_error(error), _ts(now), announcement_id, chat_id),
            )

    def mark_sent(
        self, announcement_id: int, chat_id: int, message_id: int | None, now: datetime | None = None
    ) -> bool:
        return self._move(announcement_id, chat_id, ("sending",), "sent", message_id=message_id, now=now)

    def mark_failed(self, announcement_id: int, chat_id: int, error: str, now: datetime | None = None) -> bool:
        return self._move(announcement_id, chat_id, ("sending", "pending"), "failed", error=error, now=now)

    def mark_unknown(self, announcement_id: int, chat_id: int, error: str, now: datetime | None = None) -> bool:
        """The request may or may not have been executed (timeout): never send this row again."""
        return self._move(announcement_id, chat_id, ("sending",), "unknown", error=error, now=now)

    def mark_removed(self, announcement_id: int, chat_id: int, error: str, now: datetime | None = None) -> bool:
        """The bot cannot write to the group any more (403, chat not found): the subscription ends too."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE deliveries SET state = 'removed', updated_at = ?, last_error = ?"
                " WHERE announcement_id = ? AND chat_id = ? AND state IN ('sending', 'pending')",
                (_ts(now), _error(error), announcement_id, chat_id),
            )
            conn.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
            return cur.rowcount == 1

    def migrate_chat(
        self, announcement_id: int, old_chat_id: int, new_chat_id: int, now: datetime | None = None
    ) -> bool:
        """The group became a supergroup: its subscription and this delivery follow the new id.

        Returns True if the row (still ``sending``) now belongs to ``new_chat_id`` – send there. False if the
        new chat already has its own row in this announcement (or got the milestone before): the old row is
        then closed as ``removed`` and nothing is sent for it."""
        stamp = _ts(now)
        with self._tx() as conn:
            if conn.execute("SELECT 1 FROM subscriptions WHERE chat_id = ?", (new_chat_id,)).fetchone():
                conn.execute("DELETE FROM subscriptions WHERE chat_id = ?", (old_chat_id,))
            else:
                conn.execute("UPDATE subscriptions SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id))
            taken = conn.execute(
                "SELECT 1 FROM deliveries d JOIN announcements a ON a.id = d.announcement_id"
                " WHERE d.chat_id = ? AND (d.announcement_id = ? OR (a.milestone_id ="
                " (SELECT milestone_id FROM announcements WHERE id = ?) AND a.dry_run = 0 AND d.state IN"
                " ('sent', 'unknown', 'pending', 'sending')))",
                (new_chat_id, announcement_id, announcement_id),
            ).fetchone()
            note = f"migrated to {new_chat_id}"
            if taken:
                conn.execute(
                    "UPDATE deliveries SET state = 'removed', updated_at = ?, last_error = ?"
                    " WHERE announcement_id = ? AND chat_id = ? AND state = 'sending'",
                    (stamp, note + " (already planned there)", announcement_id, old_chat_id),
                )
                return False
            cur = conn.execute(
                "UPDATE deliveries SET chat_id = ?, updated_at = ?, last_error = ?"
                " WHERE announcement_id = ? AND chat_id = ? AND state = 'sending'",
                (new_chat_id, stamp, f"migrated from {old_chat_id}", announcement_id, old_chat_id),
            )
            return cur.rowcount == 1

    def recover(self, announcement_id: int | None = None, now: datetime | None = None) -> int:
        """After a crash/restart: rows left in ``sending`` become ``unknown`` (never re-sent). Returns how
        many. Call only when no sender of that announcement (``None``: of any) is running."""
        with self._tx() as conn:
            query = (
                "UPDATE deliveries SET state = 'unknown', updated_at = ?,"
                " last_error = 'in doubt: interrupted while sending (not re-sent)' WHERE state = 'sending'"
            )
            args: tuple[object, ...] = (_ts(now),)
            if announcement_id is not None:
                query += " AND announcement_id = ?"
                args += (announcement_id,)
            return conn.execute(query, args).rowcount

    def finish(self, announcement_id: int) -> bool:
        """Mark the announcement ``done`` if no row is pending or in flight. Returns whether it is done."""
        with self._tx() as conn:
            left = conn.execute(
                "SELECT COUNT(*) FROM deliveries WHERE announcement_id = ? AND state IN ('pending', 'sending')",
                (announcement_id,),
            ).fetchone()[0]
            if left:
                return False
            conn.execute("UPDATE announcements SET status = 'done' WHERE id = ?", (announcement_id,))
            return True

    def fail_pending(self, announcement_id: int, error: str, now: datetime | None = None) -> int:
        """Give up the rows not yet sent (e.g. the milestone was removed from the knowledge)."""
        with self._tx() as conn:
            return conn.execute(
                "UPDATE deliveries SET state = 'failed', updated_at = ?, last_error = ?"
                " WHERE announcement_id = ? AND state = 'pending'",
                (_ts(now), _error(error), announcement_id),
            ).rowcount

    # -------------------------------------------------------------------------------------------- reads

    def deliveries(self, announcement_id: int, states: Sequence[State] | None = None) -> list[Delivery]:
        query = f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE announcement_id = ?"
        args: tuple[object, ...] = (announcement_id,)
        if states is not None:
            query += f" AND state IN ({','.join('?' * len(states))})"
            args += tuple(states)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY rowid", args).fetchall()
        return [_delivery(r) for r in rows]

    def pending(self, announcement_id: int) -> list[Delivery]:
        return self.deliveries(announcement_id, ("pending",))

    def resumable(self) -> list[int]:
        """Announcements with rows still ``pending`` (resume them after :meth:`recover`)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT DISTINCT announcement_id FROM deliveries WHERE state = 'pending' ORDER BY announcement_id"
            ).fetchall()
        return [int(r[0]) for r in rows]

    def unfinished(self, milestone_id: str) -> int | None:
        """The latest announcement of this milestone that still has ``pending``/``sending`` rows."""
        with self._lock:
            row = self._conn.execute(
                "SELECT a.id FROM announcements a JOIN deliveries d ON d.announcement_id = a.id"
                " WHERE a.milestone_id = ? AND d.state IN ('pending', 'sending') ORDER BY a.id DESC LIMIT 1",
                (milestone_id,),
            ).fetchone()
        return None if row is None else int(row[0])

    def was_announced(self, milestone_id: str) -> bool:
        with self._lock:
            return bool(self._previous(self._conn, milestone_id))

    def _report(self, conn: sqlite3.Connection, row: Sequence[object]) -> Report:
        aid = int(row[0])  # type: ignore[call-overload]
        counts: dict[str, int] = dict.fromkeys(STATES, 0)
        for state, n in conn.execute(
            "SELECT state, COUNT(*) FROM deliveries WHERE announcement_id = ? GROUP BY state", (aid,)
        ).fetchall():
            counts[str(state)] = int(n)

        def chats(state: str) -> tuple[int, ...]:
            rows = conn.execute(
                "SELECT chat_id FROM deliveries WHERE announcement_id = ? AND state = ? ORDER BY rowid", (aid, state)
            ).fetchall()
            return tuple(int(r[0]) for r in rows)

        return Report(
            id=aid,
            milestone_id=str(row[1]),
            created_at=datetime.strptime(str(row[2]), _TS_FORMAT).replace(tzinfo=UTC),
            created_by=str(row[3]),
            status=str(row[4]),
            dry_run=bool(row[5]),
            counts=counts,
            unknown_chats=chats("unknown"),
            failed_chats=chats("failed"),
        )

    def report(self, announcement_id: int) -> Report:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, milestone_id, created_at, created_by, status, dry_run FROM announcements WHERE id = ?",
                (announcement_id,),
            ).fetchone()
            if row is None:
                raise UnknownAnnouncement(f"no announcement {announcement_id}")
            return self._report(self._conn, row)

    def announcements(self, limit: int = 50) -> list[Report]:
        """The latest announcements, newest first, with their delivery counts."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, milestone_id, created_at, created_by, status, dry_run FROM announcements"
                " ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
            return [self._report(self._conn, r) for r in rows]
