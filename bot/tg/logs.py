"""Logging for the bot: one format, and no bot token in any log line.

httpx logs every request URL at INFO, and Telegram's URLs contain the token (``…/bot<token>/sendMessage``);
PTB logs the API URL at DEBUG. :class:`RedactingFilter` scrubs the configured secrets and anything shaped like
a token from the message, the arguments, tracebacks and stack info of every record that reaches a root
handler.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Final

REDACTED: Final = "<redacted>"
# "bot123456:secret" in URLs, and bare "123456:secret" tokens (the secret part of a token is ≥ 30 chars).
_TOKEN_PATTERNS: Final = (
    re.compile(r"bot\d+:[A-Za-z0-9_-]+"),
    re.compile(r"\b\d{3,}:[A-Za-z0-9_-]{30,}"),
)
LOG_FORMAT: Final = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Replace secrets in a record; never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub(lambda m: "bot" + REDACTED if m.group(0).startswith("bot") else REDACTED, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = f"{record.msg!r} % {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install_redaction(secrets: Iterable[str], logger: logging.Logger | None = None) -> RedactingFilter:
    """Add a :class:`RedactingFilter` to every handler of ``logger`` (default: root); returns the filter."""
    target = logger or logging.getLogger()
    redactor = RedactingFilter(secrets)
    for handler in target.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    return redactor


def configure_logging(level: int | str, secrets: Iterable[str] = ()) -> RedactingFilter:
    """Root logging to stderr in one format, quiet HTTP libraries, redaction on every root handler."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return install_redaction(secrets, root)
