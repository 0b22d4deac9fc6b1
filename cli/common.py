"""Helpers every command shares: settings, --at parsing, --json output."""
from __future__ import annotations

import json
import sys
from datetime import datetime

import click

from config import get_settings
from infra.clock import parse_utc


def settings():
    return get_settings()


def parse_at(value: str | None) -> datetime | None:
    """ISO time -> naive UTC datetime; a clear error for anything else."""
    try:
        return parse_utc(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def at_option(func):
    return click.option("--at", "at", default=None, help="Run as of this past ISO time.")(func)


def json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(func)


def emit(data, as_json: bool, human=None) -> None:
    """Print JSON or a human summary."""
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    elif human is not None:
        human(data)
    else:
        click.echo(json.dumps(data, indent=2, default=str))


def fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)
