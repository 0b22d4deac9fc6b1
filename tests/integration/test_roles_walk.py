"""Every registered callback and every API route, walked with every role: an action outside the role's
permission (auth/permissions.py) is refused on the server, and every allowed one goes through.

The witness is the audit log, where every user action lands: after a role's forged clicks on every button of
every callback, no audit entry may name an action the role is not allowed; and for each action at least one
allowed role's click did write it, so the walk reaches the writes (it cannot pass by clicking nothing).
"""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from app import create_app
from auth import accounts
from auth.permissions import ALL_ROLES, PERMISSIONS, can
from domain.alerting.lifecycle import AlertSpec
from infra.clock import utcnow
from models.base import get_engine
from models.derived import Alert, AlertDelivery, Recommendation, Silence
from models.ops import ApiToken, AuditLog
from tests.factories import customer, customers_df
from tests.support.store import load_frames
from writes.alerts import sync_alerts

PASSWORD = "long-enough-pw"
# audit action (prefix) -> the permission it needs; an audit action missing here fails the test: list it
AUDIT_PERMISSION = {
    "alert.": "alert.act", "alert_delivery.resend": "alert.resend", "silence.": "rules.edit",
    "metric_rule.": "rules.edit", "customer.contact": "contact.log", "recommendation.": "recommendation.decide",
    "customers.export": "customers.export", "user.": "users.manage", "token.": "users.manage",
    "churn.retrain": "churn.retrain", "forecast.retrain": "forecast.retrain",
}
EXPECTED_WRITES = {"alert.act", "alert.resend", "rules.edit", "contact.log", "recommendation.decide",
                   "customers.export", "users.manage", "churn.retrain", "forecast.retrain"}


def permission_of(action: str) -> str:
    if action in PERMISSIONS:  # jobs started through workers/door.py are audit-logged under their permission
        return action
    for prefix, permission in AUDIT_PERMISSION.items():
        if action == prefix or (prefix.endswith(".") and action.startswith(prefix)):
            return permission
    raise AssertionError(f"audit action {action!r} has no permission in AUDIT_PERMISSION: list it")


def seed(settings) -> dict:
    engine = get_engine(settings.db_url)
    now = utcnow().replace(microsecond=0)
    for role in ALL_ROLES:
        accounts.create_user(engine, f"{role}@example.com", role, PASSWORD)
    accounts.create_user(engine, "target@example.com", "cs", PASSWORD)
    accounts.create_token(engine, "target@example.com")
    load_frames(settings, {"customers": customers_df(customer("c1"))})
    sync_alerts(engine, "trigger.calls_14d", [AlertSpec(
        rule="trigger.calls_14d", type="customer_risk", severity="critical", title="c1 needs a call", message="3 calls",
        dedup_key="trigger.calls_14d:c1", entity_id="c1", current_value=3, expected_value="< 2",
        investigation=["Read the call notes"], link="/customers/c1", details={"calls": 3})], at=now - timedelta(hours=1))
    with engine.begin() as conn:
        delivery = conn.execute(insert(AlertDelivery).values(
            dedup_key="d1", channel="email", kind="immediate", recipients="ops@example.com", subject="s", body="b",
            alert_ids="1", status="failed", attempts=6, created_at=now)).inserted_primary_key[0]
        rec = conn.execute(insert(Recommendation).values(
            dedup_key="r1", rule="shortage", subject="math", action="Raise the math budget", reason="short",
            expected_impact="+3 sessions", roi=2.0, priority=1, status="pending", created_at=now,
            expires_at=now + timedelta(days=3))).inserted_primary_key[0]
        silence = conn.execute(insert(Silence).values(
            rule="anomaly", metric=None, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=5),
            reason="maintenance", created_by="ops@example.com")).inserted_primary_key[0]
        token_id = conn.execute(select(ApiToken.id)).scalar()
        alert_id = conn.execute(select(Alert.id)).scalar()
    return {"alert": alert_id, "delivery": delivery, "rec": rec, "silence": silence, "token": token_id}


def values_for(ids: dict) -> dict:
    """What a page would hold in each component when the user clicks (states and non-click inputs)."""
    return {
        ("alerts-selected", "data"): ids["alert"], ("alerts-snooze-for", "value"): "60",
        ("alerts-comment", "value"): "checked", ("alerts-changed", "data"): 0,
        ("alerts-deliveries", "selectedRows"): [{"id": ids["delivery"]}],
        ("alerts-silence-rule", "value"): "trigger", ("alerts-silence-hours", "value"): 4,
        ("alerts-silence-reason", "value"): "maintenance", ("alerts-silences", "selectedRows"): [{"id": ids["silence"]}],
        ("alerts-rule-metric", "value"): "sessions.booked",
        ("customer-id", "data"): "c1", ("customer-contact-channel", "value"): "phone",
        ("customer-contact-outcome", "value"): "reached", ("customer-contact-saved", "data"): 0,
        ("customer-contact-follow-up", "value"): (utcnow() + timedelta(days=3)).strftime("%Y-%m-%d"),
        ("recs-changed", "data"): 0,
        ("admin-users", "selectedRows"): [{"email": "target@example.com"}], ("admin-new-role", "value"): "ops",
        ("admin-tokens", "selectedRows"): [{"id": ids["token"]}], ("admin-email", "value"): "new@example.com",
        ("admin-role", "value"): "cs", ("admin-password", "value"): "another-long-pw",
        ("customers-grid", "getRowsRequest"): {"startRow": 0, "endRow": 100},
    }


