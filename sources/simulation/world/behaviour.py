"""How customers behave: churn hazard, support calls, ratings, booking outcomes.

Pure functions of engine state arrays; every coefficient lives here so the marketplace's
behaviour can be read (and tuned) in one place.
"""
from __future__ import annotations

import numpy as np

from domain.contract import CALL_REASONS
from sources.simulation.world.rhythms import DAY

# churn: log daily hazard = BASE + segment + channel + frailty + risk factors (see daily_hazard)
HAZARD_BASE = -8.4
SEG_CHURN = np.array([0.0, 0.15, 0.1, 0.35])                 # k12, college, adult, test_prep
CHAN_CHURN = np.array([0.0, 0.2, 0.35, -0.3, -0.1, 0.05])    # organic, paid_search, social, referral, partner, email
SEG_RATE = np.array([1.0, 0.9, 0.8, 1.25])                   # booking intensity per segment
SCRIPTED_HAZARD = 0.0004

REASON = {r: i for i, r in enumerate(CALL_REASONS)}
CALL_BASE = 0.0072
CALL_MEDIAN_S = np.array([360, 240, 480, 420, 300, 200])     # by CALL_REASONS order


def daily_hazard(c, t0: int, summer: bool, after_test: bool) -> np.ndarray:
    """Daily churn hazard of every customer from its state at t0 (float32, per customer).

    Risk factors (contract's): poor first session, calls in 14 days (worse for new customers),
    velocity dropping, inactivity, tutor changes, customer-side reschedules, goal completed
    (some leave happily); plus segment/channel baselines and a per-customer frailty.
    """
    tenure = (t0 - c.signup_t) / DAY
    has_done = c.last_completed > 0
    idle = (t0 - np.where(has_done, c.last_completed, c.signup_t)) / DAY
    new = tenure < 45
    fr = c.first_rating
    log_h = (HAZARD_BASE + SEG_CHURN[c.seg] + CHAN_CHURN[c.chan] + c.frailty
             + np.where(tenure < 30, 0.5, np.where(tenure < 90, 0.2, 0.0))
             + 1.1 * (fr < 3) + 0.3 * (fr == 3) + 0.7 * (c.first_status == 4)
             + 0.9 * ((c.n_resolved == 0) & (tenure > 10))
             + 0.4 * np.minimum(c.calls14, 3) * np.where(new, 1.8, 1.0)
             + 0.7 * ((c.prev28 >= 6) & (c.last28 * 2.5 <= c.prev28))
             + 0.03 * np.minimum(np.maximum(idle, 0), 75)
             + 0.3 * np.minimum(c.tutor_changes, 3)
             + 0.2 * np.minimum(c.cust_resched, 4)
             + np.where(c.goal_status == 2, np.where(t0 - c.goal_t < 30 * DAY, 1.2, 0.5), 0.0)
             + 0.6 * (c.status == 1)
             + 0.4 * (t0 - c.last_bad < 7 * DAY) + 0.5 * (t0 - c.last_noshow < 7 * DAY))
    if summer:
        log_h = log_h + 0.4 * (c.seg <= 1)
    if after_test:
        log_h = log_h + 0.5 * (c.seg == 3)
    h = np.minimum(np.exp(log_h), 0.25).astype(np.float32)
    h[c.kind == 2] = SCRIPTED_HAZARD
    h[c.signup_t > t0] = 0.0
    return h


def call_rate(c, t0: int, billing_days: bool) -> np.ndarray:
    """Expected inbound calls per day for every customer (unhappy and new customers call more)."""
    tenure = (t0 - c.signup_t) / DAY
    unhappy = 4.0 * (t0 - c.last_bad < 7 * DAY) + 5.0 * (t0 - c.last_noshow < 7 * DAY)
    lam = CALL_BASE * (1 + unhappy + 1.2 * (tenure < 14) + 1.5 * (c.status == 1)) * np.exp(0.45 * c.frailty)
    return lam * (1.6 if billing_days else 1.0) * (c.signup_t <= t0) * (c.status != 2) * (c.kind != 2)


def call_reasons(rng: np.random.Generator, bad: np.ndarray, noshow: np.ndarray) -> np.ndarray:
    """Reason codes (index into CALL_REASONS) given recent bad ratings / tutor no-shows."""
    n = bad.size
    # billing, scheduling, tutor_quality, technical, cancellation, general
    p = np.tile([0.35, 0.25, 0.03, 0.2, 0.0, 0.17], (n, 1))
    p[bad] = [0.1, 0.1, 0.6, 0.05, 0.0, 0.15]
    p[noshow] = [0.1, 0.5, 0.3, 0.02, 0.0, 0.08]
    return (rng.random(n)[:, None] > p.cumsum(axis=1)).sum(axis=1).clip(0, len(CALL_REASONS) - 1)


def call_durations(rng: np.random.Generator, reason: np.ndarray) -> np.ndarray:
    return np.maximum(20, rng.lognormal(np.log(CALL_MEDIAN_S[reason]), 0.6)).astype(np.int64)


def ratings(rng: np.random.Generator, quality: np.ndarray, lenient: np.ndarray) -> np.ndarray:
    """1-5 stars from the tutor's (effective) latent quality and the customer's leniency."""
    z = 0.9 * quality + 0.5 * lenient + rng.normal(0, 0.75, quality.size)
    return (1 + (z > -2.3) + (z > -1.65) + (z > -0.95) + (z > 0.2)).astype(np.float32)


def outcomes(rng: np.random.Generator, unreliable: np.ndarray, engaged: np.ndarray):
    """Planned outcome of new bookings: (status, rescheduled_by) codes.

    status 1 completed, 2 cancelled, 3 rescheduled, 4 no_show (the tutor did not show);
    rescheduled_by 1 tutor, 2 customer.
    """
    n = unreliable.size
    risk = np.exp(0.5 * unreliable)
    p_tut_res = 0.06 * risk
    p_cus_res = 0.13 * np.where(engaged < -0.5, 1.3, 1.0)
    p_cancel = 0.085 * np.where(engaged < -0.5, 1.4, 1.0)
    p_noshow = 0.022 * np.exp(0.6 * unreliable)
    u = rng.random(n)
    c1 = p_tut_res
    c2 = c1 + p_cus_res
    c3 = c2 + p_cancel
    c4 = c3 + p_noshow
    status = np.select([u < c1, u < c2, u < c3, u < c4], [3, 3, 2, 4], 1).astype(np.int8)
    rby = np.select([u < c1, u < c2], [1, 2], 0).astype(np.int8)
    return status, rby
