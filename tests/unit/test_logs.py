"""Secrets never reach the logs."""
from __future__ import annotations

import json
import logging

from infra.logs import JsonFormatter, scrub


def test_scrub_masks_passwords_tokens_and_url_credentials():
    line = scrub("connect postgresql://dash:s3cr3t@db/dash token=abc123 password: hunter2 Authorization: Bearer xyz")
    assert "s3cr3t" not in line and "xyz" not in line and "abc123" not in line and "hunter2" not in line
    assert "postgresql://dash:***@db/dash" in line


def test_json_formatter_emits_one_object_per_line():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "login failed for %s password=%s", ("a@b.c", "pw123"), None)
    payload = json.loads(JsonFormatter().format(record))
    assert payload["level"] == "WARNING" and "pw123" not in payload["message"] and "a@b.c" in payload["message"]
