"""Tests of bot.storage: schema and migrations, privacy of the log, dedup, subscriptions, retention, stats,
learned phrasings, the review queue and stale reminders."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot import storage
from bot.storage import (
    MIGRATIONS,
    DayCount,
    EntryCount,
    EntryFeedback,
    LearnedConflict,
    LoggedQuestion,
    SchemaVersionError,
    Store,
    migrate,
)

NOW = datetime(2025, 3, 15, 12, 34, 56, tzinfo=UTC)
LATEST = len(MIGRATIONS)


@pytest.fixture
def store() -> Iterator[Store]:
    with Store(":memory:") as s:
        yield s


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")]


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def count(store: Store, table: str) -> int:
    return int(store._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


# ------------------------------------------------------------------------------------- opening


def test_open_creates_parent_dir_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "faqbot.sqlite3"
    with Store.open(path) as s:
        assert path.exists()
        assert s._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert s._conn.execute("PRAGMA busy_timeout").fetchone()[0] == storage.BUSY_TIMEOUT_MS
        assert s.schema_version == LATEST
    # WAL is persistent: a fresh plain connection sees it too.
    conn = raw(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_memory_store_and_context_manager_close() -> None:
    with Store.open(":memory:") as s:
        assert s.schema_version == LATEST
        assert s.mark_update(1)
    with pytest.raises(sqlite3.ProgrammingError):
        s.mark_update(2)
    s.close()  # idempotent


def test_reopen_keeps_data_and_applies_no_migration(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with Store.open(path) as s:
        s.set_lang(7, "en")
    with Store.open(str(path)) as s:
        assert s.get_lang(7) == "en"
        assert migrate(s._conn) == 0


def test_meta_roundtrip(store: Store) -> None:
    assert store.get_meta("nope") is None
    store.set_meta("k", "v1")
    store.set_meta("k", "v2")
    assert store.get_meta("k") == "v2"


def test_store_is_usable_from_several_threads(store: Store) -> None:
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(50):
                store.mark_update(offset * 1000 + i)
                store.log_question("q", "q", "de", "fallback", now=NOW)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert count(store, "processed_updates") == 200
    assert count(store, "question_log") == 200


# ---------------------------------------------------------------------------------- migrations


def test_version_1_database_is_migrated_and_keeps_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = raw(path)
    assert migrate(conn, MIGRATIONS[:1]) == 1
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.execute(
        "INSERT INTO question_log (asked_at, day, question, normalized, lang, status, entry_id, score,"
        " chat_type) VALUES ('2025-03-01T10:00:00Z', '2025-03-01', 'Wo?', 'wo', 'de', 'answer', 'e1', 90,"
        " 'private')"
    )
    conn.execute("INSERT INTO user_prefs (user_id, lang) VALUES (42, 'en')")
    conn.execute("INSERT INTO meta (key, value) VALUES ('custom', 'x')")
    conn.close()

    with Store.open(path) as s:
        assert s.schema_version == LATEST
        assert s.get_lang(42) == "en"
        assert s.get_meta("custom") == "x"
        st = s.stats(days=30, now=datetime(2025, 3, 10, tzinfo=UTC))
        assert st.total == 1
        assert st.top_entries == [EntryCount("e1", 1)]
        assert s.subscribe(-100, "Team")  # a table of a later migration works


def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    with Store.open(path):
        pass
    conn = raw(path)
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    with pytest.raises(SchemaVersionError, match=r"newer than this faqbot supports"):
        Store.open(path)


def test_failing_migration_is_rolled_back(tmp_path: Path) -> None:
    conn = raw(tmp_path / "x.sqlite3")
    broken = (*MIGRATIONS, "CREATE TABLE extra (a INTEGER); INSERT INTO missing_table VALUES (1);")
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, broken)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST  # earlier ones are committed
    assert not conn.in_transaction
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "extra" not in tables
    conn.close()


def test_migration_scripts_may_contain_semicolons_in_literals_and_triggers() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    script = """
        CREATE TABLE t (v TEXT);
        CREATE TABLE audit (v TEXT);
        CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN INSERT INTO audit VALUES (new.v || ';x'); END;
        INSERT INTO t VALUES ('a;b');
    """
    assert migrate(conn, (script,)) == 1
    assert conn.execute("SELECT v FROM audit").fetchall() == [("a;b;x",)]
    conn.close()


# ------------------------------------------------------------------------------------ updates


def test_replayed_update_is_reported(store: Store) -> None:
    assert store.mark_update(1001, now=NOW) is True
    assert store.mark_update(1001, now=NOW + timedelta(minutes=5)) is False
    assert store.mark_update(1002, now=NOW) is True


# ---------------------------------------------------------------------------------- questions


def test_log_question_stores_truncated_text_and_minute(store: Store) -> None:
    long = "x" * 800
    qid = store.log_question(long, long, "de", "answer", "e1", 87, "group", now=NOW)
    row = store._conn.execute(
        "SELECT asked_at, day, question, normalized, lang, status, entry_id, score, chat_type"
        " FROM question_log WHERE id = ?",
        (qid,),
    ).fetchone()
    assert row[0] == "2025-03-15T12:34:00Z"
    assert row[1] == "2025-03-15"
    assert len(row[2]) == storage.MAX_QUESTION_CHARS
    assert len(row[3]) == storage.MAX_QUESTION_CHARS
    assert row[4:] == ("de", "answer", "e1", 87, "group")
    assert store.log_question("b", "b", "en", "fallback", now=NOW) == qid + 1


def test_log_question_times_are_utc(store: Store) -> None:
    berlin = timezone(timedelta(hours=1))
    qid = store.log_question("q", "q", "de", "fallback", now=datetime(2025, 3, 16, 0, 30, tzinfo=berlin))
    naive = store.log_question("q", "q", "de", "fallback", now=datetime(2025, 3, 16, 0, 30))
    rows = store._conn.execute(
        "SELECT asked_at, day FROM question_log WHERE id IN (?, ?) ORDER BY id", (qid, naive)
    ).fetchall()
    assert rows == [("2025-03-15T23:30:00Z", "2025-03-15"), ("2025-03-16T00:30:00Z", "2025-03-16")]
    assert store.log_question("q", "q", "de", "smalltalk", "greeting", chat_type="cli") > 0  # real clock


@pytest.mark.parametrize(("status", "chat_type"), [("maybe", "private"), ("answer", "channel")])
def test_log_question_rejects_unknown_values(store: Store, status: str, chat_type: str) -> None:
    with pytest.raises(ValueError, match="unknown"):
        store.log_question("q", "q", "de", status, chat_type=chat_type)  # type: ignore[arg-type]


def test_no_user_or_chat_ids_in_log_and_feedback(store: Store) -> None:
    conn = store._conn
    assert columns(conn, "question_log") == [
        "id",
        "asked_at",
        "day",
        "question",
        "normalized",
        "lang",
        "status",
        "entry_id",
        "score",
        "chat_type",
        "resolved_entry_id",
    ]
    assert columns(conn, "feedback") == ["id", "question_id", "entry_id", "value", "at"]
    assert columns(conn, "learned_phrasings") == ["id", "entry_id", "lang", "text", "added_at"]
    assert columns(conn, "review_dismissed") == ["normalized", "reason", "at"]
    for table in ("question_log", "feedback", "feedback_votes", "learned_phrasings", "review_dismissed"):
        for name in columns(conn, table):
            assert "user" not in name
            assert name not in {"chat_id", "from_id", "sender_id", "message_id"}


# ----------------------------------------------------------------------------------- feedback


def test_double_vote_is_rejected_and_changed_vote_updates(store: Store) -> None:
    qid = store.log_question("Wo?", "wo", "de", "answer", "e1", 90, now=NOW)
    assert store.record_feedback(11, "-5:77", "e1", 1, qid, now=NOW) is True
    assert store.record_feedback(11, "-5:77", "e1", 1, qid, now=NOW) is False  # same vote again
    assert count(store, "feedback") == 1
    assert store.record_feedback(11, "-5:77", "e1", -1, qid, now=NOW) is True  # changed its mind
    assert store._conn.execute("SELECT value, question_id FROM feedback").fetchall() == [(-1, qid)]
    assert store.record_feedback(11, "-5:77", "e1", -1, qid, now=NOW) is False
    assert store.record_feedback(12, "-5:77", "e1", 1, qid, now=NOW) is True  # another user
    assert store.record_feedback(11, "-5:78", "e1", 1, None, now=NOW) is True  # another message
    assert count(store, "feedback") == 3
    assert count(store, "feedback_votes") == 3
    st = store.stats(now=NOW)
    assert st.feedback == [EntryFeedback("e1", 2, 1)]
    assert (st.feedback_up, st.feedback_down) == (2, 1)


def test_vote_key_is_a_salted_hash(store: Store) -> None:
    store.record_feedback(123456789, "1:2", "e1", 1, now=NOW)
    (key,) = store._conn.execute("SELECT vote_key FROM feedback_votes").fetchone()
    assert len(key) == 64
    assert "123456789" not in key
    salt = store.get_meta("vote_salt")
    assert salt is not None
    assert len(salt) == 64
    with Store(":memory:") as other:  # another database has another salt, hence other keys
        assert other.get_meta("vote_salt") != salt
        other.record_feedback(123456789, "1:2", "e1", 1, now=NOW)
        assert other._conn.execute("SELECT vote_key FROM feedback_votes").fetchone()[0] != key


def test_vote_dedup_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with Store.open(path) as s:
        assert s.record_feedback(5, "m", "e1", 1, now=NOW)
    with Store.open(path) as s:
        assert not s.record_feedback(5, "m", "e1", 1, now=NOW)


def test_feedback_validation_and_dangling_question(store: Store) -> None:
    with pytest.raises(ValueError, match=r"\+1 or -1"):
        store.record_feedback(1, "m", "e1", 0)
    assert store.record_feedback(1, "m", "e1", -1, question_id=999, now=NOW)
    assert store._conn.execute("SELECT question_id FROM feedback").fetchone()[0] is None


# --------------------------------------------------------------------------------- user prefs


def test_user_language_and_forget(store: Store) -> None:
    assert store.get_lang(5) is None
    store.set_lang(5, "de")
    store.set_lang(5, "en")
    assert store.get_lang(5) == "en"
    store.subscribe(5, "private chat")
    store.subscribe(-5, "group")
    assert store.forget_user(5) is True
    assert store.get_lang(5) is None
    assert not store.is_subscribed(5)
    assert store.is_subscribed(-5)  # a group is not a user
    assert store.forget_user(5) is False


# ------------------------------------------------------------------------------ subscriptions


def test_subscribe_unsubscribe_and_topics(store: Store) -> None:
    assert store.subscribe(-1, "Alle", now=NOW) is True
    assert store.subscribe(-1, "Alle again", lang="en", now=NOW) is False
    assert store.subscribe(-2, "Schul-IT", "en", [" Schul-IT ", "amt", "amt", ""], now=NOW + timedelta(1))
    assert store.is_subscribed(-1)
    assert not store.is_subscribed(-3)

    subs = store.subscriptions()
    assert [(s.chat_id, s.title, s.lang, s.topics) for s in subs] == [
        (-1, "Alle", "de", ()),
        (-2, "Schul-IT", "en", ("schul-it", "amt")),
    ]
    assert subs[0].subscribed_at == NOW.replace(microsecond=0)
    assert [s.chat_id for s in store.subscriptions("amt")] == [-1, -2]
    assert [s.chat_id for s in store.subscriptions("Schul-IT")] == [-1, -2]
    assert [s.chat_id for s in store.subscriptions("personal")] == [-1]

    with pytest.raises(ValueError, match="comma"):
        store.subscribe(-3, "x", topics=["a,b"])

    assert store.unsubscribe(-1) is True
    assert store.unsubscribe(-1) is False
    assert [s.chat_id for s in store.subscriptions()] == [-2]


def test_move_subscription_to_supergroup(store: Store) -> None:
    store.subscribe(-123, "Gruppe", "en", ["amt"], now=NOW)
    assert store.move_subscription(-123, -100123) is True
    assert not store.is_subscribed(-123)
    (sub,) = store.subscriptions()
    assert (sub.chat_id, sub.title, sub.lang, sub.topics) == (-100123, "Gruppe", "en", ("amt",))
    assert store.move_subscription(-123, -100123) is False  # nothing left to move
    assert store.move_subscription(-100123, -100123) is True  # no-op, still subscribed

    # the new chat subscribed on its own already: keep it, drop the old one
    store.subscribe(-7, "old")
    store.subscribe(-1007, "new")
    assert store.move_subscription(-7, -1007) is True
    assert not store.is_subscribed(-7)
    assert [s.title for s in store.subscriptions() if s.chat_id == -1007] == ["new"]


# ---------------------------------------------------------------------------------- retention


def test_prune_deletes_old_rows_only(store: Store) -> None:
    old = NOW - timedelta(days=100)
    recent = NOW - timedelta(days=5)
    old_q = store.log_question("alt", "alt", "de", "answer", "e1", now=old)
    new_q = store.log_question("neu", "neu", "de", "answer", "e1", now=recent)
    store.record_feedback(1, "m-old", "e1", 1, old_q, now=old)
    store.record_feedback(1, "m-new", "e1", 1, new_q, now=recent)
    store.record_feedback(2, "m-late", "e1", -1, old_q, now=recent)  # recent vote on an old question
    store.mark_update(1, now=old)
    store.mark_update(2, now=recent)
    store.set_lang(1, "en")
    store.subscribe(-1, "g", now=old)

    # old question, old feedback, its vote key, old update id
    assert store.prune(90, now=NOW) == 4
    assert store._conn.execute("SELECT question FROM question_log").fetchall() == [("neu",)]
    assert store._conn.execute("SELECT entry_id, value, question_id FROM feedback ORDER BY id").fetchall() == [
        ("e1", 1, new_q),
        ("e1", -1, None),  # link to the pruned question is cleared, the vote stays
    ]
    assert count(store, "feedback_votes") == 2
    assert store.mark_update(1, now=NOW) is True  # forgotten
    assert store.mark_update(2, now=NOW) is False
    # prefs and subscriptions are not subject to retention
    assert store.get_lang(1) == "en"
    assert store.is_subscribed(-1)
    # a pruned vote key no longer blocks; a kept one still does
    assert store.record_feedback(1, "m-old", "e1", 1, now=NOW) is True
    assert store.record_feedback(1, "m-new", "e1", 1, now=NOW) is False

    assert store.prune(90, now=NOW) == 0
    with pytest.raises(ValueError, match="negative"):
        store.prune(-1)


def test_prune_with_real_clock(store: Store) -> None:
    store.log_question("q", "q", "de", "fallback", now=datetime.now(UTC) - timedelta(days=2))
    assert store.prune(1) == 1


# -------------------------------------------------------------------------------------- stats


def test_stats(store: Store) -> None:
    day = timedelta(days=1)
    store.log_question("zu alt", "zu alt", "de", "answer", "old", now=NOW - 30 * day)  # outside 30 days
    for _ in range(3):
        store.log_question("a", "a", "de", "answer", "e1", 90, now=NOW)
    store.log_question("b", "b", "de", "answer", "e2", 80, now=NOW - 2 * day)
    store.log_question("c", "c", "de", "clarify", "e3", 60, now=NOW - 2 * day)
    store.log_question("d", "d", "de", "fallback", now=NOW - 29 * day)
    store.log_question("hi", "hi", "de", "smalltalk", "greeting", now=NOW)
    for i in range(11):
        store.log_question("x", "x", "en", "answer", f"z{i:02d}", now=NOW - 10 * day)
    store.record_feedback(1, "m1", "e1", 1, now=NOW)
    store.record_feedback(2, "m1", "e1", -1, now=NOW)
    store.record_feedback(1, "m2", "e2", -1, now=NOW)
    store.record_feedback(1, "m3", "old", 1, now=NOW - 31 * day)  # outside

    st = store.stats(days=30, now=NOW)
    assert (st.days, st.since, st.until) == (30, "2025-02-14", "2025-03-15")
    assert st.total == 18
    assert len(st.per_day) == 30
    assert st.per_day[0] == DayCount("2025-02-14", 1)
    assert st.per_day[-1] == DayCount("2025-03-15", 4)
    assert st.per_day[-3] == DayCount("2025-03-13", 2)
    assert st.per_day[1] == DayCount("2025-02-15", 0)
    assert sum(d.questions for d in st.per_day) == st.total
    assert st.status_counts == {"answer": 15, "clarify": 1, "fallback": 1, "smalltalk": 1}
    assert st.status_rates["answer"] == pytest.approx(15 / 18)
    assert sum(st.status_rates.values()) == pytest.approx(1.0)
    assert len(st.top_entries) == 10
    assert st.top_entries[0] == EntryCount("e1", 3)
    assert st.top_entries[1] == EntryCount("e2", 1)
    assert "e3" not in {e.entry_id for e in st.top_entries}  # clarify is not an answer
    assert st.feedback == [EntryFeedback("e1", 1, 1), EntryFeedback("e2", 0, 1)]
    assert st.feedback[0].total == 2
    assert (st.feedback_up, st.feedback_down) == (1, 2)

    week = store.stats(days=1, now=NOW)
    assert week.total == 4
    assert week.per_day == [DayCount("2025-03-15", 4)]

    with pytest.raises(ValueError, match="days"):
        store.stats(days=0)


def test_stats_of_empty_store(store: Store) -> None:
    st = store.stats(days=7)
    assert st.total == 0
    assert len(st.per_day) == 7
    assert st.per_day[-1].day == datetime.now(UTC).date().isoformat()
    assert st.status_rates == dict.fromkeys(storage.STATUSES, 0.0)
    assert st.top_entries == []
    assert st.feedback == []


# ------------------------------------------------------------------------ migration 4 (learning)


def test_version_3_database_with_data_is_migrated_to_learning(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite3"
    conn = raw(path)
    assert migrate(conn, MIGRATIONS[:3]) == 3
    conn.execute(
        "INSERT INTO question_log (asked_at, day, question, normalized, lang, status, entry_id, score,"
        " chat_type) VALUES ('2025-03-15T10:00:00Z', '2025-03-15', 'Welche?', 'welch', 'de', 'clarify', NULL, 55,"
        " 'private')"
    )
    conn.execute("INSERT INTO feedback (question_id, entry_id, value, at) VALUES (1, 'e1', -1, '2025-03-15T10:01:00Z')")
    conn.execute("INSERT INTO subscriptions (chat_id, subscribed_at) VALUES (-5, '2025-03-01T00:00:00Z')")
    conn.close()

    with Store.open(path) as s:
        assert s.schema_version == LATEST == 4
        assert s.question(1) == LoggedQuestion(
            1, "Welche?", "welch", "de", "clarify", None, datetime(2025, 3, 15, 10, tzinfo=UTC)
        )
        assert s._conn.execute("SELECT resolved_entry_id FROM question_log").fetchall() == [(None,)]
        assert s.is_subscribed(-5)
        assert s.stats(days=1, now=NOW).status_counts["clarify"] == 1
        kinds = {(i.kind, i.question_id) for i in s.review_items(now=NOW)}
        assert kinds == {("clarify", 1), ("downvote", 1)}  # old rows feed the new queue
        assert s.resolve_clarify(1, "e2") is True
        assert s.add_learned("e1", "de", "Welche?", now=NOW).id == 1


def test_resolve_clarify_only_for_clarify_rows(store: Store) -> None:
    clarify = store.log_question("Stelle?", "stell", "de", "clarify", score=55, now=NOW)
    answer = store.log_question("Wo?", "wo", "de", "answer", "e1", 90, now=NOW)
    assert store.resolve_clarify(clarify, "e1") is True
    assert store.resolve_clarify(clarify, "e2") is True  # a later pick replaces the first
    assert store.resolve_clarify(answer, "e1") is False
    assert store.resolve_clarify(999, "e1") is False
    rows = store._conn.execute("SELECT id, resolved_entry_id FROM question_log ORDER BY id").fetchall()
    assert rows == [(clarify, "e2"), (answer, None)]


def test_question_lookup(store: Store) -> None:
    qid = store.log_question("Wann geht es los?", "los wann", "de", "answer", "start", 88, now=NOW)
    assert store.question(qid) == LoggedQuestion(
        qid, "Wann geht es los?", "los wann", "de", "answer", "start", NOW.replace(second=0)
    )
    assert store.question(qid + 1) is None


# ------------------------------------------------------------------------- learned phrasings


def test_learned_phrasings_add_list_remove(store: Store) -> None:
    first = store.add_learned("start", "de", "  Wann geht's los?  ", now=NOW)
    assert (first.entry_id, first.lang, first.text, first.added_at) == ("start", "de", "Wann geht's los?", NOW)
    second = store.add_learned("start", "en", "When does it start?", now=NOW + timedelta(hours=1))
    assert store.learned() == [first, second]
    # the same text again for the same entry: stored once, the existing row comes back
    assert store.add_learned("start", "de", "Wann geht's los?", now=NOW + timedelta(days=1)) == first
    assert count(store, "learned_phrasings") == 2
    # the same text in the other language is another phrasing
    third = store.add_learned("start", "en", "Wann geht's los?", now=NOW)
    assert third.id > second.id
    with pytest.raises(LearnedConflict, match="already learned for entry 'start'") as caught:
        store.add_learned("other", "de", "Wann geht's los?")
    assert caught.value.existing == first
    assert isinstance(caught.value, ValueError)
    with pytest.raises(ValueError, match="empty"):
        store.add_learned("start", "de", "   ")
    with pytest.raises(ValueError, match="unknown lang"):
        store.add_learned("start", "fr", "Quand?")
    assert store.remove_learned(first.id) is True
    assert store.remove_learned(first.id) is False
    assert [p.id for p in store.learned()] == [second.id, third.id]


def test_learned_phrasings_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with Store.open(path) as s:
        added = s.add_learned("start", "de", "Wann geht's los?", now=NOW)
    with Store.open(path) as s:
        assert s.learned() == [added]


# ------------------------------------------------------------------------------ review queue


def test_review_items_kinds_grouping_and_order(store: Store) -> None:
    minute = timedelta(minutes=1)
    day = timedelta(days=1)
    f1 = store.log_question("Parkplatz?", "parkplatz", "de", "fallback", now=NOW - 2 * day)
    f2 = store.log_question("parkplatz!!", "parkplatz", "de", "fallback", now=NOW - day)
    f3 = store.log_question("Kantine", "kantine", "en", "fallback", now=NOW - 3 * minute)
    store.log_question("zu alt", "alt", "de", "fallback", now=NOW - 40 * day)  # outside the window
    store.log_question("hallo", "hallo", "de", "smalltalk", "greeting", now=NOW)
    store.log_question("Wo?", "wo", "de", "answer", "e1", 90, now=NOW)  # answered, no 👎

    result = store.review_items(days=30, now=NOW)
    assert [(i.kind, i.normalized, i.times, i.question_ids) for i in result] == [
        ("fallback", "parkplatz", 2, (f1, f2)),
        ("fallback", "kantine", 1, (f3,)),
    ]
    park = result[0]
    assert (park.question_id, park.question, park.lang, park.entry_id) == (f2, "parkplatz!!", "de", None)
    assert park.last_asked == (NOW - day).replace(second=0)
    assert store.review_items(days=1, now=NOW) == [result[1]]
    with pytest.raises(ValueError, match="days"):
        store.review_items(days=0)


def test_review_items_abandoned_clarify_timing(store: Store) -> None:
    minute = timedelta(minutes=1)
    old = store.log_question("Stelle?", "stell", "de", "clarify", score=55, now=NOW - 11 * minute)
    fresh = store.log_question("Stelle!", "stell", "de", "clarify", score=55, now=NOW - 2 * minute)
    picked = store.log_question("Stelle.", "stell", "de", "clarify", score=55, now=NOW - 30 * minute)
    assert store.resolve_clarify(picked, "amtsleitung")

    (item,) = store.review_items(now=NOW)  # the fresh one may still be picked; the picked one is resolved
    assert (item.kind, item.question_id, item.times, item.question_ids) == ("clarify", old, 1, (old,))
    later = store.review_items(now=NOW + 10 * minute)
    assert [(i.kind, i.question_ids) for i in later] == [("clarify", (old, fresh))]
    assert store.review_items(now=NOW, abandon_after=timedelta(minutes=1))[0].times == 2
    assert store.resolve_clarify(old, "amtsleitung")
    assert [i.question_ids for i in store.review_items(now=NOW + 10 * minute)] == [(fresh,)]


def test_review_items_downvotes_follow_the_current_vote(store: Store) -> None:
    a = store.log_question("Wer leitet?", "leit wer", "de", "answer", "e1", 80, now=NOW)
    b = store.log_question("Wer leitet das?", "leit wer", "de", "answer", "e1", 80, now=NOW)
    c = store.log_question("Wer leitet?", "leit wer", "de", "answer", "e2", 80, now=NOW)
    store.record_feedback(1, "m-a", "e1", -1, a, now=NOW)
    store.record_feedback(2, "m-a", "e1", -1, a, now=NOW)  # a second 👎 on the same answer counts once
    store.record_feedback(1, "m-b", "e1", -1, b, now=NOW)
    store.record_feedback(1, "m-c", "e2", 1, c, now=NOW)  # 👍: not in the queue

    (item,) = store.review_items(now=NOW)
    assert (item.kind, item.entry_id, item.times, item.question_ids, item.question_id) == (
        "downvote",
        "e1",
        2,
        (a, b),
        b,
    )
    store.record_feedback(1, "m-c", "e2", -1, c, now=NOW)  # changed to 👎
    store.record_feedback(1, "m-b", "e1", 1, b, now=NOW)  # changed to 👍
    items = store.review_items(now=NOW)
    assert sorted((i.entry_id, i.question_ids) for i in items) == [("e1", (a,)), ("e2", (c,))]


def test_dismissed_questions_are_hidden_until_asked_again(store: Store) -> None:
    day = timedelta(days=1)
    store.log_question("Parkplatz?", "parkplatz", "de", "fallback", now=NOW - 2 * day)
    store.log_question("Kantine?", "kantine", "de", "fallback", now=NOW - 2 * day)
    store.log_question("Urlaub?", "urlaub", "de", "fallback", now=NOW - 2 * day)
    assert store.dismiss_review(["parkplatz", "kantine", "parkplatz"], "dismissed", now=NOW - day) == 2
    assert [i.normalized for i in store.review_items(now=NOW)] == ["urlaub"]

    again = store.log_question("Parkplatz??", "parkplatz", "de", "fallback", now=NOW)
    park = next(i for i in store.review_items(now=NOW) if i.normalized == "parkplatz")
    assert (park.times, park.question_ids) == (1, (again,))  # only the question asked after the dismissal

    assert store.dismiss_review(["parkplatz"], "learned", now=NOW + timedelta(minutes=1)) == 1
    assert [i.normalized for i in store.review_items(now=NOW + timedelta(minutes=1))] == ["urlaub"]
    rows = store._conn.execute("SELECT normalized, reason, at FROM review_dismissed ORDER BY normalized").fetchall()
    assert rows == [
        ("kantine", "dismissed", "2025-03-14T12:34:56Z"),
        ("parkplatz", "learned", "2025-03-15T12:35:56Z"),
    ]
    assert store.dismiss_review([], "dismissed") == 0
    with pytest.raises(ValueError, match="reason"):
        store.dismiss_review(["x"], "ignored")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- stale reminders


def test_mark_reminded_once_per_review_date(store: Store) -> None:
    assert store.mark_reminded("entry", "e1", date(2025, 3, 1), now=NOW) is True
    assert store.mark_reminded("entry", "e1", date(2025, 3, 1), now=NOW + timedelta(days=1)) is False
    assert store.mark_reminded("entry", "e1", date(2025, 3, 10), now=NOW) is True  # an editor set a new date
    assert store.mark_reminded("fact", "e1", date(2025, 3, 1), now=NOW) is True  # another kind of item
    assert store.mark_reminded("entry", "e2", date(2025, 3, 1), now=NOW) is True


def test_prune_covers_dismissals_but_keeps_learned_and_reminders(store: Store) -> None:
    old = NOW - timedelta(days=100)
    clarify = store.log_question("alt", "alt", "de", "clarify", now=old)
    store.resolve_clarify(clarify, "e1")
    store.dismiss_review(["alt"], "dismissed", now=old)
    store.dismiss_review(["neu"], "learned", now=NOW - timedelta(days=5))
    learned = store.add_learned("e1", "de", "alt", now=old)
    store.mark_reminded("entry", "e1", date(2024, 1, 1), now=old)

    assert store.prune(90, now=NOW) == 2  # the old question (with its pick) and the old dismissal
    assert store._conn.execute("SELECT normalized FROM review_dismissed").fetchall() == [("neu",)]
    assert store.learned() == [learned]
    assert store.mark_reminded("entry", "e1", date(2024, 1, 1), now=NOW) is False
