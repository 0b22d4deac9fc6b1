"""The churn classifier: logistic regression (scaled numbers + one-hot categories) or histogram gradient
boosting over the same FEATURES, with per-feature contributions for explanations.

`ChurnModel` follows scikit-learn's conventions: parameters in __init__, learned state (trailing
underscore) only in fit, fixed seeds; it can be cloned, pickled with joblib and compared.

Contributions are in log-odds, one per model input (FEATURES), relative to a reference customer:
- logistic: coefficient x (standardised value - its training mean), summed over a category's one-hot
  columns; they add up exactly to logit(p) - logit(p of the average training customer);
- boosting: logit(p) - logit(p with that one input set to its training median / most common value)
  (a cheap local attribution: it does not add up exactly, and interactions are split unevenly).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from domain.churn.features import BY_NAME, CATEGORICAL, FEATURE_NAMES, FEATURES

KINDS = ("logistic", "gbm")
CALIBRATIONS = ("platt", "isotonic")
COUNTS = [f.name for f in FEATURES if f.kind == "count"]
PLAIN = [f.name for f in FEATURES if f.kind in ("num", "flag")]
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


class ChurnModel(ClassifierMixin, BaseEstimator):
    """P(churn in the next 30 days) from a FEATURES frame (domain.churn.features.snapshot_features).

    kind: "logistic" or "gbm". C: inverse L2 strength of the logistic regression. The gbm_* parameters
    are HistGradientBoostingClassifier's (no early stopping: its random split would put the same
    customer's other snapshots on both sides). threshold: the cut `predict` uses. n_threads: OpenMP
    threads for boosting; 1 by default because on a shared machine (web app, workers, other jobs)
    OpenMP's spinning threads run ~15x slower than one thread (measured on 2 loaded cores).
    features: the inputs used (default every FEATURES entry; a short history or a baseline uses fewer);
    the others contribute nothing. `calibrate` fits a monotone map (Platt or isotonic) from the raw
    probability to the observed rate on later weeks; predict_proba applies it.
    """

    def __init__(self, kind: str = "logistic", C: float = 0.5, learning_rate: float = 0.03, max_iter: int = 300,
                 max_leaf_nodes: int = 7, min_samples_leaf: int = 500, l2_regularization: float = 1.0,
                 threshold: float = 0.5, random_state: int = 0, n_threads: int | None = 1,
                 features: tuple[str, ...] | None = None):
        self.features = features
        self.kind = kind
        self.C = C
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.threshold = threshold
        self.random_state = random_state
        self.n_threads = n_threads

    # --- inputs ---------------------------------------------------------------------------------
    @property
    def used(self) -> list[str]:
        """The model's inputs, in FEATURES order."""
        if self.features is None:
            return list(FEATURE_NAMES)
        unknown = set(self.features) - set(FEATURE_NAMES)
        if unknown:
            raise ValueError(f"unknown feature(s): {', '.join(sorted(unknown))}")
        return [c for c in FEATURE_NAMES if c in self.features]

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        used = self.used
        missing = [c for c in used if c not in X]
        if missing:
            raise ValueError(f"missing feature column(s): {', '.join(missing)}")
        X = X[used].copy()
        for c in used:
            if c in CATEGORICAL:
                X[c] = pd.Categorical(X[c].astype(object), categories=list(BY_NAME[c].categories))
            else:  # float32: half the memory of a training set at 500,000 customers x many weeks
                X[c] = pd.to_numeric(X[c], errors="coerce").astype(np.float32).fillna(0.0)
        return X

    def _build(self):
        used = self.used
        if self.kind == "logistic":
            cats = [c for c in CATEGORICAL if c in used]
            parts = [("count", Pipeline([("log", FunctionTransformer(np.log1p, feature_names_out="one-to-one")),
                                         ("scale", StandardScaler())]), [c for c in COUNTS if c in used]),
                     ("plain", StandardScaler(), [c for c in PLAIN if c in used])]
            if cats:
                parts.append(("cat", OneHotEncoder(categories=[list(BY_NAME[c].categories) for c in cats],
                                                   handle_unknown="ignore", sparse_output=False), cats))
            prep = ColumnTransformer([p for p in parts if p[2]], sparse_threshold=0.0)
            clf = LogisticRegression(C=self.C, max_iter=3000, random_state=self.random_state)
            return Pipeline([("prep", prep), ("clf", clf)])
        if self.kind == "gbm":
            return HistGradientBoostingClassifier(
                learning_rate=self.learning_rate, max_iter=self.max_iter, max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf, l2_regularization=self.l2_regularization,
                categorical_features="from_dtype", early_stopping=False, random_state=self.random_state)
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")

    # --- fit / predict ----------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y, sample_weight=None) -> "ChurnModel":
        """sample_weight: e.g. 1 / sampling rate for sampled negatives, times a decay for older weeks."""
        X = self._frame(X)
        y = np.asarray(y, dtype=int)
        estimator = self._build()
        with threadpool_limits(self.n_threads):
            if sample_weight is None:
                self.estimator_ = estimator.fit(X, y)
            elif self.kind == "logistic":
                self.estimator_ = estimator.fit(X, y, clf__sample_weight=np.asarray(sample_weight, dtype=float))
            else:
                self.estimator_ = estimator.fit(X, y, sample_weight=np.asarray(sample_weight, dtype=float))
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.array(self.used, dtype=object)
        self.n_features_in_ = len(self.used)
        self.calibrator_ = None
        self.reference_ = {c: (X[c].mode().iloc[0] if c in CATEGORICAL else float(X[c].median())) for c in self.used}
        if self.kind == "logistic":
            prep = self.estimator_.named_steps["prep"]
            self.z_mean_ = prep.transform(X).mean(axis=0)
            self.column_feature_ = self._column_features(prep)
        return self

    def calibrate(self, X: pd.DataFrame, y, sample_weight=None, method: str = "platt") -> "ChurnModel":
        """Fit the map raw probability -> observed churn rate on (X, y), weeks the model was not fitted on.
        platt: logistic regression on the raw log-odds (keeps the ranking, steady on few churners);
        isotonic: a monotone step function (needs many churners)."""
        raw = self._p(self._frame(X))
        y = np.asarray(y, dtype=int)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if method == "platt":
            lr = LogisticRegression(C=1e4, max_iter=1000).fit(_logit(raw)[:, None], y, sample_weight=w)
            self.calibrator_ = ("platt", float(lr.coef_[0, 0]), float(lr.intercept_[0]))
        elif method == "isotonic":
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y, sample_weight=w)
            self.calibrator_ = ("isotonic", iso)
        else:
            raise ValueError(f"method must be one of {', '.join(CALIBRATIONS)}, not {method!r}")
        return self

    def _calibrated(self, raw: np.ndarray) -> np.ndarray:
        cal = getattr(self, "calibrator_", None)
        if cal is None:
            return raw
        if cal[0] == "platt":
            return 1.0 / (1.0 + np.exp(-(cal[1] * _logit(raw) + cal[2])))
        return np.clip(cal[1].predict(raw), _EPS, 1 - _EPS)

    def _column_features(self, prep: ColumnTransformer) -> np.ndarray:
        """The FEATURES name behind each transformed column."""
        out = []
        for name, _trans, cols in prep.transformers_:
            if name == "cat":
                for c, cats in zip(cols, prep.named_transformers_["cat"].categories_):
                    out += [c] * len(cats)
            elif name in ("count", "plain"):
                out += list(cols)
        return np.array(out, dtype=object)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.column_stack([1 - (p := self._calibrated(self._p(self._frame(X)))), p])

    def _p(self, Xf: pd.DataFrame) -> np.ndarray:
        with threadpool_limits(self.n_threads):
            return self.estimator_.predict_proba(Xf)[:, 1]

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= self.threshold).astype(int)

    # --- explanations -------------------------------------------------------------------------------
    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Log-odds contribution (of the raw, uncalibrated model) of every model input for every row
        (columns FEATURE_NAMES, X's index; inputs the model does not use contribute 0)."""
        Xf = self._frame(X)
        if self.kind == "logistic":
            prep, clf = self.estimator_.named_steps["prep"], self.estimator_.named_steps["clf"]
            parts = (prep.transform(Xf) - self.z_mean_) * clf.coef_[0]
            frame = pd.DataFrame(parts, index=X.index)
            return frame.T.groupby(self.column_feature_).sum().T.reindex(columns=FEATURE_NAMES, fill_value=0.0)
        base = _logit(self._p(Xf))
        out = {c: np.zeros(len(Xf)) for c in FEATURE_NAMES}
        for c in self.used:
            ref = self.reference_[c]
            # rows already at the reference contribute nothing: only the others are predicted again
            moved_rows = (Xf[c].astype(object) != ref).to_numpy() if c in CATEGORICAL else (Xf[c] != ref).to_numpy()
            contrib = np.zeros(len(Xf))
            if moved_rows.any():
                moved = Xf.loc[moved_rows].copy()
                moved[c] = pd.Categorical([ref] * len(moved), categories=Xf[c].cat.categories) \
                    if c in CATEGORICAL else ref
                contrib[moved_rows] = base[moved_rows] - _logit(self._p(moved))
            out[c] = contrib
        return pd.DataFrame(out, index=X.index)[FEATURE_NAMES]

    def importance(self, X: pd.DataFrame) -> pd.Series:
        """Mean |contribution| per input over X (log-odds), largest first: the model card's top features."""
        return self.contributions(X).abs().mean().sort_values(ascending=False)
