"""backfill job: history from the first minute. When the store already holds past data (the demo, or a first
ingest of a real source), compute the derived histories as of the end of each past day, so trends start
weeks back instead of at install time.

For each day of the last `backfill_weeks` weeks (never before the first session), oldest first, and only
for what is missing:
- health score history (daily.py): the scoring job's load, score and history upsert as of that day (the
  current scores, the worklist and alerts are left alone: they describe the present);
- first-session computations (daily.py): the rolling 7-day rows (the periods the tutor trend reads);
- overview card history: one overview snapshot as of that day (the explorer's overview streams);
- churn-risk history (churn.py): each day scored by a model trained on what was known at the start of its
  4-week block (an inactive churn_models row marked as the backfill's);
- forecast accuracy (forecast.py): a forecast made at the day's last hour with models fitted once a week,
  scored on the week after it (only days whose week has passed).
Progress is reported per day and part (job_runs), so the page that started it shows how far it is. The app
starts it by itself, once, on a store with past data and no history (days.needs_backfill: the embedded
scheduler at boot, the production catch-up at deploy).
"""
from __future__ import annotations

import time


from domain.customers.health import score_prepared
from domain.customers.health_config import parse_health_config
from domain.customers.triggers import prepare, trigger_facts
from infra import progress
from infra.versions import bump_version
from jobs import overview
from jobs.backfill import churn, daily, forecast
from jobs.backfill.days import days_to_fill, done, first_session, weeks
from jobs.context import JobContext
from jobs.customers import churn as churn_job, health
from jobs.demand import forecast as forecast_job
from models.derived import (ChurnPredictionHistory, ForecastRun, HealthScoreHistory, OverviewSnapshot,
                            TutorPerformance)

# shares of the progress bar: the daily histories, then churn (training dominates), then forecasts
SHARES = {"daily": (0.0, 0.5), "churn": (0.5, 0.8), "forecast": (0.8, 1.0)}


def _step(part: str, days: list):
    """on_day(at) reporting progress within `part`'s share of the bar."""
    lo, hi = SHARES[part]
    count = {"n": 0}

    def on_day(at) -> None:
        count["n"] += 1
        progress.report(lo + (hi - lo) * count["n"] / max(len(days), 1),
                        f"{part}: {at:%d %b %Y} ({count['n']} of {len(days)} days)")
    return on_day


def _daily(ctx: JobContext, days: list, done_days: dict) -> dict:
    engine = ctx.engine
    config = parse_health_config(ctx.settings.health_weights)
    missing = {part: [at for at in days if at.date() not in done_days[part]]
               for part in ("health", "first_session", "overview")}
    # each part's store reads happen once for all its missing days, then are cut in memory day by day
    inputs_at = daily.health_inputs(engine, missing["health"]) if missing["health"] else None
    trend_at = daily.first_session_trend(engine, missing["first_session"]) if missing["first_session"] else None
    windows = overview.read_windows(engine, missing["overview"][0], missing["overview"][-1]) \
        if missing["overview"] else None
    filled = {"health": 0, "first_session": 0, "overview": 0}
    on_day = _step("daily", days)
    for at in days:
        if at.date() not in done_days["health"]:
            inputs = inputs_at(at)
            prep = prepare(inputs["customers"], inputs["sessions"], inputs["inbound_calls"], at, inputs["bookings"])
            scores = score_prepared(prep, trigger_facts(prep), config)
            with engine.begin() as conn:
                health.write_history(conn, scores, at.date())
            filled["health"] += 1
        if at.date() not in done_days["first_session"]:
            trend_at(at)
            filled["first_session"] += 1
        if at.date() not in done_days["overview"]:
            overview.run(JobContext(settings=ctx.settings, at=at, live=False), windows)
            filled["overview"] += 1
        on_day(at)
    return filled


def run(ctx: JobContext) -> dict:
    engine = ctx.engine
    with engine.connect() as conn:
        days = days_to_fill(first_session(conn), ctx.at, weeks(ctx.settings))
        done_days = {"health": done(conn, HealthScoreHistory.day, days),
                     "first_session": done(conn, TutorPerformance.computed_at, days),
                     "overview": done(conn, OverviewSnapshot.computed_at, days),
                     "churn": done(conn, ChurnPredictionHistory.day, days),
                     "forecast": done(conn, ForecastRun.generated_at, days)}
    seconds, started = {}, time.perf_counter()
    filled = _daily(ctx, days, done_days)
    seconds["daily"], started = round(time.perf_counter() - started, 1), time.perf_counter()

    missing = [at for at in days if at.date() not in done_days["churn"]]
    churned = churn.fill(engine, missing, _step("churn", missing), lambda at: progress.report(
        SHARES["churn"][0], f"churn: training a model on the history known at {at:%d %b %Y}"))
    filled["churn"] = churned["days"]
    seconds["churn"], started = round(time.perf_counter() - started, 1), time.perf_counter()

    missing = forecast.scorable([at for at in days if at.date() not in done_days["forecast"]], ctx.at)
    forecasted = forecast.fill(engine, ctx.settings, missing, _step("forecast", missing))
    filled["forecast_accuracy"] = forecasted["runs"]
    seconds["forecast"] = round(time.perf_counter() - started, 1)
    with engine.begin() as conn:
        for topic in ("overview", health.TOPIC, churn_job.TOPIC, forecast_job.TOPIC):
            bump_version(conn, topic)
    progress.report(1.0, "done")
    return {"days": len(days), "from": days[0].date().isoformat() if days else None,
            "to": days[-1].date().isoformat() if days else None, "filled": filled,
            "churn": {k: churned[k] for k in ("rows", "models", "skipped")} | {"train_s": round(churned["train_s"], 1)},
            "forecast": {k: forecasted[k] for k in ("runs", "rows", "fits", "skipped")}, "seconds": seconds}
