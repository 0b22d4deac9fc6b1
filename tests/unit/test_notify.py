"""Delivery planning: grouping of criticals, hourly digests, dedup keys and coverage, recipients, backoff."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from domain.alerting.notify import (
    ALERT_COLUMNS, Delivery, covered, next_attempt_at, parse_recipients, plan_deliveries, recipients_for,
    users_by_role,
)

T0 = datetime(2026, 11, 2, 9, 20)
BASE = "https://ops.example.com"
PEOPLE = {"ops": ["ops@x.com"], "cs": ["cs1@x.com", "cs2@x.com"], "admin": ["boss@x.com"], "recruiter": ["rec@x.com"]}


def alert(id, rule="trigger.calls_14d", severity="critical", type="customer_risk", at=T0, status="active", **kw):
    row = dict(id=id, rule=rule, type=type, severity=severity, status=status, title=f"Alert {id}",
               message=f"why {id}", entity_id=f"e{id}", current_value=3.0, expected_value="< 2",
               investigation="Call the customer\nCheck the last sessions", link=f"/customers/e{id}", detected_at=at)
    row.update(kw)
    return row


def frame(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=ALERT_COLUMNS)


def stored(deliveries: list[Delivery]) -> pd.DataFrame:
    """What the job would write: the rows covered() reads back."""
    return pd.DataFrame([{"channel": d.channel, "kind": d.kind, "dedup_key": d.dedup_key,
                          "alert_ids": ",".join(map(str, d.alert_ids))} for d in deliveries],
                        columns=["channel", "kind", "dedup_key", "alert_ids"])


def test_new_criticals_of_one_rule_are_one_message_with_everything_a_reader_needs():
    alerts = frame(alert(1), alert(2), alert(3, rule="anomaly.robust_zscore", type="anomaly"))
    plans = plan_deliveries(alerts, PEOPLE, T0 + timedelta(minutes=1), set(), base_url=BASE)
    assert [(d.channel, d.kind, d.alert_ids) for d in plans] == [
        ("email", "immediate", (3,)), ("email", "immediate", (1, 2))]
    grouped = plans[1]
    assert grouped.recipients == ("boss@x.com", "cs1@x.com", "cs2@x.com")  # cs for customer_risk + admins for critical
    assert grouped.subject == "[CRITICAL] 2 alerts from trigger.calls_14d: Alert 1 and 1 more"
    for text in ("Alert 1", "Alert 2", "Current: 3 · Expected: < 2", "Why: why 1", "- Call the customer",
                 f"View: {BASE}/customers/e1", f"{BASE}/alerts?id=2"):
        assert text in grouped.body
    assert plans[0].recipients == ("boss@x.com", "ops@x.com")
    assert grouped.dedup_key.startswith("email:immediate:trigger.calls_14d:")


def test_criticals_raised_after_a_message_are_a_new_message_and_nothing_is_repeated():
    first = plan_deliveries(frame(alert(1), alert(2)), PEOPLE, T0, set())
    later = frame(alert(1), alert(2), alert(4, at=T0 + timedelta(minutes=15)))
    second = plan_deliveries(later, PEOPLE, T0 + timedelta(minutes=16), covered(stored(first)))
    assert [d.alert_ids for d in second] == [(4,)]
    # an alert raised in the same run but seen only now (written in a later batch) goes out alone
    same_run = frame(alert(1), alert(2), alert(5))
    third = plan_deliveries(same_run, PEOPLE, T0 + timedelta(minutes=16), covered(stored(first + second)))
    assert [d.alert_ids for d in third] == [(5,)]
    assert plan_deliveries(same_run, PEOPLE, T0, covered(stored(first + second + third))) == []


def test_dedup_keys_are_deterministic():
    a = plan_deliveries(frame(alert(2), alert(1)), PEOPLE, T0, set())
    b = plan_deliveries(frame(alert(1), alert(2)), PEOPLE, T0 + timedelta(minutes=5), set())
    assert [d.dedup_key for d in a] == [d.dedup_key for d in b]
    assert a[0].dedup_key in covered(stored(a))


def test_non_critical_alerts_wait_for_the_closed_hour_and_go_out_once_per_role_grouped_by_rule():
    alerts = frame(*(alert(i, severity="warning", at=datetime(2026, 11, 2, 9, 5 + i)) for i in range(1, 6)),
                   alert(6, rule="supply.shortage", type="supply_demand", severity="info", at=datetime(2026, 11, 2, 9, 30)),
                   alert(7, rule="anomaly.wow", type="anomaly", severity="warning", at=datetime(2026, 11, 2, 9, 40)),
                   alert(8, severity="warning", at=datetime(2026, 11, 2, 10, 5)))
    assert plan_deliveries(alerts, PEOPLE, datetime(2026, 11, 2, 9, 59), set()) == []  # hour not over yet
    at = datetime(2026, 11, 2, 10, 7)
    plans = plan_deliveries(alerts, PEOPLE, at, set(), base_url=BASE)
    by_role = {d.dedup_key: d for d in plans}
    assert set(by_role) == {"email:digest:cs:2026-11-02T09", "email:digest:ops:2026-11-02T09",
                            "email:digest:recruiter:2026-11-02T09"}
    cs = by_role["email:digest:cs:2026-11-02T09"]
    assert cs.kind == "digest" and cs.recipients == ("cs1@x.com", "cs2@x.com")
    assert cs.alert_ids == (1, 2, 3, 4, 5)  # alert 8 belongs to the next hour
    assert cs.subject == "Alert digest 2026-11-02 09:00–10:00 UTC (cs): 5 alerts from 1 rule"
    assert "== trigger.calls_14d (customer_risk): 5 alerts (5 warning)" in cs.body
    assert cs.body.count("  - [warning]") == 3 and "... and 2 more" in cs.body  # top items, not a flood
    assert by_role["email:digest:ops:2026-11-02T09"].alert_ids == (7,)
    # the same hour again: nothing; the next hour: only what is new
    again = plan_deliveries(alerts, PEOPLE, at + timedelta(minutes=30), covered(stored(plans)))
    assert again == []
    nxt = plan_deliveries(alerts, PEOPLE, datetime(2026, 11, 2, 11, 1), covered(stored(plans)))
    assert [(d.dedup_key, d.alert_ids) for d in nxt] == [("email:digest:cs:2026-11-02T10", (8,))]


def test_a_late_alert_of_a_closed_hour_goes_into_the_next_digest():
    early = frame(alert(1, severity="warning", at=datetime(2026, 11, 2, 8, 50)))
    first = plan_deliveries(early, PEOPLE, datetime(2026, 11, 2, 9, 1), set())
    # alert 2 was detected at 8:55 but committed after the 9:00 digest went out
    late = frame(alert(1, severity="warning", at=datetime(2026, 11, 2, 8, 50)),
                 alert(2, severity="warning", at=datetime(2026, 11, 2, 8, 55)))
    assert plan_deliveries(late, PEOPLE, datetime(2026, 11, 2, 9, 30), covered(stored(first))) == []
    nxt = plan_deliveries(late, PEOPLE, datetime(2026, 11, 2, 10, 0), covered(stored(first)))
    assert [d.alert_ids for d in nxt] == [(2,)]


def test_slack_gets_the_same_grouping_without_recipients():
    alerts = frame(alert(1), alert(2), alert(3, severity="warning", at=T0 - timedelta(hours=1)))
    plans = plan_deliveries(alerts, {}, T0, set(), email=False, slack=True)
    assert [(d.channel, d.kind, d.alert_ids, d.recipients) for d in plans] == [
        ("slack", "immediate", (1, 2), ()), ("slack", "digest", (3,), ())]
    assert plans[1].dedup_key == "slack:digest:all:2026-11-02T08"


def test_only_active_alerts_are_announced_and_silences_hold_them_back():
    alerts = frame(alert(1, status="acknowledged"), alert(2, status="resolved"), alert(3),
                   alert(4, at=T0 + timedelta(hours=1)))
    assert [d.alert_ids for d in plan_deliveries(alerts, PEOPLE, T0, set())] == [(3,)]
    silence = {"rule": "trigger", "metric": None, "starts_at": T0 - timedelta(hours=1), "ends_at": T0 + timedelta(hours=1)}
    assert plan_deliveries(alerts, PEOPLE, T0, set(), silences=[silence]) == []


def test_no_recipients_means_no_email():
    assert plan_deliveries(frame(alert(1)), {"ops": ["o@x.com"]}, T0, set()) == []


def test_many_criticals_are_listed_up_to_a_limit():
    plans = plan_deliveries(frame(*(alert(i) for i in range(1, 31))), PEOPLE, T0, set(), max_items=10, base_url=BASE)
    assert len(plans) == 1 and len(plans[0].alert_ids) == 30
    assert "... and 20 more" in plans[0].body and "Alert 11\n" not in plans[0].body


def test_recipients_are_parsed_merged_with_users_and_routed():
    parsed = parse_recipients(" ops:A@x.com, b@x.com ; cs:c@x.com;;ops:a@x.com")
    assert parsed == {"cs": ["c@x.com"], "ops": ["a@x.com", "b@x.com"]}
    assert parse_recipients("") == {}
    with pytest.raises(ValueError, match="role:email"):
        parse_recipients("a@x.com")
    with pytest.raises(ValueError, match="not an email"):
        parse_recipients("ops:not-an-email")
    users = pd.DataFrame({"email": ["u1@x.com", "u2@x.com", "gone@x.com"], "role": ["cs", "admin", "cs"],
                          "active": [True, True, False]})
    assert users_by_role(users) == {"admin": ["u2@x.com"], "cs": ["u1@x.com"]}
    assert recipients_for(["anomaly"], "warning", PEOPLE) == ("ops@x.com",)
    assert recipients_for(["anomaly"], "critical", PEOPLE) == ("boss@x.com", "ops@x.com")
    assert recipients_for(["supply_demand"], "info", PEOPLE, routes={"supply_demand": ["recruiter", "ops"]}) == (
        "ops@x.com", "rec@x.com")


def test_backoff_doubles_then_gives_up():
    waits = [next_attempt_at(n, T0, base_s=60, max_attempts=6) for n in range(1, 7)]
    assert [(w - T0).total_seconds() / 60 for w in waits[:5]] == [1, 2, 4, 8, 16]
    assert waits[5] is None
