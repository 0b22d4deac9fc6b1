"""Customer health score (DATA_CONTRACT.md, "Health score"): five components, tier, triggers, next action.

`score_health` returns one row per customer eligible at `at` (signed up by then, not churned then;
see domain.customers.triggers for the exact rules and the no-future-data cut) with the columns of
models.derived.HealthScore. Each component is 0-100 and comes with its raw facts and a one-line why
(in the `explanation` JSON); the formulas are in domain.customers.health_config.COMPONENT_DOCS.

Score = sum(weight x component), rounded to one decimal (halves up). Tier: the score rounded to a whole number
(halves up, so 40.4 -> 40 critical, 40.5 -> 41 at-risk) and looked up in config.tier_bounds.
Priority (1 = call first .. 5) and intervention come from the most urgent fired trigger
(TRIGGERS[...].priority, ties in TRIGGERS order); the tier can make it more urgent: critical = 2,
at-risk = 4, healthy/thriving = 5, with a trigger winning a tie.

Everything is column-wise numpy. Text (the whys, the explanation JSON) is built per distinct value
or per branch where possible: at 500,000 customers string work, not arithmetic, is the cost.
"""
from __future__ import annotations

import json
from datetime import datetime
from itertools import repeat

import numpy as np
import pandas as pd

from domain.customers.health_config import COMPONENT_DOCS, COMPONENT_LABELS, COMPONENTS, HealthConfig, TIERS
from domain.customers import text as tx
from domain.customers.triggers import DAY_NS, NAT, TRIGGERS, Prepared, fired, prepare, trigger_facts

__all__ = ["score_health", "score_prepared", "tier_for", "HealthConfig", "COMPONENT_DOCS", "HEALTH_COLUMNS"]

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


def _round1(values) -> np.ndarray:
    """One decimal, halves up (81.25 -> 81.3), like the tier's whole-number rounding."""
    return np.floor(np.round(np.asarray(values, dtype=float) * 10, 6) + 0.5) / 10



# --- components: each returns (score, why, facts); why strings are JSON-safe (inputs pre-escaped) ---

def _first_session(f: pd.DataFrame, c: HealthConfig, booked: np.ndarray):
    n = len(f)
    status = f["fs_status"].to_numpy(dtype=object)
    rating = f["fs_rating"].to_numpy(dtype=float)
    age = f["days_since_signup"].to_numpy()
    done, no_show = status == "completed", status == "no_show"
    none_yet = np.select([age < c.fs_wait_days, age < c.fs_late_days], [c.fs_none_new, c.fs_none_waiting],
                         c.fs_none_late)
    none_yet = np.where(booked, np.maximum(none_yet, c.fs_none_booked), none_yet)
    success, ok = done & (rating >= c.fs_success_rating), done & (rating >= c.fs_ok_rating)
    low = done & (rating < c.fs_ok_rating)
    score = np.select([success, ok, low, done, no_show],
                      [c.fs_success, c.fs_ok, c.fs_low, c.fs_unrated, c.fs_no_show], none_yet)
    date = tx.day(f["fs_start"])
    on = lambda m: "First session on " + date[m].astype(object)  # noqa: E731
    rated = lambda m: on(m) + " was rated " + tx.fmt(rating[m])  # noqa: E731
    why = tx.pick_text(n, "", (success, lambda m: on(m) + " was completed and rated " + tx.fmt(rating[m]) + ": a success"),
                (ok, lambda m: rated(m) + f": okay, but below the {c.fs_success_rating:g}+ of a success"),
                (low, lambda m: rated(m) + f": below {c.fs_ok_rating:g}, a bad start"),
                (done, lambda m: on(m) + " was completed but not rated"),
                (no_show, lambda m: on(m) + " was a no-show"),
                (np.ones(n, dtype=bool), lambda m: "No first session yet, " + age[m].astype(str).astype(object)
                 + " days after signup" + np.where(booked[m], "; one is booked", "").astype(object)))
    facts = {"status": status, "rating": rating, "date": date, "tutor_id": f["fs_tutor_id"].to_numpy(dtype=object),
             "days_since_signup": age, "booked": booked}
    return score, why, facts


def _velocity(f: pd.DataFrame, c: HealthConfig):
    tenure = f["tenure_days"].to_numpy()
    n28 = f["completed_28d"].to_numpy()
    over = np.clip(tenure, 7, 28)
    rate = n28 * 7 / over
    xs, ys = zip(*c.velocity_points)
    score = np.interp(rate, xs, ys)  # flat beyond the last point
    new = tenure < c.new_customer_days
    score = np.where(new, np.maximum(score, c.new_customer_velocity_floor), score)
    why = (tx.fmt(rate) + " sessions/week over the last " + tx.fmt(over) + f" days (target {c.velocity_target:g})"
           + np.where(new, f"; new customer, at least {c.new_customer_velocity_floor:g}", "").astype(object))
    velocity = n28 / 4
    facts = {"completed_28d": n28, "velocity": velocity, "previous_velocity": f["completed_prev_28d"].to_numpy() / 4,
             "measured_over_days": np.round(over, 1), "target": np.full(len(f), c.velocity_target)}
    return score, why, facts, velocity


