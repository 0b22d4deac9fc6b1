"""Recruiting recommendations: four rules over supply, demand and first-session numbers, each with its ROI.

Pure functions; jobs/demand/recommend.py loads the inputs, calls ``recommend`` and ``select_new``, and
writes the rows (models.derived.Recommendation). Every recommendation is a dict with rule, subject,
campaign_id, action, reason (the numbers behind it), expected_impact, roi, priority (1 = act first .. 5),
expires_at, dedup_key (``<rule>:<subject>``: one pending recommendation per rule and subject) and details
(every input number, the thresholds and a link to the forecast page).

Supply and demand are judged on *judged hours*: hours of the coming week whose open demand (forecast
sessions not yet booked, domain/supply.py) is at least ``min_open_demand`` sessions; a fraction of a
session at 4 a.m. cannot make a shortage or a surplus. *Short hours* are judged hours whose open demand
exceeds the open tutor hours.

Rules (thresholds in RuleConfig, set from config.py):

1. ``recruit.raise_budget``: in the subject's short hours demand exceeds supply by >= 20 %
   (sum of open demand >= 1.2 x sum of open tutor hours there) and at least ``min_shortfall`` sessions
   are short in the week -> raise its recruiting budget 15 % (paused campaigns only: resume them at +15 %;
   no campaign: start one sized to the shortfall).
2. ``recruit.cut_spend``: supply exceeds demand by more than 30 % in every judged hour (lowest coverage
   > 1.3) and the subject has active recruiting spend -> cut that spend 20 %.
3. ``subject.priority``: sessions booked in the last 7 days are up more than 30 % on the 7 days before
   (with >= ``growth_min_sessions`` sessions in the earlier week) -> make it a priority subject: recruit
   for the growth, or, when even the tightest judged hour stays covered at demand x (1 + growth), promote
   it with the tutors it has (no spend, no ROI). A growing subject gets no spend cut (rule 2) that run,
   nor does one under an onboarding review (rule 4).
4. ``onboarding.pause``: first-session success of the subject over 28 days is below 60 % (with >=
   ``success_min_rated`` rated first sessions) -> pause onboarding of new tutors for it pending review.

ROI (``roi``, domain/recruiting_roi.py): one week's spend change followed over ``horizon_weeks`` (8), in
dollars of the subject's recruiting campaigns. A spend increase buys spend / cost_per_hire hires, each
serving from after onboarding up to the subject's mean weekly available hours per active tutor, only in
sessions at stake (the week's shortfall under rule 1, the weekly growth under rule 3), decaying with
tutor retention: the card gives the 8-week ROI and the payback week. A cut or a pause forgoes those
hires: the card gives the sessions (and revenue) put at risk over the horizon; its ROI is stated only
when sessions are expected to be lost (a shortfall), never as a free +100 %. cost_per_hire:
budget-weighted mean of the subject's active campaigns (paused ones when none is active, the
marketplace median when the subject has none). No spend, no ROI (None). The assumptions go with the
numbers (details.roi.assumptions) and read on the card.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from urllib.parse import quote

import numpy as np
import pandas as pd

from domain.recruiting_roi import Assumptions, hire_return, saving_return
from domain.supply import available_hours

EPS = 1e-9
RULES = ("recruit.raise_budget", "recruit.cut_spend", "subject.priority", "onboarding.pause")
BALANCE_COLUMNS = ["subject", "judged_hours", "short_hours", "demand_short", "supply_short", "shortfall",
                   "min_coverage", "first_short", "open_demand", "available_hours"]

# what a recruiter may do with a pending recommendation -> the status it gets
DECISIONS = {"implement": "implemented", "dismiss": "dismissed"}


@dataclass(frozen=True)
class RuleConfig:
    shortage_gap: float = 0.20
    budget_raise: float = 0.15
    surplus_gap: float = 0.30
    budget_cut: float = 0.20
    growth: float = 0.30
    growth_min_sessions: int = 20
    min_success: float = 0.60
    success_min_rated: int = 20
    min_shortfall: float = 1.0
    min_open_demand: float = 0.25
    revenue_per_session: float = 45.0
    ttl_h: int = 72
    horizon_weeks: int = 8
    onboarding_weeks: int = 1
    weekly_retention: float = 0.97

    def assumptions(self) -> Assumptions:
        return Assumptions(self.horizon_weeks, self.onboarding_weeks, self.weekly_retention, self.revenue_per_session)

    @classmethod
    def from_settings(cls, settings) -> "RuleConfig":
        names = {"shortage_gap": "recommend_shortage_gap", "budget_raise": "recommend_budget_raise",
                 "surplus_gap": "recommend_surplus_gap", "budget_cut": "recommend_budget_cut",
                 "growth": "recommend_growth", "growth_min_sessions": "recommend_growth_min_sessions",
                 "min_success": "recommend_min_success", "success_min_rated": "recommend_success_min_rated",
                 "min_shortfall": "recommend_min_shortfall", "min_open_demand": "supply_min_open_demand",
                 "revenue_per_session": "revenue_per_session", "ttl_h": "recommendation_ttl_h",
                 "horizon_weeks": "recommend_roi_weeks", "onboarding_weeks": "recommend_onboarding_weeks",
                 "weekly_retention": "recommend_tutor_retention_weekly"}
        return cls(**{f.name: getattr(settings, names[f.name], f.default) for f in fields(cls)})


# -- inputs ------------------------------------------------------------------------------------------
def subject_balance(coverage: pd.DataFrame, min_open_demand: float = 0.25) -> pd.DataFrame:
    """Coverage rows (domain.supply.coverage, one region) -> one row per subject (BALANCE_COLUMNS).

    judged_hours: hours with open_demand >= min_open_demand; short_hours: judged hours with open_demand >
    available_hours; demand_short / supply_short: open demand / open tutor hours summed over the short
    hours; shortfall = demand_short - supply_short (sessions that cannot be served); min_coverage: lowest
    coverage over the judged hours (NaN without any); first_short: the first short hour (NaT without);
    open_demand / available_hours: summed over every hour.
    """
    if coverage.empty:
        return pd.DataFrame(columns=BALANCE_COLUMNS)
    c = coverage[["subject", "ts", "available_hours", "open_demand", "coverage"]].copy()
    judged = c["open_demand"] >= min_open_demand
    short = judged & (c["open_demand"] > c["available_hours"])
    c["judged"] = judged.astype(int)
    c["short"] = short.astype(int)
    c["demand_short"] = c["open_demand"].where(short, 0.0)
    c["supply_short"] = c["available_hours"].where(short, 0.0)
    c["judged_coverage"] = c["coverage"].where(judged)
    c["short_ts"] = c["ts"].where(short)
    out = c.groupby("subject").agg(
        judged_hours=("judged", "sum"), short_hours=("short", "sum"), demand_short=("demand_short", "sum"),
        supply_short=("supply_short", "sum"), min_coverage=("judged_coverage", "min"),
        first_short=("short_ts", "min"), open_demand=("open_demand", "sum"),
        available_hours=("available_hours", "sum")).reset_index()
    out["shortfall"] = out["demand_short"] - out["supply_short"]
    return out[BALANCE_COLUMNS]


def tutor_week_hours(tutors: pd.DataFrame, availability: pd.DataFrame, start: datetime) -> pd.Series:
    """subject -> mean weekly available hours per active tutor teaching it (tutor hours of a week as in
    domain.supply, every subject of a tutor counted in full), for what one more tutor adds."""
    empty = pd.DataFrame({"tutor_id": pd.Series(dtype=object), "subject": pd.Series(dtype=object),
                          "scheduled_time": pd.Series(dtype="datetime64[ns]"), "status": pd.Series(dtype=object)})
    week = available_hours(tutors, availability, empty, start, 168).groupby("subject")["available_hours"].sum()
    active = tutors[tutors["status"] == "active"]
    teach = active["subjects"].fillna("").astype(str).str.split(";").explode().str.strip()
    count = teach[teach != ""].groupby(teach[teach != ""]).size()
    return (week / count.reindex(week.index)).dropna().rename("tutor_hours_week")


def campaign_budget(campaigns: pd.DataFrame, subject: str) -> dict:
    """The subject's recruiting spend: active and paused daily budgets, their ids, and the cost per hire
    used for ROI (budget-weighted over active campaigns; paused ones when none is active; the marketplace
    median when the subject has no campaign; None without any campaign at all)."""
    mine = campaigns[campaigns["subject"] == subject]
    active, paused = mine[mine["status"] == "active"], mine[mine["status"] != "active"]

    def weighted(df: pd.DataFrame) -> float | None:
        w = df["daily_budget"].clip(lower=0)
        if df.empty:
            return None
        if w.sum() <= 0:
            return float(df["cost_per_hire"].mean())
        return float((df["cost_per_hire"] * w).sum() / w.sum())

    cph = weighted(active) or weighted(paused)
    source = "active campaigns" if not active.empty else "paused campaigns" if not paused.empty else None
    if cph is None and not campaigns.empty:
        cph, source = float(campaigns["cost_per_hire"].median()), "marketplace median"
    return {"active_daily": float(active["daily_budget"].sum()), "paused_daily": float(paused["daily_budget"].sum()),
            "active_ids": sorted(active["campaign_id"]), "paused_ids": sorted(paused["campaign_id"]),
            "cost_per_hire": cph, "cost_per_hire_from": source}


# -- ROI -----------------------------------------------------------------------------------------------
def roi(spend: float, cost_per_hire: float | None, tutor_hours_week: float, sessions_at_stake: float,
        cfg: "RuleConfig", saving: bool = False) -> dict:
    """The return of a spend change over the config's horizon (domain/recruiting_roi.py): ``hire_return``
    for spend, ``saving_return`` (sessions put at risk) for a cut or pause."""
    fn = saving_return if saving else hire_return
    return fn(spend, cost_per_hire, tutor_hours_week, sessions_at_stake, cfg.assumptions())


# -- rules ---------------------------------------------------------------------------------------------
def _money(x: float) -> str:
    return f"${x:,.0f}"


def _pct(x: float) -> str:
    return f"{x:.0%}" if abs(x) < 10 else f"{x:,.0f}x"


def _roi_text(r: dict) -> str:
    weeks = r["horizon_weeks"]
    if r["kind"] == "saving" and r["sessions_at_risk"] is not None:
        kept = "" if r["roi"] is None else f"; {weeks}-week ROI {r['roi']:+.0%} (share of the saving kept)"
        return (f"puts up to {r['sessions_at_risk']:.0f} sessions ({_money(r['revenue_at_risk'])}) at risk over "
                f"{weeks} weeks; a loss if more than {r['break_even_share']:.0%} of them were needed{kept}")
    if r["roi"] is None:
        return "no ROI (no spend involved)"
    back = f"pays back in week {r['payback_weeks']}" if r["payback_weeks"] else "does not pay back within a year"
    return f"{weeks}-week ROI {r['roi']:+.0%}, {back}"


def _rec(rule: str, subject: str, at: datetime, cfg: RuleConfig, *, action: str, reason: str, impact: str,
         r: dict, priority: int, campaign_id: str | None, details: dict) -> dict:
    return {
        "rule": rule, "subject": subject, "campaign_id": campaign_id, "action": action[:255], "reason": reason,
        "expected_impact": impact, "roi": None if r["roi"] is None else round(float(r["roi"]), 4),
        "priority": int(priority), "expires_at": at + timedelta(hours=cfg.ttl_h), "dedup_key": f"{rule}:{subject}",
        "details": {**details, "roi": r, "revenue_per_session": cfg.revenue_per_session,
                    "link": f"/forecast?subject={quote(subject)}"},
    }


def _raise_budget(b, budget: dict, hours: float, at: datetime, cfg: RuleConfig) -> dict | None:
    demand, supply, shortfall = float(b.demand_short), float(b.supply_short), float(b.shortfall)
    if shortfall < cfg.min_shortfall - EPS or demand < (1 + cfg.shortage_gap) * supply - EPS:
        return None
    gap = demand / supply - 1 if supply > 0 else math.inf
    subject = b.subject
    if budget["active_daily"] > 0:
        spend = cfg.budget_raise * budget["active_daily"] * 7
        action = (f"Raise the {subject} recruiting budget {cfg.budget_raise:.0%} "
                  f"(+{_money(spend / 7)}/day on {', '.join(budget['active_ids'])})")
    elif budget["paused_daily"] > 0:
        spend = (1 + cfg.budget_raise) * budget["paused_daily"] * 7
        action = (f"Resume {subject} recruiting ({', '.join(budget['paused_ids'])}, paused) at "
                  f"+{cfg.budget_raise:.0%}: {_money(spend / 7)}/day")
    else:
        needed = shortfall / hours if hours > 0 else 0.0
        spend = needed * (budget["cost_per_hire"] or 0)
        action = f"Start a {subject} recruiting campaign for ~{max(needed, 0.1):.1f} tutors this week"
    r = roi(spend, budget["cost_per_hire"], hours, shortfall, cfg)
    first = pd.Timestamp(b.first_short)
    lead_h = (first - pd.Timestamp(at)) / pd.Timedelta(hours=1)
    low = float(b.min_coverage) if pd.notna(b.min_coverage) else 0.0
    priority = 1 if low < 0.6 and lead_h <= 48 else 2 if low < 0.6 else 3
    gap_text = "no open tutor hours at all" if math.isinf(gap) else f"demand exceeds supply by {gap:.0%}"
    paused = f" Paused campaigns: {', '.join(budget['paused_ids'])}." if budget["paused_ids"] and budget["active_daily"] > 0 else ""
    reason = (f"In its {int(b.short_hours)} short hours of the coming week (first {first:%a %d %b %H:%M} UTC, "
              f"{lead_h:.0f} h ahead) {subject} has {demand:.1f} open sessions forecast against {supply:.1f} open "
              f"tutor hours: {gap_text} (rule: >= {cfg.shortage_gap:.0%}); {shortfall:.1f} sessions short, "
              f"lowest coverage {low:.0%}.{paused}")
    impact = (f"A week at this budget ({_money(spend)}) buys ~{(r['hires'] or 0):.2f} hires at "
              f"{_money(budget['cost_per_hire'] or 0)} per hire; at {hours:.0f} available hours per tutor a week they "
              f"serve up to {min((r['hires'] or 0) * hours, shortfall):.1f} of the {shortfall:.1f} sessions short a week, "
              f"{(r['sessions'] or 0):.1f} sessions over {cfg.horizon_weeks} weeks ({_money(r['revenue'] or 0)} "
              f"revenue): {_roi_text(r)}. Assumptions: {cfg.assumptions().text()}.")
    return _rec("recruit.raise_budget", subject, at, cfg, action=action, reason=reason, impact=impact, r=r,
                priority=priority, campaign_id=(budget["active_ids"] or budget["paused_ids"] or [None])[0],
                details={"demand_short": demand, "supply_short": supply, "shortfall": shortfall,
                         "gap": None if math.isinf(gap) else gap, "short_hours": int(b.short_hours),
                         "first_short": first.isoformat(), "min_coverage": low, "tutor_hours_week": hours,
                         "budget": budget, "threshold": cfg.shortage_gap, "change": cfg.budget_raise})


def _cut_spend(b, budget: dict, hours: float, at: datetime, cfg: RuleConfig) -> dict | None:
    if b.judged_hours < 1 or b.short_hours > 0 or pd.isna(b.min_coverage):
        return None
    surplus = float(b.min_coverage) - 1
    if surplus <= cfg.surplus_gap + EPS or budget["active_daily"] <= 0:
        return None
    subject, saved = b.subject, cfg.budget_cut * budget["active_daily"] * 7
    r = roi(saved, budget["cost_per_hire"], hours, max(float(b.shortfall), 0.0), cfg, saving=True)
    action = (f"Cut {subject} recruiting spend {cfg.budget_cut:.0%} "
              f"(-{_money(saved / 7)}/day on {', '.join(budget['active_ids'])})")
    reason = (f"Supply exceeds demand by more than {cfg.surplus_gap:.0%} in every one of the {int(b.judged_hours)} "
              f"judged hours of the coming week: even the tightest hour has {float(b.min_coverage):.0%} coverage "
              f"(surplus {_pct(surplus)}); {float(b.available_hours):.0f} open tutor hours for "
              f"{float(b.open_demand):.1f} open sessions over the week.")
    impact = (f"Saves {_money(saved)}/week (~{(r['hires'] or 0):.2f} fewer hires). No hour is short this week, but "
              f"the cut {_roi_text(r)} (if demand grows or tutors leave). Assumptions: {cfg.assumptions().text()}.")
    return _rec("recruit.cut_spend", subject, at, cfg, action=action, reason=reason, impact=impact, r=r,
                priority=5 if saved < 100 else 4, campaign_id=budget["active_ids"][0],
                details={"min_coverage": float(b.min_coverage), "surplus": surplus, "judged_hours": int(b.judged_hours),
                         "open_demand": float(b.open_demand), "available_hours": float(b.available_hours),
                         "tutor_hours_week": hours, "budget": budget, "threshold": cfg.surplus_gap,
                         "change": -cfg.budget_cut})


def _priority_subject(t, budget: dict, hours: float, low: float | None, at: datetime, cfg: RuleConfig) -> dict | None:
    this, last = float(t.this_week), float(t.last_week)
    if last < cfg.growth_min_sessions or this <= (1 + cfg.growth) * last + EPS:
        return None
    subject, growth = t.subject, this / last - 1
    extra = this - last
    # Room for the growth: even the tightest judged hour of next week stays covered with demand x (1 + growth)
    # (conservative: the forecast may already hold part of the growth).
    absorbed = low is not None and low >= 1 + growth
    hires = 0.0 if absorbed or hours <= 0 else extra / hours
    spend = hires * (budget["cost_per_hire"] or 0)
    r = roi(spend, budget["cost_per_hire"], hours, extra, cfg)
    tight = "" if low is None else f" Its tightest judged hour next week is at {low:.0%} coverage."
    reason = (f"{subject}: {this:.0f} sessions booked in the last 7 days vs {last:.0f} in the 7 days before, "
              f"+{growth:.0%} week over week (rule: > {cfg.growth:.0%}).{tight}")
    if absorbed:
        action = f"Make {subject} a priority subject: promote it and match new customers first (+{growth:.0%} demand)"
        impact = (f"Current tutors have room for the extra {extra:.0f} sessions a week (tightest hour {low:.0%} -> "
                  f"~{low / (1 + growth):.0%} with the growth): no hiring spend needed, {_money(extra * cfg.revenue_per_session)} "
                  f"a week of revenue to win; {_roi_text(r)}.")
    else:
        action = (f"Make {subject} a priority subject: recruit ~{max(hires, 0.1):.1f} tutors ahead of "
                  f"+{growth:.0%} demand")
        impact = (f"Serving the extra {extra:.0f} sessions a week takes ~{hires:.2f} tutors at {hours:.0f} available "
                  f"hours each: {_money(spend)} at {_money(budget['cost_per_hire'] or 0)} per hire for "
                  f"{_money(r['revenue'] or 0)} revenue over {cfg.horizon_weeks} weeks: {_roi_text(r)}. "
                  f"Assumptions: {cfg.assumptions().text()}.")
    return _rec("subject.priority", subject, at, cfg, action=action, reason=reason, impact=impact, r=r,
                priority=2 if growth > 2 * cfg.growth else 3,
                campaign_id=(budget["active_ids"] or budget["paused_ids"] or [None])[0],
                details={"this_week": this, "last_week": last, "growth": growth, "extra_sessions": extra,
                         "absorbed": absorbed, "hires": hires, "tutor_hours_week": hours, "min_coverage": low,
                         "budget": budget, "threshold": cfg.growth})


def _pause_onboarding(s, budget: dict, hours: float, shortfall: float, at: datetime, cfg: RuleConfig) -> dict | None:
    rate, rated = float(s.success_rate), int(s.rated)
    if rated < cfg.success_min_rated or not rate < cfg.min_success - EPS:
        return None
    subject, saved = s.subject, budget["active_daily"] * 7
    r = roi(saved, budget["cost_per_hire"], hours, shortfall, cfg, saving=True)
    action = f"Pause onboarding of new {subject} tutors pending a review of first sessions"
    reason = (f"First-session success in {subject} is {rate:.0%} over the last 28 days ({rated} rated first "
              f"sessions; rule: below {cfg.min_success:.0%}). New customers who start badly rarely stay.")
    if saved > 0:
        impact = (f"Holds {_money(saved)}/week of recruiting spend ({', '.join(budget['active_ids'])}) until the "
                  f"review; {(r['sessions'] or 0):.1f} of the {shortfall:.1f} sessions short next week would go "
                  f"unserved ({_money(r['revenue'] or 0)}); the pause {_roi_text(r)}. "
                  f"Assumptions: {cfg.assumptions().text()}.")
    else:
        impact = "No active recruiting spend for the subject: the pause costs nothing while the review runs."
    return _rec("onboarding.pause", subject, at, cfg, action=action, reason=reason, impact=impact, r=r,
                priority=1 if rate < cfg.min_success - 0.10 else 2,
                campaign_id=(budget["active_ids"] or [None])[0],
                details={"success_rate": rate, "rated": rated, "shortfall": shortfall, "tutor_hours_week": hours,
                         "budget": budget, "threshold": cfg.min_success})


def recommend(balance: pd.DataFrame, trend: pd.DataFrame, success: pd.DataFrame, campaigns: pd.DataFrame,
              tutor_hours: pd.Series, at: datetime, cfg: RuleConfig = RuleConfig()) -> list[dict]:
    """Every rule on every subject -> recommendation dicts (see the module docstring), highest priority first.

    balance: subject_balance(...); trend: DataFrame[subject, this_week, last_week] (sessions booked in the 7
    days before ``at`` and the 7 before those); success: DataFrame[subject, success_rate, rated];
    campaigns: the contract's campaigns; tutor_hours: subject -> mean weekly available hours per active tutor.
    """
    campaigns = campaigns if campaigns is not None else pd.DataFrame(
        columns=["campaign_id", "subject", "daily_budget", "status", "cost_per_hire"])
    hours_of = {k: float(v) for k, v in tutor_hours.items() if pd.notna(v)}
    out: list[dict] = []
    by_subject = {b.subject: b for b in balance.itertuples(index=False)}
    for b in by_subject.values():
        budget, hours = campaign_budget(campaigns, b.subject), hours_of.get(b.subject, 0.0)
        for rule in (_raise_budget, _cut_spend):
            rec = rule(b, budget, hours, at, cfg)
            if rec:
                out.append(rec)
    for t in trend.itertuples(index=False):
        b = by_subject.get(t.subject)
        low = float(b.min_coverage) if b is not None and pd.notna(b.min_coverage) else None
        rec = _priority_subject(t, campaign_budget(campaigns, t.subject), hours_of.get(t.subject, 0.0), low, at, cfg)
        if rec:
            out.append(rec)
    for s in success.itertuples(index=False):
        b = by_subject.get(s.subject)
        shortfall = max(float(b.shortfall), 0.0) if b is not None else 0.0
        rec = _pause_onboarding(s, campaign_budget(campaigns, s.subject), hours_of.get(s.subject, 0.0),
                                shortfall, at, cfg)
        if rec:
            out.append(rec)
    # Growing demand or a quality review beats a surplus: no spend cut for those subjects this run.
    hold = {r["subject"] for r in out if r["rule"] in ("subject.priority", "onboarding.pause")}
    out = [r for r in out if not (r["rule"] == "recruit.cut_spend" and r["subject"] in hold)]
    return sorted(out, key=_rank)


def _rank(rec: dict) -> tuple:
    return rec["priority"], -(rec["roi"] if rec["roi"] is not None else -np.inf), rec["subject"] or "", rec["rule"]


def select_new(candidates: list[dict], pending_keys: set[str], cooling_keys: set[str], created_recently: int,
               daily_cap: int) -> list[dict]:
    """The candidates to write now: not a duplicate of a pending recommendation (same dedup_key), not
    implemented or dismissed within the cool-down (``cooling_keys``: a decision is not second-guessed the
    next hour), one per key, and no more than ``daily_cap - created_recently`` of them (created in the
    last 24 h), highest priority first."""
    room = max(0, daily_cap - created_recently)
    seen = set(pending_keys) | set(cooling_keys)
    chosen = []
    for rec in sorted(candidates, key=_rank):
        if rec["dedup_key"] in seen:
            continue
        seen.add(rec["dedup_key"])
        chosen.append(rec)
    return chosen[:room]
