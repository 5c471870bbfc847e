"""What the editors see: /reload results, /stats, stale reminders and the /unbeantwortet review cards, rendered
as Telegram HTML with their buttons (pure)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.knowledge.loader import LoadResult
from bot.knowledge.model import Entry, Knowledge, Lang
from bot.lint import StaleItem
from bot.matching.matcher import Candidate
from bot.review import ReviewGroup
from bot.service import Snapshot
from bot.storage import Stats
from bot.texts import fmt_date
from bot.tg import callbacks as cb
from bot.tg import texts as t
from bot.tg.render import label

MAX_PROBLEMS: Final = 40
MAX_DAYS_SHOWN: Final = 14
MAX_FEEDBACK_ROWS: Final = 10


def _e(text: str) -> str:
    return html.escape(text, quote=False)


# ------------------------------------------------------------------------------------------------ reload


def reload_html(result: LoadResult, serving: Knowledge, lang: Lang) -> str:
    """The answer to /reload: new version, or the problems (``file:line: key: message``) and what still serves."""
    if result.knowledge is None:
        head = t.RELOAD_REFUSED.get(lang).format(
            version=serving.version, entries=len(serving.entries), count=len(result.errors)
        )
        return f"❌ {_e(head)}\n" + _problem_lines(result.errors, lang)
    k = result.knowledge
    text = "✅ " + _e(t.RELOAD_OK.get(lang).format(version=k.version, entries=len(k.entries)))
    if result.warnings:
        text += "\n\n" + _e(t.RELOAD_WARNINGS.get(lang).format(count=len(result.warnings))) + "\n"
        text += _problem_lines(result.warnings, lang)
    return text


def _problem_lines(problems: Sequence[object], lang: Lang) -> str:
    lines = [f"• {_e(str(p))}" for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(_e(t.MORE_PROBLEMS.get(lang).format(count=len(problems) - MAX_PROBLEMS)))
    return "\n".join(lines)


def reload_failed_html(error: BaseException, serving: Knowledge, lang: Lang) -> str:
    return "❌ " + _e(t.RELOAD_FAILED.get(lang).format(error=type(error).__name__, version=serving.version))


# ------------------------------------------------------------------------------------------------- stats


def _percent(rate: float, lang: Lang) -> str:
    value = round(100 * rate)
    return f"{value}%" if lang == "en" else f"{value} %"


def stats_html(stats: Stats, snapshot: Snapshot, stale: Sequence[StaleItem], lang: Lang) -> str:
    """Questions per day, answer/clarify/fallback rates, top entries, feedback, the live knowledge version
    (hash, load time, entries, learned phrasings, warnings) and the entries and facts due for review."""
    knowledge = snapshot.knowledge
    since, until = dt.date.fromisoformat(stats.since), dt.date.fromisoformat(stats.until)
    title = t.STATS_TITLE.get(lang).format(since=fmt_date(since, lang), until=fmt_date(until, lang), days=stats.days)
    parts = [f"📊 <b>{_e(title)}</b>"]
    rates = {status: _percent(rate, lang) for status, rate in stats.status_rates.items()}
    parts.append(
        _e(t.STATS_TOTAL.get(lang).format(total=stats.total)) + "\n" + _e(t.STATS_RATES.get(lang).format(**rates))
    )
    days = [d for d in stats.per_day if d.questions][-MAX_DAYS_SHOWN:]
    lines = [_e(t.STATS_PER_DAY.get(lang))]
    lines += [f"• {_e(fmt_date(dt.date.fromisoformat(d.day), lang))}: {d.questions}" for d in reversed(days)]
    if not days:
        lines.append(_e(t.STATS_NONE.get(lang)))
    parts.append("\n".join(lines))
    lines = [_e(t.STATS_TOP.get(lang))]
    for i, row in enumerate(stats.top_entries, 1):
        entry = knowledge.entries.get(row.entry_id)
        name = f"{entry.title(lang)} ({row.entry_id})" if entry else row.entry_id
        lines.append(f"{i}. {_e(name)}: {row.questions}×")
    if not stats.top_entries:
        lines.append(_e(t.STATS_NONE.get(lang)))
    parts.append("\n".join(lines))
    lines = [_e(t.STATS_FEEDBACK.get(lang).format(up=stats.feedback_up, down=stats.feedback_down))]
    lines += [f"• {_e(f.entry_id)}: 👍 {f.up} · 👎 {f.down}" for f in stats.feedback[:MAX_FEEDBACK_ROWS]]
    parts.append("\n".join(lines))
    loaded = snapshot.loaded_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    version = t.STATS_KNOWLEDGE.get(lang).format(
        version=knowledge.version, entries=len(knowledge.entries), loaded=loaded, warnings=len(snapshot.warnings)
    )
    learned = t.STATS_LEARNED.get(lang).format(count=len(snapshot.learned))
    parts.append(f"{_e(version)}\n{_e(learned)}")
    lines = [_e(t.STATS_STALE.get(lang)), *stale_lines(stale, lang)]
    if not stale:
        lines.append(_e(t.STATS_NONE.get(lang)))
    parts.append("\n".join(lines))
    return "\n\n".join(parts)


# ------------------------------------------------------------------------------------------- stale items


def stale_lines(items: Sequence[StaleItem], lang: Lang) -> list[str]:
    """One escaped line per overdue entry or fact, with where to find it."""
    lines = []
    for item in items:
        owner = t.STALE_OWNER.get(lang).format(owner=item.owner) if item.owner else ""
        line = t.STALE_LINE.get(lang).format(
            kind=t.STALE_KIND[item.kind].get(lang),
            id=item.id,
            date=fmt_date(item.review_by, lang),
            owner=owner,
            file=item.file,
            line=item.line,
        )
        lines.append(f"• {_e(line)}")
    return lines


def stale_reminder_html(items: Sequence[StaleItem], lang: Lang) -> str:
    return "\n".join([_e(t.STALE_REMINDER.get(lang)), *stale_lines(items, lang)])


# ------------------------------------------------------------------------------------------ review queue


def review_card(
    groups: Sequence[ReviewGroup],
    index: int,
    days: int,
    knowledge: Knowledge,
    lang: Lang,
    offer: Callable[[ReviewGroup], Sequence[Candidate]],
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One group of the review queue as a card: the question, how often and why, and what to do with it
    (``offer`` names the entries to attach it to; asked for the group shown only)."""
    if not groups:
        return _e(t.REVIEW_NONE.get(lang).format(days=days)), None
    index = max(0, min(index, len(groups) - 1))
    group = groups[index]
    title = t.REVIEW_TITLE.get(lang).format(index=index + 1, total=len(groups), days=days)
    last = fmt_date(group.last_asked.astimezone(dt.UTC).date(), lang)
    kinds = ", ".join(
        f"{n}× {t.REVIEW_KINDS[kind].get(lang)}" for kind, n in group.kinds.items() if kind in t.REVIEW_KINDS and n
    )
    lines = [
        f"❓ <b>{_e(title)}</b>",
        "",
        f"„{_e(group.question)}“",
        f"<i>{_e(t.REVIEW_TIMES.get(lang).format(times=group.times, last=last))} · {_e(kinds)}</i>",
    ]
    if group.similar:
        shown = "; ".join(f"„{_e(s)}“" for s in group.similar[:3])
        more = f" (+{len(group.similar) - 3})" if len(group.similar) > 3 else ""
        lines.append(f"<i>{_e(t.UNANSWERED_SIMILAR.get(lang))}: {shown}{more}</i>")
    if group.downvoted_entries:
        names = ", ".join(_entry_name(knowledge, e, lang) for e in group.downvoted_entries)
        lines.append(_e(t.REVIEW_DOWNVOTED.get(lang).format(entries=names)))
    lines += ["", _e(t.REVIEW_HINT.get(lang))]
    rows = [
        [
            InlineKeyboardButton(
                label(t.BTN_ATTACH.get(lang).format(title=_entry_name(knowledge, c.entry_id, lang))),
                callback_data=cb.review(days, "attach", group.question_id, c.entry_id),
            )
        ]
        for c in offer(group)
        if c.entry_id in knowledge.entries
    ]
    rows.append(
        [
            InlineKeyboardButton(t.BTN_SEARCH.get(lang), callback_data=cb.review(days, "search", group.question_id)),
            InlineKeyboardButton(t.BTN_DISMISS.get(lang), callback_data=cb.review(days, "dismiss", group.question_id)),
        ]
    )
    nav = []
    if index > 0:
        nav.append(InlineKeyboardButton(t.BTN_PREV.get(lang), callback_data=cb.review_page(days, index - 1)))
    if index < len(groups) - 1:
        nav.append(InlineKeyboardButton(t.BTN_NEXT.get(lang), callback_data=cb.review_page(days, index + 1)))
    if nav:
        rows.append(nav)
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def search_results(
    entries: Sequence[Entry], term: str, question_id: int, days: int, lang: Lang
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The entries a search found, as buttons that attach the question to one of them."""
    if not entries:
        return _e(t.REVIEW_SEARCH_NONE.get(lang).format(term=term)), None
    rows = [
        [
            InlineKeyboardButton(
                label(t.BTN_ATTACH.get(lang).format(title=f"{e.title(lang)} ({e.id})")),
                callback_data=cb.review(days, "attach", question_id, e.id),
            )
        ]
        for e in entries
    ]
    return _e(t.REVIEW_SEARCH_RESULTS.get(lang).format(term=term)), InlineKeyboardMarkup(rows)


def _entry_name(knowledge: Knowledge, entry_id: str, lang: Lang) -> str:
    entry = knowledge.entries.get(entry_id)
    return f"{entry.title(lang)} ({entry_id})" if entry else entry_id
