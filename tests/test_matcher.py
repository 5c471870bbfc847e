"""Matching behaviour on the real knowledge: answer, clarify, fallback, smalltalk, language."""

from __future__ import annotations

import dataclasses

import pytest

from bot.knowledge.loader import load_texts
from bot.matching.matcher import DEFAULT_THRESHOLDS, Matcher
from bot.matching.normalize import analyse
from bot.service import FaqService


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("Wann wechselt die Schul-IT ins Dezernat I?", "schul-it-wechsel"),
        ("wann wechselt die schulit", "schul-it-wechsel"),
        ("Wer leitet das Digitalamt?", "amtsleitung"),
        ("Was ist die KGSt?", "kgst-was"),
        ("Was ist die Kommunale Gemeinschaftsstelle?", "kgst-was"),
        ("Wann wurde das Amt vom Gemeinderat beschlossen?", "gemeinderat-beschluss"),
        ("Who will head the new digital office?", "amtsleitung"),
    ],
)
def test_clear_questions_are_answered(service: FaqService, question: str, entry_id: str) -> None:
    match = service.ask(question).match
    assert (match.status, match.entry_id) == ("answer", entry_id)
    assert 0 <= match.score <= 100


@pytest.mark.parametrize(
    "question",
    [
        "Wie wird das Wetter morgen?",
        "Wo ist die Kantine?",
        "asdf qwertz",
        "Wie beantrage ich Elternzeit?",
    ],
)
def test_unrelated_questions_fall_back(service: FaqService, question: str) -> None:
    assert service.ask(question).match.status == "fallback"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Hallo!", "greeting"),
        ("danke", "thanks"),
        ("tschüss", "goodbye"),
        ("Was kannst du?", "about"),
        # two smalltalk phrasings and nothing else but stop words
        ("Wer bist du denn eigentlich und was kannst du so alles?", "about"),
    ],
)
def test_smalltalk(service: FaqService, question: str, expected: str) -> None:
    match = service.ask(question).match
    assert (match.status, match.entry_id) == ("smalltalk", expected)


@pytest.mark.parametrize(
    ("question", "expected"),
    [("tschüsss", "goodbye"), ("dankeee", "thanks"), ("hallooo", "greeting"), ("Bisch du en Bot?", "about")],
)
def test_misspelt_smalltalk_is_smalltalk(service: FaqService, question: str, expected: str) -> None:
    match = service.ask(question).match
    assert (match.status, match.entry_id) == ("smalltalk", expected)


@pytest.mark.parametrize(
    "question",
    [
        "schneit es morgen",
        "isch morgen feiertag?",
        "Wie funktioniert die Zeiterfassung?",
        "Wie spät ist es?",
        "Wie wird das Wetter?",
    ],
)
def test_a_question_near_a_smalltalk_phrasing_is_no_smalltalk(service: FaqService, question: str) -> None:
    """ "schneit es morgen" is close to "bis morgen" as a string; "die" to "adieu"; "spät" to "später"; "Wetter"
    to "weiter"."""
    assert service.ask(question).match.status == "fallback"


def test_greeting_before_a_question_does_not_hide_it(service: FaqService) -> None:
    match = service.ask("Hallo, wann wechselt die Schul-IT?").match
    assert (match.status, match.entry_id) == ("answer", "schul-it-wechsel")


def test_typos_are_tolerated(service: FaqService) -> None:
    match = service.ask("wan wechslt die schul-it ins dezernnat").match
    assert match.entry_id == "schul-it-wechsel"


def test_a_misspelt_noun_that_is_a_synonym_is_corrected_by_one_edit(service: FaqService) -> None:
    """ "Gemeinderat" is a synonym (GR); its misspelling is still a noun the knowledge knows. A capitalised word
    is corrected by one edit only: "Digitalpakt" (two edits from "Digitalamt") names something else."""
    matcher = service.snapshot.matcher

    def corrections(question: str) -> dict[str, str]:
        return matcher._corrections(analyse(question, "de", matcher.synonyms), skip_smalltalk=True)

    assert corrections("Wann hat der Gemienderat entschieden?") == {"gemienderat": "gemeinderat"}
    assert service.ask("Wann hat der Gemienderat entschieden?").match.entry_id == "gemeinderat-beschluss"
    assert corrections("Was bringt der Digitalpakt?") == {}


