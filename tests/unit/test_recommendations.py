"""domain.recommendations: each rule at its boundary, the ROI arithmetic by hand, coverage on a hand-made
marketplace into the rules, and the dedup/cap selection."""
from datetime import datetime, timedelta

import pandas as pd
import pytest

from domain.recommendations import (BALANCE_COLUMNS, RuleConfig, campaign_budget, recommend, roi, select_new,
                                      subject_balance)
from domain.supply import available_hours, coverage

AT = datetime(2024, 1, 1, 0, 0)  # Monday midnight
CFG = RuleConfig()
# spanish: two active campaigns, 100 $/day at 300 $/hire and 50 $/day at 450 $/hire -> 150 $/day, 350 $/hire
CAMPAIGNS = pd.DataFrame({
    "campaign_id": ["CP1", "CP2", "CP3", "CP4"], "subject": ["spanish", "spanish", "spanish", "math"],
    "channel": ["job_board"] * 4, "daily_budget": [100.0, 50.0, 80.0, 40.0],
    "status": ["active", "active", "paused", "paused"], "cost_per_hire": [300.0, 450.0, 999.0, 200.0],
})
HOURS = pd.Series({"spanish": 20.0, "math": 10.0})
NO_TREND = pd.DataFrame(columns=["subject", "this_week", "last_week"])
NO_SUCCESS = pd.DataFrame(columns=["subject", "success_rate", "rated"])


def balance(subject="spanish", demand_short=0.0, supply_short=0.0, min_coverage=2.0, judged_hours=10,
            short_hours=None, open_demand=20.0, available=60.0) -> pd.DataFrame:
    short = short_hours if short_hours is not None else int(demand_short > supply_short)
    row = {"subject": subject, "judged_hours": judged_hours, "short_hours": short, "demand_short": demand_short,
           "supply_short": supply_short, "shortfall": demand_short - supply_short, "min_coverage": min_coverage,
           "first_short": AT + timedelta(hours=30) if short else pd.NaT, "open_demand": open_demand,
           "available_hours": available}
    return pd.DataFrame([row], columns=BALANCE_COLUMNS)


def rules(recs: list[dict]) -> list[tuple[str, str]]:
    return [(r["rule"], r["subject"]) for r in recs]


# -- ROI ---------------------------------------------------------------------------------------------
def test_campaign_budget_weights_cost_per_hire_by_active_budget():
    b = campaign_budget(CAMPAIGNS, "spanish")
    assert b["active_daily"] == 150 and b["paused_daily"] == 80
    assert b["cost_per_hire"] == pytest.approx((100 * 300 + 50 * 450) / 150)  # 350, paused CP3 ignored
    assert b["active_ids"] == ["CP1", "CP2"] and b["paused_ids"] == ["CP3"]
    math_only_paused = campaign_budget(CAMPAIGNS, "math")
    assert math_only_paused["active_daily"] == 0 and math_only_paused["cost_per_hire"] == 200
    assert campaign_budget(CAMPAIGNS, "french")["cost_per_hire"] == pytest.approx(375.0)  # marketplace median


WEEKS = sum(0.97 ** w for w in range(1, 8))  # 8 weeks, serving from week 2, 97 % still active each next week


