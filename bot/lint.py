"""Knowledge lint: the editors' mistakes that load fine but make the bot worse (``faqbot check``).

The loader refuses what cannot be served and warns about missing translations and past ``review_by`` dates; this
module adds what needs the matcher, the renderer or a view across the whole set:

* **self-test** (error): every example phrasing must be answered with its own entry.
* **confusable** (warning): two entries whose phrasings score close to each other — for a phrasing of A, entry B
  scores less than ``CONFUSABLE_MARGINS`` × the matcher's answer margin (2 × 4 = 8 points) below A, or above it.
  The phrasing itself is still answered (it matches A word for word), but a user's paraphrase that costs A a few
  points is asked back or goes to B. Each pair is reported once, at its closest phrasing, with both scores.
* **coverage** (warning): fewer than ``MIN_PHRASINGS`` phrasings (5 German, 3 English), an English answer that is
  the German text (a plain-text answer), a rendered answer longer than one Telegram message, a source URL that is
  syntactically broken (checked offline), facts and milestones that no answer uses.
* **review** (warning): a planned milestone whose date has passed, an ``as_of`` date in the future. Past
  ``review_by`` dates are warned about by the loader; :func:`stale_items` lists them.

The self-test matches every phrasing once; the confusable check reuses those matches.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from bot.answers import TELEGRAM_LIMIT, Renderer, utf16_len
from bot.knowledge.loader import PLACEHOLDER_RE
from bot.knowledge.model import LANGS, Entry, Knowledge, Lang, MilestoneStatus, Source
from bot.knowledge.yamlnodes import Category, Problem
from bot.matching.matcher import Candidate, Match, Matcher

MIN_PHRASINGS: Mapping[Lang, int] = {"de": 5, "en": 3}
CONFUSABLE_MARGINS = 2.0  # confusable: the other entry within this many answer margins of the phrasing's own

CATEGORY_LABELS: Mapping[Category, str] = {
    "load": "Laden und Aufbau",
    "self-test": "Selbsttest",
    "confusable": "Verwechslungsgefahr",
    "coverage": "Abdeckung",
    "review": "Aktualität",
}

_LANG_NAMES: Mapping[Lang, str] = {"de": "deutsche", "en": "englische"}
_BAD_URL_CHARS = frozenset(' "<>\\^`{|}„“”‘’«»')
_HOST_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_BROKEN_ESCAPE_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True, slots=True)
class SelfTestFailure:
    """An example phrasing that the matcher does not answer with its own entry."""

    entry_id: str
    lang: Lang
    phrasing: str
    status: str  # what the matcher did: answer (another entry), clarify, fallback, smalltalk
    got_entry: str | None  # the entry answered or competing in the clarify, the smalltalk id; None for fallback
    candidates: tuple[Candidate, ...] = ()  # the matcher's best entries with their scores
    lacks_required: bool = False  # the phrasing names none of the entry's ``requires`` words

    def problem(self, knowledge: Knowledge) -> Problem:
        entry = knowledge.entries[self.entry_id]
        index = entry.questions[self.lang].index(self.phrasing)
        quoted = f"Formulierung „{self.phrasing}“"
        scores = _scores(self.candidates, self.entry_id)
        advice = "Formulierung mit den Begriffen dieses Eintrags eindeutiger machen oder streichen"
        if self.lacks_required:
            what = (
                f"{quoted} enthält keinen der Begriffe unter requires ({', '.join(entry.requires)}), "
                "also beantwortet der Bot sie nie mit diesem Eintrag"
            )
            advice = (
                "Einen dieser Begriffe (oder ein Synonym) in die Formulierung aufnehmen, einen Begriff unter "
                "requires ergänzen oder die Formulierung streichen"
            )
        elif self.status == "answer":
            what = f"{quoted} führt nicht zu diesem Eintrag, sondern zu „{self.got_entry}“{scores}"
        elif self.status == "clarify":
            rival = f" mit „{self.got_entry}“" if self.got_entry else ""
            what = f"{quoted} führt nicht zu diesem Eintrag, sondern zu einer Rückfrage{rival}{scores}"
        elif self.status == "smalltalk":
            what = f"{quoted} wird als Smalltalk („{self.got_entry}“) beantwortet, nicht mit diesem Eintrag"
        else:
            what = f"{quoted} führt zu keiner Antwort (der Bot erkennt darin keinen Eintrag){scores}"
        return Problem(
            entry.file,
            _phrasing_line(entry, self.lang, index),
            f"{_entry_path(entry)}.questions.{self.lang}[{index}]",
            f"{what}. {advice}.",
            "error",
            "self-test",
        )


@dataclass(frozen=True, slots=True)
class StaleItem:
    """An entry or fact whose ``review_by`` date has passed."""

    kind: Literal["entry", "fact"]
    id: str
    review_by: dt.date
    owner: str | None
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class _Checked:
    """One example phrasing and what the matcher made of it."""

    entry: Entry
    lang: Lang
    index: int
    match: Match
    meets_requirements: bool = True  # checked only when the phrasing fails (see :func:`_match_phrasings`)

    @property
    def phrasing(self) -> str:
        return self.entry.questions[self.lang][self.index]

    def own_score(self) -> float | None:
        return next((c.score for c in self.match.candidates if c.entry_id == self.entry.id), None)

    def failure(self) -> SelfTestFailure | None:
        match = self.match
        if match.status == "answer" and match.entry_id == self.entry.id:
            return None
        if match.status == "clarify":
            got = next((c.entry_id for c in match.candidates if c.entry_id != self.entry.id), None)
        else:
            got = match.entry_id
        return SelfTestFailure(
            self.entry.id, self.lang, self.phrasing, match.status, got, match.candidates, not self.meets_requirements
        )


def self_test(knowledge: Knowledge, matcher: Matcher) -> list[SelfTestFailure]:
    """Every example phrasing of every entry must be answered (status ``answer``) with its own entry."""
    return _failures(_match_phrasings(knowledge, matcher))


def lint(knowledge: Knowledge, matcher: Matcher, *, today: dt.date) -> list[Problem]:
    """All findings of the lint (not the loader's), self-test errors included, sorted by file and line."""
    return run_lint(knowledge, matcher, today=today)[0]


def run_lint(knowledge: Knowledge, matcher: Matcher, *, today: dt.date) -> tuple[list[Problem], list[SelfTestFailure]]:
    """:func:`lint` and :func:`self_test` from one matching pass: (all findings, the self-test failures)."""
    checked = _match_phrasings(knowledge, matcher)
    failures = _failures(checked)
    problems = [failure.problem(knowledge) for failure in failures]
    problems += _confusable(checked, CONFUSABLE_MARGINS * matcher.thresholds.margin)
    problems += _coverage(knowledge)
    problems += _review(knowledge, today)
    return sorted(problems, key=lambda p: (p.file, p.line)), failures


def stale_items(knowledge: Knowledge, today: dt.date) -> list[StaleItem]:
    """Entries and facts whose ``review_by`` date is before ``today``, oldest first."""
    items = [
        StaleItem("entry", e.id, e.review_by, e.owner, e.file, e.line)
        for e in knowledge.entries.values()
        if e.review_by and e.review_by < today
    ]
    items += [
        StaleItem("fact", f.name, f.review_by, None, f.file, f.line)
        for f in knowledge.facts.values()
        if f.review_by and f.review_by < today
    ]
    return sorted(items, key=lambda item: (item.review_by, item.file, item.line))


def url_problem(url: str) -> str | None:
    """Why ``url`` is syntactically broken, in words for editors; None if it looks fine. Never goes online."""
    bad = [ch for ch in url if ch in _BAD_URL_CHARS or ord(ch) < 32]
    if bad:
        return f"enthält das unzulässige Zeichen {bad[0]!r}"
    if _BROKEN_ESCAPE_RE.search(url):
        return "enthält ein '%' ohne zwei Hex-Ziffern dahinter"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        return "hat einen ungültigen Aufbau (Port oder eckige Klammern)"
    host = parts.hostname or ""
    if not _valid_host(host):
        return f"hat keinen gültigen Rechnernamen („{host}“)"
    if url[-1] in ".,;:":
        return "endet mit einem Satzzeichen (beim Kopieren mitgenommen?)"
    return None


# -- internals ----------------------------------------------------------------------------------------------


def _match_phrasings(knowledge: Knowledge, matcher: Matcher) -> list[_Checked]:
    out = []
    for entry in knowledge.entries.values():
        for lang, phrasings in entry.questions.items():
            seen: set[str] = set()
            for index, phrasing in enumerate(phrasings):
                if phrasing not in seen:  # a repeated phrasing gives the same result: report it once
                    seen.add(phrasing)
                    match = matcher.match(phrasing, lang)
                    answered = match.status == "answer" and match.entry_id == entry.id
                    # Only a failure needs its reason; most phrasings pass and are not analysed a second time.
                    met = answered or matcher.meets_requirements(entry.id, phrasing, lang)
                    out.append(_Checked(entry, lang, index, match, met))
    return out


def _failures(checked: list[_Checked]) -> list[SelfTestFailure]:
    return [failure for c in checked if (failure := c.failure()) is not None]


@dataclass(frozen=True, slots=True)
class _Close:
    checked: _Checked
    own: float
    rival: Candidate

    @property
    def gap(self) -> float:
        return self.own - self.rival.score


def _confusable(checked: list[_Checked], max_gap: float) -> list[Problem]:
    """One warning per pair of entries with a phrasing of one scoring within ``max_gap`` points for the other."""
    closest: dict[tuple[str, str], _Close] = {}
    count: Counter[tuple[str, str]] = Counter()
    for c in checked:
        own = c.own_score()
        if own is None:
            continue  # its own entry is not even a candidate: the self-test reports it
        for rival in c.match.candidates:
            if rival.entry_id == c.entry.id or own - rival.score >= max_gap:
                continue
            a, b = sorted((c.entry.id, rival.entry_id))
            pair = (a, b)
            count[pair] += 1
            close = _Close(c, own, rival)
            if pair not in closest or close.gap < closest[pair].gap:
                closest[pair] = close
    problems = []
    for pair, close in closest.items():
        c, rival = close.checked, close.rival
        n = count[pair]
        how_many = (
            "1 Formulierung der beiden Einträge liegt" if n == 1 else f"{n} Formulierungen der beiden Einträge liegen"
        )
        gap = f"weniger als {max_gap:g} Punkte Abstand" if close.gap >= 0 else f"„{rival.entry_id}“ liegt sogar vorn"
        problems.append(
            Problem(
                c.entry.file,
                _phrasing_line(c.entry, c.lang, c.index),
                f"{_entry_path(c.entry)}.questions.{c.lang}[{c.index}]",
                f"Verwechslungsgefahr mit „{rival.entry_id}“: Formulierung „{c.phrasing}“ erreicht hier "
                f"{close.own:.1f} Punkte, bei „{rival.entry_id}“ {rival.score:.1f} ({gap}); {how_many} so knapp. "
                "Formulierungen beider Einträge mit Begriffen schärfen, die nur zum jeweiligen Eintrag passen.",
                "warning",
                "confusable",
            )
        )
    return problems


def _coverage(knowledge: Knowledge) -> list[Problem]:
    problems: list[Problem] = []

    def warn(file: str, line: int, path: str, message: str) -> None:
        problems.append(Problem(file, line, path, message, "warning", "coverage"))

    renderer = Renderer(knowledge)
    for entry in knowledge.entries.values():
        path = _entry_path(entry)
        for lang, minimum in MIN_PHRASINGS.items():
            n = len(entry.questions.get(lang, ()))
            if 0 < n < minimum:  # none at all: the loader warns (English) or refuses (German)
                warn(
                    entry.file,
                    _phrasing_line(entry, lang, 0),
                    f"{path}.questions.{lang}",
                    f"nur {n} {_LANG_NAMES[lang]} Formulierung{'en' if n > 1 else ''} (mindestens {minimum}): "
                    "weitere Varianten ergänzen, so wie Beschäftigte fragen",
                )
        if entry.answer.en == entry.answer.de:
            warn(
                entry.file,
                entry.line,
                f"{path}.answer.en",
                "englische Antwort fehlt (die Antwort ist ein einfacher Text und damit in beiden Sprachen gleich): "
                "answer mit de: und en: schreiben",
            )
        for lang in LANGS:
            length = utf16_len(renderer.entry(entry, lang).html())
            if length > TELEGRAM_LIMIT:
                warn(
                    entry.file,
                    entry.line,
                    f"{path}.answer.{lang}",
                    f"Antwort ist mit Quellen und Stand {length} Zeichen lang, mehr als eine Telegram-Nachricht "
                    f"({TELEGRAM_LIMIT}); der Bot teilt sie auf. Bitte kürzen.",
                )
        problems.extend(_source_problems(entry.sources, entry.file, entry.line, path))
    for fact in knowledge.facts.values():
        problems.extend(_source_problems(fact.sources, fact.file, fact.line, f"facts[name={fact.name}]"))
    for milestone in knowledge.milestones.values():
        problems.extend(
            _source_problems(milestone.sources, milestone.file, milestone.line, _milestone_path(milestone.id))
        )

    used_facts, used_milestones = _references(knowledge)
    for fact in knowledge.facts.values():
        if fact.name not in used_facts:
            warn(
                fact.file,
                fact.line,
                f"facts[name={fact.name}]",
                f"Fakt „{fact.name}“ wird in keiner Antwort verwendet: mit {{{{ fact:{fact.name} }}}} einsetzen "
                "oder löschen",
            )
    for milestone in knowledge.milestones.values():
        if milestone.id not in used_milestones:
            warn(
                milestone.file,
                milestone.line,
                _milestone_path(milestone.id),
                f"Meilenstein „{milestone.id}“ gehört zu keiner Antwort (nur unter /meilensteine und in "
                f"Ankündigungen sichtbar): bei einem passenden Eintrag unter milestones: [{milestone.id}] eintragen",
            )
    return problems


def _source_problems(sources: Iterable[Source], file: str, line: int, path: str) -> Iterator[Problem]:
    for i, source in enumerate(sources):
        reason = url_problem(source.url)
        if reason is not None:
            yield Problem(
                file,
                line,
                f"{path}.sources[{i}].url",
                f"Adresse „{source.url}“ {reason}: im Browser prüfen und korrigieren",
                "warning",
                "coverage",
            )


def _references(knowledge: Knowledge) -> tuple[set[str], set[str]]:
    """Fact names and milestone ids that answers use (milestone texts may use facts too)."""
    texts = [t for e in knowledge.entries.values() for t in (e.answer.de, e.answer.en)]
    texts += [t for m in knowledge.milestones.values() for t in (m.text.de, m.text.en)]
    facts: set[str] = set()
    milestones = {mid for e in knowledge.entries.values() for mid in e.milestones}
    for text in texts:
        for kind, name in PLACEHOLDER_RE.findall(text or ""):
            (facts if kind == "fact" else milestones).add(name)
    return facts, milestones


def _review(knowledge: Knowledge, today: dt.date) -> list[Problem]:
    problems: list[Problem] = []

    def warn(file: str, line: int, path: str, message: str) -> None:
        problems.append(Problem(file, line, path, message, "warning", "review"))

    def future(as_of: dt.date) -> str:
        return f"Stand {as_of.isoformat()} liegt in der Zukunft: Tippfehler im Datum? as_of ist das Datum der Quelle"

    for entry in knowledge.entries.values():
        if entry.as_of > today:
            warn(entry.file, entry.line, f"{_entry_path(entry)}.as_of", future(entry.as_of))
    for fact in knowledge.facts.values():
        if fact.as_of > today:
            warn(fact.file, fact.line, f"facts[name={fact.name}].as_of", future(fact.as_of))
    for milestone in knowledge.milestones.values():
        path = _milestone_path(milestone.id)
        if milestone.as_of > today:
            warn(milestone.file, milestone.line, f"{path}.as_of", future(milestone.as_of))
        if milestone.date and milestone.date < today and milestone.status is MilestoneStatus.PLANNED:
            warn(
                milestone.file,
                milestone.line,
                f"{path}.status",
                f"Datum {milestone.date.isoformat()} ist vorbei, Status ist aber noch „geplant“: status und as_of "
                "aktualisieren oder das Datum korrigieren",
            )
    return problems


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    try:
        labels = host.encode("idna").decode("ascii").split(".")
    except UnicodeError:
        return False
    tld = labels[-1]
    return (
        len(labels) >= 2
        and all(_HOST_LABEL_RE.match(label) for label in labels)
        and ((tld.isalpha() and len(tld) >= 2) or tld.startswith("xn--"))
    )


def _scores(candidates: tuple[Candidate, ...], own_id: str) -> str:
    if not candidates:
        return ""
    shown = [
        f"dieser Eintrag {c.score:.1f}" if c.entry_id == own_id else f"„{c.entry_id}“ {c.score:.1f}" for c in candidates
    ]
    return f" (Punkte: {', '.join(shown)})"


def _phrasing_line(entry: Entry, lang: Lang, index: int) -> int:
    """The phrasing's line; the entry's for a phrasing without one (built in code, learned: 0)."""
    lines = entry.question_lines.get(lang, ())
    return (lines[index] if index < len(lines) else 0) or entry.line


def _entry_path(entry: Entry) -> str:
    return f"entries[id={entry.id}]"


def _milestone_path(milestone_id: str) -> str:
    return f"milestones[id={milestone_id}]"
