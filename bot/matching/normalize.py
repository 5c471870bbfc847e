"""German-aware text folding, done once per phrasing when the index is built (and once per question).

A text becomes a list of *terms*: case-folded, ß/umlaut-folded (``ä``, ``ae`` and ``a`` meet in the Snowball
stem), stemmed per language, split at hyphens (``Schul-IT`` → ``schul it``), with synonym groups rewritten to one
concept term (``Digitalamt`` → ``~amt-fur-digitalisierung``) and stop words dropped. Concept terms keep the words
they were made of, so ``Schul-IT`` still shares ``schul`` with ``Schule``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import snowballstemmer

from bot.knowledge.model import LANGS, Lang
from bot.matching.stopwords import EN_HINTS, EN_STOPWORDS, STOPWORDS

_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_STEMMERS = {"de": snowballstemmer.stemmer("german"), "en": snowballstemmer.stemmer("english")}
CONCEPT_PREFIX = "~"

# Questions for a number or an amount ("Wie viele Stellen …?", "Was hat das Gutachten gekostet?") and for what
# else there is ("Welche Ämter gehören sonst noch zum Dezernat I?", "Which other cities …?", "Was hat die KGSt anderen
# Kommunen empfohlen?") are answered only by
# an entry that is asked that way itself: the article names dates and one office, not figures or the others,
# and neither is something to guess.
_QUANTITY_WORDS = "wie viel|wie viele|wieviel|wieviele|how many|how much|anzahl|kostet|gekostet|wie teuer|cost|costs"
_QUANTITY_WORDS += "|gehalt|verdient|verdienen|salary|besoldung|budget|budgets|etat"
_QUANTITY_WORDS += "|entgeltgruppe|eingruppiert|eingruppierung|vergütung|vergütet|tarif|pay grade"
_OTHERS_WORDS = "sonst noch|außer dem|außer der|außer den|ausser dem|ausser der|ausser den|auch anderen|noch andere"
_OTHERS_WORDS += "|noch anderen|which other|what other|any other|besides|welche anderen|welche andere"
_OTHERS_WORDS += "|andere städte|anderen städten|andere kommunen|anderen kommunen|other cities|other municipalities"
# "Wie lange dauert eine Amtsgründung normalerweise?" asks about such cases in general: the others, too.
_OTHERS_WORDS += "|normalerweise|üblicherweise|typischerweise|in der regel|im allgemeinen|typically"
# The article names no person: a question for someone's name ("Wie heißt der Dezernent von Dezernat I?") is
# answered only by an entry asked for a name itself (the KGSt's full name; whether the head is known yet).
_NAME_WORDS = "wie heißt|wie heisst|wie heissen|wie heißen|name|namen|namentlich|what's the name|what is the name"
_NAME_WORDS += "|whats the name"
QUANTITY = "~wie-viel"  # the concepts of these three groups
OTHERS = "~sonst-noch"
NAME = "~wie-heisst"

# Question words carry intent ("wann" vs "warum"); they are kept and folded across languages.
BUILTIN_SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("warum", "wieso", "weshalb", "weswegen", "why", "wozu"),
    ("wann", "when", "ab wann", "bis wann", "zeitpunkt", "termin", "datum", "date"),
    ("wer", "who", "welche person"),
    ("wo", "where", "wohin"),
    tuple(_QUANTITY_WORDS.split("|")),
    tuple(_OTHERS_WORDS.split("|")),
    tuple(_NAME_WORDS.split("|")),
)


def fold(text: str) -> str:
    """Unicode-normalise and case-fold; ß → ss. Umlauts are left for the stemmer (which folds ä/ae alike)."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ß", "ss")
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t ")


@lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    """:func:`fold` for one word; words recur across phrasings and questions, so the result is cached."""
    return fold(word)


def words(text: str) -> list[str]:
    """The folded words of ``text``; hyphens, slashes and punctuation separate words."""
    return _WORD_RE.findall(fold(text))