def test_roi_arithmetic_by_hand():
    # one week of +15 % of 100 $/day = 105 $; 105 / 350 = 0.3 hires; 0.3 x 20 h = 6 sessions a week of capacity
    r = roi(105, 350, 20, sessions_at_stake=4, cfg=CFG)
    assert r["hires"] == pytest.approx(0.3) and r["horizon_weeks"] == 8
    assert r["sessions"] == pytest.approx(4 * WEEKS)  # the shortfall binds, every week after onboarding
    assert r["revenue"] == pytest.approx(180 * WEEKS)
    assert r["roi"] == pytest.approx((180 * WEEKS - 105) / 105)
    assert r["payback_weeks"] == 2  # week 1 onboarding, week 2 earns 4 x 45 x 0.97 = 175 > 105
    capped = roi(105, 350, 20, sessions_at_stake=10, cfg=CFG)
    assert capped["sessions"] == pytest.approx(6 * WEEKS)  # the hires' hours bind
    # a 140 $ saving forgoes 0.4 hires = 8 sessions a week of capacity, all put at risk; 2 a week short are lost
    saved = roi(140, 350, 20, sessions_at_stake=2, cfg=CFG, saving=True)
    assert saved["sessions_at_risk"] == pytest.approx(8 * WEEKS) and saved["sessions_lost"] == pytest.approx(2 * WEEKS)
    assert saved["roi"] == pytest.approx((140 - 90 * WEEKS) / 140)
    surplus = roi(140, 350, 20, 0, cfg=CFG, saving=True)
    assert surplus["roi"] is None  # no free +100 %: the sessions at risk are stated instead
    assert surplus["revenue_at_risk"] == pytest.approx(8 * WEEKS * 45)
    assert surplus["break_even_share"] == pytest.approx(140 / (8 * WEEKS * 45))
    assert roi(0, 350, 20, 5, cfg=CFG)["roi"] is None
    assert roi(100, None, 20, 5, cfg=CFG)["roi"] is None
    slow = roi(2000, 2000, 1, 1, cfg=CFG)  # 1 hire, 1 session a week: 45 $ a week, fading, never repays 2000 $
    assert slow["roi"] < 0 and slow["payback_weeks"] is None


# -- rule 1: demand > supply by 20 % -> raise budget 15 % --------------------------------------------------
def test_raise_budget_fires_at_20_percent_not_at_19_9():
    fires = recommend(balance(demand_short=12.0, supply_short=10.0, min_coverage=0.7), NO_TREND, NO_SUCCESS,
                      CAMPAIGNS, HOURS, AT)
    assert rules(fires) == [("recruit.raise_budget", "spanish")]
    quiet = recommend(balance(demand_short=11.99, supply_short=10.0, min_coverage=0.7), NO_TREND, NO_SUCCESS,
                      CAMPAIGNS, HOURS, AT)
    assert quiet == []


def test_raise_budget_numbers_roi_and_fields():
    rec = recommend(balance(demand_short=12.0, supply_short=10.0, min_coverage=0.5), NO_TREND, NO_SUCCESS,
                    CAMPAIGNS, HOURS, AT)[0]
    spend = 0.15 * 150 * 7  # 157.5 $/week
    hires = spend / 350  # 0.45
    sessions = min(2.0, hires * 20) * WEEKS  # the 2 sessions short a week bind
    assert rec["roi"] == pytest.approx((sessions * 45 - spend) / spend, abs=1e-4)
    assert rec["details"]["roi"]["spend"] == pytest.approx(spend)
    assert "8-week ROI" in rec["expected_impact"] and "pays back in week 3" in rec["expected_impact"]
    assert "Assumptions: 8-week horizon" in rec["expected_impact"]
    assert rec["priority"] == 1  # coverage below 60 % within 48 h
    assert rec["dedup_key"] == "recruit.raise_budget:spanish"
    assert rec["expires_at"] == AT + timedelta(hours=72)
    assert "Raise the spanish recruiting budget 15%" in rec["action"] and "CP1, CP2" in rec["action"]
    assert "12.0 open sessions" in rec["reason"] and "10.0 open tutor hours" in rec["reason"]
    assert "by 20%" in rec["reason"] and "Paused campaigns: CP3" in rec["reason"]
    assert rec["details"]["link"] == "/forecast?subject=spanish"


def test_raise_budget_needs_a_whole_session_short_and_resumes_paused_campaigns():
    assert recommend(balance("spanish", demand_short=0.9, supply_short=0.0), NO_TREND, NO_SUCCESS,
                     CAMPAIGNS, HOURS, AT) == []
    rec = recommend(balance("math", demand_short=3.0, supply_short=0.0, min_coverage=0.0), NO_TREND, NO_SUCCESS,
                    CAMPAIGNS, HOURS, AT)[0]
    assert rec["action"].startswith("Resume math recruiting (CP4, paused) at +15%")
    assert rec["details"]["roi"]["spend"] == pytest.approx(1.15 * 40 * 7)
    assert "no open tutor hours at all" in rec["reason"]


