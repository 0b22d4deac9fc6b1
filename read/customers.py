"""Read side of the customers page, the customer detail page and the customers API (no Dash, no Flask).

`customer_page` serves AG Grid's infinite row model: the grid's sortModel and filterModel are
translated into SQLAlchemy Core ORDER BY / WHERE on health_scores (whitelisted columns, bound
parameters, never SQL built from strings) plus LIMIT/OFFSET, so 50,000 customers never travel to the
browser. `export_filtered` writes the whole filtered set as CSV. The owner and outreach columns come from
customer_work and the name from customers, outer-joined on customer_id; the name (personal data) only
for viewers allowed to see it. One customer: read/customer_detail.py.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.engine import Engine

from infra.clock import utcnow
from loaders.worklist import contact_columns
from models.derived import CustomerWork, HealthScore
from models.source import Customer
from read.cache import cached_read
from domain.customers.health_config import TIERS, HealthConfig, parse_health_config
from domain.customers.triggers import TRIGGERS

T = HealthScore.__table__
W = CustomerWork.__table__  # owner and outreach, outer-joined on customer_id
C = Customer.__table__  # the name (personal data), joined only when asked for
WORK_COLUMNS = ("owner_email", "last_contacted_at", "next_follow_up_at")
PERSONAL = ("name",)  # shown, sorted, filtered and exported only for roles with personal_data.view
GRID_COLUMNS = [
    "customer_id", "name", "owner_email", "last_contacted_at", "next_follow_up_at", "score", "tier", "priority", "triggers", "intervention", "segment", "acquisition_channel",
    "region", "primary_subject", "primary_tutor_id", "velocity", "calls_14d", "last_session_at",
    "first_session_score", "velocity_score", "calls_score", "goal_score", "tutor_consistency_score",
    "churn_probability", "computed_at",
]
TEXT = {"customer_id", "name", "owner_email", "tier", "triggers", "intervention", "segment", "acquisition_channel", "region",
        "primary_subject", "primary_tutor_id"}
DATES = {"last_session_at", "computed_at", "last_contacted_at", "next_follow_up_at"}
NUMBERS = set(GRID_COLUMNS) - TEXT - DATES
QUICK_KEYS = ("tier", "segment", "acquisition_channel", "region", "primary_subject", "primary_tutor_id")
EXPORT_MAX = 1_000_000
FOLLOW_UPS = ("due", "waiting", "none")  # follow-up date passed / ahead / never set
CONTACTED = ("never", "7d", "30d")  # never contacted / contacted in the last 7 or 30 days


def column(col: str):
    """The SQL column behind a grid column (health_scores, customer_work or customers)."""
    if col in WORK_COLUMNS:
        return W.c[col]
    if col in PERSONAL:
        return C.c[col]
    return T.c[col]


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
    owner: list[str] = field(default_factory=list)  # owner emails; "none" for customers without one
    follow_up: str | None = None  # one of FOLLOW_UPS
    contacted: str | None = None  # one of CONTACTED

    @classmethod
    def from_dict(cls, values: dict | None) -> "QuickFilters":
        values = dict(values or {})
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise QueryError(f"unknown filter(s): {', '.join(sorted(unknown))}")
        for key in QUICK_KEYS + ("owner",):
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
    now = utcnow()
    if quick.attention:  # not those contacted and waiting for their follow-up
        conds.append(or_(T.c.priority <= 2, T.c.tier == "critical"))
        conds.append(or_(W.c.next_follow_up_at.is_(None), W.c.next_follow_up_at <= now, W.c.open_tasks > 0))
    if quick.owner:
        named = [o for o in quick.owner if o != "none"]
        conds.append(or_(W.c.owner_email.in_(named), *([W.c.owner_email.is_(None)] if "none" in quick.owner else [])))
    if quick.follow_up is not None:
        if quick.follow_up not in FOLLOW_UPS:
            raise QueryError(f"follow_up must be one of {', '.join(FOLLOW_UPS)}")
        f = W.c.next_follow_up_at
        conds.append({"due": f <= now, "waiting": f > now, "none": f.is_(None)}[quick.follow_up])
    if quick.contacted is not None:
        if quick.contacted not in CONTACTED:
            raise QueryError(f"contacted must be one of {', '.join(CONTACTED)}")
        last = W.c.last_contacted_at
        conds.append(last.is_(None) if quick.contacted == "never"
                     else last >= now - pd.Timedelta(days=int(quick.contacted[:-1])))
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
        stamp = pd.Timestamp(str(value)[:40])
        if pd.isna(stamp) or not 1970 <= stamp.year < 2200:  # "" parses as NaT
            raise ValueError(value)
        return stamp.to_pydatetime().replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError):
        raise QueryError(f"filter on {col}: {str(value)[:40]!r} is not a date between 1970 and 2200") from None


def _text_condition(col: str, f: dict):
    c, op, value = column(col), f.get("type", "contains"), f.get("filter")
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
    c, op = column(col), f.get("type", "equals")
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
        return and_(column(col) >= day, column(col) < day + pd.Timedelta(days=1))
    return _compare(col, f, _date, "dateFrom", "dateTo")


def _one_condition(col: str, f: dict):
    kind = f.get("filterType") or ("text" if col in TEXT else "date" if col in DATES else "number")
    if kind == "set":
        values = f.get("values")
        if not isinstance(values, list):
            raise QueryError(f"filter on {col}: set filter needs a list of values")
        return column(col).in_([str(v) for v in values if v is not None]) if col in TEXT else \
            column(col).in_([_number(col, v) for v in values if v is not None])
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
        if col not in GRID_COLUMNS:
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
        c = column(col)
        clauses.append(c.asc().nulls_last() if direction == "asc" else c.desc().nulls_last())
    if not clauses:
        clauses = [T.c.priority.asc(), T.c.score.asc()] if attention else [T.c.score.asc()]
    return clauses + [T.c.customer_id.asc()]


def _where(filter_model, quick: QuickFilters | dict | None) -> tuple[list, QuickFilters]:
    quick = quick if isinstance(quick, QuickFilters) else QuickFilters.from_dict(quick)
    return filter_conditions(filter_model) + quick_conditions(quick), quick


def visible_columns(engine: Engine, personal: bool) -> list[str]:
    """GRID_COLUMNS this viewer gets: the name only with personal_data.view and once the store has it."""
    hidden = set(PERSONAL) if not personal else set(PERSONAL) - set(contact_columns(engine))
    return [c for c in GRID_COLUMNS if c not in hidden]


def _check_allowed(allowed: list[str], sort_model, filter_model) -> bool:
    """QueryError for a sort or filter on a column the viewer may not see; True when the name is used."""
    used = {i.get("colId") for i in (sort_model or []) if isinstance(i, dict)}
    used |= set(filter_model) if isinstance(filter_model, dict) else set()
    refused = sorted(c for c in used if c in GRID_COLUMNS and c not in allowed)
    if refused:
        raise QueryError(f"cannot sort or filter on {', '.join(refused)}")
    return bool(used & set(PERSONAL))


def _source(with_name: bool):
    """health_scores with customer_work (and customers for the name) outer-joined on customer_id."""
    j = T.outerjoin(W, W.c.customer_id == T.c.customer_id)
    return j.outerjoin(C, C.c.customer_id == T.c.customer_id) if with_name else j


def _select(engine: Engine, filter_model, sort_model, quick, personal: bool):
    allowed = visible_columns(engine, personal)
    named = _check_allowed(allowed, sort_model, filter_model)
    conds, quick = _where(filter_model, quick)
    stmt = (select(*(column(c).label(c) for c in allowed)).select_from(_source("name" in allowed))
            .where(*conds).order_by(*order_by(sort_model, quick.attention)))
    return stmt, conds, named


def customer_page(engine: Engine, sort_model: list | None, filter_model: dict | None, start: int, end: int,
                  quick: QuickFilters | dict | None = None, columns: list[str] | None = None,
                  personal: bool = False) -> tuple[list[dict], int]:
    """Rows [start, end) of the sorted, filtered customers (JSON-ready dicts of GRID_COLUMNS) and the total.
    personal: the viewer may see personal data (the name); without it the name is left out and refused."""
    if not (isinstance(start, int) and isinstance(end, int)) or start < 0 or end <= start or end - start > 1000:
        raise QueryError("rows must be 0 <= start < end with at most 1,000 rows per request")
    allowed = visible_columns(engine, personal)
    columns = [c for c in (columns or GRID_COLUMNS) if c in allowed]
    named = _check_allowed(allowed, sort_model, filter_model)
    conds, quick = _where(filter_model, quick)
    order = order_by(sort_model, quick.attention)
    # Deferred join: find the page's ids on narrow rows first, then read their columns; the sort never
    # carries wide rows and a deep OFFSET skips ids, not whole records (3-10x faster at 50,000).
    page = (select(T.c.customer_id).select_from(_source(named)).where(*conds).order_by(*order)
            .limit(end - start).offset(start).subquery())
    stmt = (select(*(column(c).label(c) for c in columns)).select_from(_source("name" in columns))
            .join(page, page.c.customer_id == T.c.customer_id).order_by(*order))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
        total = conn.execute(select(func.count()).select_from(_source(named)).where(*conds)).scalar() or 0
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
                    quick: QuickFilters | dict | None = None, personal: bool = False) -> str:
    """Every customer of the filtered set, sorted as the grid is, as CSV text (header + the columns the
    viewer may see: the name only with `personal`)."""
    stmt, _, _ = _select(engine, filter_model, sort_model, quick, personal)
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


# one customer: read/customer_detail.py (re-exported for the callers that read it from here)
from read.customer_detail import components, customer_detail, fired_triggers  # noqa: E402,F401  (re-exported)


def health_config(health_weights: str | None) -> HealthConfig | None:
    """The scoring job's configuration as pages explain it; None when HEALTH_WEIGHTS is invalid
    (the job reports that error; pages then explain the defaults)."""
    try:
        return parse_health_config(health_weights)
    except ValueError:
        return None
