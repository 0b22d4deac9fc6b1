"""Python/numpy/pandas values -> JSON-able ones, for the API, stored details and page stores."""
from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pandas as pd


def jsonable(value):
    """Timestamps -> ISO strings, NaN/NaT and infinities -> None (JSON has neither), numpy scalars -> Python
    values, inside dicts (keys as strings) and lists too."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def frame_rows(df: pd.DataFrame) -> list[dict]:
    """DataFrame rows as JSON-able dicts."""
    return [jsonable(r) for r in df.astype(object).where(df.notna(), None).to_dict(orient="records")]
