"""FaqService: a version goes live only if it loads and passes its self-test; learned phrasings are merged,
and one that fails is left out with a warning – without piling up warnings or blocking the editors."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from bot.knowledge.learned import LearnedPhrasing
from bot.service import FaqService, KnowledgeInvalid, Snapshot
from tests.conftest import KNOWLEDGE_DIR

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
GOOD = LearnedPhrasing(1, "amtsleitung", "de", "Ab wann gibt es den neuen Chef fürs Digitale?", NOW)
VAGUE = LearnedPhrasing(2, "gruendung-termin", "de", "Wann?", NOW)  # not answered with its entry: fails


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target, ignore=shutil.ignore_patterns("README.md"))
    return target


def test_learned_phrasings_are_merged_and_change_the_version(service: FaqService) -> None:
    fresh = FaqService(service.snapshot, service.directory)
    swaps: list[Snapshot] = []
    fresh.on_swap = swaps.append
    before = fresh.knowledge.version
    prepared = fresh.use_learned([GOOD])
    assert prepared.snapshot is fresh.snapshot and swaps == [fresh.snapshot]
    assert fresh.snapshot.learned_ids == {1}
    assert fresh.knowledge.version != before
    assert fresh.snapshot.editors_knowledge.version == before
    match = fresh.ask(GOOD.text).match
    assert (match.status, match.entry_id) == ("answer", "amtsleitung")
    fresh.use_learned([])
    assert fresh.knowledge.version == before and fresh.snapshot.learned == ()


def test_a_learned_phrasing_that_fails_the_self_test_is_left_out_once(service: FaqService) -> None:
    fresh = FaqService(service.snapshot, service.directory)
    base_warnings = len(fresh.snapshot.warnings)
    for _ in range(3):  # warnings must not pile up from one version to the next
        prepared = fresh.use_learned([GOOD, VAGUE])
        assert prepared.dropped == (VAGUE,)
        assert fresh.snapshot.learned_ids == {1}
        learned = [p for p in fresh.snapshot.warnings if p.path == "learned[#2]"]
        assert len(learned) == 1 and "führt nicht zu „gruendung-termin“" in learned[0].message
        assert len(fresh.snapshot.warnings) == base_warnings + 1


def test_reload_refuses_a_version_that_fails_its_self_test(knowledge: Path) -> None:
    service = FaqService.from_directory(knowledge, learned=[GOOD])
    version = service.knowledge.version
    faq = knowledge / "faq.yaml"
    text = faq.read_text(encoding="utf-8")
    anchor = "  - id: gruendung-termin\n"
    start = text.index("      de:\n", text.index(anchor)) + len("      de:\n")
    faq.write_text(text[:start] + '        - "Wann?"\n' + text[start:], encoding="utf-8")
    assert service.files_changed()
    result = service.reload()
    assert result.knowledge is None
    (error,) = result.errors
    assert error.category == "self-test" and error.file.endswith("faq.yaml") and "„Wann?“" in error.message
    assert service.knowledge.version == version  # the old version serves, learned phrasing included
    assert service.snapshot.learned_ids == {1}
    assert not service.files_changed()  # the refused files are not tried again until they change
    faq.write_text(text, encoding="utf-8")
    assert not service.files_changed()  # back to the files of the version that serves
    assert service.reload().knowledge is not None
    assert service.snapshot.learned_ids == {1} and not service.files_changed()


def test_start_refuses_knowledge_that_fails_its_self_test(knowledge: Path) -> None:
    faq = knowledge / "faq.yaml"
    text = faq.read_text(encoding="utf-8")
    anchor = "  - id: gruendung-termin\n"
    start = text.index("      de:\n", text.index(anchor)) + len("      de:\n")
    faq.write_text(text[:start] + '        - "Wann?"\n' + text[start:], encoding="utf-8")
    with pytest.raises(KnowledgeInvalid) as info:
        FaqService.from_directory(knowledge)
    assert [p.category for p in info.value.result.errors] == ["self-test"]


def test_a_learned_phrasing_the_editors_merged_is_not_counted_as_learned(service: FaqService) -> None:
    fresh = FaqService(service.snapshot, service.directory)
    merged = fresh.knowledge.entries["amtsleitung"].questions["de"][0]
    fresh.use_learned([GOOD, LearnedPhrasing(3, "amtsleitung", "de", merged, NOW)])
    assert fresh.snapshot.learned_ids == {1}
    (hint,) = [p for p in fresh.snapshot.warnings if p.path == "learned[#3]"]
    assert "faqbot learned remove 3" in hint.message
