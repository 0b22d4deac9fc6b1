"""backtest: forecast accuracy of the demand model vs "same hour last week" on any hourly CSV series."""
from __future__ import annotations

import math

import click
import pandas as pd

from cli.common import emit, fail, json_option


def read_series(path: str, time_col: str, value_col: str, agg: str = "sum") -> tuple[pd.DataFrame, dict]:
    """CSV -> (DataFrame[ts, y] on an hourly grid, report). Rows whose time or value does not parse
    are skipped and counted; times with an offset are converted to naive UTC; finer than hourly
    is aggregated per hour with ``agg`` (sum for counts, mean for levels such as load in MW)."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}")
    for col in (time_col, value_col):
        if col not in raw.columns:
            raise click.ClickException(f"{path} has no column {col!r}; columns: {', '.join(raw.columns)}")
    ts = _parse_times(raw[time_col])
    y = pd.to_numeric(raw[value_col].str.strip(), errors="coerce")
    bad = ts.isna() | y.isna() | ~y.abs().lt(math.inf)
    report = {"rows": len(raw), "rows_skipped": int(bad.sum())}
    if bad.any():
        first = int(bad.to_numpy().argmax())
        report["first_skipped_line"] = first + 2  # 1-based, after the header
    good = pd.DataFrame({"ts": ts[~bad].to_numpy(), "y": y[~bad].to_numpy(dtype=float)})
    if good.empty:
        raise click.ClickException(f"no row of {path} has a parseable {time_col!r} and {value_col!r}")
    step = good["ts"].sort_values().diff().median()
    if pd.notna(step) and step > pd.Timedelta(hours=1):
        raise click.ClickException(f"the series is coarser than hourly (median step {step}); backtest needs hourly or finer data")
    good = good.assign(ts=good["ts"].dt.floor("h"))
    hourly = good.groupby("ts")["y"].agg(agg).reset_index()
    from domain.forecasting import regular_hourly
    series = regular_hourly(hourly)
    report.update({"start": series["ts"].iloc[0].isoformat(), "end": series["ts"].iloc[-1].isoformat(),
                   "hours": len(series), "missing_hours": int(series["y"].isna().sum()),
                   "negative_values": int((good["y"] < 0).sum())})
    return series, report


def _parse_times(col: pd.Series) -> pd.Series:
    """Text -> naive UTC times: ISO 8601 or any format pandas recognises, or Unix epoch numbers
    (seconds, or milliseconds when that is what the magnitude says). Unparseable -> NaT."""
    text = col.str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().mean() > 0.5:
        unit = "ms" if numbers.abs().median() > 1e11 else "s"
        return pd.to_datetime(numbers, unit=unit, errors="coerce")
    parsed = pd.to_datetime(text, errors="coerce", utc=True)
    if parsed.isna().mean() > 0.5:  # a format pandas did not guess from the first row
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
    return parsed.dt.tz_convert(None)


@click.command("backtest")
@click.option("--csv", "csv_path", required=True, type=click.Path(exists=True, dir_okay=False), help="CSV file with the series.")
@click.option("--time-col", required=True, help="Column with the time (ISO 8601, offsets converted to UTC; or Unix seconds).")
@click.option("--value-col", required=True, help="Column with the value (counts per row are summed per hour).")
@click.option("--horizon", type=click.IntRange(1, 24 * 60), default=168, show_default=True, help="Hours ahead.")
@click.option("--train-days", type=click.IntRange(14, 3650), default=90, show_default=True, help="Days of history per fit.")
@click.option("--cutoffs", type=click.IntRange(1, 500), default=6, show_default=True, help="Back-to-back folds.")
@click.option("--agg", type=click.Choice(["sum", "mean"]), default="sum", show_default=True,
              help="How finer-than-hourly rows become one hour: sum (counts) or mean (levels).")
@click.option("--holidays", default="US", show_default=True, help="Country code for the holiday calendar, or 'none'.")
@click.option("--tz", default=None, help="The series' local time zone (IANA, e.g. Asia/Seoul): daily shapes, weekdays "
                                        "and holidays are read in it. Default: the holiday country's main zone.")
@click.option("--predictions-out", type=click.Path(dir_okay=False), default=None,
              help="CSV with one row per forecast hour: cutoff,timestamp,actual,predicted,lower,upper.")
@json_option
def backtest(csv_path, time_col, value_col, horizon, train_days, cutoffs, agg, holidays, tz, predictions_out,
             as_json) -> None:
    """Backtest the demand forecaster and the seasonal-naive baseline on an hourly CSV series.

    Prints MAPE (weighted: sum|error| / sum|actual|, so zero hours are fine), sMAPE, MASE and the
    95 % interval coverage for the model and for "same hour last week".
    """
    from domain.forecasting import DemandForecaster, NotEnoughHistory
    from domain.forecasting import backtest as run_backtest
    country = None if holidays.lower() in ("", "none") else holidays.upper()
    if tz:
        try:
            from zoneinfo import ZoneInfo
            ZoneInfo(tz)
        except (KeyError, ValueError, OSError):
            fail(f"unknown time zone {tz!r} (use an IANA name such as America/Chicago)", 2)
    series, report = read_series(csv_path, time_col, value_col, agg)
    if report["rows_skipped"]:
        click.echo(f"skipped {report['rows_skipped']} of {report['rows']} rows with an unparseable time or value"
                   f" (first at line {report['first_skipped_line']})", err=True)
    try:
        summary, predictions = run_backtest(
            series, horizon_h=horizon, train_days=train_days, cutoffs=cutoffs,
            model_factory=lambda: DemandForecaster(horizon_h=horizon, train_days=train_days, holidays=country, tz=tz),
            holidays=country, tz=tz)
    except NotEnoughHistory as exc:
        fail(str(exc), 2)
    except (KeyError, NotImplementedError) as exc:  # e.g. an unknown holiday country code
        fail(f"{exc}", 2)
    if predictions_out:
        out = predictions.drop(columns="baseline")
        out.to_csv(predictions_out, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    summary["input"] = report
    emit(_finite(summary), as_json, _print_summary)


def _finite(value):
    """NaN and infinities -> None, so --json prints valid JSON (null) for an undefined metric."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _num(v) -> str:
    return "-" if v is None else f"{v:.2f}"


