"""Map a question, in an employee's own words, to an entry — or admit that we do not know.

Every phrasing is normalised once when the index is built (:mod:`bot.matching.normalize`). A question's terms
are then looked up in the index vocabulary: exactly, as a typo (rapidfuzz OSA distance against the knowledge's words,
tolerance growing with word length), or as a compound of two known terms (``Schulausstattung`` → ``schul`` +
``ausstatt``). Terms are weighted by how well they tell entries apart (inverse entry frequency), so a word that
many entries share (IT, Amt, wann) cannot carry a match on its own, and words the knowledge has never seen count
against a match: a question about something else mostly consists of them.

Each entry scores the best of (a) its best phrasing — how much of the question it covers and how much of the
phrasing the question covers — and (b) how much of the question its whole vocabulary explains. The outcome is
decided by :class:`Thresholds`, the one place where they live.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.knowledge.model import LANGS, Knowledge, Lang
from bot.matching.normalize import (
    BUILTIN_SYNONYMS,
    CONCEPT_PREFIX,
    NAME,
    OTHERS,
    QUANTITY,
    SynonymTable,
    Token,
    analyse,
    detect_language,
    plain,
    replace_words,
    split_asker,
    split_condition,
    split_preamble,
    stem,
    terms,
    words,
)
from bot.matching.stopwords import STOPWORDS

Status = Literal["answer", "clarify", "fallback", "smalltalk"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """All decision thresholds, on the 0–100 score scale."""

    answer: float = 60.0  # at or above: answer confidently …
    margin: float = 4.0  # … if the runner-up entry is at least this far behind
    clarify: float = 58.0  # at or above (but not confident): offer up to ``max_options`` choices
    ambiguous_clarify: float = 50.0  # … or at/above this when the best entry knows all the question's words
    explained_share: float = 0.83  # "knows all": this share of the question's weight
    known_clarify: float = 48.0  # … or at/above this when every word of the question is a knowledge word …
    known_share: float = 0.70  # … and the best entry knows this share of the question's weight
    option_floor: float = 0.72  # an option must score at least this share of the best score
    max_options: int = 3
    close_clarify: float = 50.0  # below the clarify thresholds but at or above this: offer the options …
    close_share: float = 0.91  # … when the runner-up scores at least this share of the best (between two entries)
    min_evidence: float = 0.31  # an answer needs known words worth at least this (1 = one word unique to an entry)
    verbatim: float = 92.0  # whole-string similarity to one of the best entry's phrasings that answers outright
    smalltalk: float = 57.0  # whole-string similarity to a smalltalk phrasing, for short chit-chat …
    smalltalk_word: float = 75.0  # … that has every word of one smalltalk phrasing, at least this similar
    unknown_weight: float = 0.8  # weight of an unknown word, relative to the rarest known term
    condition_weight: float = 0.5  # known words only a trailing condition ("…, wenn …") has weigh this much
    phrasing_floor: float = 0.44  # a phrasing's common words still count when missing from the question
    answer_word_credit: float = 0.34  # credit for a question word found only in an entry's answer
    query_exponent: float = 0.6  # phrasing score = (share of question covered)^q · (share of phrasing covered)^p
    phrasing_exponent: float = 0.4
    bag_share: float = 0.2  # share of the entry-vocabulary score in the final score
    typo_similarity: float = 0.8  # credit for a term matched with a typo
    compound_similarity: float = 1.0  # credit for a term matched as a compound of two known terms
    long_unknown_factor: float = 1.0  # unknown words over 8 letters (compounds, nouns) weigh this much more
    key_term_uses: float = 2.0  # a term in this many of an entry's phrasings is one of its key terms …
    incidental_credit: float = 0.6  # … a term in only one of them gives this share of the credit
    unmatched_exponent: float = 0.5  # < 1: many unexplained words weigh less than their sum
    foreign_factor: float = 1.85  # known words the entry never uses weigh this much in its question total
    noun_unknown_factor: float = 2.5  # unknown capitalised words inside a German sentence (nouns) weigh this much
    noun_evidence: float = 2.0  # with such a noun, the best entry must know words worth this much to be offered
    long_question_terms: int = 7  # a question of this many terms (after stop words) is a long one …
    long_clarify: float = 44.0  # … and is offered back from this score …
    long_evidence: float = 2.5  # … when the best entry knows words of it worth this much (see ``min_evidence``)


DEFAULT_THRESHOLDS = Thresholds()
_OFFICE = "amt"  # the term of "Amt"
_VERB_ENDINGS = ("en", "t", "nde")  # infinitives, 3rd person and participles, present participles
_SLIP_LENGTH = 5  # smalltalk words are recognised misspelt from this length on ("tschüsss"; "die" is no "adieu")


def _by_first_letter_and_length(vocabulary: Iterable[str]) -> dict[tuple[str, int], list[str]]:
    """Words bucketed by first letter and length: typo candidates for a word are the few buckets around it."""
    buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
    for word in vocabulary:
        buckets[(word[0], len(word))].append(word)
    return buckets


# Misspelt function words ("meer", "waas", "kan") are function words, not unknown ones.
_STOPWORDS_BY_KEY = _by_first_letter_and_length(w for w in STOPWORDS if len(w) >= 3)


@dataclass(frozen=True, slots=True)
class Candidate:
    entry_id: str
    score: float  # 0–100
    phrasing: str  # the phrasing that matched best (for explanations and "Meinten Sie …?")
    evidence: float = 1.0  # weight of the question's words the entry knows, in units of the rarest term's weight


@dataclass(frozen=True, slots=True)
class Match:
    status: Status
    lang: Lang
    score: float
    entry_id: str | None = None  # entry (answer) or smalltalk id (smalltalk)
    candidates: tuple[Candidate, ...] = ()  # best first; for clarify: the options
    normalized: str = ""  # the question's terms, for grouping logs of unanswered questions


@dataclass(slots=True)
class _Phrasing:
    entry_id: str
    text: str
    weights: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    plain: str = ""


@dataclass(frozen=True, slots=True)
class _QueryTerm:
    term: str  # the index term it resolved to ("" when unknown)
    similarity: float  # 1.0 exact, less for typos/compounds
    weight: float
    source: str = ""  # the question's own term (kept for unknown words, to group unanswered questions)
    noun: bool = False  # an unknown word capitalised inside a German sentence: it names something
    aside: bool = False  # an unknown word of a preamble: weighs nothing, but makes the message a longer one


class Matcher:
    """An immutable index over one :class:`Knowledge`; build once per knowledge version."""

    def __init__(self, knowledge: Knowledge, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> None:
        self.knowledge = knowledge
        self.thresholds = thresholds
        self.synonyms = SynonymTable.build(knowledge.synonyms)
        # One-word synonyms by stem, for the parts of compounds ("Dezernats|zuordnung" → dezernat, ~zuordnung).
        self._concept_of_stem = {
            variant[0]: concept
            for table in self.synonyms.by_lang.values()
            for variants in table.values()
            for variant, concept in variants
            if len(variant) == 1
        }
        self._modifiers = frozenset(CONCEPT_PREFIX + "-".join(words(group[0])) for group in BUILTIN_SYNONYMS)
        self._phrasings: list[_Phrasing] = []
        entry_terms: dict[str, set[str]] = defaultdict(set)
        raw_terms: list[tuple[str, str, list[str]]] = []
        for entry in knowledge.entries.values():
            for lang, phrasings in entry.questions.items():
                for text in phrasings:
                    t = terms(text, lang, self.synonyms)
                    raw_terms.append((entry.id, text, t))
                    entry_terms[entry.id].update(t)
        self._vocab: set[str] = set().union(*entry_terms.values()) if entry_terms else set()
        # Compounds in phrasings also stand for their parts ("Schulausstattung" answers "Ausstattung der Schulen").
        for entry_id, text, t in raw_terms:
            expanded = list(t)
            for term in t:
                expanded.extend(self._split_compound(term, synonyms=False) or ())
            entry_terms[entry_id].update(expanded)
            self._phrasings.append(_Phrasing(entry_id, text, dict.fromkeys(expanded, 0.0), plain=plain(text)))
        # The answer's own words are weaker evidence than the phrasings, but they are the entry's vocabulary.
        answer_terms: dict[str, set[str]] = {}
        for entry in knowledge.entries.values():
            bag: set[str] = set()
            for lang in LANGS:
                bag.update(terms(entry.answer.get(lang), lang, self.synonyms))
            answer_terms[entry.id] = bag - entry_terms[entry.id]
        n = max(len(entry_terms), 1)
        df: dict[str, int] = defaultdict(int)
        # Words that at least half of the entries' answers add to their vocabulary ("Quelle", "Stadt": every answer
        # cites its source) tell no entry apart; counted, they made the source entry's "Quelle" a common word.
        in_answers: dict[str, int] = defaultdict(int)
        for bag in answer_terms.values():
            for term in bag:
                in_answers[term] += 1
        boilerplate = {term for term, count in in_answers.items() if count * 2 >= n}
        for eid, bag in entry_terms.items():
            for term in bag | (answer_terms[eid] - boilerplate):
                df[term] += 1
        self._idf = {term: math.log(1 + n / count) for term, count in df.items()}
        self._max_idf = math.log(1 + n)
        floor = self.thresholds.phrasing_floor * self._max_idf
        for p in self._phrasings:
            p.weights = {term: max(self._idf[term], floor) for term in p.weights}
            p.total = sum(p.weights.values())
        self._phrasings_of: dict[str, list[_Phrasing]] = defaultdict(list)
        for p in self._phrasings:
            self._phrasings_of[p.entry_id].append(p)
        # How firmly a term belongs to an entry: a key term recurs across its phrasings ("KGSt"), an incidental
        # one ("spät" in one of thirty) does not, and must not carry a match the way a key term does.
        uses: dict[tuple[str, str], int] = defaultdict(int)
        for p in self._phrasings:
            for term in p.weights:
                uses[(p.entry_id, term)] += 1
        settings = self.thresholds

        def support(entry_id: str, term: str) -> float:
            share = min(uses[(entry_id, term)] / settings.key_term_uses, 1.0)
            return settings.incidental_credit + (1.0 - settings.incidental_credit) * share

        self._support: dict[tuple[str, str], float] = {key: support(*key) for key in uses}
        # Inverted indexes: term → (phrasing, weight, support, entry) and term → (entry, credit of its vocabulary).
        self._postings: dict[str, list[tuple[int, float, float, str]]] = defaultdict(list)
        for i, p in enumerate(self._phrasings):
            for term, weight in p.weights.items():
                self._postings[term].append((i, weight, self._support[(p.entry_id, term)], p.entry_id))
        self._entry_postings: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for eid, bag in entry_terms.items():
            for term in bag:
                self._entry_postings[term].append((eid, self._support[(eid, term)]))
            for term in answer_terms[eid]:
                self._entry_postings[term].append((eid, self.thresholds.answer_word_credit))
        self._vocab = set(self._idf)
        # What an entry with ``requires`` needs in a question: the terms of its required words (a synonym's
        # concept, not the words it is made of: "IT-Stellen" requires the concept, not every "IT").
        self._required: dict[str, frozenset[str]] = {
            entry.id: frozenset(
                token.term
                for text in entry.requires
                for lang in LANGS
                for token in analyse(text, lang, self.synonyms)
                if not token.part
            )
            for entry in knowledge.entries.values()
            if entry.requires
        }
        # Typos are looked up among the words the knowledge uses (before stemming), each mapped to its term.
        self._word_terms: dict[str, str] = {}
        self._noun_words: set[str] = set()  # knowledge words written as nouns (capitalised inside a sentence)
        self._word_langs: dict[str, set[Lang]] = defaultdict(set)  # the languages whose texts use a word
        for entry in knowledge.entries.values():
            texts = [(lang, p) for lang, ps in entry.questions.items() for p in ps]
            texts += [(lang, entry.answer.get(lang)) for lang in LANGS]
            for lang, text in texts:
                for token in analyse(text, lang, self.synonyms):
                    if token.word and token.term in self._idf:
                        self._word_terms.setdefault(token.word, token.term)
                        self._word_langs[token.word].add(lang)
                        if token.noun:
                            self._noun_words.add(token.word)
        # Question words (wieso, weshalb …) are knowledge words too, so "wiso" finds "wieso".
        for group in (*BUILTIN_SYNONYMS, *knowledge.synonyms):
            for variant in group:
                variant_words = words(variant)
                if len(variant_words) == 1:
                    for token in analyse(variant, "de", self.synonyms):
                        if token.term in self._idf:
                            self._word_terms.setdefault(variant_words[0], token.term)
                            # Lower case in synonyms.yaml, yet a word an editor named: a misspelt capitalised
                            # "Zwischnzeit" may be corrected to it like any knowledge noun.
                            self._noun_words.add(variant_words[0])
        # Typos rarely hit the first letter: candidates are bucketed by first letter and length.
        self._words_by_key = _by_first_letter_and_length(self._word_terms)
        # Smalltalk is recognised on whole words; words only smalltalk uses ("hallo", "danke") are set aside
        # before FAQ matching, so "Hallo, wann wird das Amt gegründet?" is a question about the founding.
        self._smalltalk: dict[str, str] = {}
        smalltalk_words: set[str] = set()
        for item in knowledge.smalltalk.values():
            for phrasings in item.questions.values():
                for text in phrasings:
                    self._smalltalk.setdefault(plain(text), item.id)
                    smalltalk_words.update(words(text))
        self._smalltalk_words = frozenset(smalltalk_words)
        self._smalltalk_phrasing_words = {tuple(p.split()) for p in self._smalltalk}
        self._long_smalltalk_words = sorted(w for w in smalltalk_words if len(w) >= _SLIP_LENGTH)

    # -- public -----------------------------------------------------------------------------------------------
    def match(self, question: str, lang: Lang | None = None) -> Match:
        """Decide answer / clarify / fallback / smalltalk for one question."""
        lang = lang or detect_language(question)
        all_words = words(question)
        query = self._query_terms(question, lang, skip_smalltalk=True)
        normalized = " ".join(sorted({q.term or q.source for q in query}))
        # Mostly chit-chat ("Vielen Dank für die Info"): smalltalk words outnumber what is left for the FAQ.
        chat_words = sum(
            1
            for w in all_words
            if len(w) > 1 and w in self._smalltalk_words and w not in STOPWORDS and stem(w, lang) not in self._idf
        )
        if not query or chat_words >= len(query):
            smalltalk = self._smalltalk_hit(all_words, loose=True, chatty=True)
            if smalltalk or not query:
                if smalltalk:
                    return Match("smalltalk", lang, smalltalk[1], smalltalk[0], normalized=normalized)
                return Match("fallback", lang, 0.0, normalized=normalized)
        candidates = self.rank(query)
        for intent in (QUANTITY, OTHERS, NAME):
            if any(intent in (q.term, q.source) for q in query):
                # Only an entry asked for a number (or for the others) itself answers one; the rest do not know it.
                candidates = [c for c in candidates if (c.entry_id, intent) in self._support]
        rivals = candidates
        if self._required:
            candidates = [c for c in candidates if self.meets_requirements(c.entry_id, query)]
        t = self.thresholds
        best = candidates[0] if candidates else None
        # Clarify is for ambiguity, fallback for ignorance: a question whose words the best entry fully knows
        # ("Ausschreibung der Stelle" with two such entries) may be offered back at a lower score.
        # Evidence counts a corrected word at its similarity; so does the total it is compared with.
        query_total = sum(q.weight * (q.similarity if q.term else 1.0) for q in query)
        explained = best.evidence * self._max_idf / query_total if best is not None and query_total > 0 else 0.0
        # Every word known to the knowledge: the question is about something it covers, worded unlike any phrasing.
        known = all(q.term or q.aside for q in query)
        clarify_at = (
            t.ambiguous_clarify
            if explained >= t.explained_share
            else t.known_clarify
            if known and explained >= t.known_share
            else t.clarify
        )
        # An entry left out for its ``requires`` still competes: "Schule" alone stays a question back.
        runner_up = max((c.score for c in rivals if best is None or c.entry_id != best.entry_id), default=0.0)
        if best is None or best.score < clarify_at:
            smalltalk = self._smalltalk_hit(all_words, loose=True)
            if smalltalk:
                return Match("smalltalk", lang, smalltalk[1], smalltalk[0], normalized=normalized)
            # Two entries that explain the question about equally well: the question is about *them*, we just
            # cannot tell which; a question about something else rarely fits two entries alike.
            # Only when every word is known: an unknown one ("Budget", "Homeoffice") says it is about something else.
            if best is not None and known and best.score >= t.close_clarify and runner_up >= t.close_share * best.score:
                return Match("clarify", lang, best.score, None, self._options(candidates, t.close_share), normalized)
            # A long question piles up words no phrasing has (asides, filler, who is asking), so the entry it is
            # about scores lower than a short question would. Offered back when the entry knows enough of it;
            # a short question about something else ("Wann wurde die KGSt gegründet?") never gets here.
            long = len(query) >= t.long_question_terms
            if best is not None and long and best.score >= t.long_clarify and best.evidence >= t.long_evidence:
                return Match("clarify", lang, best.score, None, self._options(candidates, t.option_floor), normalized)
            return Match("fallback", lang, best.score if best else 0.0, None, tuple(candidates[:3]), normalized)
        confident = best.score >= t.answer and best.score - runner_up >= t.margin and best.evidence >= t.min_evidence
        # A noun the knowledge has never seen ("Welche *Software* nutzt das Amt?") names something it may not
        # cover: such a question is offered back, never answered outright.
        unknown_noun = any(q.noun for q in query)
        if (confident and not unknown_noun) or self._verbatim(question, best.entry_id):
            return Match("answer", lang, best.score, best.entry_id, tuple(candidates[:3]), normalized)
        # ... and when the entry knows little else of it ("Wird die Amtsleitung in *Teilzeit* ausgeschrieben?",
        # "Wann ist *Ostern* nächstes Jahr?"), the noun is what it is about: not offered back either.
        if unknown_noun and best.evidence < t.noun_evidence:
            return Match("fallback", lang, best.score, None, tuple(candidates[:3]), normalized)
        # Offered back, the options may include an entry its ``requires`` kept from answering: the user picks.
        return Match("clarify", lang, best.score, None, self._options(rivals, t.option_floor), normalized)

    def meets_requirements(self, entry_id: str, query: list[_QueryTerm] | str, lang: Lang = "de") -> bool:
        """Whether the question names one of the entry's ``requires`` words (always true without any)."""
        required = self._required.get(entry_id)
        if not required:
            return True
        if isinstance(query, str):
            query = self._query_terms(query, lang, skip_smalltalk=True)
        return any(q.term in required for q in query)

    def rank(self, query: list[_QueryTerm] | str, lang: Lang = "de") -> list[Candidate]:
        """Entries that could reach the clarify threshold, best first (scores 0–100).

        Terms are scored term-at-a-time over the inverted index. Common terms that could not lift an entry to the
        clarify threshold on their own do not open candidates (MaxScore pruning); they still add to the score
        of candidates opened by rarer terms. This keeps a 16,000-phrasing index at a few milliseconds.
        """
        if isinstance(query, str):
            query = self._query_terms(query, lang)
        t = self.thresholds
        query_total = sum(q.weight for q in query)
        resolved = sorted((q for q in query if q.term), key=lambda q: q.weight * q.similarity)
        if query_total <= 0 or not resolved:
            return []
        # Question words (wann, warum …) refine a match but never open one: "wer bist du" is not about anything.
        opening = [q for q in resolved if q.term not in self._modifiers]
        # The lowest score that can still matter: an option next to the best, or a runner-up within the margin.
        floor = min(t.answer - t.margin, min(t.clarify, t.ambiguous_clarify) * t.option_floor)
        reachable = sum(q.weight * q.similarity for q in resolved if q.term in self._modifiers)
        while opening:
            reachable += opening[0].weight * opening[0].similarity
            share = self._coverage(reachable, query_total)  # an upper bound of what these terms alone can reach
            if self._combine(self._phrasing_score(share, 1.0), share) * 100 >= floor:
                break
            opening.pop(0)
        opened = {q.term for q in opening}
        followers = [q for q in resolved if q.term not in opened]

        # Entry level first: what each entry's vocabulary explains. An entry whose known words could not lift
        # it to the floor even with a perfect phrasing is dropped before the (costlier) phrasing level.
        bag: dict[str, float] = defaultdict(float)
        in_bag: dict[str, float] = defaultdict(float)  # question weight the entry's vocabulary knows at all
        for q in opening:
            for entry_id, credit in self._entry_postings.get(q.term, ()):
                bag[entry_id] += q.weight * q.similarity * credit
                in_bag[entry_id] += q.weight * q.similarity
        for q in followers:
            for entry_id, credit in self._entry_postings.get(q.term, ()):
                if entry_id in bag:
                    bag[entry_id] += q.weight * q.similarity * credit
                    in_bag[entry_id] += q.weight * q.similarity
        for entry_id, known in list(in_bag.items()):
            reach = self._coverage(known, query_total)
            if self._combine(self._phrasing_score(reach, 1.0), reach) * 100 < floor:
                del bag[entry_id], in_bag[entry_id]

        covered_q: dict[int, float] = defaultdict(float)
        covered_p: dict[int, float] = defaultdict(float)
        for q in opening:
            credit = q.weight * q.similarity
            for i, weight, support, entry_id in self._postings.get(q.term, ()):
                if entry_id in bag:
                    covered_q[i] += credit * support
                    covered_p[i] += weight * q.similarity
        phrasings = self._phrasings
        for q in followers:
            postings = self._postings.get(q.term, ())
            if len(postings) <= len(covered_q):
                for i, weight, support, _ in postings:
                    if i in covered_q:
                        covered_q[i] += q.weight * q.similarity * support
                        covered_p[i] += weight * q.similarity
                continue
            for i in covered_q:
                found = phrasings[i].weights.get(q.term)
                if found is not None:
                    covered_q[i] += q.weight * q.similarity * self._support[(phrasings[i].entry_id, q.term)]
                    covered_p[i] += found * q.similarity

        # Known words that belong to other entries ("KGSt" in "Wann wurde die KGSt gegründet?") say the question
        # is about something else: they weigh ``foreign_factor`` times in the entry's question total.
        known_total = sum(q.weight * q.similarity for q in resolved)
        extra = t.foreign_factor - 1.0

        def total_for(entry_id: str) -> float:
            return query_total + extra * max(known_total - in_bag.get(entry_id, 0.0), 0.0)

        # The hot loop (thousands of phrasings on a large index): _coverage and _phrasing_score inlined.
        best: dict[str, tuple[float, int]] = {}
        totals: dict[str, float] = {}
        scale, exponent = self._max_idf, t.unmatched_exponent
        qe, pe = t.query_exponent, t.phrasing_exponent
        for i, cq in covered_q.items():
            p = phrasings[i]
            entry_id = p.entry_id
            total = totals.get(entry_id)
            if total is None:
                total = totals[entry_id] = total_for(entry_id)
            unmatched = total - cq
            coverage = 1.0 if unmatched <= 0.0 else cq / (cq + scale * (unmatched / scale) ** exponent)
            score = min(coverage, 1.0) ** qe * min(covered_p[i] / p.total, 1.0) ** pe
            if score > best.get(entry_id, (-1.0, 0))[0]:
                best[entry_id] = (score, i)
        out = []
        for entry_id, bag_cover in bag.items():
            phrasing_score, i = best.get(entry_id, (0.0, -1))
            score = self._combine(phrasing_score, self._coverage(bag_cover, total_for(entry_id)))
            text = phrasings[i].text if i >= 0 else self.knowledge.entries[entry_id].title("de")
            evidence = round(in_bag.get(entry_id, 0.0) / self._max_idf, 3)
            out.append(Candidate(entry_id, round(100 * min(score, 1.0), 1), text, evidence))
        out.sort(key=lambda c: (-c.score, c.entry_id))
        return out

    def _options(self, candidates: list[Candidate], share: float) -> tuple[Candidate, ...]:
        """The "Meinten Sie …?" options: the best candidates scoring at least ``share`` of the best one."""
        best = candidates[0].score
        return tuple(c for c in candidates[: self.thresholds.max_options] if c.score >= best * share)

    def _coverage(self, matched: float, total: float) -> float:
        """Share of the question an entry explains. What it leaves unexplained counts sublinearly: the first
        unexplained word says much ("Wer leitet das *Hauptamt*?"), the tenth of a chatty question little."""
        unmatched = max(total - matched, 0.0)
        if unmatched <= 0.0:
            return 1.0
        scale = self._max_idf
        return float(matched / (matched + scale * (unmatched / scale) ** self.thresholds.unmatched_exponent))

    def _phrasing_score(self, coverage_q: float, coverage_p: float) -> float:
        """How well one phrasing fits: share of the question it covers and share of the phrasing covered."""
        t = self.thresholds
        return float(min(coverage_q, 1.0) ** t.query_exponent * min(coverage_p, 1.0) ** t.phrasing_exponent)

    def _combine(self, phrasing_score: float, bag_cover: float) -> float:
        """The entry's score from its best phrasing and the share of the question its vocabulary explains."""
        t = self.thresholds
        return float((1 - t.bag_share) * phrasing_score + t.bag_share * min(bag_cover, 1.0) ** 1.5)

    # -- internals --------------------------------------------------------------------------------------------
    def _query_terms(self, question: str, lang: Lang, *, skip_smalltalk: bool = False) -> list[_QueryTerm]:
        """The question's terms resolved against the index; unknown words keep a weight of their own.

        With ``skip_smalltalk``, words the knowledge only knows from smalltalk ("hallo", "danke") are set aside,
        so "Hallo, wann wird das Amt gegründet?" is a question about the founding.
        """
        t = self.thresholds
        out: list[_QueryTerm] = []
        seen: set[str] = set()

        conditional: set[str] = set()  # terms only a trailing condition has ("…, wenn die IT-Leute wechseln?")

        def add(term: str, similarity: float) -> None:
            if term not in seen:
                seen.add(term)
                factor = t.condition_weight if term in conditional else 1.0
                out.append(_QueryTerm(term, similarity, self._idf[term] * factor))

        # Who is asking ("Ich bin Teamleiter im Bauamt und …") is not what is asked: what the knowledge knows of
        # it still counts ("Ich bin IT-Admin …"), its unknown words ("Bauamt", "Azubi") do not count against.
        context, question = split_asker(question)
        # Statements before a closing question set the scene the same way ("Die Rundmail hab ich gelesen. Was
        # macht das neue Amt genau?"), except that their unknown words still make the message a long one.
        # Measured: counting those words at a share, or only their nouns, gave back most of what this wins
        # (tests/eval/README.md, dev31).
        preamble, question = split_preamble(question)
        for scene, asides in ((context, False), (preamble, True)):
            for token in analyse(scene, lang, self.synonyms):
                if token.term in self._idf:
                    add(token.term, 1.0)
                elif asides and not token.part and token.term not in seen:
                    seen.add(token.term)
                    out.append(_QueryTerm("", 0.0, 0.0, token.term, aside=True))
        # Misspelt words are corrected before synonyms are looked up, so "Amt für Digitalisirung" still names
        # the office: a typo inside a multi-word synonym would otherwise lose the synonym's concept.
        tokens = analyse(question, lang, self.synonyms)
        lower_case = not any(ch.isupper() for ch in question)
        splits: dict[tuple[str, str], tuple[str, str] | None] = {}  # compound splits, shared with the typo pass
        fixes = self._corrections(tokens, skip_smalltalk=skip_smalltalk, lang=lang, splits=splits)
        if fixes:
            question = replace_words(question, fixes)
            tokens = analyse(question, lang, self.synonyms)
        fixed = set(fixes.values())
        # A condition after the question tells when, the main clause what: "Gehen die Schulen leer aus, wenn die
        # IT-Leute ins neue Amt wandern?" is about the schools, not about the staff moving.
        main, condition = split_condition(question)
        in_main = {token.term for token in analyse(main, lang, self.synonyms)} if condition else set()
        # … unless the main clause only points at it: "Was bringt uns das, wenn alles in einem Amt landet?"
        if len(in_main) >= 2:
            conditional.update(
                token.term for token in analyse(condition, lang, self.synonyms) if token.term not in in_main
            )
        for token in tokens:
            term = token.term
            if term in seen:
                continue
            if term in self._idf:
                add(term, t.typo_similarity if token.word in fixed else 1.0)
                continue
            if skip_smalltalk and token.word in self._smalltalk_words:
                continue
            if token.part:
                continue  # "ler" of "IT-ler": its synonym's concept already stands for it
            key = (term, token.word)
            parts = splits[key] if key in splits else self._split_compound(term, word=token.word)
            if parts:
                for part in parts:
                    add(part, t.compound_similarity)
                continue
            if token.word in fixed:  # a corrected word whose stem differs in this language ("bedeutet" read as English)
                add(self._word_terms[token.word], t.typo_similarity)
                continue
            # A synonym is spelt as meant ("Gehalt" is not a slip of "gehabt").
            if not token.noun and not term.startswith(CONCEPT_PREFIX) and self._stopword_typo(token.word):
                continue
            if term.isdigit() and len(term) <= 2:
                continue  # "Dezernat 2" without synonym, list numbering …: not evidence either way
            seen.add(term)
            # English has no capitals to tell nouns: an unknown word of five letters or more ("finance",
            # "software") weighs like an unknown German noun. Nor has German typed all in lower case: a long word
            # that does not end like a verb form or participle ("telefonnummer", not "aufzumachen") is one.
            noun_like = (
                token.noun
                or (lang == "en" and len(token.word) >= 5)
                or (lang == "de" and lower_case and len(token.word) >= 8 and not token.word.endswith(_VERB_ENDINGS))
            )
            weight = self._unknown_weight(token.word or term, noun=noun_like)
            out.append(_QueryTerm("", 0.0, weight, term, noun=token.noun))
        return out

    def _verbatim(self, question: str, entry_id: str) -> bool:
        """The question is (nearly) word for word one of the entry's phrasings, stop words included."""
        folded = plain(question)
        return any(
            fuzz.ratio(folded, p.plain) >= self.thresholds.verbatim for p in self._phrasings_of.get(entry_id, ())
        )

    def _unknown_weight(self, word: str, *, noun: bool = False) -> float:
        """Unknown words count against a match; nouns and long words (compounds) more than short fillers.

        "Wer ist zuständig für Straßenlaternen?" is about street lamps, whatever else it shares with an entry.
        """
        t = self.thresholds
        factor = 0.7 if len(word) <= 4 else 1.0 if len(word) <= 8 else t.long_unknown_factor
        if noun:
            factor = max(factor, t.noun_unknown_factor)
        return t.unknown_weight * self._max_idf * factor

    def _corrections(
        self,
        tokens: list[Token],
        *,
        skip_smalltalk: bool,
        lang: Lang | None = None,
        splits: dict[tuple[str, str], tuple[str, str] | None] | None = None,
    ) -> dict[str, str]:
        """Misspelt words of the question's tokens → the knowledge words they stand for (see :meth:`_typo_word`).

        A compound of known parts is no typo; its split is kept in ``splits`` (by term and word) for the caller.
        Nor is a synonym whose concept no entry uses ("verdient" asks for a figure): it is spelt as meant.
        """
        fixes: dict[str, str] = {}
        for token in tokens:
            if not token.word or token.part or token.term in self._idf or token.term.startswith(CONCEPT_PREFIX):
                continue
            if skip_smalltalk and token.word in self._smalltalk_words:
                continue
            parts = self._split_compound(token.term, word=token.word)
            word = self._dialect_word(token.word) if lang == "de" else None
            # A split with a three-letter part is weaker than a typo: "zugeordent" is "zugeordnet", not "Zug" +
            # "Orden".
            # Two swapped letters of a function word ("genua") are that word, not one letter off another ("genug").
            split_wins = parts and all(len(part) >= 4 for part in parts)
            function_word = not token.noun and _swaps_to_function_word(token.word)
            if word is None and not split_wins and not function_word:
                word = self._typo_word(token.word, noun=token.noun, lang=lang)
            if splits is not None:
                splits[(token.term, token.word)] = None if word else parts
            if word:
                fixes[token.word] = word
        return fixes

    def _dialect_word(self, word: str) -> str | None:
        """A Swabian/Alemannic form read as the standard one: "leita", "Schula" are "leiten", "Schulen"; "Angscht"
        is "Angst"."""
        if len(word) >= 4 and word.endswith("a"):
            standard = word[:-1] + "en"
            if standard in self._word_terms:
                return standard
        if "scht" in word:
            standard = word.replace("scht", "st")
            if standard in self._word_terms:
                return standard
        return None

    def _typo_word(self, word: str, *, noun: bool = False, lang: Lang | None = None) -> str | None:
        """The knowledge word within a length-dependent edit distance, if one meaning is clearly closest.

        Three-letter words are too short for edit distances; only a dropped double letter ("wan") or two swapped
        letters ("nue") are repaired.
        """
        if len(word) == 3:
            found = {w for w in _doubled(word) if w in self._word_terms}
            found = found or {w for w in _swapped(word) if w in self._word_terms}
            return found.pop() if len(found) == 1 else None
        if len(word) < 4:
            return None
        # Typos are looked up by first letter; two swapped first letters ("amcht") are looked up as such.
        first = _swapped(word)[0]
        if first in self._word_terms and (not noun or first in self._noun_words):
            return first
        # A capitalised word was written with care: one slip is a typo, two may be another noun ("Digitalpakt"),
        # unless the word is long: "Gemeinschafstelle" is two slips from "Gemeinschaftsstelle" and nothing else.
        max_dist = 1 if len(word) < 8 or (noun and len(word) < 13) else 2
        choices = [
            w
            for n in range(len(word) - max_dist, len(word) + max_dist + 1)
            for w in self._words_by_key.get((word[0], n), ())
        ]
        if noun:  # a capitalised word is a noun: "Passwort" is not "passiert", "Vergaben" not "vergeben"
            choices = [w for w in choices if w in self._noun_words]
        if not choices:
            return None
        hits = process.extract(word, choices, scorer=OSA.distance, score_cutoff=max_dist, limit=3)
        if not hits:
            return None
        best = [h for h in hits if h[1] == hits[0][1]]
        terms_found = {self._word_terms[h[0]] for h in best}
        if len(terms_found) > 1 and lang is not None:
            # "lesn" is as close to "less" as to "lesen"; in a German question, the German word is meant.
            best = [h for h in best if lang in self._word_langs.get(h[0], {lang})]
            terms_found = {self._word_terms[h[0]] for h in best}
        if len(terms_found) == 1:
            return str(best[0][0])
        # "dezernant" is as close to "Dezernat" as to "Dezernent": when one of the words is used by every entry
        # that uses the others, it is the guess that leaves no entry out.
        entries = {term: {eid for eid, _ in self._entry_postings.get(term, ())} for term in terms_found}
        for word, *_ in best:
            term = self._word_terms[word]
            if all(entries[term] >= other for other in entries.values()):
                return str(word)
        return None  # equally close words with different meanings: better unknown than a guess

    def _stopword_typo(self, word: str) -> bool:
        """An unknown word one edit away from a function word ("meer", "meinr"); not for nouns (the caller checks).

        Three-letter function words are too short for an edit distance: only a doubled or dropped double letter or
        two swapped letters count ("waas" is "was", "kan" is "kann", "dei" is "die"; "desk" is not "des").
        """
        if len(word) == 3:
            return any(w in STOPWORDS for w in _doubled(word)) or _swaps_to_function_word(word)
        if len(word) < 4 or word[0] not in "abcdefghijklmnopqrstuvwxyzäöü":
            return False
        choices = [
            w for n in (len(word) - 1, len(word), len(word) + 1) for w in _STOPWORDS_BY_KEY.get((word[0], n), ())
        ]
        return any(word in _doubled(w) if len(w) == 3 else OSA.distance(word, w, score_cutoff=1) <= 1 for w in choices)

    def _split_compound(self, term: str, *, synonyms: bool = True, word: str = "") -> tuple[str, str] | None:
        """Split an unknown German compound into two known terms (``schulausstatt`` → ``schul``, ``ausstatt``).

        With ``word`` (the unstemmed compound), a split of the word whose tail stems to a known term is tried
        too: the stem of a compound can end differently from the stem of its last part ("Digitalisierungseinheit").
        """
        found = self._split_stem(term, synonyms=synonyms, stem_tail=False)
        if found is None and word and word != term:
            found = self._split_stem(word, synonyms=synonyms, stem_tail=True)
        return found

    def _split_stem(self, term: str, *, synonyms: bool, stem_tail: bool) -> tuple[str, str] | None:
        if len(term) < 7 or term.startswith(CONCEPT_PREFIX):
            return None
        known = self._vocab
        concept_of_stem = self._concept_of_stem if synonyms else {}
        for i in range(len(term) - 3, 2, -1):
            head, tail = term[:i], term[i:]
            if len(tail) < 3:
                continue
            if stem_tail:
                tail = stem(tail)
            # A synonym as a part needs four letters: "Personal|rat" is not the council ("rat").
            tail = tail if tail in known else concept_of_stem.get(tail, "") if len(tail) >= 4 else ""
            # "Personal|amt", "Schul|amt" name one particular other office, not the new one: no split.
            if tail not in known or tail == _OFFICE:
                continue
            for left in (head, head[:-1] if head.endswith("s") else None, stem(head)):
                if left and len(left) >= 3 and left != term:
                    left = left if left in known else concept_of_stem.get(left, "") if len(left) >= 4 else ""
                    if left in known:
                        return left, tail
        return None

    def _smalltalk_hit(self, query_words: list[str], *, loose: bool, chatty: bool = False) -> tuple[str, float] | None:
        """A smalltalk phrasing contained in the question (longest first); ``loose`` also accepts a close one,
        ``chatty`` (a message of mostly smalltalk words) also one that only shares misspelt chat words."""
        if not self._smalltalk or not query_words:
            return None
        text = " " + " ".join(query_words) + " "
        # Contained smalltalk must be most of the message: "translate good morning into French" is not a greeting.
        # "Wer bist du eigentlich und was kannst du so?" is: two smalltalk phrasings and nothing but stop words.
        contained = [p for p in self._smalltalk if f" {p} " in text]
        covered = {w for p in contained for w in p.split()}
        if any(w not in covered and w not in STOPWORDS for w in query_words):
            contained = [p for p in contained if 2 * len(p.split()) >= len(query_words)]
        if contained:
            best = max(contained, key=lambda p: (len(p.split()), text.rfind(f" {p} ")))
            return self._smalltalk[best], 100.0
        if not loose:
            return None
        # Loose still needs one smalltalk phrasing whose every word the message has, if misspelt ("Vielen Dank
        # für die schnelle Antwort", "tschüsss"), or – in a message of mostly chat words – chat words only, if
        # misspelt ("Bisch du en Bot?"): "schneit es morgen" is near "bis morgen" as a string, yet has no "bis";
        # a lone "morgen" is a day, not a greeting. And "Wetter" is near "weiter", but not chat.
        # Each long question word is compared with the long smalltalk words once: its slips of them, if any.
        cutoff = self.thresholds.smalltalk_word
        near = {
            w: {
                hit[0]
                for hit in process.extract(
                    w, self._long_smalltalk_words, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
                )
            }
            for w in set(query_words)
            if len(w) >= _SLIP_LENGTH
        }
        had = set(query_words).union(*near.values())
        whole = any(all(w in had for w in words) for words in self._smalltalk_phrasing_words)
        if not whole and not (
            chatty and all(w in STOPWORDS or w in self._smalltalk_words or near.get(w) for w in query_words)
        ):
            return None
        hit = process.extractOne(
            text.strip(), self._smalltalk.keys(), scorer=fuzz.ratio, score_cutoff=self.thresholds.smalltalk
        )
        return (self._smalltalk[hit[0]], float(hit[1])) if hit else None


def _swaps_to_function_word(word: str) -> bool:
    """Two neighbouring letters of ``word`` swapped give a function word: "dei" (die), "genua" (genau)."""
    return any(w in STOPWORDS for w in _swapped(word))


def _swapped(word: str) -> list[str]:
    """``word`` with two neighbouring letters swapped: "nue" → "une", "neu"."""
    return [word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)]


def _doubled(word: str) -> list[str]:
    """``word`` with one of its letters doubled: "wan" → "wwan", "waan", "wann"."""
    return [word[: i + 1] + word[i:] for i in range(len(word)) if word[i].isalpha()]
