"""The answering core as one object: a validated knowledge version with its index, swapped atomically.

``FaqService.ask`` is what the CLI and every Telegram handler call. ``reload`` validates a directory and swaps
the new version in only if it is clean; otherwise the version that was serving keeps serving.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bot.answers import Renderer, Reply
from bot.knowledge.loader import LoadResult, load_knowledge
from bot.knowledge.model import Knowledge, Lang
from bot.matching.matcher import Match, Matcher, Thresholds

log = logging.getLogger(__name__)


class KnowledgeInvalid(Exception):
    """The knowledge directory does not validate; ``result.problems`` says why."""

    def __init__(self, result: LoadResult) -> None:
        super().__init__(f"{len(result.errors)} Fehler in der Wissensbasis")
        self.result = result


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One knowledge version with everything derived from it. Immutable; replaced as a whole."""

    knowledge: Knowledge
    matcher: Matcher
    renderer: Renderer
    loaded_at: dt.datetime
    build_seconds: float

    @classmethod
    def build(cls, knowledge: Knowledge, thresholds: Thresholds | None = None) -> Snapshot:
        started = time.perf_counter()
        matcher = Matcher(knowledge, thresholds) if thresholds else Matcher(knowledge)
        return cls(knowledge, matcher, Renderer(knowledge), dt.datetime.now(dt.UTC), time.perf_counter() - started)


@dataclass(frozen=True, slots=True)
class Answer:
    match: Match
    reply: Reply


class FaqService:
    def __init__(self, snapshot: Snapshot, directory: Path | None = None) -> None:
        self._snapshot = snapshot
        self.directory = directory
        self._lock = threading.Lock()

    @classmethod
    def from_directory(cls, directory: Path | str) -> FaqService:
        """Load ``directory``; raises :class:`KnowledgeInvalid` if it does not validate."""
        directory = Path(directory)
        result = load_knowledge(directory)
        if result.knowledge is None:
            raise KnowledgeInvalid(result)
        return cls(Snapshot.build(result.knowledge), directory)

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def knowledge(self) -> Knowledge:
        return self._snapshot.knowledge

    def ask(self, question: str, lang: Lang | None = None) -> Answer:
        snap = self._snapshot  # one consistent version for the whole question, even during a reload
        match = snap.matcher.match(question, lang)
        return Answer(match, snap.renderer.reply(match))

    def entry_reply(self, entry_id: str, lang: Lang) -> Reply | None:
        snap = self._snapshot
        entry = snap.knowledge.entries.get(entry_id)
        return snap.renderer.entry(entry, lang) if entry else None

    def reload(self) -> LoadResult:
        """Validate the directory again and swap it in if clean. The old version serves on any error."""
        if self.directory is None:
            raise RuntimeError("no knowledge directory to reload from")
        with self._lock:
            result = load_knowledge(self.directory)
            if result.knowledge is None:
                log.warning("knowledge reload refused: %d errors", len(result.errors))
                return result
            self._snapshot = Snapshot.build(result.knowledge)
            log.info("knowledge %s live: %d entries", result.knowledge.version, len(result.knowledge.entries))
            return result