@lru_cache(maxsize=65536)
def stem(word: str, lang: Lang = "de") -> str:
    stemmed: str = _STEMMERS[lang].stemWord(word)
    # The German stemmer folds ä→a only in words it stems; fold what is left so ä/ae/a always meet.
    stemmed = _deumlaut(stemmed)
    return _verb_form(stemmed) if lang == "de" else stemmed


def _verb_form(stemmed: str) -> str:
    """Snowball keeps the -t of German verb forms: "braucht"/"brauchen", "geplant"/"planen" would not meet.

    A past participle loses ge- and -t (``geplant`` → ``plan``), a 3rd-person form its -t (``braucht`` → ``brauch``).
    """
    if len(stemmed) >= 6 and stemmed.startswith("ge") and stemmed.endswith("t"):
        return stemmed[2:-1]
    if len(stemmed) >= 5 and stemmed.endswith("t") and not stemmed.endswith("tt"):
        return stemmed[:-1]
    return stemmed


def _umlauted(word: str) -> str:
    """ae/oe/ue spelt out as umlauts, for the stop-word list: "fuer" is "für", "koennen" is "können"."""
    return word.replace("ae", "ä").replace("oe", "ö").replace("ue", "ü")


def _deumlaut(word: str) -> str:
    return word.replace("ä", "a").replace("ö", "o").replace("ü", "u")


def detect_language(text: str) -> Lang:
    """German unless the text clearly reads as English (more English function words than German ones)."""
    tokens = words(text)
    # Words both languages write ("was", "in", "so", and dialect "no" for "noch") tell nothing.
    en = sum(1 for t in tokens if t in EN_HINTS and t not in _BOTH)
    # German question words tell German too ("Wo kann mr do no meh drüber lese?").
    de = sum(1 for t in tokens if (t in STOPWORDS and t not in EN_STOPWORDS) or t in _DE_HINTS)
    return "en" if en > de else "de"


_DE_HINTS = frozenset({"wo", "wann", "warum", "wer", "wieso", "weshalb", "wozu"})
_BOTH = frozenset({"was", "in", "so", "an", "am", "also", "no"})  # English hints German writes too


_Variants = tuple[tuple[tuple[str, ...], str], ...]  # (stem sequence, concept term), longest first


@dataclass(frozen=True, slots=True)
class SynonymTable:
    """Synonym groups as stem sequences → concept term, by language and first stem, longest variant first.

    A question is stemmed in its language, so it is matched against the variants stemmed in that language only:
    English stems of German phrases are no German words ("welche andere" would read "welche Änderung": "ander").
    Each language's table holds every variant, the other language's words stemmed its way.
    """

    by_lang: dict[Lang, dict[str, _Variants]]

    @classmethod
    def build(cls, groups: Iterable[Sequence[str]]) -> SynonymTable:
        concept_of: dict[tuple[str, ...], str] = {}
        langs_of: dict[tuple[str, ...], set[Lang]] = {}
        for group in (*BUILTIN_SYNONYMS, *groups):
            stemmed = {(tuple(stem(w, lang) for w in ws), lang) for v in group for ws in _spoken(v) for lang in LANGS}
            stemmed = {(variant, lang) for variant, lang in stemmed if variant}
            variants = {variant for variant, _ in stemmed}
            # Groups that share a stemmed variant (zuständig / Zuständigkeit) become one concept.
            shared = [concept_of[v] for v in variants if v in concept_of]
            concept = shared[0] if shared else CONCEPT_PREFIX + "-".join(words(group[0]))
            for variant in variants:
                concept_of.setdefault(variant, concept)
            for variant, in_lang in stemmed:
                langs_of.setdefault(variant, set()).add(in_lang)
        tables: dict[Lang, dict[str, list[tuple[tuple[str, ...], str]]]] = {lang: {} for lang in LANGS}
        for variant, concept in concept_of.items():
            for in_lang in langs_of[variant]:
                tables[in_lang].setdefault(variant[0], []).append((variant, concept))
        return cls(
            {
                lang: {k: tuple(sorted(v, key=lambda item: -len(item[0]))) for k, v in table.items()}
                for lang, table in tables.items()
            }
        )

    def starting_with(self, first: str, lang: Lang) -> _Variants:
        """The variants whose first stem is ``first``, as stemmed in ``lang``."""
        return self.by_lang.get(lang, {}).get(first, ())


