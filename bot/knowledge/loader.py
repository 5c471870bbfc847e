"""Read ``knowledge/*.yaml`` into a :class:`Knowledge`, or say precisely what is wrong.

Every problem is reported as ``file:line: key.path: message`` in German words an editor can act on. A knowledge
set with errors is never returned: callers keep serving the set they had.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.knowledge.model import (
    LANGS,
    Entry,
    Fact,
    Knowledge,
    Lang,
    Milestone,
    MilestoneStatus,
    Smalltalk,
    Source,
    Text,
    Topic,
)
from bot.knowledge.yamlnodes import MAX_FILE_BYTES, Category, Problem, Severity, YamlRefused, line_of, parse_file

SECTIONS = ("topics", "entries", "facts", "milestones", "synonyms", "smalltalk")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
FACT_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
PLACEHOLDER_RE = re.compile(r"\{\{\s*(fact|milestone)\s*:\s*([^}\s]*)\s*\}\}")
ANY_BRACES_RE = re.compile(r"\{\{(.*?)\}\}")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]+$", re.IGNORECASE)
MAX_PHRASING_CHARS = 300
MAX_ANSWER_CHARS = 3000

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"

T = TypeVar("T")


@dataclass
class LoadResult:
    """The outcome of loading a directory: ``knowledge`` is None whenever there is an error."""

    knowledge: Knowledge | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


class _Reader:
    """Turns the node tree of one file into model objects, collecting problems instead of raising."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems

    def error(self, node: Node | None, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, line_of(node) if node else 0, path, message))

    def warn(self, node: Node | None, path: str, message: str, category: Category = "load") -> None:
        self.problems.append(Problem(self.file, line_of(node) if node else 0, path, message, "warning", category))

    # -- shapes -------------------------------------------------------------------------------------------
    def mapping(
        self, node: Node, path: str, required: Iterable[str], optional: Iterable[str] = ()
    ) -> dict[str, Node] | None:
        if not isinstance(node, MappingNode):
            self.error(node, path, f"erwartet Schlüssel mit Werten (key: value), gefunden {_kind(node)}")
            return None
        required = tuple(required)
        allowed = set(required) | set(optional)
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key not in allowed:
                hint = _closest(key, allowed)
                self.error(
                    key_node,
                    _join(path, key),
                    f"unbekannter Schlüssel '{key}'"
                    + (f" (meinten Sie '{hint}'?)" if hint else "")
                    + f"; erlaubt: {', '.join(sorted(allowed))}",
                )
                continue
            out[key] = value_node
        for key in required:
            if key not in out:
                self.error(node, _join(path, key), "Pflichtfeld fehlt")
        return out

    def sequence(self, node: Node, path: str) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.error(node, path, f"erwartet eine Liste (Zeilen mit '- '), gefunden {_kind(node)}")
            return None
        return list(node.value)

    def string(self, node: Node, path: str, *, max_len: int | None = None) -> str | None:
        if not isinstance(node, ScalarNode):
            self.error(node, path, f"erwartet einen Text, gefunden {_kind(node)}")
            return None
        if node.tag in (_BOOL, _NULL):
            self.error(
                node,
                path,
                f"erwartet einen Text, gefunden '{node.value}' (wird als {_kind(node)} gelesen; "
                "bitte in Anführungszeichen setzen)",
            )
            return None
        value = str(node.value).strip()
        if not value:
            self.error(node, path, "Text ist leer")
            return None
        if max_len is not None and len(value) > max_len:
            self.error(node, path, f"Text ist zu lang ({len(value)} Zeichen, höchstens {max_len})")
            return None
        return value

    def identifier(self, node: Node, path: str, pattern: re.Pattern[str] = ID_RE) -> str | None:
        value = self.string(node, path)
        if value is not None and not pattern.match(value):
            allowed = "a-z, 0-9, _" if pattern is FACT_NAME_RE else "a-z, 0-9, -"
            self.error(node, path, f"'{value}' ist keine gültige Kennung (nur Kleinbuchstaben {allowed})")
            return None
        return value

    def text(self, node: Node, path: str, *, max_len: int | None = None) -> Text | None:
        if isinstance(node, ScalarNode):
            value = self.string(node, path, max_len=max_len)
            return Text(value, value) if value is not None else None
        fields = self.mapping(node, path, required=("de",), optional=("en",))
        if fields is None:
            return None
        de = self.string(fields["de"], _join(path, "de"), max_len=max_len) if "de" in fields else None
        en = self.string(fields["en"], _join(path, "en"), max_len=max_len) if "en" in fields else None
        if "en" not in fields:
            self.warn(node, _join(path, "en"), "englische Übersetzung fehlt", "coverage")
        return Text(de, en) if de is not None else None

    def date(self, node: Node, path: str) -> dt.date | None:
        if isinstance(node, ScalarNode) and node.tag in (_TIMESTAMP, _STR):
            try:
                return dt.date.fromisoformat(str(node.value).strip())
            except ValueError:
                pass
        self.error(node, path, f"erwartet ein Datum wie 2022-06-24, gefunden '{_scalar(node)}'")
        return None

    def datetime(self, node: Node, path: str) -> dt.datetime | None:
        if isinstance(node, ScalarNode) and node.tag in (_TIMESTAMP, _STR):
            try:
                value = dt.datetime.fromisoformat(str(node.value).strip().replace(" ", "T"))
                return value.replace(tzinfo=None) if value.tzinfo is None else value
            except ValueError:
                pass
        self.error(node, path, f"erwartet Datum und Uhrzeit wie 2027-01-15T09:00, gefunden '{_scalar(node)}'")
        return None

    def list_of(self, node: Node, path: str, item: Callable[[Node, str], T | None]) -> list[T]:
        items = self.sequence(node, path)
        if items is None:
            return []
        out = []
        for i, child in enumerate(items):
            value = item(child, f"{path}[{i}]")
            if value is not None:
                out.append(value)
        return out

    def sources(self, node: Node, path: str) -> tuple[Source, ...]:
        def source(child: Node, child_path: str) -> Source | None:
            fields = self.mapping(child, child_path, required=("url", "title"))
            if fields is None or "url" not in fields or "title" not in fields:
                return None
            url = self.string(fields["url"], _join(child_path, "url"))
            title = self.string(fields["title"], _join(child_path, "title"))
            if url is not None and not URL_RE.match(url):
                self.error(fields["url"], _join(child_path, "url"), f"'{url}' ist keine gültige https-Adresse")
                return None
            return Source(url, title) if url and title else None

        found = tuple(self.list_of(node, path, source))
        if not found and isinstance(node, SequenceNode):
            self.error(node, path, "mindestens eine Quelle angeben")
        return found

    def phrasings(self, node: Node, path: str) -> dict[Lang, tuple[str, ...]] | None:
        fields = self.mapping(node, path, required=("de",), optional=("en",))
        if fields is None:
            return None
        out: dict[Lang, tuple[str, ...]] = {}
        for lang in LANGS:
            if lang not in fields:
                continue
            values = self.list_of(
                fields[lang],
                _join(path, lang),
                lambda n, p: self.string(n, p, max_len=MAX_PHRASING_CHARS),
            )
            if not values and isinstance(fields[lang], SequenceNode):
                self.error(fields[lang], _join(path, lang), "mindestens eine Formulierung angeben")
            out[lang] = tuple(values)
        if "en" not in fields:
            self.warn(node, _join(path, "en"), "keine englischen Formulierungen", "coverage")
        return out if out.get("de") else None


