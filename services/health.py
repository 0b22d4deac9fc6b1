"""Customer health score (DATA_CONTRACT.md, "Health score"): five components, tier, triggers, next action.

`score_health` returns one row per customer eligible at `at` (signed up by then, not churned then;
see services.triggers for the exact rules and the no-future-data cut) with the columns of
models.derived.HealthScore. Each component is 0-100 and comes with its raw facts and a one-line why
(in the `explanation` JSON); the formulas are in services.health_config.COMPONENT_DOCS.

Score = sum(weight x component), rounded to one decimal. Tier: the score rounded to a whole number
(halves up, so 40.4 -> 40 critical, 40.5 -> 41 at-risk) and looked up in config.tier_bounds.
Priority (1 = call first .. 5) and intervention come from the most urgent fired trigger
(TRIGGERS[...].priority, ties in TRIGGERS order); the tier can make it more urgent: critical = 2,
at-risk = 4, healthy/thriving = 5, with a trigger winning a tie.
"""
from __future__ import annotations

import json
from itertools import repeat
from datetime import datetime

import numpy as np
import pandas as pd

from services.health_config import COMPONENT_DOCS, COMPONENT_LABELS, COMPONENTS, HealthConfig, TIERS
from services.triggers import DAY_NS, TRIGGERS, Prepared, fired, prepare, trigger_facts

__all__ = ["score_health", "tier_for", "HealthConfig", "COMPONENT_DOCS", "HEALTH_COLUMNS"]

HEALTH_COLUMNS = [
    "customer_id", "computed_at", "score", "tier", "first_session_score", "velocity_score", "calls_score",
    "goal_score", "tutor_consistency_score", "velocity", "calls_14d", "last_session_at", "triggers",
    "priority", "intervention", "segment", "acquisition_channel", "region", "primary_subject",
    "primary_tutor_id", "churn_probability", "explanation",
]
TIER_PRIORITY = {"critical": 2, "at-risk": 4, "healthy": 5, "thriving": 5}
TIER_ACTION = {
    "critical": "Call this week: health is critical — start with the weakest area: ",
    "at-risk": "Check in: health is at risk — weakest area: ",
    "healthy": "No action needed — keep monitoring",
    "thriving": "No action needed — a good moment to ask for a referral",
}


def tier_for(score, config: HealthConfig | None = None):
    """Tier of a score (scalar -> str, array-like -> ndarray of str).

    The score is rounded to a whole number first, halves up: 40 and 40.49 are critical, 40.5 and 41
    at-risk, 70/71 at-risk/healthy, 85/86 healthy/thriving (default bounds 40, 70, 85).
    """
    lo, mid, hi = (config or HealthConfig()).tier_bounds
    arr = np.asarray(score, dtype=float)
    if np.isnan(arr).any():
        raise ValueError("score must be a number")
    whole = np.floor(np.round(arr, 6) + 0.5)
    out = np.select([whole <= lo, whole <= mid, whole <= hi], list(TIERS[:3]), TIERS[3])
    return str(out) if out.ndim == 0 else out


def _day(values) -> np.ndarray:
    arr = np.asarray(values, dtype="datetime64[ns]")
    return np.where(np.isnat(arr), None, np.datetime_as_string(arr, unit="D"))


def _fmt(values) -> np.ndarray:
    """Numbers as short text: 2.0 -> "2", 2.25 -> "2.25" (formatted once per distinct value)."""
    uniq, inverse = np.unique(np.asarray(values, dtype=float), return_inverse=True)
    text = np.array([f"{v:.2f}".rstrip("0").rstrip(".") for v in uniq.tolist()], dtype=object)
    return text[inverse]