def test_a_compound_of_known_words_and_synonyms_is_split(service: FaqService) -> None:
    """A compound is read as its parts when they are known terms or one-word synonyms ("zuordnung"), also when
    its stem ends unlike the stem of its last part ("Digitalisierungseinheit" → "digitalisierungsein")."""
    matcher = service.snapshot.matcher
    assert matcher._split_compound("dezernatszuordn", word="dezernatszuordnung") == ("dezernat", "~zuordnung")
    assert matcher._split_compound("digitalisierungsein", word="digitalisierungseinheit") is not None
    # a three-letter synonym is no part: "Personal|rat" is not the council
    assert matcher._split_compound("personalrat", word="personalrat") is None
    assert service.ask("Amt für Digitalisierung Dezernatszuordnung").match.entry_id == "amt-dezernat"
    assert service.ask("Welche Aufgaben hat die neue Digitalisierungseinheit?").match.entry_id == "amt-aufgaben"


def test_a_typo_as_close_to_an_english_word_is_read_in_the_questions_language(service: FaqService) -> None:
    """The typo "lesn" is one edit from "lesen" and from "less" (an English synonym of "weniger")."""
    matcher = service.snapshot.matcher
    fixed = matcher._typo_word("lesn", lang="de")
    assert fixed is not None and matcher._word_terms[fixed] == matcher._word_terms["lesen"]  # not "less"
    assert matcher._typo_word("lesn") is None
    assert service.ask("wo kan ich meer dazu lesn").match.entry_id == "mehr-infos"


def test_a_common_word_alone_does_not_answer(service: FaqService) -> None:
    for question in ("IT", "Amt", "wann", "Schule"):
        assert service.ask(question).match.status != "answer", question


def test_answer_language_follows_question_and_override(service: FaqService) -> None:
    assert service.ask("When does Schul-IT move to Department I?").reply.lang == "en"
    assert service.ask("Wann wechselt die Schul-IT?").reply.lang == "de"
    assert service.ask("Wann wechselt die Schul-IT?", "en").reply.lang == "en"


def test_clarify_offers_at_most_three_distinct_options() -> None:
    base = """
topics: [{id: t, title: T}]
entries:
  - {id: a, topic: t, questions: {de: ['Wann beginnt die Ausschreibung der Stelle?']}, answer: {de: A},
     sources: [{url: 'https://example.org', title: x}], as_of: 2022-06-24}
  - {id: b, topic: t, questions: {de: ['Wann endet die Ausschreibung der Stelle?']}, answer: {de: B},
     sources: [{url: 'https://example.org', title: x}], as_of: 2022-06-24}
"""
    knowledge = load_texts([("k.yaml", base)]).knowledge
    assert knowledge is not None
    match = Matcher(knowledge).match("Ausschreibung der Stelle")
    assert match.status == "clarify"
    assert {c.entry_id for c in match.candidates} == {"a", "b"}
    assert len(match.candidates) <= 3


def test_an_entry_with_requires_answers_only_questions_that_name_one_of_its_words() -> None:
    text = """
topics: [{id: t, title: T}]
synonyms: [[zusammenlegung, zusammengelegt, pooling]]
entries:
  - {id: geraete, topic: t, requires: [Zusammenlegung],
     questions: {de: ['Bekommen die Schulen nach der Zusammenlegung weniger Geräte?']}, answer: {de: A},
     sources: [{url: 'https://example.org', title: x}], as_of: 2022-06-24}
"""
    knowledge = load_texts([("k.yaml", text)]).knowledge
    assert knowledge is not None
    matcher = Matcher(knowledge)
    assert (
        matcher.match("Werden die Geräte der Schulen weniger, wenn die IT zusammengelegt wird?").entry_id == "geraete"
    )
    assert matcher.match("Bekommen die Schulen weniger Geräte?").status == "fallback"
    assert matcher.meets_requirements("geraete", "Schulgeräte nach dem Pooling?")
    assert matcher.meets_requirements("anything-else", "Bekommen die Schulen weniger Geräte?")


