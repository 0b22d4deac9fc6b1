"""detect: the anomaly detector on one series from a CSV file."""
from __future__ import annotations

import json

import click

from cli.common import at_option, emit, fail, json_option, parse_at

MAX_LISTED_BAD_ROWS = 10


@click.command("detect")
@click.option("--csv", "csv_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="CSV file with a header row.")
@click.option("--time-col", required=True, help="Column holding the timestamps (ISO 8601 or Unix epoch).")
@click.option("--value-col", required=True, help="Column holding the values.")
@click.option("--metric", default=None, help="Name used in the output (default: the value column).")
@click.option("--config", "config_json", default=None,
              help='Detector overrides as JSON, e.g. \'{"robust_zscore": {"threshold": 6}}\'.')
@at_option
@json_option
def detect(csv_path, time_col, value_col, metric, config_json, at, as_json) -> None:
    """Anomaly detection on one series; any regular sampling, inferred from the timestamps.

    Rows whose time or value cannot be read are skipped and reported on stderr; gaps, duplicate
    timestamps (averaged) and unsorted rows are fine. --json prints
    {"anomalies": [{"timestamp", "method", "value", "expected", "why"}]}: timestamp is when the
    event started (ISO), value the most extreme point and expected what was expected there.
    """
    import pandas as pd

    from domain.anomaly import DetectorConfig, detect_series, series_from_frame

    when = parse_at(at)
    try:
        config = DetectorConfig.from_dict(json.loads(config_json)) if config_json else DetectorConfig()
    except (ValueError, TypeError) as exc:
        fail(f"--config: {exc}", code=2)
    try:
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        fail(f"cannot read {csv_path} as CSV: {exc}", code=2)
    try:
        series, bad = series_from_frame(frame, time_col, value_col)
    except KeyError as exc:
        fail(str(exc.args[0]), code=2)
    _report_bad_rows(bad, len(frame))
    if series.empty:
        fail(f"no usable rows in {csv_path}: every row had an unreadable time or value", code=1)
    events = detect_series(series, config, at=when, metric=metric or value_col)
    payload = {"anomalies": [
        {"timestamp": e.start.isoformat(), "method": e.method, "value": _num(e.value),
         "expected": _num(e.expected), "why": e.why}
        for e in events
    ]}
    used = int((series.index <= when).sum()) if when is not None else len(series)
    emit(payload, as_json, human=lambda data: _print_human(events, used))


def _num(x: float) -> float | None:
    import math
    return None if x is None or not math.isfinite(x) else round(float(x), 6)


def _report_bad_rows(bad, total: int) -> None:
    if not bad:
        return
    click.echo(f"warning: skipped {len(bad)} of {total} rows that could not be read:", err=True)
    for row in bad[:MAX_LISTED_BAD_ROWS]:
        click.echo(f"  line {row.line}: {row.reason}", err=True)
    if len(bad) > MAX_LISTED_BAD_ROWS:
        click.echo(f"  ... and {len(bad) - MAX_LISTED_BAD_ROWS} more", err=True)


def _print_human(events, points: int) -> None:
    if not events:
        click.echo(f"no anomalies in {points} points")
        return
    click.echo(f"{len(events)} anomalies in {points} points:")
    for e in events:
        click.echo(f"- {e.start.isoformat()}  [{e.method}, {e.severity}]  {e.why}")