def _calls(prep: Prepared, n: int, c: HealthConfig):
    calls = prep.calls
    if calls is None:
        calls = pd.DataFrame({"code": np.zeros(0, dtype=np.intp), "t": np.zeros(0, dtype=np.int64), "reason_code": []})
    t, codes = calls["t"].to_numpy(), calls["code"].to_numpy()
    recent = t > prep.at_ns - 14 * DAY_NS
    older = ~recent & (t > prep.at_ns - 30 * DAY_NS)
    heavy = calls["reason_code"].isin(c.heavy_reasons).to_numpy()
    per_call = np.select([recent, older], [c.call_penalty_14d, c.call_penalty_30d], 0)
    weight = np.where(heavy, c.heavy_multiplier, 1.0) * per_call
    score = np.clip(100 - np.bincount(codes, weights=weight, minlength=n), 0, 100)
    n14 = np.bincount(codes[recent], minlength=n)
    n30 = np.bincount(codes[older], minlength=n)
    nheavy = np.bincount(codes[heavy & (recent | older)], minlength=n)
    about = f" about {' or '.join(c.heavy_reasons)})"
    why = tx.pick_text(n, "No support calls in the last 30 days", (n14 + n30 > 0, lambda m: (
        tx.fmt(n14[m]) + " support calls in the last 14 days and " + tx.fmt(n30[m])
        + " in the 16 days before" + np.where(nheavy[m] > 0, " (" + tx.fmt(nheavy[m]) + about, "")
    )))
    return score, why, {"calls_14d": n14, "calls_15_30d": n30, "heavy_calls_30d": nheavy}