def _mode(codes: np.ndarray, values: np.ndarray, t: np.ndarray, n: int):
    """Most frequent value per customer code (ties -> the most recent); returns (value, count, distinct)."""
    mode = np.full(n, None, dtype=object)
    count, distinct = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    if len(codes) == 0:
        return mode, count, distinct
    vcode, uniques = pd.factorize(values, use_na_sentinel=False)
    key = codes.astype(np.int64) * (len(uniques) + 1) + vcode
    ukey, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    last = np.full(len(ukey), np.iinfo(np.int64).min)
    np.maximum.at(last, inverse, t)
    ucode, uval = ukey // (len(uniques) + 1), ukey % (len(uniques) + 1)
    order = np.lexsort((-last, -counts, ucode))
    first = order[np.r_[True, np.diff(ucode[order]) != 0]]
    mode[ucode[first]] = np.asarray(uniques, dtype=object)[uval[first]]
    count[ucode[first]] = counts[first]
    distinct[:] = np.bincount(ucode, minlength=n)
    return mode, count, distinct


def _recent_completed(prep: Prepared, keep: int):
    """Each customer's last `keep` completed sessions: (codes, tutor_ids, subjects, t)."""
    s = prep.sessions
    done = (s["status"] == "completed").to_numpy()
    codes, t = s["code"].to_numpy()[done], s["t"].to_numpy()[done]
    order = np.lexsort((-t, codes))
    codes_s = codes[order]
    starts = np.flatnonzero(np.r_[True, np.diff(codes_s) != 0])
    rank = np.arange(len(codes_s)) - np.repeat(starts, np.diff(np.r_[starts, len(codes_s)]))
    pick = np.flatnonzero(done)[order[rank < keep]]
    return (s["code"].to_numpy()[pick], s["tutor_id"].to_numpy(dtype=object)[pick],
            s["subject"].to_numpy(dtype=object)[pick], s["t"].to_numpy()[pick])


def _upcoming(prep: Prepared, n: int):
    """Bookings known at T for a session after T: (has one, tutor_id and subject of the earliest)."""
    booked, tutor, subject = np.zeros(n, dtype=bool), np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    b = prep.bookings
    if b is None or b.empty:
        return booked, tutor, subject
    when = pd.to_datetime(b["scheduled_time"]).to_numpy(dtype="datetime64[ns]").view("int64")
    # Status is today's; a booking cancelled after T was still on at T, but we cannot tell, so skip them.
    b = b.loc[(when > prep.at_ns) & b["status"].isin(["scheduled", "completed", "no_show"]).to_numpy()]
    b = b.assign(_when=when[b.index]).sort_values(["code", "_when"], kind="stable").drop_duplicates("code")
    codes = b["code"].to_numpy()
    booked[codes], tutor[codes], subject[codes] = True, b["tutor_id"].to_numpy(dtype=object), b["subject"].to_numpy(dtype=object)
    return booked, tutor, subject


def _first_session(f: pd.DataFrame, c: HealthConfig, booked: np.ndarray):
    status = f["fs_status"].to_numpy(dtype=object)
    rating = f["fs_rating"].to_numpy(dtype=float)
    age = f["days_since_signup"].to_numpy()
    done, no_show = status == "completed", status == "no_show"
    none_yet = np.select([age < c.fs_wait_days, age < c.fs_late_days], [c.fs_none_new, c.fs_none_waiting], c.fs_none_late)
    none_yet = np.where(booked, np.maximum(none_yet, c.fs_none_booked), none_yet)
    conds = [done & (rating >= c.fs_success_rating), done & (rating >= c.fs_ok_rating), done & (rating < c.fs_ok_rating),
             done, no_show]
    score = np.select(conds, [c.fs_success, c.fs_ok, c.fs_low, c.fs_unrated, c.fs_no_show], none_yet)
    on, r = " on " + pd.Series(_day(f["fs_start"])).fillna("").to_numpy(dtype=object), _fmt(rating)
    why = np.select(conds, [
        "First session" + on + " was completed and rated " + r + ": a success",
        "First session" + on + " was rated " + r + ": okay, but below the 4+ of a success",
        "First session" + on + " was rated " + r + ": below 3, a bad start",
        "First session" + on + " was completed but not rated",
        "First session" + on + " was a no-show",
    ], "No first session yet, " + age.astype(str) + " days after signup"
       + np.where(booked, "; one is booked", ""))
    facts = {"status": status, "rating": rating, "date": _day(f["fs_start"]),
             "tutor_id": f["fs_tutor_id"].to_numpy(dtype=object), "days_since_signup": age, "booked": booked}
    return score, why, facts


