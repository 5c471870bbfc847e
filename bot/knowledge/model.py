"""The knowledge model: what editors write in ``knowledge/*.yaml``, as frozen dataclasses.

Nothing here reads files or knows about Telegram; :mod:`bot.knowledge.loader` builds these objects and
:mod:`bot.answers` renders them.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["de", "en"]
LANGS: tuple[Lang, ...] = ("de", "en")
DEFAULT_LANG: Lang = "de"


@dataclass(frozen=True, slots=True)
class Text:
    """A text in German (always present) and English (may be missing; then German is shown)."""

    de: str
    en: str | None = None

    def get(self, lang: Lang) -> str:
        if lang == "en" and self.en:
            return self.en
        return self.de


@dataclass(frozen=True, slots=True)
class Source:
    url: str
    title: str


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    title: Text


@dataclass(frozen=True, slots=True)
class Entry:
    """One FAQ entry: how people ask, what the bot answers, where that comes from."""

    id: str
    topic: str
    questions: Mapping[Lang, tuple[str, ...]]
    answer: Text
    sources: tuple[Source, ...]
    as_of: dt.date
    related: tuple[str, ...] = ()
    milestones: tuple[str, ...] = ()
    # The entry answers only questions that name one of these (words or synonyms): "schulausstattung" is about
    # what the reorganisation means for the schools' equipment, not about "Bekommen die Schulen neue Tablets?".
    requires: tuple[str, ...] = ()
    owner: str | None = None
    review_by: dt.date | None = None
    file: str = ""
    line: int = 0  # where the entry starts in ``file`` (0: unknown, e.g. built in code)
    question_lines: Mapping[Lang, tuple[int, ...]] = field(default_factory=dict)  # line of each phrasing

    def title(self, lang: Lang) -> str:
        """The entry's first phrasing in ``lang`` (German if there is none): used on buttons and lists."""
        phrasings = self.questions.get(lang) or self.questions["de"]
        return phrasings[0]


@dataclass(frozen=True, slots=True)
class Fact:
    """A named value that answers reference as ``{{ fact:name }}``; one edit updates every answer."""

    name: str
    value: Text
    sources: tuple[Source, ...]
    as_of: dt.date
    review_by: dt.date | None = None
    file: str = ""
    line: int = 0


class MilestoneStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


STATUS_LABELS: Mapping[MilestoneStatus, Text] = {
    MilestoneStatus.PLANNED: Text("geplant", "planned"),
    MilestoneStatus.IN_PROGRESS: Text("läuft", "in progress"),
    MilestoneStatus.DONE: Text("erledigt", "done"),
}


@dataclass(frozen=True, slots=True)
class Milestone:
    """A step of the reorganisation. Answers reference it as ``{{ milestone:id }}`` to show its status."""

    id: str
    title: Text
    status: MilestoneStatus
    text: Text
    sources: tuple[Source, ...]
    as_of: dt.date
    date: dt.date | None = None
    when: Text | None = None
    tags: tuple[str, ...] = ()
    announce_at: dt.datetime | None = None
    file: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class Smalltalk:
    """Greeting, thanks, "who are you", goodbye: recognised, answered briefly, never logged as unanswered."""

    id: str
    questions: Mapping[Lang, tuple[str, ...]]
    answer: Text
    file: str = ""


@dataclass(frozen=True, slots=True)
class Knowledge:
    """One complete, validated knowledge set. Swapped in as a whole, never edited in place."""

    entries: Mapping[str, Entry]
    facts: Mapping[str, Fact]
    milestones: Mapping[str, Milestone]
    topics: Mapping[str, Topic]
    synonyms: tuple[tuple[str, ...], ...]
    smalltalk: Mapping[str, Smalltalk]
    version: str = ""
    files: tuple[str, ...] = field(default=())

    def entries_in_topic(self, topic_id: str) -> list[Entry]:
        return [e for e in self.entries.values() if e.topic == topic_id]
