"""Logging setup: plain text for a terminal, one JSON object per line (LOG_FORMAT=json) for production."""
from __future__ import annotations

import json
import logging
import re

SECRET_PATTERN = re.compile(r"(password|token|secret|authorization)(['\"]?\s*[:=]\s*['\"]?)([^\s'\",]+)", re.I)
URL_PASSWORD = re.compile(r"(://[^:/\s]+:)([^@\s]+)(@)")
BEARER = re.compile(r"(Bearer\s+)\S+", re.I)


def scrub(text: str) -> str:
    """Mask secrets that might slip into a log line (passwords in URLs, tokens, key=value secrets)."""
    text = URL_PASSWORD.sub(r"\1***\3", text)
    text = BEARER.sub(r"\1***", text)
    return SECRET_PATTERN.sub(r"\1\2***", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                   "logger": record.name, "message": scrub(record.getMessage())}
        if record.exc_info:
            payload["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(payload)


class ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def setup_logging(settings) -> None:
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("cmdstanpy").disabled = True
