"""Pure parts of the Telegram transport: callback data, message splitting, decisions, admin views."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Bot, Message, Update

from bot.answers import Option, Reply
from bot.knowledge.loader import LoadResult
from bot.knowledge.yamlnodes import Problem
from bot.lint import StaleItem
from bot.matching.matcher import Candidate
from bot.review import ReviewGroup
from bot.service import FaqService
from bot.storage import DayCount, EntryCount, EntryFeedback, Stats
from bot.tg import admin, policy, render
from bot.tg import callbacks as cb
from bot.tg import texts as t
from tests.support import updates as U
from tests.support.fake_bot_api import TOKEN, HtmlParseError, parse_html

# ------------------------------------------------------------------------------------------ callbacks


def test_callback_roundtrip() -> None:
    assert cb.parse(cb.topics(2)) == cb.ShowTopics(2)
    assert cb.parse(cb.topic("schul-it", 1)) == cb.ShowTopic("schul-it", 1)
    assert cb.parse(cb.entry("amt-aufgaben")) == cb.ShowEntry("amt-aufgaben")
    assert cb.parse(cb.feedback(1, "amt-aufgaben", 42)) == cb.Feedback(1, "amt-aufgaben", 42)
    assert cb.parse(cb.feedback(-1, "amt-aufgaben")) == cb.Feedback(-1, "amt-aufgaben", None)
    assert cb.parse(cb.lang("en")) == cb.SetLang("en")
    assert cb.entry("amt-aufgaben") == "e:amt-aufgaben"
    assert cb.feedback(1, "amt-aufgaben", 42) == "f:+:amt-aufgaben:42"
    assert cb.topic("amt", 0) == "t:amt:0"


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "e:",
        "e:Amt",
        "e:amt aufgaben",
        "e:amt\n",
        "e:" + "a" * 41,
        "t:amt",
        "t:amt:01",
        "t:amt:1000",
        "t:amt:-1",
        "T:x",
        "f:+",
        "f:0:amt",
        "f:+:amt:0",
        "f:+:amt:12:13",
        "f:+:amt:" + "9" * 19,
        "l:fr",
        "l:DE",
        "x" * 65,
        "e:" + "#" + "0" * 11,
        "e:#" + "G" * 12,
        "e:١٢",  # Arabic-Indic digits are not [0-9]
        "T:١",
        b"e:amt",
    ],
)
def test_callback_parser_rejects_anything_else(data: object) -> None:
    assert cb.parse(data) is None


def test_long_ids_are_referenced_by_hash_and_resolved(service: FaqService) -> None:
    long_id = "ein-sehr-langer-eintrag-" + "x" * 60
    data = cb.feedback(1, long_id, 10**17)
    assert len(data.encode()) <= 64
    action = cb.parse(data)
    assert isinstance(action, cb.Feedback) and action.entry_ref.startswith("#")
    assert cb.ref(long_id) == action.entry_ref
    k = service.knowledge
    assert cb.resolve_entry(k, "schul-it-wechsel") is k.entries["schul-it-wechsel"]
    assert cb.resolve_entry(k, cb.ref("x" * 80)) is None
    assert cb.resolve_entry(k, "gibt-es-nicht") is None
    assert cb.resolve_topic(k, "amt") is k.topics["amt"]
    assert cb.resolve_topic(k, "gibt-es-nicht") is None


@given(st.text(max_size=80))
def test_callback_parser_never_raises(data: str) -> None:
    action = cb.parse(data)
    if action is not None:
        assert len(data.encode("utf-8", "surrogatepass")) <= 64


# ------------------------------------------------------------------------------------------ splitting


def _visible(chunk: str) -> str:
    return parse_html(chunk)[0]


def test_short_text_is_one_chunk_and_empty_is_none() -> None:
    assert render.split_html("Hallo <b>Welt</b>") == ["Hallo <b>Welt</b>"]
    assert render.split_html("  \n ") == []


def test_split_prefers_paragraphs_then_lines() -> None:
    paragraphs = [f"Absatz {i}: " + "wort " * 30 for i in range(10)]
    chunks = render.split_html("\n\n".join(paragraphs), limit=400)
    assert all(len(c) <= 400 for c in chunks)
    for chunk in chunks:
        assert chunk.startswith("Absatz")  # every chunk starts at a paragraph
    assert "".join(chunks).replace("Absatz", "\n\nAbsatz").strip().count("Absatz") == 10
    lines = "\n".join(f"Zeile {i} " + "x" * 50 for i in range(40))
    for chunk in render.split_html(lines, limit=300):
        assert chunk.startswith("Zeile")


def test_split_never_cuts_tags_or_entities_and_reopens_tags() -> None:
    text = (
        "<i>"
        + "&amp;&lt;&gt; " * 200
        + "</i>\n\n"
        + '<a href="https://x.example/?a=1&amp;b=2">'
        + "Quelle " * 100
        + "</a>"
    )
    chunks = render.split_html(text, limit=256)
    assert len(chunks) > 5
    visible = []
    for chunk in chunks:
        assert len(chunk) <= 256
        plain, _ = parse_html(chunk)  # raises on a broken tag or entity
        visible.append(plain)
    joined = re.sub(r"\s+", "", "".join(visible))
    assert joined == re.sub(r"\s+", "", parse_html(text)[0])


def test_split_counts_utf16_units() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units
    chunks = render.split_html(text)
    assert len(chunks) == 2
    assert all(render.utf16_len(c) <= 4096 for c in chunks)
    assert "".join(chunks) == text


def test_split_plain_treats_markup_as_text() -> None:
    text = ("a < b & c > d " * 400).strip()
    chunks = render.split_plain(text, limit=500)
    assert all(len(c) <= 500 for c in chunks)
    assert " ".join(chunks).split() == text.split()


_atoms = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).map(html.escape),
    st.sampled_from(["\n", "\n\n", " ", "😀", "&amp;", "&#128512;"]),
)


@st.composite
def _html_docs(draw: st.DrawFn) -> str:
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 40))):
        inner = "".join(draw(st.lists(_atoms, min_size=1, max_size=8)))
        tag = draw(st.sampled_from(["", "b", "i", "a", "code"]))
        if tag == "a":
            parts.append(f'<a href="https://e.example/?q={len(inner)}&amp;x=1">{inner}</a>')
        elif tag:
            parts.append(f"<{tag}>{inner}</{tag}>")
        else:
            parts.append(inner)
    return "".join(parts)


@settings(max_examples=150, deadline=None)
@given(_html_docs(), st.integers(64, 600))
def test_split_property_every_chunk_valid_and_within_limit(text: str, limit: int) -> None:
    try:
        expected = parse_html(text)[0]
    except HtmlParseError:  # pragma: no cover - the generator only builds valid HTML
        return
    chunks = render.split_html(text, limit)
    got = []
    for chunk in chunks:
        assert render.utf16_len(chunk) <= limit
        plain, _ = parse_html(chunk)
        assert plain.strip()
        got.append(plain)
    assert re.sub(r"\s+", "", "".join(got)) == re.sub(r"\s+", "", expected)


def test_html_to_plain() -> None:
    assert render.html_to_plain('Siehe <a href="https://x.example/?a=1&amp;b=2">Quelle &lt;1&gt;</a>.') == (
        "Siehe Quelle <1> (https://x.example/?a=1&b=2)."
    )
    assert render.html_to_plain("<i>Stand: 24.06.2022</i> &amp; mehr") == "Stand: 24.06.2022 & mehr"


# ------------------------------------------------------------------------------------------ keyboards


def test_answer_keyboard_layouts() -> None:
    answer = Reply("answer", "de", "amt-aufgaben", related=(Option("amt-warum", "Warum? " * 20),))
    rows = render.answer_keyboard(answer, 7).inline_keyboard  # type: ignore[union-attr]
    assert rows[0][0].callback_data == "e:amt-warum" and len(rows[0][0].text) <= render.BUTTON_LABEL_MAX
    assert [b.callback_data for b in rows[-1]] == ["f:+:amt-aufgaben:7", "f:-:amt-aufgaben:7"]
    clarify = Reply("clarify", "en", options=(Option("a", "A?"), Option("b", "B?")))
    rows = render.answer_keyboard(clarify).inline_keyboard  # type: ignore[union-attr]
    assert [r[0].callback_data for r in rows] == ["e:a", "e:b", "T:0"]
    assert rows[-1][0].text == t.BTN_BROWSE.en
    fallback = Reply("fallback", "de", topics=("Amt",))
    assert [r[0].callback_data for r in render.answer_keyboard(fallback).inline_keyboard] == ["T:0"]  # type: ignore[union-attr]
    assert render.answer_keyboard(Reply("smalltalk", "de", "greeting", body="Hallo")) is None


def test_topic_views_page_and_go_back(service: FaqService) -> None:
    k = service.knowledge
    text, markup = render.topics_view(k, "de")
    assert text.startswith("<b>Themen</b>")
    assert [r[0].callback_data for r in markup.inline_keyboard] == [cb.topic(tp) for tp in k.topics]  # type: ignore[union-attr]
    topic = k.topics["amt"]
    text, markup = render.topic_view(k, topic, "en", 0)
    assert text.startswith("<b>The new office</b>")
    assert markup.inline_keyboard[-1][0].callback_data == "T:0"
    items, page, pages = render.page_of(list(range(13)), 5, 6)
    assert (list(items), page, pages) == ([12], 2, 3)
    assert render.page_of([], 3, 6) == ([], 0, 1)


def test_milestones_html_escapes_and_dates(service: FaqService) -> None:
    snap = service.snapshot
    ms = list(snap.knowledge.milestones.values())
    status = {m.id: snap.renderer.milestone_status(m, "de") for m in ms}
    text = render.milestones_html(ms, "de", status)
    plain, entities = parse_html(text)
    assert plain.startswith("Zeitplan der Neuorganisation")
    assert "Stand: 24.06.2022" in plain
    assert any(e["type"] == "text_link" for e in entities)
    assert render.milestones_html([], "en", {}) == t.NO_MILESTONES.en


# --------------------------------------------------------------------------------------------- policy


def test_language_resolution() -> None:
    assert policy.resolve_lang(None, None) == "de"
    assert policy.resolve_lang(None, "en-GB") == "en"
    assert policy.resolve_lang(None, "fr") == "de"
    assert policy.resolve_lang("de", "en") == "de"
    assert policy.resolve_lang("en", "de") == "en"
    assert policy.resolve_lang("xx", "en") == "en"
    assert policy.question_lang(None) is None
    assert policy.question_lang("en") == "en"
    assert policy.question_lang("zz") is None


def test_deep_links_days_and_allow_list() -> None:
    assert policy.deep_link_entry(["e_schul-it-wechsel"]) == "schul-it-wechsel"
    assert policy.deep_link_entry(["x_schul"]) is None
    assert policy.deep_link_entry([]) is None
    assert policy.parse_days([]) == 30
    assert policy.parse_days(["7"]) == 7
    assert policy.parse_days(["0"]) is None
    assert policy.parse_days(["366"]) is None
    assert policy.parse_days(["-1"]) is None
    assert policy.allowed(None, 5, 5, False)
    assert policy.allowed(frozenset({5}), 5, 5, False)
    assert not policy.allowed(frozenset({5}), 6, 6, False)
    assert policy.allowed(frozenset({5}), 6, 6, True)
    assert policy.allowed(frozenset({5}), None, 5, False)
    assert not policy.allowed(frozenset({5}), None, None, False)
    assert policy.too_long("x" * 1001) and not policy.too_long("x" * 1000)


def test_log_key_keeps_unknown_words_apart(service: FaqService) -> None:
    cake = service.ask("Wie backe ich einen Kuchen?").match.normalized
    park = service.ask("Wo parke ich mein Fahrrad?").match.normalized
    assert cake != park and "?" not in cake.split()
    assert "fahrrad" in park.split()


def _message(data: dict[str, object]) -> Message:
    bot = Bot(TOKEN)
    update = Update.de_json(data, bot)
    assert update.message is not None
    return update.message


def test_group_addressing() -> None:
    bot_id, name = U.BOT_ID, U.BOT_USERNAME
    plain = _message(U.group_text("Wann wechselt die Schul-IT?"))
    assert policy.addressed_in_group(plain, bot_id, name) is None
    mention = _message(U.mention("😀 Sag mal @konstanz_faq_bot, wann wechselt die Schul-IT?"))
    assert policy.addressed_in_group(mention, bot_id, name) == policy.Addressed(
        "😀 Sag mal, wann wechselt die Schul-IT?", "mention"
    )
    upper = _message(U.mention("@Konstanz_FAQ_Bot Wer leitet das Amt?", username="Konstanz_FAQ_Bot"))
    assert policy.addressed_in_group(upper, bot_id, name) == policy.Addressed("Wer leitet das Amt?", "mention")
    other = "Frag @anderer_bot wann"
    other_msg = _message(U.group_text(other, entities=[U.entity(other, "@anderer_bot", "mention")]))
    assert policy.addressed_in_group(other_msg, bot_id, name) is None
    reply = _message(U.group_text("Und wann genau?", reply_to_bot=True))
    assert policy.addressed_in_group(reply, bot_id, name) == policy.Addressed("Und wann genau?", "reply")
    text = "Konstanz FAQ: wer leitet das Amt?"
    tm = _message(U.group_text(text, entities=[U.entity(text, "Konstanz FAQ", "text_mention", user=U.bot_user())]))
    assert policy.addressed_in_group(tm, bot_id, name) == policy.Addressed("wer leitet das Amt?", "text_mention")
    only = _message(U.mention("@konstanz_faq_bot"))
    assert policy.addressed_in_group(only, bot_id, name) == policy.Addressed("", "mention")


def test_text_after_command() -> None:
    assert policy.text_after_command(_message(U.command("/frage@konstanz_faq_bot  Was?\nZweite Zeile"))) == (
        "Was?\nZweite Zeile"
    )
    assert policy.text_after_command(_message(U.command("/frage"))) == ""
    assert policy.clean_question(" ,  wann  genau? ") == "wann genau?"


def test_order_key() -> None:
    bot = Bot(TOKEN)
    assert policy.order_key(Update.de_json(U.private_text("x", 5), bot)) == 5
    assert policy.order_key(Update.de_json(U.inline_query("x", 9), bot)) == 9
    assert policy.order_key("not an update") is None


# ---------------------------------------------------------------------------------------------- admin


def _group(question: str, qid: int) -> ReviewGroup:
    return ReviewGroup(
        question_id=qid,
        question=question,
        lang="de",
        times=6,
        kinds={"fallback": 4, "downvote": 2},
        similar=("wer bezahlt die kaffeemaschinen", "a", "b", "c"),
        last_asked=dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC),
        normalized_keys=("kaffeemaschin zahl",),
        question_ids=(qid,),
        downvoted_entries=("schul-it-wechsel",),
    )


def test_review_card(service: FaqService) -> None:
    k = service.knowledge
    groups = [_group("Wer bezahlt <b>die</b> Kaffeemaschine?", 7), _group("x", 9)]
    asked: list[int] = []

    def offer(group: ReviewGroup) -> tuple[Candidate, ...]:
        asked.append(group.question_id)
        return (Candidate("gruendung-termin", 50.0, ""), Candidate("geloescht", 50.0, ""))

    text, keyboard = admin.review_card(groups, 0, 30, k, "de", offer)
    assert asked == [7]  # only the group on the card is looked up
    plain, _ = parse_html(text)
    assert "Offene Frage 1 von 2 (letzte 30 Tage)" in plain
    assert "„Wer bezahlt <b>die</b> Kaffeemaschine?“" in plain and "&lt;b&gt;" in text
    assert "6× gestellt" in plain and "4× ohne Antwort, 2× 👎 auf die Antwort" in plain
    assert "(+1)" in plain and "schul-it-wechsel" in plain
    assert keyboard is not None
    actions = [cb.parse(b.callback_data) for row in keyboard.inline_keyboard for b in row]
    # a removed entry gets no button; attach, search, dismiss and "next" all carry the question row
    assert actions == [
        cb.Review(30, "attach", 7, "gruendung-termin"),
        cb.Review(30, "search", 7),
        cb.Review(30, "dismiss", 7),
        cb.ReviewPage(30, 1),
    ]
    last, keyboard = admin.review_card(groups, 5, 30, k, "en", offer)  # clamped to the last card
    assert "Open question 2 of 2" in parse_html(last)[0]
    assert keyboard is not None and cb.parse(keyboard.inline_keyboard[-1][0].callback_data) == cb.ReviewPage(30, 0)
    assert admin.review_card([], 0, 7, k, "de", offer) == (t.REVIEW_NONE.de.format(days=7), None)


def test_search_results(service: FaqService) -> None:
    entry = service.knowledge.entries["gruendung-termin"]
    text, keyboard = admin.search_results([entry], "<Gründung>", 7, 30, "de")
    assert "&lt;Gründung&gt;" in text and keyboard is not None
    assert cb.parse(keyboard.inline_keyboard[0][0].callback_data) == cb.Review(30, "attach", 7, "gruendung-termin")
    assert admin.search_results([], "xyz", 7, 30, "en") == (t.REVIEW_SEARCH_NONE.en.format(term="xyz"), None)


def test_stats_html(service: FaqService) -> None:
    stats = Stats(
        days=3,
        since="2024-05-01",
        until="2024-05-03",
        total=4,
        per_day=[DayCount("2024-05-01", 1), DayCount("2024-05-02", 0), DayCount("2024-05-03", 3)],
        status_counts={"answer": 2, "clarify": 1, "fallback": 1, "smalltalk": 0},
        status_rates={"answer": 0.5, "clarify": 0.25, "fallback": 0.25, "smalltalk": 0.0},
        top_entries=[EntryCount("schul-it-wechsel", 2), EntryCount("geloescht", 1)],
        feedback=[EntryFeedback("schul-it-wechsel", 2, 1)],
        feedback_up=2,
        feedback_down=1,
    )
    loaded = dt.datetime(2024, 5, 3, 8, 0, tzinfo=dt.UTC)
    snapshot = dataclasses.replace(service.snapshot, loaded_at=loaded)
    stale = [StaleItem("entry", "gruendung-termin", dt.date(2024, 4, 1), "Amt 10", "knowledge/faq.yaml", 12)]
    plain, _ = parse_html(admin.stats_html(stats, snapshot, stale, "de"))
    assert "Fragen: 4" in plain
    assert "Beantwortet 50 % · Rückfrage 25 % · Nicht gewusst 25 % · Smalltalk 0 %" in plain
    assert "• 03.05.2024: 3\n• 01.05.2024: 1" in plain
    title = service.knowledge.entries["schul-it-wechsel"].title("de")
    assert f"1. {title} (schul-it-wechsel): 2×" in plain
    assert "2. geloescht: 1×" in plain
    assert "👍 2 · 👎 1" in plain
    assert service.knowledge.version in plain and "2024-05-03 08:00 UTC" in plain
    assert "Gelernte Formulierungen in Gebrauch: 0" in plain
    assert "Eintrag gruendung-termin – fällig seit 01.04.2024, zuständig: Amt 10 (knowledge/faq.yaml:12)" in plain
    en, _ = parse_html(admin.stats_html(stats, snapshot, [], "en"))
    assert "Answered 50%" in en and "Due for review (review_by passed):\n(none)" in en


def test_reload_views(service: FaqService) -> None:
    k = service.knowledge
    problems = [Problem("faq.yaml", 12, f"entries[{i}].topic", "Thema <x> & y fehlt") for i in range(45)]
    refused = admin.reload_html(LoadResult(None, problems), k, "de")
    plain, _ = parse_html(refused)
    assert plain.startswith(f"❌ Neue Wissensbasis abgelehnt – es antwortet weiter Version {k.version}")
    assert "• faq.yaml:12: entries[0].topic: Thema <x> & y fehlt" in plain
    assert "… und 5 weitere" in plain
    warning = Problem("faq.yaml", 3, "entries[0].questions.en", "fehlt", "warning")
    ok, _ = parse_html(admin.reload_html(LoadResult(k, [warning]), k, "en"))
    assert ok.startswith("✅ Knowledge reloaded") and "faq.yaml:3:" in ok
    failed, _ = parse_html(admin.reload_failed_html(PermissionError("x"), k, "de"))
    assert "PermissionError" in failed