def _goal(f: pd.DataFrame, c: HealthConfig, prep_at_ns: int):
    n = len(f)
    status = f["goal_status"].to_numpy(dtype=object)
    done, going = status == "completed", status == "in_progress"
    done_at = f["goal_completed_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    # no completion time known: treated as long ago (the status is all we have)
    recent = done & (done_at != NAT) & (done_at > prep_at_ns - c.goal_recent_days * DAY_NS)
    score = np.select([recent, done, going], [c.goal_completed_recent, c.goal_completed, c.goal_in_progress],
                      c.goal_none)
    goal = f["goal"].to_numpy(dtype=object)
    goal = np.where(pd.isna(goal) | (goal == ""), None, goal)
    text, done_on = tx.inline(goal), tx.day(f["goal_completed_at"])
    on = np.where(pd.isna(done_on), "", " on " + np.where(pd.isna(done_on), "", done_on).astype(object))
    named = np.where(text == "", "Goal", "Goal '" + text + "'").astype(object)
    why = tx.pick_text(n, "No goal set",
                (recent, lambda m: named[m] + " completed" + on[m] + ": time to propose a new goal before they leave"),
                (done, lambda m: named[m] + " completed" + on[m] + " and still a customer"),
                (going, lambda m: named[m] + " in progress"))
    return score, why, {"goal": goal, "goal_status": status, "completed_on": done_on}


def _recent_completed(prep: Prepared, keep: int):
    """Each customer's last `keep` completed sessions, sorted by customer then newest first:
    (codes, tutor_ids, subjects, position within the customer's list)."""
    s = prep.sessions
    idx = np.flatnonzero(s["done"].to_numpy())
    codes, t = s["code"].to_numpy()[idx], s["t"].to_numpy()[idx]
    # one int64 key (customer, seconds before T) sorts faster than a two-key lexsort
    key = (codes.astype(np.int64) << 32) | np.minimum((prep.at_ns - t) // 10**9, 2**32 - 1)
    order = np.argsort(key, kind="stable")
    codes_s = codes[order]
    starts = np.flatnonzero(np.r_[True, codes_s[1:] != codes_s[:-1]]) if len(codes_s) else np.zeros(0, dtype=np.intp)
    pos = np.arange(len(codes_s)) - np.repeat(starts, np.diff(np.r_[starts, len(codes_s)]))
    pick = pos < keep
    rows = idx[order[pick]]
    tutors, subjects = s["tutor_id"].to_numpy(dtype=object)[rows], s["subject"].to_numpy(dtype=object)[rows]
    return codes_s[pick], tutors, subjects, pos[pick]


def _mode(codes: np.ndarray, values: np.ndarray, pos: np.ndarray, n: int):
    """Most frequent value per customer (ties -> the one seen most recently, i.e. the lowest `pos`).

    Rows must be sorted by code with pos = 0, 1, ... from the newest. Returns (value, count, distinct).
    """
    mode = np.full(n, None, dtype=object)
    count, distinct = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    if len(codes) == 0:
        return mode, count, distinct
    vcode, uniques = pd.factorize(values, use_na_sentinel=False)
    width = len(uniques) + 1
    key = codes.astype(np.int64) * width + vcode
    order = np.argsort(key, kind="stable")  # within a key, rows keep newest-first order
    k = key[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    counts = np.diff(np.r_[starts, len(k)])
    ucode, uval, first_pos = k[starts] // width, k[starts] % width, pos[order][starts]
    rank = counts * 1024 + (1023 - first_pos)  # more sessions first, then the most recent
    best = np.argsort(ucode * (1 << 20) + (2**20 - 1 - rank), kind="stable")
    winners = best[np.r_[True, ucode[best][1:] != ucode[best][:-1]]]
    mode[ucode[winners]] = np.asarray(uniques, dtype=object)[uval[winners]]
    count[ucode[winners]] = counts[winners]
    distinct[:] = np.bincount(ucode, minlength=n)
    return mode, count, distinct


def _tutor(recent, n: int, c: HealthConfig):
    codes, tutors, _, pos = recent
    primary, with_primary, distinct = _mode(codes, tutors, pos, n)
    total = np.bincount(codes, minlength=n)
    enough = total >= c.tutor_min_sessions
    score = np.where(enough, 100 * with_primary / np.maximum(total, 1), c.tutor_neutral)
    name = tx.inline(primary)
    why = tx.pick_text(n, "", (enough, lambda m: tx.fmt(with_primary[m]) + " of the last " + tx.fmt(total[m])
                        + " completed sessions were with tutor " + name[m]),
                (~enough, lambda m: "Only " + tx.fmt(total[m]) + " completed session(s): not enough to judge"))
    facts = {"recent_sessions": total, "with_primary_tutor": with_primary, "primary_tutor_id": primary,
             "distinct_tutors": distinct}
    return score, why, facts, primary


def _upcoming(prep: Prepared, n: int):
    """Bookings known at T for a session after T: (has one, tutor_id and subject of the earliest)."""
    booked, tutor, subject = np.zeros(n, dtype=bool), np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    b = prep.bookings
    if b is None or b.empty:
        return booked, tutor, subject
    when = pd.to_datetime(b["scheduled_time"]).to_numpy(dtype="datetime64[ns]").view("int64")
    # Status is today's: a booking cancelled after T was still on at T, but we cannot tell, so cancelled
    # and rescheduled bookings never count.
    live = (when > prep.at_ns) & b["status"].isin(["scheduled", "completed", "no_show"]).to_numpy()
    b = b.loc[live].assign(_when=when[live]).sort_values(["code", "_when"], kind="stable").drop_duplicates("code")
    codes = b["code"].to_numpy()
    booked[codes] = True
    tutor[codes], subject[codes] = b["tutor_id"].to_numpy(dtype=object), b["subject"].to_numpy(dtype=object)
    return booked, tutor, subject


def _first_known(*candidates: np.ndarray) -> np.ndarray:
    out = candidates[0]
    for more in candidates[1:]:
        out = np.where(pd.isna(out), more, out)
    return out


def _explanations(parts: dict, weights) -> list[str]:
    """One JSON object per customer: {component: {score, weight, facts: {...}, why}}, assembled from
    per-column JSON literals and joined once per row (json.dumps per row is ~10x slower)."""
    pieces: list = []
    for i, name in enumerate(COMPONENTS):
        score, why, facts = parts[name]
        pieces += [("{" if i == 0 else "}, ") + json.dumps(name) + ': {"score": ', tx.json_literal(_round1(score)),
                   f', "weight": {json.dumps(weights[name])}, "facts": {{']
        for j, (key, values) in enumerate(facts.items()):
            pieces += [(", " if j else "") + json.dumps(key) + ": ", tx.json_literal(values)]
        pieces += ['}, "why": "', why, '"']  # why strings are built from escaped parts
    pieces.append("}}")
    merged: list = []
    for p in pieces:  # fold neighbouring constants so each row joins fewer parts
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        else:
            merged.append(p)
    return ["".join(row) for row in zip(*(repeat(p) if isinstance(p, str) else p for p in merged))]


def _trigger_list(masks: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Comma-separated fired trigger names in TRIGGERS order, via a bitmask (few distinct combinations)."""
    bits = np.zeros(n, dtype=np.int64)
    for i, name in enumerate(TRIGGERS):
        bits |= masks[name].astype(np.int64) << i
    names = list(TRIGGERS)
    return tx.per_unique(bits, lambda b: ",".join(nm for i, nm in enumerate(names) if b >> i & 1))


def _next_action(masks: dict[str, np.ndarray], tier: np.ndarray, scores: dict, c: HealthConfig):
    """(priority, intervention): the most urgent fired trigger, or the tier's when that is more urgent."""
    n = len(tier)
    priority, action = np.full(n, 99), np.full(n, None, dtype=object)
    for trig in sorted(TRIGGERS.values(), key=lambda trig: trig.priority):  # stable: ties in TRIGGERS order
        take = masks[trig.name] & (trig.priority < priority)
        priority[take], action[take] = trig.priority, trig.intervention
    shortfall = np.column_stack([c.weights[k] * (100 - np.asarray(scores[k], dtype=float)) for k in COMPONENTS])
    weakest = np.asarray([COMPONENT_LABELS[k].lower() for k in COMPONENTS], dtype=object)[shortfall.argmax(axis=1)]
    tier_prio = np.select([tier == t for t in TIER_PRIORITY], list(TIER_PRIORITY.values()), 5)
    take = tier_prio < priority
    for t in TIERS:
        rows = take & (tier == t)
        priority[rows] = TIER_PRIORITY[t]
        action[rows] = TIER_ACTION[t] + weakest[rows] if t in ("critical", "at-risk") else TIER_ACTION[t]
    return priority, action


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
    prep = prepare(customers, sessions, calls, at, bookings)
    return score_prepared(prep, trigger_facts(prep), config)


def score_prepared(prep: Prepared, f: pd.DataFrame, config: HealthConfig | None = None) -> pd.DataFrame:
    """score_health on inputs already cut by domain.customers.triggers.prepare (with bookings) and their
    trigger_facts: a caller that also needs the trigger table computes both once and passes the facts
    to domain.customers.triggers.triggers_from_facts too. Same output as score_health."""
    c = config or HealthConfig()
    n = len(f)
    if n == 0:
        return pd.DataFrame({col: pd.Series(dtype=object) for col in HEALTH_COLUMNS})
    booked, booked_tutor, booked_subject = _upcoming(prep, n)
    recent = _recent_completed(prep, c.tutor_recent_sessions)

    fs_score, fs_why, fs_facts = _first_session(f, c, booked)
    v_score, v_why, v_facts, velocity = _velocity(f, c)
    c_score, c_why, c_facts = _calls(prep, n, c)
    g_score, g_why, g_facts = _goal(f, c, prep.at_ns)
    t_score, t_why, t_facts, primary_tutor = _tutor(recent, n, c)
    scores = {"first_session": fs_score, "velocity": v_score, "calls": c_score, "goal": g_score,
              "tutor_consistency": t_score}
    total = _round1(sum(c.weights[k] * np.asarray(scores[k], dtype=float) for k in COMPONENTS))
    tier = tier_for(total, c)
    masks = {name: mask for name, (mask, _) in fired(f, prep.at).items()}
    priority, action = _next_action(masks, tier, scores, c)

    primary_subject = _mode(recent[0], recent[2], recent[3], n)[0]
    fs_subject, fs_tutor = f["fs_subject"].to_numpy(dtype=object), f["fs_tutor_id"].to_numpy(dtype=object)
    primary_subject = _first_known(primary_subject, fs_subject, booked_subject)
    primary_tutor = _first_known(primary_tutor, fs_tutor, booked_tutor)

    parts = {"first_session": (fs_score, fs_why, fs_facts), "velocity": (v_score, v_why, v_facts),
             "calls": (c_score, c_why, c_facts), "goal": (g_score, g_why, g_facts),
             "tutor_consistency": (t_score, t_why, t_facts)}
    cust = prep.customers
    out = pd.DataFrame({
        "customer_id": f["customer_id"].to_numpy(dtype=object),
        "computed_at": np.full(n, prep.at.to_datetime64()),
        "score": total, "tier": tier,
        **{f"{k}_score": _round1(scores[k]) for k in COMPONENTS},
        "velocity": velocity.astype(float), "calls_14d": f["calls_14d"].to_numpy().astype(np.int64),
        "last_session_at": f["last_completed"].to_numpy(),
        "triggers": _trigger_list(masks, n),
        "priority": priority.astype(np.int64), "intervention": action,
        "segment": cust["segment"].to_numpy(dtype=object),
        "acquisition_channel": cust["acquisition_channel"].to_numpy(dtype=object),
        "region": cust["region"].to_numpy(dtype=object),
        "primary_subject": primary_subject, "primary_tutor_id": primary_tutor,
        "churn_probability": np.full(n, np.nan),
        "explanation": _explanations(parts, c.weights),
    })
    return out[HEALTH_COLUMNS]