def _velocity(f: pd.DataFrame, c: HealthConfig):
    tenure = f["tenure_days"].to_numpy()
    n28 = f["completed_28d"].to_numpy()
    over = np.clip(tenure, 7, 28)
    rate = n28 * 7 / over
    score = np.clip(100 * rate / c.velocity_target, 0, 100)
    new = tenure < c.new_customer_days
    score = np.where(new, np.maximum(score, c.new_customer_velocity_floor), score)
    velocity = n28 / 4
    why = (_fmt(rate) + " sessions/week over the last " + _fmt(over) + " days (target "
           + f"{c.velocity_target:g})" + np.where(new, f"; new customer, at least {c.new_customer_velocity_floor:g}", ""))
    facts = {"completed_28d": n28, "velocity": velocity, "previous_velocity": f["completed_prev_28d"].to_numpy() / 4,
             "measured_over_days": np.round(over, 1), "target": np.full(len(f), c.velocity_target)}
    return score, why, facts, velocity


def _calls(prep: Prepared, n: int, c: HealthConfig):
    calls = prep.calls
    t, codes = calls["t"].to_numpy(), calls["code"].to_numpy()
    recent = t > prep.at_ns - 14 * DAY_NS
    older = ~recent & (t > prep.at_ns - 30 * DAY_NS)
    heavy = calls["reason_code"].isin(c.heavy_reasons).to_numpy()
    weight = np.where(heavy, c.heavy_multiplier, 1.0) * np.select([recent, older], [c.call_penalty_14d, c.call_penalty_30d], 0)
    penalty = np.bincount(codes, weights=weight, minlength=n)
    n14 = np.bincount(codes[recent], minlength=n)
    n30 = np.bincount(codes[older], minlength=n)
    nheavy = np.bincount(codes[heavy & (recent | older)], minlength=n)
    score = np.clip(100 - penalty, 0, 100)
    heavy_txt = " or ".join(c.heavy_reasons)
    why = np.where(n14 + n30 == 0, "No support calls in the last 30 days",
                   n14.astype(str) + " support calls in the last 14 days and " + n30.astype(str)
                   + " in the 16 days before" + np.where(nheavy > 0, " (" + nheavy.astype(str) + f" about {heavy_txt})", ""))
    return score, why, {"calls_14d": n14, "calls_15_30d": n30, "heavy_calls_30d": nheavy}


def _goal(f: pd.DataFrame, c: HealthConfig):
    status = f["goal_status"].to_numpy(dtype=object)
    score = np.select([status == "completed", status == "in_progress"], [c.goal_completed, c.goal_in_progress], c.goal_none)
    text = f["goal"].astype(object).fillna("").astype(str).to_numpy(dtype=object)
    goal = np.where(text == "", None, text)
    named = np.where(text == "", "Goal", "Goal '" + text + "'")
    done_on = _day(f["goal_completed_at"])
    on = np.where(pd.isna(done_on), "", " on " + np.where(pd.isna(done_on), "", done_on).astype(object))
    why = np.select([status == "completed", status == "in_progress"],
                    [named + " completed" + on, named + " in progress"], "No goal set")
    return score, why, {"goal": goal, "goal_status": status, "completed_on": done_on}


