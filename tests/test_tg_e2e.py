"""End to end: the real Application against the loopback fake Bot API, with the real knowledge."""

from __future__ import annotations

import html
import re
import sqlite3
from pathlib import Path

import pytest

from bot.tg import callbacks as cb
from bot.tg import texts as t
from tests.support import updates as U
from tests.support.fake_bot_api import BOT_ID, BOT_USERNAME, parse_html
from tests.test_tg_harness import (
    ADMIN_ID,
    GROUP_ID,
    Q_AMT,
    Q_CLARIFY,
    Q_ENGLISH,
    Q_KGST,
    Q_NONSENSE,
    Q_SCHUL_IT,
    USER_ID,
    buttons,
    callback_data,
    copy_knowledge,
    running_bot,
)

pytestmark = pytest.mark.e2e


def _log_rows(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT question, status, entry_id, chat_type FROM question_log ORDER BY id").fetchall()


# ------------------------------------------------------------------------------------------ private Q&A


async def test_private_answer_with_related_and_feedback_buttons(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        reply = await h.ask(Q_SCHUL_IT)
        call = h.calls("sendMessage")[-1]
        assert call.params["parse_mode"] == "HTML"
        assert call.params["link_preview_options"] == {"is_disabled": True}
        assert "Dezernat I" in reply["text"]
        assert "Stand: 24.06.2022" in reply["text"]
        assert any(e["type"] == "text_link" for e in reply.get("entities", []))  # sources are links
        data = callback_data(reply)
        related = service_related = [o.entry_id for o in h.service.entry_reply("schul-it-wechsel", "de").related]
        assert [d for d in data if d.startswith("e:")] == [cb.entry(e) for e in service_related]
        feedback = [d for d in data if d.startswith("f:")]
        assert len(feedback) == 2
        assert feedback[0].startswith("f:+:schul-it-wechsel:") and feedback[1].startswith("f:-:schul-it-wechsel:")
        labels = [b["text"] for b in buttons(reply)]
        assert labels[-2:] == [t.BTN_HELPFUL.de, t.BTN_NOT_HELPFUL.de]
        assert related
        assert _log_rows(h.settings.db_path) == [(Q_SCHUL_IT, "answer", "schul-it-wechsel", "private")]
        assert h.fake.rejections == []


async def test_english_question_gets_english_answer_and_buttons(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        reply = await h.ask(Q_ENGLISH, language_code="en")
        assert "As of" in reply["text"]
        assert [b["text"] for b in buttons(reply)][-2:] == [t.BTN_HELPFUL.en, t.BTN_NOT_HELPFUL.en]
        assert h.fake.rejections == []


async def test_clarify_offers_options_and_fallback_offers_topics(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        clarify = await h.ask(Q_CLARIFY)
        assert clarify["text"].startswith("Da bin ich nicht ganz sicher")
        data = callback_data(clarify)
        options = [d for d in data if d.startswith("e:")]
        assert len(options) >= 2
        assert data[-1] == cb.topics()
        fallback = await h.ask(Q_NONSENSE)
        assert "Das weiß ich leider nicht" in fallback["text"]
        assert callback_data(fallback) == [cb.topics()]
        # pressing an option sends that entry's answer
        picked = cb.parse(options[0])
        assert isinstance(picked, cb.ShowEntry) and picked.question_id is not None  # the clarify row travels along
        entry_id = picked.entry_ref
        before = len(h.sent(USER_ID))
        h.push(
            U.callback(
                options[0], message_id=clarify["message_id"], inline_keyboard=clarify["reply_markup"]["inline_keyboard"]
            )
        )
        await h.settle()
        answer = h.sent(USER_ID)[before:]
        assert len(answer) == 1
        assert h.service.knowledge.entries[entry_id].title("de") not in ("",)
        assert any(d.startswith(f"f:+:{entry_id}") for d in callback_data(answer[0]))
        assert h.calls("answerCallbackQuery")[-1].ok
        statuses = [row[1] for row in _log_rows(h.settings.db_path)]
        assert statuses == ["clarify", "fallback"]
        # the pick is remembered, so this clarify question does not count as abandoned in /unbeantwortet
        with sqlite3.connect(h.settings.db_path) as conn:
            query = "SELECT resolved_entry_id FROM question_log WHERE id = ?"
            assert conn.execute(query, (picked.question_id,)).fetchone() == (entry_id,)
        assert h.fake.rejections == []


async def test_smalltalk_and_replayed_update_answered_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        reply = await h.ask("Hallo")
        assert reply["text"].startswith("Hallo!")
        assert "reply_markup" not in reply
        # Telegram delivers an update again that was handled before a restart (same update id)
        h.store.mark_update(h.last_update_id + 1)  # the fake numbers updates consecutively
        before = len(h.sent(USER_ID))
        h.push(U.private_text(Q_KGST))
        await h.settle()
        assert h.sent(USER_ID)[before:] == []
        assert h.fake.rejections == []


async def test_very_long_message_with_html_characters(tmp_path: Path) -> None:
    text = ("<b>Wann</b> & wie wechselt die Schul-IT? <script>alert(1)</script> " * 200)[:10_000]
    async with running_bot(tmp_path) as h:
        reply = await h.ask(text)
        assert "zu lang" in reply["text"] and "10000" in reply["text"]
        assert all(len(m["text"]) <= 4096 for m in h.sent())
        assert _log_rows(h.settings.db_path) == []
        # just under the limit: answered normally, the question is never echoed unescaped
        reply = await h.ask("<b>Wann</b> wechselt die Schul-IT ins Dezernat I & wann? " + "x" * 900)
        assert h.fake.rejections == []
        assert all(len(m["text"]) <= 4096 for m in h.sent())


async def test_long_answer_is_split_without_breaking_html(tmp_path: Path) -> None:
    knowledge = copy_knowledge(tmp_path)
    # the loader allows 3000 characters per answer; escaping <&>" makes the HTML longer than 4096
    paragraph = '<Sonderzeichen> & "Zitat" ' * 30
    answer = "\n\n".join(f"Absatz {i}: {paragraph}" for i in range(3))
    block = "\n".join("        " + line for line in answer.splitlines())
    (knowledge / "zz_lang.yaml").write_text(
        "entries:\n"
        "  - id: sehr-lange-antwort\n"
        "    topic: info\n"
        "    questions:\n"
        '      de: ["Gibt es eine extrem ausführliche Sonderantwort zum Quasselthema?"]\n'
        '      en: ["Is there an extremely long special answer on the chatter topic?"]\n'
        "    answer:\n"
        "      de: |\n" + block + "\n"
        "      en: |\n" + block + "\n"
        "    sources:\n"
        '      - {url: "https://www.kommune21.de/?a=1&b=2", title: "Kommune21 <Test> & Co"}\n'
        "    as_of: 2022-06-24\n",
        encoding="utf-8",
    )
    async with running_bot(tmp_path, knowledge_dir=knowledge) as h:
        before = len(h.sent(USER_ID))
        await h.exchange(U.private_text("Gibt es eine extrem ausführliche Sonderantwort zum Quasselthema?"), USER_ID)
        parts = h.sent(USER_ID)[before:]
        assert len(parts) >= 2
        assert all(len(p["text"]) <= 4096 for p in parts)
        assert all(len(c.params["text"]) <= 4096 for c in h.calls("sendMessage"))
        assert "reply_markup" not in parts[0] and "reply_markup" in parts[-1]  # buttons under the last part
        assert h.fake.rejections == []
        joined = "".join(p["text"] for p in parts)
        assert joined.count("<Sonderzeichen>") == 3 * 30


async def test_non_text_messages(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        for update in (U.sticker(), U.photo(caption="Wann wechselt die Schul-IT?"), U.voice(), U.document()):
            replies = await h.exchange(update, USER_ID)
            assert [r["text"] for r in replies] == [t.TEXT_ONLY.de]
        for update in (
            U.sticker(chat_id=GROUP_ID),
            U.photo(chat_id=GROUP_ID),
            U.voice(chat_id=GROUP_ID),
            U.document(chat_id=GROUP_ID),
        ):
            assert await h.exchange(update, GROUP_ID) == []
        assert h.fake.rejections == []


async def test_edited_messages_and_channel_posts_are_ignored(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        before = len(h.sent())
        h.push(U.edited_text(Q_SCHUL_IT))
        h.push(U.edited_text(f"@{BOT_USERNAME} {Q_SCHUL_IT}", chat_id=GROUP_ID))
        h.push(U.channel_post(Q_SCHUL_IT))
        h.push(U.channel_post("/frage " + Q_SCHUL_IT, entities=U.command_entities("/frage")))
        await h.settle()
        assert h.sent()[before:] == []
        assert h.fake.rejections == []


# --------------------------------------------------------------------------------------------- groups


async def test_group_is_silent_unless_addressed(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.push(U.group_text(Q_SCHUL_IT))  # a real question, but not addressed to the bot
        h.push(U.group_text("Hallo zusammen"))
        other = "Hat jemand @anderer_bot gesehen?"
        h.push(U.group_text(other, entities=[U.entity(other, "@anderer_bot", "mention")]))
        h.push(U.command("/frage@anderer_bot " + Q_SCHUL_IT, chat_type="supergroup"))
        h.push(U.command("/unbekannt", chat_type="supergroup"))
        h.push(U.group_text("Antwort an einen Menschen", reply_to_bot=False))
        reply_to_human = U.group_text("Stimmt!")
        reply_to_human["message"]["reply_to_message"] = U.message("Frage", chat_id=GROUP_ID, from_user=2002)
        h.push(reply_to_human)
        await h.settle()
        assert h.sent(GROUP_ID) == []
        assert h.fake.rejections == []


@pytest.mark.parametrize(
    "make",
    [
        lambda: U.command("/frage " + Q_SCHUL_IT, chat_type="supergroup"),
        lambda: U.command(f"/frage@{BOT_USERNAME} " + Q_SCHUL_IT, chat_type="supergroup"),
        lambda: U.mention(Q_SCHUL_IT),
        lambda: U.mention(f"Sag mal @{BOT_USERNAME}, wann wechselt die Schul-IT ins Dezernat I?"),
        lambda: U.group_text(Q_SCHUL_IT, reply_to_bot=True),
    ],
    ids=["frage", "frage@bot", "mention", "mention-inside", "reply-to-bot"],
)
async def test_group_answers_when_addressed(tmp_path: Path, make: object) -> None:
    async with running_bot(tmp_path) as h:
        update = make()  # type: ignore[operator]
        replies = await h.exchange(update, GROUP_ID)
        assert len(replies) == 1
        assert "Dezernat I" in replies[0]["text"]
        call = h.calls("sendMessage")[-1]
        assert call.params["reply_parameters"]["message_id"] == h.pushed[-1]["message"]["message_id"]
        assert any(d.startswith("f:+:schul-it-wechsel") for d in callback_data(replies[0]))
        assert [row[3] for row in _log_rows(h.settings.db_path)] == ["group"]
        assert h.fake.rejections == []


async def test_group_text_mention_and_usage_hints(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        text = "Konstanz FAQ: wann wechselt die Schul-IT ins Dezernat I?"
        ent = U.entity(text, "Konstanz FAQ", "text_mention", user=U.bot_user())
        replies = await h.exchange(U.group_text(text, entities=[ent]), GROUP_ID)
        assert len(replies) == 1 and "Dezernat I" in replies[0]["text"]
        replies = await h.exchange(U.command("/frage", chat_type="supergroup"), GROUP_ID)
        assert [r["text"] for r in replies] == [t.FRAGE_USAGE.de]
        replies = await h.exchange(U.command(f"/frage@{BOT_USERNAME}", chat_type="supergroup"), GROUP_ID)
        assert [r["text"] for r in replies] == [t.FRAGE_USAGE.de]
        replies = await h.exchange(U.mention(f"@{BOT_USERNAME}"), GROUP_ID)
        assert [r["text"] for r in replies] == [t.MENTION_USAGE.de.format(username=BOT_USERNAME)]
        assert h.fake.rejections == []


async def test_group_commands_for_everyone_and_admin_commands_silent(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        replies = await h.exchange(U.command(f"/themen@{BOT_USERNAME}", chat_type="supergroup"), GROUP_ID)
        assert len(replies) == 1 and callback_data(replies[0])
        for command in ("/stats", "/reload", "/unbeantwortet", "/sprache", "/unbekannt"):
            assert await h.exchange(U.command(command, chat_type="supergroup", user_id=ADMIN_ID), GROUP_ID) == []
        assert h.fake.rejections == []


# ------------------------------------------------------------------------------------------ commands


async def test_start_help_privacy_and_deep_link(tmp_path: Path) -> None:
    async with running_bot(tmp_path, retention_days=45) as h:
        welcome = (await h.exchange(U.command("/start"), USER_ID))[-1]
        assert welcome["text"].startswith("Hallo! Ich bin der FAQ-Bot")
        assert callback_data(welcome)[-1] == cb.topics()
        deep = (await h.exchange(U.command("/start e_schul-it-wechsel"), USER_ID))[-1]
        assert "Dezernat I" in deep["text"]
        unknown = (await h.exchange(U.command("/start e_gibt-es-nicht"), USER_ID))[-1]
        assert unknown["text"].startswith("Hallo!")
        for command in ("/hilfe", "/help"):
            text = (await h.exchange(U.command(command), USER_ID))[-1]["text"]
            assert "/themen" in text and f"@{BOT_USERNAME}" in text
            assert "/reload" not in text
        english = (await h.exchange(U.command("/help", language_code="en-GB"), USER_ID))[-1]["text"]
        assert english.startswith("How I work")
        admin_help = (await h.exchange(U.command("/hilfe", user_id=ADMIN_ID), ADMIN_ID))[-1]["text"]
        assert "/reload" in admin_help
        privacy = (await h.exchange(U.command("/datenschutz"), USER_ID))[-1]["text"]
        assert "45 Tagen" in privacy and "/vergessen" in privacy and "Hash" in privacy
        unknown_cmd = (await h.exchange(U.command("/gibtsnicht"), USER_ID))[-1]["text"]
        assert unknown_cmd == t.UNKNOWN_COMMAND.de
        assert h.fake.rejections == []


async def test_browse_topics_with_paging_and_back(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        overview = (await h.exchange(U.command("/themen"), USER_ID))[-1]
        topic_data = callback_data(overview)
        assert topic_data[0] == cb.topic("amt")
        markup = overview["reply_markup"]["inline_keyboard"]
        mid = overview["message_id"]
        h.push(U.callback(topic_data[0], message_id=mid, inline_keyboard=markup))
        await h.settle()
        edit = h.calls("editMessageText")[-1]
        assert edit.ok
        topic_view = edit.result
        data = callback_data(topic_view)
        assert data[-1] == cb.topics()  # back button
        assert all(d.startswith("e:") for d in data[:-1])
        assert len(data) - 1 == len(h.service.knowledge.entries_in_topic("amt"))
        # back to the overview
        h.push(U.callback(cb.topics(), message_id=mid, inline_keyboard=topic_view["reply_markup"]["inline_keyboard"]))
        await h.settle()
        assert callback_data(h.calls("editMessageText")[-1].result) == topic_data
        # an entry from the list is sent as a new message
        before = len(h.sent(USER_ID))
        h.push(U.callback(data[0], message_id=mid, inline_keyboard=topic_view["reply_markup"]["inline_keyboard"]))
        await h.settle()
        assert len(h.sent(USER_ID)[before:]) == 1
        assert all(c.ok for c in h.calls("answerCallbackQuery"))
        assert h.fake.rejections == []


async def test_milestones_show_current_status(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        text = (await h.exchange(U.command("/meilensteine"), USER_ID))[-1]["text"]
        assert text.startswith("Zeitplan der Neuorganisation")
        for milestone in h.service.knowledge.milestones.values():
            assert milestone.title.de in text
        assert "erledigt (Mitte Dezember 2021)" in text
        en = (await h.exchange(U.command("/meilensteine", language_code="en"), USER_ID))[-1]["text"]
        assert en.startswith("Timeline of the reorganisation") and "done (mid-December 2021)" in en
        assert h.fake.rejections == []


async def test_language_choice_overrides_detection_and_can_be_forgotten(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        prompt = (await h.exchange(U.command("/sprache"), USER_ID))[-1]
        assert callback_data(prompt) == [cb.lang("de"), cb.lang("en")]
        h.push(
            U.callback(
                cb.lang("en"),
                message_id=prompt["message_id"],
                inline_keyboard=prompt["reply_markup"]["inline_keyboard"],
            )
        )
        await h.settle()
        assert h.store.get_lang(USER_ID) == "en"
        assert h.calls("editMessageText")[-1].result["text"] == t.LANG_SET.en
        # a German question is now answered in English (the choice overrides detection)
        reply = await h.ask(Q_SCHUL_IT)
        assert "As of" in reply["text"]
        help_text = (await h.exchange(U.command("/hilfe"), USER_ID))[-1]["text"]
        assert help_text.startswith("How I work")
        forgot = (await h.exchange(U.command("/vergessen"), USER_ID))[-1]["text"]
        assert forgot == t.FORGOTTEN.de
        assert h.store.get_lang(USER_ID) is None
        again = (await h.exchange(U.command("/vergessen"), USER_ID))[-1]["text"]
        assert again == t.NOTHING_TO_FORGET.de
        reply = await h.ask(Q_SCHUL_IT)
        assert "Stand:" in reply["text"]
        assert h.fake.rejections == []


async def test_commands_are_registered_in_german_and_english(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        default_de = h.fake.commands[('{"type": "default"}', "")]
        default_en = h.fake.commands[('{"type": "default"}', "en")]
        assert [c["command"] for c in default_de] == [c["command"] for c in default_en]
        assert "frage" in [c["command"] for c in default_de]
        assert default_de[0]["description"] != default_en[0]["description"]
        groups = h.fake.commands[('{"type": "all_group_chats"}', "")]
        assert groups[0]["command"] == "frage"
        admin_scope = f'{{"chat_id": {ADMIN_ID}, "type": "chat"}}'
        assert "reload" in [c["command"] for c in h.fake.commands[(admin_scope, "")]]
        assert h.fake.rejections == []


# ------------------------------------------------------------------------------------------ callbacks


async def test_forged_stale_and_oversized_callback_data(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        cases = [
            "x" * 65,  # longer than Telegram allows
            "e:",  # truncated
            "e:../../etc/passwd",
            "f:*:schul-it-wechsel",
            "t:amt:-1",
            "l:fr",
            "e:schul-it-wechsel\n",
            "🙂" * 16,
            "",
        ]
        for data in cases:
            h.push(U.callback(data or "x", inline_keyboard=[[{"text": "x", "callback_data": data or "x"}]]))
        # well-formed but not among the message's buttons (forged with a modified client)
        h.push(U.callback(cb.entry("amt-aufgaben"), inline_keyboard=[[{"text": "x", "callback_data": "e:kgst-was"}]]))
        # stale: the entry / topic is no longer in the knowledge
        h.push(U.callback(cb.entry("gibt-es-nicht-mehr")))
        h.push(U.callback(cb.feedback(1, "gibt-es-nicht-mehr", 5)))
        h.push(U.callback(cb.topic("alt", 0)))
        await h.settle()
        answers = h.calls("answerCallbackQuery")
        assert len(answers) == len(cases) + 4
        assert all(c.ok for c in answers)
        texts = [c.params.get("text") for c in answers]
        assert texts[: len(cases) + 1] == [t.CB_INVALID.de] * (len(cases) + 1)
        assert texts[len(cases) + 1 :] == [t.CB_STALE.de] * 3
        assert h.sent() == []
        assert h.fake.rejections == []


async def test_feedback_is_recorded_once_per_user_and_message(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        reply = await h.ask(Q_AMT)
        up, down = [d for d in callback_data(reply) if d.startswith("f:")]
        keyboard = reply["reply_markup"]["inline_keyboard"]

        async def press(data: str, user: int = USER_ID) -> str:
            h.push(
                U.callback(
                    data,
                    from_user=user,
                    message_chat_id=USER_ID,
                    message_id=reply["message_id"],
                    inline_keyboard=keyboard,
                )
            )
            await h.settle()
            return str(h.calls("answerCallbackQuery")[-1].params.get("text"))

        assert await press(up) == t.FEEDBACK_THANKS.de
        assert await press(up) == t.FEEDBACK_DUPLICATE.de
        assert await press(down) == t.FEEDBACK_THANKS.de  # changed the vote
        assert await press(up, user=2002) == t.FEEDBACK_THANKS.de  # another person
        stats = h.store.stats(1)
        assert (stats.feedback_up, stats.feedback_down) == (1, 1)
        with sqlite3.connect(h.settings.db_path) as conn:
            linked = conn.execute("SELECT COUNT(*) FROM feedback WHERE question_id IS NOT NULL").fetchone()[0]
            assert linked == 2
            dump = "\n".join(conn.iterdump())
        assert str(USER_ID) not in dump.replace(f"user_prefs VALUES({USER_ID}", "")
        assert h.fake.rejections == []


# --------------------------------------------------------------------------------------------- inline


async def test_inline_queries(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.push(U.inline_query(Q_SCHUL_IT))
        await h.settle()
        call = h.calls("answerInlineQuery")[-1]
        assert call.ok
        results = call.params["results"]
        assert 1 <= len(results) <= 5
        assert results[0]["id"] == "schul-it-wechsel"
        content = results[0]["input_message_content"]
        assert content["parse_mode"] == "HTML"
        text, _ = parse_html(content["message_text"])
        assert "Dezernat I" in text and len(text) <= 4096
        assert results[0]["reply_markup"]["inline_keyboard"][0][0]["url"].endswith("?start=e_schul-it-wechsel")
        assert 0 < call.params["cache_time"] <= 60
        # empty query: the topics' first entries
        h.push(U.inline_query(""))
        await h.settle()
        call = h.calls("answerInlineQuery")[-1]
        ids = [r["id"] for r in call.params["results"]]
        topics = [tp for tp in h.service.knowledge.topics.values() if h.service.knowledge.entries_in_topic(tp.id)]
        assert ids == [h.service.knowledge.entries_in_topic(tp.id)[0].id for tp in topics][:5]
        assert call.params["is_personal"] is True
        # nonsense: no results, a button to ask in the private chat
        h.push(U.inline_query(Q_NONSENSE))
        await h.settle()
        call = h.calls("answerInlineQuery")[-1]
        assert call.params["results"] == []
        assert call.params["button"]["start_parameter"] == "inline"
        # a chosen result is logged as an inline question
        h.push(U.wrap("chosen_inline_result", {"result_id": "schul-it-wechsel", "from": U.user(), "query": Q_SCHUL_IT}))
        await h.settle()
        assert _log_rows(h.settings.db_path) == [(Q_SCHUL_IT, "answer", "schul-it-wechsel", "inline")]
        assert h.fake.rejections == []


# ----------------------------------------------------------------------------------------------- admin


async def test_admin_commands_refused_for_non_admins(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with running_bot(tmp_path) as h:
        for command in ("/reload", "/stats", "/unbeantwortet"):
            replies = await h.exchange(U.command(command), USER_ID)
            assert [r["text"] for r in replies] == [t.ADMIN_ONLY.de]
        assert f"user_id={USER_ID}" in caplog.text
        with sqlite3.connect(h.settings.db_path) as conn:
            assert conn.execute("SELECT COUNT(*) FROM question_log").fetchone()[0] == 0
        assert h.fake.rejections == []


async def test_reload_with_broken_file_keeps_old_knowledge(tmp_path: Path) -> None:
    knowledge = copy_knowledge(tmp_path)
    async with running_bot(tmp_path, knowledge_dir=knowledge) as h:
        version = h.service.knowledge.version
        faq = knowledge / "faq.yaml"
        lines = faq.read_text(encoding="utf-8").splitlines()
        topic_line = next(i for i, line in enumerate(lines) if line.strip() == "topic: amt")
        lines[topic_line] = lines[topic_line].replace("topic: amt", "topic: gibt-es-nicht")
        faq.write_text("\n".join(lines) + "\n", encoding="utf-8")
        (knowledge / "kaputt.yaml").write_text("entries:\n  - id: x\n\ttopic: amt\n", encoding="utf-8")
        reply = (await h.exchange(U.command("/reload", user_id=ADMIN_ID), ADMIN_ID))[-1]["text"]
        assert reply.startswith("❌ Neue Wissensbasis abgelehnt")
        assert version in reply
        assert re.search(r"faq\.yaml:\d+: entries\[0\]\.topic: .*gibt-es-nicht", reply)
        assert re.search(r"kaputt\.yaml:\d+: ", reply)
        assert h.service.knowledge.version == version
        answer = await h.ask(Q_SCHUL_IT)
        assert "Dezernat I" in answer["text"]
        # fixed: the reload goes live
        (knowledge / "kaputt.yaml").unlink()
        lines[topic_line] = lines[topic_line].replace("topic: gibt-es-nicht", "topic: amt")
        faq.write_text("\n".join(lines) + "\n", encoding="utf-8")
        ok = (await h.exchange(U.command("/reload", user_id=ADMIN_ID), ADMIN_ID))[-1]["text"]
        assert ok.startswith("✅ Wissensbasis neu geladen")
        assert h.fake.rejections == []


async def test_stats_and_unanswered(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        for question in (
            Q_SCHUL_IT,
            Q_SCHUL_IT,
            Q_NONSENSE,
            "Wer bezahlt die neuen Kaffeemaschinen <im> Rathaus & wo?",
            "Wer bezahlt die neuen Kaffeemaschinen <im> Rathaus & wo?",
            "Wer bezahlt die neuen Kaffeemaschienen im Rathaus und wo",  # typo: another exact group
            "Wie backe ich einen Kuchen?",
        ):
            await h.ask(question)
        reply = await h.ask(Q_SCHUL_IT)
        up = next(d for d in callback_data(reply) if d.startswith("f:+"))
        h.push(U.callback(up, message_id=reply["message_id"], inline_keyboard=reply["reply_markup"]["inline_keyboard"]))
        await h.settle()
        stats = (await h.exchange(U.command("/stats", user_id=ADMIN_ID), ADMIN_ID))[-1]["text"]
        assert "Fragen: 8" in stats
        assert "schul-it-wechsel" in stats and "3×" in stats
        assert "👍 1" in stats
        assert h.service.knowledge.version in stats and f"{len(h.service.knowledge.entries)} Einträge" in stats
        week = (await h.exchange(U.command("/stats 7", user_id=ADMIN_ID), ADMIN_ID))[-1]["text"]
        assert "(7 Tage)" in week
        bad = (await h.exchange(U.command("/stats abc", user_id=ADMIN_ID), ADMIN_ID))[-1]["text"]
        assert bad.startswith("Bitte eine Zahl")
        card = (await h.exchange(U.command("/unbeantwortet", user_id=ADMIN_ID), ADMIN_ID))[-1]
        text = card["text"]
        assert text.startswith("❓ Offene Frage 1 von 3 (letzte 30 Tage)")
        assert "„Wer bezahlt die neuen Kaffeemaschinen <im> Rathaus & wo?“" in text  # escaped, shown literally
        assert "3× gestellt" in text and "ähnlich: „Wer bezahlt die neuen Kaffeemaschienen im Rathaus und wo“" in text
        # unknown words do not lump questions together: the other two are cards 2 and 3
        questions = []
        for index in (1, 2):
            await h.press(card, cb.review_page(30, index), ADMIN_ID)
            card = h.calls("editMessageText")[-1].result
            assert card["text"].startswith(f"❓ Offene Frage {index + 1} von 3")
            questions.append(card["text"].split("\n")[2])
        assert sorted(questions) == sorted([f"„{Q_NONSENSE}“", "„Wie backe ich einen Kuchen?“"])
        assert h.fake.rejections == []


# ---------------------------------------------------------------------------------------- allow-list


async def test_allow_list_refuses_once_and_keeps_groups_silent(tmp_path: Path) -> None:
    allowed = frozenset({USER_ID, GROUP_ID})
    async with running_bot(tmp_path, allowed_chats=allowed) as h:
        assert "Dezernat I" in (await h.ask(Q_SCHUL_IT))["text"]
        stranger = 5555
        first = await h.exchange(U.private_text(Q_SCHUL_IT, stranger), stranger)
        assert [m["text"] for m in first] == [t.NOT_ALLOWED.de]
        assert await h.exchange(U.private_text(Q_AMT, stranger), stranger) == []
        other_group = -1009999
        assert (
            await h.exchange(
                U.command("/frage " + Q_SCHUL_IT, chat_type="supergroup", chat_id=other_group), other_group
            )
            == []
        )
        h.push(U.inline_query(Q_SCHUL_IT, stranger))
        await h.settle()
        assert h.calls("answerInlineQuery") == []
        # admins always get through
        assert "Dezernat I" in (await h.ask(Q_SCHUL_IT, ADMIN_ID))["text"]
        assert len(_log_rows(h.settings.db_path)) == 2
        assert h.fake.rejections == []


# -------------------------------------------------------------------------------- membership & escaping


async def test_group_migration_and_removal_update_subscriptions(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        old, new = -4001234567, -1004001234567
        h.store.subscribe(old, "Team")
        h.push(U.migrate_to_chat_id(old, new))
        await h.settle()
        assert [s.chat_id for s in h.store.subscriptions()] == [new]
        h.push(U.my_chat_member(new, old="member", new="left"))
        await h.settle()
        assert h.store.subscriptions() == []
        h.push(U.my_chat_member(-4005, old="left", new="member"))
        await h.settle()
        # added to a group: it introduces itself and explains /abonnieren (issue 4), nothing else
        assert [m["chat"]["id"] for m in h.sent()] == [-4005]
        assert "/abonnieren" in h.sent()[0]["text"]
        assert h.fake.rejections == []


async def test_bot_mentions_its_own_username_in_help(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        call_text = (await h.exchange(U.command("/hilfe"), USER_ID))[-1]["text"]
        assert html.escape(f"@{BOT_USERNAME}") in call_text
        assert h.app.bot.id == BOT_ID
