"""The knowledge lint and ``faqbot check``: every finding on small hand-built sets, the shipped knowledge, the CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import time
from pathlib import Path

import pytest

from bot.cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK, main
from bot.knowledge.loader import load_texts
from bot.knowledge.model import Knowledge, Lang
from bot.knowledge.yamlnodes import Problem
from bot.lint import SelfTestFailure, StaleItem, lint, run_lint, self_test, stale_items, url_problem
from bot.matching.matcher import Match, Matcher, Thresholds
from bot.service import FaqService
from bot.storage import LiveKnowledge, Store
from tests.conftest import KNOWLEDGE_DIR

TODAY = dt.date(2024, 1, 1)
SOURCE = "[{url: 'https://www.kommune21.de', title: Kommune21}]"
TOPICS = "topics: [{id: t, title: {de: Thema, en: Topic}}]\n"

ENDE = [
    "Wann endet die Ausschreibung der Stelle?",
    "Ende der Ausschreibung",
    "Bewerbungsschluss",
    "Bis wann kann man sich bewerben?",
    "Wann ist die Bewerbungsfrist vorbei?",
]
ENDE_EN = ["When does the job ad end?", "application deadline", "Until when can I apply?"]
BESETZUNG = [
    "Wer besetzt die Stelle?",
    "Stellenbesetzung im Amt",
    "Wer bekommt die Stelle?",
    "Wer wird die Stelle besetzen?",
    "Wie läuft die Stellenbesetzung?",
]
BESETZUNG_EN = ["Who fills the position?", "Who gets the job?", "How is the position filled?"]


def entry(
    eid: str,
    de: list[str],
    en: list[str] | None,
    *,
    answer: str | None = None,
    extra: str = "",
) -> str:
    """One entry in block style, one phrasing per line (so each has its own line number)."""
    lines = [f"  - id: {eid}", "    topic: t", "    questions:", "      de:"]
    lines += [f"        - {json.dumps(p, ensure_ascii=False)}" for p in de]
    if en is not None:
        lines += ["      en:"] + [f"        - {json.dumps(p, ensure_ascii=False)}" for p in en]
    lines.append(f"    answer: {answer or '{de: Die Antwort., en: The answer.}'}")
    lines += [f"    sources: {SOURCE}", "    as_of: 2022-06-24"]
    return "\n".join(lines) + "\n" + extra


def knowledge(*entries: str, extra: str = "") -> Knowledge:
    text = TOPICS + "entries:\n" + "".join(entries) + extra
    result = load_texts([("k.yaml", text)], today=TODAY)
    assert result.knowledge is not None, [str(p) for p in result.errors]
    return result.knowledge


def line_of(phrasing: str, *entries: str) -> int:
    """The line of ``phrasing`` in the k.yaml that :func:`knowledge` builds from ``entries``."""
    lines = (TOPICS + "entries:\n" + "".join(entries)).splitlines()
    return lines.index(f"        - {json.dumps(phrasing, ensure_ascii=False)}") + 1


def findings(k: Knowledge, category: str, matcher: Matcher | None = None) -> list[Problem]:
    return [p for p in lint(k, matcher or Matcher(k), today=TODAY) if p.category == category]


# -- self-test ------------------------------------------------------------------------------------------------


def test_shipped_knowledge_passes_self_test_in_well_under_a_second(
    service: FaqService, monkeypatch: pytest.MonkeyPatch
) -> None:
    k, matcher = service.knowledge, service.snapshot.matcher
    assert self_test(k, matcher) == []
    calls = 0
    match = matcher.match

    def counting(question: str, lang: Lang | None = None) -> Match:
        nonlocal calls
        calls += 1
        return match(question, lang)

    monkeypatch.setattr(matcher, "match", counting)
    started = time.perf_counter()
    problems = lint(k, matcher, today=dt.date.today())
    elapsed = time.perf_counter() - started
    assert [p for p in problems if p.severity == "error"] == []
    phrasings = {(e.id, lang, p) for e in k.entries.values() for lang, ps in e.questions.items() for p in ps}
    assert calls == len(phrasings) > 700  # each phrasing matched once: the confusable check reuses the results
    assert elapsed < 1.0


def test_self_test_reports_a_phrasing_answered_by_another_entry_or_not_at_all() -> None:
    entries = (
        entry("ende", ENDE, ENDE_EN),
        entry(
            "besetzung",
            [*BESETZUNG, "Wann endet die Ausschreibung der Stellen?", "Was ist das?", "Was ist das?"],
            BESETZUNG_EN,
        ),
    )
    k = knowledge(*entries)
    matcher = Matcher(k)
    failures = self_test(k, matcher)
    assert [(f.entry_id, f.lang, f.phrasing, f.status, f.got_entry) for f in failures] == [
        ("besetzung", "de", "Wann endet die Ausschreibung der Stellen?", "answer", "ende"),
        ("besetzung", "de", "Was ist das?", "fallback", None),  # once, though the entry repeats it
    ]
    wrong, unknown = (f.problem(k) for f in failures)
    assert (wrong.file, wrong.line) == ("k.yaml", line_of("Wann endet die Ausschreibung der Stellen?", *entries))
    assert wrong.path == "entries[id=besetzung].questions.de[5]"
    assert (wrong.severity, wrong.category) == ("error", "self-test")
    assert wrong.message.startswith(
        "Formulierung „Wann endet die Ausschreibung der Stellen?“ führt nicht zu diesem Eintrag, sondern zu „ende“"
    )
    scores = {c.entry_id: c.score for c in failures[0].candidates}
    assert scores["ende"] > scores["besetzung"]
    assert f"(Punkte: „ende“ {scores['ende']:.1f}, dieser Eintrag {scores['besetzung']:.1f})" in wrong.message
    assert unknown.path == "entries[id=besetzung].questions.de[6]"
    assert "„Was ist das?“ führt zu keiner Antwort" in unknown.message
    assert str(wrong).startswith(f"k.yaml:{wrong.line}: entries[id=besetzung].questions.de[5]: Formulierung")
    findings, failures_too = run_lint(k, matcher, today=TODAY)  # what the service uses: one matching pass for both
    assert failures_too == failures
    assert [p for p in findings if p.category == "self-test"] == [wrong, unknown]


def test_self_test_names_the_requires_words_a_phrasing_lacks() -> None:
    de = ["Wer besetzt die Stelle?", "Wer wird die Stelle besetzen?", "Wer bekommt die Stelle?"]
    entries = (
        entry("ende", ENDE, ENDE_EN),
        entry("besetzung", de, ["Who fills the position?"], extra="    requires: [besetzen, fill]\n"),
    )
    k = knowledge(*entries)
    failures = self_test(k, Matcher(k))
    assert [(f.entry_id, f.phrasing, f.lacks_required) for f in failures] == [
        ("besetzung", "Wer bekommt die Stelle?", True)
    ]
    problem = failures[0].problem(k)
    assert problem.line == line_of("Wer bekommt die Stelle?", *entries)
    assert problem.path == "entries[id=besetzung].questions.de[2]"
    assert "„Wer bekommt die Stelle?“ enthält keinen der Begriffe unter requires (besetzen, fill)" in problem.message


def test_self_test_reports_clarify_and_smalltalk() -> None:
    smalltalk = (
        "smalltalk:\n"
        "  - {id: about, questions: {de: [was bist du], en: [who are you]}, answer: {de: Ein Bot., en: A bot.}}\n"
    )
    k = knowledge(
        entry("ende", ENDE, ENDE_EN),
        entry(
            "besetzung",
            [*BESETZUNG, "Wann endet eigentlich die Ausschreibung der Stelle?", "Was bist du?"],
            BESETZUNG_EN,
        ),
        extra=smalltalk,
    )
    # A wider answer margin turns the narrow lead of "ende" into a clarify question.
    failures = self_test(k, Matcher(k, Thresholds(margin=10.0)))
    assert [(f.phrasing, f.status, f.got_entry) for f in failures] == [
        ("Wann endet eigentlich die Ausschreibung der Stelle?", "clarify", "ende"),
        ("Was bist du?", "smalltalk", "about"),
    ]
    clarify, chat = (f.problem(k) for f in failures)
    assert "führt nicht zu diesem Eintrag, sondern zu einer Rückfrage mit „ende“" in clarify.message
    assert "wird als Smalltalk („about“) beantwortet" in chat.message
    assert chat.path == "entries[id=besetzung].questions.de[6]"


@pytest.mark.parametrize("lines", [{}, {"en": (0, 0, 0)}], ids=["built in code", "learned"])
def test_self_test_failure_without_phrasing_lines_points_at_the_entry(lines: dict[Lang, tuple[int, ...]]) -> None:
    k = knowledge(entry("ende", ENDE, ENDE_EN))
    built = dataclasses.replace(k, entries={"ende": dataclasses.replace(k.entries["ende"], question_lines=lines)})
    problem = SelfTestFailure("ende", "en", "application deadline", "fallback", None).problem(built)
    assert (problem.line, problem.path) == (k.entries["ende"].line, "entries[id=ende].questions.en[1]")
    assert problem.message.endswith(
        "führt zu keiner Antwort (der Bot erkennt darin keinen Eintrag). "
        "Formulierung mit den Begriffen dieses Eintrags eindeutiger machen oder streichen."
    )


# -- confusable -------------------------------------------------------------------------------------------------


def test_close_entries_are_reported_once_per_pair_with_the_closest_phrasing() -> None:
    close = "Endet die Ausschreibung der Stelle?"  # answered with "besetzung", but "ende" is less than 8 points behind
    entries = (entry("ende", ENDE, ENDE_EN), entry("besetzung", [*BESETZUNG, close], BESETZUNG_EN))
    k = knowledge(*entries)
    matcher = Matcher(k)
    assert self_test(k, matcher) == []
    (problem,) = findings(k, "confusable", matcher)
    scores = {c.entry_id: c.score for c in matcher.match(close, "de").candidates}
    assert 0 < scores["besetzung"] - scores["ende"] < 8
    assert problem.severity == "warning"
    assert (problem.line, problem.path) == (line_of(close, *entries), "entries[id=besetzung].questions.de[5]")
    assert problem.message.startswith(
        f"Verwechslungsgefahr mit „ende“: Formulierung „{close}“ erreicht hier {scores['besetzung']:.1f} Punkte, "
        f"bei „ende“ {scores['ende']:.1f} (weniger als 8 Punkte Abstand); 1 Formulierung der beiden Einträge liegt "
        "so knapp."
    )


def test_distinct_entries_are_not_confusable() -> None:
    clear = "Wann endet die Ausschreibung der Stelle im Amt?"
    k = knowledge(entry("ende", ENDE, ENDE_EN), entry("besetzung", [*BESETZUNG, clear], BESETZUNG_EN))
    matcher = Matcher(k)
    scores = {c.entry_id: c.score for c in matcher.match(clear, "de").candidates}
    assert scores["besetzung"] - scores["ende"] > 8  # shares words with "ende", but clearly ahead
    assert findings(k, "confusable", matcher) == []


def test_a_failing_phrasing_also_marks_its_pair_confusable() -> None:
    k = knowledge(
        entry("ende", ENDE, ENDE_EN),
        entry("besetzung", [*BESETZUNG, "Wann endet die Ausschreibung der Stellen?"], BESETZUNG_EN),
    )
    (problem,) = findings(k, "confusable")
    assert "„ende“ liegt sogar vorn" in problem.message


# -- coverage ---------------------------------------------------------------------------------------------------


def test_too_few_phrasings_per_language() -> None:
    # No English at all is the loader's warning ("keine englischen Formulierungen"), not repeated here.
    k = knowledge(entry("ende", ENDE[:4], ENDE_EN[:2]), entry("besetzung", BESETZUNG, None))
    messages = {(p.path, p.message) for p in findings(k, "coverage")}
    assert messages == {
        (
            "entries[id=ende].questions.de",
            "nur 4 deutsche Formulierungen (mindestens 5): weitere Varianten ergänzen, so wie Beschäftigte fragen",
        ),
        (
            "entries[id=ende].questions.en",
            "nur 2 englische Formulierungen (mindestens 3): weitere Varianten ergänzen, so wie Beschäftigte fragen",
        ),
    }


def test_plain_text_answer_is_missing_its_translation() -> None:
    k = knowledge(entry("ende", ENDE, ENDE_EN, answer="'Die Frist endet am Monatsende.'"))
    (problem,) = findings(k, "coverage")
    assert problem.path == "entries[id=ende].answer.en"
    assert problem.message.startswith("englische Antwort fehlt")


def test_rendered_answer_over_the_telegram_limit() -> None:
    facts = (
        "facts:\n  - {name: lang, value: {de: '" + "Wort " * 400 + "', en: short}, "
        f"sources: {SOURCE}, as_of: 2022-06-24}}\n"
    )
    answer = "{de: '" + "Satz. " * 450 + "{{ fact:lang }}', en: 'Short {{ fact:lang }}.'}"
    k = knowledge(entry("ende", ENDE, ENDE_EN, answer=answer), extra=facts)
    (problem,) = findings(k, "coverage")
    assert problem.path == "entries[id=ende].answer.de"
    assert "mehr als eine Telegram-Nachricht (4096)" in problem.message


@pytest.mark.parametrize(
    "url",
    [
        "https://www.kommune21.de",
        "https://www.konstanz.de/rathaus/amt.html?a=1&b=%C3%A4#top",
        "http://bürgerinfo.konstanz.de/seite",
        "https://192.168.10.1/intranet.html",
        "https://www.konstanz.de:8443/x",
    ],
)
def test_good_urls(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://www.konstanz,de/seite.html", "keinen gültigen Rechnernamen („www.konstanz,de“)"),
        ("https://www..konstanz.de", "keinen gültigen Rechnernamen"),
        ("https://konstanz/seite.html", "keinen gültigen Rechnernamen („konstanz“)"),
        ("https://-konstanz.de/a", "keinen gültigen Rechnernamen"),
        ("https://www.konstanz.de/„amt“.html", "unzulässige Zeichen '„'"),
        ("https://www.konstanz.de/a|b.html", "unzulässige Zeichen '|'"),
        ("https://www.konstanz.de/a%zz.html", "'%' ohne zwei Hex-Ziffern"),
        ("https://www.konstanz.de:99999/x.html", "ungültigen Aufbau"),
        ("https://www.konstanz.de/amt.html.", "endet mit einem Satzzeichen"),
    ],
)
def test_broken_urls(url: str, reason: str) -> None:
    assert reason in (url_problem(url) or "")


def test_broken_source_urls_of_entries_facts_and_milestones() -> None:
    broken = "[{url: 'https://www.konstanz,de/seite.html', title: Stadt}]"
    extra = (
        f"facts:\n  - {{name: f, value: {{de: eins, en: one}}, sources: {broken}, as_of: 2022-06-24}}\n"
        "milestones:\n  - {id: m, title: {de: M, en: M}, status: done, text: {de: T, en: T}, "
        f"sources: {broken}, as_of: 2022-06-24}}\n"
    )
    answer = "{de: 'Es ist {{ fact:f }}.', en: 'It is {{ fact:f }}.'}"
    k = knowledge(
        entry("ende", ENDE, ENDE_EN, answer=answer, extra="    milestones: [m]\n").replace(SOURCE, broken),
        extra=extra,
    )
    paths = sorted(p.path for p in findings(k, "coverage"))
    assert paths == [
        "entries[id=ende].sources[0].url",
        "facts[name=f].sources[0].url",
        "milestones[id=m].sources[0].url",
    ]
    assert all(
        "„https://www.konstanz,de/seite.html“ hat keinen gültigen Rechnernamen" in p.message
        for p in findings(k, "coverage")
    )


def test_unused_facts_and_milestones() -> None:
    extra = (
        "facts:\n"
        f"  - {{name: im_text, value: {{de: eins, en: one}}, sources: {SOURCE}, as_of: 2022-06-24}}\n"
        f"  - {{name: im_meilenstein, value: {{de: zwei, en: two}}, sources: {SOURCE}, as_of: 2022-06-24}}\n"
        f"  - {{name: ungenutzt, value: {{de: drei, en: three}}, sources: {SOURCE}, as_of: 2022-06-24}}\n"
        "milestones:\n"
        "  - {id: gelistet, title: {de: A, en: A}, status: done, text: {de: '{{ fact:im_meilenstein }}', en: x}, "
        f"sources: {SOURCE}, as_of: 2022-06-24}}\n"
        "  - {id: im-text, title: {de: B, en: B}, status: done, text: {de: T, en: T}, "
        f"sources: {SOURCE}, as_of: 2022-06-24}}\n"
        "  - {id: vergessen, title: {de: C, en: C}, status: done, text: {de: T, en: T}, "
        f"sources: {SOURCE}, as_of: 2022-06-24}}\n"
    )
    answer = "{de: 'Es ist {{ fact:im_text }}.', en: 'Status: {{ milestone:im-text }}.'}"
    k = knowledge(entry("ende", ENDE, ENDE_EN, answer=answer, extra="    milestones: [gelistet]\n"), extra=extra)
    problems = findings(k, "coverage")
    assert [p.path for p in problems] == ["facts[name=ungenutzt]", "milestones[id=vergessen]"]
    fact, milestone = problems
    assert fact.line == k.facts["ungenutzt"].line and milestone.line == k.milestones["vergessen"].line
    assert "{{ fact:ungenutzt }} einsetzen oder löschen" in fact.message
    assert "unter milestones: [vergessen] eintragen" in milestone.message


# -- review ------------------------------------------------------------------------------------------------------


def test_planned_milestone_in_the_past_and_as_of_in_the_future() -> None:
    extra = (
        "milestones:\n"
        "  - {id: alt, title: {de: A, en: A}, status: planned, date: 2023-05-01, text: {de: T, en: T}, "
        f"sources: {SOURCE}, as_of: 2022-06-24}}\n"
        "  - {id: fertig, title: {de: B, en: B}, status: done, date: 2023-05-01, text: {de: T, en: T}, "
        f"sources: {SOURCE}, as_of: 2202-06-24}}\n"
        f"facts:\n  - {{name: f, value: {{de: x, en: x}}, sources: {SOURCE}, as_of: 2024-01-02}}\n"
    )
    ende = entry(
        "ende", ENDE, ENDE_EN, answer="{de: '{{ fact:f }}', en: x}", extra="    milestones: [alt, fertig]\n"
    ).replace("as_of: 2022-06-24", "as_of: 2024-01-02")
    k = knowledge(ende, extra=extra)
    problems = findings(k, "review")
    assert [(p.path, p.severity) for p in problems] == [
        ("entries[id=ende].as_of", "warning"),
        ("milestones[id=alt].status", "warning"),
        ("milestones[id=fertig].as_of", "warning"),
        ("facts[name=f].as_of", "warning"),
    ]
    assert "Stand 2024-01-02 liegt in der Zukunft" in problems[0].message
    assert "Datum 2023-05-01 ist vorbei, Status ist aber noch „geplant“" in problems[1].message
    assert "Stand 2202-06-24 liegt in der Zukunft" in problems[2].message


def test_stale_items_oldest_first_with_owner() -> None:
    facts = (
        "facts:\n"
        f"  - {{name: f, value: {{de: x, en: x}}, sources: {SOURCE}, as_of: 2022-06-24, review_by: 2023-03-01}}\n"
        f"  - {{name: frisch, value: {{de: y, en: y}}, sources: {SOURCE}, as_of: 2022-06-24, review_by: 2024-01-01}}\n"
    )
    k = knowledge(
        entry(
            "ende",
            ENDE,
            ENDE_EN,
            answer="{de: '{{ fact:f }} {{ fact:frisch }}', en: x}",
            extra="    owner: Redaktion\n    review_by: 2023-06-30\n",
        ),
        entry("besetzung", BESETZUNG, BESETZUNG_EN, extra="    review_by: 2024-01-01\n"),  # due today: not stale
        extra=facts,
    )
    items = stale_items(k, TODAY)
    assert items == [
        StaleItem("fact", "f", dt.date(2023, 3, 1), None, "k.yaml", k.facts["f"].line),
        StaleItem("entry", "ende", dt.date(2023, 6, 30), "Redaktion", "k.yaml", k.entries["ende"].line),
    ]
    assert findings(k, "review") == []  # the loader warns about past review_by dates; the lint does not repeat it


def test_loader_findings_are_categorized() -> None:
    text = TOPICS + "entries:\n" + entry("ende", ENDE, None, answer="{de: Text.}", extra="    review_by: 2023-01-01\n")
    result = load_texts([("k.yaml", text), ("leer.yaml", "")], today=TODAY)
    by_path = {p.path: p.category for p in result.problems}  # the loader files them where it finds them
    assert by_path == {
        "entries[0].questions.en": "coverage",
        "entries[0].answer.en": "coverage",
        "entries[0].review_by": "review",
        "": "load",  # "Datei ist leer"
    }


def test_lint_is_sorted_by_file_and_line() -> None:
    k = knowledge(
        entry("ende", ENDE[:4], ENDE_EN, answer="'Nur Deutsch.'"),
        entry("besetzung", [*BESETZUNG, "Wann endet die Ausschreibung der Stellen?"], BESETZUNG_EN[:1]),
    )
    problems = lint(k, Matcher(k), today=TODAY)
    assert {p.category for p in problems} == {"self-test", "confusable", "coverage"}
    assert [p.line for p in problems] == sorted(p.line for p in problems)


# -- faqbot check -----------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_bot_database(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """`faqbot check` reports the version a bot serves if it finds the bot's database: never a stray one here."""
    monkeypatch.setenv("FAQBOT_DATA_DIR", str(tmp_path_factory.mktemp("data")))


