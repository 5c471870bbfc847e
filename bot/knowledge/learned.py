"""Learned phrasings: how users asked, attached to an existing entry by an admin in Telegram.

They are stored in the bot's database (:class:`bot.storage.Store`), not in the editors' YAML, and take effect
at once: :func:`merge_learned` adds them to a validated :class:`Knowledge` (skipping, with a warning, any that
no longer fit), :func:`check_learnable` refuses one before it is stored, and :func:`export_yaml` writes them
out so editors can move them into ``knowledge/*.yaml`` and then delete them with ``faqbot learned remove``.

The rules are the loader's: at most :data:`~bot.knowledge.loader.MAX_PHRASING_CHARS` characters, not empty,
and the same phrasing (:func:`~bot.knowledge.loader.phrasing_key`) never in two entries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from bot.knowledge.loader import MAX_PHRASING_CHARS, phrasing_key
from bot.knowledge.model import LANGS, Entry, Knowledge, Lang
from bot.knowledge.yamlnodes import Problem

__all__ = ["LEARNED_FILE", "LearnedPhrasing", "check_learnable", "export_yaml", "learned_path", "merge_learned"]

LEARNED_FILE = "gelernt"  # the "file" of problems about learned phrasings


def learned_path(learned_id: int) -> str:
    """The ``path`` of problems about the learned phrasing ``learned_id`` (its number in the database)."""
    return f"learned[#{learned_id}]"


@dataclass(frozen=True, slots=True)
class LearnedPhrasing:
    """One phrasing an admin attached to an entry; ``id`` is the number ``faqbot learned remove`` takes."""

    id: int
    entry_id: str
    lang: Lang
    text: str
    added_at: dt.datetime


def _owners(knowledge: Knowledge) -> dict[str, str]:
    """phrasing key → id of the entry that has it (the first one, as the loader reports duplicates)."""
    owners: dict[str, str] = {}
    for entry in knowledge.entries.values():
        for phrasings in entry.questions.values():
            for phrasing in phrasings:
                owners.setdefault(phrasing_key(phrasing), entry.id)
    return owners


def _refusal(owners: dict[str, str], knowledge: Knowledge, entry_id: str, lang: str, text: str) -> str | None:
    """Why ``text`` cannot be a phrasing of ``entry_id`` (German), or None. Same-entry duplicates say 'schon'."""
    if entry_id not in knowledge.entries:
        return f"Eintrag '{entry_id}' gibt es nicht (mehr) in der Wissensbasis"
    if lang not in LANGS:
        return f"Sprache '{lang}' gibt es nicht (erlaubt: {', '.join(LANGS)})"
    stripped = text.strip()
    key = phrasing_key(stripped)
    if not key:
        return "Formulierung ist leer (enthält keine Wörter)"
    if len(stripped) > MAX_PHRASING_CHARS:
        return f"Formulierung ist zu lang ({len(stripped)} Zeichen, höchstens {MAX_PHRASING_CHARS})"
    owner = owners.get(key)
    if owner is not None:
        return f"Formulierung steht schon bei Eintrag '{owner}'"
    return None


def check_learnable(knowledge: Knowledge, entry_id: str, lang: str, text: str) -> str | None:
    """Why ``text`` cannot be attached to ``entry_id`` in ``lang`` (German, for the admin), or None if it can.

    Pass the knowledge that is serving (learned phrasings merged), so a phrasing learned before counts too.
    """
    return _refusal(_owners(knowledge), knowledge, entry_id, lang, text)


def merge_learned(knowledge: Knowledge, learned: Sequence[LearnedPhrasing]) -> tuple[Knowledge, list[Problem]]:
    """``knowledge`` with the usable learned phrasings added to their entries, and a warning for each other one.

    Phrasings are applied in the given order (oldest first), so of two learned phrasings that collide the
    older one wins. One that editors have meanwhile put into the same entry is skipped with a hint that it can
    be removed. Never raises for bad data. The result's ``version`` differs from the input's whenever a
    learned phrasing was added (short hash over the old version and the added phrasings); with nothing to
    add, ``knowledge`` itself is returned.
    """
    owners = _owners(knowledge)
    problems: list[Problem] = []
    added: dict[str, dict[Lang, list[str]]] = {}
    digest = hashlib.sha256(knowledge.version.encode())
    for item in learned:
        reason = _refusal(owners, knowledge, item.entry_id, item.lang, item.text)
        if reason is not None:
            if owners.get(phrasing_key(item.text)) == item.entry_id:
                reason += f" – kann mit 'faqbot learned remove {item.id}' entfernt werden"
            else:
                reason += " – wird nicht verwendet"
            problems.append(Problem(LEARNED_FILE, 0, learned_path(item.id), reason, "warning"))
            continue
        text = item.text.strip()
        owners[phrasing_key(text)] = item.entry_id
        added.setdefault(item.entry_id, {}).setdefault(item.lang, []).append(text)
        digest.update(f"\0{item.id}\x1f{item.entry_id}\x1f{item.lang}\x1f{text}".encode())
    if not added:
        return knowledge, problems
    entries = dict(knowledge.entries)
    for entry_id, by_lang in added.items():
        entries[entry_id] = _with_phrasings(entries[entry_id], by_lang)
    merged = dataclasses.replace(knowledge, entries=entries, version=digest.hexdigest()[:12])
    return merged, problems


def _with_phrasings(entry: Entry, by_lang: dict[Lang, list[str]]) -> Entry:
    questions = dict(entry.questions)
    lines = dict(entry.question_lines)
    for lang, texts in by_lang.items():
        questions[lang] = (*questions.get(lang, ()), *texts)
        # Learned phrasings have no line in a file: 0, as for anything not read from YAML.
        lines[lang] = (*lines.get(lang, ()), *(0 for _ in texts))
    return dataclasses.replace(entry, questions=questions, question_lines=lines)


def _quoted(text: str) -> str:
    """``text`` as one double-quoted YAML scalar on one line (escaped by PyYAML)."""
    return yaml.safe_dump(text, allow_unicode=True, default_style='"', width=1_000_000).rstrip("\n")


def export_yaml(learned: Sequence[LearnedPhrasing], knowledge: Knowledge, *, now: dt.datetime | None = None) -> str:
    """A YAML document of the learned phrasings, grouped by entry, for editors to merge into the knowledge.

    Shape: ``learned: [{entry: <id>, de: [...], en: [...]}]``, entries in file order (unknown ones last).
    Comments give each entry's ``file:line`` and each phrasing's number for ``faqbot learned remove``.
    """
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    header = [
        f"# Gelernte Formulierungen – {len(learned)} Stück, exportiert am {moment:%d.%m.%Y um %H:%M} UTC.",
        "#",
        "# Admins haben diese Fragen im Bot (/unbeantwortet) einem Eintrag zugeordnet. Sie wirken schon,",
        "# stehen aber nur in der Datenbank des Bots, nicht in der Wissensbasis.",
        "# So übernehmen Sie sie:",
        "#   1. jede Formulierung unter 'questions:' des genannten Eintrags (de/en) eintragen,",
        "#   2. 'faqbot check' ausführen und /reload im Bot senden,",
        "#   3. die übernommenen Nummern (Kommentar 'Nr.') mit 'faqbot learned remove NR ...' löschen.",
    ]
    if not learned:
        return "\n".join([*header, "learned: []", ""])

    def order(entry_id: str) -> tuple[int, str, int, str]:
        entry = knowledge.entries.get(entry_id)
        return (0, entry.file, entry.line, entry_id) if entry else (1, "", 0, entry_id)

    grouped: dict[str, list[LearnedPhrasing]] = {}
    for item in learned:
        grouped.setdefault(item.entry_id, []).append(item)
    lines = [*header, "learned:"]
    for entry_id in sorted(grouped, key=order):
        entry = knowledge.entries.get(entry_id)
        where = f"{entry.file}:{entry.line}" if entry else "Eintrag gibt es nicht (mehr) in der Wissensbasis"
        lines.append(f"  - entry: {_quoted(entry_id)}  # {where}")
        known = {phrasing_key(p) for ps in entry.questions.values() for p in ps} if entry else set()
        for lang in LANGS:
            items = [i for i in grouped[entry_id] if i.lang == lang]
            if items:
                lines.append(f"    {lang}:")
            for item in items:
                note = " – steht schon im Eintrag" if phrasing_key(item.text) in known else ""
                lines.append(f"      - {_quoted(item.text.strip())}  # Nr. {item.id}{note}")
    return "\n".join([*lines, ""])
