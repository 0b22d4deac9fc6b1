"""Alerts in the store: raise/refresh/auto-resolve a rule's alerts, and user actions with their history."""
from __future__ import annotations

import json
from datetime import datetime
from typing import NamedTuple

import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from models.bulk import staged
from models.derived import Alert, AlertDelivery, AlertEvent, Silence
from domain.alerting.lifecycle import OPEN_STATES, TRANSITIONS, AlertSpec, TransitionError, is_silenced, next_state
from infra.clock import utcnow
from infra.versions import bump_version


def _silences(conn, at: datetime) -> list[dict]:
    rows = conn.execute(select(Silence.rule, Silence.metric, Silence.starts_at, Silence.ends_at)
                        .where(Silence.ends_at > at)).all()
    return [dict(r._mapping) for r in rows]


def sync_alerts(engine: Engine, rule: str, specs: list[AlertSpec], at: datetime | None = None,
                resolve_missing: bool = True, rule_prefix: bool = False) -> dict[str, int]:
    """Make the open alerts of `rule` match the conditions that hold now.

    New keys raise an alert (unless silenced); keys already open are refreshed (last_seen, values);
    open alerts whose key is no longer present resolve themselves when their auto_resolve is set.
    Snoozed alerts whose time has passed become active again. With rule_prefix, `rule` matches
    every rule starting with it (one job raising several rules).

    Rows are written in batches (multi-row INSERT ... RETURNING, one UPDATE ... FROM a staged copy
    for the refreshes), so tens of thousands of per-customer alerts take a second, not minutes.
    """
    at = at or utcnow()
    counts = {"raised": 0, "refreshed": 0, "resolved": 0, "silenced": 0, "woken": 0}
    by_key = {s.dedup_key: s for s in specs}
    rule_match = Alert.rule.startswith(rule) if rule_prefix else Alert.rule == rule
    with engine.begin() as conn:
        silences = _silences(conn, at)
        open_by_key = _open_alerts(conn, rule_match)
        new_rows, refresh, events = [], [], []
        for key, spec in by_key.items():
            row = open_by_key.get(key)
            if row is None:
                if is_silenced(spec.rule, spec.entity_id, at, silences):
                    counts["silenced"] += 1
                    continue
                new_rows.append({**_values(spec), "status": "active", "detected_at": at, "updated_at": at,
                                 "last_seen_at": at})
                continue
            values = {**_values(spec), "last_seen_at": at}
            if row.status == "snoozed" and row.snoozed_until is not None and row.snoozed_until <= at:
                conn.execute(update(Alert).where(Alert.id == row.id).values(
                    **values, status="active", snoozed_until=None, updated_at=at))
                events.append(_event_row(row.id, at, None, "snoozed", "active", "snooze ended; condition still holds"))
                counts["woken"] += 1
            else:
                refresh.append({"id": row.id, **values})
            counts["refreshed"] += 1
        if new_rows:
            for start in range(0, len(new_rows), BATCH):
                ids = conn.execute(insert(Alert).returning(Alert.id, Alert.rule), new_rows[start:start + BATCH]).all()
                events += [_event_row(alert_id, at, None, None, "active", "raised by " + spec_rule)
                           for alert_id, spec_rule in ids]
            counts["raised"] = len(new_rows)
        _refresh(conn, refresh)
        if resolve_missing:
            gone = [row for key, row in open_by_key.items() if key not in by_key and row.auto_resolve]
            for start in range(0, len(gone), BATCH):
                chunk = gone[start:start + BATCH]
                conn.execute(update(Alert).where(Alert.id.in_([r.id for r in chunk]))
                             .values(status="resolved", updated_at=at))
                events += [_event_row(r.id, at, None, r.status, "resolved", "condition cleared") for r in chunk]
            counts["resolved"] = len(gone)
        for start in range(0, len(events), BATCH):
            conn.execute(insert(AlertEvent), events[start:start + BATCH])
        if counts["raised"] or counts["resolved"] or counts["woken"]:
            bump_version(conn, "alerts")
    return counts


BATCH = 5000


class _Open(NamedTuple):
    id: int
    dedup_key: str
    status: str
    auto_resolve: bool
    snoozed_until: datetime | None


def _open_alerts(conn, rule_match) -> dict[str, _Open]:
    """dedup_key -> the open alert, read as the driver's plain tuples (tens of thousands of rows);
    snoozed_until, a datetime only snoozed alerts have, is read typed for those few."""
    result = conn.execute(select(Alert.id, Alert.dedup_key, Alert.status, Alert.auto_resolve)
                          .where(rule_match, Alert.status.in_(OPEN_STATES)))
    rows = result.cursor.fetchall()
    result.close()
    snoozed = dict(conn.execute(select(Alert.id, Alert.snoozed_until)
                                .where(rule_match, Alert.status == "snoozed")).all()) \
        if any(r[2] == "snoozed" for r in rows) else {}
    return {key: _Open(id_, key, status, bool(auto), snoozed.get(id_)) for id_, key, status, auto in rows}
_REFRESHED = ("dedup_key", "rule", "type", "severity", "title", "message", "entity_id", "current_value",
              "expected_value", "investigation", "link", "auto_resolve", "details", "last_seen_at")


