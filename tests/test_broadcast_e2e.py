"""Announcements end to end: the real Application and its rate limiter against the loopback fake Bot API."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import AIORateLimiter

from bot.broadcast import Outbox
from bot.config import Settings
from bot.knowledge.model import Milestone, MilestoneStatus, Text
from bot.service import FaqService
from bot.storage import Store
from bot.tg import announce
from bot.tg import callbacks as cb
from bot.tg import texts as t
from bot.tg.app import build_application, smooth_bucket, smooth_rate_limiter
from tests.support import updates as U
from tests.support.fake_bot_api import TOKEN, FakeBotApi, Fault
from tests.test_tg_harness import ADMIN_ID, GROUP_ID, KNOWLEDGE_DIR, USER_ID, callback_data, copy_knowledge, running_bot

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]
LATENCY = 0.05  # seconds the fake takes to answer a message in the fault test
RATE = 200  # messages per second in the fault test (Telegram's real limit is 30; 200 keeps the test fast)
GROUPS = 1000
MILESTONE = "schul-it-wechsel"


def _ok_sends(fake: FakeBotApi) -> Counter[int]:
    return Counter(int(c.params["chat_id"]) for c in fake.calls_of("sendMessage") if c.ok)


# ------------------------------------------------------------------------------- 1,000 groups with faults


async def test_broadcast_to_1000_groups_with_faults(tmp_path: Path) -> None:
    rng = random.Random(4)
    groups = [-100_000 - i for i in range(GROUPS)]
    shuffled = groups[:]
    rng.shuffle(shuffled)
    forbidden = set(shuffled[:20])  # 2 %
    not_found = set(shuffled[20:30])  # 1 %
    migrated = {old: -1_000_000_000_000 - i for i, old in enumerate(shuffled[30:40])}  # 1 %
    flaky = set(shuffled[40:50])  # 1 %: one 5xx, then fine
    broken = set(shuffled[50:53])  # persistent 5xx: bounded retries, then failed
    # Floods: once a limit is hit Telegram answers 429 (retry_after 1) to *every* request for a while. Five groups
    # trigger a one-second flood each; with the fake answering after 50 ms (a fast WAN), the requests the sender
    # sent before it learnt of the first 429 are caught as well – about 5 % of all requests.
    triggers = {groups[s] for s in rng.sample(range(60, GROUPS - 10, 20), 5)}
    triggers -= forbidden | not_found | set(migrated) | flaky | broken
    flood_until = 0.0
    latency = Fault("latency", delay=LATENCY, process_after_delay=True)
    flood = dataclasses.replace(Fault.retry_after(1), delay=LATENCY)
    attempts: Counter[int] = Counter()
    flooded: Counter[int] = Counter()

    def plan(method: str, params: JSON) -> Fault | None:
        nonlocal flood_until
        if method != "sendMessage":
            return None
        chat = int(params["chat_id"])
        attempts[chat] += 1
        first = attempts[chat] == 1
        now = time.monotonic()
        if first and chat in triggers:
            flood_until = now + 1.0
        if now < flood_until:
            flooded[chat] += 1
            return flood
        if chat in forbidden:
            return Fault.forbidden("Forbidden: bot was kicked from the group chat")
        if chat in not_found:
            return Fault.chat_not_found()
        if chat in migrated:
            return Fault.migrated(migrated[chat])
        if chat in broken:
            return Fault.server_error(502)
        if first and chat in flaky:
            return Fault.server_error(500)
        return latency

    async with FakeBotApi() as fake:
        settings = Settings(token=TOKEN, base_url=fake.base_url, data_dir=tmp_path / "data")
        service = FaqService.from_directory(KNOWLEDGE_DIR)
        store = Store.open(settings.db_path)
        for i, chat in enumerate(groups):
            store.subscribe(chat, f"Gruppe {i}", "en" if i % 10 == 0 else "de")
        # The default headroom: requests wait out a 429 pause before they take a slot, so no burst follows it.
        limiter = smooth_rate_limiter(RATE, backoff=0.05)
        app = build_application(settings, service, store, builder=fake.app_builder(), rate_limiter=limiter)
        fake.fault_plan(plan)
        milestone = service.knowledge.milestones[MILESTONE]
        outbox = Outbox(settings.db_path)
        try:
            async with app:
                aid, created = outbox.create(MILESTONE, milestone.tags, "cli")
                assert len(created.recipients) == GROUPS
                loop = asyncio.get_running_loop()
                started = loop.time()
                report = await announce.deliver(
                    app.bot,
                    outbox,
                    aid,
                    milestone,
                    concurrency=16,
                    policy=announce.SendPolicy(backoff=0.05),
                )
                elapsed = loop.time() - started
            gone = forbidden | not_found
            sends = _ok_sends(fake)
            # 0 duplicated: every chat got at most one message
            assert max(sends.values()) == 1
            # 0 lost: everyone reachable got it, the supergroups under their new id, nobody else
            expected = {migrated.get(c, c) for c in groups} - gone - broken
            assert set(sends) == expected
            assert (report.sent, report.removed, report.failed, report.unknown, report.pending) == (
                GROUPS - len(gone) - len(broken),
                len(gone),
                len(broken),
                0,
                0,
            )
            assert set(report.failed_chats) == broken
            assert report.status == "done"
            # the state of every row matches what the fake saw
            states = {d.chat_id: d.state for d in outbox.deliveries(aid)}
            assert {c for c, s in states.items() if s == "sent"} == expected
            assert {c for c, s in states.items() if s == "removed"} == gone
            # every 403 / chat-not-found group is unsubscribed, migrated groups keep their subscription
            subscribed = {s.chat_id for s in store.subscriptions()}
            assert not subscribed & gone
            assert set(migrated.values()) <= subscribed and not subscribed & set(migrated)
            # the 429s were hit and waited out by PTB's limiter; never above the configured rate
            assert all(attempts[c] > flooded[c] for c in flooded)  # every 429 was followed by another attempt
            assert sum(flooded.values()) >= 0.04 * GROUPS  # at least 40 of the 1,000 groups' sends got a 429
            assert fake.max_rate_global() <= RATE
            # the group's language
            en_chat = next(c for i, c in enumerate(groups) if i % 10 == 0 and c in expected)
            assert milestone.title.get("en") in fake.sent_texts(en_chat)[0]
            de_chat = next(c for i, c in enumerate(groups) if i % 10 == 1 and c in expected)
            assert milestone.title.get("de") in fake.sent_texts(de_chat)[0]
            assert fake.rejections == []
            assert elapsed < 40
        finally:
            outbox.close()
            store.close()


@pytest.mark.parametrize("limiter_kind", ["ours", "ptb"])
async def test_no_burst_when_a_429_pause_ends(limiter_kind: str) -> None:
    """12 senders, 20 messages/s, a 429 (retry_after 1) on the 6th message: the pause must not end in a burst.

    PTB's own ``AIORateLimiter`` (same buckets) is the control: its requests take their slot before waiting
    out the pause, so all 12 senders fire together when it ends and one second holds more than 20 sends."""
    rate, senders, messages = 20, 12, 80
    if limiter_kind == "ours":
        limiter: AIORateLimiter = smooth_rate_limiter(rate)
    else:
        max_rate, time_period = smooth_bucket(rate)
        limiter = AIORateLimiter(overall_max_rate=max_rate, overall_time_period=time_period, max_retries=3)
    attempts: Counter[int] = Counter()

    def plan(method: str, params: JSON) -> Fault | None:
        if method != "sendMessage":
            return None
        chat = int(params["chat_id"])
        attempts[chat] += 1
        return Fault.retry_after(1) if chat == 6 and attempts[chat] == 1 else None

    async with FakeBotApi() as fake:
        fake.fault_plan(plan)
        app = fake.app_builder().rate_limiter(limiter).build()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for chat in range(1, messages + 1):
            queue.put_nowait(chat)

        async def sender() -> None:
            while not queue.empty():
                await app.bot.send_message(queue.get_nowait(), "Meilenstein")

        async with app:
            await asyncio.gather(*(sender() for _ in range(senders)))
    assert len(fake.calls_of("sendMessage")) == messages + 1  # every message once, the 429 one twice
    if limiter_kind == "ours":
        assert fake.max_rate_global() <= rate
    else:
        assert fake.max_rate_global() > rate


async def test_timeout_is_unknown_and_never_resent(tmp_path: Path) -> None:
    async with FakeBotApi() as fake:
        settings = Settings(token=TOKEN, base_url=fake.base_url, data_dir=tmp_path / "data")
        service = FaqService.from_directory(KNOWLEDGE_DIR)
        store = Store.open(settings.db_path)
        store.subscribe(-11, "a")
        store.subscribe(-12, "b")
        app = build_application(
            settings, service, store, builder=fake.app_builder(read_timeout=0.3), rate_limiter=smooth_rate_limiter(50)
        )
        fake.inject("sendMessage", Fault.timeout(1.0, then_process=True))
        outbox = Outbox(settings.db_path)
        try:
            async with app:
                aid, _ = outbox.create(MILESTONE, [], "cli")
                report = await announce.deliver(
                    app.bot, outbox, aid, service.knowledge.milestones[MILESTONE], concurrency=1
                )
                await asyncio.sleep(1.0)  # Telegram executes the timed-out request after all
            assert (report.sent, report.unknown) == (1, 1)
            (in_doubt,) = report.unknown_chats
            assert _ok_sends(fake)[in_doubt] == 1  # it did arrive – so a resend would have been a duplicate
            assert len(fake.calls_of("sendMessage")) == 2  # and it was not sent again
        finally:
            outbox.close()
            store.close()


# ----------------------------------------------------------------------------------- group subscriptions


async def test_group_admin_subscribes_with_topic_and_member_is_refused(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.fake.set_chat_member(GROUP_ID, USER_ID, "member")
        replies = await h.exchange(U.command("/abonnieren", "supergroup", user_id=USER_ID), GROUP_ID)
        assert replies[-1]["text"] == t.SUBSCRIBE_ADMINS_ONLY.de
        assert not h.store.is_subscribed(GROUP_ID)
        h.fake.set_chat_member(GROUP_ID, 555, "administrator")
        replies = await h.exchange(U.command("/abonnieren schul-it", "supergroup", user_id=555), GROUP_ID)
        assert "Abonniert" in replies[-1]["text"]
        (sub,) = h.store.subscriptions()
        assert (sub.chat_id, sub.topics, sub.lang) == (GROUP_ID, ("schul-it",), "de")
        replies = await h.exchange(U.command("/abonnieren quatsch", "supergroup", user_id=555), GROUP_ID)
        assert "quatsch" in replies[-1]["text"] and "schul-it" in replies[-1]["text"]
        h.fake.set_chat_member(GROUP_ID, 556, "creator")
        replies = await h.exchange(U.command("/abbestellen", "supergroup", user_id=556), GROUP_ID)
        assert replies[-1]["text"].startswith("Abo beendet")
        assert not h.store.is_subscribed(GROUP_ID)
        # private chat: a hint, nothing stored
        replies = await h.exchange(U.command("/abonnieren"), USER_ID)
        assert replies[-1]["text"] == t.SUBSCRIBE_GROUPS_ONLY.de
        assert h.fake.rejections == []


async def test_anonymous_admin_and_bot_admin_may_subscribe(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        update = U.command("/abonnieren en", "supergroup", user_id=1087968824, first_name="Group")
        update["message"]["sender_chat"] = U.chat(GROUP_ID)  # written as the group itself
        await h.exchange(update, GROUP_ID)
        assert h.store.subscriptions()[0].lang == "en"
        assert not h.calls("getChatMember")  # no lookup needed for an anonymous admin
        other = -4001234567
        h.fake.set_chat_member(other, ADMIN_ID, "member")
        await h.exchange(U.command("/abonnieren", "group", user_id=ADMIN_ID, chat_id=other), other)
        assert h.store.is_subscribed(other)


async def test_added_to_group_introduces_itself_and_removal_ends_subscription(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        replies = await h.exchange(U.my_chat_member(GROUP_ID, "left", "member"), GROUP_ID)
        assert len(replies) == 1 and "/abonnieren" in replies[0]["text"]
        h.store.subscribe(GROUP_ID, "g")
        assert await h.exchange(U.my_chat_member(GROUP_ID, "member", "kicked"), GROUP_ID) == []
        assert not h.store.is_subscribed(GROUP_ID)
        old, new = -4001234567, -1009999999999
        h.store.subscribe(old, "alt")
        await h.exchange(U.migrate_to_chat_id(old, new), old)
        assert h.store.is_subscribed(new) and not h.store.is_subscribed(old)


async def test_403_on_a_reply_in_a_group_ends_its_subscription(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.store.subscribe(GROUP_ID, "g")
        h.fake.inject("sendMessage", Fault.forbidden("Forbidden: bot was kicked from the supergroup chat"))
        await h.exchange(U.command("/hilfe", "supergroup"), GROUP_ID)
        assert not h.store.is_subscribed(GROUP_ID)


# ----------------------------------------------------------------------------------- /ankuendigen (admin)


async def test_admin_announces_with_preview_confirmation_progress_and_report(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        handlers = h.app.bot_data["faqbot"]
        handlers.progress_interval = 0.0
        groups = [-2001, -2002, -2003]
        for chat in groups:
            h.store.subscribe(chat, "g")
        h.store.subscribe(-2004, "nur personal", topics=["personal"])  # filtered out by topic
        refused = await h.exchange(U.command(f"/ankuendigen {MILESTONE}", user_id=USER_ID), USER_ID)
        assert refused[-1]["text"] == t.ADMIN_ONLY.de
        (preview,) = await h.exchange(U.command(f"/ankuendigen {MILESTONE}", user_id=ADMIN_ID), ADMIN_ID)
        assert "3 Gruppe" in preview["text"]
        milestone = h.service.knowledge.milestones[MILESTONE]
        assert milestone.title.de in preview["text"]
        assert callback_data(preview) == [cb.announce(True, MILESTONE), cb.announce(False, MILESTONE)]
        keyboard = preview["reply_markup"]["inline_keyboard"]
        # someone else (even with the right data) cannot confirm
        await h.exchange(
            U.callback(cb.announce(True, MILESTONE), 999, ADMIN_ID, preview["message_id"], inline_keyboard=keyboard)
        )
        assert h.calls("answerCallbackQuery")[-1].params.get("text") == t.ANNOUNCE_NOT_YOURS.de
        assert _ok_sends(h.fake)[groups[0]] == 0
        await h.exchange(
            U.callback(
                cb.announce(True, MILESTONE), ADMIN_ID, ADMIN_ID, preview["message_id"], inline_keyboard=keyboard
            )
        )
        await asyncio.wait_for(asyncio.gather(*handlers.tasks), 10)
        sends = _ok_sends(h.fake)
        assert [sends[c] for c in groups] == [1, 1, 1] and sends[-2004] == 0
        edits = [c for c in h.calls("editMessageText") if c.ok]
        assert "Zustellbericht" in edits[-1].params["text"] and "3 gesendet" in edits[-1].params["text"]
        # pressing confirm again does nothing (the preview is used up)
        await h.exchange(
            U.callback(
                cb.announce(True, MILESTONE), ADMIN_ID, ADMIN_ID, preview["message_id"], inline_keyboard=keyboard
            )
        )
        assert sum(_ok_sends(h.fake)[c] for c in groups) == 3
        # announcing again: every group already has it
        (again,) = await h.exchange(U.command(f"/ankuendigen {MILESTONE}", user_id=ADMIN_ID), ADMIN_ID)
        assert "3 haben sie schon" in again["text"]
        (cancel_preview,) = await h.exchange(U.command(f"/ankuendigen {MILESTONE}", user_id=ADMIN_ID), ADMIN_ID)
        assert "reply_markup" not in cancel_preview
        assert h.fake.rejections == []


async def test_cancel_sends_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.store.subscribe(-2001, "g")
        (preview,) = await h.exchange(U.command(f"/ankuendigen {MILESTONE}", user_id=ADMIN_ID), ADMIN_ID)
        keyboard = preview["reply_markup"]["inline_keyboard"]
        await h.exchange(
            U.callback(
                cb.announce(False, MILESTONE), ADMIN_ID, ADMIN_ID, preview["message_id"], inline_keyboard=keyboard
            )
        )
        assert _ok_sends(h.fake)[-2001] == 0
        assert h.calls("editMessageText")[-1].params["text"] == t.ANNOUNCE_CANCELLED.de
        with Outbox(h.settings.db_path) as outbox:
            assert outbox.announcements() == []


# ------------------------------------------------------------------------------------------- scheduling


def _milestone(mid: str, announce_at: dt.datetime | None) -> Milestone:
    return Milestone(mid, Text(mid), MilestoneStatus.DONE, Text("x"), (), dt.date(2026, 1, 1), announce_at=announce_at)


def test_due_milestones_in_berlin_time(tmp_path: Path) -> None:
    with Outbox(tmp_path / "db.sqlite3") as outbox:
        # 09:00 Berlin in winter is 08:00 UTC
        now = dt.datetime(2027, 1, 15, 8, 30, tzinfo=dt.UTC)
        past = _milestone("a", dt.datetime(2027, 1, 15, 9, 0))
        future = _milestone("b", dt.datetime(2027, 1, 15, 10, 0))
        due, later = announce.due_milestones([past, future, _milestone("c", None)], outbox, now)
        assert [m.id for m in due] == ["a"]
        assert [(m.id, when.astimezone(dt.UTC).hour) for m, when in later] == [("b", 9)]


async def test_past_due_announce_at_runs_at_start_and_only_once(tmp_path: Path) -> None:
    knowledge = copy_knowledge(tmp_path)
    path = knowledge / "milestones.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "    tags: [schul-it]\n"
    assert anchor in text
    path.write_text(text.replace(anchor, anchor + "    announce_at: 2020-01-01T09:00\n"), encoding="utf-8")
    db = tmp_path / "data" / "faqbot.sqlite3"
    with Store.open(db) as store:
        store.subscribe(-3001, "g", topics=["schul-it"])
    async with running_bot(tmp_path, knowledge_dir=knowledge) as h:
        await h.fake.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == -3001, 10)
        await h.fake.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == ADMIN_ID, 10)
        assert "Zustellbericht" in h.fake.sent_texts(ADMIN_ID)[-1]
    async with running_bot(tmp_path, knowledge_dir=knowledge) as h:  # restart: already announced
        await asyncio.sleep(0.5)
        assert _ok_sends(h.fake)[-3001] == 0
    with Outbox(db) as outbox:
        (report,) = outbox.announcements()
        assert (report.created_by, report.sent, report.status) == ("schedule", 1, "done")


async def test_pending_rows_resume_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "data" / "faqbot.sqlite3"
    with Store.open(db) as store:
        for chat in (-1, -2, -3):
            store.subscribe(chat, "g")
    with Outbox(db) as outbox:
        aid, _ = outbox.create(MILESTONE, [], "admin")
        outbox.claim(aid, -3)  # the old process died while sending to -3 (in doubt)
        outbox.claim(aid, -1)
        outbox.mark_sent(aid, -1, 1)
    async with running_bot(tmp_path) as h:
        await h.fake.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == ADMIN_ID, 10)
        sends = _ok_sends(h.fake)
        assert (sends[-1], sends[-2], sends[-3]) == (0, 1, 0)
        assert "Unklar" in h.fake.sent_texts(ADMIN_ID)[-1]
    with Outbox(db) as outbox:
        report = outbox.report(aid)
        assert (report.sent, report.unknown, report.pending, report.status) == (2, 1, 0, "done")
