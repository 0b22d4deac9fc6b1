"""python manage.py detect through click's CliRunner, on the seeded CSV fixture and small variants."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from manage import cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CSV = FIXTURES / "anomaly_hourly.csv"
ARGS = ["detect", "--csv", str(CSV), "--time-col", "ts", "--value-col", "bookings"]


@pytest.fixture
def runner():
    return CliRunner()


def test_fixture_is_what_its_generator_writes():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_anomaly_csv", FIXTURES / "make_anomaly_csv.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert CSV.read_text() == module.build()


def test_json_is_exactly_the_documented_shape(runner):
    result = runner.invoke(cli, ARGS + ["--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert list(payload) == ["anomalies"]
    assert len(payload["anomalies"]) == 1
    a = payload["anomalies"][0]
    assert list(a) == ["timestamp", "method", "value", "expected", "why"]
    assert a["timestamp"] == "2026-01-26T03:00:00" and a["method"] == "robust_zscore"
    assert a["value"] == pytest.approx(162.2) and a["expected"] == pytest.approx(100, abs=5)
    assert "robust sigmas above" in a["why"]


def test_bad_rows_are_reported_with_their_line_and_reason(runner):
    result = runner.invoke(cli, ARGS + ["--json"])
    assert "skipped 3 of 676 rows" in result.stderr
    assert "line 302: time 'yesterday at noon' is not a timestamp" in result.stderr
    assert "line 402: value 'n/a' is not a number" in result.stderr
    assert "line 502: value (empty) is not a number" in result.stderr
    json.loads(result.stdout)  # the warnings never leak into the JSON


def test_at_only_considers_data_up_to_then(runner):
    before = runner.invoke(cli, ARGS + ["--json", "--at", "2026-01-26T02:00:00Z"])
    assert before.exit_code == 0 and json.loads(before.stdout) == {"anomalies": []}
    after = runner.invoke(cli, ARGS + ["--json", "--at", "2026-01-26T03:00:00+00:00"])
    assert [a["timestamp"] for a in json.loads(after.stdout)["anomalies"]] == ["2026-01-26T03:00:00"]
    bad = runner.invoke(cli, ARGS + ["--at", "next tuesday"])
    assert bad.exit_code != 0 and "not an ISO 8601 time" in bad.output


def test_human_output_and_help(runner):
    result = runner.invoke(cli, ARGS)
    assert result.exit_code == 0
    assert "1 anomalies in 673 points" in result.stdout and "[robust_zscore," in result.stdout
    helped = runner.invoke(cli, ["detect", "--help"])
    assert helped.exit_code == 0 and "--time-col" in helped.output and "--at" in helped.output


def test_five_minute_epoch_seconds_series(tmp_path, runner):
    rng = np.random.default_rng(2)
    idx = pd.date_range("2026-02-01", periods=288 * 10, freq="5min")
    y = 50 + 10 * np.sin(2 * np.pi * idx.hour.to_numpy() / 24) + rng.normal(0, 1, len(idx))
    spike = idx.get_loc(pd.Timestamp("2026-02-08 12:00"))
    y[spike:spike + 4] += 30
    path = tmp_path / "cpu.csv"
    epoch = (idx - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    pd.DataFrame({"epoch": epoch, "cpu": y}).to_csv(path, index=False)
    result = runner.invoke(cli, ["detect", "--csv", str(path), "--time-col", "epoch", "--value-col", "cpu", "--json"])
    assert result.exit_code == 0, result.output
    assert [a["timestamp"] for a in json.loads(result.stdout)["anomalies"]] == ["2026-02-08T12:00:00"]


def test_clear_errors_for_missing_columns_config_and_empty_files(tmp_path, runner):
    missing = runner.invoke(cli, ["detect", "--csv", str(CSV), "--time-col", "when", "--value-col", "bookings"])
    assert missing.exit_code == 2 and "column 'when' not in the file; columns: ts, bookings" in missing.stderr
    config = runner.invoke(cli, ARGS + ["--config", '{"robust_zscore": {"treshold": 3}}'])
    assert config.exit_code == 2 and "unknown setting robust_zscore.treshold" in config.stderr
    junk = tmp_path / "junk.csv"
    junk.write_text("ts,v\nnope,1\nnever,x\n")
    empty = runner.invoke(cli, ["detect", "--csv", str(junk), "--time-col", "ts", "--value-col", "v"])
    assert empty.exit_code == 1 and "no usable rows" in empty.stderr
    off = runner.invoke(cli, ARGS + ["--json", "--config", '{"robust_zscore": {"enabled": false}}'])
    assert json.loads(off.stdout) == {"anomalies": []}