def test_school_equipment_is_answered_for_the_reorganisation_not_for_new_devices(service: FaqService) -> None:
    """schulausstattung requires a word about the reorganisation's effect: the source says nothing of new tablets."""
    assert service.ask("Bekommen die Schulen neue Tablets?").match.status == "fallback"
    assert service.ask("Welche Laptops bekommen die Lehrkräfte?").match.status == "fallback"
    assert service.ask("Bekommen die Schulen durch die Zusammenlegung weniger Geräte?").match.entry_id == (
        "schulausstattung"
    )
    assert service.ask("Bekommen die Schulen weiterhin Tablets?").match.entry_id == "schulausstattung"
    # offered back, the entry is still among the options: the user chooses, nothing is asserted
    match = service.ask("Schule").match
    assert match.status == "clarify"
    assert {c.entry_id for c in match.candidates} == {"schulausstattung", "schul-it-wechsel"}


def test_every_phrasing_finds_its_own_entry(service: FaqService) -> None:
    """Self-test of the shipped knowledge: no phrasing is answered with another entry."""
    wrong = []
    for entry in service.knowledge.entries.values():
        for lang, phrasings in entry.questions.items():
            for text in phrasings:
                match = service.ask(text, lang).match
                if match.status == "answer" and match.entry_id != entry.id:
                    wrong.append((entry.id, text, match.entry_id))
    assert wrong == []


def test_misspelt_function_words_do_not_count_as_unknown(service: FaqService) -> None:
    matcher = service.snapshot.matcher
    assert matcher.match("Wo finde ich meer Informationen zum neuen Amt?").entry_id == "mehr-infos"
    assert [q.term for q in matcher._query_terms("meer", "de")] == []


def test_a_typo_inside_a_multi_word_synonym_still_finds_its_concept(service: FaqService) -> None:
    matcher = service.snapshot.matcher
    assert "~amt-für-digitalisierung" in {q.term for q in matcher._query_terms("Amt für Digitalisirung", "de")}
    assert service.ask("Was macht das Amt für Digitalisirung?").match.entry_id == "amt-aufgaben"


def test_a_misspelt_capitalised_word_of_a_multi_word_synonym_is_a_known_noun(service: FaqService) -> None:
    """ "Kommunale Gemeinschaftsstelle" is written capitalised inside the knowledge's sentences, so its words are
    nouns the typo pass may correct by one edit, as any other noun."""
    matcher = service.snapshot.matcher
    assert {"kommunale", "gemeinschaftsstelle"} <= matcher._noun_words
    match = service.ask("Wofür steht die Komunale Gemeinschaftstelle?").match
    assert (match.status, match.entry_id) == ("answer", "kgst-was")


def test_statements_before_the_question_do_not_count_against_it(service: FaqService) -> None:
    """The unknown nouns of a preamble ("Abteilungsleiterin", "Teambesprechung") are not what is asked."""
    question = (
        "Unsere Abteilungsleiterin hat in der Teambesprechung davon erzählt. Was für eine Organisation ist die KGSt?"
    )
    assert service.ask(question).match.entry_id == "kgst-was"


def test_a_preamble_makes_a_message_long_without_counting_against_it(service: FaqService) -> None:
    """Its unknown words weigh nothing, yet the message is a long one (see ``Thresholds.long_question_terms``)."""
    matcher = service.snapshot.matcher
    question = (
        "Meine Kollegin will sich einlesen. Wo gibt es einen Artikel oder eine Webseite der Stadt mit den Angaben?"
    )
    asides = [q for q in matcher._query_terms(question, "de") if q.aside]
    assert [q.source for q in asides] == ["einles"]
    assert all(q.weight == 0.0 for q in asides)
    match = matcher.match(question)
    assert (match.status, [c.entry_id for c in match.candidates]) == ("clarify", ["mehr-infos"])


