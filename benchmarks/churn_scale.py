"""Churn at scale: the weekly fit and the daily scoring on N x 50,000 customers, each in its own process.

    .venv/bin/python benchmarks/churn_scale.py [--scale 2] [--days 180] [--phases train,score]

The marketplace (seed 42) is generated once and kept as pickled contract frames under
var/bench/churn_scale<N>/. Each phase then runs in a fresh process (as a Celery worker would take the
task) that reads the frames and prints its wall time, CPU time and peak RSS (VmHWM):

- train: domain.churn.train_churn as the weekly job runs it (the recipe one horizon back for the model
  card + baselines, then the scoring recipe at T), the model pickled for the score phase;
- score: features of every customer eligible at T, probabilities, lifetime value, explanations of the
  customers worth explaining (jobs.customers.churn.worth_explaining).

What it leaves out: reading the store (jobs.customers.churn.load_frames) and writing the predictions, which
benchmarks/scale.py measures with the jobs against PostgreSQL. Goals (issue 13, 500,000 customers on two
cores): weekly fit < 10 min, daily scoring < 2 min, peak < 4 GB. Prints numbers; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RECORDS = ("customers", "sessions", "bookings", "inbound_calls")
END = datetime(2026, 11, 1)


def peak_rss_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return -1


def folder(scale: float, days: int) -> Path:
    return ROOT / "var" / "bench" / f"churn_scale{scale:g}x{days}"


def prepare(scale: float, days: int) -> Path:
    import pandas as pd

    from sources.simulation import generate
    out = folder(scale, days)
    if (out / "done").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    mp = generate(customers=int(50_000 * scale), days=days, seed=42, end=END)
    for r in RECORDS:
        pd.to_pickle(mp.frames[r], out / f"{r}.pkl")
    (out / "done").write_text(json.dumps({"end": mp.end.isoformat(), "generated_s": time.perf_counter() - t0}))
    return out


def phase(name: str, where: Path) -> dict:
    """Runs in the child process."""
    import joblib
    import pandas as pd

    from domain.churn import ChurnConfig, History, train_churn
    from domain.churn.explain import explain
    from domain.churn.features import FEATURE_NAMES, features_at
    from domain.churn.value import lifetime_value
    from jobs.customers.churn import worth_explaining
    end = pd.Timestamp(json.loads((where / "done").read_text())["end"])
    wall, cpu = time.perf_counter(), time.process_time()
    frames = {r: pd.read_pickle(where / f"{r}.pkl") for r in RECORDS}
    h = History(frames)
    del frames
    out: dict = {"phase": name, "customers": int(h.n), "sessions": int(len(h.s_t))}
    if name == "train":
        result = train_churn(h, end, ChurnConfig())
        joblib.dump(result.model, where / "model.joblib")
        m = result.metrics
        out.update(kind=result.kind, train_weeks=len(m["split"]["train"]), holdout_auc=m["holdout"]["auc"],
                   holdout_brier=m["holdout"]["brier"],
                   fit_seconds={k: v["fit_seconds"] for k, v in m["candidates"].items()})
    else:
        model = joblib.load(where / "model.joblib")
        t = time.perf_counter()
        X = features_at(h, end.value)
        out["features_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        p = model.predict_proba(X[FEATURE_NAMES])[:, 1]
        value = lifetime_value(h, end.value, p, 45.0)
        out["predict_value_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        explained = worth_explaining(p, value["revenue_at_risk"].to_numpy(float))
        explain(model, X.iloc[explained])
        out.update(explain_s=round(time.perf_counter() - t, 1), explained=int(len(explained)), scored=int(len(X)),
                   revenue_at_risk=round(float(value["revenue_at_risk"].sum())))
    out.update(wall_s=round(time.perf_counter() - wall, 1), cpu_s=round(time.process_time() - cpu, 1),
               peak_rss_mb=peak_rss_mb())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=2)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--phases", default="train,score")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(phase(args.child, folder(args.scale, args.days))))
        return
    t0 = time.perf_counter()
    where = prepare(args.scale, args.days)
    print(f"churn at scale {args.scale:g}: {int(50_000 * args.scale):,} customers x {args.days} days "
          f"(frames ready in {time.perf_counter() - t0:.0f} s, {where})", flush=True)
    for name in args.phases.split(","):
        run = subprocess.run([sys.executable, __file__, "--scale", str(args.scale), "--days", str(args.days),
                              "--child", name], capture_output=True, text=True, cwd=ROOT)
        if run.returncode:
            print(f"{name}: failed\n{run.stderr[-2000:]}")
            continue
        r = json.loads(run.stdout.strip().splitlines()[-1])
        print(f"{name}: wall {r['wall_s']} s, cpu {r['cpu_s']} s, peak RSS {r['peak_rss_mb']:,} MB; "
              + json.dumps({k: v for k, v in r.items() if k not in ("phase", "wall_s", "cpu_s", "peak_rss_mb")}),
              flush=True)


if __name__ == "__main__":
    main()