def _refresh(conn, rows: list[dict]) -> None:
    """Update the open alerts in `rows` ({id, *_REFRESHED}): few one by one, many via a staged UPDATE ... FROM."""
    if len(rows) <= 50:
        for r in rows:
            conn.execute(update(Alert).where(Alert.id == r["id"]).values(**{c: r[c] for c in _REFRESHED}))
        return
    table = Alert.__table__
    frame = pd.DataFrame.from_records(rows, columns=["id", *_REFRESHED])
    with staged(conn, table, list(frame.columns), frame) as stage:
        conn.execute(update(table).where(table.c.id == stage.c.id).values({c: stage.c[c] for c in _REFRESHED}))


def _event_row(alert_id: int, at: datetime, user: str | None, old: str | None, new: str, comment: str | None) -> dict:
    return {"alert_id": alert_id, "at": at, "user_email": user, "from_status": old, "to_status": new, "comment": comment}


def _values(spec: AlertSpec) -> dict:
    return dict(dedup_key=spec.dedup_key, rule=spec.rule, type=spec.type, severity=spec.severity,
                title=spec.title[:255], message=spec.message, entity_id=spec.entity_id,
                current_value=None if spec.current_value is None else float(spec.current_value),
                expected_value=spec.expected_value, investigation="\n".join(spec.investigation) or None,
                link=spec.link, auto_resolve=spec.auto_resolve, details=json.dumps(spec.details, default=str))


def _event(conn, alert_id: int, at: datetime, user: str | None, old: str | None, new: str, comment: str | None) -> None:
    conn.execute(insert(AlertEvent).values(alert_id=alert_id, at=at, user_email=user, from_status=old,
                                           to_status=new, comment=comment))


def act(engine: Engine, alert_id: int, action: str, user_email: str | None, comment: str | None = None,
        until: datetime | None = None, at: datetime | None = None) -> str:
    """A user's action on an alert (acknowledge, resolve, snooze, dismiss, reopen); returns the new state."""
    at = at or utcnow()
    if action == "snooze" and (until is None or until <= at):
        raise TransitionError("Snooze needs a time in the future.")
    with engine.begin() as conn:
        row = conn.execute(select(Alert.status).where(Alert.id == alert_id)).first()
        if row is None:
            raise LookupError(f"No alert {alert_id}.")
        new = next_state(row.status, action)
        conn.execute(update(Alert).where(Alert.id == alert_id).values(
            status=new, updated_at=at, snoozed_until=until if action == "snooze" else None))
        _event(conn, alert_id, at, user_email, row.status, new, (comment or "").strip()[:2000] or None)
        bump_version(conn, "alerts")
    return new


BULK_MAX = 5000


def act_many(engine: Engine, alert_ids: list[int], action: str, user_email: str | None, comment: str | None = None,
             until: datetime | None = None, at: datetime | None = None) -> dict:
    """One action with one comment on many alerts (triage): in one transaction, each alert's own event.
    Alerts whose state does not allow the action are skipped and counted. Returns {"done": [ids],
    "skipped": n, "status": the new state}."""
    at = at or utcnow()
    ids = sorted({int(i) for i in alert_ids})
    if not ids:
        raise TransitionError("Select alerts first.")
    if len(ids) > BULK_MAX:
        raise TransitionError(f"At most {BULK_MAX:,} alerts at once; narrow the filters.")
    if action == "snooze" and (until is None or until <= at):
        raise TransitionError("Snooze needs a time in the future.")
    if action not in TRANSITIONS:
        raise TransitionError(f"Unknown action {action!r}; use one of {', '.join(TRANSITIONS)}.")
    note = (comment or "").strip()[:2000] or None
    done: list[int] = []
    with engine.begin() as conn:
        rows = []
        for start in range(0, len(ids), 900):
            rows += conn.execute(select(Alert.id, Alert.status).where(Alert.id.in_(ids[start:start + 900]))).all()
        target = None
        events = []
        by_state: dict[str, list[int]] = {}
        for alert_id, status in rows:
            try:
                target = next_state(status, action)
            except TransitionError:
                continue
            by_state.setdefault(status, []).append(alert_id)
            events.append(_event_row(alert_id, at, user_email, status, target, note))
        for status, chunk_ids in by_state.items():
            for start in range(0, len(chunk_ids), 900):
                conn.execute(update(Alert).where(Alert.id.in_(chunk_ids[start:start + 900]), Alert.status == status)
                             .values(status=target, updated_at=at, snoozed_until=until if action == "snooze" else None))
            done += chunk_ids
        for start in range(0, len(events), BATCH):
            conn.execute(insert(AlertEvent), events[start:start + BATCH])
        if done:
            bump_version(conn, "alerts")
    return {"done": sorted(done), "skipped": len(ids) - len(done), "status": target or TRANSITIONS_TARGET[action]}


TRANSITIONS_TARGET = {action: target for action, (_, target) in TRANSITIONS.items()}


def resend(engine: Engine, delivery_id: int, at: datetime | None = None) -> None:
    """An operator's "send again" for a failed delivery: due now, with a fresh retry budget."""
    at = at or utcnow()
    with engine.begin() as conn:
        done = conn.execute(update(AlertDelivery).where(AlertDelivery.id == delivery_id,
                                                        AlertDelivery.status == "failed").values(
            status="pending", attempts=0, next_attempt_at=at)).rowcount
    if not done:
        raise ValueError(f"Delivery {delivery_id} is not a failed delivery.")
