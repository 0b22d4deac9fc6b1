"""DemandForecaster: seasonal members in local time that know the holidays and follow the recent
level, weighted per lead time by an inner backtest, with intervals calibrated on that backtest.

fit(history):
1. put the history on an hourly grid, keep the last ``train_days``, read it in local time
   (``tz``; default the holiday country's main zone, see calendar.py) and flag its holidays;
2. clip outliers (``clip_outliers``) so one spike or outage cannot bend the profiles; mask
   holiday days so no member copies them into an ordinary week;
3. learn how Sunday-like the history's holidays were (``members.holiday_alpha``), and the weekdays
   next to them (bridge days, shrunk towards an ordinary day);
4. inner backtest: for each of the last ``validation_folds`` weeks, forecast it with every member
   from the hours before it; per lead bucket (next day, days 2-3, later) pick convex weights (step
   ``weight_step``, ``select_weights``) with the lowest absolute error, shrunk by ``shrink`` towards
   equal weights;
   the ensemble's errors there give the interval (``calibration.py``).

Why: on the forecasting dev kit (four real hourly series, six weekly folds each) the previous
Prophet-centred ensemble was no better than the mean of the same hour over two weeks, and lost
every holiday and shock week: multi-week members copied the holiday, or ignored a level change
for days. The level members follow a shift within a day, the holiday rule applies to every member,
and point forecasts are means (never rounded to zero), so sums over hours and coverage are unbiased.
``validation_`` reports each member's and the ensemble's error on the inner weeks next to the
seasonal naive's; when the ensemble did not beat it there the forecaster forecasts with the
(holiday-aware) "same hour last week" alone and says so (``validation_["model"] == "seasonal_naive"``).
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from domain.forecasting import calibration, members as mb
from domain.forecasting.baselines import HOUR, seasonal_naive
from domain.forecasting.calendar import hour_of_week, is_holiday, near_holiday, resolve_tz, to_local
from domain.forecasting.metrics import accuracy
from domain.forecasting.series import regular_hourly

MEMBERS = mb.MEMBERS
FORMAT_VERSION = 3
SHIFT_MIN = 0.2  # a level move under ~20 % in 3 days is never treated as a shift
SHIFT_MEMBERS = ("level1d", "level3d")
KEEP_WEEKS = 8  # history kept with a fitted model: the longest profile plus the level window


def select_weights(actual: np.ndarray, preds: dict[str, np.ndarray], step: float) -> dict[str, float]:
    """Greedy ensemble selection (Caruana et al. 2004): add, 1/``step`` times and with replacement,
    the member that most lowers the absolute error of the running mean. As good as a full grid of
    convex weights at this step and linear, not exponential, in the number of members."""
    names, steps = list(preds), round(1 / step)
    counts = dict.fromkeys(names, 0)
    total = np.zeros(len(actual))
    for i in range(1, steps + 1):
        def err(m: str) -> float:
            p = (total + preds[m]) / i
            return float(np.nansum(np.abs(actual - p)) + np.isnan(p).sum() * 1e12)
        best = min(names, key=err)
        counts[best] += 1
        total = total + preds[best]
    return {m: c / steps for m, c in counts.items()}


def clip_outliers(ts: pd.Series, y: np.ndarray, k: float | None, skip_days: set = frozenset()) -> np.ndarray:
    """Clip hours whose log1p value is more than ``k`` robust SDs from the median of the same hour
    of the week, after removing the week-long level, so a level shift is not clipped but a spike
    or an outage is. The SD is per hour of the day (quiet night hours are noisier in log terms
    than busy ones). Dates in ``skip_days`` (holidays, which the model learns) are left alone."""
    if not k:
        return y.copy()
    ts = pd.Series(ts).reset_index(drop=True)
    ly = np.log1p(np.clip(y, 0, None))
    how = (ts.dt.day_of_week * 24 + ts.dt.hour).to_numpy()
    profile = pd.Series(ly).groupby(how).transform("median").to_numpy()
    resid = pd.Series(ly - profile)
    level = resid.rolling(168, center=True, min_periods=24).median().to_numpy()
    r = pd.Series(resid.to_numpy() - level)
    mad = r.abs().groupby(ts.dt.hour.to_numpy()).transform("median").to_numpy() * 1.4826
    with np.errstate(invalid="ignore"):
        out = np.abs(r.to_numpy()) > k * np.maximum(mad, 0.05)
    out &= ~ts.dt.normalize().isin(skip_days).to_numpy()
    bound = profile + level + np.sign(r.to_numpy()) * k * np.maximum(mad, 0.05)
    return np.where(out, np.expm1(bound), y)


class DemandForecaster:
    """Hourly demand forecaster; see the module docstring for what fit does.

    predict() returns DataFrame[ts, yhat, yhat_lower, yhat_upper, baseline]: ``yhat`` the expected
    value (a weighted mean of means), the bounds the ``interval`` prediction interval, ``baseline``
    the plain seasonal-naive forecast on the raw history, kept beside the model for comparison.
    """

    KIND = "seasonal_level_ensemble"  # forecast_models.kind

    def __init__(self, horizon_h: int = 168, train_days: int = 90, interval: float = 0.95, seed: int = 0,
                 holidays: str | None = "US", tz: str | None = None, validation_h: int = 168,
                 validation_folds: int = 8, weight_step: float = 0.125, shrink: float = 0.3,
                 clip_k: float | None = 5.0, near_days: int = 1, members: tuple[str, ...] = MEMBERS):
        self.horizon_h = horizon_h
        self.train_days = train_days
        self.interval = interval
        self.seed = seed  # no randomness today; kept so stored parameters stay comparable
        self.holidays = holidays
        self.tz = tz
        self.validation_h = validation_h
        self.validation_folds = validation_folds
        self.weight_step = weight_step
        self.shrink = shrink
        self.clip_k = clip_k
        self.near_days = near_days
        self.members = tuple(members)

    def _params(self) -> dict:
        return {k: getattr(self, k) for k in (
            "horizon_h", "train_days", "interval", "seed", "holidays", "tz", "validation_h", "validation_folds",
            "weight_step", "shrink", "clip_k", "near_days", "members")}

    def _calendar(self, ts) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]:
        local = to_local(ts, resolve_tz(self.tz, self.holidays))
        return hour_of_week(local), is_holiday(local, self.holidays), local

    def _clean(self, ts, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(clean, masked clean, how): outliers clipped in local time, holidays masked as NaN."""
        how, hol, local = self._calendar(ts)
        skip = set(local.normalize()[hol])
        clean = clip_outliers(pd.Series(local), raw, self.clip_k, skip)
        return clean, np.where(hol, np.nan, clean), how

    def _bridge(self, ts, hol: np.ndarray) -> np.ndarray:
        """Weekdays next to a holiday (the Friday after Thanksgiving, Christmas week): partly holiday-like."""
        local = to_local(ts, resolve_tz(self.tz, self.holidays))
        return near_holiday(local, self.holidays, 1) & ~hol & np.asarray(local.day_of_week < 5)

    def _combine(self, preds: dict[str, np.ndarray], lead: np.ndarray) -> np.ndarray:
        """The weighted mean of the members per lead bucket (a member's NaN hour is left out)."""
        b = np.minimum(calibration.bucket(lead), len(self.weights_) - 1)
        total, norm = np.zeros(len(lead)), np.zeros(len(lead))
        for name, p in preds.items():
            w = np.array([self.weights_[k].get(name, 0.0) for k in range(len(self.weights_))])[b]
            ok = ~np.isnan(p) & (w > 0)
            total[ok] += w[ok] * p[ok]
            norm[ok] += w[ok]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.clip(np.where(norm > 0, total / np.where(norm > 0, norm, 1), np.nan), 0, None)

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, history: pd.DataFrame) -> "DemandForecaster":
        """history: DataFrame[ts, y] (naive UTC, hourly or finer; missing hours are missing, not zero)."""
        h = regular_hourly(history)
        h = h.iloc[-self.train_days * 24:].reset_index(drop=True)
        if h["y"].notna().sum() < 2 * 168:
            raise ValueError(f"need at least two weeks of hourly history, got {int(h['y'].notna().sum())} hours")
        ts, raw = h["ts"], h["y"].to_numpy(dtype=float)
        known = raw[~np.isnan(raw)]
        self.counts_ = bool(np.all((known >= 0) & (np.mod(known, 1) == 0)))
        clean, masked, how = self._clean(ts, raw)
        hol = np.isnan(masked) & ~np.isnan(clean)
        bridge = self._bridge(ts, hol)
        self.alpha_ = mb.holiday_alpha(clean, how, hol)
        self.beta_ = mb.holiday_alpha(clean, how, bridge, prior=0.0, strength=1.0)
        self.usual_shift_ = max(mb.usual_shift(masked, how), SHIFT_MIN)
        day_w = np.where(hol, self.alpha_, np.where(bridge, self.beta_, 0.0))
        self.weights_, self.bounds_, self.validation_ = self._validate(ts, raw, clean, masked, how, day_w)
        keep = KEEP_WEEKS * 168
        self.raw_, self.clean_ = raw[-keep:], clean[-keep:]
        self.ts_end_ = ts.iloc[-1]
        self.train_start_, self.train_end_ = ts.iloc[0], ts.iloc[-1]
        return self

    def _validate(self, ts: pd.Series, raw: np.ndarray, clean: np.ndarray, masked: np.ndarray, how: np.ndarray,
                  day_w: np.ndarray):
        """Inner backtest on the last ``validation_folds`` blocks of ``validation_h`` hours ->
        (weights per lead bucket, interval bounds per bucket, report)."""
        n, v, names = len(raw), self.validation_h, list(self.members)
        nb = len(calibration.BUCKETS) + 1
        ends = [n - j * v for j in range(1, self.validation_folds + 1) if n - j * v >= 2 * 168]
        equal = {m: 1 / len(names) for m in names}
        if not ends:  # too short for an inner backtest: equal weights, the naive's last-week error
            self.weights_ = [equal] * nb
            naive = mb.forecasts(masked[:-168], how[:-168], how[-168:], np.zeros(168), ("naive",))["naive"]
            lead = np.arange(1, 169)
            return self.weights_, calibration.fit_bounds(raw[-168:], naive, np.zeros(168), lead, self.interval), {
                "method": "too short to validate", "model": "ensemble"}
        preds, actual, cleaned, naive, lead = {m: [] for m in names}, [], [], [], []
        for end in ends:
            fut = slice(end, min(end + v, n))
            for name, p in mb.forecasts(masked[:end], how[:end], how[fut], day_w[fut],
                                        self.members).items():
                preds[name].append(p)
            actual.append(raw[fut])
            cleaned.append(clean[fut])
            lead.append(np.arange(1, fut.stop - end + 1))
            naive.append(seasonal_naive(pd.DataFrame({"ts": ts.iloc[:end], "y": raw[:end]}), v)["yhat"].to_numpy()[:fut.stop - end])
        preds = {m: np.concatenate(p) for m, p in preds.items()}
        actual, naive, lead = np.concatenate(actual), np.concatenate(naive), np.concatenate(lead)
        cleaned = np.concatenate(cleaned)
        b = calibration.bucket(lead)

        selected, weights = [], []
        for k in range(nb):
            sel = (b == k) & ~np.isnan(actual)
            best = select_weights(actual[sel], {m: p[sel] for m, p in preds.items()}, self.weight_step) \
                if sel.any() else equal
            selected.append(best)
            weights.append({m: (1 - self.shrink) * best[m] + self.shrink / len(names) for m in names})
        self.weights_ = weights
        combo = self._combine(preds, lead)

        def wape(p: np.ndarray) -> float:
            return accuracy(actual, p)["mape"]

        report = {
            "method": f"inner backtest, {len(ends)} x {v} h", "hours": int((~np.isnan(actual)).sum()),
            "mape": {m: wape(p) for m, p in preds.items()}, "selected": selected,
            "ensemble_mape": wape(combo), "seasonal_naive_mape": wape(naive), "holiday_alpha": self.alpha_,
        }
        report["beats_baseline"] = bool(report["ensemble_mape"] < report["seasonal_naive_mape"])
        if not report["beats_baseline"] and "naive" in names:
            # Not shown as a model when it cannot beat "same hour last week": forecast with that.
            weights = [{m: float(m == "naive") for m in names}] * nb
            self.weights_ = weights
            combo = self._combine(preds, lead)
        report["model"] = "ensemble" if report["beats_baseline"] else "seasonal_naive"
        # calibrated on the cleaned hours: an outage (a closed day) is not demand to plan for
        bounds = calibration.fit_bounds(cleaned, combo, calibration.spread(preds), lead, self.interval)
        return weights, calibration.widen_for_drift(bounds, calibration.level_drift(masked, self.interval)), report

    # -- forecasting ---------------------------------------------------------------------------
    def predict(self, start=None) -> pd.DataFrame:
        """DataFrame[ts, yhat, yhat_lower, yhat_upper, baseline] for ``horizon_h`` hours from
        ``start`` (default: the hour after the last history hour). Never below zero."""
        first = self.ts_end_ + HOUR if start is None else pd.Timestamp(start).floor("h")
        if first <= self.ts_end_:
            raise ValueError(f"start {first} is inside the history (last hour {self.ts_end_})")
        future = pd.date_range(first, periods=self.horizon_h, freq="h")
        hist_ts = pd.date_range(end=self.ts_end_, periods=len(self.raw_), freq="h")
        how_h, hol_h, _ = self._calendar(hist_ts)
        masked = np.where(hol_h, np.nan, self.clean_)
        how_f, hol_f, local_f = self._calendar(future)
        lead = ((future - self.ts_end_) / HOUR).to_numpy().astype(int)

        def run(hol_w: np.ndarray) -> np.ndarray:
            return self._combine(mb.forecasts(masked, how_h, how_f, hol_w, self.members, lead), lead)

        day_w = np.where(hol_f, self.alpha_, np.where(self._bridge(future, hol_f), self.beta_, 0.0))
        preds = mb.forecasts(masked, how_h, how_f, day_w, self.members, lead)
        yhat = self._combine(preds, lead)
        # After an unusual level shift (the last 3 days far from the profile, further than the level
        # usually moves) the calm-week weights trust the old level: follow the recent level members
        # instead, and keep the old forecast inside the interval in case the shift does not last.
        shifted = mb.shift_size(masked, how_h) > self.usual_shift_
        before = yhat
        if shifted:
            recent = [preds[m] for m in SHIFT_MEMBERS if m in preds]
            yhat = np.nanmean(np.vstack(recent), axis=0) if recent else yhat
        # Around holidays the day may go either way: the interval spans the ordinary-day and the
        # Sunday-like forecast before the calibrated errors are added.
        near = near_holiday(local_f, self.holidays, self.near_days)
        lo_base, hi_base = np.fmin(yhat, before), np.fmax(yhat, before)
        if near.any():
            ordinary, sunday = run(np.zeros(len(future))), run(near.astype(float))
            lo_base = np.where(near, np.fmin(np.fmin(lo_base, ordinary), sunday), lo_base)
            hi_base = np.where(near, np.fmax(np.fmax(hi_base, ordinary), sunday), hi_base)
        lower, upper = calibration.apply_bounds(lo_base, hi_base, calibration.spread(preds), lead, self.bounds_)
        ahead = int((future[-1] - self.ts_end_) / HOUR)
        baseline = seasonal_naive(pd.DataFrame({"ts": hist_ts, "y": self.raw_}), ahead)["yhat"].to_numpy()[-len(future):]
        return pd.DataFrame({"ts": future, "yhat": yhat, "yhat_lower": np.minimum(lower, yhat),
                             "yhat_upper": np.maximum(upper, yhat), "baseline": baseline})

    def refresh(self, history: pd.DataFrame) -> "DemandForecaster":
        """Take in newer hours (the hourly refresh) without refitting: the members move to the
        latest weeks, the weights and bounds stay as fitted. history: DataFrame[ts, y]."""
        h = regular_hourly(history)
        old = pd.DataFrame({"ts": pd.date_range(end=self.ts_end_, periods=len(self.raw_), freq="h"), "y": self.raw_})
        h = regular_hourly(pd.concat([old[~old["ts"].isin(h["ts"])], h])).iloc[-len(self.raw_):]
        ts, raw = h["ts"].reset_index(drop=True), h["y"].to_numpy(dtype=float)
        self.raw_, self.clean_ = raw, self._clean(ts, raw)[0]
        self.ts_end_ = ts.iloc[-1]
        return self

    # -- storage (JSON, never pickle) -----------------------------------------------------------
    def to_json(self) -> str:
        def arr(a):
            return [None if np.isnan(v) else float(v) for v in a]
        return json.dumps({
            "format": FORMAT_VERSION, "kind": self.KIND, "params": self._params(), "alpha": self.alpha_, "beta": self.beta_, "usual_shift": self.usual_shift_,
            "weights": self.weights_, "bounds": self.bounds_, "validation": self.validation_, "counts": self.counts_,
            "train_start": self.train_start_.isoformat(), "train_end": self.train_end_.isoformat(),
            "ts_end": self.ts_end_.isoformat(), "raw": arr(self.raw_), "clean": arr(self.clean_),
        })

    @classmethod
    def from_json(cls, text: str) -> "DemandForecaster":
        data = json.loads(text)
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown forecaster format {data.get('format')!r}")
        params = data["params"]
        params["members"] = tuple(params["members"])
        f = cls(**params)
        f.alpha_, f.weights_, f.bounds_, f.validation_ = data["alpha"], data["weights"], data["bounds"], data["validation"]
        f.counts_, f.usual_shift_, f.beta_ = bool(data["counts"]), float(data["usual_shift"]), float(data["beta"])
        f.train_start_, f.train_end_ = pd.Timestamp(data["train_start"]), pd.Timestamp(data["train_end"])
        f.ts_end_ = pd.Timestamp(data["ts_end"])
        f.raw_ = np.array([np.nan if v is None else v for v in data["raw"]], dtype=float)
        f.clean_ = np.array([np.nan if v is None else v for v in data["clean"]], dtype=float)
        return f
