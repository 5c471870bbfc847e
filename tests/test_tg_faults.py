"""Telegram misbehaving: flood limits, server errors, timeouts, refused HTML, blocked users, our own bugs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.tg import texts as t
from bot.tg.logs import install_redaction
from tests.support import updates as U
from tests.support.fake_bot_api import TOKEN, Fault
from tests.test_tg_harness import Q_AMT, Q_KGST, Q_SCHUL_IT, USER_ID, callback_data, running_bot

pytestmark = pytest.mark.e2e


@pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")  # raised inside PTB
async def test_flood_limit_429_is_retried_and_delivered(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.fake.inject("sendMessage", Fault.retry_after(1))
        reply = await h.ask(Q_SCHUL_IT)
        assert "Dezernat I" in reply["text"]
        statuses = [c.status for c in h.calls("sendMessage")]
        assert statuses == [429, 200]
        assert h.calls("sendMessage")[1].time - h.calls("sendMessage")[0].time >= 1.0
        assert h.fake.rejections == []


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retried(tmp_path: Path, status: int) -> None:
    async with running_bot(tmp_path) as h:
        h.fake.inject("sendMessage", Fault.server_error(status))
        reply = await h.ask(Q_SCHUL_IT)
        assert "Dezernat I" in reply["text"]
        assert [c.status for c in h.calls("sendMessage")] == [status, 200]
        assert h.fake.rejections == []


async def test_persistent_server_errors_are_logged_and_the_bot_carries_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(tmp_path) as h:
        h.fake.inject("sendMessage", *[Fault.server_error(500)] * 3)
        before = len(h.sent(USER_ID))
        h.push(U.private_text(Q_SCHUL_IT))
        await h.settle()
        assert h.sent(USER_ID)[before:] == []
        assert len(h.calls("sendMessage")) == 3  # first try and two retries
        assert "Telegram-Fehler" in caplog.text
        assert "Dezernat I" in (await h.ask(Q_SCHUL_IT))["text"]
        assert h.fake.rejections == []


async def test_timeout_is_not_retried_and_the_bot_carries_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with running_bot(tmp_path, request_kwargs={"read_timeout": 0.3}) as h:
        # Telegram executes the request although the client gave up: retrying would answer twice
        h.fake.inject("sendMessage", Fault.timeout(0.6, then_process=True))
        h.push(U.private_text(Q_SCHUL_IT))
        await h.settle()
        await h.fake.wait_for("sendMessage")
        assert len(h.sent(USER_ID)) == 1
        assert "TimedOut" in caplog.text
        # the next question is answered normally
        assert "KGSt" in (await h.ask(Q_KGST))["text"]
        assert len(h.sent(USER_ID)) == 2
        assert h.fake.rejections == []


async def test_refused_html_falls_back_to_plain_text(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.fake.inject(
            "sendMessage", Fault.bad_request('can\'t parse entities: Unsupported start tag "x" at byte offset 3')
        )
        reply = await h.ask(Q_SCHUL_IT)
        first, second = h.calls("sendMessage")
        assert first.status == 400 and first.params["parse_mode"] == "HTML"
        assert "parse_mode" not in second.params
        assert "<a href" not in second.params["text"] and "https://www.kommune21.de" in second.params["text"]
        assert "Dezernat I" in reply["text"]
        assert callback_data(reply)  # the buttons survive the fallback
        assert h.fake.rejections == []


async def test_other_bad_requests_and_blocked_users_do_not_crash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(tmp_path) as h:
        h.fake.inject("sendMessage", Fault.chat_not_found())
        h.push(U.private_text(Q_SCHUL_IT))
        await h.settle()
        h.fake.block(2002)
        h.push(U.private_text(Q_SCHUL_IT, 2002))
        await h.settle()
        assert "Chat not found" in caplog.text
        assert "blocked by the user" in caplog.text
        assert "Digitalisierung" in (await h.ask(Q_AMT))["text"]
        assert h.fake.rejections == []


async def test_callback_answer_failures_are_handled(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        reply = await h.ask(Q_SCHUL_IT)
        data = next(d for d in callback_data(reply) if d.startswith("f:+"))
        h.fake.inject(
            "answerCallbackQuery",
            Fault.bad_request("query is too old and response timeout expired or query ID is invalid"),
        )
        h.push(
            U.callback(data, message_id=reply["message_id"], inline_keyboard=reply["reply_markup"]["inline_keyboard"])
        )
        await h.settle()
        assert h.store.stats(1).feedback_up == 1  # the vote counts although the toast could not be shown
        assert h.fake.rejections == []


async def test_bug_in_the_domain_is_logged_and_apologised_for(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(tmp_path) as h:

        def broken(question: str, lang: object = None) -> object:
            raise RuntimeError("kaputt")

        monkeypatch.setattr(h.service, "ask", broken)
        reply = await h.ask(Q_SCHUL_IT)
        assert reply["text"] == t.SORRY_ERROR.de
        assert "RuntimeError: kaputt" in caplog.text
        monkeypatch.undo()
        assert "Dezernat I" in (await h.ask(Q_SCHUL_IT))["text"]
        assert h.fake.rejections == []


async def test_get_updates_errors_are_survived(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.fake.inject("getUpdates", Fault.server_error(502))
        reply = await h.ask(Q_SCHUL_IT)
        assert "Dezernat I" in reply["text"]
        assert h.fake.rejections == []


async def test_token_never_reaches_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.DEBUG)  # httpx logs every URL, with the token in it
    redactor = install_redaction([TOKEN])
    try:
        async with running_bot(tmp_path) as h:
            h.fake.inject("sendMessage", Fault.server_error(500))
            await h.ask(Q_SCHUL_IT)
        text = caplog.text
        assert "sendMessage" in text  # the URLs were logged …
        assert TOKEN not in text and TOKEN.split(":")[1] not in text  # … without the token
        assert "bot<redacted>" in text
    finally:
        logging.getLogger("httpx").setLevel(logging.WARNING)
        for handler in logging.getLogger().handlers:
            handler.removeFilter(redactor)
