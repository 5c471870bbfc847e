"""bot.watch: knowledge files are watched in a daemon thread; a failing callback does not end the watching,
and cancelling stops the thread (it must never keep the process alive after SIGTERM)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from watchfiles import Change

from bot.watch import is_knowledge_file, watch_knowledge
from tests.support.waiting import until


def _watchers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "faqbot-watch"]


def test_only_knowledge_files_count() -> None:
    assert is_knowledge_file(Change.modified, "/k/faq.yaml")
    assert not is_knowledge_file(Change.modified, "/k/_entwurf.yaml")
    assert not is_knowledge_file(Change.added, "/k/.faq.yaml.swp")
    assert not is_knowledge_file(Change.added, "/k/README.md")


async def test_changes_reach_the_callback_even_after_it_failed(tmp_path: Path) -> None:
    calls: list[frozenset[str]] = []

    async def on_change(names: frozenset[str]) -> None:
        calls.append(names)
        if len(calls) == 1:
            raise RuntimeError("a broken reload")

    task = asyncio.create_task(watch_knowledge(tmp_path, on_change, debounce_ms=50, rescan_ms=200))
    await asyncio.sleep(0.3)  # the watcher is up
    (tmp_path / "notes.txt").write_text("nicht beobachtet", encoding="utf-8")
    (tmp_path / "faq.yaml").write_text("entries: []\n", encoding="utf-8")
    await until(lambda: any("faq.yaml" in names for names in calls))
    (tmp_path / "facts.yaml").write_text("facts: []\n", encoding="utf-8")
    await until(lambda: any("facts.yaml" in names for names in calls))
    assert all("notes.txt" not in names for names in calls)
    assert frozenset() in calls  # the periodic rescan call
    assert _watchers()  # the watching thread carries its name …
    assert all(t.daemon for t in _watchers())  # … and never keeps the process alive
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await until(lambda: not _watchers(), timeout=2.0)


async def test_a_missing_directory_ends_quietly(tmp_path: Path) -> None:
    calls: list[frozenset[str]] = []

    async def on_change(names: frozenset[str]) -> None:
        calls.append(names)

    await asyncio.wait_for(watch_knowledge(tmp_path / "fehlt", on_change, rescan_ms=50), 5)
    assert calls == []
