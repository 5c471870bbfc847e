"""Crash safety: ``faqbot announce`` is SIGKILLed at random points mid-broadcast and started again.

The fake Bot API answers every sendMessage only after a short delay and executes it even if the client
is gone by then (like Telegram does), so each kill leaves requests in flight whose fate the sender cannot
know. After the restart: no group has two copies, every other group got exactly one, and the in-doubt
rows are reported as ``unknown`` instead of being sent again.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.broadcast import Outbox
from bot.storage import Store
from tests.support.fake_bot_api import TOKEN, FakeBotApi, Fault
from tests.test_tg_harness import KNOWLEDGE_DIR, ROOT

pytestmark = pytest.mark.e2e

MILESTONE = "schul-it-wechsel"
GROUPS = 60
SLOW = Fault("slow", delay=0.08, process_after_delay=True)


def _env(fake: FakeBotApi, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith("FAQBOT_")}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=fake.base_url,
        FAQBOT_DATA_DIR=str(data_dir),
        FAQBOT_KNOWLEDGE_DIR=str(KNOWLEDGE_DIR),
    )
    return env


async def _announce(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "announce",
        MILESTONE,
        "--yes",
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_sigkill_mid_broadcast_then_restart(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    groups = [-500_000 - i for i in range(GROUPS)]
    with Store.open(data_dir / "faqbot.sqlite3") as store:
        for chat in groups:
            store.subscribe(chat, "g")
    async with FakeBotApi() as fake:
        fake.fault_plan(lambda method, params: SLOW if method == "sendMessage" else None)
        env = _env(fake, data_dir)
        kill_after = rng.randint(3, GROUPS - 15)  # requests received before the kill
        first = await _announce(env)
        await fake.wait_for(lambda c: c.method == "sendMessage", 30, count=kill_after)
        await asyncio.sleep(rng.uniform(0, 0.08))
        first.send_signal(signal.SIGKILL)
        await first.wait()
        assert first.returncode == -signal.SIGKILL
        requested_before = {int(c.params["chat_id"]) for c in fake.calls_of("sendMessage")}
        await asyncio.sleep(0.2)  # the fake finishes (delivers) what was in flight

        second = await _announce(env)
        out, err = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode in (0, 1), err.decode()
        sends: Counter[int] = Counter(int(c.params["chat_id"]) for c in fake.calls_of("sendMessage") if c.ok)
        requests: Counter[int] = Counter(int(c.params["chat_id"]) for c in fake.calls_of("sendMessage"))

    assert max(sends.values()) == 1  # 0 duplicates
    assert max(requests.values()) == 1  # nothing was even requested twice
    with Outbox(data_dir / "faqbot.sqlite3") as outbox:
        (report,) = outbox.announcements()
        states = {d.chat_id: d.state for d in outbox.deliveries(report.id)}
    assert report.pending == 0 and report.status == "done"
    assert report.sent + report.unknown == GROUPS
    unknown = {c for c, s in states.items() if s == "unknown"}
    sent = {c for c, s in states.items() if s == "sent"}
    assert all(sends[c] == 1 for c in sent)  # the rest delivered, exactly once
    assert not unknown & (set(requests) - requested_before)  # in doubt only from the killed run
    assert sent | unknown == set(groups)
    assert set(report.unknown_chats) == unknown
    assert f"{report.unknown} unklar" in out.decode()
    # the killed run's requests that were answered after the kill arrived although their rows stay unknown
    assert 1 <= len(unknown) <= 8  # requests were in flight at the kill; at most the sender's concurrency
