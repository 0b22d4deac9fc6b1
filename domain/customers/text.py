"""Column-wise text for the health score's whys and explanation JSON: each formats distinct values once,
because at 500,000 customers string work, not arithmetic, is the cost."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from domain.customers.triggers import DAY_NS, NAT


def per_unique(values: np.ndarray, fmt) -> np.ndarray:
    uniq, inverse = np.unique(values, return_inverse=True)
    return np.array([fmt(v) for v in uniq.tolist()], dtype=object)[inverse.ravel()]


def day(values) -> np.ndarray:
    """ISO dates ("2024-05-31"), None for NaT."""
    ns = np.asarray(values, dtype="datetime64[ns]").view("int64")
    days = np.where(ns == NAT, NAT, ns // DAY_NS)
    return per_unique(days, lambda d: None if d == NAT else str(np.datetime64(d, "D")))


def fmt(values) -> np.ndarray:
    """Numbers as short text: 2.0 -> "2", 2.25 -> "2.25"."""
    return per_unique(np.asarray(values, dtype=float), lambda v: f"{v:.2f}".rstrip("0").rstrip("."))


def json_text(values, missing: str = "null", quoted: bool = True) -> np.ndarray:
    """JSON string literals ("..." escaped; `missing` for None/NaN) of an object array; quoted=False
    gives the escaped text alone, for source text (ids, goals) placed inside a longer JSON string."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    lits = [json.encoder.encode_basestring(str(v)) for v in uniques]
    lits = np.array((lits if quoted else [x[1:-1] for x in lits]) + [missing], dtype=object)
    return lits[codes]  # code -1 (missing) -> the trailing `missing`


def inline(values) -> np.ndarray:
    return json_text(values, missing="", quoted=False)


def json_literal(values) -> np.ndarray:
    """JSON literal of each value (numbers to 2 decimals, NaN -> null), as an object array of str."""
    arr = np.asarray(values)
    if arr.dtype == bool:
        return np.where(arr, "true", "false").astype(object)
    if arr.dtype.kind in "iu":
        return per_unique(arr, repr)
    if arr.dtype.kind == "f":
        return per_unique(np.round(arr, 2), lambda v: "null" if v != v else repr(v))
    return json_text(arr)


def pick_text(n: int, default, *cases) -> np.ndarray:
    """Per row: the first (mask, build) case whose mask is true, built only on its rows; else default."""
    out = np.full(n, default, dtype=object) if isinstance(default, str) else np.asarray(default, dtype=object).copy()
    taken = np.zeros(n, dtype=bool)
    for mask, build in cases:
        rows = mask & ~taken
        if rows.any():
            out[rows] = build(rows)
        taken |= rows
    return out
