"""Harness for the Telegram end-to-end tests: the real Application (built by ``build_application``),
polling the loopback :class:`FakeBotApi`, with a real :class:`Store` in ``tmp_path``.

Imported by the other ``test_tg_*`` modules; the few tests here check the harness itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.service import FaqService
from bot.storage import Store
from bot.tg.app import App, RetryingRateLimiter, build_application, load_service
from tests.support import updates as U
from tests.support.fake_bot_api import TOKEN, Call, FakeBotApi, iter_buttons
from tests.support.lifecycle import polling

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE_DIR = ROOT / "knowledge"
ADMIN_ID = 777
USER_ID = U.DEFAULT_USER_ID
GROUP_ID = U.DEFAULT_GROUP_ID

# Questions the matcher answers (phrasings from the knowledge, so matcher tuning cannot turn them into a
# "Meinten Sie …?"), a vague one for clarify, and nonsense for the fallback.
Q_SCHUL_IT = "Wann wechselt die Schul-IT ins Dezernat I?"
Q_AMT = "Was macht das neue Amt für Digitalisierung?"
Q_KGST = "Was ist die KGSt?"
Q_ENGLISH = "What does the new Office for Digitalisation do?"
Q_CLARIFY = "Schule"
Q_NONSENSE = "xqzv blorp wuppdich"

JSON = dict[str, Any]


def copy_knowledge(tmp_path: Path) -> Path:
    """A private copy of the real knowledge directory (for tests that break or edit it)."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target, ignore=shutil.ignore_patterns("README.md"))
    return target


def buttons(message: Mapping[str, Any]) -> list[JSON]:
    return list(iter_buttons(message.get("reply_markup")))


def callback_data(message: Mapping[str, Any]) -> list[str]:
    return [b["callback_data"] for b in buttons(message) if "callback_data" in b]


@dataclass
class Harness:
    fake: FakeBotApi
    app: App
    store: Store
    service: FaqService
    settings: Settings
    last_update_id: int = 0
    pushed: list[JSON] = field(default_factory=list)

    def push(self, update: Mapping[str, Any]) -> JSON:
        sent = self.fake.push_update(update)
        self.last_update_id = max(self.last_update_id, int(sent["update_id"]))
        self.pushed.append(sent)
        return sent

    async def settle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a test helper with a deadline
        """Wait until every pushed update has been fetched and completely handled."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        target = self.last_update_id
        while not any(
            c.method == "getUpdates" and int(c.params.get("offset") or 0) > target for c in self.fake.calls
        ) and not any(u["update_id"] == target for u in self.fake.dropped_updates):
            if loop.time() > deadline:
                raise TimeoutError(f"update {target} was not fetched")
            await asyncio.sleep(0.005)
        await asyncio.wait_for(self.app.update_queue.join(), max(0.1, deadline - loop.time()))

    def sent(self, chat_id: int | None = None) -> list[JSON]:
        return self.fake.sent_messages(chat_id)

    async def exchange(self, update: Mapping[str, Any], chat_id: int | None = None) -> list[JSON]:
        """Push one update, wait until it is handled, return the messages sent to ``chat_id`` meanwhile."""
        before = len(self.sent(chat_id))
        self.push(update)
        await self.settle()
        return self.sent(chat_id)[before:]

    async def ask(self, text: str, user_id: int = USER_ID, **kwargs: Any) -> JSON:
        """A private question; returns the (last) message the bot sent in answer."""
        replies = await self.exchange(U.private_text(text, user_id, **kwargs), user_id)
        assert replies, f"no answer to {text!r}"
        return replies[-1]

    def calls(self, method: str) -> list[Call]:
        return self.fake.calls_of(method)

    async def press(self, message: Mapping[str, Any], data: str, user_id: int = USER_ID) -> list[JSON]:
        """Press the button ``data`` under the bot's ``message``; returns the messages sent to ``user_id``."""
        assert data in callback_data(message), f"no button {data!r} under the message"
        keyboard = message["reply_markup"]["inline_keyboard"]
        update = U.callback(
            data, user_id, message_id=message["message_id"], message_text=message["text"], inline_keyboard=keyboard
        )
        return await self.exchange(update, user_id)


def unlimited_rate_limiter() -> RetryingRateLimiter:
    """The production limiter with the throughput caps lifted (retries stay) for fast, many-message tests."""
    return RetryingRateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=3, backoff=0.05)


@contextlib.asynccontextmanager
async def running_bot(
    tmp_path: Path,
    *,
    knowledge_dir: Path | None = None,
    admin_ids: frozenset[int] = frozenset({ADMIN_ID}),
    allowed_chats: frozenset[int] | None = None,
    retention_days: int = 90,
    fake: FakeBotApi | None = None,
    request_kwargs: Mapping[str, Any] | None = None,
    production_limits: bool = True,
    watch_debounce_ms: int | None = None,
) -> AsyncIterator[Harness]:
    """Start the fake (unless given), build the real Application and poll; stop everything afterwards.

    The knowledge files are watched only with ``watch_debounce_ms``; shutdown runs ``post_shutdown`` as
    ``run_polling`` would (the store is closed then)."""
    async with contextlib.AsyncExitStack() as stack:
        if fake is None:
            fake = await stack.enter_async_context(FakeBotApi())
        settings = Settings(
            token=TOKEN,
            base_url=fake.base_url,
            admin_ids=admin_ids,
            knowledge_dir=knowledge_dir or KNOWLEDGE_DIR,
            data_dir=tmp_path / "data",
            allowed_chats=allowed_chats,
            retention_days=retention_days,
            watch_knowledge=watch_debounce_ms is not None,  # off unless a test is about it
            watch_debounce_ms=watch_debounce_ms or 1000,
        )
        store = Store.open(settings.db_path)
        service = load_service(settings, store)  # as faqbot run: with the learned phrasings in the database
        app = build_application(
            settings,
            service,
            store,
            builder=fake.app_builder(**dict(request_kwargs or {})),
            rate_limiter=None if production_limits else unlimited_rate_limiter(),
        )
        async with polling(app):
            yield Harness(fake, app, store, service, settings)


# ------------------------------------------------------------------------------------- harness self-test

pytestmark = pytest.mark.e2e


async def test_harness_answers_and_settles(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        reply = await h.ask(Q_SCHUL_IT)
        assert "Schul-IT" in reply["text"]
        h.push(U.group_text("nur Geplauder unter Kollegen"))
        await h.settle()
        assert h.sent(GROUP_ID) == []
        assert h.fake.rejections == []
