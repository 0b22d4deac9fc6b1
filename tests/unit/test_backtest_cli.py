"""python manage.py backtest through click's CliRunner, on small CSV series written per test."""
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from manage import cli


def write_series(path, days: int, seed: int = 0, freq: str = "h") -> None:
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2024-03-04", periods=days * (24 if freq == "h" else 48), freq=freq)
    hour, weekend = ts.hour.to_numpy(), ts.day_of_week.to_numpy() >= 5
    mu = 6 * np.where(weekend, 0.1 + np.exp(-0.5 * ((hour - 11) / 3) ** 2), 0.1 + np.exp(-0.5 * ((hour - 17) / 2) ** 2))
    pd.DataFrame({"when": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "count": rng.poisson(mu)}).to_csv(path, index=False)


@pytest.fixture
def runner():
    return CliRunner()


def test_backtest_json_and_predictions_out(tmp_path, runner):
    src, out = tmp_path / "s.csv", tmp_path / "p.csv"
    write_series(src, 26)
    with open(src, "a") as fh:  # bad rows are skipped and counted, never a traceback
        fh.write("not a time,3\n2024-04-01T00:00:00Z,lots\n")
    result = runner.invoke(cli, ["backtest", "--csv", str(src), "--time-col", "when", "--value-col", "count",
                                 "--horizon", "24", "--train-days", "21", "--cutoffs", "3",
                                 "--predictions-out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"invalid JSON constant {c}"))
    assert summary["cutoffs"] == 3 and summary["hours"] == 72
    for model in ("model", "seasonal_naive"):
        assert set(summary[model]) == {"mape", "smape", "mase", "coverage"}
    assert summary["input"]["rows_skipped"] == 2
    assert "skipped 2 of" in result.stderr
    pred = pd.read_csv(out)
    assert list(pred.columns) == ["cutoff", "timestamp", "actual", "predicted", "lower", "upper"]
    assert len(pred) == 72 and pred["cutoff"].nunique() == 3
    assert (pred["predicted"] >= 0).all()


def test_backtest_human_output_half_hourly(tmp_path, runner):
    src = tmp_path / "s.csv"
    write_series(src, 23, freq="30min")
    result = runner.invoke(cli, ["backtest", "--csv", str(src), "--time-col", "when", "--value-col", "count",
                                 "--horizon", "24", "--train-days", "21", "--cutoffs", "2", "--holidays", "none"])
    assert result.exit_code == 0, result.output
    assert "weighted MAPE" in result.stdout and "seasonal naive" in result.stdout
    assert "model beats seasonal naive on MAPE:" in result.stdout
    assert "552 hours" in result.stdout  # 23 days of half-hours summed into hours


def test_backtest_too_short_is_a_clear_error(tmp_path, runner):
    src = tmp_path / "s.csv"
    write_series(src, 20)
    result = runner.invoke(cli, ["backtest", "--csv", str(src), "--time-col", "when", "--value-col", "count"])
    assert result.exit_code == 2
    assert "has 480 hours" in result.stderr and "needs 3168 hours" in result.stderr
    assert "Traceback" not in result.output


def test_backtest_unknown_column(tmp_path, runner):
    src = tmp_path / "s.csv"
    write_series(src, 20)
    result = runner.invoke(cli, ["backtest", "--csv", str(src), "--time-col", "ts", "--value-col", "count"])
    assert result.exit_code != 0 and "no column 'ts'" in result.output and "when, count" in result.output


def test_read_series_epoch_offsets_and_bad_rows(tmp_path):
    from cli.forecast import read_series
    src = tmp_path / "s.csv"
    src.write_text("t,v\n1704067200,1\n1704069000,2\n1704070800,x\n,4\n1704070800,5\n1704074400,6\n1704078000,7\n")
    series, report = read_series(str(src), "t", "v")
    assert series["ts"].tolist() == list(pd.date_range("2024-01-01", periods=4, freq="h"))
    assert series["y"].tolist() == [3.0, 5.0, 6.0, 7.0]  # half-hours summed into hours
    assert report["rows_skipped"] == 2 and report["first_skipped_line"] == 4
    src.write_text("t,v\n2024-01-01T01:00:00+01:00,1\n2024-01-01T00:30:00Z,2\n")
    series, _ = read_series(str(src), "t", "v", agg="mean")
    assert series["ts"].tolist() == [pd.Timestamp("2024-01-01 00:00")] and series["y"].tolist() == [1.5]
