"""The admins' review queue: questions the bot could not answer well, grouped by similar wording (pure).

:meth:`bot.storage.Store.review_items` delivers groups of identical normalized questions per kind (fallback,
clarify left without a pick, 👎 on an answer); :func:`build_review` merges those worded alike into one
:class:`ReviewGroup`, most frequent first. :func:`candidates` names the entries a group could be attached to as a
learned phrasing – asked only for the card on screen, with the matcher that serves then.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from bot.knowledge.model import Lang
from bot.matching.matcher import Candidate, Matcher
from bot.storage import ReviewItem

__all__ = ["MAX_CANDIDATES", "SIMILARITY", "ReviewGroup", "build_review", "candidates", "find_group"]

SIMILARITY: Final = 85.0  # rapidfuzz token_sort_ratio of two wordings that count as the same question
MAX_CANDIDATES: Final = 3


@dataclass(frozen=True, slots=True)
class ReviewGroup:
    """Questions worded alike, whatever went wrong with them (``kinds``)."""

    question_id: int  # the latest row of the most frequent wording: the group's representative
    question: str  # that wording
    lang: Lang
    times: int  # how often the whole group was asked
    kinds: Mapping[str, int]  # times per kind ('fallback', 'clarify', 'downvote')
    similar: tuple[str, ...]  # the other wordings, most frequent first
    last_asked: dt.datetime
    normalized_keys: tuple[str, ...]  # every member's normalized text: dismiss or mark learned all of them
    question_ids: tuple[int, ...]  # every logged row of the group (see find_group)
    downvoted_entries: tuple[str, ...]  # entries whose answer got the 👎, most often first


def build_review(items: Sequence[ReviewItem], similarity: float = SIMILARITY) -> list[ReviewGroup]:
    """Merge the store's items into groups, most frequent first (ties: most recently asked first).

    Two items belong together if their normalized texts are equal, or if the item's wording is similar
    (rapidfuzz ``token_sort_ratio`` on ``default_process``'d text, at least ``similarity``) to the wording the
    group started with – the most frequent one, as items are taken most frequent first.
    """
    ordered = sorted(items, key=lambda i: (-i.times, -i.last_asked.timestamp(), i.question_id))
    groups: list[tuple[str, list[ReviewItem]]] = []
    for item in ordered:
        key = default_process(item.question)
        for group_key, members in groups:
            same_terms = any(m.normalized == item.normalized for m in members) and item.normalized != ""
            if same_terms or (key and group_key and fuzz.token_sort_ratio(key, group_key) >= similarity):
                members.append(item)
                break
        else:
            groups.append((key, [item]))
    result = [_group(members) for _, members in groups]
    result.sort(key=lambda g: (-g.times, -g.last_asked.timestamp(), -g.question_id))
    return result


def _group(members: list[ReviewItem]) -> ReviewGroup:
    # Wordings by how often they were asked (ties: the latest); the first is the representative.
    wordings: dict[str, list[ReviewItem]] = {}
    for item in members:
        wordings.setdefault(item.question, []).append(item)
    ranked = sorted(
        wordings.values(),
        key=lambda same: (-sum(i.times for i in same), -max(i.last_asked.timestamp() for i in same)),
    )
    representative = max(ranked[0], key=lambda i: (i.last_asked, i.question_id))
    kinds: Counter[str] = Counter()
    downvoted: Counter[str] = Counter()
    for item in members:
        kinds[item.kind] += item.times
        if item.kind == "downvote" and item.entry_id is not None:
            downvoted[item.entry_id] += item.times
    return ReviewGroup(
        question_id=representative.question_id,
        question=representative.question,
        lang="en" if representative.lang == "en" else "de",
        times=sum(i.times for i in members),
        kinds=dict(kinds),
        similar=tuple(same[0].question for same in ranked[1:]),
        last_asked=max(i.last_asked for i in members),
        normalized_keys=tuple(dict.fromkeys(i.normalized for i in members)),
        question_ids=tuple(sorted({qid for i in members for qid in i.question_ids})),
        downvoted_entries=tuple(entry_id for entry_id, _ in downvoted.most_common()),
    )


def candidates(group: ReviewGroup, matcher: Matcher) -> tuple[Candidate, ...]:
    """The matcher's best entries for the group's question, without smalltalk and without the entries a 👎
    judged wrong (the question already leads there, so attaching it again would change nothing)."""
    found = matcher.match(group.question, group.lang).candidates
    entries = matcher.knowledge.entries
    usable = [c for c in found if c.entry_id in entries and c.entry_id not in group.downvoted_entries]
    return tuple(usable[:MAX_CANDIDATES])


def find_group(groups: Sequence[ReviewGroup], question_id: int) -> ReviewGroup | None:
    """The group that contains the logged question ``question_id`` (its representative or any other row)."""
    return next((g for g in groups if question_id in g.question_ids), None)
