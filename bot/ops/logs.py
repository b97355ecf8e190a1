"""Logging for the running bot: one line per event, plain or JSON, with a request id, and no secrets.

- ``COPYBOT_LOG_FORMAT=json`` writes one JSON object per line (tracebacks included as a field), for
  journald, Docker and log collectors; the default is a plain line for people.
- ``request_scope()`` gives the work it wraps a request id (a context variable, so tasks and threads
  started inside inherit it); every record logged there carries it, in the adapter and the engine.
- Secrets never leave the process through a log line: the value of every environment variable whose
  name ends in TOKEN, SECRET, KEY or PASSWORD, and anything shaped like a Slack token or a bearer
  header, is replaced in messages, arguments and tracebacks before any handler formats them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TextIO

from engine import shown_value

logger = logging.getLogger(__name__)

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("copybot_request_id",
                                                                         default=None)
SECRET_NAME_ENDINGS = ("TOKEN", "SECRET", "KEY", "PASSWORD")
MIN_SECRET_LENGTH = 6  # shorter values would blank out ordinary words; no real secret is this short
REDACTED = "[redacted]"
# Shapes of secrets worth hiding even when they did not come from our environment.
SECRET_SHAPES = re.compile(
    r"\bxox[a-z]-[A-Za-z0-9-]{6,}"  # Slack bot/user tokens
    r"|\bxapp-[A-Za-z0-9-]{6,}"  # Slack app-level tokens
    r"|(?i:(\bbearer\s+))[A-Za-z0-9._~+/=-]{6,}"  # Authorization headers: keep the word
)
LOG_FORMATS = ("plain", "json")


def new_request_id() -> str:
    return secrets.token_hex(6)


def current_request_id() -> str | None:
    return REQUEST_ID.get()


@contextmanager
def request_scope(request_id: str | None = None) -> Iterator[str]:
    """Run the enclosed work under a request id: the one given, the one already set, or a new one."""
    request_id = request_id or REQUEST_ID.get() or new_request_id()
    token = REQUEST_ID.set(request_id)
    try:
        yield request_id
    finally:
        REQUEST_ID.reset(token)


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Values of the environment variables that hold secrets, longest first."""
    env = os.environ if env is None else env
    values = {value.strip() for name, value in env.items()
              if name.upper().endswith(SECRET_NAME_ENDINGS) and len(value.strip()) >= MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)


class Redactor:
    def __init__(self, secret_list: list[str]) -> None:
        self.secrets = secret_list

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Redactor:
        return cls(secret_values(env))

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return SECRET_SHAPES.sub(lambda found: (found.group(1) or "") + REDACTED, text)


class RecordFilter(logging.Filter):
    """Puts the request id on each record and redacts it in place, so that every handler after
    this one sees only the redacted text too."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: show it raw rather than lose the record
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class PlainFormatter(logging.Formatter):
    """``time LEVEL logger [request id]: message`` on one line; a traceback follows indented."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        # A newline in a message (say, a product description) must not forge a second log line.
        record.message = record.message.replace("\r", "\\r").replace("\n", "\\n")
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            event["exception"] = record.exc_text
        if record.stack_info:
            event["stack"] = record.stack_info
        return json.dumps(event, ensure_ascii=False, default=str)


class _Handler(logging.StreamHandler):
    """Ours, so reconfiguring replaces it instead of adding a second one."""


def configure_logging(default_level: str = "WARNING", env: Mapping[str, str] | None = None,
                      stream: TextIO | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as configured by ``COPYBOT_LOG_LEVEL`` and
    ``COPYBOT_LOG_FORMAT``. Call after the environment (and ``.env``) is loaded: the secrets to
    redact are read from it here."""
    env = os.environ if env is None else env
    level_name = (env.get("COPYBOT_LOG_LEVEL") or default_level).strip().upper()
    level = logging.getLevelName(level_name)
    log_format = (env.get("COPYBOT_LOG_FORMAT") or "plain").strip().lower()
    handler = _Handler(stream or sys.stderr)
    handler.addFilter(RecordFilter(Redactor(secret_values(env))))
    handler.setFormatter(JsonFormatter() if log_format == "json" else PlainFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else logging.WARNING)
    logging.captureWarnings(True)  # warnings go through the same redaction
    if not isinstance(level, int):
        logger.warning("COPYBOT_LOG_LEVEL is %s; using WARNING (DEBUG, INFO, WARNING or ERROR)",
                       shown_value(level_name, env))
    if log_format not in LOG_FORMATS:
        logger.warning("COPYBOT_LOG_FORMAT is %s; using plain (plain or json)",
                       shown_value(log_format, env))
    return handler
