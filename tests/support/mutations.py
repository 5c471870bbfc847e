"""A deterministic catalogue of ways editors break knowledge files, for reload tests and the reload benchmark.

Every :class:`Mutation` changes (or creates) exactly one file of a copy of the shipped knowledge and records
where a *precise* error message must point: the file, the line (``None`` for whole-file problems such as size)
and the key path (``None`` where there is none, e.g. YAML syntax errors). Targets are picked from the parsed
shipped files with a seeded random generator, so the catalogue follows edits of the knowledge without code
changes and is the same on every run.
"""

from __future__ import annotations

import functools
import itertools
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.answers import Reply
from bot.knowledge.yamlnodes import Problem
from bot.service import FaqService

TEN_MB = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Mutation:
    kind: str
    file: str  # file name inside the knowledge directory that is changed or created
    line: int | None  # where a precise error must point (1-based); None: whole-file problem
    path: str | None  # key path a precise error must name; None: no key path exists (syntax, size, ...)
    note: str
    build: Callable[[], bytes]  # the complete new content of ``file`` (built lazily: some are 10 MB)

    def apply(self, directory: Path) -> None:
        (directory / self.file).write_bytes(self.build())

    def restore(self, directory: Path, originals: dict[str, bytes]) -> None:
        target = directory / self.file
        if self.file in originals:
            target.write_bytes(originals[self.file])
        else:
            target.unlink(missing_ok=True)

    def precise(self, problem: Problem, tolerance: int = 2) -> bool:
        """Does ``problem`` point at this mutation: its file, its line (± ``tolerance``) and its key path?"""
        if problem.severity != "error" or Path(problem.file).name != self.file:
            return False
        if self.line is not None and abs(problem.line - self.line) > tolerance:
            return False
        return self.path is None or (
            problem.path == self.path or problem.path.startswith((self.path + ".", self.path + "["))
        )

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.kind} @ {where} {self.path or ''} ({self.note})"


# -- the parsed shipped knowledge ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    """One list item of a section (an entry, a fact, ...) in one file."""

    file: str
    section: str
    index: int
    node: Node

    @property
    def path(self) -> str:
        return f"{self.section}[{self.index}]"

    @property
    def line(self) -> int:
        return _line(self.node)

    def key(self, name: str) -> tuple[ScalarNode, Node] | None:
        if isinstance(self.node, MappingNode):
            for k, v in self.node.value:
                if isinstance(k, ScalarNode) and k.value == name:
                    return k, v
        return None

    def pairs(self) -> list[tuple[ScalarNode, Node]]:
        return list(self.node.value) if isinstance(self.node, MappingNode) else []

    def scalar(self, name: str) -> str:
        found = self.key(name)
        return str(found[1].value) if found and isinstance(found[1], ScalarNode) else ""


