"""Structured logs: one JSON object per line, for log shippers (`wargame serve --json-logs`, or JSON_LOGS=1).

Each line has `time` (UTC, ISO 8601), `level`, `logger` and `message`; `game_id`, `seq`, `seat_id` and `code`
when the call passed them in `extra`, and `exc` with the traceback when there was one.

Credentials never reach a log call of ours: the server logs seat ids, never tokens or keys.  Libraries may: at
DEBUG, the WebSocket protocol traces every frame, the hello with its token among them.  `RedactCredentials`,
on every handler `log_config` sets up, masks anything shaped like a credential whatever logged it.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

CONTEXT = ("game_id", "seq", "seat_id", "role", "code", "close_code")
"""Fields a log call may pass in `extra`; they are copied to the JSON line when present."""


_CREDENTIALS = (
    # "token": "...", "facilitator_key": "..." in JSON (as a hello frame or a REST answer carries them), also escaped
    (re.compile(r'(\\?"(?:token|facilitator_key)\\?"\s*:\s*\\?")[^"\\]*'), r"\1[redacted]"),
    # Authorization: Bearer ...
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-.~+/=]+"), r"\1[redacted]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _CREDENTIALS:
        text = pattern.sub(replacement, text)
    return text


class RedactCredentials(logging.Filter):
    """Masks credentials in a record's message and traceback before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def hide_password(url: str) -> str:
    """A database or bus URL fit to print: the password, if any, replaced by ***."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
    except ValueError:
        return "(unparsable URL)"


def line(message: str, logger: str = "wargame.cli", level: int = logging.INFO) -> str:
    """One log line in the JSON format, for what is printed before logging is configured (the banner)."""
    return JsonFormatter().format(logging.LogRecord(logger, level, __file__, 0, message, None, None))


def log_config(json_lines: bool, level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the server and Uvicorn's own loggers (pass it as `log_config`)."""
    level = level.upper()
    if json_lines:
        formatters: dict[str, Any] = {
            "default": {"()": "server.logs.JsonFormatter"},
            "access": {"()": "server.logs.JsonFormatter"},
        }
    else:
        formatters = {
            "default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
            },
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters,
        "filters": {"redact": {"()": "server.logs.RedactCredentials"}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["redact"],
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "access",
                "filters": ["redact"],
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            "wargame": {"handlers": ["default"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