def test_a_synonym_no_entry_uses_is_not_corrected_as_a_typo(service: FaqService) -> None:
    """ "verdient" (asking for a figure) is two edits from the knowledge word "vereint"; it is spelt as meant."""
    matcher = service.snapshot.matcher
    assert matcher._typo_word("verdient", lang="de") == "vereint"  # what the typo pass alone would read
    assert (
        matcher._corrections(analyse("Was verdient man als Amtsleitung?", "de", matcher.synonyms), skip_smalltalk=True)
        == {}
    )
    assert service.ask("Was verdient man als Amtsleitung?").match.status == "fallback"


def test_a_misspelt_capitalised_synonym_is_corrected_like_a_knowledge_noun(service: FaqService) -> None:
    """synonyms.yaml is written in lower case; its one-word variants ("zwischenzeit") still count as nouns."""
    match = service.ask("Wer ist in der Zwischenzet zuständig?").match
    assert match.entry_id == "uebergang-zustaendigkeit"


def test_two_entries_that_fit_about_equally_are_offered_back(service: FaqService) -> None:
    """Below the clarify thresholds, a runner-up within ``close_share`` of the best makes it a clarify."""
    question = "schul-it it-personal"  # about 60 for both entries
    below = dataclasses.replace(DEFAULT_THRESHOLDS, clarify=65.0, ambiguous_clarify=65.0)
    match = Matcher(service.knowledge, below).match(question)
    assert match.status == "clarify"
    assert {c.entry_id for c in match.candidates} == {"schul-it-wechsel", "it-stellen"}
    strict = Matcher(service.knowledge, dataclasses.replace(below, close_clarify=101.0))
    assert strict.match(question).status == "fallback"


def test_an_unknown_noun_is_offered_back_not_answered(service: FaqService) -> None:
    """ "Software" is not in the knowledge: the question may be about something it does not cover."""
    match = service.ask("Welche Software nutzt das Amt für Digitalisierung?").match
    assert match.status != "answer"


def test_an_unknown_noun_with_little_else_known_is_not_offered_back(service: FaqService) -> None:
    """With an unknown noun and few known words, the noun is what the question is about: fallback, no options."""
    without = Matcher(service.knowledge, dataclasses.replace(DEFAULT_THRESHOLDS, noun_evidence=0.0))
    for question in (
        "Wird die Amtsleitung in Teilzeit ausgeschrieben?",
        "Wann hat der Gemeinderat den Haushalt beschlossen?",
    ):
        assert service.ask(question).match.status == "fallback", question
        assert without.match(question).status == "clarify", question
    # enough known besides the unknown noun ("Auftakt"): still offered back, though a stricter setting would not
    question = "Welche Hürden wurden beim Auftakt der Amtsneubildung benannt?"
    match = service.ask(question).match
    assert (match.status, [c.entry_id for c in match.candidates]) == ("clarify", ["beteiligung"])
    stricter = Matcher(service.knowledge, dataclasses.replace(DEFAULT_THRESHOLDS, noun_evidence=3.0))
    assert stricter.match(question).status == "fallback"


