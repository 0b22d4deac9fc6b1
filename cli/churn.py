"""evaluate-churn: time-split evaluation of the churn model on the store, next to the generator's limit."""
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
        "holdout_at": m["split"]["holdout"][0], "validation_at": m["split"]["validation"][0],
        "train_snapshots": m["split"]["train"], "rows": m["rows"], "churners": m["churners"],
        "model": _metrics(m["holdout"]), "validation": _metrics(m["validation"]),
        "candidates": {k: {"holdout": _metrics(v["holdout"]), "validation_auc": v["validation"]["auc"],
                           "fit_seconds": v["fit_seconds"]} for k, v in m["candidates"].items()},
        "calibration": m["holdout"]["calibration"],
        "top_features": m["top_features"][:10],
        "limit": ({"available": True, **_metrics(limit["limit"]), "coverage": limit["coverage"],
                   "calibration": limit["limit"]["calibration"]} if limit.get("available") else limit),
        "distance": limit.get("distance"),
        "seconds": {"features": m["feature_seconds"], **{f"fit_{k}": v["fit_seconds"] for k, v in m["candidates"].items()}},
    }
    model = out["model"]
    out["target"] = {"recall": TARGET_RECALL, "precision": SEED_PRECISION,
                     "reached": bool(model["recall"] >= TARGET_RECALL and model["precision"] >= SEED_PRECISION)}
    return out


def _metrics(e: dict) -> dict:
    keys = ("customers", "churners", "base_rate", "auc", "brier", "ece", "precision_at_recall_80", "threshold",
            "precision", "recall", "flagged")
    return {k: e[k] for k in keys if k in e}


def _f(v, digits: int = 3) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _print(r: dict) -> None:
    m = r["model"]
    click.echo(f"evaluate-churn as of {r['at'][:16]} UTC: {r['horizon_days']}-day churn, holdout snapshot "
               f"{r['holdout_at'][:10]} ({m['customers']:,} customers, {m['churners']:,} churned, base rate "
               f"{m['base_rate']:.1%})")
    click.echo(f"trained on {len(r['train_snapshots'])} weekly snapshots {r['train_snapshots'][0][:10]} .. "
               f"{r['train_snapshots'][-1][:10]} ({r['rows']['train']:,} rows); threshold {r['threshold']:.4f} chosen "
               f"on {r['validation_at'][:10]} for recall >= {TARGET_RECALL:.2f}")
    click.echo(f"{'':<22}{'AUC':>7}{'precision':>11}{'recall':>8}{'P@R80':>8}{'Brier':>8}{'ECE':>8}")

    def row(label, e):
        click.echo(f"{label:<22}{_f(e.get('auc')):>7}{_f(e.get('precision')):>11}{_f(e.get('recall')):>8}"
                   f"{_f(e.get('precision_at_recall_80')):>8}{_f(e.get('brier'), 4):>8}{_f(e.get('ece'), 4):>8}")
    row(f"model ({r['kind']})", m)
    for kind, c in r["candidates"].items():
        if kind != r["kind"]:
            row(f"  not kept: {kind}", c["holdout"])
    lim = r["limit"]
    if lim.get("available"):
        row("generator limit", lim)
        d = r["distance"]
        click.echo(f"distance from the limit: AUC {d['auc']:.3f} lower ({d['auc_relative']:.1%}); precision at recall "
                   f"0.80 {d['precision_at_recall_80']:.3f} lower")
    else:
        click.echo(f"limit: {lim['reason']}")
    t = r["target"]
    verdict = "reached" if t["reached"] else "NOT reached"
    click.echo(f"seed target recall >= {t['recall']:.2f} at precision >= {t['precision']:.2f}: {verdict} "
               f"(precision {_f(m['precision'])} at recall {_f(m['recall'])})"
               + (f"; the generator's own probabilities reach precision {_f(lim['precision_at_recall_80'])} at "
                  "recall 0.80" if lim.get("available") else ""))
    click.echo("P@R80 = precision at the cut reaching recall 0.80 on the holdout itself (ranking quality); "
               "precision/recall use the validation threshold")


@click.command("evaluate-churn")
@at_option
@click.option("--predictions-out", type=click.Path(dir_okay=False), default=None,
              help="CSV of the holdout customers: customer_id,probability,predicted.")
@json_option
def evaluate_churn(at, predictions_out, as_json) -> None:
    """Time-split evaluation of the churn model on the store's data as of --at (default now).

    Trains on weekly snapshots before a cut-off, picks the threshold for recall >= 0.80 on a later
    validation snapshot and reports precision, recall, AUC, Brier and calibration on the last snapshot
    whose 30-day outcome is known (the holdout), with the synthetic generator's own probabilities
    as the limit when the store holds the synthetic source. Nothing is written to the store.
    """
    from models.base import get_engine
    from domain.churn import ChurnConfig, History, NotEnoughHistory, train_churn
    from jobs.churn import load_frames
    from infra.clock import utcnow
    s = settings()
    when = parse_at(at) or utcnow()
    engine = get_engine(s.db_url)
    frames = load_frames(engine, when)
    if frames["customers"].empty:
        fail("the store holds no customers: load data first (python manage.py demo)", 2)
    try:
        result = train_churn(History(frames), when, ChurnConfig(refit=False))
    except NotEnoughHistory as exc:
        fail(str(exc), 2)
    if predictions_out:
        result.holdout[["customer_id", "probability", "predicted"]].to_csv(predictions_out, index=False)
    emit(report(result, generator_limit(s, engine, result), when), as_json, _print)
