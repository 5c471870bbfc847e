"""Pure rendering for Telegram: message splitting, plain-text fallback, inline keyboards, timeline, paging.

Nothing here talks to Telegram; every function is deterministic and unit-tested.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

from bot.answers import TELEGRAM_LIMIT, Reply, utf16_len
from bot.knowledge.model import Knowledge, Lang, Milestone, MilestoneStatus, Source, Topic
from bot.texts import AS_OF, SOURCE, SOURCES, fmt_date
from bot.tg import callbacks as cb
from bot.tg import texts as t

NO_PREVIEW: Final = LinkPreviewOptions(is_disabled=True)  # answers cite sources: no big link previews

BUTTON_LABEL_MAX: Final = 60
TOPICS_PER_PAGE: Final = 8
ENTRIES_PER_PAGE: Final = 6
STATUS_ICONS: Final = {MilestoneStatus.DONE: "✅", MilestoneStatus.IN_PROGRESS: "🔄", MilestoneStatus.PLANNED: "🗓"}

_TAG_RE: Final = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(?:\s[^<>]*)?>")
_ENTITY_RE: Final = re.compile(r"&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[a-zA-Z][a-zA-Z0-9]{0,31});")
_LINK_RE: Final = re.compile(r'<a\s+href="([^"]*)"\s*>(.*?)</a>', re.DOTALL)


# --------------------------------------------------------------------------------------------- splitting


@dataclass(frozen=True, slots=True)
class _Cut:
    index: int  # position in the text (a boundary between atoms)
    u16: int  # UTF-16 length of text[:index]
    stack: tuple[str, ...]  # open tags (their full start tags) at index
    quality: int  # 3: before a blank line, 2: before a newline, 1: before a space, 0: elsewhere
    visible: int  # visible characters in text[:index]


def _cuts(text: str) -> list[_Cut]:
    """Every position where ``text`` may be cut: never inside a tag or an entity."""
    cuts: list[_Cut] = []
    stack: tuple[str, ...] = ()
    u16 = 0
    visible = 0
    i = 0
    n = len(text)
    while True:
        ch = text[i] if i < n else ""
        quality = 3 if text.startswith("\n\n", i) else 2 if ch == "\n" else 1 if ch in (" ", "\t") else 0
        cuts.append(_Cut(i, u16, stack, quality, visible))
        if i >= n:
            return cuts
        atom_end = i + 1
        if ch == "<" and (m := _TAG_RE.match(text, i)):
            atom_end = m.end()
            name = m.group(2).lower()
            if m.group(1):
                for depth in range(len(stack) - 1, -1, -1):
                    if _tag_name(stack[depth]) == name:
                        stack = stack[:depth] + stack[depth + 1 :]
                        break
            else:
                stack = (*stack, m.group(0))
        elif ch == "&" and (m := _ENTITY_RE.match(text, i)):
            atom_end = m.end()
            visible += 1
        else:
            visible += 1
        u16 += utf16_len(text[i:atom_end])
        i = atom_end


def _tag_name(start_tag: str) -> str:
    m = _TAG_RE.match(start_tag)
    return m.group(2).lower() if m else ""


def _closing(stack: Sequence[str]) -> str:
    return "".join(f"</{_tag_name(tag)}>" for tag in reversed(stack))


def split_html(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split Telegram HTML into messages of at most ``limit`` UTF-16 units (also the raw markup counts).

    Cuts prefer blank lines, then line breaks, then spaces (each only if the chunk is at least half full),
    never fall inside a tag or an entity, and close tags still open at a cut (reopening them in the next
    chunk), so every chunk is valid HTML on its own. Whitespace at the cuts is dropped; empty chunks too.
    """
    if limit < 64:
        raise ValueError("limit must be at least 64")
    text = text.strip()
    if utf16_len(text) <= limit:
        return [text] if _visible(text).strip() else []
    cuts = _cuts(text)
    positions = [c.u16 for c in cuts]
    chunks: list[str] = []
    start = cuts[0]
    while True:
        reopen = "".join(start.stack)
        budget = limit - utf16_len(reopen)
        end_cut = cuts[-1]
        if end_cut.u16 - start.u16 <= budget:
            _add_chunk(chunks, reopen + text[start.index :], end_cut.visible - start.visible)
            return chunks
        # the furthest cut that fits, then the best break in its second half
        k = bisect.bisect_right(positions, start.u16 + budget) - 1
        while k > 0 and cuts[k].u16 - start.u16 + utf16_len(_closing(cuts[k].stack)) > budget:
            k -= 1
        first = bisect.bisect_left(positions, start.u16 + budget // 2)
        chosen = None
        for quality in (3, 2, 1):
            for j in range(k, max(first, 0) - 1, -1):
                if cuts[j].quality >= quality and cuts[j].visible > start.visible and cuts[j].index > start.index:
                    chosen = cuts[j]
                    break
            if chosen:
                break
        if chosen is None:
            chosen = cuts[k] if cuts[k].index > start.index else cuts[k + 1]
        body = text[start.index : chosen.index].rstrip()
        _add_chunk(chunks, reopen + body + _closing(chosen.stack), chosen.visible - start.visible)
        # skip the whitespace at the cut; whitespace never changes the tag stack
        nxt = bisect.bisect_left(positions, chosen.u16)
        while nxt < len(cuts) - 1 and text[cuts[nxt].index] in " \t\n":
            nxt += 1
        start = cuts[nxt]


def _add_chunk(chunks: list[str], chunk: str, visible: int) -> None:
    if visible > 0 and _visible(chunk).strip():
        chunks.append(chunk)


def _visible(text: str) -> str:
    """The text Telegram shows (tags removed, entities decoded)."""
    return html.unescape(_TAG_RE.sub("", text))


def split_plain(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split plain text (no parse mode) the same way; ``<`` and ``&`` are ordinary characters here."""
    escaped = html.escape(text, quote=False)
    return [html.unescape(chunk) for chunk in split_html(escaped, limit)]


def html_to_plain(text: str) -> str:
    """Telegram HTML → the plain text a user would read (links as ``title (url)``), for fallbacks."""

    def link(m: re.Match[str]) -> str:
        url = html.unescape(m.group(1))
        title = html.unescape(_TAG_RE.sub("", m.group(2)))
        return title if title == url or not url else f"{title} ({url})"

    without_links = _LINK_RE.sub(lambda m: html.escape(link(m), quote=False), text)
    return html.unescape(_TAG_RE.sub("", without_links))


# ---------------------------------------------------------------------------------------------- keyboards


def label(text: str, limit: int = BUTTON_LABEL_MAX) -> str:
    """A button label: one line, at most ``limit`` characters."""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1].rstrip() + "…"


def answer_keyboard(reply: Reply, question_id: int | None = None) -> InlineKeyboardMarkup | None:
    """Buttons under a reply: related questions / "Meinten Sie …?" options, feedback, or "browse topics"."""
    lang = reply.lang
    rows: list[list[InlineKeyboardButton]] = []
    if reply.status == "answer":
        rows += [[InlineKeyboardButton(label(o.label), callback_data=cb.entry(o.entry_id))] for o in reply.related]
        if reply.entry_id:
            rows.append(
                [
                    InlineKeyboardButton(
                        t.BTN_HELPFUL.get(lang), callback_data=cb.feedback(1, reply.entry_id, question_id)
                    ),
                    InlineKeyboardButton(
                        t.BTN_NOT_HELPFUL.get(lang), callback_data=cb.feedback(-1, reply.entry_id, question_id)
                    ),
                ]
            )
    elif reply.status == "clarify":
        rows += [
            [InlineKeyboardButton(label(o.label), callback_data=cb.entry(o.entry_id, question_id))]
            for o in reply.options
        ]
        rows.append([InlineKeyboardButton(t.BTN_BROWSE.get(lang), callback_data=cb.topics())])
    elif reply.status == "fallback":
        rows.append([InlineKeyboardButton(t.BTN_BROWSE.get(lang), callback_data=cb.topics())])
    return InlineKeyboardMarkup(rows) if rows else None


_I = TypeVar("_I")


def page_of(items: Sequence[_I], page: int, size: int) -> tuple[Sequence[_I], int, int]:
    """``(items on the page, page, pages)``; an out-of-range page is clamped (never an empty page)."""
    pages = max(1, -(-len(items) // size))
    page = max(0, min(page, pages - 1))
    return items[page * size : (page + 1) * size], page, pages


def _nav_row(lang: Lang, page: int, pages: int, data: list[str]) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(t.BTN_PREV.get(lang), callback_data=data[0]))
    if page < pages - 1:
        row.append(InlineKeyboardButton(t.BTN_NEXT.get(lang), callback_data=data[1]))
    return row


def browsable_topics(knowledge: Knowledge) -> list[Topic]:
    """Topics that have at least one entry, in file order."""
    return [topic for topic in knowledge.topics.values() if knowledge.entries_in_topic(topic.id)]


def topics_view(knowledge: Knowledge, lang: Lang, page: int = 0) -> tuple[str, InlineKeyboardMarkup | None]:
    """The topic overview: HTML text and one button per topic (paged)."""
    topics = browsable_topics(knowledge)
    if not topics:
        return html.escape(t.NO_TOPICS.get(lang)), None
    shown, page, pages = page_of(topics, page, TOPICS_PER_PAGE)
    rows = [[InlineKeyboardButton(label(tp.title.get(lang)), callback_data=cb.topic(tp.id))] for tp in shown]
    if nav := _nav_row(lang, page, pages, [cb.topics(page - 1), cb.topics(page + 1)]):
        rows.append(nav)
    title = f"<b>{html.escape(t.TOPICS_TITLE.get(lang))}</b>"
    if pages > 1:
        title += f" ({html.escape(t.PAGE.get(lang).format(page=page + 1, pages=pages))})"
    return f"{title}\n{html.escape(t.TOPICS_PROMPT.get(lang))}", InlineKeyboardMarkup(rows)


def topic_view(knowledge: Knowledge, topic: Topic, lang: Lang, page: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    """The questions of one topic: HTML text and one button per entry (paged), with a back button."""
    entries = knowledge.entries_in_topic(topic.id)
    shown, page, pages = page_of(entries, page, ENTRIES_PER_PAGE)
    rows = [[InlineKeyboardButton(label(e.title(lang)), callback_data=cb.entry(e.id))] for e in shown]
    if nav := _nav_row(lang, page, pages, [cb.topic(topic.id, page - 1), cb.topic(topic.id, page + 1)]):
        rows.append(nav)
    rows.append([InlineKeyboardButton(t.BTN_BACK_TOPICS.get(lang), callback_data=cb.topics())])
    title = f"<b>{html.escape(topic.title.get(lang))}</b>"
    if pages > 1:
        title += f" ({html.escape(t.PAGE.get(lang).format(page=page + 1, pages=pages))})"
    return f"{title}\n{html.escape(t.TOPIC_PROMPT.get(lang))}", InlineKeyboardMarkup(rows)


def lang_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("🇩🇪 Deutsch", callback_data=cb.lang("de")),
                InlineKeyboardButton("🇬🇧 English", callback_data=cb.lang("en")),
            ]
        ]
    )


# ---------------------------------------------------------------------------------------------- timeline


def _link(source: Source) -> str:
    return f'<a href="{html.escape(source.url, quote=True)}">{html.escape(source.title)}</a>'


def milestones_html(milestones: Sequence[Milestone], lang: Lang, status: dict[str, str]) -> str:
    """The timeline: each milestone with icon, title, current status (``status[id]``) and text."""
    if not milestones:
        return html.escape(t.NO_MILESTONES.get(lang))
    parts = [f"<b>{html.escape(t.MILESTONES_TITLE.get(lang))}</b>"]
    for m in milestones:
        head = f"{STATUS_ICONS.get(m.status, '•')} <b>{html.escape(m.title.get(lang))}</b>"
        parts.append(f"{head}: {html.escape(status[m.id])}\n{html.escape(m.text.get(lang).strip())}")
    sources: list[Source] = []
    for m in milestones:
        sources += [s for s in m.sources if s not in sources]
    if sources:
        word = (SOURCE if len(sources) == 1 else SOURCES).get(lang)
        parts.append(f"{html.escape(word)}: " + "; ".join(_link(s) for s in sources))
    as_of = max(m.as_of for m in milestones)
    parts.append(f"<i>{html.escape(AS_OF.get(lang))}: {html.escape(fmt_date(as_of, lang))}</i>")
    return "\n\n".join(parts)