@pytest.mark.parametrize(
    "question",
    [
        "Wie viele IT-Stellen wechseln ins neue Amt?",
        "Wie viel verdient die Amtsleitung?",
        "How many people will work in the digital office?",
        "Was kostet die Beratung durch die KGSt?",
        "Welche Ämter gehören außer dem Digitalamt noch zum Dezernat I?",
        "Which other offices belong to Dezernat I?",
        "Welche anderen Ämter kommen ins Dezernat I?",
        "Welche andere Stadt hat auch ein Amt für Digitalisierung?",
        "Hat der Gemeinderat damals sonst noch etwas beschlossen?",
        "Welche Empfehlungen hat die KGSt anderen Kommunen gegeben?",
        "What did the KGSt recommend to other cities?",
        "Name der Person, die die Schul-IT im Dezernat II leitet?",
        "Welche Stellen schreibt die Stadt im Moment aus?",
        "Which schools does the school IT team look after?",
        "wer ist der oberbürgermeister eigentlich",
    ],
)
def test_a_question_for_a_number_or_the_others_is_not_answered_by_an_entry_without_one(
    service: FaqService, question: str
) -> None:
    """The article gives no figures, names one office and no person: the IT-staff entry says what happens to the
    posts, not how many there are; the Dezernat entry where the new office sits, not what else belongs there."""
    assert service.ask(question).match.status == "fallback"


def test_a_question_for_a_name_is_answered_by_an_entry_asked_for_one(service: FaqService) -> None:
    """The article names no person; the office's and the KGSt's names it does give."""
    assert service.ask("Wie heißt das neue Amt eigentlich?").match.entry_id == "amt-aufgaben"
    assert service.ask("Wie heißt die KGSt mit vollem Namen?").match.entry_id == "kgst-was"


def test_an_entry_asked_for_a_number_answers_one() -> None:
    text = """
topics: [{id: t, title: T}]
entries:
  - {id: stellen, topic: t, questions: {de: ['Wie viele Stellen hat das Amt?', 'Was passiert mit den Stellen?']},
     answer: {de: A}, sources: [{url: 'https://example.org', title: x}], as_of: 2022-06-24}
  - {id: leitung, topic: t, questions: {de: ['Wer leitet das Amt?']}, answer: {de: B},
     sources: [{url: 'https://example.org', title: x}], as_of: 2022-06-24}
"""
    knowledge = load_texts([("k.yaml", text)]).knowledge
    assert knowledge is not None
    matcher = Matcher(knowledge)
    assert matcher.match("Wieviele Stellen hat das Amt eigentlich?").entry_id == "stellen"
    assert matcher.match("Wie viele Leute leiten das Amt?").status == "fallback"


def test_who_is_asking_does_not_count_against_the_question(service: FaqService) -> None:
    """Unknown words about the asker ("Kämmerei") no longer sink the question; what they are asking decides."""
    for question, entry_id in [
        ("Ich arbeite in der Kämmerei als IT-Betreuerin – wechsle ich ins neue Amt?", "it-stellen"),
        (
            "Ich bin Sachbearbeiterin in der Kämmerei und frage mich, wann das neue Amt gegründet wird.",
            "gruendung-termin",
        ),
    ]:
        match = service.ask(question).match
        assert (match.status, match.entry_id) == ("answer", entry_id)
        assert "kammerei" not in match.normalized
    assert service.ask("Ich bin im Bauamt: wer genehmigt meinen Urlaub?").match.status == "fallback"


def test_a_long_question_on_topic_is_offered_back_not_dropped(service: FaqService) -> None:
    """A long, chatty question scores lower than a short one about the same thing; from ``long_clarify`` on (and
    with enough known words) its best entries are offered back. Short questions keep the normal thresholds."""
    without = Matcher(service.knowledge, dataclasses.replace(DEFAULT_THRESHOLDS, long_clarify=101.0))
    for question, entry_id in [
        (
            "Meine Kollegin aus dem Standesamt hat erzählt, dass die Schulen bei den Geräten künftig schlechter "
            "wegkommen könnten, wenn man die Leute zusammenzieht – ist da was dran?",
            "schulausstattung",
        ),
        (
            "Unser Team fragt sich seit Wochen, warum die Stadt die ganzen verstreuten Digitalisierungsthemen jetzt "
            "unbedingt unter einem Dach vereinen will",
            "amt-warum",
        ),
    ]:
        assert without.match(question).status == "fallback"
        match = service.ask(question).match
        assert match.status == "clarify"
        assert entry_id in {c.entry_id for c in match.candidates}
    # A short question in the same band is decided by the normal thresholds alone.
    short = "Wer hat die KGSt eigentlich gegründet?"
    assert 40 <= service.ask(short).match.score < DEFAULT_THRESHOLDS.answer
    assert service.ask(short).match == without.match(short)
    long_off_topic = (
        "Ich arbeite in der Bibliothek und wüsste gern, welche Öffnungszeiten die Stadtbibliothek im Sommer hat"
    )
    assert service.ask(long_off_topic).match.status == "fallback"