def _tutor(recent, n: int, c: HealthConfig):
    codes, tutors, _, t = recent
    primary, with_primary, distinct = _mode(codes, tutors, t, n)
    total = np.bincount(codes, minlength=n)
    enough = total >= c.tutor_min_sessions
    score = np.where(enough, 100 * with_primary / np.maximum(total, 1), c.tutor_neutral)
    why = np.where(enough, with_primary.astype(str) + " of the last " + total.astype(str)
                   + " completed sessions were with tutor " + pd.Series(primary).fillna("").astype(str).to_numpy(dtype=object),
                   "Only " + total.astype(str) + " completed session(s): not enough to judge")
    facts = {"recent_sessions": total, "with_primary_tutor": with_primary, "primary_tutor_id": primary,
             "distinct_tutors": distinct}
    return score, why, facts, primary


def _json(values) -> np.ndarray:
    """JSON literal of each value (numbers to 2 decimals, NaN/None -> null), as an object array of str."""
    arr = np.asarray(values)
    if arr.dtype == bool:
        return np.where(arr, "true", "false").astype(object)
    if arr.dtype.kind in "iuf":
        # Few distinct numbers: format each once.
        uniq, inverse = np.unique(np.round(arr, 2) if arr.dtype.kind == "f" else arr, return_inverse=True)
        text = np.array(["null" if v != v else repr(v) for v in uniq.tolist()], dtype=object)
        return text[inverse]
    enc = json.encoder.encode_basestring
    return np.array([enc(v) if isinstance(v, str) else "null" if v is None or v != v else json.dumps(_py(v))
                     for v in arr.tolist()], dtype=object)