# -- sections ---------------------------------------------------------------------------------------------


def _read_topic(r: _Reader, node: Node, path: str) -> Topic | None:
    f = r.mapping(node, path, required=("id", "title"))
    if f is None or "id" not in f or "title" not in f:
        return None
    tid = r.identifier(f["id"], _join(path, "id"))
    title = r.text(f["title"], _join(path, "title"))
    return Topic(tid, title) if tid and title else None


def _read_entry(r: _Reader, node: Node, path: str) -> Entry | None:
    f = r.mapping(
        node,
        path,
        required=("id", "topic", "questions", "answer", "sources", "as_of"),
        optional=("related", "milestones", "requires", "owner", "review_by"),
    )
    if f is None:
        return None
    get = f.get
    eid = r.identifier(f["id"], _join(path, "id")) if "id" in f else None
    topic = r.identifier(f["topic"], _join(path, "topic")) if "topic" in f else None
    questions = r.phrasings(f["questions"], _join(path, "questions")) if "questions" in f else None
    answer = r.text(f["answer"], _join(path, "answer"), max_len=MAX_ANSWER_CHARS) if "answer" in f else None
    sources = r.sources(f["sources"], _join(path, "sources")) if "sources" in f else ()
    as_of = r.date(f["as_of"], _join(path, "as_of")) if "as_of" in f else None
    related = tuple(r.list_of(n, _join(path, "related"), r.identifier)) if (n := get("related")) else ()
    milestones = tuple(r.list_of(n, _join(path, "milestones"), r.identifier)) if (n := get("milestones")) else ()
    requires = tuple(r.list_of(n, _join(path, "requires"), r.string)) if (n := get("requires")) else ()
    owner = r.string(n, _join(path, "owner")) if (n := get("owner")) else None
    review_by = r.date(n, _join(path, "review_by")) if (n := get("review_by")) else None
    if eid is None or topic is None or questions is None or answer is None or not sources or as_of is None:
        return None
    return Entry(
        id=eid,
        topic=topic,
        questions=questions,
        answer=answer,
        sources=sources,
        as_of=as_of,
        related=related,
        milestones=milestones,
        requires=requires,
        owner=owner,
        review_by=review_by,
        file=r.file,
        line=line_of(node),
        question_lines=_item_lines(f["questions"], questions),
    )


