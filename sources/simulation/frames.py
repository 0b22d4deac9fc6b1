"""Engine state -> contract DataFrames (exact columns and order of domain.contract.RECORDS).

Ids: customers C0000001.. in signup order, tutors T000001.. in hiring order, bookings
B000000001.. in creation order, a booking's session S<same number>, calls K000000001.. in time
order, campaigns CP0001... Datetimes are datetime64[us], naive UTC.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from domain.contract import CALL_REASONS, CHANNELS, RECORDS, SEGMENTS, SUBJECTS, US_STATES
from sources.simulation.engine import ONBOARDING
from sources.simulation.world.contacts import contacts, session_prices
from sources.simulation.world.entities import GOAL_TEXTS, RECRUIT_CHANNELS

_SUBJ = np.array(SUBJECTS, dtype=object)
_STATE = np.array(US_STATES, dtype=object)
_BOOKING_STATUS = np.array(["scheduled", "completed", "cancelled", "rescheduled", "no_show"], dtype=object)
_RBY = np.array([None, "tutor", "customer"], dtype=object)
_GOAL = np.array(GOAL_TEXTS + [None], dtype=object)


def dt(t, valid=None) -> np.ndarray:
    out = np.asarray(t, dtype=np.int64).astype("datetime64[s]").astype("datetime64[us]")
    if valid is not None:
        out = out.copy()
        out[~valid] = np.datetime64("NaT")
    return out


def ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return np.array([f"{prefix}{n:0{width}d}" for n in np.asarray(numbers).tolist()], dtype=object)


def frame(record: str, data: dict) -> pd.DataFrame:
    return pd.DataFrame({k: data[k] for k in RECORDS[record].columns})


def assign_ids(eng, tutors: dict) -> None:
    """Number history rows (customers, bookings, calls) in time order; live rows continue after."""
    c, b = eng.c, eng.b
    order = np.lexsort((np.arange(c.n), c.signup_t))
    c.seq[order] = np.arange(1, c.n + 1)
    todo = np.flatnonzero(b.seq < 0)
    order = todo[np.lexsort((todo, b.created[todo]))]
    b.seq[order] = np.arange(1, order.size + 1)
    calls = [e for e in eng.call_log]
    if calls:
        t = np.concatenate([e["t"] for e in calls])
        seq = np.empty(t.size, dtype=np.int64)
        seq[np.lexsort((np.arange(t.size), t))] = np.arange(1, t.size + 1)
        pos = 0
        for e in calls:
            e["seq"] = seq[pos:pos + e["t"].size]
            pos += e["t"].size
    eng.seq = {"b": int(b.n) + 1, "c": int(c.n) + 1, "k": sum(e["t"].size for e in calls) + 1}
    h = np.lexsort((np.arange(tutors["hired_t"].size), tutors["hired_t"]))
    tid = np.empty(h.size, dtype=object)
    tid[h] = ids("T", np.arange(1, h.size + 1), 6)
    eng.tutor_ids = tid
    eng.cust_ids = ids("C", c.seq, 7)


def cust_ids(eng, idx: np.ndarray) -> np.ndarray:
    if eng.cust_ids.size < eng.c.n:  # customers who signed up in live mode
        eng.cust_ids = np.concatenate([eng.cust_ids, ids("C", eng.c.seq[eng.cust_ids.size:], 7)])
    return eng.cust_ids[idx]


def customers(eng, idx: np.ndarray) -> pd.DataFrame:
    c = eng.c
    gs = c.goal_status[idx]
    st = c.status[idx]
    return frame("customers", {
        "customer_id": cust_ids(eng, idx),
        "signup_date": dt(c.signup_t[idx]),  # a full timestamp, as the contract gives it
        "acquisition_channel": np.array(CHANNELS, dtype=object)[c.chan[idx]],
        "segment": np.array(SEGMENTS, dtype=object)[c.seg[idx]],
        "region": _STATE[c.state[idx]],
        "goal": _GOAL[np.where(c.goal[idx] >= 0, c.goal[idx], len(GOAL_TEXTS))],
        "goal_status": np.array(["none", "in_progress", "completed"], dtype=object)[gs],
        "goal_completed_at": dt(c.goal_t[idx], gs == 2),
        "status": np.array(["active", "paused", "churned"], dtype=object)[st],
        "churned_at": dt(c.churned_t[idx], st == 2),
        "updated_at": dt(c.updated[idx]),
        **contacts(c.seq[idx]),
    })


def bookings(eng, idx: np.ndarray) -> pd.DataFrame:
    b = eng.b
    return frame("bookings", {
        "booking_id": ids("B", b.seq[idx], 9),
        "customer_id": cust_ids(eng, b.cust[idx]),
        "tutor_id": eng.tutor_ids[b.tutor[idx]],
        "subject": _SUBJ[b.subj[idx]],
        "scheduled_time": dt(b.sched[idx]),
        "created_at": dt(b.created[idx]),
        "status": _BOOKING_STATUS[b.status[idx]],
        "rescheduled_by": _RBY[b.rby[idx]],
        "updated_at": dt(b.updated[idx]),
    })


def sessions(eng, entries: list) -> pd.DataFrame:
    b = eng.b
    idx = np.concatenate([e[0] for e in entries]) if entries else np.empty(0, np.int64)
    rating = np.concatenate([e[1] for e in entries]).astype(float) if entries else np.empty(0)
    order = np.lexsort((b.seq[idx], b.sched[idx]))  # by start time
    idx, rating = idx[order], rating[order]
    return frame("sessions", {
        "session_id": ids("S", b.seq[idx], 9),
        "customer_id": cust_ids(eng, b.cust[idx]),
        "tutor_id": eng.tutor_ids[b.tutor[idx]],
        "subject": _SUBJ[b.subj[idx]],
        "start_time": dt(b.sched[idx]),
        "end_time": dt(b.sched[idx] + b.dur[idx].astype(np.int64) * 60),
        "rating": rating,
        "status": _BOOKING_STATUS[b.status[idx]],
        "updated_at": dt(b.sched[idx]),
        "price": session_prices(b.subj[idx], b.dur[idx], b.status[idx]),
    })


def calls(eng, entries: list) -> pd.DataFrame:
    order = np.argsort(np.concatenate([e["seq"] for e in entries]), kind="stable") if entries else None
    cat = (lambda k: np.concatenate([e[k] for e in entries])[order]) if entries else (lambda k: np.empty(0, np.int64))
    return frame("inbound_calls", {
        "call_id": ids("K", cat("seq"), 9),
        "customer_id": cust_ids(eng, cat("cust")),
        "call_date": dt(cat("t")),
        "duration_s": cat("dur").astype(np.int64),
        "reason_code": np.array(CALL_REASONS, dtype=object)[cat("reason").astype(np.int64)],
    })


def tutors(eng, at: int, sessions_df: pd.DataFrame) -> pd.DataFrame:
    t = eng.t
    n = eng.n_tutors
    status = np.where(t["left_t"] <= at, "inactive", np.where(t["hired_t"] + ONBOARDING > at, "onboarding", "active"))
    rated = sessions_df.dropna(subset=["rating"])
    stats = rated.groupby("tutor_id").agg(r=("rating", "mean"), last=("start_time", "max"))
    pos = pd.Series(np.arange(n), index=eng.tutor_ids)
    r = np.full(n, np.nan)
    last = np.zeros(n, dtype=np.int64)
    k = pos.reindex(stats.index).to_numpy()
    r[k] = np.round(stats["r"].to_numpy(), 2)
    last[k] = stats["last"].to_numpy().astype("datetime64[s]").astype(np.int64)
    became = t["hired_t"] + ONBOARDING
    upd = np.maximum.reduce([t["hired_t"], np.where(became <= at, became, 0),
                             np.where(t["left_t"] <= at, t["left_t"], 0), last])
    subj = [";".join(SUBJECTS[s] for s in [int(p)] + [j for j in range(16) if (m >> j) & 1 and j != p])
            for p, m in zip(t["primary"].tolist(), t["mask"].tolist())]
    out = frame("tutors", {
        "tutor_id": eng.tutor_ids, "name": t["name"], "subjects": np.array(subj, dtype=object),
        "region": _STATE[t["state"]], "status": status.astype(object), "rating_avg": r,
        "hired_at": dt(t["hired_t"]), "updated_at": dt(upd),
    })
    return out.sort_values("tutor_id", ignore_index=True)


def availability(eng, at: int) -> pd.DataFrame:
    """Weekly blocks (UTC weekday/hours, end exclusive) of tutors who have not left."""
    keep = eng.t["left_t"] > at
    bits = (eng.avail & keep[:, None]).reshape(-1, 7, 24).astype(np.int8)
    pad = np.zeros(bits.shape[:2] + (1,), dtype=np.int8)
    d = np.diff(np.concatenate([pad, bits, pad], axis=2), axis=2)
    st = np.argwhere(d == 1)
    en = np.argwhere(d == -1)
    out = frame("tutor_availability", {
        "tutor_id": eng.tutor_ids[st[:, 0]], "weekday": st[:, 1].astype(np.int64),
        "start_hour": st[:, 2].astype(np.int64), "end_hour": en[:, 2].astype(np.int64),
    })
    return out.sort_values(["tutor_id", "weekday", "start_hour"], ignore_index=True)


def campaigns(camp: dict) -> pd.DataFrame:
    n = camp["subj"].size
    return frame("campaigns", {
        "campaign_id": ids("CP", np.arange(1, n + 1), 4), "subject": _SUBJ[camp["subj"]],
        "channel": np.array(RECRUIT_CHANNELS, dtype=object)[camp["chan"]],
        "daily_budget": camp["budget"].astype(float),
        "status": np.where(camp["active"], "active", "paused").astype(object),
        "cost_per_hire": camp["cph"].astype(float), "updated_at": dt(camp["updated_t"]),
    })