def test_a_compound_ending_in_amt_names_another_office(service: FaqService) -> None:
    """ "Personalamt" is not "Personal" + "Amt" (which would be about the new office): it stays an unknown noun."""
    matcher = service.snapshot.matcher
    assert matcher._split_compound("personalamt", word="personalamt") is None
    assert service.ask("Wer leitet bei uns das Personalamt?").match.status == "fallback"


def test_a_long_capitalised_word_may_have_two_slips(service: FaqService) -> None:
    """Nouns get one edit ("Digitalpakt" is not "Digitalamt"); from 13 letters on, two are still one word."""
    matcher = service.snapshot.matcher
    assert matcher._typo_word("gemeinschafstelle", noun=True, lang="de") == "gemeinschaftsstelle"
    assert matcher._typo_word("digitalpakt", noun=True, lang="de") is None


def test_words_most_answers_share_do_not_make_a_question_word_common() -> None:
    """Every answer cites its source: "Quelle" in the answers must not make the source entry's key word a common one."""
    text = """
topics: [{id: t, title: T}]
entries:
  - {id: quelle, topic: t, questions: {de: ['Was ist die Quelle?']}, answer: {de: 'Quelle ist ein Artikel.'},
     sources: [{url: 'https://example.org', title: x}], as_of: 2022-06-24}
  - {id: termin, topic: t, questions: {de: ['Wann startet das Amt?']}, answer: {de: 'Laut Quelle offen.'},
     sources: [{url: 'https://example.org', title: x}], as_of: 2022-06-24}
  - {id: leitung, topic: t, questions: {de: ['Wer leitet das Amt?']}, answer: {de: 'Die Quelle nennt niemanden.'},
     sources: [{url: 'https://example.org', title: x}], as_of: 2022-06-24}
"""
    knowledge = load_texts([("k.yaml", text)]).knowledge
    assert knowledge is not None
    best = Matcher(knowledge).rank("Quelle?")[0]
    assert best.entry_id == "quelle"
    assert best.evidence == pytest.approx(1.0)  # a word unique to the entry's phrasings, weighed as such


def test_swabian_infinitives_in_a_are_read_as_en(service: FaqService) -> None:
    """ "leita", "bewerba" are "leiten", "bewerben": two edits from the word, too many for a typo of five letters."""
    match = service.ask("Woisch, wer des Amt leita wird?").match
    assert (match.status, match.entry_id) == ("answer", "amtsleitung")


def test_a_typo_equally_close_to_two_words_takes_the_one_whose_entries_include_the_others(
    service: FaqService,
) -> None:
    """ "dezernant" is one edit from "Dezernat" and from "Dezernent"; every entry using "Dezernent" uses "Dezernat"."""
    match = service.ask("in welches dezernant kommt das digitalamt").match
    assert (match.status, match.entry_id) == ("answer", "amt-dezernat")


def test_a_typo_beats_a_split_into_a_three_letter_word(service: FaqService) -> None:
    """ "zugeordent" is "zugeordnet" with two letters swapped, not "Zug" + "Orden"."""
    match = service.ask("wem ist das digitalamt zugeordent").match
    assert (match.status, match.entry_id) == ("answer", "amt-dezernat")


def test_a_three_letter_word_with_two_letters_swapped_is_repaired(service: FaqService) -> None:
    assert (
        service.ask("wann kommt das nue amt").match.normalized
        == service.ask("wann kommt das neue amt").match.normalized
    )