def _read_fact(r: _Reader, node: Node, path: str) -> Fact | None:
    f = r.mapping(node, path, required=("name", "value", "sources", "as_of"), optional=("review_by",))
    if f is None or any(k not in f for k in ("name", "value", "sources", "as_of")):
        return None
    name = r.identifier(f["name"], _join(path, "name"), FACT_NAME_RE)
    value = r.text(f["value"], _join(path, "value"))
    sources = r.sources(f["sources"], _join(path, "sources"))
    as_of = r.date(f["as_of"], _join(path, "as_of"))
    review_by = r.date(n, _join(path, "review_by")) if (n := f.get("review_by")) else None
    if name is None or value is None or not sources or as_of is None:
        return None
    return Fact(name, value, sources, as_of, review_by, r.file, line_of(node))


def _read_milestone(r: _Reader, node: Node, path: str) -> Milestone | None:
    required = ("id", "title", "status", "text", "sources", "as_of")
    f = r.mapping(node, path, required=required, optional=("date", "when", "tags", "announce_at"))
    if f is None or any(k not in f for k in required):
        return None
    mid = r.identifier(f["id"], _join(path, "id"))
    title = r.text(f["title"], _join(path, "title"))
    status_raw = r.string(f["status"], _join(path, "status"))
    status = None
    if status_raw is not None:
        try:
            status = MilestoneStatus(status_raw)
        except ValueError:
            allowed = ", ".join(s.value for s in MilestoneStatus)
            r.error(f["status"], _join(path, "status"), f"'{status_raw}' ist kein Status; erlaubt: {allowed}")
    text = r.text(f["text"], _join(path, "text"), max_len=MAX_ANSWER_CHARS)
    sources = r.sources(f["sources"], _join(path, "sources"))
    as_of = r.date(f["as_of"], _join(path, "as_of"))
    date = r.date(n, _join(path, "date")) if (n := f.get("date")) else None
    when = r.text(n, _join(path, "when")) if (n := f.get("when")) else None
    tags = tuple(r.list_of(n, _join(path, "tags"), r.identifier)) if (n := f.get("tags")) else ()
    announce_at = r.datetime(n, _join(path, "announce_at")) if (n := f.get("announce_at")) else None
    if mid is None or title is None or status is None or text is None or as_of is None or not sources:
        return None
    return Milestone(mid, title, status, text, sources, as_of, date, when, tags, announce_at, r.file, line_of(node))


