"""Learned phrasings: merging into the knowledge, the rules for attaching one, the YAML export and the CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK, main
from bot.knowledge.learned import LearnedPhrasing, check_learnable, export_yaml, merge_learned
from bot.knowledge.loader import MAX_PHRASING_CHARS
from bot.knowledge.model import Knowledge, Lang
from bot.matching.matcher import Matcher
from bot.service import FaqService
from bot.storage import Store
from tests.conftest import KNOWLEDGE_DIR

NOW = dt.datetime(2026, 11, 26, 13, 40, tzinfo=dt.UTC)
START = "gruendung-termin"  # "Wann wird das Amt für Digitalisierung gegründet?"
LEAD = "amtsleitung"  # "Wer leitet das neue Amt für Digitalisierung?"
NEW = "Wann kommt die Digitalbude?"  # a fallback for the knowledge as the editors wrote it


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return FaqService.from_directory(KNOWLEDGE_DIR).knowledge


def lp(id: int, entry_id: str, text: str, lang: Lang = "de") -> LearnedPhrasing:
    return LearnedPhrasing(id, entry_id, lang, text, NOW)


# ----------------------------------------------------------------------------------- merge


def test_merge_adds_phrasings_that_take_effect(knowledge: Knowledge) -> None:
    assert Matcher(knowledge).match(NEW, "de").status == "fallback"
    merged, problems = merge_learned(
        knowledge, [lp(1, START, f"  {NEW} "), lp(2, START, "When is the kick-off?", "en")]
    )
    assert problems == []
    entry, before = merged.entries[START], knowledge.entries[START]
    assert entry.questions["de"] == (*before.questions["de"], NEW)
    assert entry.questions["en"] == (*before.questions["en"], "When is the kick-off?")
    assert entry.question_lines["de"] == (*before.question_lines["de"], 0)
    assert {lang: len(lines) for lang, lines in entry.question_lines.items()} == {
        lang: len(texts) for lang, texts in entry.questions.items()
    }
    assert (entry.answer, entry.file, entry.line) == (before.answer, before.file, before.line)
    assert merged.entries[LEAD] is knowledge.entries[LEAD]
    assert NEW not in knowledge.entries[START].questions["de"]  # the input is not changed
    match = Matcher(merged).match(NEW, "de")
    assert (match.status, match.entry_id) == ("answer", START)


def test_merge_version_changes_with_the_learned_phrasings(knowledge: Knowledge) -> None:
    one, _ = merge_learned(knowledge, [lp(1, START, NEW)])
    again, _ = merge_learned(knowledge, [lp(1, START, NEW)])
    other, _ = merge_learned(knowledge, [lp(1, START, "Wann startet die Digitalbude?")])
    assert len(one.version) == 12
    assert one.version == again.version
    assert len({knowledge.version, one.version, other.version}) == 3
    assert merge_learned(knowledge, []) == (knowledge, [])
    unusable, problems = merge_learned(knowledge, [lp(9, "gibt-es-nicht", NEW)])
    assert unusable is knowledge
    assert len(problems) == 1


def test_merge_skips_unusable_phrasings_with_warnings(knowledge: Knowledge) -> None:
    learned = [
        lp(1, "gibt-es-nicht", NEW),
        lp(2, START, "x" * (MAX_PHRASING_CHARS + 1)),
        lp(3, START, "  ?! "),
        lp(4, START, "wer LEITET das neue Amt für Digitalisierung"),  # the same phrasing as in LEAD
        lp(5, START, "Ab wann gibt es das Digitalamt"),  # editors merged it into the entry already
        lp(6, START, NEW),
        lp(7, LEAD, NEW.upper()),  # learned later for another entry: the older one wins
    ]
    merged, problems = merge_learned(knowledge, learned)
    assert merged.entries[START].questions["de"][-1] == NEW
    assert len(merged.entries[START].questions["de"]) == len(knowledge.entries[START].questions["de"]) + 1
    assert merged.entries[LEAD].questions == knowledge.entries[LEAD].questions
    assert [(p.file, p.line, p.path, p.severity) for p in problems] == [
        ("gelernt", 0, f"learned[#{n}]", "warning") for n in (1, 2, 3, 4, 5, 7)
    ]
    messages = [p.message for p in problems]
    assert "Eintrag 'gibt-es-nicht' gibt es nicht (mehr)" in messages[0]
    assert "zu lang" in messages[1]
    assert "leer" in messages[2]
    assert f"steht schon bei Eintrag '{LEAD}'" in messages[3]
    assert "wird nicht verwendet" in messages[3]
    assert f"steht schon bei Eintrag '{START}'" in messages[4]
    assert "faqbot learned remove 5" in messages[4]
    assert f"steht schon bei Eintrag '{START}'" in messages[5]
    assert "learned remove" not in messages[5]
    assert str(problems[0]).startswith("gelernt: learned[#1]: ")


# -------------------------------------------------------------------------- check_learnable


def test_check_learnable(knowledge: Knowledge) -> None:
    assert check_learnable(knowledge, START, "de", NEW) is None
    assert check_learnable(knowledge, START, "en", "When does the office open its doors?") is None
    assert check_learnable(knowledge, "weg", "de", NEW) == "Eintrag 'weg' gibt es nicht (mehr) in der Wissensbasis"
    assert "Sprache 'fr'" in (check_learnable(knowledge, START, "fr", NEW) or "")
    assert "leer" in (check_learnable(knowledge, START, "de", " … ") or "")
    assert "zu lang (301 Zeichen, höchstens 300)" in (check_learnable(knowledge, START, "de", "x" * 301) or "")
    assert check_learnable(knowledge, START, "de", "x" * 300) is None
    assert check_learnable(knowledge, START, "de", "Wer leitet das neue Amt für Digitalisierung?!") == (
        f"Formulierung steht schon bei Eintrag '{LEAD}'"
    )
    assert check_learnable(knowledge, START, "de", "ab wann gibt es das DIGITALAMT") == (
        f"Formulierung steht schon bei Eintrag '{START}'"
    )
    merged, _ = merge_learned(knowledge, [lp(1, START, NEW)])
    assert check_learnable(merged, LEAD, "de", NEW) == f"Formulierung steht schon bei Eintrag '{START}'"


# ----------------------------------------------------------------------------------- export


TRICKY = 'Er sagte: "Wann?" # kein Kommentar\nzweite Zeile \\ 👍 – ja'


def test_export_round_trips_and_names_file_and_line(knowledge: Knowledge) -> None:
    learned = [
        lp(3, LEAD, "Wer wird Digitalchef?"),
        lp(4, "weg", "Gibt's das noch?"),
        lp(5, START, NEW),
        lp(6, START, "When is the kick-off?", "en"),
        lp(7, START, TRICKY),
        lp(8, START, "yes"),
    ]
    text = export_yaml(learned, knowledge, now=NOW)
    assert text.startswith("# Gelernte Formulierungen – 6 Stück, exportiert am 26.11.2026 um 13:40 UTC.\n")
    assert "faqbot learned remove" in text
    data = yaml.safe_load(text)
    start, lead = knowledge.entries[START], knowledge.entries[LEAD]
    first, second = sorted([(start.line, START), (lead.line, LEAD)])  # the order of the file
    expected = {
        START: {"entry": START, "de": [NEW, TRICKY, "yes"], "en": ["When is the kick-off?"]},
        LEAD: {"entry": LEAD, "de": ["Wer wird Digitalchef?"]},
    }
    assert data == {"learned": [expected[first[1]], expected[second[1]], {"entry": "weg", "de": ["Gibt's das noch?"]}]}
    lines = text.splitlines()
    assert f'  - entry: "{START}"  # {start.file}:{start.line}' in lines
    assert '  - entry: "weg"  # Eintrag gibt es nicht (mehr) in der Wissensbasis' in lines
    assert f'      - "{NEW}"  # Nr. 5' in lines


def test_export_marks_phrasings_already_in_the_entry(knowledge: Knowledge) -> None:
    phrasing = knowledge.entries[START].questions["de"][0]
    text = export_yaml([lp(1, START, phrasing)], knowledge, now=NOW)
    assert "# Nr. 1 – steht schon im Eintrag" in text
    assert yaml.safe_load(text)["learned"] == [{"entry": START, "de": [phrasing]}]


def test_export_of_nothing(knowledge: Knowledge) -> None:
    text = export_yaml([], knowledge, now=NOW)
    assert "0 Stück" in text
    assert yaml.safe_load(text) == {"learned": []}


# -------------------------------------------------------------------------------------- CLI


def cli(*argv: str) -> int:
    return main(list(argv))


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("FAQBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FAQBOT_KNOWLEDGE_DIR", str(KNOWLEDGE_DIR))
    return tmp_path / "data"


def test_cli_without_database_creates_none(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("learned", "list") == EXIT_OK
    assert "Noch keine gelernten Formulierungen" in capsys.readouterr().out
    assert cli("learned", "export") == EXIT_OK
    assert yaml.safe_load(capsys.readouterr().out) == {"learned": []}
    assert cli("learned", "remove", "1") == EXIT_FAILED
    assert "Keine Datenbank" in capsys.readouterr().err
    assert not data_dir.exists()


def test_cli_list_export_remove(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Store.open(data_dir / "faqbot.sqlite3") as store:
        first = store.add_learned(START, "de", NEW, now=NOW)
        second = store.add_learned(LEAD, "en", "Who is the new boss?", now=NOW)

    assert cli("learned", "list") == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Nr.")
    assert out[1].split(None, 4) == [str(first.id), START, "de", "26.11.2026", NEW]
    assert out[2].split(None, 4) == [str(second.id), LEAD, "en", "26.11.2026", "Who is the new boss?"]

    assert cli("learned", "export") == EXIT_OK
    exported = yaml.safe_load(capsys.readouterr().out)["learned"]
    assert sorted((e["entry"], e.get("de"), e.get("en")) for e in exported) == [
        (LEAD, None, ["Who is the new boss?"]),
        (START, [NEW], None),
    ]
    target = tmp_path / "gelernt.yaml"
    assert cli("learned", "export", "--out", str(target), "--knowledge", str(KNOWLEDGE_DIR)) == EXIT_OK
    assert yaml.safe_load(target.read_text(encoding="utf-8"))["learned"] == exported
    assert f"2 gelernte Formulierung(en) nach {target}" in capsys.readouterr().err

    assert cli("learned", "remove", str(first.id), "99") == EXIT_FAILED
    captured = capsys.readouterr()
    assert f"Nr. {first.id} gelöscht." in captured.out
    assert "Nicht gefunden: Nr. 99" in captured.err
    with Store.open(data_dir / "faqbot.sqlite3") as store:
        assert store.learned() == [second]
    assert cli("learned", "remove", str(second.id)) == EXIT_OK


def test_cli_export_refuses_invalid_knowledge(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "kaputt"
    broken.mkdir()
    (broken / "faq.yaml").write_text("entries: [\n", encoding="utf-8")
    assert cli("learned", "export", "--knowledge", str(broken)) == EXIT_INVALID
    assert "Die Wissensbasis ist fehlerhaft" in capsys.readouterr().err


def test_cli_needs_a_subcommand(data_dir: Path) -> None:
    with pytest.raises(SystemExit):
        cli("learned")