def write(tmp_path: Path, *entries: str) -> Path:
    (tmp_path / "k.yaml").write_text(TOPICS + "entries:\n" + "".join(entries), encoding="utf-8")
    return tmp_path


def test_check_shipped_knowledge_exits_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAQBOT_DATA_DIR", str(tmp_path))  # no bot database: no "Im Bot aktiv" line
    assert main(["check", str(KNOWLEDGE_DIR)]) == EXIT_OK
    out = capsys.readouterr().out
    summary, timing = out.splitlines()[-2:]
    assert re.fullmatch(r"Geprüft in \d+\.\d\d s\.", timing)
    assert re.match(r"OK: Version [0-9a-f]{12}, \d+ Einträge, ", summary)
    assert "Selbsttest: 0" in summary and "Laden und Aufbau: 0" in summary
    assert "FEHLER" not in out


def test_check_shows_the_version_the_bot_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAQBOT_DATA_DIR", str(tmp_path))
    assert main(["check", str(KNOWLEDGE_DIR), "--json"]) == EXIT_OK
    files_version = json.loads(capsys.readouterr().out)["version"]
    loaded = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)
    with Store.open(tmp_path / "faqbot.sqlite3") as store:
        store.record_live(LiveKnowledge("0123456789ab", files_version, 14, 2, loaded))
    assert main(["check", str(KNOWLEDGE_DIR)]) == EXIT_OK
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == (
        f"Im Bot aktiv: Version {files_version} (mit 2 gelernten Formulierungen: 0123456789ab), 14 Einträge, "
        "geladen 2026-11-26 09:30 UTC – entspricht diesen Dateien."
    )
    with Store.open(tmp_path / "faqbot.sqlite3") as store:
        store.record_live(LiveKnowledge("0123456789ab", "ffffffffffff", 14, 2, loaded))
    assert main(["check", str(KNOWLEDGE_DIR), "--json"]) == EXIT_OK
    live = json.loads(capsys.readouterr().out)["live"]
    assert (live["files_version"], live["current"]) == ("ffffffffffff", False)


