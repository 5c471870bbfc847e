"""What the editors see: /reload results, /stats and /unbeantwortet, rendered as Telegram HTML (pure)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from bot.knowledge.loader import LoadResult
from bot.knowledge.model import Knowledge, Lang
from bot.storage import Stats, UnansweredQuestion
from bot.texts import fmt_date
from bot.tg import texts as t

SIMILARITY: Final = 85.0
MAX_PROBLEMS: Final = 40
MAX_GROUPS: Final = 25
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


def stats_html(stats: Stats, knowledge: Knowledge, loaded_at: dt.datetime, lang: Lang) -> str:
    """Questions per day, answer/clarify/fallback rates, top entries, feedback, knowledge version."""
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
    loaded = loaded_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(
        _e(t.STATS_KNOWLEDGE.get(lang).format(version=knowledge.version, entries=len(knowledge.entries), loaded=loaded))
    )
    return "\n\n".join(parts)


# -------------------------------------------------------------------------------------------- unanswered


@dataclass(frozen=True, slots=True)
class UnansweredGroup:
    """Unanswered questions that are worded alike (token_sort_ratio ≥ 85 to the group's first wording)."""

    question: str  # the most frequent wording
    times: int  # how often the whole group was asked
    similar: tuple[str, ...]  # the other wordings, most frequent first
    last_asked: dt.datetime


def group_unanswered(items: Sequence[UnansweredQuestion], threshold: float = SIMILARITY) -> list[UnansweredGroup]:
    """Merge the store's exact groups into groups of similar wordings, most frequent first."""
    ordered = sorted(items, key=lambda q: (-q.times, -q.last_asked.timestamp()))
    groups: list[tuple[str, list[UnansweredQuestion]]] = []
    for item in ordered:
        key = default_process(item.question)
        for group_key, members in groups:
            if key and group_key and fuzz.token_sort_ratio(key, group_key, score_cutoff=threshold):
                members.append(item)
                break
        else:
            groups.append((key, [item]))
    result = [
        UnansweredGroup(
            question=members[0].question,
            times=sum(m.times for m in members),
            similar=tuple(m.question for m in members[1:]),
            last_asked=max(m.last_asked for m in members),
        )
        for _, members in groups
    ]
    result.sort(key=lambda g: (-g.times, -g.last_asked.timestamp()))
    return result


def unanswered_html(groups: Sequence[UnansweredGroup], days: int, lang: Lang) -> str:
    if not groups:
        return _e(t.UNANSWERED_NONE.get(lang).format(days=days))
    lines = [f"❓ <b>{_e(t.UNANSWERED_TITLE.get(lang).format(days=days))}</b>", ""]
    for i, group in enumerate(groups[:MAX_GROUPS], 1):
        line = f"{i}. {group.times}× „{_e(group.question)}“"
        if group.similar:
            shown = "; ".join(f"„{_e(s)}“" for s in group.similar[:3])
            more = f" (+{len(group.similar) - 3})" if len(group.similar) > 3 else ""
            line += f"\n    <i>{_e(t.UNANSWERED_SIMILAR.get(lang))}: {shown}{more}</i>"
        lines.append(line)
    if len(groups) > MAX_GROUPS:
        lines.append(_e(t.MORE_PROBLEMS.get(lang).format(count=len(groups) - MAX_GROUPS)))
    return "\n".join(lines)
