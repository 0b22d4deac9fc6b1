"""The morning email of an agent's queue: plain text, the customers to call first, with how to reach them."""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from domain.customers.triggers import TRIGGERS

MAX_ROWS = 25


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def render_queue_email(agent: str, queue: pd.DataFrame, at: datetime, base_url: str) -> tuple[str, str]:
    """(subject, body) for `agent`'s queue (loaders.worklist.QUEUE_COLUMNS rows, most urgent first)."""
    n = len(queue)
    overdue = int(queue["overdue"].sum()) if n else 0
    subject = f"Your queue for {at:%a %d %b}: {n} customer{'s' * (n != 1)}" + (f", {overdue} overdue" if overdue else "")
    lines = [f"Good morning {agent.split('@')[0]},", "",
             f"{n} customer{'s' * (n != 1)} in your queue" + (f" ({overdue} overdue)" if overdue else "") + ".",
             f"Open it: {base_url.rstrip('/')}/queue", ""]
    for i, r in enumerate(queue.head(MAX_ROWS).itertuples(), 1):
        who = _text(r.name) or r.customer_id
        reach = " · ".join(x for x in (_text(r.phone), _text(r.email)) if x)
        first = (r.tasks or "").split(",")[0]
        action = TRIGGERS[first].intervention if first in TRIGGERS else _text(r.intervention)
        due = f"due {pd.Timestamp(r.due_at):%d %b}" + (" (overdue)" if r.overdue else "")
        lines += [f"{i}. {who} ({r.customer_id}) · priority {r.priority} · {due}",
                  f"   {action}"] + ([f"   {reach}"] if reach else []) + \
                 [f"   {base_url.rstrip('/')}/customers/{r.customer_id}", ""]
    if n > MAX_ROWS:
        lines.append(f"... and {n - MAX_ROWS} more in the app.")
    return subject, "\n".join(lines)
