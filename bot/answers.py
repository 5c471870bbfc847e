"""Turn a :class:`Match` into a :class:`Reply`: the words a user reads, in plain text or Telegram HTML.

Placeholders (``{{ fact:x }}``, ``{{ milestone:y }}``) are resolved here, so an edited fact changes every answer.
Every answer carries its sources and its "Stand" (the newest ``as_of`` of the entry and what it references).
Everything that comes from YAML is escaped when rendered as HTML.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot import texts
from bot.knowledge.loader import PLACEHOLDER_RE
from bot.knowledge.model import STATUS_LABELS, Entry, Knowledge, Lang, Milestone, Source
from bot.matching.matcher import Match, Status
from bot.texts import fmt_date

TELEGRAM_LIMIT = 4096  # characters per message, counted in UTF-16 code units


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (how Telegram counts)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


@dataclass(frozen=True, slots=True)
class Option:
    """A choice offered to the user: an entry id and the question it answers."""

    entry_id: str
    label: str


@dataclass(frozen=True, slots=True)
class Reply:
    status: Status
    lang: Lang
    entry_id: str | None = None
    score: float = 0.0
    body: str = ""  # the answer text with placeholders resolved (plain)
    timeline: tuple[str, ...] = ()  # one line per milestone: "Gründung: geplant (…)"
    sources: tuple[Source, ...] = ()
    as_of: dt.date | None = None
    options: tuple[Option, ...] = ()  # clarify: "Meinten Sie …?"
    related: tuple[Option, ...] = ()
    topics: tuple[str, ...] = ()  # fallback: the topics the bot knows about

    def plain(self) -> str:
        """The reply as a user reads it in a terminal (no markup)."""
        return self._render(escape=lambda s: s, link=lambda s: f"{s.title} – {s.url}", emph=lambda s: s)

    def html(self) -> str:
        """The reply in Telegram's HTML parse mode; every text from YAML is escaped."""
        return self._render(
            escape=html.escape,
            link=lambda s: f'<a href="{html.escape(s.url, quote=True)}">{html.escape(s.title)}</a>',
            emph=lambda s: f"<i>{s}</i>",
        )

    def _render(self, escape: Callable[[str], str], link: Callable[[Source], str], emph: Callable[[str], str]) -> str:
        lang = self.lang
        parts: list[str] = []
        if self.status == "clarify":
            lines = [escape(texts.CLARIFY.get(lang))]
            lines += [f"{i}. {escape(o.label)}" for i, o in enumerate(self.options, 1)]
            parts.append("\n".join(lines))
        elif self.status == "fallback":
            lines = [escape(texts.FALLBACK.get(lang))]
            lines += [f"• {escape(t)}" for t in self.topics]
            parts.append("\n".join(lines))
            parts.append(escape(texts.FALLBACK_HINT.get(lang)))
        else:
            parts.append(escape(self.body))
        if self.timeline:
            parts.append(
                "\n".join([escape(texts.TIMELINE.get(lang)) + ":", *(f"• {escape(t)}" for t in self.timeline)])
            )
        if self.sources:
            label = (texts.SOURCE if len(self.sources) == 1 else texts.SOURCES).get(lang)
            parts.append(f"{escape(label)}: " + "; ".join(link(s) for s in self.sources))
        if self.as_of:
            parts.append(emph(escape(f"{texts.AS_OF.get(lang)}: {fmt_date(self.as_of, lang)}")))
        return "\n\n".join(parts)


class Renderer:
    """Renders entries and matches of one knowledge version."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge

    def reply(self, match: Match) -> Reply:
        k = self.knowledge
        entry_id = match.entry_id or ""
        if match.status == "answer" and entry_id in k.entries:
            return self.entry(k.entries[entry_id], match.lang, match.score)
        if match.status == "smalltalk" and entry_id in k.smalltalk:
            body = k.smalltalk[entry_id].answer.get(match.lang)
            return Reply("smalltalk", match.lang, match.entry_id, match.score, body=body)
        if match.status == "clarify":
            options = tuple(
                Option(c.entry_id, k.entries[c.entry_id].title(match.lang))
                for c in match.candidates
                if c.entry_id in k.entries
            )
            return Reply("clarify", match.lang, None, match.score, options=options)
        topics = tuple(t.title.get(match.lang) for t in k.topics.values() if k.entries_in_topic(t.id))
        return Reply("fallback", match.lang, None, match.score, topics=topics)

    def entry(self, entry: Entry, lang: Lang, score: float = 100.0) -> Reply:
        """The full answer of ``entry``, with sources, Stand, timeline and related questions."""
        k = self.knowledge
        dates = [entry.as_of]
        body = self.resolve(entry.answer.get(lang), lang, dates)
        timeline = []
        for mid in entry.milestones:
            milestone = k.milestones[mid]
            dates.append(milestone.as_of)
            timeline.append(f"{milestone.title.get(lang)}: {self.milestone_status(milestone, lang)}")
        related = tuple(Option(r, k.entries[r].title(lang)) for r in entry.related if r in k.entries)
        return Reply(
            "answer",
            lang,
            entry.id,
            score,
            body=body,
            timeline=tuple(timeline),
            sources=entry.sources,
            as_of=max(dates),
            related=related,
        )

    def resolve(self, text: str, lang: Lang, dates: list[dt.date] | None = None) -> str:
        """Replace ``{{ fact:x }}`` and ``{{ milestone:y }}``; collect their ``as_of`` dates into ``dates``."""
        k = self.knowledge

        def substitute(m: re.Match[str]) -> str:
            kind, name = m.groups()
            if kind == "fact" and name in k.facts:
                fact = k.facts[name]
                if dates is not None:
                    dates.append(fact.as_of)
                return fact.value.get(lang)
            if kind == "milestone" and name in k.milestones:
                milestone = k.milestones[name]
                if dates is not None:
                    dates.append(milestone.as_of)
                return self.milestone_status(milestone, lang)
            return m.group(0)  # the loader refuses unknown names; never reached with validated knowledge

        return PLACEHOLDER_RE.sub(substitute, text).strip()

    @staticmethod
    def milestone_status(milestone: Milestone, lang: Lang) -> str:
        """``erledigt (Mitte Dezember 2021)`` / ``geplant (Termin noch offen)``."""
        label = STATUS_LABELS[milestone.status].get(lang)
        if milestone.date:
            return f"{label} ({fmt_date(milestone.date, lang)})"
        if milestone.when:
            return f"{label} ({milestone.when.get(lang)})"
        return f"{label} ({texts.NOT_DECIDED.get(lang)})"

    def timeline(self, lang: Lang) -> list[str]:
        """Every milestone with its current status, in file order: ``Titel: geplant (…)``."""
        return [f"{m.title.get(lang)}: {self.milestone_status(m, lang)}" for m in self.knowledge.milestones.values()]

    def topics_overview(self, lang: Lang) -> list[tuple[str, list[Option]]]:
        """(topic title, its entries as options) for every topic that has entries."""
        k = self.knowledge
        out = []
        for topic in k.topics.values():
            entries = k.entries_in_topic(topic.id)
            if entries:
                out.append((topic.title.get(lang), [Option(e.id, e.title(lang)) for e in entries]))
        return out
