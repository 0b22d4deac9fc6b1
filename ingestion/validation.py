"""Validate a raw batch against the contract: typed good rows, and bad rows each with a reason.

Pure: no database. The caller supplies the ids already known for reference checks.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from domain.contract import RECORDS, Record


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
        frac = num.notna() & (num != np.floor(num.fillna(0)))
        return num.mask(frac).astype("Int64")
    if kind == "float":
        return pd.to_numeric(raw, errors="coerce").astype("float64")
    raise ValueError(kind)


def validate(record: str, raw: pd.DataFrame, known: dict[str, set] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a raw batch into (good typed rows, bad rows).

    good: the contract columns with contract types, one row per key (last wins when a key
    repeats with identical content; conflicting duplicates are all rejected).
    bad: columns row_key, reason, payload (JSON of the raw row). Reasons name the field.
    `known` maps a referenced record name to the set of its ids (e.g. {"customers": {...}}).
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
    # a key repeated inside the batch: keep the newest (by watermark, else the last), quarantine the rest
    key = list(spec.key)
    valid = reasons.isna()
    order = typed[valid]
    if spec.watermark:
        order = order.sort_values(spec.watermark, kind="stable")
    dup = order.duplicated(key, keep="last")
    if dup.any():
        reasons[dup[dup].index] = "duplicate id in batch (the newest row was kept)"
    # fill {value} placeholders with the offending value
    bad_mask = reasons.notna()
    bad_reasons = reasons[bad_mask].copy()
    for idx in bad_reasons.index:
        reason = bad_reasons[idx]
        if "{value}" in reason:
            fname = _field_in_reason(reason, spec)
            bad_reasons[idx] = reason.replace("{value}", repr(raw.at[idx, fname]) if fname else "")
    bad = _bad_rows(spec, raw.loc[bad_mask], bad_reasons)
    good = typed[reasons.isna()][spec.columns].reset_index(drop=True)
    return good, bad


_RANGES = {
    "sessions": {"rating": (1, 5)},
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
    payload = [json.dumps({k: (None if _isna(v) else str(v)) for k, v in row.items()})
               for row in raw.to_dict("records")]
    return pd.DataFrame({"row_key": keys.values, "reason": reasons.values, "payload": payload})


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _empty(spec: Record) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in spec.columns})
