"""Loading and validation of knowledge files: precise, editor-readable errors; never half-loaded."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

import pytest

from bot.knowledge.loader import load_knowledge, load_texts
from tests.conftest import KNOWLEDGE_DIR

TOPIC = """
topics:
  - id: amt
    title: {de: Das Amt, en: The office}
"""

FACT = """
facts:
  - name: dezernat
    value: {de: Dezernat I, en: Department I}
    sources: [{url: "https://example.org", title: Beispiel}]
    as_of: 2022-06-24
"""


def entry(**overrides: str) -> str:
    fields = {
        "id": "amt-was",
        "topic": "amt",
        "questions": "{de: ['Was macht das Amt?'], en: ['What does the office do?']}",
        "answer": "{de: 'Es sitzt im {{ fact:dezernat }}.', en: 'It sits in {{ fact:dezernat }}.'}",
        "sources": '[{url: "https://example.org", title: Beispiel}]',
        "as_of": "2022-06-24",
    }
    fields.update(overrides)
    body = "\n".join(f"    {k}: {v}" for k, v in fields.items() if v is not None)
    return "entries:\n  - " + body.lstrip()


def load(*texts: str, today: dt.date = dt.date(2024, 1, 1)):  # type: ignore[no-untyped-def]
    return load_texts([(f"k{i}.yaml", t) for i, t in enumerate(texts)], today=today)


def messages(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(p) for p in result.errors]


def test_valid_minimal_set_loads() -> None:
    result = load(TOPIC, FACT, entry())
    assert result.errors == []
    assert result.knowledge is not None
    assert result.knowledge.entries["amt-was"].questions["de"] == ("Was macht das Amt?",)
    assert len(result.knowledge.version) == 12


def test_real_knowledge_loads_without_errors() -> None:
    result = load_knowledge(KNOWLEDGE_DIR)
    assert messages(result) == []
    assert result.knowledge is not None
    assert len(result.knowledge.entries) >= 14
    for e in result.knowledge.entries.values():
        assert e.questions.get("en"), f"{e.id} has no English phrasings"
        assert e.answer.en, f"{e.id} has no English answer"
        assert e.sources and e.as_of


def test_syntax_error_names_file_and_line() -> None:
    result = load(TOPIC, "entries:\n  - id: x\n    questions: [a, b\n")
    assert result.knowledge is None
    (msg,) = messages(result)
    assert msg.startswith("k1.yaml:")
    assert "YAML-Syntaxfehler" in msg


def test_duplicate_key_is_refused_with_both_lines() -> None:
    text = entry() + "\n    topic: amt\n"
    result = load(TOPIC, FACT, text)
    assert result.knowledge is None
    (msg,) = messages(result)
    assert msg.startswith("k2.yaml:8: entries[0].topic:")
    assert "doppelt" in msg and "Zeile 3" in msg


def test_unknown_key_suggests_the_right_one() -> None:
    result = load(TOPIC, FACT, entry(as_off="2022-06-24"))
    assert result.knowledge is None
    msg = next(m for m in messages(result) if "as_off" in m)
    assert "k2.yaml:" in msg and "entries[0].as_off" in msg and "meinten Sie 'as_of'" in msg


def test_wrong_type_explains_yaml_booleans() -> None:
    result = load(TOPIC, FACT, entry(answer="{de: no, en: 'x'}"))
    (msg,) = messages(result)
    assert "entries[0].answer.de" in msg and "Wahrheitswert" in msg and "Anführungszeichen" in msg


def test_requires_is_a_list_of_words() -> None:
    ok = load(TOPIC, FACT, entry(requires="[Amt, Dezernat I]"))
    assert ok.knowledge is not None
    assert ok.knowledge.entries["amt-was"].requires == ("Amt", "Dezernat I")
    result = load(TOPIC, FACT, entry(requires="Amt"))
    (msg,) = messages(result)
    assert "entries[0].requires" in msg and "Liste" in msg
    result = load(TOPIC, FACT, entry(requires="[Amt, 3]"))
    assert result.knowledge is not None  # "3" is read as text, an editor may well require a number
    result = load(TOPIC, FACT, entry(requires="[Amt, '']"))
    (msg,) = messages(result)
    assert "entries[0].requires[1]" in msg and "leer" in msg


def test_anchors_and_alias_bombs_are_refused() -> None:
    bomb = textwrap.dedent(
        """
        a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
        """
    )
    result = load(TOPIC, FACT, entry(), bomb)
    assert result.knowledge is None
    (msg,) = messages(result)
    assert msg.startswith("k3.yaml:2:") and "Anker" in msg


def test_huge_file_is_not_parsed() -> None:
    result = load(TOPIC, FACT, entry(), "x: '" + "a" * 2_000_000 + "'\n")
    assert result.knowledge is None
    assert "größer" in messages(result)[0]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"related": "[gibt-es-nicht]"}, "entries[0].related: Eintrag 'gibt-es-nicht' gibt es nicht"),
        ({"topic": "fehlt"}, "entries[0].topic: Thema 'fehlt' ist nicht definiert"),
        ({"milestones": "[m1]"}, "entries[0].milestones: Meilenstein 'm1' gibt es nicht"),
        ({"answer": "{de: 'Siehe {{ fact:nix }}', en: x}"}, "entries[0].answer.de: Fakt 'nix' gibt es nicht"),
        ({"answer": "{de: 'Siehe {{ fakt:nix }}', en: x}"}, "Platzhalter '{{ fakt:nix }}' nicht verstanden"),
        ({"id": "Großes Id"}, "ist keine gültige Kennung"),
        ({"as_of": "24.06.2022"}, "entries[0].as_of: erwartet ein Datum wie 2022-06-24"),
        ({"sources": "[{url: 'kommune21', title: K}]"}, "keine gültige https-Adresse"),
        ({"questions": "{en: [x]}"}, "entries[0].questions.de: Pflichtfeld fehlt"),
    ],
)
def test_reference_and_field_errors(overrides: dict[str, str], expected: str) -> None:
    result = load(TOPIC, FACT, entry(**overrides))
    assert result.knowledge is None, "a set with errors must never be returned"
    assert any(expected in m for m in messages(result)), messages(result)
    assert all(m.startswith("k2.yaml:") for m in messages(result))


def test_duplicate_ids_and_phrasings_across_files() -> None:
    second = entry(questions="{de: ['Was macht das Amt?']}")
    result = load(TOPIC, FACT, entry(), second)
    msgs = messages(result)
    assert any("'amt-was' ist doppelt vergeben" in m for m in msgs)


def test_same_phrasing_in_two_entries() -> None:
    other = entry(id="amt-zwei").replace("entries:\n", "")
    result = load(TOPIC, FACT, entry() + "\n" + other)
    assert any("steht auch bei Eintrag 'amt-was'" in m for m in messages(result))


def test_missing_translation_and_past_review_are_warnings() -> None:
    result = load(
        TOPIC,
        FACT,
        entry(questions="{de: ['Was macht das Amt?']}", answer="{de: 'Text.'}", review_by="2023-01-01"),
    )
    assert result.knowledge is not None
    warnings = [str(p) for p in result.warnings]
    assert any("questions.en: keine englischen Formulierungen" in w for w in warnings)
    assert any("answer.en: englische Übersetzung fehlt" in w for w in warnings)
    assert any("review_by: Prüftermin 2023-01-01 ist überschritten" in w for w in warnings)


def test_broken_file_in_directory_refuses_the_whole_set(tmp_path: Path) -> None:
    shutil.copytree(KNOWLEDGE_DIR, tmp_path / "k")
    faq = tmp_path / "k" / "faq.yaml"
    faq.write_text(faq.read_text(encoding="utf-8").replace("topic: amt", "topik: amt", 1), encoding="utf-8")
    result = load_knowledge(tmp_path / "k")
    assert result.knowledge is None
    assert any("faq.yaml:" in m and "topik" in m for m in messages(result))


def test_not_utf8_and_missing_directory(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_bytes(b"entries: \xff\xfe")
    assert "UTF-8" in messages(load_knowledge(tmp_path))[0]
    assert "nicht gefunden" in messages(load_knowledge(tmp_path / "nope"))[0]


# -- found by the reload mutations (tests/test_reload_mutations.py) --------------------------------------------


def test_control_character_is_refused_with_its_line_not_a_crash() -> None:
    text = entry(answer="{de: 'Es sitzt im \x1b Dezernat.', en: x}")
    result = load(TOPIC, FACT, text)
    assert result.knowledge is None
    (msg,) = messages(result)
    assert msg.startswith("k2.yaml:5:") and "Steuerzeichen U+001B" in msg


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_bytes("topics:\n  - id: amt\n    title: Das Amt für".encode("cp1252"))
    (msg,) = messages(load_knowledge(tmp_path))
    assert msg.startswith(f"{tmp_path / 'bad.yaml'}:3:") and "UTF-8" in msg


def test_big_file_is_refused_without_reading_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(KNOWLEDGE_DIR, tmp_path / "k")
    with (tmp_path / "k" / "big.yaml").open("wb") as f:
        f.truncate(10 * 1024 * 1024)  # sparse: 10 MB of NUL bytes
    opened: list[str] = []
    real_open = Path.open

    def spy(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    result = load_knowledge(tmp_path / "k")
    assert result.knowledge is None
    (msg,) = messages(result)
    assert msg.endswith("big.yaml: Datei ist zu groß (10.485.760 Bytes, höchstens 1.000.000) und wird nicht gelesen")
    assert "big.yaml" not in opened and "faq.yaml" in opened


def test_unclosed_quote_points_at_the_opening_quote() -> None:
    text = entry(questions='\n      de:\n        - \'Was macht das Amt?"\n        - "Wofür ist es da?"\n      en: [x]')
    result = load(TOPIC, FACT, text)
    (msg,) = messages(result)
    assert msg.startswith("k2.yaml:6:") and "Anführungszeichen in Zeile 6" in msg


def test_unclosed_bracket_points_at_the_opening_bracket() -> None:
    """The parser notices at the next list item, which may come after comment lines; the fix is where '[' opened."""
    synonyms = "synonyms:\n  - [a, b\n  # --- Warum\n  # zwei Kommentarzeilen\n  - [c, d]\n"
    (msg,) = messages(load(TOPIC, FACT, entry(), synonyms))
    assert msg.startswith("k3.yaml:2:") and "bemerkt in Zeile 5" in msg and "Klammer in Zeile 2" in msg


def test_tab_indentation_is_explained() -> None:
    (msg,) = messages(load(TOPIC, FACT, entry().replace("    topic:", "\ttopic:")))
    assert msg.startswith("k2.yaml:3:") and "Tabulator" in msg


def test_duplicate_phrasing_points_at_the_phrasing() -> None:
    other = entry(id="amt-zwei", questions="\n      de:\n        - Wer ist das?\n        - Was macht das Amt?")
    result = load(TOPIC, FACT, entry() + "\n" + other.replace("entries:\n", ""))
    (msg,) = [m for m in messages(result) if "steht auch bei" in m]
    assert msg.startswith("k2.yaml:13: entries[1].questions.de[1]: Formulierung 'Was macht das Amt?'")


def test_duplicate_topic_and_synonym_name_their_item() -> None:
    result = load(TOPIC + "  - id: amt\n    title: Noch mal\n", FACT, entry(), "synonyms:\n  - [a, b]\n  - [c, a]\n")
    msgs = messages(result)
    assert any(m.startswith("k0.yaml:5: topics[1].id: Thema 'amt'") for m in msgs), msgs
    assert any(m.startswith("k3.yaml:3: synonyms[1]: Begriff 'a'") for m in msgs), msgs


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ("{{ fact:dezernat }", "Klammer '{' ohne Gegenstück"),
        ("{{ fact:dezernat }}}", "Klammer '}' ohne Gegenstück"),
        ("{ fact:dezernat }}", "Klammer '{' ohne Gegenstück in 'Dritte Zeile mit { fact:dezernat }}"),
        ("{{ fact: }}", "Platzhalter '{{ fact: }}' ohne Namen"),
        ("{{ fact:nix }}", "Fakt 'nix' gibt es nicht"),
    ],
)
def test_broken_placeholder_in_a_long_answer_points_at_its_line(broken: str, expected: str) -> None:
    answer = f"\n      de: |\n        Erste Zeile.\n\n        Dritte Zeile mit {broken} darin.\n      en: x"
    (msg,) = messages(load(TOPIC, FACT, entry(answer=answer)))
    assert msg.startswith("k2.yaml:9: entries[0].answer.de:") and expected in msg, msg


def test_pure_python_parser_gives_the_same_precise_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libyaml the loader falls back to PyYAML's own parser; the messages must stay as precise."""
    import yaml

    from bot.knowledge import yamlnodes

    monkeypatch.setattr(yamlnodes, "_Loader", yaml.SafeLoader)
    control = messages(load(TOPIC, FACT, entry(answer="{de: 'Es sitzt im \x1b Dezernat.', en: x}")))
    assert control[0].startswith("k2.yaml:5:") and "U+001B" in control[0]
    tab = messages(load(TOPIC, FACT, entry().replace("    topic:", "\ttopic:")))
    assert tab[0].startswith("k2.yaml:3:") and "Tabulator" in tab[0]
    alias = messages(load(TOPIC, FACT, entry(topic="*t")))
    assert alias[0].startswith("k2.yaml:3:") and "Aliase" in alias[0]
    quote = entry(questions='\n      de:\n        - \'Was macht das Amt?"\n        - "Wofür ist es da?"\n      en: [x]')
    assert messages(load(TOPIC, FACT, quote))[0].startswith("k2.yaml:6:")


def test_an_emptied_entries_section_is_named_with_file_and_line() -> None:
    result = load_texts([("faq.yaml", "# Fragen\nentries: []\n"), ("topics.yaml", "topics: [{id: t, title: T}]\n")])
    assert result.knowledge is None
    assert [str(p) for p in result.errors] == ["faq.yaml:2: entries: keine Einträge gefunden: der Abschnitt ist leer"]


def test_no_entries_section_at_all_names_the_files_read() -> None:
    result = load_texts([("knowledge/topics.yaml", "topics: [{id: t, title: T}]\n")])
    assert result.knowledge is None
    (problem,) = result.errors
    assert (
        str(problem)
        == "entries: keine Einträge gefunden: keine Datei hat einen Abschnitt 'entries' (gelesen: topics.yaml)"
    )
