"""The announcement outbox (bot.broadcast): plan, one-transaction creation, the delivery state machine."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.broadcast import AlreadyAnnounced, NothingToSend, Outbox, Recipient, recipients_for
from bot.storage import MIGRATIONS, Store
from bot.tg import callbacks as cb

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "faqbot.sqlite3"
    with Store.open(path) as store:
        store.subscribe(-1, "Alle", now=T0)
        store.subscribe(-2, "Schule", "en", ["schul-it"], now=T0)
        store.subscribe(-3, "Personal", topics=["personal"], now=T0)
        store.subscribe(42, "privat", now=T0)  # private chat: never part of a group announcement
    return path


def test_schema_version_and_synchronous_full(db: Path) -> None:
    with Outbox(db) as outbox:
        assert outbox._conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert outbox._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_topic_filter(db: Path) -> None:
    with Outbox(db) as outbox:
        assert [r.chat_id for r in outbox.plan("x", ["schul-it"]).recipients] == [-2, -1]
        assert [r.chat_id for r in outbox.plan("x", []).recipients] == [-3, -2, -1]
        assert outbox.plan("x", ["schul-it"]).recipients[0] == Recipient(-2, "en", "Schule")


def test_recipients_for_ignores_private_chats() -> None:
    with Store.open(":memory:") as store:
        store.subscribe(5, "privat")
        store.subscribe(-5, "g", topics=["a"])
        assert recipients_for(store.subscriptions(), ["b"]) == []
        assert [r.chat_id for r in recipients_for(store.subscriptions(), ["a", "b"])] == [-5]


def test_create_writes_all_rows_in_one_transaction(db: Path) -> None:
    with Outbox(db) as outbox:
        aid, plan = outbox.create("schul-it-wechsel", ["schul-it"], "cli", now=T0)
        assert len(plan.recipients) == 2
        rows = outbox.deliveries(aid)
        assert [(d.chat_id, d.state, d.lang, d.attempts) for d in rows] == [
            (-2, "pending", "en", 0),
            (-1, "pending", "de", 0),
        ]
        report = outbox.report(aid)
        assert (report.status, report.created_by, report.pending, report.total) == ("running", "cli", 2, 2)


def test_create_rolls_back_on_failure(db: Path) -> None:
    with Outbox(db) as outbox:
        outbox._conn.execute(
            "CREATE TRIGGER boom BEFORE INSERT ON deliveries WHEN NEW.chat_id = -2 BEGIN SELECT RAISE(ABORT, 'x'); END"
        )
        with pytest.raises(sqlite3.IntegrityError):
            outbox.create("m", [], "cli")
        assert outbox.announcements() == []
        assert outbox._conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0] == 0


def test_state_machine(db: Path) -> None:
    with Outbox(db) as outbox, Store.open(db) as store:
        aid, _ = outbox.create("m", [], "admin")
        assert outbox.claim(aid, -1)
        assert not outbox.claim(aid, -1)  # never twice
        assert not outbox.mark_sent(aid, -2, 5)  # not claimed: cannot be sent
        assert outbox.mark_sent(aid, -1, 11)
        assert not outbox.mark_failed(aid, -1, "late")  # sent is final
        assert outbox.claim(aid, -2)
        outbox.note_attempt(aid, -2, "502")
        assert outbox.mark_removed(aid, -2, "Forbidden")
        assert not store.is_subscribed(-2)  # 403 ends the subscription in the same transaction
        assert outbox.claim(aid, -3)
        assert outbox.mark_unknown(aid, -3, "TimedOut")
        assert not outbox.claim(aid, -3)  # unknown is never re-sent
        assert outbox.finish(aid)
        report = outbox.report(aid)
        assert (report.sent, report.removed, report.unknown, report.pending, report.status) == (1, 1, 1, 0, "done")
        assert report.unknown_chats == (-3,)
        by_chat = {d.chat_id: d for d in outbox.deliveries(aid)}
        assert by_chat[-1].message_id == 11
        assert by_chat[-2].attempts == 2 and by_chat[-2].last_error == "Forbidden"


def test_recover_marks_sending_unknown_and_resumes_pending(db: Path) -> None:
    with Outbox(db) as outbox:
        aid, _ = outbox.create("m", [], "cli")
        outbox.claim(aid, -1)
        outbox.mark_sent(aid, -1, 1)
        outbox.claim(aid, -2)  # crash while this request was in flight
    with Outbox(db) as outbox:  # restart
        assert outbox.recover() == 1
        assert outbox.resumable() == [aid]
        assert [d.chat_id for d in outbox.pending(aid)] == [-3]
        assert not outbox.finish(aid)
        report = outbox.report(aid)
        assert (report.sent, report.unknown, report.pending) == (1, 1, 1)
        assert report.unknown_chats == (-2,)


def test_reannounce_needs_force_and_skips_reached_groups(db: Path) -> None:
    with Outbox(db) as outbox, Store.open(db) as store:
        first, _ = outbox.create("m", [], "cli")
        for chat, outcome in ((-1, "sent"), (-2, "unknown"), (-3, "failed")):
            outbox.claim(first, chat)
            {
                "sent": lambda c: outbox.mark_sent(first, c, 1),
                "unknown": lambda c: outbox.mark_unknown(first, c, "t"),
            }.get(outcome, lambda c: outbox.mark_failed(first, c, "500"))(chat)
        with pytest.raises(AlreadyAnnounced) as info:
            outbox.create("m", [], "cli")
        assert info.value.previous == (first,)
        store.subscribe(-4, "neu")
        second, plan = outbox.create("m", [], "admin", force=True)
        assert [r.chat_id for r in plan.recipients] == [-3, -4]  # only failed and new groups
        assert plan.already_reached == 2
        assert [d.chat_id for d in outbox.pending(second)] == [-3, -4]
        # the running second announcement blocks a third one for its pending groups too
        with pytest.raises(NothingToSend):
            outbox.create("m", [], "admin", force=True)


def test_dry_run_records_without_rows_and_does_not_block(db: Path) -> None:
    with Outbox(db) as outbox:
        aid, plan = outbox.create("m", [], "cli", dry_run=True)
        assert len(plan.recipients) == 3
        report = outbox.report(aid)
        assert report.dry_run and report.total == 0 and report.status == "done"
        assert not outbox.was_announced("m")
        outbox.create("m", [], "cli")  # a real one is still allowed without force


def test_migrate_chat_moves_row_and_subscription(db: Path) -> None:
    with Outbox(db) as outbox, Store.open(db) as store:
        aid, _ = outbox.create("m", [], "cli")
        outbox.claim(aid, -1)
        assert outbox.migrate_chat(aid, -1, -1001)
        assert store.is_subscribed(-1001) and not store.is_subscribed(-1)
        assert outbox.mark_sent(aid, -1001, 3)
        # the new id of another group is already planned: the old row closes without a send
        outbox.claim(aid, -2)
        assert not outbox.migrate_chat(aid, -2, -3)
        states = {d.chat_id: d.state for d in outbox.deliveries(aid)}
        assert states == {-1001: "sent", -2: "removed", -3: "pending"}


def test_created_by_is_validated(db: Path) -> None:
    with Outbox(db) as outbox, pytest.raises(ValueError, match="created_by"):
        outbox.create("m", [], "user 123")  # type: ignore[arg-type]


def test_announce_callback_data() -> None:
    data = cb.announce(True, "schul-it-wechsel")
    assert data == "a:+:schul-it-wechsel"
    assert cb.parse(data) == cb.Announce(True, "schul-it-wechsel")
    assert cb.parse(cb.announce(False, "x" * 80)) == cb.Announce(False, cb.ref("x" * 80))
    for forged in ("a:*:m", "a:+:", "a:+:M!", "a:+:m:1", "a:+:" + "m" * 41):
        assert cb.parse(forged) is None


def test_cli_dry_run_lists_recipients_and_announcements_lists_counts(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("FAQBOT_DATA_DIR", str(db.parent))
    assert main(["announce", "schul-it-wechsel", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert [line.split("\t")[0] for line in out.splitlines()] == ["-2", "-1"]  # topic filter: not -3
    assert "nichts gesendet" in err
    with Outbox(db) as outbox:
        aid, _ = outbox.create("schul-it-wechsel", ["schul-it"], "cli")
        outbox.claim(aid, -1)
        outbox.mark_sent(aid, -1, 1)
    assert main(["announcements", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(a["id"], a["dry_run"], a["sent"], a["pending"]) for a in listed] == [(aid, False, 1, 1), (1, True, 0, 0)]
    assert main(["announcements"]) == 0
    assert "schul-it-wechsel" in capsys.readouterr().out
    # sending needs the token
    assert main(["announce", "schul-it-wechsel", "--yes"]) == 2
