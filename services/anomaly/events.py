"""AnomalyEvent, and turning per-point flags into events (nearby flags merge into one)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from services.anomaly.config import DetectorConfig

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


def runs(flags: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """(first, last) positions of groups of True whose holes are at most `gap` - 1 points long."""
    pos = np.flatnonzero(flags)
    if len(pos) == 0:
        return []
    breaks = np.flatnonzero(np.diff(pos) > gap)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(pos) - 1]])
    return [(int(pos[s]), int(pos[e])) for s, e in zip(starts, ends)]


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
