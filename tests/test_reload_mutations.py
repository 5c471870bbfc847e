"""A broken knowledge file never goes live: 200 editor mistakes, each refused with a precise message.

Each mutation (tests/support/mutations.py) breaks one file of a copy of the shipped knowledge; the running
service reloads, must refuse, must keep its snapshot, and one error must name the file, the line (± 2) and the
key path. Meanwhile a thread keeps asking questions and every reply must stay the one from before. No reload may
take a second; afterwards a valid edit must go live, so refusing is not all reload can do.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.knowledge.yamlnodes import Problem
from bot.service import FaqService
from tests.conftest import KNOWLEDGE_DIR
from tests.support.mutations import (
    CATALOGUE,
    Asker,
    Mutation,
    generate,
    probe_questions,
    run_mutations,
    snapshot_files,
    valid_edit,
)

COUNT = 200
MAX_RELOAD_SECONDS = 1.0


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, directory)
    return directory


def test_200_mutations_are_refused_precisely_while_the_old_version_answers(knowledge_copy: Path) -> None:
    service = FaqService.from_directory(knowledge_copy)
    originals = snapshot_files(knowledge_copy)
    mutations = generate(knowledge_copy, COUNT)
    assert len(mutations) == COUNT
    assert set(Counter(m.kind for m in mutations)) == {name for name, _ in CATALOGUE}, "every kind is used"

    asker = Asker(service, probe_questions(service))
    answered = {r.entry_id for r in asker.expected.values() if r.status == "answer"}
    assert len(answered) >= 5, "the probe questions must hit real entries, not just the fallback"
    asker.start()
    try:
        outcome = run_mutations(service, knowledge_copy, mutations)
    finally:
        asker.stop()

    assert outcome.failures == [], "\n".join(outcome.failures)
    assert (outcome.refused, outcome.precise, outcome.snapshot_kept) == (COUNT, COUNT, COUNT)
    assert snapshot_files(knowledge_copy) == originals, "every mutation was undone"
    assert asker.crashed == []
    assert asker.asked > 2 * len(asker.expected), "the asker ran during the reloads"
    assert asker.differed == [], asker.differed[:3]
    slowest = max(outcome.seconds)
    assert slowest < MAX_RELOAD_SECONDS, f"slowest refused reload {slowest:.2f} s"

    # a valid edit still goes live: refusing is not the only thing reload does
    before = service.snapshot
    entry_id, question = valid_edit(knowledge_copy, "Geprüft am 26.11.2026.")
    started = time.perf_counter()
    result = service.reload()
    elapsed = time.perf_counter() - started
    assert result.knowledge is not None, [str(p) for p in result.errors]
    assert service.snapshot is not before and service.knowledge.version != before.knowledge.version
    answer = service.ask(question)
    assert answer.match.entry_id == entry_id
    assert "Geprüft am 26.11.2026." in answer.reply.body
    assert elapsed < MAX_RELOAD_SECONDS, f"valid reload took {elapsed:.2f} s"


def test_catalogue_is_deterministic_and_records_where_the_error_must_point(knowledge_copy: Path) -> None:
    first = generate(knowledge_copy, 60)
    second = generate(knowledge_copy, 60)
    assert [str(m) for m in first] == [str(m) for m in second]
    assert [m.build() for m in first[:20]] == [m.build() for m in second[:20]]
    located = [m for m in first if m.line is not None]
    assert len(located) > 40, "most mutations know their line"
    originals = snapshot_files(knowledge_copy)
    assert all(m.build() != originals.get(m.file) for m in first if not m.kind.startswith("big/"))


def test_precision_check_rejects_wrong_file_line_or_path() -> None:
    m = Mutation("t", "faq.yaml", 40, "entries[2].topic", "", lambda: b"")
    assert m.precise(Problem("/x/faq.yaml", 41, "entries[2].topic", "…"))
    assert m.precise(Problem("faq.yaml", 38, "entries[2].topic.de", "…"))
    assert not m.precise(Problem("facts.yaml", 40, "entries[2].topic", "…"))
    assert not m.precise(Problem("faq.yaml", 43, "entries[2].topic", "…"))
    assert not m.precise(Problem("faq.yaml", 40, "entries[2].topics", "…"))
    assert not m.precise(Problem("faq.yaml", 40, "entries[12].topic", "…"))
    assert not m.precise(Problem("faq.yaml", 40, "entries[2].topic", "…", "warning"))
    whole_file = Mutation("t", "big.yaml", None, None, "", lambda: b"")
    assert whole_file.precise(Problem("k/big.yaml", 0, "", "…"))