def test_a_long_unknown_word_in_lower_case_german_weighs_like_a_noun(service: FaqService) -> None:
    """Typed in lower case, "zeiterfassung" is as much a noun as "Zeiterfassung"; verb forms are not read so."""
    assert service.ask("zeiterfassung amt für digitalisierung").match.status == "fallback"
    assert service.ask("parkplätze schul-it").match.status != "answer"


def test_an_unknown_abbreviation_in_capitals_weighs_like_a_noun(service: FaqService) -> None:
    """ "Was bedeutet die Abkürzung OZG?" shares every other word with "Was bedeutet die Abkürzung KGSt?"."""
    assert service.ask("Was bedeutet eigentlich die Abkürzung OZG?").match.status == "fallback"


def test_a_synonym_is_never_read_as_a_misspelt_function_word(service: FaqService) -> None:
    """ "Gehalt" (a question for a figure) is one letter from "gehabt" (a function word): it stays a question
    for a figure, which no entry answers."""
    assert service.ask("Gehalt Amtsleitung Digitalisierung").match.status == "fallback"
    assert service.ask("Wer hat die Idee mit dem Digitalamt eigentlich gehabt?").match.entry_id == "kgst-empfehlung"


def test_a_single_letter_is_no_smalltalk_word(service: FaqService) -> None:
    """ "What's" splits into "what" and "s"; the "s" of "how's it going" made "What's your source?" a greeting."""
    match = service.ask("What's your source?").match
    assert (match.status, match.entry_id) == ("answer", "mehr-infos")


def test_swabian_scht_is_st_and_ha_is_a_filler(service: FaqService) -> None:
    assert service.ask("Hend d'Lehrer Angscht um ihre Technik?").match.entry_id == "schulausstattung"
    assert service.ask("Ha, wann kommt des Amt?").match.entry_id == "gruendung-termin"


def test_a_question_of_known_words_only_is_offered_back_at_a_lower_score(service: FaqService) -> None:
    """Every word a knowledge word and most of them the best entry's: worded unlike any phrasing, but about it.
    An unknown word ("WLAN") at a like score says the question is about something else."""
    match = service.ask("Unter wem hängt das neue Amt dann, direkt beim OB?").match
    assert match.status == "clarify" and match.score < service.snapshot.matcher.thresholds.clarify
    assert [c.entry_id for c in match.candidates] == ["amt-dezernat"]
    unknown = service.ask("wer ist zuständig für das wlan in der schule").match
    assert unknown.status == "fallback" and unknown.score >= service.snapshot.matcher.thresholds.known_clarify


@pytest.mark.parametrize(
    "question",
    [
        "Worauf muss die Verwaltung bei der Schulausstattung achten?",
        "Gibt es eine Auflage in Bezug auf die Schulen bei der IT-Zusammenlegung?",
        "Gehen die Schulen am Ende leer aus?",
    ],
)
def test_fillers_do_not_weigh_against_the_entry(service: FaqService, question: str) -> None:
    """ "worauf", "in Bezug auf", "gehen" (as "geht" already was) say nothing about which entry is meant."""
    match = service.ask(question).match
    assert "schulausstattung" in [match.entry_id, *(c.entry_id for c in match.candidates if match.status == "clarify")]
    assert match.status in ("answer", "clarify")


