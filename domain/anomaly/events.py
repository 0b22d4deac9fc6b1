"""AnomalyEvent, and turning per-point flags into events (nearby flags merge into one)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from domain.anomaly.config import DetectorConfig

EVENT_COLUMNS = ["metric", "method", "start", "end", "peak_ts", "value", "expected", "score", "severity", "why", "details"]


@dataclass
class AnomalyEvent:
    """One anomaly: consecutive or nearby flags of one method on one metric, merged.

    start/end: first and last flagged time (end is when the data last showed it);
    peak_ts/value/expected: the most extreme point; score: the method's statistic divided by
    its threshold (1.0 = just over the line, comparable across methods); severity from score;
    why: plain words with the numbers; details: the same numbers as a JSON-able dict.
    """
    metric: str
    method: str
    start: datetime
    end: datetime
    peak_ts: datetime
    value: float
    expected: float
    score: float
    severity: str
    why: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: times as ISO strings."""
        out = asdict(self)
        for key in ("start", "end", "peak_ts"):
            out[key] = iso(out[key])
        return out


def iso(ts) -> str:
    return pd.Timestamp(ts).isoformat()


def severity(score: float, config: DetectorConfig) -> str:
    if score >= config.severity_critical:
        return "critical"
    if score >= config.severity_warning:
        return "warning"
    return "info"


def runs(flags: np.ndarray, gap: int, grow: float = 0.0) -> list[tuple[int, int]]:
    """(first, last) positions of groups of True whose holes are at most `gap` - 1 points long.

    grow > 0 lets a long group swallow what follows within grow x its length: the aftershocks of a
    level shift (the baseline catching up, the daily shape re-scaling) belong to the same event.
    """
    pos = np.flatnonzero(flags)
    if len(pos) == 0:
        return []
    out = []
    first = last = int(pos[0])
    for p in pos[1:]:
        p = int(p)
        if p - last <= max(gap, grow * (last - first + 1)):
            last = p
        else:
            out.append((first, last))
            first = last = p
    out.append((first, last))
    return out


def fmt(x: float) -> str:
    """A number as people read it: 3 significant digits, thousands separators."""
    if x is None or not np.isfinite(x):
        return "n/a"
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 100:
        return f"{x:.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 1:
        return f"{x:.2f}"
    if ax == 0:
        return "0"
    return f"{x:.3g}"


def fmt_time(ts) -> str:
    t = pd.Timestamp(ts)
    return t.strftime("%Y-%m-%d %H:%M") if t.second == 0 else t.strftime("%Y-%m-%d %H:%M:%S")


def to_frame(events: list[AnomalyEvent]) -> pd.DataFrame:
    if not events:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c in ("start", "end", "peak_ts") else object)
                             for c in EVENT_COLUMNS})
    frame = pd.DataFrame([asdict(e) for e in events], columns=EVENT_COLUMNS)
    for c in ("value", "expected", "score"):
        frame[c] = frame[c].astype(float)
    return frame