def _read_synonyms(r: _Reader, node: Node, path: str) -> tuple[str, ...] | None:
    terms = r.list_of(node, path, lambda n, p: r.string(n, p, max_len=100))
    if len(terms) < 2:
        r.error(node, path, "eine Synonymgruppe braucht mindestens zwei Begriffe")
        return None
    return tuple(t.lower() for t in terms)


def _read_smalltalk(r: _Reader, node: Node, path: str) -> Smalltalk | None:
    f = r.mapping(node, path, required=("id", "questions", "answer"))
    if f is None or any(k not in f for k in ("id", "questions", "answer")):
        return None
    sid = r.identifier(f["id"], _join(path, "id"))
    questions = r.phrasings(f["questions"], _join(path, "questions"))
    answer = r.text(f["answer"], _join(path, "answer"), max_len=MAX_ANSWER_CHARS)
    if sid is None or questions is None or answer is None:
        return None
    return Smalltalk(sid, questions, answer, r.file)


# -- the whole directory ----------------------------------------------------------------------------------


@dataclass
class _Collected:
    topics: list[tuple[Topic, Node, str, str]] = field(default_factory=list)  # (topic, node, path, file)
    entries: list[tuple[Entry, Node, str]] = field(default_factory=list)
    facts: list[tuple[Fact, Node, str]] = field(default_factory=list)
    milestones: list[tuple[Milestone, Node, str]] = field(default_factory=list)
    synonyms: list[tuple[tuple[str, ...], Node, str, str]] = field(default_factory=list)  # (…, path, file)
    smalltalk: list[tuple[Smalltalk, Node, str]] = field(default_factory=list)
    entry_sections: list[tuple[str, int]] = field(default_factory=list)  # (file, line) of each "entries:" key
    files: list[str] = field(default_factory=list)  # the files that were read


def is_knowledge_name(name: str) -> bool:
    """A file name of a knowledge set: ``*.yaml``, not starting with ``_`` (drafts) or ``.`` (editors' temp files)."""
    return name.endswith(".yaml") and not name.startswith(("_", "."))


def knowledge_files(directory: Path) -> list[Path]:
    """The files that make up a knowledge set: those directly in ``directory`` with a knowledge name."""
    return sorted(p for p in directory.glob("*.yaml") if p.is_file() and is_knowledge_name(p.name))


def load_knowledge(
    directory: Path | str,
    *,
    today: dt.date | None = None,
    extra_files: Iterable[tuple[str, str]] = (),
) -> LoadResult:
    """Load and validate every knowledge file in ``directory``.

    ``extra_files`` are ``(display name, text)`` pairs validated together with the directory (used for
    learned phrasings and by tests). ``today`` decides which ``review_by`` dates are past due.
    """
    directory = Path(directory)
    problems: list[Problem] = []
    if not directory.is_dir():
        problems.append(Problem(str(directory), 0, "", "Verzeichnis nicht gefunden"))
        return LoadResult(None, problems)
    sources: list[tuple[str, str]] = []
    for path in knowledge_files(directory):
        shown = _display(path)
        try:
            sources.append((shown, _read(path)))
        except _FileRefused as exc:
            problems.append(Problem(shown, exc.line, "", exc.message))
        except OSError as exc:
            problems.append(Problem(shown, 0, "", f"Datei kann nicht gelesen werden: {exc.strerror}"))
    sources.extend(extra_files)
    if not sources and not problems:
        problems.append(Problem(str(directory), 0, "", "keine *.yaml-Dateien gefunden"))
    return load_texts(sources, today=today, problems=problems)


