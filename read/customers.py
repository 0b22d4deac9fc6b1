"""Read side of the customers page, the customer detail page and the customers API (no Dash, no Flask).

`customer_page` serves AG Grid's infinite row model: the grid's sortModel and filterModel are
translated into SQLAlchemy Core ORDER BY / WHERE on health_scores (whitelisted columns, bound
parameters, never SQL built from strings) plus LIMIT/OFFSET, so 50,000 customers never travel to the
browser. `export_filtered` writes the whole filtered set as CSV. `customer_detail` gathers one
customer (an agent's outreach is written by writes/contacts.py).
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.engine import Engine

from models.derived import Alert, ContactLog, HealthScore, HealthScoreHistory
from models.source import Customer, InboundCall, TutorSession
from domain.alerting.lifecycle import OPEN_STATES
from read.cache import cached_read
from domain.customers.health_config import COMPONENT_LABELS, COMPONENTS, TIERS, HealthConfig, parse_health_config
from domain.customers.triggers import TRIGGERS

T = HealthScore.__table__
GRID_COLUMNS = [
    "customer_id", "score", "tier", "priority", "triggers", "intervention", "segment", "acquisition_channel",
    "region", "primary_subject", "primary_tutor_id", "velocity", "calls_14d", "last_session_at",
    "first_session_score", "velocity_score", "calls_score", "goal_score", "tutor_consistency_score",
    "churn_probability", "computed_at",
]
TEXT = {"customer_id", "tier", "triggers", "intervention", "segment", "acquisition_channel", "region",
        "primary_subject", "primary_tutor_id"}
DATES = {"last_session_at", "computed_at"}
NUMBERS = set(GRID_COLUMNS) - TEXT - DATES
QUICK_KEYS = ("tier", "segment", "acquisition_channel", "region", "primary_subject", "primary_tutor_id")
EXPORT_MAX = 1_000_000


class QueryError(ValueError):
    """A sort, filter or paging request that cannot be served, with a message for the user."""


@dataclass
class QuickFilters:
    """The page's dropdowns and the API's filters. Lists mean "any of"; None/empty means no filter.

    attention: the "needs attention now" view, priority <= 2 or tier critical, sorted by priority
    then score. trigger: customers for whom that contract trigger fires now."""
    tier: list[str] = field(default_factory=list)
    segment: list[str] = field(default_factory=list)
    acquisition_channel: list[str] = field(default_factory=list)
    region: list[str] = field(default_factory=list)
    primary_subject: list[str] = field(default_factory=list)
    primary_tutor_id: list[str] = field(default_factory=list)
    attention: bool = False
    trigger: str | None = None
    min_score: float | None = None
    max_score: float | None = None

    @classmethod
    def from_dict(cls, values: dict | None) -> "QuickFilters":
        values = dict(values or {})
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise QueryError(f"unknown filter(s): {', '.join(sorted(unknown))}")
        for key in QUICK_KEYS:
            v = values.get(key)
            values[key] = [] if v in (None, "") else [str(x) for x in (v if isinstance(v, (list, tuple)) else [v])]
        return cls(**values)


def quick_conditions(quick: QuickFilters) -> list:
    conds = []
    bad = [t for t in quick.tier if t not in TIERS]
    if bad:
        raise QueryError(f"tier {', '.join(bad)} unknown; use {', '.join(TIERS)}")
    for key in QUICK_KEYS:
        values = getattr(quick, key)
        if values:
            conds.append(T.c[key].in_(values))
    if quick.attention:
        conds.append(or_(T.c.priority <= 2, T.c.tier == "critical"))
    if quick.trigger:
        if quick.trigger not in TRIGGERS:
            raise QueryError(f"trigger {quick.trigger} unknown; use {', '.join(TRIGGERS)}")
        # the column holds comma-separated names; match one whole name
        padded = "," + T.c.triggers + ","
        conds.append(padded.contains("," + quick.trigger + ",", autoescape=True))
    for bound, op in ((quick.min_score, "__ge__"), (quick.max_score, "__le__")):
        if bound is not None:
            conds.append(getattr(T.c.score, op)(_number("score", bound)))
    return conds


# --- AG Grid filterModel -> WHERE ---------------------------------------------------------------

def _number(col: str, value) -> float:
    if isinstance(value, bool):
        raise QueryError(f"filter on {col}: {value!r} is not a number")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise QueryError(f"filter on {col}: {value!r} is not a number") from None
    if out != out or out in (float("inf"), float("-inf")):
        raise QueryError(f"filter on {col}: {value!r} is not a finite number")
    return out


def _date(col: str, value) -> datetime:
    try:
        return pd.Timestamp(str(value)).to_pydatetime().replace(tzinfo=None)
    except (TypeError, ValueError):
        raise QueryError(f"filter on {col}: {value!r} is not a date") from None


def _text_condition(col: str, f: dict):
    c, op, value = T.c[col], f.get("type", "contains"), f.get("filter")
    if op == "blank":
        return or_(c.is_(None), c == "")
    if op == "notBlank":
        return and_(c.is_not(None), c != "")
    if value is None:
        return None  # AG Grid sends an empty condition while the user is still typing
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise QueryError(f"filter on {col}: expected text")
    value = str(value)
    ops = {
        "contains": lambda: c.icontains(value, autoescape=True),
        "notContains": lambda: or_(c.is_(None), not_(c.icontains(value, autoescape=True))),
        "equals": lambda: func.lower(c) == value.lower(),
        "notEqual": lambda: or_(c.is_(None), func.lower(c) != value.lower()),
        "startsWith": lambda: c.istartswith(value, autoescape=True),
        "endsWith": lambda: c.iendswith(value, autoescape=True),
    }
    if op not in ops:
        raise QueryError(f"filter on {col}: unknown text filter type {op!r}")
    return ops[op]()


def _compare(col: str, f: dict, parse, lo_key: str, hi_key: str):
    c, op = T.c[col], f.get("type", "equals")
    if op == "blank":
        return c.is_(None)
    if op == "notBlank":
        return c.is_not(None)
    if f.get(lo_key) is None:
        return None
    lo = parse(col, f[lo_key])
    ops = {"equals": c == lo, "notEqual": or_(c.is_(None), c != lo), "lessThan": c < lo,
           "lessThanOrEqual": c <= lo, "greaterThan": c > lo, "greaterThanOrEqual": c >= lo}
    if op == "inRange":
        if f.get(hi_key) is None:
            raise QueryError(f"filter on {col}: inRange needs two values")
        hi = parse(col, f[hi_key])
        return and_(c >= min(lo, hi), c <= max(lo, hi))
    if op not in ops:
        raise QueryError(f"filter on {col}: unknown filter type {op!r}")
    return ops[op]


def _date_condition(col: str, f: dict):
    op = f.get("type", "equals")
    if op == "equals" and f.get("dateFrom") is not None:  # the whole day
        day = _date(col, f["dateFrom"]).replace(hour=0, minute=0, second=0, microsecond=0)
        return and_(T.c[col] >= day, T.c[col] < day + pd.Timedelta(days=1))
    return _compare(col, f, _date, "dateFrom", "dateTo")


def _one_condition(col: str, f: dict):
    kind = f.get("filterType") or ("text" if col in TEXT else "date" if col in DATES else "number")
    if kind == "set":
        values = f.get("values")
        if not isinstance(values, list):
            raise QueryError(f"filter on {col}: set filter needs a list of values")
        return T.c[col].in_([str(v) for v in values if v is not None]) if col in TEXT else \
            T.c[col].in_([_number(col, v) for v in values if v is not None])
    if kind == "text":
        return _text_condition(col, f)
    if kind == "number":
        if col not in NUMBERS:
            raise QueryError(f"filter on {col}: it is not a number column")
        return _compare(col, f, _number, "filter", "filterTo")
    if kind == "date":
        if col not in DATES:
            raise QueryError(f"filter on {col}: it is not a date column")
        return _date_condition(col, f)
    raise QueryError(f"filter on {col}: unknown filter kind {kind!r}")


def filter_conditions(filter_model: dict | None) -> list:
    """AG Grid filterModel ({col: filter}) -> WHERE conditions. Combined filters come as
    {"operator": "AND"|"OR", "conditions": [...]} (or the older condition1/condition2)."""
    if not filter_model:
        return []
    if not isinstance(filter_model, dict):
        raise QueryError("filterModel must be an object")
    conds = []
    for col, f in filter_model.items():
        if col not in T.c or col not in GRID_COLUMNS:
            raise QueryError(f"cannot filter on {col!r}")
        if not isinstance(f, dict):
            raise QueryError(f"filter on {col}: expected an object")
        parts = f.get("conditions") or [f[k] for k in ("condition1", "condition2") if isinstance(f.get(k), dict)]
        if parts:
            operator = str(f.get("operator", "AND")).upper()
            if operator not in ("AND", "OR"):
                raise QueryError(f"filter on {col}: operator must be AND or OR")
            made = [c for c in (_one_condition(col, {"filterType": f.get("filterType"), **p}) for p in parts)
                    if c is not None]
            if made:
                conds.append(and_(*made) if operator == "AND" else or_(*made))
            continue
        cond = _one_condition(col, f)
        if cond is not None:
            conds.append(cond)
    return conds


def order_by(sort_model: list | None, attention: bool = False) -> list:
    """AG Grid sortModel ([{colId, sort}]) -> ORDER BY; customer_id last so pages never overlap.
    No sort: priority then score for the attention view, else score ascending (riskiest first)."""
    clauses = []
    for item in sort_model or []:
        col = item.get("colId") if isinstance(item, dict) else None
        if col not in GRID_COLUMNS:
            raise QueryError(f"cannot sort by {col!r}")
        direction = item.get("sort", "asc")
        if direction not in ("asc", "desc"):
            raise QueryError(f"sort direction must be asc or desc, not {direction!r}")
        c = T.c[col]
        clauses.append(c.asc().nulls_last() if direction == "asc" else c.desc().nulls_last())
    if not clauses:
        clauses = [T.c.priority.asc(), T.c.score.asc()] if attention else [T.c.score.asc()]
    return clauses + [T.c.customer_id.asc()]


def _where(filter_model, quick: QuickFilters | dict | None) -> tuple[list, QuickFilters]:
    quick = quick if isinstance(quick, QuickFilters) else QuickFilters.from_dict(quick)
    return filter_conditions(filter_model) + quick_conditions(quick), quick


def _select(columns: list[str], filter_model, sort_model, quick):
    conds, quick = _where(filter_model, quick)
    stmt = select(*(T.c[c] for c in columns)).where(*conds).order_by(*order_by(sort_model, quick.attention))
    return stmt, conds


def customer_page(engine: Engine, sort_model: list | None, filter_model: dict | None, start: int, end: int,
                  quick: QuickFilters | dict | None = None, columns: list[str] | None = None) -> tuple[list[dict], int]:
    """Rows [start, end) of the sorted, filtered customers (JSON-ready dicts of GRID_COLUMNS) and the total."""
    if not (isinstance(start, int) and isinstance(end, int)) or start < 0 or end <= start or end - start > 1000:
        raise QueryError("rows must be 0 <= start < end with at most 1,000 rows per request")
    columns = columns or GRID_COLUMNS
    conds, quick = _where(filter_model, quick)
    order = order_by(sort_model, quick.attention)
    # Deferred join: find the page's ids on narrow rows first, then read their columns; the sort never
    # carries wide rows and a deep OFFSET skips ids, not whole records (3-10x faster at 50,000).
    page = select(T.c.customer_id).where(*conds).order_by(*order).limit(end - start).offset(start).subquery()
    stmt = select(*(T.c[c] for c in columns)).join(page, page.c.customer_id == T.c.customer_id).order_by(*order)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
        total = conn.execute(select(func.count()).select_from(T).where(*conds)).scalar() or 0
    return [_json_row(r._mapping) for r in rows], int(total)


def _json_row(row) -> dict:
    out = {}
    for k, v in row.items():
        if isinstance(v, datetime):
            v = v.isoformat(sep=" ", timespec="minutes")
        elif isinstance(v, float) and v != v:
            v = None
        out[k] = v
    return out


def export_filtered(engine: Engine, sort_model: list | None, filter_model: dict | None,
                    quick: QuickFilters | dict | None = None) -> str:
    """Every customer of the filtered set, sorted as the grid is, as CSV text (header + GRID_COLUMNS)."""
    stmt, _ = _select(GRID_COLUMNS, filter_model, sort_model, quick)
    with engine.connect() as conn:
        result = conn.execute(stmt.limit(EXPORT_MAX))
        frame = pd.DataFrame(result.cursor.fetchall(), columns=list(result.keys()))
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.4g")
    return buf.getvalue()


@cached_read(topic="health")
def distinct_values(engine: Engine, keys: tuple[str, ...] = QUICK_KEYS) -> dict[str, list[str]]:
    """The values each quick filter can take now (for the dropdowns); changes only when scores are rewritten."""
    unknown = set(keys) - set(QUICK_KEYS)
    if unknown:
        raise QueryError(f"no quick filter {', '.join(sorted(unknown))}")
    out = {}
    with engine.connect() as conn:
        for key in keys:
            col = T.c[key]
            out[key] = [v for v in conn.execute(select(col).where(col.is_not(None)).distinct().order_by(col)).scalars()]
    return out


# --- one customer -------------------------------------------------------------------------------

def _frame(conn, stmt) -> pd.DataFrame:
    result = conn.execute(stmt)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def customer_detail(engine: Engine, customer_id: str) -> dict | None:
    """Everything the detail page and the API show about one customer; None when unknown.

    Keys: customer (source record or None), score (health_scores row or None), components (per
    component: label, score, weight, facts, why), triggers ([{name, severity, rule, why, alert_id,
    intervention}] for the triggers firing at the last scoring), history, sessions, calls, contacts
    (DataFrames, oldest first for history and sessions, newest first for calls and contacts), alerts
    (open alerts about the customer)."""
    cid = str(customer_id)
    with engine.connect() as conn:
        cust = conn.execute(select(Customer.__table__).where(Customer.customer_id == cid)).first()
        score = conn.execute(select(T).where(T.c.customer_id == cid)).first()
        if cust is None and score is None:
            return None
        history = _frame(conn, select(HealthScoreHistory.day, HealthScoreHistory.score, HealthScoreHistory.tier)
                         .where(HealthScoreHistory.customer_id == cid).order_by(HealthScoreHistory.day))
        sessions = _frame(conn, select(TutorSession.session_id, TutorSession.start_time, TutorSession.tutor_id,
                                       TutorSession.subject, TutorSession.status, TutorSession.rating)
                          .where(TutorSession.customer_id == cid).order_by(TutorSession.start_time))
        calls = _frame(conn, select(InboundCall.call_id, InboundCall.call_date, InboundCall.duration_s,
                                    InboundCall.reason_code)
                       .where(InboundCall.customer_id == cid).order_by(InboundCall.call_date.desc()))
        contacts = _frame(conn, select(ContactLog.id, ContactLog.contacted_at, ContactLog.user_email, ContactLog.channel,
                                       ContactLog.outcome, ContactLog.note)
                          .where(ContactLog.customer_id == cid).order_by(ContactLog.contacted_at.desc(),
                                                                         ContactLog.id.desc()))
        # by entity only (a handful of rows): with the status and type in SQL too, SQLite picks the status
        # index and walks every open alert (tens of thousands at 50,000 customers)
        alerts = _frame(conn, select(Alert.id, Alert.rule, Alert.type, Alert.severity, Alert.status, Alert.title,
                                     Alert.message, Alert.details, Alert.detected_at).where(Alert.entity_id == cid))
    alerts = alerts[(alerts["type"] == "customer_risk") & alerts["status"].isin(OPEN_STATES)]
    alerts = alerts.sort_values("detected_at", ascending=False).drop(columns="type").reset_index(drop=True)
    sessions["rating"] = pd.to_numeric(sessions["rating"], errors="coerce")
    score = dict(score._mapping) if score is not None else None
    return {
        "customer_id": cid, "customer": dict(cust._mapping) if cust is not None else None, "score": score,
        "components": components(score), "triggers": fired_triggers(score, alerts),
        "history": history, "sessions": sessions, "calls": calls, "contacts": contacts, "alerts": alerts,
    }


def components(score: dict | None) -> dict[str, dict]:
    """Per component (COMPONENTS order): label, score, weight, facts, why, from the stored explanation."""
    if not score or not score.get("explanation"):
        return {}
    try:
        parsed = json.loads(score["explanation"])
    except ValueError:
        return {}
    return {k: {"label": COMPONENT_LABELS[k], **parsed[k]} for k in COMPONENTS if k in parsed}


def fired_triggers(score: dict | None, alerts: pd.DataFrame) -> list[dict]:
    """The contract triggers firing at the last scoring, with the why of their open alert when there is one."""
    names = [t for t in (score or {}).get("triggers", "").split(",") if t in TRIGGERS] if score else []
    by_rule = {r.rule: r for r in alerts.itertuples()} if len(alerts) else {}
    out = []
    for name in names:
        alert = by_rule.get(f"trigger.{name}")
        trig = TRIGGERS[name]
        why = _why(alert) if alert is not None else trig.rule
        out.append({"name": name, "severity": trig.severity, "rule": trig.rule, "why": why,
                    "intervention": trig.intervention, "alert_id": int(alert.id) if alert is not None else None})
    return out


def _why(alert) -> str:
    """The trigger's own explanation, stored by the scoring job in the alert's details."""
    try:
        return json.loads(alert.details or "{}").get("why") or alert.message
    except ValueError:
        return alert.message


def health_config(health_weights: str | None) -> HealthConfig | None:
    """The scoring job's configuration as pages explain it; None when HEALTH_WEIGHTS is invalid
    (the job reports that error; pages then explain the defaults)."""
    try:
        return parse_health_config(health_weights)
    except ValueError:
        return None
