"""Shared fixtures: the real knowledge base, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.service import FaqService

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE_DIR = ROOT / "knowledge"
EVAL_DIR = ROOT / "tests" / "eval"


@pytest.fixture(scope="session")
def service() -> FaqService:
    return FaqService.from_directory(KNOWLEDGE_DIR)
