"""Customer lifetime value and revenue at risk: whom CS should call first is risk times worth.

    value = lifetime_value(history, at_ns, probability, revenue_per_session)

For every customer eligible at T (the rows and order of features_at), from the customer's own pattern:

* sessions_per_month: completed sessions in the last 90 days (fewer when the customer is newer: their
  days with us, at least 14) scaled to 30 days;
* price: the mean price of their completed sessions in the last 90 days where the source gives one
  (the contract's optional sessions.price), else the configured revenue per session;
* survival implied by the churn model: a constant hazard with the model's 30-day probability p,
  lambda = -ln(1 - p) / 30 per day, so the expected days with us over the next year are
  (1 - exp(-365 lambda)) / lambda (365 when p = 0);
* clv = sessions_per_month / 30 x price x expected days: expected revenue over the next 12 months;
* revenue_at_risk = p x clv (the issue's definition: what the next month's churn risk puts in play).

The constant hazard is a simplification: risk changes as behaviour does, and the daily scoring
recomputes both every day.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from domain.churn.features import History
from domain.customers.triggers import DAY_NS

HORIZON_DAYS = 365
FREQUENCY_DAYS = 90
MIN_TENURE_DAYS = 14
PRICE_DAYS = 90


def expected_days(probability: np.ndarray, horizon_days: int = 30, over_days: int = HORIZON_DAYS) -> np.ndarray:
    """Expected days still a customer over the next `over_days`, with a constant hazard giving
    `probability` of churning within `horizon_days`."""
    p = np.clip(np.asarray(probability, dtype=float), 0.0, 1 - 1e-9)
    lam = -np.log1p(-p) / horizon_days
    with np.errstate(divide="ignore", invalid="ignore"):
        days = np.where(lam > 1e-12, -np.expm1(-lam * over_days) / np.where(lam > 1e-12, lam, 1.0), over_days)
    return days


def lifetime_value(h: History, at_ns: int, probability: np.ndarray, revenue_per_session: float,
                   horizon_days: int = 30) -> pd.DataFrame:
    """customer_id, sessions_per_month, price, price_known, clv, revenue_at_risk for the customers eligible
    at T (same rows and order as domain.churn.features.features_at); `probability` is aligned with them."""
    who = np.flatnonzero(h.eligible(at_ns))
    n = h.n
    upto = np.searchsorted(h.s_t, at_ns, side="right")
    sc, st, done = h.s_code[:upto], h.s_t[:upto], h.s_done[:upto]
    age = at_ns - st
    recent = np.bincount(sc[done & (age < FREQUENCY_DAYS * DAY_NS)], minlength=n)
    tenure = (at_ns - h.signup) / DAY_NS
    window = np.clip(tenure, MIN_TENURE_DAYS, FREQUENCY_DAYS)
    per_month = recent / window * 30.0
    price = h.s_price[:upto]
    priced = done & ~np.isnan(price) & (age < PRICE_DAYS * DAY_NS)
    paid = np.bincount(sc[priced], weights=price[priced], minlength=n)
    count = np.bincount(sc[priced], minlength=n)
    known = count > 0
    unit = np.where(known, paid / np.maximum(count, 1), float(revenue_per_session))
    p = np.asarray(probability, dtype=float)
    per_month, unit, known = per_month[who], unit[who], known[who]
    clv = per_month / 30.0 * unit * expected_days(p, horizon_days)
    return pd.DataFrame({"customer_id": h.ids[who], "sessions_per_month": per_month, "price": unit,
                         "price_known": known, "clv": clv, "revenue_at_risk": p * clv})


def worklist_share(revenue_at_risk: pd.Series, top: int) -> float:
    """Share of all revenue at risk held by the `top` customers with the most of it (0 when there is none)."""
    r = pd.to_numeric(revenue_at_risk, errors="coerce").fillna(0.0).clip(lower=0.0)
    total = float(r.sum())
    return float(r.nlargest(top).sum() / total) if total > 0 else 0.0
