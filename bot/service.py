"""The answering core as one object: a validated knowledge version with its index, swapped atomically.

``FaqService.ask`` is what the CLI and every Telegram handler call. A version goes live only if it loads
cleanly *and* passes its own lint (above all the self-test: every example phrasing leads to its own entry);
otherwise the version that was serving keeps serving. Learned phrasings (attached by admins in Telegram,
stored in the database) are merged into the editors' knowledge here; one that no longer fits, or that would
fail the self-test, is left out with a warning instead of blocking the editors' change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.answers import Renderer, Reply
from bot.knowledge.learned import LEARNED_FILE, LearnedPhrasing, learned_path, merge_learned
from bot.knowledge.loader import LoadResult, knowledge_files, load_knowledge
from bot.knowledge.model import Knowledge, Lang
from bot.knowledge.yamlnodes import Problem
from bot.lint import SelfTestFailure, run_lint
from bot.matching.matcher import DEFAULT_THRESHOLDS, Match, Matcher, Thresholds

log = logging.getLogger(__name__)


class KnowledgeInvalid(Exception):
    """The knowledge directory does not validate; ``result.problems`` says why."""

    def __init__(self, result: LoadResult) -> None:
        super().__init__(f"{len(result.errors)} Fehler in der Wissensbasis")
        self.result = result


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One knowledge version with everything derived from it. Immutable; replaced as a whole."""

    knowledge: Knowledge  # what is served: the editors' knowledge with the learned phrasings merged in
    matcher: Matcher
    renderer: Renderer
    loaded_at: dt.datetime
    curated: Knowledge | None = None  # the editors' knowledge alone (None: same as ``knowledge``)
    learned: tuple[LearnedPhrasing, ...] = ()  # the learned phrasings in use
    learned_given: frozenset[int] = frozenset()  # ids of all learned phrasings offered (used or left out)
    warnings: tuple[Problem, ...] = ()  # loader and lint warnings of this version
    load_warnings: tuple[Problem, ...] = ()  # the loader's alone (kept to re-lint with other learned phrasings)
    digest: str = ""  # hash of the knowledge files' bytes: "did anything change?" for the file watcher

    @classmethod
    def build(cls, knowledge: Knowledge, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Snapshot:
        return cls(knowledge, Matcher(knowledge, thresholds), Renderer(knowledge), dt.datetime.now(dt.UTC))

    @property
    def editors_knowledge(self) -> Knowledge:
        return self.curated or self.knowledge

    @property
    def learned_ids(self) -> frozenset[int]:
        return frozenset(item.id for item in self.learned)


@dataclass(frozen=True, slots=True)
class Answer:
    match: Match
    reply: Reply


@dataclass(frozen=True, slots=True)
class Prepared:
    """A candidate version: ``result`` as for editors (problems; ``knowledge`` None if refused) and the
    snapshot that would go live."""

    result: LoadResult
    snapshot: Snapshot | None = None
    dropped: tuple[LearnedPhrasing, ...] = ()  # learned phrasings left out


def prepare(
    curated: Knowledge,
    learned: Sequence[LearnedPhrasing] = (),
    problems: Sequence[Problem] = (),
    *,
    today: dt.date | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    digest: str = "",
) -> Prepared:
    """Merge ``learned`` into ``curated``, build the index and lint it. Refused if the editors' phrasings fail
    the self-test; learned phrasings that fail it are dropped (with a warning) and the rest is built again."""
    today = today or dt.date.today()
    loaded = [p for p in problems if p.severity == "warning"]
    candidates = list(learned)
    dropped: list[LearnedPhrasing] = []
    notes: list[Problem] = []
    while True:
        merged, merge_problems = merge_learned(curated, candidates)
        snapshot = Snapshot.build(merged, thresholds)
        findings, failures = run_lint(merged, snapshot.matcher, today=today)
        failing = _learned_failures(failures, candidates)
        if failing:  # leave them out and build again (rare: at most one rebuild per bad phrasing)
            dropped.extend(item for item, _ in failing)
            notes.extend(_dropped_problem(item, failure) for item, failure in failing)
            candidates = [item for item in candidates if item not in dropped]
            continue
        all_problems = [*loaded, *merge_problems, *notes, *findings]
        if any(p.severity == "error" for p in findings):
            return Prepared(LoadResult(None, all_problems), None, tuple(dropped))
        skipped = {p.path for p in merge_problems}  # merge_learned warns about every phrasing it leaves out
        live = dataclasses.replace(
            snapshot,
            curated=curated if merged is not curated else None,
            learned=tuple(item for item in candidates if learned_path(item.id) not in skipped),
            learned_given=frozenset(item.id for item in learned),
            warnings=tuple(p for p in all_problems if p.severity == "warning"),
            load_warnings=tuple(loaded),
            digest=digest,
        )
        return Prepared(LoadResult(merged, all_problems), live, tuple(dropped))


def _learned_failures(
    failures: Sequence[SelfTestFailure], learned: Sequence[LearnedPhrasing]
) -> list[tuple[LearnedPhrasing, SelfTestFailure]]:
    """The learned phrasings among the self-test's failures, each with its failure."""
    by_phrasing = {(f.entry_id, f.lang, f.phrasing): f for f in failures}
    found = ((item, by_phrasing.get((item.entry_id, item.lang, item.text.strip()))) for item in learned)
    return [(item, failure) for item, failure in found if failure is not None]


def _dropped_problem(item: LearnedPhrasing, failure: SelfTestFailure) -> Problem:
    got = f"„{failure.got_entry}“" if failure.got_entry else "keiner Antwort"
    return Problem(
        LEARNED_FILE,
        0,
        learned_path(item.id),
        f"gelernte Formulierung „{item.text.strip()}“ führt nicht zu „{item.entry_id}“, sondern zu {got}"
        f" – wird nicht verwendet (entfernen mit 'faqbot learned remove {item.id}')",
        "warning",
    )


def files_digest(directory: Path) -> str:
    """Hash of the knowledge files' names and bytes (cheap: tells a real change from a touch)."""
    digest = hashlib.sha256()
    for path in knowledge_files(directory):
        try:
            stat = path.stat()
            digest.update(f"{path.name}\0{stat.st_size}\0".encode())
            if stat.st_size <= 2_000_000:  # larger files are refused by the loader anyway
                digest.update(path.read_bytes())
        except OSError as exc:
            digest.update(f"{path.name}\0error {exc.errno}".encode())
    return digest.hexdigest()[:12]


class FaqService:
    def __init__(self, snapshot: Snapshot, directory: Path | None = None) -> None:
        self._snapshot = snapshot
        self.directory = directory
        self._lock = threading.Lock()
        self.on_swap: Callable[[Snapshot], None] | None = None  # told about every version that goes live
        self._attempted_digest: str | None = None  # files of the last reload that did not go live

    @classmethod
    def from_directory(cls, directory: Path | str, learned: Sequence[LearnedPhrasing] = ()) -> FaqService:
        """Load ``directory`` (plus ``learned``); raises :class:`KnowledgeInvalid` unless it validates and
        passes its self-test."""
        directory = Path(directory)
        digest = files_digest(directory) if directory.is_dir() else ""
        result = load_knowledge(directory)
        if result.knowledge is None:
            raise KnowledgeInvalid(result)
        prepared = prepare(result.knowledge, learned, result.problems, digest=digest)
        if prepared.snapshot is None:
            raise KnowledgeInvalid(prepared.result)
        return cls(prepared.snapshot, directory)

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

    def files_changed(self) -> bool:
        """Whether the knowledge files differ from the version that serves and from the last reload attempt
        (a version refused once – or whose reload failed – is not tried again until the files change)."""
        if self.directory is None:
            return False
        return files_digest(self.directory) not in (self._snapshot.digest, self._attempted_digest)

    def reload(self, learned: Sequence[LearnedPhrasing] | None = None) -> LoadResult:
        """Read the directory again; the new version goes live only if it loads and passes its lint (errors:
        the old version keeps serving). ``learned``: the learned phrasings to merge (None: those in use)."""
        if self.directory is None:
            raise RuntimeError("no knowledge directory to reload from")
        with self._lock:
            digest = files_digest(self.directory)
            self._attempted_digest = digest  # cleared when it goes live
            result = load_knowledge(self.directory)
            if result.knowledge is None:
                log.warning("knowledge reload refused: %d errors", len(result.errors))
                return result
            use = self._snapshot.learned if learned is None else learned
            return self._swap(prepare(result.knowledge, use, result.problems, digest=digest))

    def use_learned(self, learned: Sequence[LearnedPhrasing]) -> Prepared:
        """Serve the editors' knowledge that is live with ``learned`` instead of the learned phrasings in use
        (files are not read again). Swapped in under the same rules as :meth:`reload`."""
        with self._lock:
            current = self._snapshot
            prepared = prepare(current.editors_knowledge, learned, current.load_warnings, digest=current.digest)
            self._swap(prepared)
            return prepared

    def _swap(self, prepared: Prepared) -> LoadResult:
        if prepared.snapshot is None:
            log.warning("knowledge version refused by its lint: %d errors", len(prepared.result.errors))
            return prepared.result
        self._snapshot = prepared.snapshot
        self._attempted_digest = None
        if self.on_swap is not None:
            try:
                self.on_swap(prepared.snapshot)
            except Exception:  # a listener must not undo a swap that happened
                log.exception("on_swap listener failed")
        k = prepared.snapshot.knowledge
        log.info(
            "knowledge %s live: %d entries, %d learned phrasings",
            k.version,
            len(k.entries),
            len(prepared.snapshot.learned),
        )
        return prepared.result
