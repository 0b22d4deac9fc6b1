"""domain.forecasting.pickup: booked now + what is still to come, on bookings generated with a known booking curve."""
import numpy as np
import pandas as pd
import pytest

from domain.forecasting.pickup import apply_pickup, booked_now, fit_pickup, on_books_by_lead, with_pickup

AT = pd.Timestamp("2024-05-01 12:00")


def generated_bookings(seed: int = 0, weeks: int = 9, rate: float = 4.0, ramp: float = 1.0) -> pd.DataFrame:
    """Two subjects, Poisson bookings per hour, each booked uniformly 0-96 h ahead; 10 % later cancelled.
    Hours after AT are booked ``ramp`` times as much (a subject heading into a shortage)."""
    rng = np.random.default_rng(seed)
    hours = pd.date_range(AT - pd.Timedelta(weeks=weeks), AT + pd.Timedelta(hours=168), freq="h", inclusive="left")
    rows = []
    for subject in ("math", "physics"):
        shape = 0.2 + np.sin(np.pi * (hours.hour.to_numpy() % 24) / 24) ** 2
        mu = rate * shape * np.where(hours >= AT, ramp if subject == "math" else 1.0, 1.0)
        n = rng.poisson(mu)
        ts = np.repeat(hours, n)
        lead = rng.uniform(0, 96, len(ts))
        created = ts - pd.to_timedelta(lead, unit="h")
        cancelled = rng.random(len(ts)) < 0.1
        updated = created + (ts - created) * rng.uniform(0, 1, len(ts))
        rows.append(pd.DataFrame({"subject": subject, "scheduled_time": ts, "created_at": created,
                                  "status": np.where(cancelled, "cancelled", "completed"),
                                  "updated_at": np.where(cancelled, updated, ts), "mu": np.repeat(mu, n)}))
    b = pd.concat(rows, ignore_index=True)
    b["updated_at"] = pd.to_datetime(b["updated_at"])
    future = b["scheduled_time"] >= AT
    b.loc[future & (b["status"] == "completed"), "status"] = "scheduled"
    return b[b["created_at"] <= AT].reset_index(drop=True)  # what the store holds at AT


def test_on_books_counts_by_lead_hand_made():
    h = pd.Timestamp("2024-05-01 10:00")
    b = pd.DataFrame({"subject": ["m"] * 3, "scheduled_time": [h] * 3,
                      "created_at": [h - pd.Timedelta(hours=30), h - pd.Timedelta(hours=5), h - pd.Timedelta(hours=30)],
                      "status": ["completed", "completed", "cancelled"],
                      "updated_at": [h, h, h - pd.Timedelta(hours=10)]})
    out = on_books_by_lead(b, h, h + pd.Timedelta(hours=1), leads=(0, 6, 12, 48)).iloc[0]
    # 48 h ahead: nothing; 12 h: the early booking and the one cancelled 10 h before; 6 h: the cancelled one has gone
    assert (out["final"], out["k48"], out["k12"], out["k6"], out["k0"]) == (2, 0, 2, 1, 2)


def test_booking_curve_and_never_below_booked():
    b = generated_bookings()
    coefs = fit_pickup(b, AT)
    share = dict(zip(coefs["leads"], coefs["booked_share"]))
    assert share[0] == pytest.approx(1.0, abs=0.02) and 0.4 < share[48] < 0.65 and share[120] < 0.05
    hours = pd.date_range(AT, periods=168, freq="h")
    fc = pd.DataFrame({"subject": "physics", "ts": hours, "yhat": 0.5, "yhat_lower": 0.1, "yhat_upper": 2.0})
    out = apply_pickup(fc, booked_now(b, AT), AT, coefs)
    assert (out["yhat"] >= out["booked"]).all() and (out["yhat_lower"] >= out["booked"]).all()
    assert (out["yhat_lower"] <= out["yhat"]).all() and (out["yhat"] <= out["yhat_upper"]).all()


def test_pickup_follows_a_ramp_the_model_has_not_seen():
    b = generated_bookings(seed=1, ramp=2.0)
    hours = pd.date_range(AT, periods=168, freq="h")
    shape = 0.2 + np.sin(np.pi * (hours.hour.to_numpy() % 24) / 24) ** 2
    fc = pd.concat([pd.DataFrame({"subject": s, "ts": hours, "yhat": 4.0 * shape, "yhat_lower": 2.0 * shape,
                                  "yhat_upper": 8.0 * shape}) for s in ("math", "physics")])
    out, _ = with_pickup(fc, b, AT)
    near = out[out["ts"] < AT + pd.Timedelta(hours=48)].groupby("subject")[["yhat", "unconditional"]].sum()
    expected_near = 4.0 * shape[:48].sum()
    assert near.loc["math", "yhat"] == pytest.approx(2 * expected_near, rel=0.2)  # the model alone says 1x
    assert near.loc["physics", "yhat"] == pytest.approx(expected_near, rel=0.15)


def test_censored_hours_keep_the_unconstrained_forecast():
    hours = pd.date_range(AT, periods=3, freq="h")
    fc = pd.DataFrame({"subject": "m", "ts": hours, "yhat": 5.0, "yhat_lower": 3.0, "yhat_upper": 8.0})
    booked = pd.DataFrame({"subject": "m", "ts": hours, "booked": 2.0})
    none_to_come = {"leads": [0, 168], "a": [0.0, 0.0], "b": [0.0, 0.0]}
    full = pd.DataFrame({"subject": "m", "ts": hours, "available_hours": [0.0, 1.0, 0.0]})
    out = apply_pickup(fc, booked, AT, none_to_come, open_hours=full)
    assert out["yhat"].tolist() == [5.0, 2.0, 5.0]  # all tutors booked: customers could not book, demand is the model's
