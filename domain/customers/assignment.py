"""Who works which customer: owners among the active CS agents, balanced by open workload, stable.

Pure: DataFrames in, DataFrames out; the worklist writer (writes/tasks.py) loads and stores them.
"""
from __future__ import annotations

import heapq

import numpy as np
import pandas as pd

ASSIGNMENT_COLUMNS = ["customer_id", "owner_email", "kept"]


def assign_owners(needing: pd.DataFrame, owners: pd.DataFrame, agents: list[str],
                  by: str | None = None) -> pd.DataFrame:
    """An owner for every customer that needs attention.

    needing: customer_id, priority (1 = most urgent), optional `by` column (segment or region) and
    revenue_at_risk; owners: customer_id, owner_email (current owners). agents: active CS emails.

    A customer keeps its owner while that owner is still an active agent (an owner keeps a customer
    while it stays at risk). The others go, most urgent first, to the agent with the least open
    workload (customers owned), ties to the agent with fewer already; with `by`, agents are first
    balanced within each value of that column so every agent gets a share of each segment/region.
    Returns ASSIGNMENT_COLUMNS, one row per customer of `needing` (owner None when there is no agent).
    """
    if needing.empty:
        return pd.DataFrame(columns=ASSIGNMENT_COLUMNS)
    agents = sorted(set(agents))
    current = dict(zip(owners["customer_id"], owners["owner_email"])) if len(owners) else {}
    ids = needing["customer_id"].astype(str).to_numpy()
    kept_owner = np.array([current.get(c) for c in ids], dtype=object)
    active = set(agents)
    kept = np.array([o in active for o in kept_owner])
    out = pd.DataFrame({"customer_id": ids, "owner_email": np.where(kept, kept_owner, None), "kept": kept})
    if not agents or kept.all():
        return out
    load = {a: 0 for a in agents}
    for owner in kept_owner[kept]:
        load[owner] += 1
    todo = needing.loc[~kept].copy()
    revenue = todo["revenue_at_risk"] if "revenue_at_risk" in todo else pd.Series(0.0, index=todo.index)
    todo["_rev"] = -pd.to_numeric(revenue, errors="coerce").fillna(0)
    todo = todo.sort_values(["priority", "_rev", "customer_id"], kind="stable")
    groups = [todo] if not by or by not in todo else [g for _, g in todo.groupby(by, sort=True, dropna=False)]
    heap = [(n, a) for a, n in load.items()]
    heapq.heapify(heap)
    chosen: dict[str, str] = {}
    for group in groups:
        for cid in group["customer_id"].astype(str):
            n, agent = heapq.heappop(heap)
            chosen[cid] = agent
            heapq.heappush(heap, (n + 1, agent))
    mask = ~kept
    out.loc[mask, "owner_email"] = [chosen[c] for c in ids[mask]]
    return out
