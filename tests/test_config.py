"""Settings from the environment, and the log redaction of the bot token."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings
from bot.tg.logs import REDACTED, RedactingFilter, configure_logging

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def env(**overrides: str) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": TOKEN, **overrides}


def test_defaults() -> None:
    s = Settings.from_env(env())
    assert s.token == TOKEN
    assert s.base_url is None
    assert s.admin_ids == frozenset()
    assert s.knowledge_dir == Path("knowledge")
    assert s.data_dir == Path("data")
    assert s.db_path == Path("data") / "faqbot.sqlite3"
    assert s.allowed_chats is None
    assert s.log_level == "INFO"
    assert s.retention_days == 90
    assert s.webhook_url is None and s.webhook_secret is None
    assert (s.webhook_listen, s.webhook_port) == ("127.0.0.1", 8443)


def test_everything_set() -> None:
    s = Settings.from_env(
        env(
            TELEGRAM_BASE_URL="http://127.0.0.1:8081/bot",
            FAQBOT_ADMIN_IDS=" 11, 22 ,,33 ",
            FAQBOT_KNOWLEDGE_DIR="/app/knowledge",
            FAQBOT_DATA_DIR="/app/data",
            FAQBOT_ALLOWED_CHATS="11,-1001234567890",
            FAQBOT_LOG_LEVEL="debug",
            FAQBOT_RETENTION_DAYS="30",
            FAQBOT_WEBHOOK_URL="https://bot.konstanz.example/telegram/hook",
            FAQBOT_WEBHOOK_SECRET="s3cr3t_-X",
            FAQBOT_WEBHOOK_LISTEN="0.0.0.0",
            FAQBOT_WEBHOOK_PORT="8080",
        )
    )
    assert s.base_url == "http://127.0.0.1:8081/bot"
    assert s.admin_ids == frozenset({11, 22, 33})
    assert s.allowed_chats == frozenset({11, -1001234567890})
    assert s.log_level == "DEBUG" and s.log_level_number == logging.DEBUG
    assert s.retention_days == 30
    assert s.webhook_path == "telegram/hook"
    assert s.webhook_secret == "s3cr3t_-X"
    assert (s.webhook_listen, s.webhook_port) == ("0.0.0.0", 8080)
    assert s.is_admin(22) and not s.is_admin(44) and not s.is_admin(None)
    assert s.secrets == (TOKEN, "s3cr3t_-X")


def test_repr_and_str_never_show_secrets() -> None:
    s = Settings.from_env(env(FAQBOT_WEBHOOK_URL="https://x.example/h", FAQBOT_WEBHOOK_SECRET="geheimgeheim"))
    for text in (repr(s), str(s), f"{s}"):
        assert TOKEN not in text and TOKEN.split(":")[1] not in text
        assert "geheimgeheim" not in text
        assert "token=<set>" in text


@pytest.mark.parametrize("token", ["", "   "])
def test_missing_token_points_to_chat(token: str) -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN ist nicht gesetzt") as info:
        Settings.from_env({"TELEGRAM_BOT_TOKEN": token})
    assert "faqbot chat" in str(info.value)
    with pytest.raises(ConfigError, match="faqbot chat"):
        Settings.from_env({})


@pytest.mark.parametrize(
    "token",
    [
        "123456789",
        "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "123456789:short",
        '"123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"',
        "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDs aw",
        "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsa!",
    ],
)
def test_malformed_token_is_refused_without_echoing_it(token: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"TELEGRAM_BOT_TOKEN": token})
    message = str(info.value)
    assert "faqbot chat" in message
    assert token.strip() not in message
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in message


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("FAQBOT_ADMIN_IDS", "12,abc", "'abc' ist keine Telegram-ID"),
        ("FAQBOT_ADMIN_IDS", "-5", "Nutzer-IDs sind positiv"),
        ("FAQBOT_ALLOWED_CHATS", "1;2", "keine Telegram-ID"),
        ("FAQBOT_RETENTION_DAYS", "zehn", "keine ganze Zahl"),
        ("FAQBOT_RETENTION_DAYS", "0", "zwischen 1 und 3650"),
        ("FAQBOT_WEBHOOK_PORT", "70000", "zwischen 1 und 65535"),
        ("FAQBOT_LOG_LEVEL", "LOUD", "FAQBOT_LOG_LEVEL"),
        ("TELEGRAM_BASE_URL", "127.0.0.1:8081/bot", "http(s)-Adresse"),
        ("FAQBOT_WEBHOOK_URL", "http://bot.example.de/hook", "nur an https"),
        ("FAQBOT_WEBHOOK_URL", "ftp://bot.example.de/hook", "nur an https"),
        ("FAQBOT_WEBHOOK_SECRET", "mit leerzeichen", "FAQBOT_WEBHOOK_SECRET"),
    ],
)
def test_malformed_values(name: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=name) as info:
        Settings.from_env(env(**{name: value}))
    assert fragment in str(info.value)


def test_loopback_webhook_over_http_is_allowed_for_local_setups() -> None:
    assert Settings.from_env(env(FAQBOT_WEBHOOK_URL="http://127.0.0.1:8443/tg")).webhook_path == "tg"
    assert Settings.from_env(env(FAQBOT_WEBHOOK_URL="http://localhost/")).webhook_path == ""


def test_settings_are_frozen() -> None:
    s = Settings.from_env(env())
    with pytest.raises(AttributeError):
        s.token = "x"  # type: ignore[misc]


# ------------------------------------------------------------------------------------------- logging


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("httpx", logging.INFO, __file__, 1, msg, args, exc_info)


def test_redacting_filter_scrubs_message_args_and_tracebacks() -> None:
    f = RedactingFilter([TOKEN])
    record = _record('HTTP Request: POST %s "HTTP/1.1 200 OK"', f"https://api.telegram.org/bot{TOKEN}/getMe")
    assert f.filter(record)
    assert record.getMessage() == f'HTTP Request: POST https://api.telegram.org/bot{REDACTED}/getMe "HTTP/1.1 200 OK"'
    other = "987654:" + "x" * 35  # not the configured token, but shaped like one
    record = _record("plain %s and url bot%s/x", other, other)
    f.filter(record)
    assert "x" * 35 not in record.getMessage()
    try:
        raise RuntimeError(f"failed: https://api.telegram.org/bot{TOKEN}/sendMessage")
    except RuntimeError as err:
        record = _record("boom", exc=err)
    f.filter(record)
    assert record.exc_text and TOKEN not in record.exc_text and "RuntimeError" in record.exc_text
    broken = _record("%d", "not a number")
    assert f.filter(broken)  # a broken format string does not lose the record


def test_configure_logging_installs_the_filter_on_root_handlers() -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    old_level = root.level
    try:
        redactor = configure_logging("INFO", [TOKEN])
        assert redactor in handler.filters
        assert logging.getLogger("httpx").level == logging.WARNING
        logging.getLogger("telegram.Bot").warning("URL https://api.telegram.org/bot%s/getMe", TOKEN)
        logging.getLogger("httpx").warning("token alone: %s", TOKEN)
        configure_logging("INFO", [TOKEN])  # idempotent: one filter per handler
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        for h in root.handlers:
            for f in [f for f in h.filters if isinstance(f, RedactingFilter)]:
                h.removeFilter(f)
    output = stream.getvalue()
    assert "URL https://api.telegram.org/bot<redacted>/getMe" in output
    assert TOKEN not in output and "token alone: <redacted>" in output