def pattern_values(item: dict, ids: dict) -> list[dict]:
    """Values of a pattern-matching (ALL) input or state, as the page would send them."""
    kind = json.loads(item["id"])["type"]
    if kind in ("recs-implement", "recs-dismiss", "recs-reason"):
        value = 1 if item["property"] == "n_clicks" else ("because" if item["property"] == "value" else None)
        the_id = {"type": kind, "index": ids["rec"]}
        return [{"id": the_id, "property": item["property"],
                 "value": the_id if item["property"] == "id" else value}]
    if kind == "alerts-rule-field":
        return [{"id": {"type": kind, "section": "robust_zscore", "key": "threshold"}, "property": "value", "value": 6}]
    return []


def entry(item: dict, values: dict, ids: dict, clicked: bool):
    if item["id"].startswith("{"):
        return pattern_values(item, ids)
    if item["property"] == "n_clicks":
        value = 1 if clicked else None
    else:
        value = values.get((item["id"], item["property"]))
    return {"id": item["id"], "property": item["property"], "value": value}


def changed_id(item: dict, ids: dict) -> str:
    if item["id"].startswith("{"):
        return json.dumps(pattern_values(item, ids)[0]["id"], separators=(",", ":"), sort_keys=True) + "." + item["property"]
    return f"{item['id']}.{item['property']}"


def outputs_of(output: str) -> list | dict:
    """The `outputs` of a callback request: {id, property} per output (a pattern output matches nothing here)."""
    multi = output.startswith("..")
    outs = []
    for part in (output[2:-2].split("...") if multi else [output]):
        cid, _, prop = part.rpartition(".")
        outs.append([] if cid.startswith("{") else {"id": cid, "property": prop.split("@")[0]})
    return outs if multi else outs[0]


def fire_everything(client, app, ids: dict, role: str | None = None) -> int:
    """Fire every callback once per input (each n_clicks input as the click), with the page's values; with
    `role`, a callback of a page the role may not open must answer 403 whatever it is asked."""
    from app import callback_pages
    from auth.permissions import can_see
    values, fired, pages = values_for(ids), 0, callback_pages()
    for output, spec in list(app.callback_map.items()):
        inputs, states = spec.get("inputs", []), spec.get("state", [])
        clickers = [i for i in inputs if i["property"] == "n_clicks"] or inputs[:1]
        for trigger in clickers:
            if trigger["id"].startswith("{") and not pattern_values(trigger, ids):
                continue  # a pattern no seeded component matches: nothing to click
            payload = {"output": output, "outputs": outputs_of(output),
                       "inputs": [entry(i, values, ids, i is trigger) for i in inputs],
                       "state": [entry(s, values, ids, False) for s in states],
                       "changedPropIds": [changed_id(trigger, ids)]}
            response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
            assert response.status_code < 500, (output, trigger["id"], response.status_code, response.get_data()[:300])
            if role and output in pages and not can_see(role, pages[output]):
                assert response.status_code == 403, (role, pages[output], output, response.status_code)
            fired += 1
    return fired


def sign_in(client, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 302


@pytest.fixture
def world(settings):
    ids = seed(settings)
    return settings, ids, create_app(settings)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_callback_refuses_actions_outside_the_role_on_the_server(world, role):
    settings, ids, app = world
    engine = get_engine(settings.db_url)
    client = app.server.test_client()
    sign_in(client, f"{role}@example.com")
    with engine.connect() as conn:
        before = conn.execute(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)).scalar() or 0
    assert fire_everything(client, app, ids, role) >= 40
    with engine.connect() as conn:
        done = [a for a in conn.execute(select(AuditLog.action).where(AuditLog.id > before,
                                                                      AuditLog.user_email == f"{role}@example.com"))
                .scalars() if not a.startswith(("login", "logout"))]
    permissions_used = {permission_of(a) for a in done}
    refused_but_done = {p for p in permissions_used if not can(role, p)}
    assert not refused_but_done, f"{role} did {sorted(refused_but_done)} through forged callbacks"
    allowed = {p for p in EXPECTED_WRITES if can(role, p)}
    assert allowed <= permissions_used, f"{role}'s clicks never reached {sorted(allowed - permissions_used)}"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_api_route_refuses_actions_outside_the_role(world, role):
    settings, ids, app = world
    token = accounts.create_token(get_engine(settings.db_url), f"{role}@example.com")
    client = app.server.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    # what each state-changing route needs; a POST route missing here fails the test: list it
    needs = {"alert": "alert.act", "recommendation": "recommendation.decide"}
    walked = 0
    for rule in app.server.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<[^>]*alert_id>", str(ids["alert"]), rule.rule)
        path = re.sub(r"<[^>]*rec_id>", str(ids["rec"]), path)
        path = re.sub(r"<[^>]+>", "c1", path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, headers=headers, json={} if method == "POST" else None,
                                    query_string={"by": "tutor", "subject": "math"} if method == "GET" else None)
            walked += 1
            assert response.status_code < 500, (method, path, response.status_code)
            if method == "GET":
                assert response.status_code in (200, 400, 404), (method, path, response.status_code)
                continue
            kind = next((k for k in needs if f"/{k}s/" in path), None)
            assert kind, f"POST {rule.rule} has no permission in the test's table: list it"
            if can(role, needs[kind]):
                assert response.status_code != 403, (role, path, response.get_json())
            else:
                assert response.status_code == 403, (role, path, response.status_code)
    assert walked >= 15
