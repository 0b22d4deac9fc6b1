"""Validate a raw batch against the contract: typed good rows, and bad rows each with a reason.

Pure: no database. The caller supplies the ids already known for reference checks, the poll time
(times after it, beyond a small skew, are bad input) and the store's column limits (read from the
models by ingestion.limits).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from domain.contract import RECORDS, Record
from ingestion.checks import CONFLICT_REASON, check_future, check_limits, duplicate_verdicts
from ingestion.limits import ColumnLimit, store_limits
from models.frames import row_hash

REDACTED = "<personal data>"


def _parse_datetime(raw: pd.Series, blank: pd.Series | None = None) -> pd.Series:
    """ISO strings or datetimes -> naive UTC datetime64; unparseable -> NaT.

    ISO 8601 is parsed on the fast path; anything else gets a second, slower, lenient pass.
    """
    if pd.api.types.is_datetime64_any_dtype(raw):
        out = raw
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        return out.astype("datetime64[us]")
    text = raw.astype(object).where(~(_blank(raw) if blank is None else blank), None)
    out = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    retry = out.isna() & text.notna()
    if retry.any():
        out[retry] = pd.to_datetime(text[retry], errors="coerce", utc=True, format="mixed")
    return out.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")


def _blank(raw: pd.Series) -> pd.Series:
    if not _textual(raw):  # typed values (datetimes, numbers) are blank only when missing
        return raw.isna()
    return raw.isna() | (raw.astype(str).str.strip() == "")


def _textual(raw: pd.Series) -> bool:
    return raw.dtype == object or isinstance(raw.dtype, pd.StringDtype)


def typed_column(raw: pd.Series, kind: str, blank: pd.Series | None = None) -> pd.Series:
    """Convert one raw column to its contract type; values that fail become NaN/NaT.

    `blank` (from _blank) may be passed when the caller already has it; it saves a pass over strings.
    """
    if kind == "str":
        text = raw.astype(str).str.strip()
        return text.astype(object).where(~(raw.isna() | (text == "")), None)
    if kind in ("datetime", "date"):
        out = _parse_datetime(raw, blank)
        return out.dt.normalize() if kind == "date" else out
    if kind == "int":
        num = pd.to_numeric(raw, errors="coerce")
        # fractions and values no 64-bit integer holds (e.g. "1e30") are not integers
        frac = num.notna() & ((num != np.floor(num.fillna(0))) | (num.abs() >= 2.0 ** 63))
        return num.mask(frac).astype("Int64")
    if kind == "float":
        return pd.to_numeric(raw, errors="coerce").astype("float64")
    raise ValueError(kind)


def validate(record: str, raw: pd.DataFrame, known: dict[str, set] | None = None, now: datetime | None = None,
             skew: timedelta = timedelta(hours=1),
             limits: dict[str, ColumnLimit] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a raw batch into (good typed rows, bad rows).

    good: the contract columns with contract types, one row per key. A key repeated in the batch
    follows ingestion.checks.DUPLICATE_RULE: the newest watermark wins, older versions are dropped,
    rows tied at the newest watermark with different content are all quarantined.
    bad: columns row_key, reason, payload (JSON of the raw row, personal fields redacted). Reasons
    name the field. `known` maps a referenced record name to the set of its ids (e.g.
    {"customers": {...}}). `now`: the poll time; times after now + skew are bad (None: not checked).
    `limits`: the store's column limits (default: ingestion.limits.store_limits(record)).
    """
    spec = RECORDS[record]
    missing_cols = [c for c in spec.columns if c not in raw.columns and spec.field(c).required]
    if missing_cols:
        bad = _bad_rows(spec, raw, pd.Series(f"missing column(s): {', '.join(missing_cols)}", index=raw.index))
        return _empty(spec), bad
    raw = raw.reset_index(drop=True).copy()
    for col in spec.columns:
        if col not in raw.columns:
            raw[col] = None
    reasons = pd.Series(None, index=raw.index, dtype=object)
    typed = pd.DataFrame(index=raw.index)

    def reject(mask: pd.Series, reason: str) -> None:
        mask = mask & reasons.isna()
        reasons[mask] = reason

    for f in spec.fields:
        col = raw[f.name]
        if f.kind == "str":  # one pass over the strings gives both the value and its blankness
            typed[f.name] = typed_column(col, f.kind)
            blank = typed[f.name].isna()
        else:
            blank = _blank(col)
            typed[f.name] = typed_column(col, f.kind, blank)
        if f.required:
            reject(blank, f"missing required field {f.name}")
        bad_type = ~blank & typed[f.name].isna()
        reject(bad_type, f"bad {f.kind} in {f.name}: {{value}}")
        if f.vocab is not None:
            ok = typed[f.name].isna() | typed[f.name].isin(f.vocab)
            reject(~ok, f"unknown {f.name} {{value}}; expected one of {', '.join(f.vocab)}")
        if f.kind in ("int", "float") and f.name in _RANGES.get(record, {}):
            lo, hi = _RANGES[record][f.name]
            val = typed[f.name]
            reject(val.notna() & ((val < lo) | (val > hi)), f"{f.name} {{value}} outside {lo}..{hi}")
    for col, (ref_record, _) in spec.refs.items():
        if known is not None and ref_record in known:
            dangling = typed[col].notna() & ~typed[col].isin(known[ref_record])
            reject(dangling, f"dangling reference {col} {{value}}: no such {ref_record[:-1] if ref_record.endswith('s') else ref_record}")
    _check_rules(record, typed, reject)
    check_future(spec, typed, reject, now, skew)
    check_limits(spec, typed, reject, store_limits(record) if limits is None else limits)
    dropped, conflict = duplicate_verdicts(spec, typed, reasons.isna(), lambda f: row_hash(f, spec.columns))
    reasons[conflict] = CONFLICT_REASON.format(wm=spec.watermark or "content key")
    # fill {value} placeholders with the offending value
    bad_mask = reasons.notna()
    bad_reasons = reasons[bad_mask].copy()
    for idx in bad_reasons.index:
        reason = bad_reasons[idx]
        if "{value}" in reason:
            fname = _field_in_reason(reason, spec)
            bad_reasons[idx] = reason.replace("{value}", _shown(raw.at[idx, fname]) if fname else "")
    bad = _bad_rows(spec, raw.loc[bad_mask], bad_reasons)
    keep = reasons.isna()
    if len(dropped):
        keep[dropped] = False
    good = typed[keep][spec.columns].reset_index(drop=True)
    return good, bad


