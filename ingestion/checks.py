"""Row checks beyond the contract's types: times in the future, values the store cannot hold, and
the one rule for an id repeated inside a batch. Pure: typed columns in, a `reject(mask, reason)` out.

Duplicate ids (domain.contract.DUPLICATE_RULE, also shown on the data-health page): among the rows of a batch that
share an id, the one with the newest watermark (`updated_at`, or the record's own watermark
column) wins and the older versions are dropped as superseded (an export that holds a row's
history is not an error). Rows tied at the newest watermark with identical content are one row;
tied with different content, nothing says which is right: they are all quarantined and the
store keeps what it had.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from domain.contract import Record
from ingestion.limits import ColumnLimit

CONFLICT_REASON = "conflicting duplicate id: rows with the same id and the same {wm} differ"
_BAD = re.compile(r"[\x00\ud800-\udfff]")  # NUL (PostgreSQL refuses it) and lone surrogates (undecodable bytes)


def check_future(spec: Record, typed: pd.DataFrame, reject, now: datetime | None, skew: timedelta) -> None:
    """Times after `now + skew` are bad input, except fields the contract allows in the future."""
    if now is None:
        return
    limit = pd.Timestamp(now + skew)
    for f in spec.fields:
        if f.kind in ("datetime", "date") and not f.future_ok:
            col = typed[f.name]
            # the reason names the allowed skew, not the poll time: the same row seen again at the next
            # poll must give the same reason, so it is quarantined once
            reject(col.notna() & (col > limit),
                   f"{f.name} {{value}} is in the future (beyond the allowed clock skew of {_span(skew)})")


def check_limits(spec: Record, typed: pd.DataFrame, reject, limits: dict[str, ColumnLimit]) -> None:
    """Strings within their column's length and free of NUL bytes; integers within their column's
    range; floats finite. Personal fields are named in the reason, never quoted."""
    for f in spec.fields:
        col = typed[f.name]
        limit = limits.get(f.name)
        shown = "" if f.personal else " {value}"
        if f.kind == "str":
            text = col.dropna()
            if text.empty:
                continue
            values = [v if isinstance(v, str) else str(v) for v in text.tolist()]
            # one regex pass over the whole column joined is C speed; rows are looked at only on a hit
            if _BAD.search("\n".join(values)):
                bad = pd.Series([bool(_BAD.search(v)) for v in values], index=text.index)
                reject(bad.reindex(col.index, fill_value=False),
                       f"{f.name}{shown} holds a NUL byte or undecodable text")
            if limit and limit.max_length:
                lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
                if lengths.max() > limit.max_length:
                    long = pd.Series(lengths > limit.max_length, index=text.index)
                    reject(long.reindex(col.index, fill_value=False),
                           f"{f.name} longer than {limit.max_length} characters" + ("" if f.personal else ": {value}"))
        elif f.kind == "int" and limit and limit.int_range:
            lo, hi = limit.int_range
            reject(col.notna() & ((col < lo) | (col > hi)), f"{f.name}{shown} outside the store's range {lo}..{hi}")
        elif f.kind == "float":
            values = col.to_numpy(dtype=float, na_value=np.nan)
            reject(pd.Series(np.isinf(values), index=col.index), f"{f.name}{shown} is not a finite number")


def duplicate_verdicts(spec: Record, typed: pd.DataFrame, valid: pd.Series, hashes) -> tuple[pd.Index, pd.Index]:
    """(index of superseded rows to drop, index of conflicting rows to quarantine) among the valid rows.

    `hashes(frame)` returns a per-row content hash (models.frames.row_hash over the contract columns).
    """
    key = list(spec.key)
    rows = typed.loc[valid, key]
    repeated = rows.duplicated(key, keep=False)
    if not repeated.any():
        return pd.Index([]), pd.Index([])
    dup = typed.loc[repeated[repeated].index]
    wm = spec.watermark
    stamp = dup[wm] if wm else pd.Series(0, index=dup.index)
    newest = stamp.groupby([dup[k] for k in key]).transform("max")
    at_newest = (stamp == newest) | (stamp.isna() & newest.isna())
    superseded = dup.index[~at_newest.to_numpy()]
    top = dup[at_newest.to_numpy()]
    content = pd.Series(np.asarray(hashes(top[spec.columns])), index=top.index)
    variants = content.groupby([top[k] for k in key]).transform("nunique")
    conflict = top.index[(variants > 1).to_numpy()]
    same = top[(variants == 1).to_numpy()]
    extra = same.index[same.duplicated(key, keep="last").to_numpy()]  # identical copies: keep the last
    return superseded.append(extra), conflict


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"
