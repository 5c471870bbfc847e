"""The quality bar, measured on the held-out evaluation set (never studied while tuning)."""

from __future__ import annotations

import pytest
import yaml

from bot.evaluation import Report, evaluate, load_items
from bot.matching.normalize import plain
from bot.service import FaqService
from tests.conftest import EVAL_DIR


def test_eval_sets_are_big_enough_and_disjoint() -> None:
    dev = yaml.safe_load((EVAL_DIR / "dev.yaml").read_text(encoding="utf-8"))
    dev2 = yaml.safe_load((EVAL_DIR / "dev2.yaml").read_text(encoding="utf-8"))
    holdout = yaml.safe_load((EVAL_DIR / "holdout.yaml").read_text(encoding="utf-8"))
    items = dev + holdout
    in_scope = [i for i in items if i["expect"] not in (None, "smalltalk")]
    out_of_scope = [i for i in items if i["expect"] is None]
    assert len(in_scope) >= 150 and len(out_of_scope) >= 40
    assert len(holdout) >= len(items) / 3 - 1
    assert not {i["q"] for i in dev + dev2} & {i["q"] for i in holdout}


def test_eval_questions_are_not_copied_into_the_knowledge(service: FaqService) -> None:
    """The two were written apart; short natural questions ("Was ist die KGSt?") may coincide, nothing more."""
    phrasings = {plain(p) for e in service.knowledge.entries.values() for ps in e.questions.values() for p in ps}
    items = load_items([EVAL_DIR / "dev.yaml", EVAL_DIR / "holdout.yaml"])
    same = [i.question for i in items if plain(i.question) in phrasings]
    assert len(same) <= 0.04 * len(items), same


def _holdout_report(service: FaqService) -> Report:
    return evaluate(load_items([EVAL_DIR / "holdout.yaml"]), service.snapshot.matcher.match)


def test_holdout_does_not_regress(service: FaqService) -> None:
    """The level reached so far (README, "Quality and speed"); a change that lowers it fails here."""
    report = _holdout_report(service)
    summary = report.summary()
    assert report.in_scope_correct >= 0.88, summary
    assert report.out_of_scope_refused >= 0.95, summary
    assert report.confident_wrong <= 0.02, summary


@pytest.mark.xfail(strict=True, reason="issue 2's bar for in-scope questions (0.95) is not reached yet")
def test_holdout_meets_the_issue_bar(service: FaqService) -> None:
    report = _holdout_report(service)
    assert report.in_scope_correct >= 0.95, report.summary()
    assert report.out_of_scope_refused >= 0.95, report.summary()
    assert report.confident_wrong <= 0.02, report.summary()
