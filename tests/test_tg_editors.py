"""The editors' workflow end to end: hot reload by file watching, /unbeantwortet with learned phrasings (live at
once and after a restart), 👎 in the review queue, stale-answer reminders, announce_at after a reload."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.review import ReviewGroup, find_group
from bot.tg import callbacks as cb
from bot.tg import texts as t
from bot.tg.app import ANNOUNCE_JOB
from bot.tg.editors import EditorWorkflow
from tests.support import updates as U
from tests.support.fake_bot_api import FakeBotApi
from tests.support.waiting import until
from tests.test_tg_harness import ADMIN_ID, Q_SCHUL_IT, USER_ID, Harness, callback_data, copy_knowledge, running_bot

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]
# Not answered by the shipped knowledge (the bot does not know "Chef fürs Digitale" means the head of office).
Q_UNKNOWN = "Ab wann gibt es den neuen Chef fürs Digitale?"
TARGET = "amtsleitung"


def _editors(h: Harness) -> EditorWorkflow:
    editors = h.app.bot_data["faqbot"].editors
    assert isinstance(editors, EditorWorkflow)
    return editors


async def _card(h: Harness) -> JSON:
    return (await h.exchange(U.command("/unbeantwortet", user_id=ADMIN_ID), ADMIN_ID))[-1]


def _review_action(message: JSON, verb: str) -> str:
    return next(d for d in callback_data(message) if isinstance(a := cb.parse(d), cb.Review) and a.verb == verb)


# ----------------------------------------------------------------------------------------- learned phrasings


async def test_learned_phrasing_answers_at_once_and_after_a_restart(tmp_path: Path) -> None:
    async with FakeBotApi() as fake:  # one Bot API for both runs: update ids keep counting
        async with running_bot(tmp_path, fake=fake) as h:
            first = await h.ask(Q_UNKNOWN)
            assert "Das weiß ich leider nicht" in first["text"]
            card = await _card(h)
            assert f"„{Q_UNKNOWN}“" in card["text"]
            # "other entry …": the bot asks for a keyword; the admin's reply is a search, not a question
            prompt = (await h.press(card, _review_action(card, "search"), ADMIN_ID))[-1]
            assert prompt["text"].startswith("Zu welchem Eintrag gehört")
            markup = h.calls("sendMessage")[-1].params["reply_markup"]
            assert (markup if isinstance(markup, dict) else json.loads(markup)) == {
                "force_reply": True,
                "selective": True,
            }
            results = (await h.exchange(U.private_text("Amtsleitung", ADMIN_ID), ADMIN_ID))[-1]
            assert results["text"].startswith("Einträge zu „Amtsleitung“")
            attach = cb.review(30, "attach", cb.parse(_review_action(card, "dismiss")).question_id, TARGET)  # type: ignore[union-attr]
            version = h.service.knowledge.version
            confirmation = (await h.press(results, attach, ADMIN_ID))[-1]["text"]
            assert confirmation.startswith("✅ Übernommen")
            assert t.REVIEW_LEARNED_CHECK.de in confirmation
            # live at once: the same question is answered with the entry, and the version changed
            assert h.service.knowledge.version != version
            assert Q_UNKNOWN in h.service.knowledge.entries[TARGET].questions["de"]
            again = await h.ask(Q_UNKNOWN)
            assert "Das weiß ich leider nicht" not in again["text"]
            assert any(d.startswith(f"f:+:{TARGET}") for d in callback_data(again))
            # and it left the review queue
            assert (await _card(h))["text"] == t.REVIEW_NONE.de.format(days=30)
            stats = (await h.exchange(U.command("/stats", user_id=ADMIN_ID), ADMIN_ID))[-1]["text"]
            assert "Gelernte Formulierungen in Gebrauch: 1" in stats
            # the database says which version serves (for `faqbot check`)
            live = h.store.live_knowledge()
            assert live is not None and (live.version, live.learned) == (h.service.knowledge.version, 1)
            assert live.files_version == version
            assert h.fake.rejections == []
        # a restart with the same database: still learned
        async with running_bot(tmp_path, fake=fake) as h:
            assert Q_UNKNOWN in h.service.knowledge.entries[TARGET].questions["de"]
            again = await h.ask(Q_UNKNOWN)
            assert any(d.startswith(f"f:+:{TARGET}") for d in callback_data(again))
            # `faqbot learned remove` (another process) takes effect at the watcher's next rescan
            (learned,) = h.store.learned()
            assert h.store.remove_learned(learned.id)
            await _editors(h).files_changed(h.app.bot, frozenset())
            assert Q_UNKNOWN not in h.service.knowledge.entries[TARGET].questions["de"]
            assert h.service.snapshot.learned == ()


async def test_attach_from_the_card_and_refusals(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.ask(Q_UNKNOWN)
        await h.ask("Wie backe ich einen Kuchen?")
        card = await _card(h)
        question_id = cb.parse(_review_action(card, "dismiss")).question_id  # type: ignore[union-attr]
        # a forged press by a user who is no admin changes nothing
        forged = cb.review(30, "attach", question_id, TARGET)
        update = U.callback(forged, USER_ID, message_id=card["message_id"], message_text=card["text"])
        await h.exchange(update, USER_ID)
        assert h.calls("answerCallbackQuery")[-1].params["text"] == t.ADMIN_ONLY.de
        assert h.store.learned() == []
        # a phrasing that already belongs to another entry is refused with the reason
        entry = h.service.knowledge.entries["schul-it-wechsel"]
        taken = h.store.log_question(entry.questions["de"][0], "x", "de", "fallback")
        refused = await _editors(h).attach(
            entry.questions["de"][0], "de", h.service.knowledge.entries[TARGET], _group_of(h, taken), "de"
        )
        assert refused.startswith("❌ Nicht übernommen") and "schul-it-wechsel" in refused
        # one that would fail the self-test is taken back: nothing stored, the version unchanged
        version = h.service.knowledge.version
        vague = h.store.log_question("Wann?", "wann", "de", "fallback")
        entry = h.service.knowledge.entries["gruendung-termin"]
        refused = await _editors(h).attach("Wann?", "de", entry, _group_of(h, vague), "de")
        assert refused.startswith("❌ Nicht übernommen") and "Selbsttest" in refused and "„Wann?“" in refused
        assert h.store.learned() == [] and h.service.knowledge.version == version
        # after "🔎": a reply to the prompt is a search; a reply to another message is an ordinary question
        prompt = (await h.press(card, _review_action(card, "search"), ADMIN_ID))[-1]
        other = U.private_text("Amtsleitung", ADMIN_ID)
        earlier = U.message("früher", chat_id=ADMIN_ID, from_user=U.bot_user(), message_id=999_999)
        other["message"]["reply_to_message"] = earlier
        answer = (await h.exchange(other, ADMIN_ID))[-1]
        assert not answer["text"].startswith("Einträge zu")
        await h.press(card, _review_action(card, "search"), ADMIN_ID)
        reply = U.private_text("Amtsleitung", ADMIN_ID)
        reply["message"]["reply_to_message"] = U.message(
            prompt["text"], chat_id=ADMIN_ID, from_user=U.bot_user(), message_id=h.sent(ADMIN_ID)[-1]["message_id"]
        )
        results = (await h.exchange(reply, ADMIN_ID))[-1]
        assert results["text"].startswith("Einträge zu „Amtsleitung“")
        # dismissing takes the group out of the queue; the next card shows
        before = (await _card(h))["text"]
        total = int(re.search(r"von (\d+)", before).group(1))  # type: ignore[union-attr]
        card = await _card(h)
        await h.press(card, _review_action(card, "dismiss"), ADMIN_ID)
        after = (await _card(h))["text"]
        assert f"von {total - 1}" in after or after == t.REVIEW_NONE.de.format(days=30)
        assert h.store.learned() == []
        assert h.fake.rejections == []


def _group_of(h: Harness, question_id: int) -> ReviewGroup:
    group = find_group(_editors(h).review_groups(30), question_id)
    assert group is not None
    return group


async def test_downvote_lands_in_the_review_queue(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        reply = await h.ask(Q_SCHUL_IT)
        down = next(d for d in callback_data(reply) if d.startswith("f:-"))
        await h.press(reply, down, USER_ID)
        card = await _card(h)
        assert f"„{Q_SCHUL_IT}“" in card["text"]
        assert "👎 auf die Antwort" in card["text"] and "schul-it-wechsel" in card["text"]


# -------------------------------------------------------------------------------------------- hot reload


async def test_changed_files_go_live_and_broken_ones_are_refused_once(tmp_path: Path) -> None:
    knowledge = copy_knowledge(tmp_path)
    async with running_bot(tmp_path, knowledge_dir=knowledge, watch_debounce_ms=100) as h:
        await asyncio.sleep(0.5)  # let the watcher start (a change before that is found by its periodic rescan)
        version = h.service.knowledge.version
        facts = knowledge / "facts.yaml"
        text = facts.read_text(encoding="utf-8")
        fact = 'name: schul_it_dezernat_neu\n    value: {de: "Dezernat I"'
        assert fact in text
        facts.write_text(text.replace(fact, fact.replace("Dezernat I", "Dezernat IX")), encoding="utf-8")
        await until(lambda: h.service.knowledge.version != version)
        await until(lambda: len(h.sent(ADMIN_ID)) >= 1)
        notice = h.sent(ADMIN_ID)[-1]["text"]
        assert notice.startswith("Dateiänderung erkannt (facts.yaml).") and "✅ Wissensbasis neu geladen" in notice
        # a broken file: refused, the admins get file and line, the version that serves stays
        live = h.service.knowledge.version
        (knowledge / "kaputt.yaml").write_text("entries:\n  - id: kaputt\n    topic: [\n", encoding="utf-8")
        await until(lambda: len(h.sent(ADMIN_ID)) >= 2)
        refused = h.sent(ADMIN_ID)[-1]["text"]
        assert "❌ Neue Wissensbasis abgelehnt" in refused and re.search(r"kaputt\.yaml:\d+", refused)
        assert h.service.knowledge.version == live
        # saving the same broken content again is not reported again
        (knowledge / "kaputt.yaml").write_text("entries:\n  - id: kaputt\n    topic: [\n", encoding="utf-8")
        await asyncio.sleep(1.0)
        assert len(h.sent(ADMIN_ID)) == 2
        assert h.service.knowledge.version == live
        answer = await h.ask(Q_SCHUL_IT)
        assert "Dezernat IX" in answer["text"]
        assert h.fake.rejections == []


async def test_announce_at_added_by_a_reload_is_scheduled(tmp_path: Path) -> None:
    knowledge = copy_knowledge(tmp_path)
    async with running_bot(tmp_path, knowledge_dir=knowledge) as h:
        assert h.app.job_queue is not None
        assert not [j for j in h.app.job_queue.jobs() if j.name and j.name.startswith(ANNOUNCE_JOB)]
        milestones = knowledge / "milestones.yaml"
        text = milestones.read_text(encoding="utf-8")
        when = (dt.datetime.now() + dt.timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
        first_id = re.search(r"- id: (\S+)", text).group(1)  # type: ignore[union-attr]
        text = text.replace(f"- id: {first_id}\n", f"- id: {first_id}\n    announce_at: {when}\n", 1)
        milestones.write_text(text, encoding="utf-8")
        ok = (await h.exchange(U.command("/reload", user_id=ADMIN_ID), ADMIN_ID))[-1]["text"]
        assert ok.startswith("✅"), ok
        jobs = [j.name for j in h.app.job_queue.jobs() if j.name and j.name.startswith(ANNOUNCE_JOB)]
        assert jobs == [ANNOUNCE_JOB + first_id]


# ------------------------------------------------------------------------------------------ stale answers


async def test_stale_entries_are_reminded_once(tmp_path: Path) -> None:
    knowledge = copy_knowledge(tmp_path)
    faq = knowledge / "faq.yaml"
    text = faq.read_text(encoding="utf-8")
    entry_id = re.search(r"- id: (\S+)", text).group(1)  # type: ignore[union-attr]
    text, replaced = re.subn(r"review_by: \d{4}-\d{2}-\d{2}", "review_by: 2023-01-31", text, count=1)
    assert replaced == 1 and text.index("review_by: 2023") < text.index("- id:", text.index(entry_id))
    faq.write_text(text, encoding="utf-8")
    async with running_bot(tmp_path, knowledge_dir=knowledge) as h:
        editors = _editors(h)
        context = type("Ctx", (), {"bot": h.app.bot})()
        await editors.remind_stale(context)  # type: ignore[arg-type]
        reminders = h.sent(ADMIN_ID)
        assert len(reminders) == 1
        assert reminders[0]["text"].startswith("⏰ Bitte prüfen")
        assert f"Eintrag {entry_id} – fällig seit 31.01.2023" in reminders[0]["text"]
        await editors.remind_stale(context)  # type: ignore[arg-type]
        assert len(h.sent(ADMIN_ID)) == 1  # once per stale entry
        stats = (await h.exchange(U.command("/stats", user_id=ADMIN_ID), ADMIN_ID))[-1]["text"]
        assert f"Eintrag {entry_id} – fällig seit 31.01.2023" in stats
        # users still get the answer, with its "Stand" date
        entry = h.service.knowledge.entries[entry_id]
        answer = await h.ask(entry.questions["de"][0])
        assert "Stand:" in answer["text"]
