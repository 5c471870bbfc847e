"""The bot's configuration: one typed, frozen :class:`Settings`, read from the environment.

Only ``faqbot run`` (the Telegram bot) needs this; ``faqbot chat``/``ask``/``check`` work without a token.
Secrets (the bot token, the webhook secret) never appear in ``repr``/``str`` of the settings and never in an
error message.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

__all__ = ["ConfigError", "Settings"]

TOKEN_RE: Final = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
WEBHOOK_SECRET_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_RETENTION_DAYS: Final = 90
MAX_RETENTION_DAYS: Final = 3650
DEFAULT_WEBHOOK_LISTEN: Final = "127.0.0.1"
DEFAULT_WEBHOOK_PORT: Final = 8443
DEFAULT_WATCH_DEBOUNCE_MS: Final = 1000
DEFAULT_REMINDER_HOUR: Final = 9
DB_FILENAME: Final = "faqbot.sqlite3"
HEARTBEAT_FILENAME: Final = "heartbeat"

_NO_TOKEN_HINT: Final = "Zum Ausprobieren ohne Telegram braucht `faqbot chat` kein Token."


class ConfigError(ValueError):
    """The environment does not describe a runnable bot; the message says what to fix (never a secret)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``faqbot run`` needs. Build with :meth:`from_env`; tests may construct it directly."""

    token: str = field(repr=False)
    base_url: str | None = None  # PTB form, e.g. http://127.0.0.1:8081/bot (a local Bot API server)
    admin_ids: frozenset[int] = frozenset()
    knowledge_dir: Path = Path("knowledge")
    data_dir: Path = Path("data")
    allowed_chats: frozenset[int] | None = None  # None: every chat may use the bot
    log_level: str = "INFO"
    retention_days: int = DEFAULT_RETENTION_DAYS
    webhook_url: str | None = None  # set: webhook mode instead of long polling
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = DEFAULT_WEBHOOK_LISTEN
    webhook_port: int = DEFAULT_WEBHOOK_PORT
    watch_knowledge: bool = True  # reload when knowledge/*.yaml change (besides /reload)
    watch_debounce_ms: int = DEFAULT_WATCH_DEBOUNCE_MS
    reminder_hour: int = DEFAULT_REMINDER_HOUR  # daily reminder of overdue review_by dates, Europe/Berlin

    def __repr__(self) -> str:
        shown = (
            f"token=<{'set' if self.token else 'missing'}>",
            f"base_url={self.base_url!r}",
            f"admin_ids={sorted(self.admin_ids)!r}",
            f"knowledge_dir={str(self.knowledge_dir)!r}",
            f"data_dir={str(self.data_dir)!r}",
            f"allowed_chats={None if self.allowed_chats is None else sorted(self.allowed_chats)!r}",
            f"log_level={self.log_level!r}",
            f"retention_days={self.retention_days!r}",
            f"webhook_url={self.webhook_url!r}",
            f"webhook_secret=<{'set' if self.webhook_secret else 'none'}>",
            f"webhook_listen={self.webhook_listen!r}",
            f"webhook_port={self.webhook_port!r}",
            f"watch_knowledge={self.watch_knowledge!r}",
            f"watch_debounce_ms={self.watch_debounce_ms!r}",
            f"reminder_hour={self.reminder_hour!r}",
        )
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__

    # ------------------------------------------------------------------------------------------ derived

    @property
    def db_path(self) -> Path:
        """The SQLite database of the bot (question log, feedback, language preferences, subscriptions)."""
        return self.data_dir / DB_FILENAME

    @property
    def heartbeat_path(self) -> Path:
        """Touched every minute while the bot runs; the container HEALTHCHECK reads its age."""
        return self.data_dir / HEARTBEAT_FILENAME

    @property
    def webhook_path(self) -> str:
        """The local URL path the webhook server listens on: the path of :attr:`webhook_url`."""
        if not self.webhook_url:
            return ""
        return urlsplit(self.webhook_url).path.strip("/")

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in a log line."""
        return tuple(s for s in (self.token, self.webhook_secret) if s)

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admin_ids

    # ------------------------------------------------------------------------------------- from the env

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Read and validate the environment; raises :class:`ConfigError` with a message for operators."""

        def get(name: str) -> str:
            return env.get(name, "").strip()

        token = get("TELEGRAM_BOT_TOKEN")
        if not token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN ist nicht gesetzt. Das Token gibt @BotFather in Telegram aus "
                f"(Form 123456789:ABC…). {_NO_TOKEN_HINT}"
            )
        if not TOKEN_RE.fullmatch(token):
            raise ConfigError(
                f"TELEGRAM_BOT_TOKEN hat nicht die Form <Zahl>:<mindestens 30 Zeichen A-Z a-z 0-9 _ ->"
                f" (gesetzt sind {len(token)} Zeichen; Anführungszeichen oder Leerzeichen mitkopiert?). "
                f"{_NO_TOKEN_HINT}"
            )
        webhook_url = get("FAQBOT_WEBHOOK_URL") or None
        if webhook_url is not None:
            _check_webhook_url(webhook_url)
        webhook_secret = get("FAQBOT_WEBHOOK_SECRET") or None
        if webhook_secret is not None and not WEBHOOK_SECRET_RE.fullmatch(webhook_secret):
            raise ConfigError("FAQBOT_WEBHOOK_SECRET: 1–256 Zeichen aus A-Z, a-z, 0-9, _ und - erlaubt")
        log_level = (get("FAQBOT_LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(f"FAQBOT_LOG_LEVEL={log_level!r} unbekannt; erlaubt: {', '.join(LOG_LEVELS)}")
        allowed = get("FAQBOT_ALLOWED_CHATS")
        return cls(
            token=token,
            base_url=_base_url(get("TELEGRAM_BASE_URL")),
            admin_ids=frozenset(_int_list("FAQBOT_ADMIN_IDS", get("FAQBOT_ADMIN_IDS"), positive=True)),
            knowledge_dir=Path(get("FAQBOT_KNOWLEDGE_DIR") or "knowledge"),
            data_dir=Path(get("FAQBOT_DATA_DIR") or "data"),
            allowed_chats=frozenset(_int_list("FAQBOT_ALLOWED_CHATS", allowed)) if allowed else None,
            log_level=log_level,
            retention_days=_int(
                "FAQBOT_RETENTION_DAYS", get("FAQBOT_RETENTION_DAYS"), DEFAULT_RETENTION_DAYS, 1, MAX_RETENTION_DAYS
            ),
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            webhook_listen=get("FAQBOT_WEBHOOK_LISTEN") or DEFAULT_WEBHOOK_LISTEN,
            webhook_port=_int("FAQBOT_WEBHOOK_PORT", get("FAQBOT_WEBHOOK_PORT"), DEFAULT_WEBHOOK_PORT, 1, 65535),
            watch_knowledge=_flag("FAQBOT_WATCH", get("FAQBOT_WATCH"), default=True),
            watch_debounce_ms=_int(
                "FAQBOT_WATCH_DEBOUNCE_MS", get("FAQBOT_WATCH_DEBOUNCE_MS"), DEFAULT_WATCH_DEBOUNCE_MS, 50, 60_000
            ),
            reminder_hour=_int("FAQBOT_REMINDER_HOUR", get("FAQBOT_REMINDER_HOUR"), DEFAULT_REMINDER_HOUR, 0, 23),
        )

    @property
    def log_level_number(self) -> int:
        return int(logging.getLevelName(self.log_level))


def _int(name: str, raw: str, default: int, low: int, high: int) -> int:
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} ist keine ganze Zahl") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} liegt nicht zwischen {low} und {high}")
    return value


def _flag(name: str, raw: str, *, default: bool) -> bool:
    if not raw:
        return default
    value = raw.lower()
    if value in ("1", "true", "yes", "ja", "on"):
        return True
    if value in ("0", "false", "no", "nein", "off"):
        return False
    raise ConfigError(f"{name}={raw!r}: erwartet 1/0, true/false, ja/nein oder on/off")


def _int_list(name: str, raw: str, *, positive: bool = False) -> list[int]:
    """``"1, 2,3"`` → ``[1, 2, 3]``; empty items are ignored."""
    values: list[int] = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            value = int(item)
        except ValueError:
            raise ConfigError(
                f"{name}: {item!r} ist keine Telegram-ID (erwartet: durch Kommas getrennte ganze Zahlen)"
            ) from None
        if positive and value <= 0:
            raise ConfigError(f"{name}: {value} ist keine Nutzer-ID (Nutzer-IDs sind positiv)")
        values.append(value)
    return values


def _base_url(raw: str) -> str | None:
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"TELEGRAM_BASE_URL={raw!r}: erwartet wird eine http(s)-Adresse wie http://127.0.0.1:8081/bot"
        )
    return raw


def _check_webhook_url(raw: str) -> None:
    parts = urlsplit(raw)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and _is_loopback(host):
        return  # a local test setup; Telegram itself only delivers to https
    raise ConfigError(
        f"FAQBOT_WEBHOOK_URL={raw!r}: Telegram liefert nur an https-Adressen "
        "(z. B. https://bot.example.de/telegram); ohne die Variable läuft der Bot per Long Polling"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
