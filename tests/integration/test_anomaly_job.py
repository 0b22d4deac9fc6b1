"""The five-minute anomaly job on a store loaded with the synthetic marketplace: a planted anomaly of
the last two days is flagged by the first run that has the data showing it, raises exactly one alert
that names the method and the numbers, is not raised twice on reruns, resolves once the stream is back
to normal; clean streams raise nothing; the events land in `anomalies` once per (metric, method, start)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select

from models.base import get_engine
from models.derived import Alert, Anomaly
from domain.anomaly import config_for, detect_series
from domain.anomaly.events import fmt
from jobs.anomaly import RESOLVE_AFTER, RULE, rules_in_force
from jobs.runner import run_job
from tests.support.store import load_frames

END = datetime(2026, 5, 20, 12, 0)
METRIC = "search_to_book_conversion"  # hourly; the generator plants a 4-hour drop in the last 2 days

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def marketplace():
    from sources.simulation import generate
    return generate(customers=1500, days=60, seed=7, end=END)


def alerts(engine, **where) -> list:
    conds = [Alert.rule == RULE] + [getattr(Alert, k) == v for k, v in where.items()]
    with engine.connect() as conn:
        return conn.execute(select(Alert).where(*conds).order_by(Alert.id)).all()


def first_flag(settings, mp) -> tuple[dict, pd.Timestamp]:
    """The planted incident, and the first point the detector (with the rules in force) flags in it."""
    inc = next(i for i in mp.incidents if i["kind"] == "metric_anomaly" and i["metric"] == METRIC)
    pts = mp.frames["metric_points"]
    part = pts[pts["metric"] == METRIC]
    series = pd.Series(part["value"].to_numpy(float), index=pd.DatetimeIndex(pd.to_datetime(part["ts"])))
    config = config_for(METRIC, rules_in_force(get_engine(settings.db_url)))
    events = [e for e in detect_series(series, config, metric=METRIC)
              if pd.Timestamp(e.end) >= pd.Timestamp(inc["start"]) and pd.Timestamp(e.start) < pd.Timestamp(inc["end"])]
    assert events, "the detector must find the planted drop"
    return inc, min(pd.Timestamp(e.start) for e in events)


def test_planted_anomaly_flagged_within_one_run_one_alert_no_duplicates_then_resolved(settings, marketplace):
    mp = marketplace
    load_frames(settings, mp.frames)
    engine = get_engine(settings.db_url)
    inc, flag = first_flag(settings, mp)
    assert pd.Timestamp(inc["start"]) <= flag < pd.Timestamp(inc["end"])

    # the run five minutes before the data arrives says nothing about this metric ...
    run_job("detect", settings, at=(flag - timedelta(minutes=5)).to_pydatetime())
    assert alerts(engine, entity_id=METRIC) == []
    # ... the first run that holds the point flags it (within 5 minutes of the data that shows it)
    summary = run_job("detect", settings, at=flag.to_pydatetime())
    raised = alerts(engine, entity_id=METRIC)
    assert len(raised) == 1
    alert = raised[0]
    assert alert.status == "active" and alert.type == "anomaly" and alert.detected_at == flag.to_pydatetime()
    assert alert.dedup_key == f"anomaly:{METRIC}:{flag.isoformat()}"
    assert "robust_zscore" in alert.message and "robust sigmas below the expected" in alert.message
    assert fmt(alert.current_value) in alert.message and alert.expected_value in alert.message
    assert alert.link == f"/alerts?metric={METRIC}" and "Check deploys" in alert.investigation
    assert "anomal" in summary["summary"] and summary["streams"] >= 50

    # later runs while the drop lasts refresh the same alert; a rerun at the same time changes nothing
    for minutes in (5, 60, 65, 120, 180):
        run_job("detect", settings, at=(flag + timedelta(minutes=minutes)).to_pydatetime())
    again = run_job("detect", settings, at=(flag + timedelta(minutes=180)).to_pydatetime())
    assert again["alerts"]["raised"] == 0
    assert len(alerts(engine, entity_id=METRIC)) == 1
    with engine.connect() as conn:
        dup = conn.execute(select(Anomaly.metric, Anomaly.method, Anomaly.start_ts, func.count())
                           .group_by(Anomaly.metric, Anomaly.method, Anomaly.start_ts).having(func.count() > 1)).all()
        stored = conn.execute(select(Anomaly.method, Anomaly.detected_at).where(Anomaly.metric == METRIC)).all()
    assert dup == []
    assert ("robust_zscore", flag.to_pydatetime()) in [tuple(r) for r in stored]

    # back to normal for RESOLVE_AFTER: the alert resolves itself, and nothing is raised again
    done = pd.Timestamp(inc["end"]) + RESOLVE_AFTER + timedelta(hours=2)
    run_job("detect", settings, at=done.to_pydatetime())
    final = alerts(engine, entity_id=METRIC)
    assert len(final) == 1 and final[0].status == "resolved"

    # the clean streams raised nothing over all these runs
    clean = set(mp.clean_metrics)
    assert [a.entity_id for a in alerts(engine) if a.entity_id in clean] == []


def test_a_stored_rule_is_what_fires(settings, marketplace):
    """A metric_rules row turning the method off silences the metric: the job runs the rules in force."""
    import json

    from models.derived import MetricRule
    mp = marketplace
    load_frames(settings, mp.frames)
    engine = get_engine(settings.db_url)
    _, flag = first_flag(settings, mp)
    with engine.begin() as conn:
        conn.execute(MetricRule.__table__.insert().values(
            metric=METRIC, settings=json.dumps({"robust_zscore": {"enabled": False}, "week_over_week": {"enabled": False},
                                                "consecutive_drops": {"enabled": False}}),
            updated_at=END, updated_by="test"))
    run_job("detect", settings, at=flag.to_pydatetime())
    assert alerts(engine, entity_id=METRIC) == []