EMPTY_SYNONYMS = SynonymTable({})

# Swabian/Alemannic forms of the function words in multi-word synonyms: "bis des Amt steht", "isch des so".
_SPOKEN = {"das": "des", "ist": "isch"}


def _spoken(variant: str) -> list[list[str]]:
    """The words of a synonym variant, and of its spoken form if it has several words and one of :data:`_SPOKEN`."""
    written = words(variant)
    if len(written) < 2 or not any(w in _SPOKEN for w in written):
        return [written]
    return [written, [_SPOKEN.get(w, w) for w in written]]


@dataclass(frozen=True, slots=True)
class Token:
    term: str  # stem or concept term
    word: str  # the folded word it came from ("" for the concept of a multi-word synonym)
    noun: bool = False  # capitalised inside a mixed-case sentence: in German, most likely a noun
    part: bool = False  # a word of a multi-word synonym, whose concept is a token of its own


# Words read as another word before stemming, because their stem is another word's: "gründet"/"gründen" stem to
# "grund" (the reason) and would merge the founding with the reason group; read as "gegründet", they name the
# founding ("Isch des Amt scho gründet?"). "Rechner" stems like "rechnen" ("damit rechnen"); read as "Computer".
_READ_AS = dict.fromkeys(("gründet", "gründen", "gruendet", "gruenden", "gründete", "gründeten"), "gegründet")
_READ_AS |= {"rechner": "computer", "rechnern": "computern"}
_READ_AS |= dict.fromkeys(("guet", "guat", "gued"), "gut")  # Swabian/Alemannic "gut"


def analyse(text: str, lang: Lang, synonyms: SynonymTable = EMPTY_SYNONYMS) -> list[Token]:
    """The matching terms of ``text`` with the words they came from; see :func:`terms`."""
    original = _WORD_RE.findall(unicodedata.normalize("NFKC", text))
    raw = [_READ_AS.get(w, w) for w in map(_fold_word, original)]
    _read_as_meant(raw, text)
    stop = [
        ((w in STOPWORDS or _umlauted(w) in STOPWORDS) and not (o.isupper() and len(o) > 1))
        or (len(w) < 2 and not w.isdigit())
        for w, o in zip(raw, original, strict=True)
    ]
    for i in _heard(raw):
        stop[i] = True
    stems = [stem(w, lang) for w in raw]
    # German capitalises nouns; that only tells something in mixed-case text and not for a sentence's first word.
    mixed_case = any(o[:1].islower() for o in original) and any(o[:1].isupper() for o in original[1:])
    # An abbreviation in capitals ("OZG", "EDV") names something too, wherever it stands.
    noun = [
        mixed_case and ((i > 0 and o[:1].isupper() and not o.isupper()) or (o.isupper() and o.isalpha() and len(o) > 2))
        for i, o in enumerate(original)
    ]
    out: list[Token] = []
    # "Welche Ämter gehören zu Dezernat II?" (a list: the others too; matched on the words as written, since stemmed
    # "welche Ämter" would also be "welches Amt") and "Wer leitet das Amt für Schulen?" (another office).
    if (
        any(w in _WHICH and v in _LISTED for w, v in pairwise(raw))
        or _names_another_office(raw)
        or _asks_who_leads_a_department(raw)
    ):
        out.append(Token(OTHERS, ""))
    # "Wer ist Dezernent für Dezernat II?", "Who is the mayor?": a person, and the article names none.
    if _asks_who_holds_an_office(raw, original):
        out.append(Token(NAME, ""))
    i = 0
    while i < len(raw):
        hit = _synonym_at(stems, i, synonyms, lang)
        if hit is not None and not (hit[0] == 1 and stop[i]):
            length, concept = hit
            # A one-word synonym keeps its word and noun flag ("Gemienderat" is still a misspelt noun).
            out.append(Token(concept, raw[i], noun[i]) if length == 1 else Token(concept, ""))
            if length > 1:
                # The words of a multi-word synonym count too ("Dezernat" in "Dezernat II"), numbers do not
                # (nor Roman ones: "II" of "Dezernat II" would tell it from "Dezernat 2").
                out.extend(
                    Token(stems[j], raw[j], noun[j], part=True)
                    for j in range(i, i + length)
                    if not stop[j] and not raw[j].isdigit() and raw[j] not in _ROMAN
                )
            i += length
            continue
        if not stop[i]:
            out.append(Token(stems[i], raw[i], noun[i]))
        i += 1
    return out