def _py(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return round(float(v), 2)
    return str(v)


def _explanations(parts: dict, weights) -> list[str]:
    """One JSON object per customer: {component: {score, weight, facts: {...}, why}}, built column-wise
    and joined once per row (json.dumps per row costs ~10x more at 50,000 customers)."""
    pieces: list = []
    for i, name in enumerate(COMPONENTS):
        score, why, facts = parts[name]
        pieces += [("{" if i == 0 else "}, ") + json.dumps(name) + ': {"score": ', _json(np.round(score, 1)),
                   f', "weight": {json.dumps(weights[name])}, "facts": {{']
        for j, (key, values) in enumerate(facts.items()):
            pieces += [(", " if j else "") + json.dumps(key) + ": ", _json(values)]
        pieces += ['}, "why": ', _json(np.asarray(why, dtype=object))]
    pieces.append("}}")
    merged: list = []
    for p in pieces:  # fold neighbouring constants so each row joins fewer parts
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        else:
            merged.append(p)
    return ["".join(row) for row in zip(*(repeat(p) if isinstance(p, str) else p for p in merged))]


def score_health(customers: pd.DataFrame, sessions: pd.DataFrame, calls: pd.DataFrame, at: datetime,
                 config: HealthConfig | None = None, bookings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Health of every customer eligible at `at`, one row each, columns HEALTH_COLUMNS (= HealthScore).

    Inputs: contract DataFrames customers, sessions, inbound_calls and optionally bookings (used only
    to know whether a customer without a first session has one booked, and as the last fallback for
    primary tutor/subject). Rows after `at` are ignored.
    Output: score (0-100, 1 decimal), tier, the five component scores, velocity (contract: completed
    sessions in (T-28d, T] / 4), calls_14d, last_session_at (start of the last completed session,
    NaT if none), triggers (comma-separated TRIGGERS names in TRIGGERS order, "" if none), priority,
    intervention, segment, acquisition_channel, region, primary_subject and primary_tutor_id (most
    frequent among the last `tutor_recent_sessions` completed sessions, ties -> most recent; else the
    first session's; else the next booked session's), churn_probability (NaN; the churn job fills
    it), explanation (JSON: per component {score, weight, facts, why}).
    """
    c = config or HealthConfig()
    prep = prepare(customers, sessions, calls, at, bookings)
    f = trigger_facts(prep)
    n = len(f)
    if n == 0:
        return pd.DataFrame({col: pd.Series(dtype=object) for col in HEALTH_COLUMNS})
    booked, booked_tutor, booked_subject = _upcoming(prep, n)
    recent = _recent_completed(prep, c.tutor_recent_sessions)

    fs_score, fs_why, fs_facts = _first_session(f, c, booked)
    v_score, v_why, v_facts, velocity = _velocity(f, c)
    c_score, c_why, c_facts = _calls(prep, n, c)
    g_score, g_why, g_facts = _goal(f, c)
    t_score, t_why, t_facts, primary_tutor = _tutor(recent, n, c)
    scores = {"first_session": fs_score, "velocity": v_score, "calls": c_score, "goal": g_score,
              "tutor_consistency": t_score}
    total = np.round(sum(c.weights[k] * np.asarray(scores[k], dtype=float) for k in COMPONENTS), 1)
    tier = tier_for(total, c)

    masks = {name: mask for name, (mask, _) in fired(f, prep.at).items()}
    triggers = np.full(n, "", dtype=object)
    for name, mask in masks.items():
        triggers = np.where(mask, triggers + name + ",", triggers)
    priority, action = np.full(n, 99), np.full(n, None, dtype=object)
    for trig in sorted(TRIGGERS.values(), key=lambda trig: trig.priority):
        take = masks[trig.name] & (trig.priority < priority)
        priority, action = np.where(take, trig.priority, priority), np.where(take, trig.intervention, action)
    shortfall = np.column_stack([c.weights[k] * (100 - np.asarray(scores[k], dtype=float)) for k in COMPONENTS])
    weakest = np.asarray([COMPONENT_LABELS[k].lower() for k in COMPONENTS], dtype=object)[shortfall.argmax(axis=1)]
    tier_prio = pd.Series(tier).map(TIER_PRIORITY).to_numpy()
    tier_action = pd.Series(tier).map(TIER_ACTION).to_numpy(dtype=object)
    tier_action = np.where(np.isin(tier, ["critical", "at-risk"]), tier_action + weakest, tier_action)
    take = tier_prio < priority
    priority, action = np.where(take, tier_prio, priority), np.where(take, tier_action, action)

    primary_subject = _mode(recent[0], recent[2], recent[3], n)[0]
    fs_subject, fs_tutor = f["fs_subject"].to_numpy(dtype=object), f["fs_tutor_id"].to_numpy(dtype=object)
    primary_subject = np.where(pd.isna(primary_subject), np.where(pd.isna(fs_subject), booked_subject, fs_subject), primary_subject)
    primary_tutor = np.where(pd.isna(primary_tutor), np.where(pd.isna(fs_tutor), booked_tutor, fs_tutor), primary_tutor)

    parts = {"first_session": (fs_score, fs_why, fs_facts), "velocity": (v_score, v_why, v_facts),
             "calls": (c_score, c_why, c_facts), "goal": (g_score, g_why, g_facts),
             "tutor_consistency": (t_score, t_why, t_facts)}
    cust = prep.customers
    out = pd.DataFrame({
        "customer_id": f["customer_id"].to_numpy(dtype=object),
        "computed_at": np.full(n, prep.at.to_datetime64()),
        "score": total, "tier": tier,
        **{f"{k}_score": np.round(np.asarray(scores[k], dtype=float), 1) for k in COMPONENTS},
        "velocity": velocity.astype(float), "calls_14d": f["calls_14d"].to_numpy().astype(np.int64),
        "last_session_at": f["last_completed"].to_numpy(),
        "triggers": pd.Series(triggers).str.rstrip(",").to_numpy(dtype=object),
        "priority": priority.astype(np.int64), "intervention": action,
        "segment": cust["segment"].to_numpy(dtype=object),
        "acquisition_channel": cust["acquisition_channel"].to_numpy(dtype=object),
        "region": cust["region"].to_numpy(dtype=object),
        "primary_subject": primary_subject, "primary_tutor_id": primary_tutor,
        "churn_probability": np.full(n, np.nan),
        "explanation": _explanations(parts, c.weights),
    })
    return out[HEALTH_COLUMNS]