_RANGES = {
    "sessions": {"rating": (1, 5), "price": (0, 100_000)},
    "tutors": {"rating_avg": (1, 5)},
    "tutor_availability": {"weekday": (0, 6), "start_hour": (0, 23), "end_hour": (1, 24)},
    "inbound_calls": {"duration_s": (0, 86400)},
    "campaigns": {"daily_budget": (0, 1e9), "cost_per_hire": (0, 1e9)},
}


def _check_rules(record: str, typed: pd.DataFrame, reject) -> None:
    """Cross-field rules that a type check cannot see."""
    if record == "tutor_availability":
        reject(typed["end_hour"].notna() & typed["start_hour"].notna() & (typed["end_hour"] <= typed["start_hour"]),
               "end_hour must be after start_hour")
    if record == "sessions":
        reject(typed["end_time"].notna() & (typed["end_time"] < typed["start_time"]), "end_time before start_time")
    if record == "customers":
        reject((typed["status"] == "churned") & typed["churned_at"].isna(), "status churned without churned_at")


def _shown(value) -> str:
    """The offending value as the reason quotes it: Python's repr, numpy scalars as plain numbers."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _field_in_reason(reason: str, spec: Record) -> str | None:
    for f in sorted(spec.columns, key=len, reverse=True):
        if f in reason:
            return f
    return None


def _bad_rows(spec: Record, raw: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    if raw.empty:
        return pd.DataFrame(columns=["row_key", "reason", "payload"])
    key_cols = [k for k in spec.key if k in raw.columns]
    keys = raw[key_cols].astype(str).agg("|".join, axis=1) if key_cols else pd.Series("", index=raw.index)
    personal = spec.personal
    payload = [json.dumps({k: (None if _isna(v) else REDACTED if k in personal else str(v)) for k, v in row.items()})
               for row in raw.to_dict("records")]
    return pd.DataFrame({"row_key": keys.values, "reason": reasons.values, "payload": payload})


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _empty(spec: Record) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in spec.columns})