# -- rule 2: surplus > 30 % -> cut spend 20 % -------------------------------------------------------------
def test_cut_spend_fires_above_30_percent_surplus_only():
    assert recommend(balance(min_coverage=1.30), NO_TREND, NO_SUCCESS, CAMPAIGNS, HOURS, AT) == []
    recs = recommend(balance(min_coverage=1.301), NO_TREND, NO_SUCCESS, CAMPAIGNS, HOURS, AT)
    assert rules(recs) == [("recruit.cut_spend", "spanish")]
    r = recs[0]["details"]["roi"]
    assert r["spend"] == pytest.approx(0.20 * 150 * 7)
    # nothing short now, so no ROI claimed; the card says what the forgone hires would have served
    assert recs[0]["roi"] is None and r["sessions_at_risk"] == pytest.approx(0.20 * 150 * 7 / 350 * 20 * WEEKS)
    assert "at risk over 8 weeks" in recs[0]["expected_impact"]
    # no active spend to cut (math's only campaign is paused)
    assert recommend(balance("math", min_coverage=3.0), NO_TREND, NO_SUCCESS, CAMPAIGNS, HOURS, AT) == []


# -- rule 3: demand up > 30 % week over week -> priority subject --------------------------------------------
def test_priority_subject_above_30_percent_growth_only():
    def trend(this, last):
        return pd.DataFrame({"subject": ["spanish"], "this_week": [this], "last_week": [last]})
    empty = pd.DataFrame(columns=BALANCE_COLUMNS)
    assert recommend(empty, trend(130, 100), NO_SUCCESS, CAMPAIGNS, HOURS, AT) == []
    recs = recommend(empty, trend(131, 100), NO_SUCCESS, CAMPAIGNS, HOURS, AT)
    assert rules(recs) == [("subject.priority", "spanish")]
    # 31 extra sessions / 20 h per tutor = 1.55 tutors x 350 $ = 542.5 $; they serve all 31 (1395 $)
    assert recs[0]["roi"] == pytest.approx((31 * WEEKS * 45 - 1.55 * 350) / (1.55 * 350), abs=1e-4)
    assert recommend(empty, trend(40, 19), NO_SUCCESS, CAMPAIGNS, HOURS, AT) == []  # too few to judge


def test_growth_with_room_promotes_without_spend_and_holds_back_a_cut():
    trend = pd.DataFrame({"subject": ["spanish"], "this_week": [150], "last_week": [100]})
    # tightest hour 200 % >= 150 %: current tutors absorb +50 %; the surplus would otherwise cut spend
    recs = recommend(balance(min_coverage=2.0), trend, NO_SUCCESS, CAMPAIGNS, HOURS, AT)
    assert rules(recs) == [("subject.priority", "spanish")]
    assert recs[0]["roi"] is None and recs[0]["details"]["absorbed"] is True
    assert "no hiring spend needed" in recs[0]["expected_impact"]
    tight = recommend(balance(min_coverage=1.4), trend, NO_SUCCESS, CAMPAIGNS, HOURS, AT)
    assert rules(tight) == [("subject.priority", "spanish")] and tight[0]["details"]["hires"] == pytest.approx(2.5)


# -- rule 4: first-session success < 60 % -> pause onboarding -------------------------------------------
def test_pause_onboarding_below_60_percent_only():
    def success(rate, rated=40):
        return pd.DataFrame({"subject": ["spanish"], "success_rate": [rate], "rated": [rated]})
    empty = pd.DataFrame(columns=BALANCE_COLUMNS)
    assert recommend(empty, NO_TREND, success(0.60), CAMPAIGNS, HOURS, AT) == []
    recs = recommend(empty, NO_TREND, success(0.599), CAMPAIGNS, HOURS, AT)
    assert rules(recs) == [("onboarding.pause", "spanish")]
    assert recs[0]["details"]["roi"]["spend"] == pytest.approx(150 * 7)
    assert recommend(empty, NO_TREND, success(0.3, rated=19), CAMPAIGNS, HOURS, AT) == []  # too few rated


