"""The review queue: grouping similar questions, their order, kinds and the entries offered to attach them to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.matching.matcher import Matcher
from bot.review import MAX_CANDIDATES, build_review, candidates, find_group
from bot.service import FaqService
from bot.storage import ReviewItem, ReviewKind, Store

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def matcher(service: FaqService) -> Matcher:
    return service.snapshot.matcher


def item(
    ids: tuple[int, ...],
    question: str,
    normalized: str,
    kind: ReviewKind = "fallback",
    *,
    ago: timedelta = HOUR,
    entry_id: str | None = None,
    lang: str = "de",
) -> ReviewItem:
    return ReviewItem(ids[-1], question, normalized, lang, kind, len(ids), NOW - ago, entry_id, ids)


def test_similar_wordings_and_equal_terms_form_one_group() -> None:
    items = [
        item((1, 2), "Wo kann ich parken?", "park ~wo", ago=5 * HOUR),
        item((3, 4, 5), "Wo kann ich denn parken", "park ~wo denn"),  # similar wording, other terms
        item((6,), "Parkplätze fürs Personal?", "park ~wo", "clarify", ago=2 * HOUR),  # other words, same terms
        item((7,), "Gibt es eine Kantine?", "kantine", ago=0.5 * HOUR),
    ]
    groups = build_review(items)
    assert [g.question for g in groups] == ["Wo kann ich denn parken", "Gibt es eine Kantine?"]
    park = groups[0]
    assert park.question_id == 5
    assert park.times == 6
    assert park.kinds == {"fallback": 5, "clarify": 1}
    assert park.similar == ("Wo kann ich parken?", "Parkplätze fürs Personal?")
    assert park.last_asked == NOW - HOUR
    assert park.normalized_keys == ("park ~wo denn", "park ~wo")
    assert park.question_ids == (1, 2, 3, 4, 5, 6)
    assert park.downvoted_entries == ()
    assert park.lang == "de"
    # a stricter threshold keeps the wordings apart; equal terms still belong together
    strict = build_review(items, similarity=100)
    assert [(g.question, g.times) for g in strict] == [
        ("Wo kann ich denn parken", 3),
        ("Wo kann ich parken?", 3),
        ("Gibt es eine Kantine?", 1),
    ]


def test_questions_without_terms_are_not_lumped_together() -> None:
    items = [item((1,), "🙂🙂", ""), item((2,), "?!?", "", "clarify", ago=2 * HOUR)]
    assert [g.question_ids for g in build_review(items)] == [(1,), (2,)]


def test_most_frequent_first_ties_most_recent_first() -> None:
    items = [
        item((1,), "Gibt es eine Kantine?", "kantine", ago=3 * HOUR),
        item((2,), "Wie wird das Wetter morgen?", "morg wett", ago=1 * HOUR),
        item((3, 4), "Wo ist der Betriebsrat?", "betriebsrat ~wo", ago=9 * HOUR),
        item((5,), "Darf ich meinen Hund mitbringen?", "hund mitbring", ago=2 * HOUR),
    ]
    groups = build_review(items)
    assert [g.question_id for g in groups] == [4, 2, 5, 1]
    assert build_review([]) == []


def test_representative_is_the_most_frequent_wording() -> None:
    items = [
        item((1,), "Wann kommt die Digitalbude?", "digitalbud komm ~wann", ago=0.1 * HOUR),
        item((2, 3), "Wann kommt die Digitalbude??", "digitalbud komm ~wann", "clarify", ago=4 * HOUR),
        item((4, 5), "wann kommt die digitalbude", "digitalbud komm ~wann", "downvote", entry_id="amtsleitung"),
    ]
    (group,) = build_review(items)
    # two wordings are asked twice each: the more recent one represents the group, with its latest row
    assert (group.question, group.question_id) == ("wann kommt die digitalbude", 5)
    assert group.similar == ("Wann kommt die Digitalbude??", "Wann kommt die Digitalbude?")
    assert group.kinds == {"fallback": 1, "clarify": 2, "downvote": 2}
    assert group.last_asked == NOW - 0.1 * HOUR


def test_candidates_come_from_the_matcher(matcher: Matcher) -> None:
    fallback = item((1,), "Ab wann gibts die neue Digitalbude?", "ab digitalbud gibts neu ~wann")
    english = item((2,), "When will the new office be founded?", "found new offic ~wann", lang="en", ago=2 * HOUR)
    smalltalk = item((3,), "hallo", "hallo", ago=3 * HOUR)
    groups = {g.question_id: g for g in build_review([fallback, english, smalltalk])}
    offered = [c.entry_id for c in candidates(groups[1], matcher)]
    assert offered[0] == "gruendung-termin"
    assert 1 <= len(offered) <= MAX_CANDIDATES
    expected = matcher.match("Ab wann gibts die neue Digitalbude?", "de").candidates[:MAX_CANDIDATES]
    assert candidates(groups[1], matcher) == expected
    assert groups[2].lang == "en"
    assert candidates(groups[2], matcher)
    assert candidates(groups[2], matcher)[0].entry_id == "gruendung-termin"
    assert candidates(groups[3], matcher) == ()  # smalltalk offers no entry


def test_downvoted_entries_are_not_offered_again(matcher: Matcher) -> None:
    question = "Wann wird das Amt gegründet?"
    assert matcher.match(question, "de").candidates[0].entry_id == "gruendung-termin"
    items = [
        item((1, 2), question, "amt ~gründung ~wann", "downvote", entry_id="gruendung-termin"),
        item((3,), question, "amt ~gründung ~wann", "downvote", entry_id="gemeinderat-beschluss", ago=2 * HOUR),
    ]
    (group,) = build_review(items)
    assert group.kinds == {"downvote": 3}
    assert group.downvoted_entries == ("gruendung-termin", "gemeinderat-beschluss")
    offered = {c.entry_id for c in candidates(group, matcher)}
    assert offered
    assert not offered & {"gruendung-termin", "gemeinderat-beschluss"}


def test_find_group_by_any_row() -> None:
    items = [
        item((1, 2), "Wo kann ich parken?", "park ~wo"),
        item((3,), "Gibt es eine Kantine?", "kantine"),
    ]
    groups = build_review(items)
    assert find_group(groups, 2) is groups[0]  # the representative
    assert find_group(groups, 1) is groups[0]  # an older row of the same question
    assert find_group(groups, 3) is groups[1]
    assert find_group(groups, 99) is None


def test_from_the_store_to_the_review() -> None:
    with Store(":memory:") as store:
        first = store.log_question("Wo kann ich parken?", "park ~wo", "de", "fallback", now=NOW - 3 * HOUR)
        second = store.log_question("Wo kann ich parken", "park ~wo", "de", "fallback", now=NOW - 2 * HOUR)
        clarify = store.log_question("Wo kann ich hier parken?", "hier park ~wo", "de", "clarify", now=NOW - HOUR)
        store.log_question("Gibt es eine Kantine?", "kantine", "de", "fallback", now=NOW - HOUR)
        groups = build_review(store.review_items(now=NOW))
        assert [(g.question, g.times, g.kinds) for g in groups] == [
            ("Wo kann ich parken", 3, {"fallback": 2, "clarify": 1}),
            ("Gibt es eine Kantine?", 1, {"fallback": 1}),
        ]
        park = groups[0]
        assert park.question_ids == (first, second, clarify)
        assert find_group(groups, first) is park
        # attaching or dismissing the group takes every member out of the queue
        assert store.dismiss_review(park.normalized_keys, "learned", now=NOW) == 2
        assert [g.question for g in build_review(store.review_items(now=NOW))] == ["Gibt es eine Kantine?"]