class Corpus:
    """The shipped knowledge files as lines and as node trees (for lines and key paths)."""

    def __init__(self, directory: Path) -> None:
        self.texts: dict[str, str] = {}
        self.items: list[Item] = []
        self.sections: dict[tuple[str, str], int] = {}  # (file, section) → line of the section key
        for path in sorted(directory.glob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            self.texts[path.name] = text
            root = yaml.compose(text, Loader=yaml.SafeLoader)
            if not isinstance(root, MappingNode):
                continue
            for key, value in root.value:
                self.sections[(path.name, str(key.value))] = _line(key)
                if isinstance(value, SequenceNode):
                    for i, child in enumerate(value.value):
                        self.items.append(Item(path.name, str(key.value), i, child))

    def lines(self, file: str) -> list[str]:
        return self.texts[file].split("\n")

    def of(self, section: str) -> list[Item]:
        return [i for i in self.items if i.section == section]

    def with_key(self, section: str, key: str, value: Callable[[Node], bool] = lambda n: True) -> list[Item]:
        return [i for i in self.of(section) if (kv := i.key(key)) is not None and value(kv[1])]


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _end_line(node: Node) -> int:
    """The last line (1-based) that belongs to ``node``'s value."""
    if isinstance(node, MappingNode | SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        return _end_line(last[1] if isinstance(node, MappingNode) else last)
    end = node.end_mark  # just behind the value: on the next line (column 0) after a block scalar
    return int(end.line) + (1 if end.column > 0 else 0)


def _one_line(node: Node) -> bool:
    return _line(node) == _end_line(node)


def _plain(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.style is None and _one_line(node)


def _encode(lines: list[str]) -> Callable[[], bytes]:
    data = "\n".join(lines).encode("utf-8")
    return lambda: data


# -- mutation kinds -----------------------------------------------------------------------------------------

Gen = Callable[[Corpus, random.Random], "Mutation | None"]
CATALOGUE: list[tuple[str, Gen]] = []


def kind(name: str) -> Callable[[Gen], Gen]:
    def register(fn: Gen) -> Gen:
        CATALOGUE.append((name, fn))
        return fn

    return register


SECTIONS_WITH_MAPPINGS = ("entries", "facts", "milestones", "topics", "smalltalk")


def _pick_key(
    c: Corpus, rng: random.Random, sections: tuple[str, ...], keys: tuple[str, ...], *, plain: bool = False
) -> tuple[Item, ScalarNode, Node] | None:
    """A random (item, key node, value node) whose key is one of ``keys`` and is not the item's first key."""
    found = []
    for item in c.items:
        if item.section not in sections:
            continue
        for k, v in item.pairs()[1:]:
            if k.value in keys and (not plain or _plain(v)) and _line(k) == _line(v):
                found.append((item, k, v))
    return rng.choice(found) if found else None


def _replace_line(c: Corpus, file: str, line: int, new: str | list[str]) -> list[str]:
    lines = c.lines(file)
    lines[line - 1 : line] = [new] if isinstance(new, str) else new
    return lines


def _set_value(
    c: Corpus, item: Item, k: ScalarNode, v: Node, new_value: str, kind_: str, *, path: bool = True
) -> Mutation:
    line = _line(k)
    text = c.lines(item.file)[line - 1]
    col = k.start_mark.column
    new = text[:col] + f"{k.value}: {new_value}"
    return Mutation(
        kind_,
        item.file,
        line,
        f"{item.path}.{k.value}" if path else None,
        f"{k.value}: {new_value[:40]!r}",
        _encode(_replace_line(c, item.file, line, new)),
    )


# syntax errors ----------------------------------------------------------------------------------------------


@kind("syntax/dedent-key")
def _dedent_key(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, ("entries", "facts", "milestones"), ("topic", "as_of", "status", "answer", "sources"))
    if got is None:
        return None
    item, k, _ = got
    line = _line(k)
    text = c.lines(item.file)[line - 1]
    return Mutation(
        "syntax/dedent-key",
        item.file,
        line,
        None,
        "key one space left",
        _encode(_replace_line(c, item.file, line, text[1:])),
    )


@kind("syntax/indent-key")
def _indent_key(c: Corpus, rng: random.Random) -> Mutation | None:
    # the key after a one-line plain value, one space further right: YAML reads it as part of that value
    found = []
    for item in c.items:
        pairs = item.pairs()
        for (_, prev_v), (k, _) in itertools.pairwise(pairs):
            if _plain(prev_v) and _line(k) == _line(prev_v) + 1:
                found.append((item, k))
    if not found:
        return None
    item, k = rng.choice(found)
    line = _line(k)
    text = c.lines(item.file)[line - 1]
    return Mutation(
        "syntax/indent-key",
        item.file,
        line,
        None,
        "key one space right",
        _encode(_replace_line(c, item.file, line, " " + text)),
    )


@kind("syntax/tab-indent")
def _tab_indent(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, SECTIONS_WITH_MAPPINGS, ("topic", "as_of", "status", "answer", "questions", "title"))
    if got is None:
        return None
    item, k, _ = got
    line = _line(k)
    text = c.lines(item.file)[line - 1]
    return Mutation(
        "syntax/tab-indent",
        item.file,
        line,
        None,
        "indented with a tab",
        _encode(_replace_line(c, item.file, line, "\t" + text.lstrip(" "))),
    )


def _question_lines(c: Corpus) -> list[tuple[Item, str, int, int]]:
    """(entry, lang, index, line) of every phrasing written on its own line as a quoted '- "..."' item."""
    out = []
    for item in c.of("entries"):
        q = item.key("questions")
        if q is None or not isinstance(q[1], MappingNode):
            continue
        for lk, lv in q[1].value:
            if isinstance(lv, SequenceNode) and lv.flow_style is False:
                for i, p in enumerate(lv.value):
                    if isinstance(p, ScalarNode) and p.style in ('"', "'") and _one_line(p):
                        out.append((item, str(lk.value), i, _line(p)))
    return out


@kind("syntax/unclosed-quote")
def _unclosed_quote(c: Corpus, rng: random.Random) -> Mutation | None:
    found = _question_lines(c)
    if not found:
        return None
    item, _, _, line = rng.choice(found)
    text = c.lines(item.file)[line - 1].rstrip()
    prefix = text[: text.index("- ") + 2]
    body = text[len(prefix) + 1 : -1]  # without its quotes
    if rng.random() < 0.5:
        new, note = f'{prefix}"{body}', "closing quote missing"
    else:
        new, note = f"{prefix}'{body}\"", "opened with ', closed with \""
    return Mutation(
        "syntax/unclosed-quote", item.file, line, None, note, _encode(_replace_line(c, item.file, line, new))
    )


@kind("syntax/unclosed-bracket")
def _unclosed_bracket(c: Corpus, rng: random.Random) -> Mutation | None:
    found = []
    for file, text in c.texts.items():
        for n, line in enumerate(text.split("\n"), 1):
            stripped = line.rstrip()
            body = stripped.lstrip()
            if body.startswith("#") or not stripped.endswith(("]", "}")):
                continue
            if ": [" in stripped or ": {" in stripped or body.startswith(("- [", "- {")):
                found.append((file, n, stripped))
    if not found:
        return None
    file, number, stripped = rng.choice(found)
    return Mutation(
        "syntax/unclosed-bracket",
        file,
        number,
        None,
        f"'{stripped[-1]}' missing",
        _encode(_replace_line(c, file, number, stripped[:-1])),
    )


@kind("syntax/stray-colon")
def _stray_colon(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, SECTIONS_WITH_MAPPINGS, ("topic", "status", "as_of", "owner", "review_by"), plain=True)
    if got is None:
        return None
    item, k, v = got
    return _set_value(c, item, k, v, f"{v.value}: mehr", "syntax/stray-colon", path=False)


@kind("syntax/missing-colon")
def _missing_colon(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, ("entries", "facts", "milestones"), ("topic", "status", "as_of"), plain=True)
    if got is None:
        return None
    item, k, _ = got
    line = _line(k)
    text = c.lines(item.file)[line - 1]
    return Mutation(
        "syntax/missing-colon",
        item.file,
        line,
        None,
        "':' after the key missing",
        _encode(_replace_line(c, item.file, line, text.replace(f"{k.value}:", f"{k.value}", 1))),
    )


@kind("syntax/list-indent")
def _list_indent(c: Corpus, rng: random.Random) -> Mutation | None:
    found = [q for q in _question_lines(c) if q[2] > 0]
    if not found:
        return None
    item, _, _, line = rng.choice(found)
    text = c.lines(item.file)[line - 1]
    return Mutation(
        "syntax/list-indent",
        item.file,
        line,
        None,
        "list item two spaces left",
        _encode(_replace_line(c, item.file, line, text[2:])),
    )


# wrong types ------------------------------------------------------------------------------------------------


@kind("type/list-for-text")
def _list_for_text(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, ("entries", "milestones"), ("topic", "status", "owner"), plain=True)
    if got is None:
        return None
    item, k, v = got
    return _set_value(c, item, k, v, f"[{v.value}, {v.value}]", "type/list-for-text")


@kind("type/list-for-mapping")
def _list_for_mapping(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, ("facts", "milestones", "topics"), ("title", "value", "when"))
    if got is None or not (isinstance(got[2], MappingNode) and _one_line(got[2])):
        return None
    item, k, v = got
    return _set_value(c, item, k, v, '["erste Zeile", "zweite Zeile"]', "type/list-for-mapping")


@kind("type/text-for-list")
def _text_for_list(c: Corpus, rng: random.Random) -> Mutation | None:
    items = c.with_key("entries", "related", lambda n: isinstance(n, SequenceNode) and _one_line(n))
    if not items:
        return None
    item = rng.choice(items)
    k, v = item.key("related") or (None, None)
    assert isinstance(k, ScalarNode) and v is not None
    return _set_value(c, item, k, v, "amt-warum und amtsleitung", "type/text-for-list")


@kind("type/mapping-for-text")
def _mapping_for_text(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, ("entries", "milestones"), ("topic", "status"), plain=True)
    if got is None:
        return None
    item, k, v = got
    return _set_value(c, item, k, v, f"{{de: {v.value}}}", "type/mapping-for-text")


@kind("type/bool-or-null-for-text")
def _bool_for_text(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, ("entries", "milestones", "smalltalk"), ("topic", "status", "owner", "answer"))
    if got is None:
        return None
    item, k, v = got
    if not _one_line(v):
        return None
    return _set_value(
        c, item, k, v, rng.choice(["yes", "no", "true", "off", "null", "~", ""]), "type/bool-or-null-for-text"
    )


@kind("type/number-for-text")
def _number_for_text(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, ("entries", "facts", "milestones"), ("status", "as_of", "review_by"), plain=True)
    if got is None:
        return None
    item, k, v = got
    return _set_value(c, item, k, v, rng.choice(["42", "3.5", "20220624", "-1"]), "type/number-for-text")


@kind("type/invalid-date")
def _invalid_date(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, ("entries", "facts", "milestones"), ("as_of", "review_by", "date"), plain=True)
    if got is None:
        return None
    item, k, v = got
    bad = rng.choice(["2022-13-45", "24.06.2022", "2022-02-30", "morgen", "2022-06", "Juni 2022", "2022/06/24"])
    return _set_value(c, item, k, v, bad, "type/invalid-date")


@kind("type/invalid-status")
def _invalid_status(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, ("milestones",), ("status",), plain=True)
    if got is None:
        return None
    item, k, v = got
    bad = rng.choice(["finished", "Done", "in progress", "geplant", "erledigt", "started"])
    return _set_value(c, item, k, v, bad, "type/invalid-status")


@kind("type/invalid-id")
def _invalid_id(c: Corpus, rng: random.Random) -> Mutation | None:
    items = [i for i in c.items if i.section in ("entries", "milestones", "topics") and i.key("id")]
    if not items:
        return None
    item = rng.choice(items)
    k, v = item.key("id") or (None, None)
    assert isinstance(k, ScalarNode) and v is not None
    bad = rng.choice([f"{v.value}_neu".replace("-", "_"), f"Neu {v.value}", f"{v.value}!", f"{v.value}.2"])
    return _set_value(c, item, k, v, bad, "type/invalid-id")


@kind("type/invalid-url")
def _invalid_url(c: Corpus, rng: random.Random) -> Mutation | None:
    found = []
    for item in c.items:
        src = item.key("sources")
        if src and isinstance(src[1], SequenceNode):
            for i, s in enumerate(src[1].value):
                if isinstance(s, MappingNode) and _one_line(s):
                    found.append((item, i, _line(s)))
    if not found:
        return None
    item, i, line = rng.choice(found)
    text = c.lines(item.file)[line - 1]
    bad = rng.choice(["www.kommune21.de", "kommune21", "ftp://example.org", "https://"])
    new = re.sub(r'url: "?[^",}]+"?', f'url: "{bad}"', text, count=1)
    if new == text:
        return None
    return Mutation(
        "type/invalid-url",
        item.file,
        line,
        f"{item.path}.sources[{i}].url",
        bad,
        _encode(_replace_line(c, item.file, line, new)),
    )


@kind("type/answer-too-long")
def _answer_too_long(c: Corpus, rng: random.Random) -> Mutation | None:
    items = c.with_key("entries", "answer", lambda n: isinstance(n, MappingNode))
    if not items:
        return None
    item = rng.choice(items)
    answer = item.key("answer")
    assert answer is not None
    lang = rng.choice(["de", "en"])
    de = next((v for k, v in answer[1].value if k.value == lang), None)
    if not isinstance(de, ScalarNode) or de.style != "|":
        return None
    line = _line(de) + 1  # the first content line of the block
    text = c.lines(item.file)[line - 1]
    indent = text[: len(text) - len(text.lstrip())]
    return Mutation(
        "type/answer-too-long",
        item.file,
        line,
        f"{item.path}.answer.{lang}",
        "3,200 characters",
        _encode(_replace_line(c, item.file, line, indent + "Sehr langer Text. " * 180)),
    )


# dangling references ----------------------------------------------------------------------------------------


@kind("ref/related")
def _ref_related(c: Corpus, rng: random.Random) -> Mutation | None:
    items = c.with_key("entries", "related", lambda n: isinstance(n, SequenceNode) and _one_line(n) and n.value)
    if not items:
        return None
    item = rng.choice(items)
    k, v = item.key("related") or (None, None)
    assert isinstance(k, ScalarNode) and isinstance(v, SequenceNode)
    ids = [str(n.value) for n in v.value]
    ids[rng.randrange(len(ids))] = rng.choice(["gibt-es-nicht", "amt-aufgabe", "amtsleitungen", item.scalar("id")])
    return _set_value(c, item, k, v, "[" + ", ".join(ids) + "]", "ref/related")


@kind("ref/topic")
def _ref_topic(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, ("entries",), ("topic",), plain=True)
    if got is None:
        return None
    item, k, v = got
    return _set_value(c, item, k, v, rng.choice(["zeitplaene", "unbekannt", f"{v.value}-x"]), "ref/topic")


def _answer_lines(c: Corpus, needle: str = "") -> list[tuple[Item, str, str, int]]:
    """(item, text key path, language, line) of each content line in a block answer/text containing ``needle``."""
    out = []
    for item in c.items:
        for key in ("answer", "text"):
            found = item.key(key)
            if found is None or not isinstance(found[1], MappingNode):
                continue
            for lk, lv in found[1].value:
                if isinstance(lv, ScalarNode) and lv.style == "|":
                    lines = c.lines(item.file)
                    for n in range(_line(lv) + 1, _end_line(lv) + 1):
                        if needle in lines[n - 1] and lines[n - 1].strip():
                            out.append((item, key, str(lk.value), n))
    return out


@kind("ref/fact-placeholder")
def _ref_fact(c: Corpus, rng: random.Random) -> Mutation | None:
    found = _answer_lines(c, "{{ fact:")
    if not found:
        return None
    item, key, lang, line = rng.choice(found)
    text = c.lines(item.file)[line - 1]
    new = re.sub(r"\{\{ fact:(\w+) \}\}", lambda m: "{{ fact:" + m.group(1) + "_alt }}", text, count=1)
    return Mutation(
        "ref/fact-placeholder",
        item.file,
        line,
        f"{item.path}.{key}.{lang}",
        "unknown fact",
        _encode(_replace_line(c, item.file, line, new)),
    )


@kind("ref/milestone-placeholder")
def _ref_milestone(c: Corpus, rng: random.Random) -> Mutation | None:
    found = [f for f in _answer_lines(c) if f[0].section == "entries"]
    if not found:
        return None
    item, key, lang, line = rng.choice(found)
    text = c.lines(item.file)[line - 1]
    new = text.rstrip() + " Stand: {{ milestone:amts-gruendung }}."
    return Mutation(
        "ref/milestone-placeholder",
        item.file,
        line,
        f"{item.path}.{key}.{lang}",
        "unknown milestone",
        _encode(_replace_line(c, item.file, line, new)),
    )


@kind("ref/entry-milestones")
def _ref_entry_milestones(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, ("entries",), ("topic",), plain=True)
    if got is None:
        return None
    item, k, _ = got
    if item.key("milestones"):
        return None
    line = _line(k)
    indent = " " * k.start_mark.column
    new = [c.lines(item.file)[line - 1], f"{indent}milestones: [{rng.choice(['gruendung', 'amtsleitung-x'])}]"]
    return Mutation(
        "ref/entry-milestones",
        item.file,
        line + 1,
        f"{item.path}.milestones",
        "unknown milestone id",
        _encode(_replace_line(c, item.file, line, new)),
    )


@kind("ref/fact-in-milestone-text")
def _ref_milestone_text(c: Corpus, rng: random.Random) -> Mutation | None:
    found = []
    for item in c.of("milestones"):
        texts = item.key("text")
        if texts and isinstance(texts[1], MappingNode):
            for lk, lv in texts[1].value:
                if isinstance(lv, ScalarNode) and lv.style == '"' and _one_line(lv):
                    found.append((item, str(lk.value), _line(lv)))
    if not found:
        return None
    item, lang, line = rng.choice(found)
    text = c.lines(item.file)[line - 1]
    new = text[:-1] + ' ({{ fact:amt_leitung }})"' if text.endswith('"') else None
    if new is None:
        return None
    return Mutation(
        "ref/fact-in-milestone-text",
        item.file,
        line,
        f"{item.path}.text.{lang}",
        "unknown fact",
        _encode(_replace_line(c, item.file, line, new)),
    )


# duplicates -------------------------------------------------------------------------------------------------


def _dup_id(c: Corpus, rng: random.Random, section: str, key: str, kind_: str) -> Mutation | None:
    items = [i for i in c.of(section) if i.key(key)]
    if len(items) < 2:
        return None
    first, second = sorted(rng.sample(items, 2), key=lambda i: (i.file, i.index))
    k, v = second.key(key) or (None, None)
    assert isinstance(k, ScalarNode) and v is not None
    line = _line(k)
    text = c.lines(second.file)[line - 1]
    new = text[: k.start_mark.column] + f"{key}: {first.scalar(key)}"
    return Mutation(
        kind_,
        second.file,
        second.line,
        second.path,
        f"{key} of {first.path}",
        _encode(_replace_line(c, second.file, line, new)),
    )


# One kind per section with named items, registered here so the catalogue keeps its order.
for _name, _section, _key in (
    ("dup/entry-id", "entries", "id"),
    ("dup/fact-name", "facts", "name"),
    ("dup/milestone-id", "milestones", "id"),
    ("dup/topic-id", "topics", "id"),
    ("dup/smalltalk-id", "smalltalk", "id"),
):
    kind(_name)(functools.partial(_dup_id, section=_section, key=_key, kind_=_name))


@kind("dup/entry-id-is-smalltalk-id")
def _dup_entry_smalltalk(c: Corpus, rng: random.Random) -> Mutation | None:
    entries, smalltalk = c.of("entries"), c.of("smalltalk")
    if not entries or not smalltalk:
        return None
    item = rng.choice(entries)
    k, v = item.key("id") or (None, None)
    if not isinstance(k, ScalarNode) or v is None:
        return None
    m = _set_value(c, item, k, v, rng.choice(smalltalk).scalar("id"), "dup/entry-id-is-smalltalk-id")
    return Mutation(m.kind, m.file, item.line, item.path, m.note, m.build)


@kind("dup/phrasing")
def _dup_phrasing(c: Corpus, rng: random.Random) -> Mutation | None:
    found = _question_lines(c)
    entries = sorted({(q[0].file, q[0].index) for q in found})
    if len(entries) < 2:
        return None
    (f1, i1), (f2, i2) = sorted(rng.sample(entries, 2))
    source = rng.choice([q for q in found if (q[0].file, q[0].index) == (f1, i1)])
    target = rng.choice([q for q in found if (q[0].file, q[0].index) == (f2, i2) and q[1] == source[1]] or [None])
    if target is None:
        return None
    item, lang, _, line = target
    phrasing = c.lines(source[0].file)[source[3] - 1].strip()[2:]
    indent = c.lines(item.file)[line - 1].split("-")[0]
    if rng.random() < 0.5:  # the same question in other letter case and punctuation is the same phrasing
        phrasing = phrasing.upper().replace("?", " ?")
    return Mutation(
        "dup/phrasing",
        item.file,
        line,
        f"{item.path}.questions.{lang}",
        f"phrasing of {source[0].path}",
        _encode(_replace_line(c, item.file, line, f"{indent}- {phrasing}")),
    )


@kind("dup/key")
def _dup_key(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, SECTIONS_WITH_MAPPINGS, ("topic", "status", "as_of", "title", "owner"))
    if got is None or not _one_line(got[2]):
        return None
    item, k, _ = got
    last = max(_end_line(v) for _, v in item.pairs())
    lines = c.lines(item.file)
    copy = lines[_line(k) - 1]
    lines[last:last] = [copy]
    return Mutation("dup/key", item.file, last + 1, f"{item.path}.{k.value}", f"'{k.value}' twice", _encode(lines))


@kind("dup/synonym-term")
def _dup_synonym(c: Corpus, rng: random.Random) -> Mutation | None:
    groups = [
        i for i in c.of("synonyms") if isinstance(i.node, SequenceNode) and i.node.flow_style and _one_line(i.node)
    ]
    if len(groups) < 2:
        return None
    a, b = rng.sample(groups, 2)
    later, earlier = (a, b) if (a.file, a.index) > (b.file, b.index) else (b, a)
    assert isinstance(earlier.node, SequenceNode)
    term = str(rng.choice(earlier.node.value).value)
    text = c.lines(later.file)[later.line - 1].rstrip()
    if not text.endswith("]"):
        return None
    return Mutation(
        "dup/synonym-term",
        later.file,
        later.line,
        later.path,
        f"'{term}' in two groups",
        _encode(_replace_line(c, later.file, later.line, text[:-1] + f", {term}]")),
    )


# unknown and missing keys -----------------------------------------------------------------------------------

TYPOS = {
    "topic": ["topik", "Topic", "thema"],
    "as_of": ["asof", "as-of", "stand"],
    "answer": ["answers", "antwort", "anwser"],
    "questions": ["question", "fragen"],
    "sources": ["source", "quellen"],
    "related": ["relatd", "siehe_auch"],
    "status": ["stauts", "state"],
    "value": ["valeu", "wert"],
    "title": ["titel", "tilte"],
    "text": ["txt", "texte"],
    "review_by": ["review", "reviewby"],
}


@kind("key/typo")
def _key_typo(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, SECTIONS_WITH_MAPPINGS, tuple(TYPOS))
    if got is None:
        return None
    item, k, _ = got
    line = _line(k)
    typo = rng.choice(TYPOS[str(k.value)])
    text = c.lines(item.file)[line - 1]
    col = k.start_mark.column
    new = text[:col] + typo + text[col + len(str(k.value)) :]
    return Mutation(
        "key/typo",
        item.file,
        line,
        f"{item.path}.{typo}",
        f"{k.value} → {typo}",
        _encode(_replace_line(c, item.file, line, new)),
    )


@kind("key/unknown-section")
def _unknown_section(c: Corpus, rng: random.Random) -> Mutation | None:
    (file, section), line = rng.choice(sorted(c.sections.items()))
    bad = rng.choice([section[:-1], section.capitalize(), section + "s", "faq"])
    text = c.lines(file)[line - 1]
    return Mutation(
        "key/unknown-section",
        file,
        line,
        bad,
        f"{section} → {bad}",
        _encode(_replace_line(c, file, line, text.replace(section, bad, 1))),
    )


@kind("key/extra")
def _extra_key(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, SECTIONS_WITH_MAPPINGS, ("topic", "status", "as_of", "title", "answer", "questions"))
    if got is None:
        return None
    item, k, _ = got
    line = _line(k)
    extra = rng.choice(["kommentar", "notiz", "prioritaet", "tags", "date"])
    if item.key(extra):
        return None
    new = [" " * k.start_mark.column + f'{extra}: "bitte prüfen"', c.lines(item.file)[line - 1]]
    return Mutation(
        "key/extra",
        item.file,
        line,
        f"{item.path}.{extra}",
        f"unknown key {extra}",
        _encode(_replace_line(c, item.file, line, new)),
    )


REQUIRED = {
    "entries": ("id", "topic", "questions", "answer", "sources", "as_of"),
    "facts": ("name", "value", "sources", "as_of"),
    "milestones": ("id", "title", "status", "text", "sources", "as_of"),
    "topics": ("id", "title"),
    "smalltalk": ("id", "questions", "answer"),
}


@kind("missing/required-key")
def _missing_key(c: Corpus, rng: random.Random) -> Mutation | None:
    item = rng.choice([i for i in c.items if i.section in REQUIRED])
    pairs = item.pairs()
    required = [(n, k, v) for n, (k, v) in enumerate(pairs) if k.value in REQUIRED[item.section]]
    if not required:
        return None
    n, k, v = rng.choice(required)
    lines = c.lines(item.file)
    first, last = _line(k), _end_line(v)
    if n == 0:  # the key on the "- " line: keep the dash, the mapping then starts on the next line
        dash = lines[first - 1][: k.start_mark.column].rstrip()
        lines[first - 1 : last] = [dash]
        line = last + 1
    else:
        del lines[first - 1 : last]
        line = item.line
    return Mutation(
        "missing/required-key", item.file, line, f"{item.path}.{k.value}", f"{k.value} deleted", _encode(lines)
    )


# empty required lists ---------------------------------------------------------------------------------------


@kind("empty/required-list")
def _empty_list(c: Corpus, rng: random.Random) -> Mutation | None:
    found = []
    for item in c.items:
        for k, v in item.pairs():
            if k.value == "sources" and isinstance(v, SequenceNode):
                found.append((item, k, v, f"{item.path}.sources"))
            if k.value == "questions" and isinstance(v, MappingNode):
                for lk, lv in v.value:
                    if isinstance(lv, SequenceNode):
                        found.append((item, lk, lv, f"{item.path}.questions.{lk.value}"))
    if not found:
        return None
    item, k, v, path = rng.choice(found)
    lines = c.lines(item.file)
    first, last = _line(k), _end_line(v)
    head = lines[first - 1][: k.start_mark.column] + f"{k.value}: []"
    lines[first - 1 : last] = [head]
    return Mutation("empty/required-list", item.file, first, path, f"{path} = []", _encode(lines))


@kind("empty/synonym-group")
def _small_group(c: Corpus, rng: random.Random) -> Mutation | None:
    groups = [
        i for i in c.of("synonyms") if isinstance(i.node, SequenceNode) and i.node.flow_style and _one_line(i.node)
    ]
    if not groups:
        return None
    item = rng.choice(groups)
    assert isinstance(item.node, SequenceNode)
    text = c.lines(item.file)[item.line - 1]
    indent = text.split("-")[0]
    new = indent + rng.choice(["- []", f"- [{item.node.value[0].value}]"])
    return Mutation(
        "empty/synonym-group",
        item.file,
        item.line,
        item.path,
        "group with < 2 terms",
        _encode(_replace_line(c, item.file, item.line, new)),
    )


# alias bombs ------------------------------------------------------------------------------------------------


def _laughs(levels: int = 9, key_prefix: str = "") -> list[str]:
    out = [f'{key_prefix}a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        refs = ", ".join([f"*a{n - 1}"] * 9)
        out.append(f"{key_prefix}a{n}: &a{n} [{refs}]")
    return out


@kind("alias/billion-laughs-new-file")
def _bomb_file(c: Corpus, rng: random.Random) -> Mutation | None:
    comments = ["# Vorlage"] * rng.randrange(0, 4)
    lines = comments + _laughs(rng.randrange(3, 12))
    return Mutation(
        "alias/billion-laughs-new-file",
        f"bomb{rng.randrange(100)}.yaml",
        len(comments) + 1,
        None,
        "billion laughs",
        _encode(lines),
    )


@kind("alias/billion-laughs-in-file")
def _bomb_in_file(c: Corpus, rng: random.Random) -> Mutation | None:
    file = rng.choice(sorted(c.texts))
    lines = c.lines(file)
    while lines and not lines[-1].strip():
        lines.pop()
    line = len(lines) + 1
    return Mutation(
        "alias/billion-laughs-in-file",
        file,
        line,
        None,
        "billion laughs appended",
        _encode(lines + _laughs(rng.randrange(3, 12)) + [""]),
    )


@kind("alias/anchor-and-alias")
def _anchor(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, ("entries", "milestones"), ("topic", "status", "as_of"), plain=True)
    if got is None:
        return None
    item, k, v = got
    if rng.random() < 0.5:
        return _set_value(c, item, k, v, f"&wert {v.value}", "alias/anchor-and-alias", path=False)
    return _set_value(c, item, k, v, "*wert", "alias/anchor-and-alias", path=False)


@kind("alias/merge-key")
def _merge_key(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, SECTIONS_WITH_MAPPINGS, ("topic", "status", "as_of", "title", "answer", "questions"))
    if got is None:
        return None
    item, k, _ = got
    line = _line(k)
    new = [" " * k.start_mark.column + "<<: *vorlage", c.lines(item.file)[line - 1]]
    return Mutation(
        "alias/merge-key", item.file, line, None, "<<: *vorlage", _encode(_replace_line(c, item.file, line, new))
    )


# 10 MB files ------------------------------------------------------------------------------------------------


def _big(head: bytes, unit: bytes, size: int = TEN_MB) -> Callable[[], bytes]:
    return lambda: head + unit * ((size - len(head)) // len(unit) + 1)


@kind("big/existing-file")
def _big_existing(c: Corpus, rng: random.Random) -> Mutation | None:
    file = rng.choice(sorted(c.texts))
    head = c.texts[file].encode("utf-8")
    unit = rng.choice([b"# Kommentar, der sich endlos wiederholt\n", b'        - "Noch eine Frage?"\n', b" " * 64])
    return Mutation("big/existing-file", file, None, None, f"{file} grown to 10 MB", _big(head, unit))


@kind("big/new-file")
def _big_new(c: Corpus, rng: random.Random) -> Mutation | None:
    head, unit = rng.choice(
        [
            (b"entries:\n", b"  - id: x\n    topic: amt\n"),
            (b"synonyms:\n  - [", b"wort, "),
            (b"", b"\xff\xfe" * 32),
            (b"# nur Kommentare\n", b"#" * 79 + b"\n"),
        ]
    )
    size = rng.choice([TEN_MB, TEN_MB, 1_000_001])
    return Mutation(
        "big/new-file", f"gross{rng.randrange(100)}.yaml", None, None, f"new {size:,} byte file", _big(head, unit, size)
    )


# encoding -------------------------------------------------------------------------------------------------


@kind("encoding/invalid-byte")
def _bad_byte(c: Corpus, rng: random.Random) -> Mutation | None:
    file = rng.choice(sorted(c.texts))
    lines = c.lines(file)
    line = rng.randrange(1, len(lines))
    data = (
        "\n".join(lines[: line - 1]).encode()
        + b"\n"
        + rng.choice([b"\xff", b"\xe4", b"\xc3("])
        + "\n".join(lines[line - 1 :]).encode()
    )
    return Mutation("encoding/invalid-byte", file, line, None, "byte that is not UTF-8", lambda: data)


@kind("encoding/latin1")
def _latin1(c: Corpus, rng: random.Random) -> Mutation | None:
    files = [f for f, t in c.texts.items() if any(ch in t for ch in "äöüßÄÖÜ–")]
    if not files:
        return None
    file = rng.choice(files)
    text = c.texts[file]
    first = next(n for n, ln in enumerate(text.split("\n"), 1) if any(ord(ch) > 127 for ch in ln))
    data = text.encode("cp1252", "replace")
    return Mutation("encoding/latin1", file, first, None, "saved as Windows-1252", lambda: data)


@kind("encoding/control-character")
def _control(c: Corpus, rng: random.Random) -> Mutation | None:
    found = _question_lines(c)
    if not found:
        return None
    item, _, _, line = rng.choice(found)
    text = c.lines(item.file)[line - 1]
    cut = text.index('"') + 2
    new = text[:cut] + rng.choice(["\x00", "\x07", "\x1b", "\x08"]) + text[cut:]
    return Mutation(
        "encoding/control-character",
        item.file,
        line,
        None,
        "control character",
        _encode(_replace_line(c, item.file, line, new)),
    )


# placeholders ---------------------------------------------------------------------------------------------


@kind("placeholder/broken")
def _broken_placeholder(c: Corpus, rng: random.Random) -> Mutation | None:
    found = _answer_lines(c, "{{ fact:")
    if not found:
        return None
    item, key, lang, line = rng.choice(found)
    text = c.lines(item.file)[line - 1]
    broken = rng.choice(
        [
            "{{ fact: }}",
            "{{ fact:NAME }",
            "{{ fakt:NAME }}",
            "{{ Fact:NAME }}",
            "{{ fact NAME }}",
            "{{ fact:NAME",
            "{ fact:NAME }}",
            "{{ fact:NAME }}}",
            "{{ fact:NAME extra }}",
        ]
    )
    new = re.sub(r"\{\{ fact:(\w+) \}\}", lambda m: broken.replace("NAME", m.group(1)), text, count=1)
    return Mutation(
        "placeholder/broken",
        item.file,
        line,
        f"{item.path}.{key}.{lang}",
        broken,
        _encode(_replace_line(c, item.file, line, new)),
    )


@kind("placeholder/in-fact-value")
def _placeholder_in_fact(c: Corpus, rng: random.Random) -> Mutation | None:
    got = _pick_key(c, rng, ("facts",), ("value",))
    if got is None or not _one_line(got[2]):
        return None
    item, k, v = got
    return _set_value(c, item, k, v, '"siehe {{ fact:amt_name }}"', "placeholder/in-fact-value")


# whole-file shape -----------------------------------------------------------------------------------------


@kind("shape/root-not-mapping")
def _root(c: Corpus, rng: random.Random) -> Mutation | None:
    content = rng.choice(["- id: neu\n  topic: amt\n", "Nur ein Satz.\n", "[a, b]\n"])
    return Mutation(
        "shape/root-not-mapping", f"neu{rng.randrange(100)}.yaml", 1, None, content.strip(), _encode([content])
    )


# -- the catalogue ------------------------------------------------------------------------------------------


def generate(directory: Path, count: int = 200, seed: int = 20261126) -> list[Mutation]:
    """``count`` mutations of the knowledge in ``directory``: the kinds in turn, targets by a seeded generator."""
    corpus = Corpus(directory)
    rng = random.Random(seed)
    out: list[Mutation] = []
    seen: set[tuple[str, str, int | None, str]] = set()
    attempts = 0
    for _name, gen in _cycle():
        if len(out) >= count or attempts > count * 50:
            break
        attempts += 1
        mutation = gen(corpus, rng)
        if mutation is None:
            continue
        key = (mutation.kind, mutation.file, mutation.line, mutation.note)
        if key in seen and attempts < count * 20:
            continue
        seen.add(key)
        out.append(mutation)
    return out


def _cycle() -> Iterator[tuple[str, Gen]]:
    while True:
        yield from CATALOGUE


def snapshot_files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.glob("*.yaml")}


# -- running the catalogue against a live service -----------------------------------------------------------


def probe_questions(service: FaqService) -> list[str]:
    """Questions with known answers: the first phrasing per language of every entry, a greeting, an unknown one."""
    out = [q for e in service.knowledge.entries.values() for qs in e.questions.values() for q in qs[:1]]
    return [*out, "hallo", "Wie wird das Wetter morgen in Berlin?"]


class Asker(threading.Thread):
    """Asks ``questions`` over and over and records every reply that differs from the one before the test."""

    def __init__(self, service: FaqService, questions: list[str], pause: float = 0.001) -> None:
        super().__init__(name="asker", daemon=True)
        self.service = service
        self.expected: dict[str, Reply] = {q: service.ask(q).reply for q in questions}
        self.pause = pause
        self.asked = 0
        self.differed: list[tuple[str, Reply, Reply]] = []
        self.crashed: list[BaseException] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                for question, expected in self.expected.items():
                    reply = self.service.ask(question).reply
                    self.asked += 1
                    if reply != expected:
                        self.differed.append((question, expected, reply))
                    time.sleep(self.pause)  # leave the reload most of the two cores
        except BaseException as exc:  # reported by the test
            self.crashed.append(exc)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)


@dataclass
class Outcome:
    total: int = 0
    refused: int = 0
    precise: int = 0
    snapshot_kept: int = 0
    seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def run_mutations(service: FaqService, directory: Path, mutations: list[Mutation]) -> Outcome:
    """Apply each mutation to ``directory``, reload, restore; count refusals, precise messages and times."""
    originals = snapshot_files(directory)
    outcome = Outcome()
    for m in mutations:
        before = service.snapshot
        m.apply(directory)
        try:
            started = time.perf_counter()
            result = service.reload()
            outcome.seconds.append(time.perf_counter() - started)
        finally:
            m.restore(directory, originals)
        outcome.total += 1
        kept = service.snapshot is before and service.knowledge.version == before.knowledge.version
        outcome.snapshot_kept += kept
        if result.knowledge is not None or not result.errors:
            outcome.failures.append(f"ACCEPTED {m}")
            continue
        outcome.refused += 1
        if not kept:
            outcome.failures.append(f"SNAPSHOT REPLACED {m}")
        if any(m.precise(p) for p in result.errors):
            outcome.precise += 1
        else:
            shown = "\n    ".join(str(p) for p in result.errors[:3])
            outcome.failures.append(f"IMPRECISE {m}\n    {shown}")
    return outcome


def valid_edit(directory: Path, marker: str) -> tuple[str, str]:
    """Append ``marker`` to the German answer of the first entry written as a "|" block; (entry id, question)."""
    corpus = Corpus(directory)
    for item, key, lang, line in _answer_lines(corpus):
        questions = item.key("questions")
        if item.section != "entries" or key != "answer" or lang != "de" or questions is None:
            continue
        lines = corpus.lines(item.file)
        lines[line - 1] = lines[line - 1].rstrip() + " " + marker
        (directory / item.file).write_text("\n".join(lines), encoding="utf-8")
        de = _child_of(questions[1], "de")
        assert isinstance(de, SequenceNode), "German phrasings are a list"
        return item.scalar("id"), str(de.value[0].value)
    raise AssertionError("no entry with a German answer block to edit")


def _child_of(node: Node, key: str) -> Node | None:
    if isinstance(node, MappingNode):
        return next((v for k, v in node.value if k.value == key), None)
    return None
