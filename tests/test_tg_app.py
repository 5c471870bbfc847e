"""Application wiring: jobs, command menu failures, shutdown, per-chat ordering, the retrying rate limiter."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Bot, Update
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.config import Settings
from bot.service import FaqService
from bot.storage import Store
from bot.tg.app import (
    DEFAULT_CONCURRENCY,
    ChatOrderedUpdateProcessor,
    RetryingRateLimiter,
    build_application,
    heartbeat_job,
    prune_job,
)
from bot.tg.handlers import ALLOWED_UPDATES
from tests.support import updates as U
from tests.support.fake_bot_api import TOKEN, Fault
from tests.test_tg_harness import Q_SCHUL_IT, running_bot


def test_build_application_defaults(tmp_path: Path, service: FaqService) -> None:
    store = Store.open(":memory:")
    app = build_application(Settings(token=TOKEN, data_dir=tmp_path), service, store)
    assert app.update_processor.max_concurrent_updates == DEFAULT_CONCURRENCY
    assert isinstance(app.bot.rate_limiter, RetryingRateLimiter)
    assert app.job_queue is not None
    assert {job.name for job in app.job_queue.jobs()} == {"prune", "heartbeat", "stale-reminder"}
    assert "edited_message" in ALLOWED_UPDATES and "chat_member" not in ALLOWED_UPDATES
    store.close()


async def test_prune_and_heartbeat_jobs(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite3")
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    store.log_question("alt", "alt", "de", "fallback", now=old)
    store.log_question("neu", "neu", "de", "fallback")
    store.mark_update(1, now=old)
    context: Any = SimpleNamespace(application=SimpleNamespace(updater=SimpleNamespace(running=True)))
    await prune_job(store, 30)(context)
    assert [q.question for q in store.review_items(days=60)] == ["neu"]
    assert store.mark_update(1)  # the old update id was forgotten
    settings = Settings(token=TOKEN, data_dir=tmp_path / "data")
    await heartbeat_job(settings)(context)
    assert settings.heartbeat_path.read_text().strip().isdigit()
    settings.heartbeat_path.unlink()
    context.application.updater.running = False  # not receiving updates: no heartbeat
    await heartbeat_job(settings)(context)
    assert not settings.heartbeat_path.exists()
    store.close()
    await prune_job(store, 30)(context)  # a closed database is logged, not raised


async def test_jobs_scheduled_and_store_closed_on_shutdown(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        assert h.app.job_queue is not None
        assert {job.name for job in h.app.job_queue.jobs()} == {"prune", "heartbeat", "stale-reminder"}
        assert h.settings.heartbeat_path.exists()  # written once at start
        store = h.store
    with pytest.raises(sqlite3.ProgrammingError):
        store.get_lang(1)


async def test_command_menu_failure_does_not_stop_the_bot(tmp_path: Path) -> None:
    from tests.support.fake_bot_api import FakeBotApi

    async with FakeBotApi() as fake:
        fake.inject("setMyCommands", *[Fault.bad_request("BOT_COMMAND_INVALID")] * 2)
        async with running_bot(tmp_path, fake=fake) as h:
            reply = await h.ask(Q_SCHUL_IT)
            assert "Dezernat I" in reply["text"]
        assert len(fake.commands) >= 2  # the other scopes were still registered


async def test_updates_of_one_chat_run_in_order_others_concurrently() -> None:
    processor = ChatOrderedUpdateProcessor(8)
    bot = Bot(TOKEN)
    events: list[str] = []
    gate = asyncio.Event()

    async def work(name: str, wait: bool) -> None:
        events.append(f"start {name}")
        if wait:
            await gate.wait()
        events.append(f"end {name}")

    a1 = Update.de_json(U.private_text("1", 1), bot)
    a2 = Update.de_json(U.private_text("2", 1), bot)
    b1 = Update.de_json(U.private_text("3", 2), bot)
    tasks = [
        asyncio.create_task(processor.process_update(a1, work("a1", True))),
        asyncio.create_task(processor.process_update(a2, work("a2", False))),
        asyncio.create_task(processor.process_update(b1, work("b1", False))),
    ]
    await asyncio.sleep(0.05)
    assert events == ["start a1", "start b1", "end b1"]  # a2 waits for a1, b1 does not
    gate.set()
    await asyncio.gather(*tasks)
    assert events[3:] == ["end a1", "start a2", "end a2"]
    assert processor.waiting_chats == 0


class _Calls:
    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.count = 0

    async def __call__(self, *args: object, **kwargs: object) -> object:
        self.count += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


@pytest.mark.parametrize(
    ("outcomes", "expected_calls", "raises"),
    [
        ([NetworkError("Bad Gateway"), True], 2, None),
        ([NetworkError("x"), NetworkError("y"), True], 3, None),
        ([NetworkError("x"), NetworkError("y"), NetworkError("z")], 3, NetworkError),
        ([TimedOut(), True], 1, TimedOut),
        ([BadRequest("Bad Request: chat not found"), True], 1, BadRequest),
    ],
)
async def test_retrying_rate_limiter(outcomes: list[object], expected_calls: int, raises: type | None) -> None:
    limiter = RetryingRateLimiter(backoff=0.01)
    calls = _Calls(*outcomes)
    if raises:
        with pytest.raises(raises):
            await limiter.process_request(calls, (), {}, "sendMessage", {"chat_id": 1}, None)
    else:
        assert await limiter.process_request(calls, (), {}, "sendMessage", {"chat_id": 1}, None) is True
    assert calls.count == expected_calls
