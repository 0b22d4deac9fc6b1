"""Alert lifecycle in the store: dedup, refresh, auto-resolve, actions with history, silences."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select

from models.base import get_engine
from models.derived import Alert, Silence
from read.alerts import history
from writes.alerts import act, sync_alerts
from domain.alerting.lifecycle import AlertSpec, TransitionError

T0 = datetime(2026, 11, 2, 9, 0)


def spec(key: str, rule: str = "trigger.calls_14d", **kw) -> AlertSpec:
    return AlertSpec(rule=rule, type="customer_risk", severity=kw.pop("severity", "critical"),
                     title=f"Customer {key}: 2+ calls", message="2 calls in 14 days", dedup_key=f"{rule}:{key}",
                     entity_id=key, current_value=2, expected_value="< 2", **kw)


def alerts(engine):
    with engine.connect() as conn:
        return {r.dedup_key: r for r in conn.execute(select(Alert)).all()}


def test_same_condition_raises_one_alert_and_clears_itself(any_settings):
    engine = get_engine(any_settings.db_url)
    assert sync_alerts(engine, "trigger.calls_14d", [spec("c1"), spec("c2")], at=T0)["raised"] == 2
    again = sync_alerts(engine, "trigger.calls_14d", [spec("c1"), spec("c2")], at=T0 + timedelta(minutes=15))
    assert again["raised"] == 0 and again["refreshed"] == 2
    cleared = sync_alerts(engine, "trigger.calls_14d", [spec("c1")], at=T0 + timedelta(minutes=30))
    assert cleared["resolved"] == 1
    state = alerts(engine)
    assert len(state) == 2
    assert state["trigger.calls_14d:c2"].status == "resolved"
    assert state["trigger.calls_14d:c1"].status == "active"
    # a condition that returns after resolution is a new alert
    sync_alerts(engine, "trigger.calls_14d", [spec("c1"), spec("c2")], at=T0 + timedelta(hours=1))
    with engine.connect() as conn:
        assert conn.execute(select(Alert).where(Alert.entity_id == "c2")).all().__len__() == 2


def test_actions_follow_the_lifecycle_and_keep_history(any_settings):
    engine = get_engine(any_settings.db_url)
    sync_alerts(engine, "trigger.calls_14d", [spec("c1")], at=T0)
    alert_id = alerts(engine)["trigger.calls_14d:c1"].id
    assert act(engine, alert_id, "acknowledge", "cs@example.com", "calling now", at=T0 + timedelta(minutes=1)) == "acknowledged"
    with pytest.raises(TransitionError, match="Cannot acknowledge"):
        act(engine, alert_id, "acknowledge", "cs@example.com")
    with pytest.raises(TransitionError, match="future"):
        act(engine, alert_id, "snooze", "cs@example.com", until=T0 - timedelta(hours=1), at=T0)
    act(engine, alert_id, "snooze", "cs@example.com", until=T0 + timedelta(hours=2), at=T0 + timedelta(minutes=2))
    # still holding after the snooze ends: the alert wakes up
    woke = sync_alerts(engine, "trigger.calls_14d", [spec("c1")], at=T0 + timedelta(hours=3))
    assert woke["woken"] == 1 and alerts(engine)["trigger.calls_14d:c1"].status == "active"
    act(engine, alert_id, "resolve", "cs@example.com", "customer happy", at=T0 + timedelta(hours=4))
    steps = [(h["from_status"], h["to_status"], h["user_email"]) for h in history(engine, alert_id)]
    assert steps == [(None, "active", None), ("active", "acknowledged", "cs@example.com"),
                     ("acknowledged", "snoozed", "cs@example.com"), ("snoozed", "active", None),
                     ("active", "resolved", "cs@example.com")]
    assert history(engine, alert_id)[1]["comment"] == "calling now"


def test_acknowledged_alert_is_not_raised_again_and_manual_ones_do_not_auto_resolve(any_settings):
    engine = get_engine(any_settings.db_url)
    sync_alerts(engine, "trigger.calls_14d", [spec("c1", auto_resolve=False)], at=T0)
    alert_id = alerts(engine)["trigger.calls_14d:c1"].id
    act(engine, alert_id, "acknowledge", "cs@example.com")
    assert sync_alerts(engine, "trigger.calls_14d", [spec("c1", auto_resolve=False)], at=T0)["raised"] == 0
    assert sync_alerts(engine, "trigger.calls_14d", [], at=T0)["resolved"] == 0


def test_silence_window_holds_back_new_alerts(any_settings):
    engine = get_engine(any_settings.db_url)
    with engine.begin() as conn:
        conn.execute(insert(Silence).values(rule="trigger", metric=None, starts_at=T0 - timedelta(hours=1),
                                            ends_at=T0 + timedelta(hours=1), reason="maintenance", created_by="ops"))
    assert sync_alerts(engine, "trigger.calls_14d", [spec("c1")], at=T0)["silenced"] == 1
    assert sync_alerts(engine, "trigger.calls_14d", [spec("c1")], at=T0 + timedelta(hours=2))["raised"] == 1


def test_bad_specs_are_refused():
    with pytest.raises(ValueError, match="severity"):
        spec("c1", severity="urgent")


def test_banner_counts_keep_customer_triggers_apart(any_settings):
    """Customer risk is the CS worklist's (its open tasks), never the banner's, whatever its severity."""
    from read.status import open_alert_counts
    engine = get_engine(any_settings.db_url)
    sync_alerts(engine, "trigger.calls_14d", [spec("c1")], at=T0)                       # critical, but a worklist
    sync_alerts(engine, "trigger.inactive_21d", [spec(c, rule="trigger.inactive_21d", severity="warning")
                                                 for c in ("c2", "c3")], at=T0)
    sync_alerts(engine, "anomaly.robust_zscore", [AlertSpec(rule="anomaly.robust_zscore", type="anomaly",
                                                            severity="critical", title="bookings fell", message="m",
                                                            dedup_key="a:bookings")], at=T0)
    sync_alerts(engine, "supply.shortage", [AlertSpec(rule="supply.shortage", type="supply_demand", severity="warning",
                                                      title="math short", message="m", dedup_key="s:math")], at=T0)
    assert open_alert_counts(engine) == {"critical": 1, "warning": 1, "customer_triggers": 0}