# -- coverage on a hand-made case, into the rules --------------------------------------------------------
def test_hand_made_coverage_makes_a_shortage_recommendation():
    """Mon 10:00-12:59. T1 and T2 teach spanish, T3 math. T1 is free 10-12 and booked at 10; T2 free 10-11.
    Forecast spanish 3, 2, 0.1 sessions. Hour 10: 2 tutor hours - 1 booked = 1 open; open demand 3 - 1
    booked = 2 -> coverage 0.5. Hour 11: 1 open (T1), demand 2 -> 0.5. Hour 12: no tutor, 0.1 sessions:
    coverage 0, but below 0.25 sessions it is not judged."""
    start = datetime(2024, 1, 1, 10)
    tutors = pd.DataFrame({"tutor_id": ["T1", "T2", "T3"], "subjects": ["spanish", "spanish", "math"],
                           "region": ["CA", "NY", "CA"], "status": ["active"] * 3})
    availability = pd.DataFrame({"tutor_id": ["T1", "T2", "T3"], "weekday": [0, 0, 0],
                                 "start_hour": [10, 10, 10], "end_hour": [12, 11, 13]})
    bookings = pd.DataFrame({"booking_id": ["b1"], "tutor_id": ["T1"], "subject": ["spanish"],
                             "scheduled_time": [start], "status": ["scheduled"]})
    forecast = pd.DataFrame({"subject": ["spanish"] * 3 + ["math"] * 3,
                             "ts": list(pd.date_range(start, periods=3, freq="h")) * 2,
                             "yhat": [3.0, 2.0, 0.1, 0.5, 0.5, 0.5]})
    cov = coverage(available_hours(tutors, availability, bookings, start, hours=3), forecast)
    spanish = cov[cov["subject"] == "spanish"]
    assert spanish["available_hours"].tolist() == [1.0, 1.0, 0.0]
    assert spanish["open_demand"].tolist() == pytest.approx([2.0, 2.0, 0.1])
    assert spanish["coverage"].tolist() == pytest.approx([0.5, 0.5, 0.0])
    bal = subject_balance(cov, min_open_demand=0.25).set_index("subject")
    assert bal.loc["spanish", ["judged_hours", "short_hours"]].tolist() == [2, 2]
    assert bal.loc["spanish", "demand_short"] == pytest.approx(4.0)
    assert bal.loc["spanish", "supply_short"] == pytest.approx(2.0)
    assert bal.loc["spanish", "min_coverage"] == pytest.approx(0.5)
    assert bal.loc["spanish", "first_short"] == pd.Timestamp(start)
    assert bal.loc["math", "min_coverage"] == pytest.approx(2.0)  # 1 open hour for 0.5 sessions
    recs = recommend(bal.reset_index(), NO_TREND, NO_SUCCESS, CAMPAIGNS, HOURS, datetime(2024, 1, 1, 0))
    assert ("recruit.raise_budget", "spanish") in rules(recs)
    assert "demand exceeds supply by 100%" in next(r for r in recs if r["subject"] == "spanish")["reason"]


# -- dedup and the daily cap ----------------------------------------------------------------------------
def test_select_new_skips_pending_and_cooling_keys_and_caps_a_day():
    def rec(rule, subject, priority):
        return {"rule": rule, "subject": subject, "priority": priority, "roi": 0.5, "dedup_key": f"{rule}:{subject}"}
    candidates = [rec("recruit.cut_spend", s, 4) for s in ("a", "b", "c", "d")] + [rec("recruit.raise_budget", "e", 1)]
    candidates.append(dict(candidates[-1]))  # the same key twice in one run
    chosen = select_new(candidates, pending_keys={"recruit.cut_spend:a"}, cooling_keys={"recruit.cut_spend:b"},
                        created_recently=0, daily_cap=10)
    assert [c["dedup_key"] for c in chosen] == ["recruit.raise_budget:e", "recruit.cut_spend:c", "recruit.cut_spend:d"]
    capped = select_new(candidates, set(), set(), created_recently=8, daily_cap=10)
    assert [c["dedup_key"] for c in capped] == ["recruit.raise_budget:e", "recruit.cut_spend:a"]
    assert select_new(candidates, set(), set(), created_recently=12, daily_cap=10) == []


def test_rule_config_reads_settings():
    from config import Settings
    cfg = RuleConfig.from_settings(Settings(revenue_per_session=60.0, recommend_shortage_gap=0.25))
    assert cfg.revenue_per_session == 60.0 and cfg.shortage_gap == 0.25 and cfg.ttl_h == 72
