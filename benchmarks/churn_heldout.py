"""Held-out churn check (issue 13): the churn recipe on marketplaces generated with seeds other than the demo's.

    .venv/bin/python benchmarks/churn_heldout.py [--seeds 101,202,303] [--customers 5000] [--days 180]
                                                 [--history-days 180] [--json out.json]

For each seed: generate the marketplace (never tuned for the model), run the recipe as evaluate-churn does
(trained on every weekly snapshot closed 30 days before the end, scored on the latest closed week), and
compare, on the same customers, with the generator's own probabilities (`mp.true_churn_probability`, which
see each customer's unobserved frailty and what happens after T). Prints AUC and its ratio to the
generator's (bar: >= 0.95) and the ratio the generator itself reaches without each customer's unobserved
frailty (the ceiling for a model of the data), precision at recall 0.80, Brier against the generator's and the base rate's
(bar: closer to the generator's), how many eligible customers were left unscored (bar: none), and the two
baselines. --history-days N (< --days): a young store holding N days of sessions, bookings and calls up to
30 days before the end trains there and is scored on that week (its outcome is the generated last 30 days).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from domain.churn import ChurnConfig, History, train_churn  # noqa: E402
from domain.churn.features import FEATURE_NAMES, features_at, labels_at  # noqa: E402
from domain.churn.limit import against_limit  # noqa: E402
from sources.simulation import generate  # noqa: E402

END = datetime(2026, 11, 1)  # fixed, so runs compare
KEY = "precision_at_recall_80"


def young(frames: dict[str, pd.DataFrame], since: datetime) -> dict[str, pd.DataFrame]:
    """The frames a store loaded at `since` would hold: activity from then on (customers keep their signup)."""
    out = dict(frames)
    for record, column in (("sessions", "start_time"), ("bookings", "created_at"), ("inbound_calls", "call_date")):
        f = frames[record]
        out[record] = f[pd.to_datetime(f[column]) >= since].reset_index(drop=True)
    return out


def young_store(h: History, origin: datetime, config: ChurnConfig):
    """A store holding `history_days` up to `origin` trains at `origin` (nothing after it is read: features
    stop at each snapshot, labels of weeks closed by then); its model scores the week at `origin`, whose
    outcome the generated 30 days after it tell."""
    result = train_churn(h, origin, replace(config, final=True, evaluate=False))
    at = pd.Timestamp(origin).value
    X = features_at(h, at)
    p = result.model.predict_proba(X[FEATURE_NAMES])[:, 1]
    y = labels_at(h, at, config.horizon_days).to_numpy()
    result.holdout = pd.DataFrame({"customer_id": X["customer_id"], "snapshot": pd.Timestamp(at), "churned": y,
                                   "probability": p, "predicted": p >= result.threshold})
    result.metrics["evaluated_on"] = "next week"
    return result


def one(seed: int, customers: int, days: int, history_days: int, config: ChurnConfig) -> dict:
    mp = generate(customers=customers, days=days, seed=seed, end=END)
    short = history_days < days
    origin = mp.end - timedelta(days=30)
    frames = young(mp.frames, origin - timedelta(days=history_days)) if short else mp.frames
    h = History(frames)
    t0 = time.perf_counter()
    result = young_store(h, origin, config) if short else train_churn(h, mp.end, config)
    seconds = time.perf_counter() - t0
    m = result.metrics
    limit = against_limit(result.holdout, result.validation, mp.true_churn_probability)
    hold = result.holdout
    at = pd.Timestamp(hold["snapshot"].iloc[-1])
    eligible = features_at(h, at.value)
    p = result.model.predict_proba(eligible[FEATURE_NAMES])[:, 1]
    unscored = int(len(eligible) - np.isfinite(p).sum())
    model, lim = limit["model_same_rows"], limit["limit"]
    # the generator without the unobserved frailty: the ceiling for anything that learns from the data
    observable = against_limit(result.holdout, result.validation,
                               lambda t: mp.true_churn_probability(t, frailty=False))["limit"]
    base = model["base_rate"] * (1 - model["base_rate"])
    return {"seed": seed, "kind": result.kind, "evaluated_on": m["evaluated_on"], "short_history": m["short_history"],
            "train_weeks": len(m["split"]["train"]), "customers": model["customers"], "churners": model["churners"],
            "base_rate": model["base_rate"], "auc": model["auc"], "limit_auc": lim["auc"],
            "auc_ratio": model["auc"] / lim["auc"], "observable_auc": observable["auc"],
            "observable_ratio": observable["auc"] / lim["auc"], KEY: model[KEY], f"limit_{KEY}": lim[KEY],
            "brier": model["brier"], "limit_brier": lim["brier"], "base_rate_brier": base,
            "brier_closer_to_limit": bool(abs(model["brier"] - lim["brier"]) < abs(model["brier"] - base)),
            "ece": model["ece"], "unscored": unscored, "coverage": limit["coverage"], "train_seconds": seconds,
            "baselines": {k: {"auc": v["auc"], KEY: v[KEY], "brier": v["brier"]} for k, v in m.get("baselines", {}).items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="101,202,303", help="comma-separated; the demo's is 42")
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--history-days", type=int, default=180)
    ap.add_argument("--half-life-weeks", type=float, default=None)
    ap.add_argument("--kinds", default=None, help="e.g. logistic or gbm (default: the recipe's choice)")
    ap.add_argument("--json", dest="json_out", default=None)
    args = ap.parse_args()
    config = ChurnConfig(final=False, half_life_weeks=args.half_life_weeks,
                         **({"kinds": tuple(args.kinds.split(",")), "min_gbm_churners": 0} if args.kinds else {}))
    rows = []
    print(f"held-out churn check: {args.customers:,} customers x {args.days} days, history kept {args.history_days} "
          f"days, seeds {args.seeds} (demo: 42)")
    print(f"{'seed':>5} {'kind':>9} {'on':>10} {'weeks':>5} {'churn':>6} {'AUC':>6} {'limit':>6} {'ratio':>6} "
          f"{'P@R80':>6} {'limit':>6} {'Brier':>7} {'limit':>7} {'base':>7} {'closer':>6} {'unscored':>8}")
    for seed in (int(s) for s in args.seeds.split(",")):
        r = one(seed, args.customers, args.days, args.history_days, config)
        rows.append(r)
        print(f"{seed:>5} {r['kind']:>9} {r['evaluated_on']:>10} {r['train_weeks']:>5} {r['base_rate']:>6.1%} "
              f"{r['auc']:>6.3f} {r['limit_auc']:>6.3f} {r['auc_ratio']:>6.3f} {r[KEY]:>6.3f} {r['limit_' + KEY]:>6.3f} "
              f"{r['brier']:>7.4f} {r['limit_brier']:>7.4f} {r['base_rate_brier']:>7.4f} "
              f"{'yes' if r['brier_closer_to_limit'] else 'no':>6} {r['unscored']:>8}", flush=True)
        print(f"{'':>5} the generator without its unobserved frailty: AUC {r['observable_auc']:.3f} "
              f"(ratio {r['observable_ratio']:.3f}); the model reaches {r['auc'] / r['observable_auc']:.3f} of it")
        for name, b in r["baselines"].items():
            print(f"{'':>5} baseline {name}: AUC {b['auc']:.3f} (ratio {b['auc'] / r['limit_auc']:.3f}), "
                  f"P@R80 {b[KEY]:.3f}, Brier {b['brier']:.4f}")
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("auc", "limit_auc", "auc_ratio", "observable_ratio",
                                                              KEY, "limit_" + KEY,
                                                              "brier", "limit_brier", "base_rate_brier")}
    print(f"mean: AUC {mean['auc']:.3f} vs the generator's {mean['limit_auc']:.3f} -> ratio {mean['auc_ratio']:.3f} "
          f"(bar 0.95: {'met' if mean['auc_ratio'] >= 0.95 else 'NOT met'}; the generator without frailty: "
          f"{mean['observable_ratio']:.3f}); P@R80 {mean[KEY]:.3f} vs "
          f"{mean['limit_' + KEY]:.3f}; Brier {mean['brier']:.4f} vs the generator's {mean['limit_brier']:.4f} and the "
          f"base rate's {mean['base_rate_brier']:.4f} (closer to the generator's: "
          f"{'yes' if abs(mean['brier'] - mean['limit_brier']) < abs(mean['brier'] - mean['base_rate_brier']) else 'no'});"
          f" unscored {sum(r['unscored'] for r in rows)}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"args": vars(args), "seeds": rows, "mean": mean}, indent=2, default=float))


if __name__ == "__main__":
    main()