def test_phrases_of_assurance_and_discussion(service: FaqService) -> None:
    match = service.ask(
        "Gibt es eine Zusicherung, dass die Schulen bei der Neuordnung nicht benachteiligt werden?"
    ).match
    assert match.status == "clarify" and match.candidates[0].entry_id == "schulausstattung"
    question = "Welche Rahmenbedingungen für die Amtsneubildung sind im Beteiligungsverfahren zur Sprache gekommen?"
    assert service.ask(question).match.entry_id == "beteiligung"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # the Swabian asker clause "I schaff in dr IT vom …" (I work in IT at …), like "Ich arbeite …"
        pytest.param("I schaff in dr IT vom Ordnungsamt – komm i dann ins neue Amt?", "it-stellen", id="i-schaff"),
        pytest.param("What happens to the IT posts of the offices?", "it-stellen", id="it-posts"),
        # idioms of losing out: "in die Röhre gucken", "flöten gehen"; savings at the schools
        pytest.param("Gucken die Schulen am Ende in die Röhre?", "schulausstattung", id="roehre"),
        pytest.param("Gehen den Schulen jetzt die Geräte flöten?", "schulausstattung", id="floeten"),
        pytest.param("Wird bei den Schulen jetzt gespart?", "schulausstattung", id="gespart"),
        pytest.param("Muss unsere Schule um ihre Tablets bangen?", "schulausstattung", id="bangen"),
        pytest.param("Kriegen die Schulen beim ganzen Umbau weniger Geräte?", "schulausstattung", id="umbau"),
        # "in einen Topf geworfen" with its verb; "Auswirkungen auf" a filler
        pytest.param("Wird die IT der Ämter in einen Topf geworfen?", "it-stellen", id="topf-geworfen"),
        pytest.param("Auswirkungen auf die Schulausstattung?", "schulausstattung", id="auswirkungen"),
        # Swabian function words "se" (sie), "mei" (mein), "mol" (mal)
        pytest.param("Hend se die Leit au gfrogt?", "beteiligung", id="se"),
        pytest.param("Hot mer uns mol gfrogt?", "beteiligung", id="mol"),
        # slips: "dei" (die) and "genua" (genau) are function words; "amcht" (macht) is found despite its first letter
        pytest.param("wer ist dei kgst", "kgst-was", id="dei"),
        pytest.param("was ist die kgst genua", "kgst-was", id="genua"),
        pytest.param("was amcht das digitalamt eigentlich", "amt-aufgaben", id="amcht"),
        # "sagt mir null" is an aside like "sagt mir nix"
        pytest.param("KGSt? Sagt mir null – wer ist das?", "kgst-was", id="sagt-mir-null"),
        # spoken forms of multi-word synonyms: "bis des Amt steht", "scho da"
        pytest.param("Und bis des Amt steht, wer kümmert sich?", "uebergang-zustaendigkeit", id="bis-des-amt-steht"),
        pytest.param("is des amt scho da?", "gruendung-termin", id="scho-da"),
        pytest.param("Has someone been selected to run the digital office?", "amtsleitung", id="selected"),
    ],
)
def test_wordings_read_as_meant(service: FaqService, question: str, expected: str) -> None:
    assert service.ask(question).match.entry_id == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        pytest.param("Could staff help shape the new office?", "beteiligung", id="shape"),
    ],
)
def test_wordings_offered_as_meant(service: FaqService, question: str, expected: str) -> None:
    match = service.ask(question).match
    assert match.candidates[0].entry_id == expected and match.status in ("answer", "clarify")


def test_a_trailing_condition_weighs_less_than_the_question(service: FaqService) -> None:
    """ "…, wenn das IT-Personal ins Digitalamt wandert" says when; what is asked is whether schools lose out."""
    match = service.ask("Gehen die Schulen leer aus, wenn das IT-Personal ins Digitalamt wandert?").match
    assert (match.status, match.entry_id) == ("answer", "schulausstattung")


def test_a_condition_a_short_main_clause_points_at_counts_in_full(service: FaqService) -> None:
    """ "Was ist daran schlecht, wenn …": the main clause only points at the condition, which is the question."""
    match = service.ask("Was ist daran schlecht, wenn jedes Amt seine IT selbst macht?").match
    assert match.status == "clarify" and match.candidates[0].entry_id == "amt-warum"


def test_am_laufen_is_up_and_running(service: FaqService) -> None:
    """ "am Laufen" is up and running (the founding), not the running business of the transition ("Läuft bis zur
    Gründung alles wie bisher?"), which answered it before."""
    match = service.ask("Ist des Digitalamt scho am Laufe?").match
    assert match.entry_id != "uebergang-zustaendigkeit" and match.candidates[0].entry_id == "gruendung-termin"
