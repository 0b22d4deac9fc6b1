"""The synthetic marketplace generator: contract shape, consistency, realism, planted incidents,
churn, determinism and live mode. Contract definitions are recomputed here with plain pandas."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from domain.contract import CALL_REASONS, CHANNELS, RECORDS, SEGMENTS, SUBJECTS, US_STATES
from sources.simulation import Marketplace, generate
from sources.simulation.world.rhythms import state_offsets

END = datetime(2025, 3, 10, 15)
N, DAYS = 2000, 90
D = timedelta(days=1)


@pytest.fixture(scope="module")
def mp() -> Marketplace:
    return generate(customers=N, days=DAYS, seed=7, end=END)


@pytest.fixture(scope="module")
def f(mp) -> dict[str, pd.DataFrame]:
    return mp.frames


def _window(df: pd.DataFrame, col: str, mp) -> pd.DataFrame:
    return df[(df[col] > mp.start) & (df[col] <= mp.end)]


# --- contract shape ---------------------------------------------------------------------------

def test_frames_have_the_contract_columns_and_types(mp, f):
    assert set(f) == set(RECORDS)
    assert mp.start == END - timedelta(days=DAYS) and mp.end == END
    for name, rec in RECORDS.items():
        df = f[name]
        assert list(df.columns) == rec.columns, name
        assert len(df) > 0, name
        for fld in rec.fields:
            col = df[fld.name]
            if fld.kind in ("date", "datetime"):
                assert pd.api.types.is_datetime64_any_dtype(col) and getattr(col.dt, "tz", None) is None
            elif fld.kind == "int":
                assert pd.api.types.is_integer_dtype(col), (name, fld.name)
            elif fld.kind == "float":
                assert pd.api.types.is_float_dtype(col), (name, fld.name)
            else:
                assert col.dropna().map(type).eq(str).all(), (name, fld.name)
            if fld.required:
                assert col.notna().all(), (name, fld.name)
            if fld.vocab:
                assert set(col.dropna()) <= set(fld.vocab), (name, fld.name)
        assert not df.duplicated(list(rec.key)).any(), name
    c = f["customers"]
    assert set(c["segment"]) == set(SEGMENTS) and set(c["acquisition_channel"]) == set(CHANNELS)
    assert set(c["region"]) <= set(US_STATES)
    assert (c["signup_date"] != c["signup_date"].dt.normalize()).any()  # a full timestamp: the time of day is kept
    assert set(f["sessions"]["subject"]) == set(SUBJECTS)
    assert set(f["inbound_calls"]["reason_code"]) <= set(CALL_REASONS)
    assert f["sessions"]["rating"].dropna().isin([1, 2, 3, 4, 5]).all()
    assert (c["goal_completed_at"].notna() == (c["goal_status"] == "completed")).all()
    assert (c["churned_at"].notna() == (c["status"] == "churned")).all()
    assert (c["goal"].isna() == (c["goal_status"] == "none")).all()
    assert (c["updated_at"] <= END).all() and (c["updated_at"] >= c["signup_date"]).all()
    av = f["tutor_availability"]
    assert av["weekday"].between(0, 6).all() and (av["start_hour"] < av["end_hour"]).all()
    assert av["end_hour"].le(24).all()


def test_references_resolve(f):
    customers, tutors = set(f["customers"]["customer_id"]), set(f["tutors"]["tutor_id"])
    for name in ("sessions", "bookings", "inbound_calls"):
        assert set(f[name]["customer_id"]) <= customers, name
    for name in ("sessions", "bookings", "tutor_availability"):
        assert set(f[name]["tutor_id"]) <= tutors, name
    inactive = set(f["tutors"].loc[f["tutors"]["status"] == "inactive", "tutor_id"])
    assert not inactive & set(f["tutor_availability"]["tutor_id"])


def test_bookings_and_sessions_agree(mp, f):
    b, s = f["bookings"], f["sessions"]
    assert (b["created_at"] < b["scheduled_time"]).all()
    assert (b["updated_at"] >= b["created_at"]).all() and (b["updated_at"] <= END).all()
    past = b[b["scheduled_time"] <= END]
    assert not (past["status"] == "scheduled").any()
    future = b[b["scheduled_time"] > END]
    assert (future["status"] == "scheduled").mean() > 0.8
    assert future["scheduled_time"].max() <= END + timedelta(days=17)
    assert future["scheduled_time"].max() >= END + timedelta(days=10)
    assert ((b["status"] == "rescheduled") == b["rescheduled_by"].notna()).all()
    assert set(b["rescheduled_by"].dropna()) == {"tutor", "customer"}
    happened = past[past["status"].isin(["completed", "cancelled", "no_show"])]
    key = ["customer_id", "tutor_id", "subject"]
    m = happened.merge(s, left_on=key + ["scheduled_time"], right_on=key + ["start_time"],
                       how="left", suffixes=("_b", "_s"), indicator=True)
    assert (m["_merge"] == "both").all()
    assert (m["status_b"] == m["status_s"]).all()
    assert len(m) == len(happened) == len(s)  # one session per booking that happened, and no other
    assert (s["start_time"] <= END).all() and (s["end_time"] > s["start_time"]).all()
    assert s.loc[s["status"] != "completed", "rating"].isna().all()
    assert (s["session_id"].str[1:] .isin(b["booking_id"].str[1:])).all()


# --- realism ------------------------------------------------------------------------------------

def test_volumes_follow_the_scaled_targets(mp, f):
    scale = N / 50_000
    sessions = len(_window(f["sessions"], "start_time", mp)) / DAYS
    bookings = len(_window(f["bookings"], "created_at", mp)) / DAYS
    calls = len(_window(f["inbound_calls"], "call_date", mp)) / DAYS
    assert sessions == pytest.approx(3000 * scale, rel=0.25)
    assert bookings == pytest.approx(4000 * scale, rel=0.25)
    assert calls == pytest.approx(500 * scale, rel=0.25)
    assert len(f["tutors"]) == pytest.approx(N / 10, rel=0.02)
    alive = (f["customers"]["status"] != "churned").sum()
    assert alive == pytest.approx(N, rel=0.15)
    assert set(f["tutors"]["status"]) == {"active", "onboarding", "inactive"}
    assert len(f["campaigns"]) >= 16 and set(f["campaigns"]["status"]) == {"active", "paused"}


def _local(f, mp) -> pd.DataFrame:
    s = f["sessions"].merge(f["customers"][["customer_id", "region"]], on="customer_id")
    off = dict(zip(US_STATES, state_offsets(int(pd.Timestamp(mp.end).timestamp())).tolist()))
    return s.assign(local=s["start_time"] + pd.to_timedelta(s["region"].map(off), unit="h"))


def test_evening_peak_and_weekly_shape(mp, f):
    s = _local(f, mp)
    hour = s["local"].dt.hour.value_counts(normalize=True).reindex(range(24), fill_value=0)
    assert hour[16:21].sum() > 0.55
    assert hour[16:21].mean() > 2.5 * hour[9:14].mean()
    assert hour[0:7].sum() < 0.02
    day = s["local"].dt.day_of_week.value_counts(normalize=True).sort_index()
    assert day[4] < 0.85 * day[0:4].mean() and day[5] < 0.85 * day[0:4].mean()
    sunday = s[s["local"].dt.day_of_week == 6]["local"].dt.hour
    assert (sunday >= 17).mean() > (sunday < 14).mean()
    # UTC: the US evening is the marketplace's busiest time
    utc = s["start_time"].dt.hour.value_counts()
    assert utc.idxmax() in (21, 22, 23, 0)


def test_subject_demand_follows_test_dates_and_holidays():
    mp = generate(customers=1500, days=120, seed=3, end=datetime(2025, 1, 15))
    s = _window(mp.frames["sessions"], "start_time", mp)
    day = s.set_index("start_time").resample("D").size()
    christmas = day.loc["2024-12-24":"2024-12-26"].mean()
    before = day.loc["2024-12-02":"2024-12-13"].mean()
    assert christmas < 0.6 * before
    sat = s[s["subject"] == "sat_prep"].set_index("start_time").resample("D").size()
    # the weeks before the Dec 7 SAT are busier than the weeks right after it
    assert sat.loc["2024-11-20":"2024-12-06"].mean() > 1.3 * sat.loc["2024-12-08":"2024-12-20"].mean()


def test_ratings_follow_tutor_quality(mp, f):
    r = f["sessions"].groupby("tutor_id")["rating"].agg(["mean", "count"])
    r = r[r["count"] >= 10]
    q = mp.tutor_quality.reindex(r.index)
    assert len(r) > 50
    assert np.corrcoef(r["mean"], q)[0, 1] > 0.5
    t = f["tutors"].set_index("tutor_id")
    assert t.loc[r.index, "rating_avg"].round(2).equals(r["mean"].round(2))


def test_generation_is_deterministic():
    a = generate(customers=400, days=30, seed=11, end=END)
    b = generate(customers=400, days=30, seed=11, end=END)
    c = generate(customers=400, days=30, seed=12, end=END)
    for name in RECORDS:
        pd.testing.assert_frame_equal(a.frames[name], b.frames[name])
    assert a.incidents == b.incidents
    assert not a.frames["sessions"].equals(c.frames["sessions"])


# --- planted incidents -------------------------------------------------------------------------

def _first_sessions(s: pd.DataFrame) -> pd.DataFrame:
    s = s[s["status"].isin(["completed", "no_show"])]
    return s.sort_values("start_time", kind="stable").drop_duplicates("customer_id")


def _weekly_success(first: pd.DataFrame, lo, hi) -> pd.DataFrame:
    w = first[(first["start_time"] > lo) & (first["start_time"] <= hi)]
    rated = w[(w["status"] == "completed") & w["rating"].notna()]
    return pd.DataFrame({"n": w.groupby("tutor_id").size(),
                         "rate": (rated["rating"] >= 4).groupby(rated["tutor_id"]).mean()})


def test_tutor_decline_is_the_only_big_drop(mp, f):
    (inc,) = [i for i in mp.incidents if i["kind"] == "tutor_decline"]
    assert inc["week_start"] == END - 7 * D
    first = _first_sessions(f["sessions"])
    prev = _weekly_success(first, END - 14 * D, END - 7 * D)
    last = _weekly_success(first, END - 7 * D, END)
    both = prev.join(last, lsuffix="_prev", rsuffix="_last", how="inner")
    both = both[(both["n_prev"] >= 8) & (both["n_last"] >= 8)]
    drop = both["rate_prev"] - both["rate_last"]
    assert list(drop[drop > 0.2].index) == [inc["tutor_id"]]
    t = both.loc[inc["tutor_id"]]
    assert t["n_prev"] >= 10 and t["n_last"] >= 10
    assert t["rate_prev"] == pytest.approx(inc["prev_rate"], abs=1e-3)
    assert t["rate_last"] == pytest.approx(inc["new_rate"], abs=1e-3)


def _fires(f, T) -> dict[str, set]:
    c = f["customers"]
    c = c[(c["signup_date"] <= T) & ~(c["churned_at"] <= T)]
    s = f["sessions"][f["sessions"]["start_time"] <= T]
    done = s[s["status"] == "completed"]
    calls = f["inbound_calls"]
    calls = calls[(calls["call_date"] > T - 14 * D) & (calls["call_date"] <= T)].groupby("customer_id").size()
    first = _first_sessions(s).set_index("customer_id")["rating"]
    n_done = done.groupby("customer_id").size()
    last_done = done.groupby("customer_id")["start_time"].max()

    def velocity(lo, hi):
        w = done[(done["start_time"] > T - lo * D) & (done["start_time"] <= T - hi * D)]
        return w.groupby("customer_id").size().reindex(c["customer_id"], fill_value=0) / 4

    new = c[(T - c["signup_date"] >= 7 * D) & (T - c["signup_date"] <= 14 * D)]
    early = done.merge(new[["customer_id", "signup_date"]], on="customer_id")
    early = early[(early["start_time"] >= early["signup_date"]) & (early["start_time"] < early["signup_date"] + 7 * D)]
    early = early.groupby("customer_id").size()
    v_prev, v_now = velocity(56, 28), velocity(28, 0)
    out = {
        "calls_14d": set(calls[calls >= 2].index),
        "first_session_low_rating": set(first[first < 3].index),
        "inactive_14d": set(n_done[n_done >= 3].index) - set(done.loc[done["start_time"] > T - 14 * D, "customer_id"]),
        "goal_completed": set(c.loc[(c["goal_status"] == "completed") & (c["goal_completed_at"] <= T), "customer_id"]),
        "day7_nudge": {x for x in new["customer_id"] if early.get(x, 0) < 3},
        "velocity_drop": set(v_prev[(v_prev >= 2) & (v_now <= 1)].index),
        "inactive_21d": set(last_done[last_done <= T - 21 * D].index),
    }
    return {k: v & set(c["customer_id"]) for k, v in out.items()}


def test_trigger_customers_fire_at_end(mp, f):
    fires = _fires(f, END)
    recorded = pd.DataFrame([i for i in mp.incidents if i["kind"] == "trigger"])
    assert set(recorded["trigger"]) == set(fires)
    for name, group in recorded.groupby("trigger"):
        assert len(group) >= 3, name
        assert set(group["customer_id"]) <= fires[name], name
    assert all(len(v) >= 3 for v in fires.values())


def test_shortage_subject_is_short_and_others_covered(mp, f):
    (inc,) = [i for i in mp.incidents if i["kind"] == "shortage"]
    assert END + timedelta(hours=12) <= inc["start"] <= END + timedelta(hours=36) and inc["end"] > inc["start"]
    s = f["sessions"][f["sessions"]["start_time"] > END - 28 * D]
    how = lambda ts: ts.dt.day_of_week * 24 + ts.dt.hour  # noqa: E731
    expected = s.groupby([s["subject"], how(s["start_time"])]).size() / 4
    hours = pd.DataFrame({"ts": pd.date_range(END, periods=169, freq="h")})
    hours["how"] = how(hours["ts"])
    t = f["tutors"][f["tutors"]["status"] == "active"]
    teach = t.assign(subject=t["subjects"].str.split(";")).explode("subject")[["tutor_id", "subject"]]
    av = f["tutor_availability"]
    av = av.loc[av.index.repeat(av["end_hour"] - av["start_hour"])]
    av = av.assign(how=av["weekday"] * 24 + av["start_hour"] + av.groupby(level=0).cumcount())[["tutor_id", "how"]]
    sched = f["bookings"][f["bookings"]["status"] == "scheduled"]
    busy = sched[["tutor_id", "scheduled_time"]].drop_duplicates().rename(columns={"scheduled_time": "ts"})
    cap = av.merge(hours, on="how").merge(teach, on="tutor_id")
    cap = cap.merge(busy.assign(busy=1), on=["tutor_id", "ts"], how="left").fillna({"busy": 0})
    open_h = (1 - cap["busy"]).groupby([cap["subject"], cap["ts"]]).sum()
    booked = sched.groupby(["subject", "scheduled_time"]).size()
    rows = []
    for subj in SUBJECTS:
        for ts, h in zip(hours["ts"], hours["how"]):
            exp = expected.get((subj, h), 0.0)
            rows.append((subj, ts, open_h.get((subj, ts), 0.0), max(exp - booked.get((subj, ts), 0), 0.0)))
    cov = pd.DataFrame(rows, columns=["subject", "ts", "open", "demand"])
    window = cov[(cov["ts"] >= inc["start"]) & (cov["ts"] < inc["end"])]
    mine = window[window["subject"] == inc["subject"]]
    assert mine["demand"].sum() > 0
    assert mine["open"].sum() / mine["demand"].sum() < 0.8
    others = cov[(cov["subject"] != inc["subject"]) & (cov["demand"] >= 0.5)]
    assert (others["open"] / others["demand"] >= 1.0).all()
    per_day = cov[cov["subject"] != inc["subject"]].groupby(["subject", cov["ts"].dt.date])[["open", "demand"]].sum()
    assert (per_day["open"] >= per_day["demand"]).all()


def test_metric_streams_and_anomalies(mp, f):
    m = f["metric_points"]
    names = m["metric"].unique()
    assert len(names) >= 24 and len(names) + 16 * 4 + 4 >= 50
    assert len(m) <= 250_000 * DAYS / 180 * 1.05
    assert (m["ts"] > mp.start).all() and (m["ts"] <= mp.end).all()
    rates = [n for n in names if n.endswith(("_rate", "_conversion", "_ctr"))]
    assert m[m["metric"].isin(rates)]["value"].between(0, 1).all()
    anomalies = [i for i in mp.incidents if i["kind"] == "metric_anomaly"]
    assert len(anomalies) >= 5
    assert sum(a["start"] >= END - 2 * D for a in anomalies) >= 2
    assert sum(a["end"] < END - 3 * D for a in anomalies) >= 2
    assert not set(mp.clean_metrics) & {a["metric"] for a in anomalies}
    assert set(mp.clean_metrics) | {a["metric"] for a in anomalies} == set(names)
    for a in anomalies:
        x = m[m["metric"] == a["metric"]].set_index("ts")["value"]
        inside = x[(x.index >= a["start"]) & (x.index < a["end"])]
        week_before = x[(x.index >= a["start"] - 7 * D) & (x.index < a["end"] - 7 * D)]
        ref = x[(x.index < a["start"]) & (x.index >= a["start"] - 14 * D)]
        resid = ref - ref.groupby(ref.index.hour).transform("median")
        rsd = 1.4826 * (resid - resid.median()).abs().median()
        if a["shape"] == "spike":
            assert inside.max() > ref.median() + 4 * rsd, a
        elif a["shape"] == "level_shift":
            assert inside.mean() > 1.35 * week_before.mean(), a
        else:
            assert inside.mean() < 0.65 * week_before.mean(), a


# --- churn ---------------------------------------------------------------------------------------

def test_churn_is_plausible_and_follows_risk(mp, f):
    c = f["customers"]
    first = _first_sessions(f["sessions"]).set_index("customer_id")["rating"]
    rates, low, high = [], [], []
    for k in range(0, DAYS - 30 + 1, 15):
        T = mp.start + k * D
        alive = c[(c["signup_date"] <= T) & ~(c["churned_at"] <= T)]
        churn = (alive["churned_at"] > T) & (alive["churned_at"] <= T + 30 * D)
        rates.append(churn.mean())
        fr = first.reindex(alive["customer_id"]).to_numpy()
        low.append(churn.to_numpy()[fr < 3].mean())
        high.append(churn.to_numpy()[fr >= 4].mean())
    assert 0.03 <= np.mean(rates) <= 0.10
    assert np.mean(low) > 1.3 * np.mean(high)


def test_true_churn_probability(mp, f):
    T = mp.start + 40 * D
    p = mp.true_churn_probability(T)
    c = f["customers"]
    alive = c[(c["signup_date"] <= T) & ~(c["churned_at"] <= T)].set_index("customer_id")
    assert set(p.index) == set(alive.index) and p.between(0, 1).all()
    y = ((alive["churned_at"] > T) & (alive["churned_at"] <= T + 30 * D)).reindex(p.index)
    assert p.mean() == pytest.approx(y.mean(), rel=0.35)
    ranks = p.rank()
    auc = (ranks[y].sum() - y.sum() * (y.sum() + 1) / 2) / (y.sum() * (~y).sum())
    assert 0.65 < auc < 0.95  # informative, but churn stays noisy even for the generator itself
    # without the unobserved frailty: the same customers, the same average level, less information
    q = mp.true_churn_probability(T, frailty=False)
    assert q.index.equals(p.index) and q.between(0, 1).all() and not np.allclose(q, p)
    q_ranks = q.rank()
    auc_q = (q_ranks[y].sum() - y.sum() * (y.sum() + 1) / 2) / (y.sum() * (~y).sum())
    assert 0.5 < auc_q < auc


# --- live mode -----------------------------------------------------------------------------------

def test_live_mode_is_idempotent_and_moves():
    a = generate(customers=800, days=40, seed=5, end=END)
    b = generate(customers=800, days=40, seed=5, end=END)
    steps = [END + timedelta(minutes=20), END + timedelta(hours=2, minutes=5), END + timedelta(hours=7)]
    parts = [a.advance(t) for t in steps]
    big = b.advance(steps[-1])
    for name, df in big.items():
        key = list(RECORDS[name].key)
        union = pd.concat([p[name] for p in parts], ignore_index=True).drop_duplicates(key, keep="last")
        pd.testing.assert_frame_equal(union.sort_values(key, ignore_index=True), df.sort_values(key, ignore_index=True))
        assert list(df.columns) == RECORDS[name].columns
    assert len(big["bookings"]) > 0 and len(big["metric_points"]) > 0
    assert (big["metric_points"]["ts"] > END).all()
    new = big["bookings"][~big["bookings"]["booking_id"].isin(a.frames["bookings"]["booking_id"])]
    assert len(new) > 0 and (new["created_at"] > END).all()
    assert (big["bookings"]["updated_at"] > END).all() and (big["bookings"]["updated_at"] <= steps[-1]).all()
    more = a.advance(END + timedelta(hours=30))
    assert len(more["sessions"]) > 0 and (more["sessions"]["start_time"] > steps[-1]).all()
    assert a.advance(END + timedelta(hours=30))["bookings"].empty  # nothing new for the same moment