_GOOD = frozenset({"gut", "good"})  # "guet", "guat" are read as "gut" first (_READ_AS)
_ABOUT = frozenset({"geht", "gehts", "goht", "gohts", "dreht", "handelt"})  # "worum geht es": what about
_WHAT_FOR = frozenset({"wofür", "wofuer", "wofur"})


def _read_as_meant(raw: list[str], text: str) -> None:
    """Question words that German splits or dialect bends, read as meant – in place, so positions stay.

    Swabian "Wenn goht des Amt los?" asks when (a conditional "Wenn …, …" has its comma); "Wo hast du das her?"
    asks "woher"; "Wofür soll die Bündelung gut sein?" and "Für was isch des guet?" ask "wozu" (what for), not
    "wofür" (for what: "Wofür ist das Amt zuständig?"); Swabian "Worum machet die des?" asks "warum" unless it
    is "worum geht es"; and an asker moving into an office (:func:`_read_moving_asker`).
    """
    if raw[:1] == ["wenn"] and "," not in text and text.rstrip().endswith("?"):
        raw[0] = "wann"
    if len(raw) > 2 and raw[-1] == "her" and "wo" in raw[:-1]:
        raw[raw.index("wo")] = "woher"
    good = not _GOOD.isdisjoint(raw)
    for i, word in enumerate(raw):
        following = raw[i + 1] if i + 1 < len(raw) else ""
        if good and (word in _WHAT_FOR or (word in _FOR and following == "was" and i <= 1)):
            raw[i] = "wozu"
        elif word == "worum" and following not in _ABOUT:
            raw[i] = "warum"
    _read_moving_asker(raw)


_ME = frozenset({"ich", "i", "wir", "mir"})
_INTO = frozenset({"ins"})  # not "im" ("Ich bin … im Bauamt") nor "zum" ("Fragen zum Digitalamt")


def _read_moving_asker(raw: list[str]) -> None:
    """ "Muss ich jetzt ins Digitalamt?", "Komm ich dann ins neue Amt?": the asker moving into an office, with the
    verb of moving left out or vague; read the pronoun as "wechseln" (in place, so positions stay)."""
    for i, word in enumerate(raw):
        if word not in _ME:
            continue
        for k in range(i + 1, min(i + 5, len(raw))):
            into = raw[k] in _INTO or (raw[k] == "in" and raw[k + 1 : k + 2] in (["das"], ["des"]))
            if into and any(w.endswith("amt") for w in raw[k + 1 : k + 4]):
                if not any(w.startswith(("wechsel", "wechsl")) for w in raw):
                    raw[i] = "wechseln"
                return


_ROMAN = frozenset({"i", "ii", "iii", "iv", "v", "vi"})
_WHICH = frozenset({"welche", "welchen", "which"})
_LISTED = frozenset(
    {"ämter", "aemter", "ämtern", "schulen", "stellen", "offices", "schools", "jobs", "posts", "positions"}
)


_FOR = frozenset({"für", "fuer", "fürs", "fuers", "fir", "fier"})
_ARTICLES = frozenset({"die", "der", "des", "das", "den", "dem", "d", "s"})
_OUR_OFFICE = ("digital", "digi", "it", "informationstechnik", "innovation")  # how "Amt für …" names the new one


def _names_another_office(raw: list[str]) -> bool:
    """ "Amt für <something>" where the something is not what the new office is for (digitalisation, IT)."""
    for i, word in enumerate(raw[:-2]):
        if word == "amt" and raw[i + 1] in _FOR:
            rest = [w for w in raw[i + 2 : i + 4] if w not in _ARTICLES]
            if rest and not rest[0].startswith(_OUR_OFFICE):
                return True
    return False


