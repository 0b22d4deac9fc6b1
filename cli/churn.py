"""evaluate-churn: the churn recipe evaluated on the latest closed week, next to two baselines and the generator's limit."""
from __future__ import annotations

import math

import click

from cli.common import at_option, emit, fail, json_option, parse_at, settings

TARGET_RECALL, SEED_PRECISION = 0.80, 0.70


def generator_limit(s, engine, result) -> dict:
    """The generator's own probabilities when the store holds the synthetic source (rebuilt from
    var/synthetic.json, as the synthetic adapter does), else why the limit is unknown."""
    from sqlalchemy import select

    from models.ops import SourceState
    from sources.synthetic import ANCHOR_FILE, SyntheticAdapter
    from domain.churn.limit import against_limit
    with engine.connect() as conn:
        sources = {r for (r,) in conn.execute(select(SourceState.source).distinct())}
    if "synthetic" not in sources or not (s.var_dir / ANCHOR_FILE).exists():
        return {"available": False, "reason": "unknown for this source (only the synthetic marketplace knows "
                                              "its customers' true churn probabilities)"}
    mp = SyntheticAdapter.create(s, live=False).marketplace()
    hold_at = result.holdout["snapshot"].iloc[0]
    if not (mp.start <= hold_at <= mp.end):
        return {"available": False, "reason": f"the holdout time {hold_at:%Y-%m-%d} is outside the generated "
                                              f"history ({mp.start:%Y-%m-%d} .. {mp.end:%Y-%m-%d})"}
    return against_limit(result.holdout, result.validation, mp.true_churn_probability, TARGET_RECALL)


def report(result, limit: dict, at) -> dict:
    m = result.metrics
    out = {
        "at": at.isoformat(), "horizon_days": m["horizon_days"], "kind": result.kind, "threshold": result.threshold,
        "evaluated_on": m["evaluated_on"], "short_history": m["short_history"],
        "dropped_features": m["dropped_features"],
        "holdout_at": (m["split"]["holdout"] or m["split"]["validation"][-1:])[0],
        "validation_at": m["split"]["validation"], "train_snapshots": m["split"]["train"],
        "rows": m["rows"], "churners": m["churners"], "calibration_method": m["calibration_method"],
        "model": _metrics(m["holdout"]), "validation": _metrics(m["validation"]),
        "baselines": {k: {**_metrics(v), "calibration": v["calibration"]} for k, v in m.get("baselines", {}).items()},
        "candidates": {k: {"validation": _metrics(v["validation"]), "fit_seconds": v["fit_seconds"]}
                       for k, v in m["candidates"].items()},
        "calibration": m["holdout"]["calibration"],
        "top_features": m["top_features"][:10],
        "limit": ({"available": True, **_metrics(limit["limit"]), "coverage": limit["coverage"],
                   "calibration": limit["limit"]["calibration"]} if limit.get("available") else limit),
        "distance": limit.get("distance"),
        "seconds": {"train": m["train_seconds"], **{f"fit_{k}": v["fit_seconds"] for k, v in m["candidates"].items()}},
    }
    model = out["model"]
    out["target"] = {"recall": TARGET_RECALL, "precision": SEED_PRECISION,
                     "reached": bool(model.get("recall", 0) >= TARGET_RECALL and model.get("precision", 0) >= SEED_PRECISION)}
    return out


def _metrics(e: dict) -> dict:
    keys = ("customers", "churners", "base_rate", "auc", "brier", "ece", "precision_at_recall_80", "threshold",
            "precision", "recall", "flagged")
    return {k: e[k] for k in keys if k in e}


def _f(v, digits: int = 3) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _calibration_line(bins: list[dict]) -> str:
    return "  ".join(f"{b['predicted']:.1%}->{b['observed']:.1%}" for b in bins)


