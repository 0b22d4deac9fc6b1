"""Return on recruiting spend over a horizon that matches the decision.

A hire is paid for once and serves for months, so a first-week ROI makes every hire look bad and
every cut look free. Here one week's spend change is followed over ``horizon_weeks`` (8):

- a hire (or a week's extra budget buying ``spend / cost_per_hire`` hires) starts serving after
  ``onboarding_weeks``; in week w it serves ``min(hires x tutor hours a week, sessions at stake a
  week)`` sessions, times ``weekly_retention ** w`` (the chance the new tutor is still active);
  revenue = sessions x revenue per session. ``roi`` = (revenue - spend) / spend over the horizon;
  ``payback_weeks`` = the week in which cumulative revenue first covers the spend (searched over a
  year; None if never).
- a cut (or a pause) saving ``spend`` forgoes those hires: ``sessions_at_risk`` is the capacity they
  would have served over the horizon, and ``sessions_lost`` the part of it the sessions at stake
  (today's shortfall, assumed to persist) would have used. With sessions lost, ``roi`` = (saving -
  lost revenue) / saving; with none (a surplus), there is no return to state — ``roi`` is None and
  the card shows the sessions put at risk and the share of them that would make the cut a loss
  (``break_even_share``).
``spend_week`` repeats ``spend`` (one week's change) for readers of the earlier weekly dict.
Assumptions (``Assumptions``, stated on every card): the sessions at stake stay at this week's
level over the horizon; a hire serves only hours that need a tutor; revenue is the configured
revenue per session (gross, before tutor pay).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

PAYBACK_SEARCH_WEEKS = 52


@dataclass(frozen=True)
class Assumptions:
    horizon_weeks: int = 8
    onboarding_weeks: int = 1
    weekly_retention: float = 0.97  # ~70 % of new tutors still active after 12 weeks
    revenue_per_session: float = 45.0

    def text(self) -> str:
        return (f"{self.horizon_weeks}-week horizon; hires serve from week {self.onboarding_weeks + 1}, "
                f"{self.weekly_retention:.0%} still active each next week; ${self.revenue_per_session:,.0f} per "
                f"session; the sessions at stake stay at this week's level")


def _weekly_sessions(hires: float, tutor_hours_week: float, at_stake_week: float, a: Assumptions,
                     weeks: int) -> list[float]:
    cap = max(hires, 0.0) * max(tutor_hours_week, 0.0)
    return [(w >= a.onboarding_weeks) * a.weekly_retention ** w * min(cap, max(at_stake_week, 0.0))
            for w in range(weeks)]


def hire_return(spend: float, cost_per_hire: float | None, tutor_hours_week: float, at_stake_week: float,
                a: Assumptions = Assumptions()) -> dict:
    """Return of spending ``spend`` on hires: {spend, hires, sessions, revenue, roi, payback_weeks,
    horizon_weeks, assumptions}; roi None without spend or cost per hire."""
    out = {"kind": "hire", "spend": float(spend), "spend_week": float(spend), "hires": None, "sessions": None, "revenue": None, "roi": None,
           "payback_weeks": None, "horizon_weeks": a.horizon_weeks, "assumptions": asdict(a)}
    if not spend or spend <= 0 or not cost_per_hire or cost_per_hire <= 0:
        return out
    hires = spend / cost_per_hire
    weekly = _weekly_sessions(hires, tutor_hours_week, at_stake_week, a, max(a.horizon_weeks, PAYBACK_SEARCH_WEEKS))
    sessions = sum(weekly[:a.horizon_weeks])
    revenue = sessions * a.revenue_per_session
    cumulative, payback = 0.0, None
    for w, s in enumerate(weekly):
        cumulative += s * a.revenue_per_session
        if cumulative >= spend:
            payback = w + 1
            break
    return {**out, "hires": hires, "sessions": sessions, "revenue": revenue, "roi": (revenue - spend) / spend,
            "payback_weeks": payback}


def saving_return(saving: float, cost_per_hire: float | None, tutor_hours_week: float, at_stake_week: float,
                  a: Assumptions = Assumptions()) -> dict:
    """What saving ``saving`` on hires gives up: {saving, hires, sessions_at_risk, revenue_at_risk,
    sessions_lost, revenue_lost, roi, break_even_share, ...}; roi None when no session is expected lost."""
    out = {"kind": "saving", "saving": float(saving), "spend": float(saving), "spend_week": float(saving), "hires": None, "sessions_at_risk": None,
           "revenue_at_risk": None, "sessions_lost": None, "revenue_lost": None, "sessions": None, "revenue": None,
           "roi": None, "break_even_share": None, "payback_weeks": None, "horizon_weeks": a.horizon_weeks,
           "assumptions": asdict(a)}
    if not saving or saving <= 0 or not cost_per_hire or cost_per_hire <= 0:
        return out
    hires = saving / cost_per_hire
    capacity = sum(_weekly_sessions(hires, tutor_hours_week, float("inf"), a, a.horizon_weeks))
    lost = sum(_weekly_sessions(hires, tutor_hours_week, at_stake_week, a, a.horizon_weeks))
    at_risk_revenue = capacity * a.revenue_per_session
    out.update({"hires": hires, "sessions_at_risk": capacity, "revenue_at_risk": at_risk_revenue,
                "sessions_lost": lost, "revenue_lost": lost * a.revenue_per_session,
                "sessions": lost, "revenue": lost * a.revenue_per_session,
                "break_even_share": min(saving / at_risk_revenue, 1.0) if at_risk_revenue > 0 else None})
    if lost > 0:
        out["roi"] = (saving - lost * a.revenue_per_session) / saving
    return out
