"""German-aware normalisation: folding, stemming, hyphen variants, synonyms, stop words."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge.loader import load_knowledge
from bot.matching.normalize import (
    NAME,
    OTHERS,
    SynonymTable,
    analyse,
    detect_language,
    fold,
    split_asker,
    split_condition,
    split_preamble,
    terms,
    words,
)

SYN = SynonymTable.build(
    [
        ("schul-it", "schulit", "it an schulen"),
        ("oberbürgermeister", "ob"),
        ("zuständig", "verantwortlich"),
        ("zuständigkeit", "verantwortlichkeit"),
    ]
)


def test_fold_handles_case_sharp_s_and_control_characters() -> None:
    assert fold("STRAßE\x00\u200b") == "strasse"
    assert words("Schul-IT, bitte!") == ["schul", "it", "bitte"]


@pytest.mark.parametrize(("a", "b"), [("Gründung", "Gruendung"), ("Ämter", "Aemter"), ("Ämter", "Amt")])
def test_umlaut_spellings_meet(a: str, b: str) -> None:
    assert terms(a, "de") == terms(b, "de")


def test_inflections_meet() -> None:
    assert terms("der Schulen", "de") == terms("die Schule", "de")
    assert terms("des Dezernates", "de") == terms("Dezernat", "de")


@pytest.mark.parametrize("variant", ["Schul-IT", "Schul IT", "SchulIT", "IT an Schulen", "schul-it"])
def test_hyphen_space_and_joined_variants_share_the_concept(variant: str) -> None:
    assert "~schul-it" in terms(variant, "de", SYN)


def test_stop_words_are_dropped_but_question_words_kept() -> None:
    assert terms("Weißt du eigentlich, wann das ist?", "de", SYN) == ["~wann"]
    assert terms("warum", "de", SYN) == terms("wieso", "de", SYN) == terms("why", "en", SYN)


def test_lowercase_stop_word_is_not_read_as_abbreviation() -> None:
    assert "~oberbürgermeister" not in terms("Weißt du, ob das stimmt?", "de", SYN)
    assert "~oberbürgermeister" in terms("Was sagt der OB?", "de", SYN)


def test_groups_sharing_a_stem_become_one_concept() -> None:
    assert terms("zuständig", "de", SYN) == terms("Verantwortlichkeiten", "de", SYN)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Wann wird das Amt gegründet?", "de"),
        ("When will the office be founded?", "en"),
        ("who is the head of the new office", "en"),
        ("schul it", "de"),
        ("Was ist die KGSt?", "de"),
        # words both languages write ("was", "in", dialect "no") are no evidence; German question words are
        ("was bedeutet KGST", "de"),
        ("kgst was is das", "de"),
        ("Wo kann mr do no meh drüber lese?", "de"),
        ("Kommt das Digitalisierungsamt in Dezernat I oder in Dezernat II?", "de"),
        ("Is the Amt für Digitalisierung hiring developers?", "en"),
        ("Do responsibilities change right away?", "en"),
    ],
)
def test_language_detection(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    ("a", "b"),
    [("braucht", "brauchen"), ("geplant", "planen"), ("bekommt", "bekommen"), ("gewechselt", "Wechsel")],
)
def test_german_verb_forms_meet(a: str, b: str) -> None:
    assert terms(a, "de") == terms(b, "de")


def test_words_of_a_multi_word_synonym_are_marked_as_its_parts() -> None:
    syn = SynonymTable.build([("it-personal", "it-ler")])
    tokens = analyse("Muss ich als IT-ler wechseln?", "de", syn)
    assert [(t.term, t.part) for t in tokens] == [
        ("~it-personal", False),
        ("it", True),
        ("ler", True),
        ("wechsel", False),
    ]


@pytest.mark.parametrize(
    ("text", "context", "rest_starts"),
    [
        (
            "Ich bin Teamleiter im Bauamt und frage mich, was das Amt macht.",
            "Ich bin Teamleiter im Bauamt",
            "und frage",
        ),
        ("Ich mach die IT im Sozialamt – komm ich ins Digi-Amt?", "Ich mach die IT im Sozialamt", "– komm"),
        ("Kurz: ich arbeite im Bürgeramt. Was bringt das?", "ich arbeite im Bürgeramt", "Kurz:"),
        ("I work in finance, what does the new office do?", "I work in finance", ", what"),
        ("I’m in the finance team, when will the office open?", "I’m in the finance team", ", when"),
        ("Mir sin d'IT-ler vom Bauamt – müsse mir wechsle?", "Mir sin d'IT-ler vom Bauamt", "– müsse"),
        ("Komm ich als IT-ler vom Sozialamt ins Digitalamt?", "ich als IT-ler vom Sozialamt", "Komm"),
        ("bin IT-ler im Bauamt, muss ich ins neue Amt?", "bin IT-ler im Bauamt", ", muss"),
    ],
)
def test_clauses_about_the_asker_are_split_off(text: str, context: str, rest_starts: str) -> None:
    found, rest = split_asker(text)
    assert found.strip() == context
    assert rest.strip().startswith(rest_starts)


def test_statements_before_a_closing_question_are_a_preamble() -> None:
    assert split_preamble("Die Rundmail hab ich gelesen. Was macht das neue Amt genau?") == (
        "Die Rundmail hab ich gelesen.",
        "Was macht das neue Amt genau?",
    )
    preamble, question = split_preamble("Das Protokoll ist lang! Ich blick nicht durch. Was ist die KGSt?")
    assert (preamble, question) == ("Das Protokoll ist lang! Ich blick nicht durch.", "Was ist die KGSt?")


@pytest.mark.parametrize(
    "text",
    [
        "Startet das Amt zum 1. Juli wirklich?",  # an ordinal, not a sentence end
        "Stimmt das? Wer hat das entschieden?",  # two questions: both are asked
        "Das Amt kommt. Wann?",  # too short to stand alone
        "Wann kommt das Amt. Ich frage für mein Team.",  # no closing question
    ],
)
def test_no_preamble_is_split_off_without_one_closing_question(text: str) -> None:
    assert split_preamble(text) == ("", text)


@pytest.mark.parametrize(
    "text",
    [
        "Ich bin neu hier",
        "Was ändert sich, wenn ich Azubi bin?",
        "Wann wird das Amt gegründet?",
        "Ist das Amt als Stelle im Bauamt geplant?",  # "als" without "ich"/"wir" before it
        "Was bin ich für das Amt?",  # "bin" opens a clause about the asker only at the start
    ],
)
def test_nothing_is_split_off_without_an_asker_clause_and_a_rest(text: str) -> None:
    assert split_asker(text) == ("", text)


def test_function_words_spelt_with_ae_oe_ue_are_function_words() -> None:
    assert terms("quelle fuer die infos", "de") == terms("Quelle für die Infos", "de")
    assert terms("koennen wir ueber das amt reden", "de") == terms("können wir über das Amt reden", "de")


def test_gehoert_in_the_sense_of_heard_is_an_aside() -> None:
    """After "hab"/"nie" it is "heard" and dropped; with "zu"/"zum"/"zur" nearby it is "belongs to" and kept."""
    assert "hor" not in terms("KGSt? Nie gehört, was ist das?", "de")
    assert "hor" not in terms("Ich hab auf dem Flur gehört, dass die Schul-IT wechselt", "de")
    assert "hor" in terms("Zu welchem Dezernat gehört das Amt?", "de")
    assert "hor" in terms("Hat die Schul-IT bisher zu Dezernat II gehört?", "de")
    assert terms("Ich hab gehört, das Amt gehört zum Dezernat I", "de").count("hor") == 1


def test_the_fragment_digi_is_no_word_of_its_own() -> None:
    """The office's synonym "Digi-Amt" counts; its fragment "digi" alone would weigh as a rare word against every
    entry whose phrasings happen to write "Digitalamt" instead."""
    table = SynonymTable.build([["digitalamt", "digi-amt", "digiamt"]])
    assert "digi" not in terms("Wer leitet das Digi-Amt?", "de", table)
    assert "~digitalamt" in terms("Wer leitet das Digi-Amt?", "de", table)


def test_verb_forms_of_founding_name_the_founding_not_the_reason() -> None:
    """The verb form "gründet" stems like "Grund"; read as "gegründet", it meets the founding concept."""
    table = SynonymTable.build([["gründung", "gegründet"], ["grund", "begründung"]])
    assert terms("Isch des Amt scho gründet?", "de", table) == terms("Ist das Amt schon gegründet?", "de", table)
    assert "~gründung" in terms("Wann gründet die Stadt das Amt?", "de", table)
    assert "~grund" in terms("Aus welchem Grund?", "de", table)


def test_dialect_leit_is_people_not_the_head_of_office() -> None:
    """Swabian "Leit" (Leute) stems like "Leiter"; it is a filler, while "leitet" still names leading."""
    assert "leit" not in terms("Hot ma d'Leit gfrogt?", "de")
    assert "leit" in terms("Wer leitet das Amt?", "de")


def test_which_offices_schools_or_posts_ask_for_a_list_which_one_office_does_not() -> None:
    assert OTHERS in terms("Welche Ämter gehören zu Dezernat II?", "de")
    assert OTHERS in terms("Für welche Schulen ist die Stadt Schulträger?", "de")
    assert OTHERS not in terms("Welches Amt ist bis dahin zuständig?", "de")
    assert OTHERS not in terms("An welcher Stelle im Organigramm steht das Amt?", "de")


def test_the_forms_of_aendern_meet_through_the_shipped_synonyms() -> None:
    """Snowball stems "ändern" to "and" but "ändert" to "ander": the synonym group joins them (and "change")."""
    knowledge = load_knowledge(Path(__file__).resolve().parent.parent / "knowledge").knowledge
    table = SynonymTable.build(knowledge.synonyms)
    concepts = {terms(text, lang, table)[0] for text, lang in [("ändern", "de"), ("ändert", "de"), ("change", "en")]}
    assert len(concepts) == 1


def test_who_holds_an_office_asks_for_a_name() -> None:
    assert NAME in terms("Wer ist Dezernent für Dezernat II?", "de")
    assert NAME in terms("wer ist eigentlich der OB", "de")
    assert NAME in terms("Who is the mayor of Konstanz?", "en")
    assert NAME not in terms("Wer hat das Umfeld des OB untersucht?", "de")  # not who holds the office
    assert NAME not in terms("Wer ist ob der Neuerung besorgt?", "de")  # "ob" in lower case is no mayor


def test_inflected_function_words_are_function_words_too() -> None:
    """ "ganz" was a stop word, "ganzen" stemmed to the term "ganz": "die ganzen ITler" weighed "ganz"."""
    assert terms("kommen die ganzen ITler alle ins Amt", "de") == terms("kommen die ITler alle ins Amt", "de")
    assert terms("gibt es schon jemanden dafür", "de") == terms("gibt es schon dafür", "de")


def test_naechste_is_a_filler_but_the_next_step_is_a_concept() -> None:
    """ "nächstes" stems to "nach" and made "nächstes Jahr" count three times ("Wann ist Ostern nächstes Jahr?")."""
    knowledge = load_knowledge(Path(__file__).resolve().parent.parent / "knowledge").knowledge
    table = SynonymTable.build(knowledge.synonyms)
    assert "nach" not in terms("Wann ist Ostern nächstes Jahr?", "de", table)
    assert terms("Was ist der nächste Schritt?", "de", table) == terms("Was ist der nächster Schritt?", "de", table)
    assert len(terms("Was ist der nächste Schritt?", "de", table)) == 2  # the concept and "schritt"


def test_amt_fuer_something_else_names_another_office() -> None:
    assert OTHERS in terms("Wer leitet das Amt für Bildung und Sport?", "de")
    assert OTHERS not in terms("Was macht das Amt für Digitalisierung?", "de")
    assert OTHERS not in terms("Warum braucht die Stadt ein eigenes Amt für die Digitalisierung?", "de")
    assert OTHERS not in terms("wozu braucht man noch ein extra amt für IT", "de")
    assert OTHERS in terms("Wer leitet eigentlich das Dezernat I?", "de")  # another unit's head
    assert OTHERS not in terms("Wer leitet das neue Amt?", "de")  # the head of the office is an entry of its own


def test_swabian_wenn_at_the_start_of_a_question_asks_when() -> None:
    assert terms("Wenn goht des Amt los?", "de")[0] == terms("Wann geht das Amt los?", "de")[0]
    assert "wann" not in terms("Wenn das Amt da ist, wer ist dann zuständig?", "de")  # a condition


def test_rechner_is_read_as_computer_not_as_rechnen() -> None:
    assert terms("Kriegen die Schulen weniger Rechner?", "de") == terms("Kriegen die Schulen weniger Computer?", "de")
    assert terms("damit rechnen", "de") != terms("damit Rechner", "de")  # the verb keeps its own stem


def test_question_words_split_around_the_sentence_are_read_whole() -> None:
    """ "Wo hast du das her?" asks "woher"; "wofür … gut" and "für was … guet" ask what for ("wozu")."""
    assert terms("Wo hasch du des eigentlich her?", "de") == terms("Woher hast du das?", "de")[:1]
    assert terms("Wofür soll die Bündelung gut sein?", "de")[0] == terms("Wozu?", "de")[0]
    assert terms("Für was isch des guet?", "de")[0] == terms("Wozu?", "de")[0]
    assert terms("Wofür ist das Amt zuständig?", "de")[0] != terms("Wozu?", "de")[0]  # for what: the tasks
    assert "woh" not in terms("Wo hängt das Amt dran?", "de")  # "wo" without "her" stays "wo"


def test_sagt_mir_nichts_says_the_asker_does_not_know_it() -> None:
    assert terms("KGSt? Sagt mir gar nix, wer sind die?", "de") == terms("KGSt? Wer sind die?", "de")
    assert terms("KGSt? Sagt mir grad gar nix", "de") == terms("KGSt?", "de")
    assert terms("KGSt? Nie g'hört, was isch des?", "de") == terms("KGSt? Was isch des?", "de")
    assert "sagt" in terms("Was sagt die Quelle zum Termin?", "de")


def test_normally_asks_about_such_cases_in_general() -> None:
    table = SynonymTable.build([])  # the built-in groups only
    assert OTHERS in terms("Wie lange dauert eine Amtsneubildung normalerweise?", "de", table)
    assert OTHERS in terms("How long does founding an office typically take?", "en", table)
    assert OTHERS not in terms("Wie lange dauert die Amtsgründung noch?", "de", table)


def test_roman_numerals_of_a_multi_word_synonym_are_numbers_not_words() -> None:
    table = SynonymTable.build([["dezernat ii", "dezernat 2"]])
    assert terms("Dezernat II", "de", table) == terms("Dezernat 2", "de", table)


def test_an_asker_moving_into_an_office_reads_as_changing_over() -> None:
    """ "Muss ich jetzt ins Digitalamt?" leaves out the verb of moving; it asks the same as "… wechseln?"."""
    table = SynonymTable.build([["wechseln", "wechsle"]])
    moving = terms("Muss ich jetzt ins Digitalamt?", "de", table)
    assert moving == terms("Muss wechseln jetzt ins Digitalamt?", "de", table)
    assert terms("Muss ich jetzt ins Digitalamt wechseln?", "de", table).count(moving[0]) == 1  # said once
    assert moving[0] not in terms("Ich arbeite im Bauamt.", "de", table)  # where the asker works
    assert moving[0] not in terms("Wen frage ich mit Fragen zum Digitalamt?", "de", table)  # "zum": about


def test_swabian_worum_asks_why_but_worum_geht_es_asks_what_about() -> None:
    assert terms("Worum machet die des?", "de")[0] == terms("Warum machen die das?", "de")[0]
    assert "warum" not in " ".join(terms("Worum geht es beim Amt?", "de"))


def test_ding_is_a_filler() -> None:
    assert terms("unter welches dezernat kommt das ding?", "de") == terms("unter welches dezernat kommt das?", "de")


def test_swabian_guet_and_guat_are_gut() -> None:
    assert terms("Für was isch des guat?", "de") == terms("Für was ist das gut?", "de")


def test_a_budget_asks_for_a_figure() -> None:
    table = SynonymTable.build([])  # the built-in groups only
    assert terms("What is the budget?", "en", table) == terms("How much?", "en", table)


def test_split_condition() -> None:
    assert split_condition("Gehen die Schulen leer aus, wenn die IT-Leute wechseln?") == (
        "Gehen die Schulen leer aus",
        ", wenn die IT-Leute wechseln?",
    )
    assert split_condition("Wenn das Amt kommt, wer leitet es?") == ("Wenn das Amt kommt, wer leitet es?", "")


def test_a_question_meets_the_synonyms_stemmed_in_its_own_language() -> None:
    """The English stem of "andere" is "ander", the German stem of "Änderung": "welche andere" (the others) must not
    read the German "Welche Änderung …?"."""
    table = SynonymTable.build([])
    assert OTHERS not in terms("Welche Änderung des Geschäftskreises betrifft die Schul-IT?", "de", table)
    assert OTHERS in terms("Welche anderen Städte hat die KGSt beraten?", "de", table)
    assert OTHERS in terms("Which other cities did the KGSt advise?", "en", table)
