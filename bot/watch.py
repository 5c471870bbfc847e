"""Notice when editors change ``knowledge/*.yaml`` and hand the change to a callback, debounced.

Uses watchfiles (inotify on Linux, polling where events are unavailable). Editors' tools save in odd ways –
write a temp file and rename it, truncate and rewrite, touch without changing – so the watcher only says
*that* knowledge files changed; whether anything is different is decided by the reload (content hash).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from watchfiles import Change, awatch

log = logging.getLogger(__name__)

OnChange = Callable[[frozenset[str]], Awaitable[None]]


def is_knowledge_file(change: Change, path: str) -> bool:
    """The files :func:`bot.knowledge.loader.knowledge_files` reads: ``*.yaml`` not starting with ``_`` or ``.``."""
    name = Path(path).name
    return name.endswith(".yaml") and not name.startswith(("_", "."))


async def watch_knowledge(
    directory: Path,
    on_change: OnChange,
    *,
    debounce_ms: int = 1000,
    rescan_ms: int = 5000,
    stop_event: asyncio.Event | None = None,
    force_polling: bool | None = None,
) -> None:
    """Call ``on_change(file names)`` after knowledge files in ``directory`` changed and were quiet for
    ``debounce_ms``. Runs until ``stop_event`` is set or the task is cancelled; a failing callback is logged
    and the watching goes on (a broken reload must never end hot reloading).

    After ``rescan_ms`` without events ``on_change(frozenset())`` is called too, so the callback can compare
    the files' hash with the version that serves: that catches changes no event reported (made while the
    watcher was starting, or on file systems without change events)."""
    if not await asyncio.to_thread(directory.is_dir):
        log.warning("Wissensverzeichnis %s fehlt; Dateiüberwachung aus (nur /reload)", directory)
        return
    log.info("Überwache %s auf Änderungen (Entprellung %d ms)", directory, debounce_ms)
    async for changes in awatch(
        directory,
        watch_filter=is_knowledge_file,
        debounce=debounce_ms,
        stop_event=stop_event,
        recursive=False,
        force_polling=force_polling,
        rust_timeout=rescan_ms,
        yield_on_timeout=True,
    ):
        names = frozenset(Path(path).name for _, path in changes)
        if names:
            log.info("Wissensdateien geändert: %s", ", ".join(sorted(names)))
        try:
            await on_change(names)
        except Exception:
            log.exception("Neuladen nach Dateiänderung fehlgeschlagen; Überwachung läuft weiter")