def _print(r: dict) -> None:
    m = r["model"]
    where = "holdout week" if r["evaluated_on"] == "holdout" else "validation weeks (too little history for a holdout)"
    click.echo(f"evaluate-churn as of {r['at'][:16]} UTC: {r['horizon_days']}-day churn, {where} "
               f"{r['holdout_at'][:10]} ({m['customers']:,} customers, {m['churners']:,} churned, base rate "
               f"{m['base_rate']:.1%}; Brier of predicting the base rate {m['base_rate'] * (1 - m['base_rate']):.4f})")
    click.echo(f"trained on {len(r['train_snapshots'])} weekly snapshots {r['train_snapshots'][0][:10]} .. "
               f"{r['train_snapshots'][-1][:10]} (every one whose outcome was known), {r['calibration_method']} "
               f"calibration and threshold {r['threshold']:.4f} (recall >= {TARGET_RECALL:.2f}) on "
               f"{', '.join(t[:10] for t in r['validation_at'])}")
    if r["short_history"]:
        click.echo(f"short history: without {', '.join(r['dropped_features'])}")
    click.echo(f"{'':<26}{'AUC':>7}{'P@R80':>8}{'Brier':>8}{'ECE':>8}{'precision':>11}{'recall':>8}")

    def row(label, e):
        click.echo(f"{label:<26}{_f(e.get('auc')):>7}{_f(e.get('precision_at_recall_80')):>8}{_f(e.get('brier'), 4):>8}"
                   f"{_f(e.get('ece'), 4):>8}{_f(e.get('precision')):>11}{_f(e.get('recall')):>8}")
    row(f"model ({r['kind']})", m)
    for name, b in r["baselines"].items():
        row(f"baseline: {name}", b)
    lim = r["limit"]
    if lim.get("available"):
        row("generator's own (limit)", lim)
        d = r["distance"]
        click.echo(f"AUC {m['auc'] / lim['auc']:.3f} of the limit's; Brier {m['brier']:.4f} vs the limit's "
                   f"{lim['brier']:.4f} and the base rate's {m['base_rate'] * (1 - m['base_rate']):.4f}; precision "
                   f"at recall 0.80 {d['precision_at_recall_80']:.3f} lower")
    else:
        click.echo(f"limit: {lim['reason']}")
    click.echo("calibration (predicted -> observed, 10 equal-size bins):")
    click.echo(f"  model: {_calibration_line(r['calibration'])}")
    for name, b in r["baselines"].items():
        click.echo(f"  {name}: {_calibration_line(b['calibration'])}")
    click.echo("P@R80 = precision at the cut reaching recall 0.80 on these weeks themselves (ranking quality); "
               "precision/recall use the threshold chosen on validation")


@click.command("evaluate-churn")
@at_option
@click.option("--predictions-out", type=click.Path(dir_okay=False), default=None,
              help="CSV of the holdout customers: customer_id,probability,predicted.")
@json_option
def evaluate_churn(at, predictions_out, as_json) -> None:
    """Time-split evaluation of the churn model on the store's data as of --at (default now).

    Runs the training recipe as it would have run 30 days ago (every weekly snapshot whose outcome was
    known then, calibrated and thresholded on the latest of them) and reports AUC, precision at recall
    0.80, Brier and calibration on the last snapshot whose 30-day outcome is known now (the holdout), for
    the model and two baselines (days since the last session; a 5-input logistic regression), with the
    synthetic generator's own probabilities as the limit when the store holds the synthetic source.
    Nothing is written to the store.
    """
    from models.base import get_engine
    from domain.churn import ChurnConfig, History, NotEnoughHistory, train_churn
    from jobs.customers.churn import load_frames
    from infra.clock import utcnow
    s = settings()
    when = parse_at(at) or utcnow()
    engine = get_engine(s.db_url)
    frames = load_frames(engine, when)
    if frames["customers"].empty:
        fail("the store holds no customers: load data first (python manage.py demo)", 2)
    try:
        result = train_churn(History(frames), when, ChurnConfig(final=False))
    except NotEnoughHistory as exc:
        fail(str(exc), 2)
    if predictions_out:
        result.holdout[["customer_id", "probability", "predicted"]].to_csv(predictions_out, index=False)
    emit(report(result, generator_limit(s, engine, result), when), as_json, _print)