_WHO = frozenset({"wer", "who"})
_IS = frozenset({"ist", "war", "wird", "isch", "is", "was"})
_ROLES = frozenset(
    "dezernent dezernentin bürgermeister bürgermeisterin buergermeister buergermeisterin oberbürgermeister"
    " oberbürgermeisterin oberbuergermeister oberbuergermeisterin mayor".split()
)


_LEADS = frozenset({"leitet", "leitete", "führt", "fuehrt", "heads", "leads", "runs"})
_DEPARTMENTS = frozenset({"dezernat", "dezernate", "geschäftsbereich", "department"})


def _asks_who_holds_an_office(raw: list[str], original: list[str]) -> bool:
    """ "wer ist/war/wird" or "who is/was" followed within three words by a word for a person in office ("OB"
    only in capitals: "ob" is "whether")."""
    for i in range(len(raw) - 2):
        if raw[i] in _WHO and raw[i + 1] in _IS:
            following = zip(raw[i + 2 : i + 5], original[i + 2 : i + 5], strict=False)
            if any(word in _ROLES or written == "OB" for word, written in following):
                return True
    return False


def _asks_who_leads_a_department(raw: list[str]) -> bool:
    """ "Wer leitet das Dezernat I?": the head of a Dezernat is not the head of the new office, and the article
    names neither – a question about another unit, like "Amt für Bildung"."""
    return any(
        raw[i] in _WHO and raw[i + 1] in _LEADS and any(word in _DEPARTMENTS for word in raw[i + 2 : i + 5])
        for i in range(len(raw) - 2)
    )


# "gehört" means "heard" after a form of "haben" or "nie" ("Ich hab gehört, …", "KGSt? Nie gehört"): an aside, not
# the "belongs to" of "Zu welchem Dezernat gehört das Amt?", which keeps its "zu"/"zum"/"zur" nearby.
_HEARD = frozenset({"gehört", "gehoert", "gehort", "ghört"})
_HEARD_AFTER = frozenset({"hab", "habe", "hast", "hat", "hatte", "hatten", "haben", "habt", "nie", "niemals"})
_BELONGS = frozenset({"zu", "zum", "zur"})


_SAYS = frozenset({"sagt", "sagen", "sagte", "seit", "says", "means"})
_NOTHING = frozenset({"nichts", "nix", "nüt", "nünt", "null", "nothing"})


def _heard(raw: list[str]) -> list[int]:
    """Positions of "gehört" in the sense of "heard", and of "sagt" in "sagt mir nichts", among the folded words.

    Both say the asker does not know the thing ("KGSt – nie gehört", "KGSt? Sagt mir gar nix"): no topic words.
    """
    return [
        i
        for i, w in enumerate(raw)
        if (
            (w in _HEARD or (w == "hört" and raw[i - 1 : i] == ["g"]))  # "g'hört" is two words
            and any(v in _HEARD_AFTER for v in raw[max(0, i - 6) : i])
            and not any(v in _BELONGS for v in raw[max(0, i - 4) : i + 3])
        )
        or (w in _SAYS and any(v in _NOTHING for v in raw[i + 1 : i + 5]))
    ]


def terms(text: str, lang: Lang, synonyms: SynonymTable = EMPTY_SYNONYMS) -> list[str]:
    """The matching terms of ``text``: stems without stop words, and one concept term per synonym hit.

    A one-word synonym is replaced by its concept; a longer one adds its concept to its content words.
    A stop word is never read as an abbreviation unless written in capitals ("ob" is "whether", "OB" the mayor).
    """
    return [token.term for token in analyse(text, lang, synonyms)]


def _synonym_at(stems: list[str], i: int, synonyms: SynonymTable, lang: Lang) -> tuple[int, str] | None:
    for variant, concept in synonyms.starting_with(stems[i], lang):
        n = len(variant)
        if tuple(stems[i : i + n]) == variant:
            return n, concept
    return None


def replace_words(text: str, replacements: dict[str, str]) -> str:
    """``text`` with each word whose folded form is a key replaced by its value (typo corrections)."""
    return _WORD_RE.sub(lambda m: replacements.get(_fold_word(m.group()), m.group()), text)


