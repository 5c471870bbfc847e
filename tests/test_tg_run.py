"""``bot.tg.app.run`` as ``faqbot run`` runs it: a real process against the loopback fake, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.tg import health
from tests.support import updates as U
from tests.support.fake_bot_api import TOKEN, FakeBotApi
from tests.test_tg_harness import KNOWLEDGE_DIR, Q_SCHUL_IT, USER_ID, copy_knowledge

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
RUN = "import sys; from bot.config import Settings; from bot.tg.app import run; sys.exit(run(Settings.from_env()))"


def _env(fake: FakeBotApi | None, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith(("TELEGRAM_", "FAQBOT_"))
    }
    env.update(
        NO_PROXY="127.0.0.1,localhost",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=fake.base_url if fake else "http://127.0.0.1:9/bot",
        FAQBOT_KNOWLEDGE_DIR=str(KNOWLEDGE_DIR),
        FAQBOT_DATA_DIR=str(tmp_path / "data"),
        FAQBOT_LOG_LEVEL="DEBUG",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


@asynccontextmanager
async def bot_process(env: Mapping[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUN,
        env=dict(env),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _stop(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode is not None
    return proc.returncode, stderr.decode("utf-8", "replace")


async def _wait_listening(port: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
        else:
            writer.close()
            await writer.wait_closed()
            return


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_run_polls_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    async with FakeBotApi() as fake, bot_process(_env(fake, tmp_path)) as proc:
        await fake.wait_for("getUpdates", timeout=20)
        assert fake.commands  # post_init registered the menu
        fake.push_update(U.private_text(Q_SCHUL_IT))
        call = await fake.wait_for("sendMessage", timeout=10)
        assert "Dezernat I" in call.result["text"]
        code, log = await _stop(proc)
    assert code == 0, log
    assert "Long-Polling-Modus" in log and "Datenbank geschlossen" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    assert "bot<redacted>" in log  # PTB logs its API URL at DEBUG: redacted
    assert fake.rejections == []
    with sqlite3.connect(tmp_path / "data" / "faqbot.sqlite3") as conn:
        assert conn.execute("SELECT question FROM question_log").fetchall() == [(Q_SCHUL_IT,)]
    assert health.heartbeat_age(tmp_path / "data") is not None


async def test_run_webhook_mode_with_secret(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    env = _env(None, tmp_path, FAQBOT_WEBHOOK_URL=url, FAQBOT_WEBHOOK_SECRET="s3cr3t", FAQBOT_WEBHOOK_PORT=str(port))
    async with FakeBotApi() as fake:
        env["TELEGRAM_BASE_URL"] = fake.base_url
        async with bot_process(env) as proc:
            await fake.wait_for("setWebhook", timeout=20)
            assert fake.webhook["url"] == url and fake.webhook["secret_token"] == "s3cr3t"
            await _wait_listening(port)  # PTB sets the webhook first, then starts serving
            status, _ = await fake.post_webhook(url, U.private_text("Hallo"), secret_token="falsch")
            assert status == 403
            fake.push_update(U.private_text(Q_SCHUL_IT, USER_ID))  # delivered by the fake to the webhook
            call = await fake.wait_for("sendMessage", timeout=10)
            assert "Dezernat I" in call.result["text"]
            code, log = await _stop(proc)
    assert code == 0, log
    assert "Webhook-Modus" in log and "s3cr3t" not in log
    assert len(fake.sent_messages()) == 1
    assert fake.rejections == []


async def test_run_with_a_token_telegram_refuses(tmp_path: Path) -> None:
    other = "98765:" + "Z" * 35
    async with FakeBotApi() as fake:
        env = _env(fake, tmp_path, TELEGRAM_BOT_TOKEN=other)
        async with bot_process(env) as proc:
            _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    log = stderr.decode()
    assert proc.returncode == 1, log
    assert "Telegram lehnt das Token ab" in log
    assert "Z" * 35 not in log


async def test_run_refuses_broken_knowledge(tmp_path: Path) -> None:
    knowledge = copy_knowledge(tmp_path)
    (knowledge / "faq.yaml").write_text("entries:\n  - id: x\n\ttopic: amt\n", encoding="utf-8")
    async with bot_process(_env(None, tmp_path, FAQBOT_KNOWLEDGE_DIR=str(knowledge))) as proc:
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    log = stderr.decode()
    assert proc.returncode == 2, log
    assert "faq.yaml:3:" in log


def test_health_check(tmp_path: Path) -> None:
    env = {"FAQBOT_DATA_DIR": str(tmp_path)}
    assert health.main([], env) == 1  # no heartbeat yet
    beat = tmp_path / "heartbeat"
    beat.write_text("1\n")
    assert health.main([], env) == 0
    old = time.time() - 600
    os.utime(beat, (old, old))
    assert health.main([], env) == 1
    assert health.main(["900"], env) == 0