def test_check_self_test_error_human_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    besetzung = entry(
        "besetzung",
        [*BESETZUNG, "Wann endet die Ausschreibung der Stellen?"],
        BESETZUNG_EN,
        extra="    review_by: 2020-01-01\n    owner: Hauptamt\n",
    )
    directory = write(tmp_path, entry("ende", ENDE, ENDE_EN), besetzung)
    entry_line = (TOPICS + "entries:\n" + entry("ende", ENDE, ENDE_EN)).count("\n") + 1
    assert main(["check", str(directory)]) == EXIT_INVALID
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Selbsttest (1 Fehler)"
    where = re.escape(f"  FEHLER   {directory / 'k.yaml'}:")
    assert re.match(where + r"\d+: entries\[id=besetzung\]\.questions\.de\[5\]: Formulierung ", lines[1])
    assert "Verwechslungsgefahr (1 Warnung)" in lines
    assert "Aktualität (1 Warnung)" in lines  # the loader's past review_by
    assert lines[-2].startswith("NICHT OK: Version ")
    assert "2 Einträge" in lines[-2] and "Selbsttest: 1 Fehler" in lines[-2] and "Abdeckung: 0" in lines[-2]

    assert main(["check", "--json", str(directory)]) == EXIT_INVALID
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False and payload["entries"] == 2 and len(payload["version"]) == 12
    categories = [(p["category"], p["severity"]) for p in payload["problems"]]
    assert sorted(categories) == [("confusable", "warning"), ("review", "warning"), ("self-test", "error")]
    problem = next(p for p in payload["problems"] if p["category"] == "self-test")
    assert problem["path"] == "entries[id=besetzung].questions.de[5]" and problem["line"] > 0
    assert problem["file"].endswith("k.yaml")
    (stale,) = payload["stale"]
    assert stale == {
        "kind": "entry",
        "id": "besetzung",
        "review_by": "2020-01-01",
        "owner": "Hauptamt",
        "file": problem["file"],
        "line": entry_line,
    }


