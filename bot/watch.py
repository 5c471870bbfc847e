"""Notice when editors change ``knowledge/*.yaml`` and hand the change to a callback, debounced.

Uses watchfiles (inotify on Linux, polling where events are unavailable). Editors' tools save in odd ways –
write a temp file and rename it, truncate and rewrite, touch without changing – so the watcher only says
*that* knowledge files changed; whether anything is different is decided by the reload (content hash).

The watching runs in a daemon thread of its own (watchfiles' blocking ``watch``), not in anyio's worker
threads (``awatch``): those are not daemons and, under PTB's event-loop handling, could keep the process
alive for seconds after SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from watchfiles import Change, watch

from bot.knowledge.loader import is_knowledge_name

log = logging.getLogger(__name__)

OnChange = Callable[[frozenset[str]], Awaitable[None]]


def is_knowledge_file(change: Change, path: str) -> bool:
    """The files :func:`bot.knowledge.loader.knowledge_files` reads (a ``watch_filter``)."""
    return is_knowledge_name(Path(path).name)


async def watch_knowledge(
    directory: Path,
    on_change: OnChange,
    *,
    debounce_ms: int = 1000,
    rescan_ms: int = 5000,
) -> None:
    """Call ``on_change(file names)`` after knowledge files in ``directory`` changed and were quiet for
    ``debounce_ms``; runs until cancelled. A failing callback is logged and the watching goes on (a broken
    reload must never end hot reloading); changes that arrive while the callback runs are merged into one call.

    After ``rescan_ms`` without events ``on_change(frozenset())`` is called too, so the callback can compare
    the files' hash with the version that serves: that catches changes no event reported (made while the
    watcher was starting, or on file systems without change events)."""
    if not await asyncio.to_thread(directory.is_dir):
        log.warning("Wissensverzeichnis %s fehlt; Dateiüberwachung aus (nur /reload)", directory)
        return
    loop = asyncio.get_running_loop()
    changes: asyncio.Queue[frozenset[str] | None] = asyncio.Queue()
    halt = threading.Event()

    def post(item: frozenset[str] | None) -> None:
        with contextlib.suppress(RuntimeError):  # the event loop is already closed: nobody is listening
            loop.call_soon_threadsafe(changes.put_nowait, item)

    def run() -> None:
        try:
            for found in watch(
                directory,
                watch_filter=is_knowledge_file,
                debounce=debounce_ms,
                stop_event=halt,
                recursive=False,
                rust_timeout=rescan_ms,
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                post(frozenset(Path(path).name for _, path in found))
        except Exception:
            log.exception("Dateiüberwachung beendet; Änderungen nur noch per /reload")
        finally:
            post(None)

    thread = threading.Thread(target=run, name="faqbot-watch", daemon=True)
    thread.start()
    log.info("Überwache %s auf Änderungen (Entprellung %d ms)", directory, debounce_ms)
    try:
        while (names := await changes.get()) is not None:
            while not changes.empty():  # merge what queued up during the last reload
                more = changes.get_nowait()
                if more is None:
                    return
                names |= more
            if names:
                log.info("Wissensdateien geändert: %s", ", ".join(sorted(names)))
            try:
                await on_change(names)
            except Exception:
                log.exception("Neuladen nach Dateiänderung fehlgeschlagen; Überwachung läuft weiter")
    finally:
        halt.set()