# "Ich bin Teamleiter im Bauamt und …", "Ich mach die IT im Sozialamt – …", "I work in finance, …", Swabian "I schaff
# in dr IT vom Bauamt – …", chat style
# without the pronoun ("Bin IT-ler im Bauamt, …"): who is asking,
# not what is asked. Such a clause runs from its opener to the next "und"/"and" or punctuation.
_ASKER_RE = re.compile(
    r"(?:^|(?<=[.!?:;–—]))\s*"
    r"((?:ich\s+(?:bin|arbeite|arbeit|mach|mache|betreue|sitze|leite|schaffe|schaff)|bin|arbeite|i\s+am|i['’]m"
    r"|i\s+work|i\s+run|i\s+(?:bin|schaff|schaffe|schaffa|arbeit|mach)"
    r"|(?:wir|mir)\s+(?:sind|sin|arbeiten|machen|mached|betreuen|sitzen))\b"
    r"[^.!?:;–—,]*?)(?=\s+(?:und|and)\s|[.!?:;–—,]|$)",
    re.IGNORECASE,
)
# … and inside the question: "Komm ich als IT-ler vom Sozialamt dann ins Digitalamt?" – the asker's role and office.
_ROLE_RE = re.compile(
    r"\b((?:ich|i|wir|mir)\s+als\s+(?:[\w'’-]+\s+){1,3}?(?:vom|im|beim|aus\s+dem|aus\s+der|in\s+der|bei\s+der)"
    r"\s+[\w-]+)",
    re.IGNORECASE,
)


def split_asker(text: str) -> tuple[str, str]:
    """(clauses about the asker, the rest): "Ich bin Azubi und blick nicht durch: wo hängt das Amt dran?" →
    ("Ich bin Azubi", " und blick nicht durch: wo hängt das Amt dran?"). Without a rest, nothing is split off."""
    context: list[str] = []

    def cut(match: re.Match[str]) -> str:
        context.append(match.group(1))
        return " "

    rest = _ROLE_RE.sub(cut, _ASKER_RE.sub(cut, text))
    if not context or not words(rest):
        return "", text
    return " . ".join(context), rest


# A condition after the question ("Gehen die Schulen leer aus, wenn die IT-Leute ins neue Amt wechseln?"): the main
# clause says what is asked, the condition only when.
_CONDITION_RE = re.compile(r",\s*(?:wenn|falls|sobald|weil|if|when|once|because)\b", re.IGNORECASE)


def split_condition(text: str) -> tuple[str, str]:
    """(the question, a trailing condition): "Gehen die Schulen leer aus, wenn die IT-Leute wechseln?" →
    ("Gehen die Schulen leer aus", ", wenn die IT-Leute wechseln?"); without such a clause (text, "")."""
    found = _CONDITION_RE.search(text)
    if found is None:
        return text, ""
    return text[: found.start()], text[found.start() :]


def split_preamble(text: str) -> tuple[str, str]:
    """(statements before a closing question, the question): "Die Rundmail hab ich gelesen. Was macht das neue
    Amt genau?" → ("Die Rundmail hab ich gelesen.", "Was macht das neue Amt genau?").

    Split only when the last sentence is the one question and has three words or more; otherwise ("", text).
    """
    sentences = [s.strip() for s in _SENTENCE_END_RE.split(text) if words(s)]
    if (
        len(sentences) < 2
        or not sentences[-1].endswith("?")
        or len(words(sentences[-1])) < 3
        or any("?" in s for s in sentences[:-1])
    ):
        return "", text
    return " ".join(sentences[:-1]), sentences[-1]


# The end of a statement: "." or "!" after a word (not "zum 1. Juli", nor a two-letter abbreviation like "z.B.").
_SENTENCE_END_RE = re.compile(r"(?<=[^\W\d_]{3}[.!])\s+")


def plain(text: str) -> str:
    """Folded words joined by single spaces: for whole-string comparisons (smalltalk, duplicates, logs)."""
    return " ".join(words(text))