class _FileRefused(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _read(path: Path) -> str:
    """The text of ``path``; a file above the size limit is refused without reading it (editors make 10 MB ones)."""
    size = path.stat().st_size
    if size <= MAX_FILE_BYTES:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)  # the file may grow between stat() and read()
        size = len(data)
    if size > MAX_FILE_BYTES:
        raise _FileRefused(
            0,
            f"Datei ist zu groß ({_thousands(size)} Bytes, höchstens {_thousands(MAX_FILE_BYTES)}) "
            "und wird nicht gelesen",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _FileRefused(
            line, f"Datei ist nicht UTF-8-kodiert (Byte {exc.start}); bitte als UTF-8 speichern"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as read_text() did (universal newlines)


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def load_texts(
    files: Iterable[tuple[str, str]],
    *,
    today: dt.date | None = None,
    problems: list[Problem] | None = None,
) -> LoadResult:
    """Validate ``(file name, YAML text)`` pairs as one knowledge set."""
    problems = problems if problems is not None else []
    files = list(files)
    collected = _Collected()
    for name, text in files:
        try:
            root = parse_file(text, name)
        except YamlRefused as exc:
            problems.append(exc.problem)
            continue
        if root is None:
            problems.append(Problem(name, 0, "", "Datei ist leer", "warning"))
            continue
        collected.files.append(name)
        _collect(_Reader(name, problems), root, collected)
    knowledge = _assemble(collected, problems, today or dt.date.today())
    digest = hashlib.sha256()
    for name, text in files:
        digest.update(name.encode() + b"\0" + text.encode("utf-8", "replace") + b"\0")
    if any(p.severity == "error" for p in problems):
        return LoadResult(None, problems)
    assert knowledge is not None
    knowledge = dataclasses.replace(knowledge, version=digest.hexdigest()[:12], files=tuple(name for name, _ in files))
    return LoadResult(knowledge, problems)


def _collect(r: _Reader, root: Node, out: _Collected) -> None:
    sections = r.mapping(root, "", required=(), optional=SECTIONS)
    if sections is None:
        return
    for key, node in sections.items():
        if key == "topics":
            out.topics.extend((t, n, p, r.file) for t, n, p in _each(r, node, key, _read_topic))
        elif key == "entries":
            out.entry_sections.append((r.file, line_of(node)))
            out.entries.extend(_each(r, node, key, _read_entry))
        elif key == "facts":
            out.facts.extend(_each(r, node, key, _read_fact))
        elif key == "milestones":
            out.milestones.extend(_each(r, node, key, _read_milestone))
        elif key == "synonyms":
            out.synonyms.extend((g, n, p, r.file) for g, n, p in _each(r, node, key, _read_synonyms))
        elif key == "smalltalk":
            out.smalltalk.extend(_each(r, node, key, _read_smalltalk))


def _each(
    r: _Reader, node: Node, path: str, read: Callable[[_Reader, Node, str], T | None]
) -> list[tuple[T, Node, str]]:
    """Read every item of the list at ``path``, keeping each item's node and path for later reports."""
    out = []
    for i, child in enumerate(r.sequence(node, path) or ()):
        item_path = f"{path}[{i}]"
        value = read(r, child, item_path)
        if value is not None:
            out.append((value, child, item_path))
    return out


def _assemble(c: _Collected, problems: list[Problem], today: dt.date) -> Knowledge:
    def report(
        file: str,
        node: Node,
        path: str,
        message: str,
        severity: Severity = "error",
        offset: int | None = None,
        category: Category = "load",
    ) -> None:
        # Point at the offending key's own line ("entries[3].answer.de" → the line of that answer), and inside a
        # multi-line "|" text at the line of ``offset`` (an index into the stripped text).
        target = node
        for key in path.partition("].")[2].split(".") if "]." in path else ():
            child = _child(target, key)
            if child is None:
                break
            target = child
        line = line_of(target)
        if offset is not None and isinstance(target, ScalarNode) and target.style == "|":
            raw = str(target.value)
            line += 1 + raw.count("\n", 0, offset + len(raw) - len(raw.lstrip()))
        problems.append(Problem(file, line, path, message, severity, category))

    topics: dict[str, Topic] = {}
    for topic, node, path, file in c.topics:
        if topic.id in topics:
            report(file, node, f"{path}.id", f"Thema '{topic.id}' ist doppelt definiert")
        topics[topic.id] = topic
    smalltalk = _unique(c.smalltalk, lambda s: s.id, "Smalltalk-Kennung", report)
    entries = _unique(c.entries, lambda e: e.id, "Eintrags-Kennung", report, taken=set(smalltalk))
    facts = _unique(c.facts, lambda f: f.name, "Fakt", report)
    milestones = _unique(c.milestones, lambda m: m.id, "Meilenstein", report)
    all_entry_ids = {e.id for e, _, _ in c.entries}

    for entry, node, path in c.entries:
        if entry.topic not in topics:
            report(entry.file, node, f"{path}.topic", f"Thema '{entry.topic}' ist nicht definiert (topics)")
        for rel in entry.related:
            if rel == entry.id:
                report(entry.file, node, f"{path}.related", "ein Eintrag kann nicht auf sich selbst verweisen")
            elif rel not in all_entry_ids:
                report(entry.file, node, f"{path}.related", f"Eintrag '{rel}' gibt es nicht")
        for mid in entry.milestones:
            if mid not in milestones:
                report(entry.file, node, f"{path}.milestones", f"Meilenstein '{mid}' gibt es nicht")
        for lang, text in (("de", entry.answer.de), ("en", entry.answer.en)):
            for offset, message in _placeholder_findings(text or "", facts, milestones):
                report(entry.file, node, f"{path}.answer.{lang}", message, offset=offset)
        if entry.review_by and entry.review_by < today:
            report(
                entry.file,
                node,
                f"{path}.review_by",
                f"Prüftermin {entry.review_by.isoformat()} ist überschritten – bitte Antwort prüfen",
                "warning",
                category="review",
            )
    for fact, node, path in c.facts:
        if fact.review_by and fact.review_by < today:
            report(
                fact.file,
                node,
                f"{path}.review_by",
                f"Prüftermin {fact.review_by.isoformat()} ist überschritten – bitte Wert prüfen",
                "warning",
                category="review",
            )
        for lang in LANGS:
            if re.search(r"[{}]", fact.value.get(lang)):
                report(fact.file, node, f"{path}.value", "Fakten dürfen keine Platzhalter enthalten")
    for milestone, node, path in c.milestones:
        for lang, text in (("de", milestone.text.de), ("en", milestone.text.en)):
            for offset, message in _placeholder_findings(text or "", facts, {}):
                report(milestone.file, node, f"{path}.text.{lang}", message, offset=offset)

    # The same phrasing in two entries makes matching a coin toss.
    owner: dict[str, str] = {}
    for entry, node, path in c.entries:
        for lang in LANGS:
            lines = entry.question_lines.get(lang, ())
            for k, phrasing in enumerate(entry.questions.get(lang, ())):
                key = phrasing_key(phrasing)
                if owner.setdefault(key, entry.id) != entry.id:
                    problems.append(  # the phrasing's own line, not the list's: a list has dozens
                        Problem(
                            entry.file,
                            lines[k] if k < len(lines) else line_of(node),
                            f"{path}.questions.{lang}[{k}]",
                            f"Formulierung '{phrasing}' steht auch bei Eintrag '{owner[key]}'",
                        )
                    )

    # A term may belong to one synonym group only, or normalisation would depend on file order.
    group_of: dict[str, int] = {}
    for i, (group, node, path, file) in enumerate(c.synonyms):
        for term in group:
            key = phrasing_key(term)
            if group_of.setdefault(key, i) != i:
                report(file, node, path, f"Begriff '{term}' steht schon in einer anderen Synonymgruppe")

    if not entries and not any(p.severity == "error" for p in problems):
        # Say where entries were expected: an emptied section, or which files were read without one.
        if c.entry_sections:
            file, line = c.entry_sections[0]
            problems.append(Problem(file, line, "entries", "keine Einträge gefunden: der Abschnitt ist leer"))
        else:
            read = ", ".join(Path(name).name for name in c.files) or "keine"
            message = f"keine Einträge gefunden: keine Datei hat einen Abschnitt 'entries' (gelesen: {read})"
            problems.append(Problem("", 0, "entries", message))
    return Knowledge(
        entries=entries,
        facts=facts,
        milestones=milestones,
        topics=topics,
        synonyms=tuple(g for g, _, _, _ in c.synonyms),
        smalltalk=smalltalk,
    )


def _unique(
    items: list[tuple[T, Node, str]],
    key: Callable[[T], str],
    what: str,
    report: Callable[[str, Node, str, str], None],
    taken: set[str] | None = None,
) -> dict[str, T]:
    out: dict[str, T] = {}
    for item, node, path in items:
        k = key(item)
        if k in out or (taken and k in taken):
            report(getattr(item, "file", ""), node, path, f"{what} '{k}' ist doppelt vergeben")
            continue
        out[k] = item
    return out


def _item_lines(node: Node, phrasings: Mapping[Lang, tuple[str, ...]]) -> dict[Lang, tuple[int, ...]]:
    """The line of each phrasing under ``questions`` (the list's own line where items cannot be told apart)."""
    lines: dict[Lang, tuple[int, ...]] = {}
    for lang, texts in phrasings.items():
        child = _child(node, lang)
        if isinstance(child, SequenceNode) and len(child.value) == len(texts):
            lines[lang] = tuple(line_of(item) for item in child.value)
        else:
            lines[lang] = (line_of(child or node),) * len(texts)
    return lines


def _child(node: Node, key: str) -> Node | None:
    """The value node of ``key`` in a mapping node (None if absent or not a mapping)."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                return value_node  # type: ignore[no-any-return]
    return None


def _placeholder_findings(
    text: str, facts: Mapping[str, Fact], milestones: Mapping[str, Milestone]
) -> list[tuple[int, str]]:
    """``(offset in text, message)`` for each broken placeholder, including stray braces the bot would show."""
    found = []
    for m in ANY_BRACES_RE.finditer(text):
        inner = m.group(1)
        match = PLACEHOLDER_RE.fullmatch("{{" + inner + "}}")
        if match is None:
            found.append(
                (
                    m.start(),
                    f"Platzhalter '{{{{{inner}}}}}' nicht verstanden; erlaubt sind "
                    "{{ fact:name }} und {{ milestone:id }}",
                )
            )
            continue
        kind, name = match.groups()
        if not name:
            found.append((m.start(), f"Platzhalter '{m.group(0)}' ohne Namen"))
        elif kind == "fact" and name not in facts:
            found.append((m.start(), f"Fakt '{name}' gibt es nicht (facts)"))
        elif kind == "milestone" and name not in milestones:
            found.append((m.start(), f"Meilenstein '{name}' gibt es nicht (milestones)"))
    rest = ANY_BRACES_RE.sub(lambda m: " " * len(m.group(0)), text)
    if (stray := re.search(r"[{}]", rest)) is not None:
        at = stray.start()
        start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
        around = text[max(start, at - 25) : min(end if end != -1 else len(text), at + 25)].strip()
        found.append(
            (
                at,
                f"Klammer '{stray.group(0)}' ohne Gegenstück in '{around}'; "
                "Platzhalter schreiben wie {{ fact:name }}",
            )
        )
    return found


def phrasing_key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.findall(r"\w+", folded))


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "Schlüssel mit Werten"
    if isinstance(node, SequenceNode):
        return "eine Liste"
    return {
        _BOOL: "Wahrheitswert",
        _NULL: "leerer Wert",
        _INT: "Zahl",
        _FLOAT: "Zahl",
        _TIMESTAMP: "Datum",
    }.get(node.tag, "Text")


def _scalar(node: Node) -> str:
    return str(node.value) if isinstance(node, ScalarNode) else _kind(node)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _closest(key: str, allowed: Iterable[str]) -> str | None:
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    best = process.extractOne(key, list(allowed), scorer=Levenshtein.distance, score_cutoff=2)
    return str(best[0]) if best else None


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
