"""Callback data of inline buttons: compact strings (≤ 64 bytes) and a parser that trusts nothing.

Grammar (``<ref>`` is an entry or topic id, or ``#`` + 12 hex digits of its SHA-1 when the id is too long)::

    T:<page>                      topic overview, page n
    t:<ref>:<page>                questions of one topic, page n
    e:<ref>[:<question>]          show an entry's answer (question: the clarify question it was picked for)
    f:<+|->:<ref>[:<question>]    feedback 👍/👎 on an answer (question: the question_log row id)
    l:<de|en>                     set the user's language
    a:<+|->:<ref>                 confirm (+) or cancel (-) the announcement of a milestone (admins)
    u:<days>:<index>              review queue (/unbeantwortet over <days> days): show group number <index>
    u:<days>:<a|d|s>:<question>[:<ref>]
                                  review the group of question row <question>: attach it to entry <ref> as
                                  a learned phrasing (a), dismiss it (d), search an entry to attach it to (s)

Anyone can send arbitrary callback data to a bot (with a modified client), so :func:`parse` accepts only
exactly this grammar and returns ``None`` for anything else; resolving a ref against the knowledge
(:func:`resolve_entry`, :func:`resolve_topic`) is a separate step, because an entry may have been removed
since the button was sent.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, TypeVar

from bot.knowledge.model import Entry, Knowledge, Lang, Milestone, Topic

MAX_BYTES: Final = 64
MAX_PAGE: Final = 999
_ID_MAX: Final = 40  # longer ids are referenced by hash so that every format stays within 64 bytes
_HASH_LEN: Final = 12
_REF: Final = rf"(?:[a-z0-9-]{{1,{_ID_MAX}}}|#[0-9a-f]{{{_HASH_LEN}}})"
_PAGE: Final = r"(?:0|[1-9][0-9]{0,2})"
_QUESTION: Final = r"([1-9][0-9]{0,11})"

_TOPICS_RE: Final = re.compile(rf"T:({_PAGE})")
_TOPIC_RE: Final = re.compile(rf"t:({_REF}):({_PAGE})")
_ENTRY_RE: Final = re.compile(rf"e:({_REF})(?::{_QUESTION})?")
_FEEDBACK_RE: Final = re.compile(rf"f:([+-]):({_REF})(?::([1-9][0-9]{{0,17}}))?")
_LANG_RE: Final = re.compile(r"l:(de|en)")
_ANNOUNCE_RE: Final = re.compile(rf"a:([+-]):({_REF})")
_REVIEW_PAGE_RE: Final = re.compile(rf"u:({_PAGE}):({_PAGE})")
_REVIEW_RE: Final = re.compile(rf"u:({_PAGE}):([ads]):{_QUESTION}(?::({_REF}))?")


@dataclass(frozen=True, slots=True)
class ShowTopics:
    page: int = 0


@dataclass(frozen=True, slots=True)
class ShowTopic:
    topic_ref: str
    page: int = 0


@dataclass(frozen=True, slots=True)
class ShowEntry:
    entry_ref: str
    question_id: int | None = None  # set for the options of a clarify question


@dataclass(frozen=True, slots=True)
class Feedback:
    value: Literal[1, -1]
    entry_ref: str
    question_id: int | None = None


@dataclass(frozen=True, slots=True)
class SetLang:
    lang: Lang


@dataclass(frozen=True, slots=True)
class Announce:
    confirm: bool
    milestone_ref: str


@dataclass(frozen=True, slots=True)
class ReviewPage:
    days: int
    index: int


@dataclass(frozen=True, slots=True)
class Review:
    days: int
    verb: Literal["attach", "dismiss", "search"]
    question_id: int
    entry_ref: str | None = None  # only (and always) for attach


Action = ShowTopics | ShowTopic | ShowEntry | Feedback | SetLang | Announce | ReviewPage | Review
_VERBS: Final[dict[str, Literal["attach", "dismiss", "search"]]] = {"a": "attach", "d": "dismiss", "s": "search"}


# ------------------------------------------------------------------------------------------------ encode


def ref(identifier: str) -> str:
    """The reference of an entry or topic id inside callback data."""
    if re.fullmatch(rf"[a-z0-9-]{{1,{_ID_MAX}}}", identifier):
        return identifier
    return "#" + hashlib.sha1(identifier.encode("utf-8")).hexdigest()[:_HASH_LEN]


def _checked(data: str) -> str:
    if not 1 <= len(data.encode("utf-8")) <= MAX_BYTES:  # pragma: no cover - guaranteed by the formats
        raise ValueError(f"callback data too long: {data!r}")
    return data


def topics(page: int = 0) -> str:
    return _checked(f"T:{_clamp(page)}")


def topic(topic_id: str, page: int = 0) -> str:
    return _checked(f"t:{ref(topic_id)}:{_clamp(page)}")


def entry(entry_id: str, question_id: int | None = None) -> str:
    data = f"e:{ref(entry_id)}"
    if question_id is not None and 0 < question_id < 10**12:
        data += f":{question_id}"
    return _checked(data)


def feedback(value: int, entry_id: str, question_id: int | None = None) -> str:
    sign = "+" if value > 0 else "-"
    data = f"f:{sign}:{ref(entry_id)}"
    if question_id is not None and question_id > 0:
        with_question = f"{data}:{question_id}"
        if len(with_question.encode("utf-8")) <= MAX_BYTES:
            data = with_question
    return _checked(data)


def lang(code: Lang) -> str:
    return _checked(f"l:{code}")


def announce(confirm: bool, milestone_id: str) -> str:
    return _checked(f"a:{'+' if confirm else '-'}:{ref(milestone_id)}")


def review_page(days: int, index: int) -> str:
    return _checked(f"u:{_clamp(days)}:{_clamp(index)}")


def review(days: int, verb: Literal["attach", "dismiss", "search"], question_id: int, entry_id: str = "") -> str:
    if not 0 < question_id < 10**12:
        raise ValueError(f"question id out of range: {question_id}")
    if (verb == "attach") != bool(entry_id):
        raise ValueError("attach needs an entry id, dismiss and search take none")
    data = f"u:{_clamp(days)}:{verb[0]}:{question_id}"
    return _checked(f"{data}:{ref(entry_id)}" if entry_id else data)


def _clamp(page: int) -> int:
    return max(0, min(MAX_PAGE, page))


# ------------------------------------------------------------------------------------------------- parse


def parse(data: object) -> Action | None:
    """The action a button press asks for, or None if ``data`` is not exactly one of our formats."""
    if not isinstance(data, str) or not 1 <= len(data.encode("utf-8", "surrogatepass")) <= MAX_BYTES:
        return None
    if m := _ENTRY_RE.fullmatch(data):
        return ShowEntry(m.group(1), int(m.group(2)) if m.group(2) else None)
    if m := _FEEDBACK_RE.fullmatch(data):
        value: Literal[1, -1] = 1 if m.group(1) == "+" else -1
        return Feedback(value, m.group(2), int(m.group(3)) if m.group(3) else None)
    if m := _TOPIC_RE.fullmatch(data):
        return ShowTopic(m.group(1), int(m.group(2)))
    if m := _TOPICS_RE.fullmatch(data):
        return ShowTopics(int(m.group(1)))
    if m := _LANG_RE.fullmatch(data):
        return SetLang("en" if m.group(1) == "en" else "de")
    if m := _ANNOUNCE_RE.fullmatch(data):
        return Announce(m.group(1) == "+", m.group(2))
    if m := _REVIEW_PAGE_RE.fullmatch(data):
        return ReviewPage(int(m.group(1)), int(m.group(2)))
    if m := _REVIEW_RE.fullmatch(data):
        verb = _VERBS[m.group(2)]
        if (verb == "attach") != (m.group(4) is not None):
            return None
        return Review(int(m.group(1)), verb, int(m.group(3)), m.group(4))
    return None


_T = TypeVar("_T", Entry, Topic, Milestone)


def _resolve(items: Iterable[tuple[str, _T]], wanted: str) -> _T | None:
    for identifier, item in items:
        if ref(identifier) == wanted:
            return item
    return None


def resolve_entry(knowledge: Knowledge, entry_ref: str) -> Entry | None:
    """The entry ``entry_ref`` points to in this knowledge version, or None (removed or forged)."""
    found = knowledge.entries.get(entry_ref)
    if found is not None and ref(found.id) == entry_ref:
        return found
    return _resolve(knowledge.entries.items(), entry_ref) if entry_ref.startswith("#") else None


def resolve_topic(knowledge: Knowledge, topic_ref: str) -> Topic | None:
    found = knowledge.topics.get(topic_ref)
    if found is not None and ref(found.id) == topic_ref:
        return found
    return _resolve(knowledge.topics.items(), topic_ref) if topic_ref.startswith("#") else None


def resolve_milestone(knowledge: Knowledge, milestone_ref: str) -> Milestone | None:
    found = knowledge.milestones.get(milestone_ref)
    if found is not None and ref(found.id) == milestone_ref:
        return found
    return _resolve(knowledge.milestones.items(), milestone_ref) if milestone_ref.startswith("#") else None