def test_check_warnings_fail_only_with_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = write(tmp_path, entry("ende", ENDE[:3], ENDE_EN), entry("besetzung", BESETZUNG, BESETZUNG_EN))
    assert main(["check", str(directory)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Abdeckung (1 Warnung)" in out and "WARNUNG  " in out
    assert out.splitlines()[-2].startswith("OK: ")
    assert main(["check", "--strict", str(directory)]) == EXIT_FAILED
    capsys.readouterr()
    assert main(["check", "--json", str(directory)]) == EXIT_OK
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is True and payload["stale"] == []
    assert [p["category"] for p in payload["problems"]] == ["coverage"]


def test_check_knowledge_that_does_not_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = write(tmp_path, entry("ende", ENDE, ENDE_EN).replace("topic: t", "topic: fehlt"))
    assert main(["check", str(directory)]) == EXIT_INVALID
    out = capsys.readouterr().out
    assert "Laden und Aufbau (1 Fehler)" in out and "Thema 'fehlt' ist nicht definiert" in out
    assert out.splitlines()[-2] == "Nicht geladen: 1 Fehler. Die bisherige Version bleibt aktiv."
    assert main(["check", "--json", str(directory)]) == EXIT_INVALID
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False and payload["version"] is None and payload["stale"] == []
    assert [p["category"] for p in payload["problems"]] == ["load"]
