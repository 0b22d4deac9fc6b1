"""Python/numpy/pandas values -> JSON-able ones, for the API, stored details and page stores."""
from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd


def jsonable(value):
    """Timestamps -> ISO strings, NaN/NaT -> None, numpy scalars -> Python values, inside dicts and lists too."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def frame_rows(df: pd.DataFrame) -> list[dict]:
    """DataFrame rows as JSON-able dicts."""
    return [jsonable(r) for r in df.astype(object).where(df.notna(), None).to_dict(orient="records")]