def _print_summary(s: dict) -> None:
    i = s["input"]
    click.echo(f"backtest: {s['cutoffs']} cutoffs x {s['horizon_h']} h, each trained on the {s['train_days']} days before it")
    click.echo(f"series {i['start']} .. {i['end']}: {i['hours']} hours, {i['missing_hours']} missing; "
               f"{s['hours']} forecast hours scored")
    click.echo(f"{'':<18}{'MAPE*':>8}{'sMAPE':>8}{'MASE':>7}{'coverage':>10}")
    for label, key in (("model", "model"), ("seasonal naive", "seasonal_naive")):
        m = s[key]
        click.echo(f"{label:<18}{_pct(m['mape']):>8}{_pct(m['smape']):>8}{_num(m['mase']):>7}{_pct(m['coverage']):>10}")
    click.echo(f"* MAPE here is {s['mape_definition']}; coverage = share of actuals inside the 95 % interval")
    click.echo(f"{'cutoff':<21}{'MASE':>7}{'naive':>7}{'ratio':>7}{'coverage':>10}  holidays (local)")
    for f in s["folds"]:
        m, n = f["model"]["mase"], f["seasonal_naive"]["mase"]
        ratio = m / n if m is not None and n else None
        click.echo(f"{f['cutoff'][:19]:<21}{_num(m):>7}{_num(n):>7}{_num(ratio):>7}{_pct(f['model']['coverage']):>10}"
                   f"  {', '.join(f.get('holidays') or []) or '-'}")
    if s["model"]["mape"] is None or s["seasonal_naive"]["mape"] is None:
        verdict = "cannot tell - every scored hour is zero, so MAPE is undefined (see sMAPE)"
    elif s["beats_baseline"]:
        verdict = "yes"
    else:
        verdict = "NO - the seasonal-naive baseline is at least as accurate on this series"
    click.echo(f"model beats seasonal naive on MAPE: {verdict}")
