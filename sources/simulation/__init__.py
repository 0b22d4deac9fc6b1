"""The synthetic tutoring marketplace: contract-shaped history with planted incidents, and live mode.

    from sources.simulation import generate, Marketplace
    mp = generate(customers=5000, days=180, seed=42, end=None)
    mp.frames["sessions"]            # one DataFrame per contract record
    mp.incidents                     # planted incidents (see marketplace.Marketplace)
    mp.true_churn_probability(at)    # the generator's own 30-day churn probabilities
    mp.advance(to)                   # live mode: rows changed in (last, to]

Modules: rhythms (clocks, seasonality), entities (who), behaviour (coefficients), engine and
bookings (activity), population (the base at the window's start), scripts (scripted customers),
incidents (supply incidents), metrics (metric streams), frames (contract DataFrames),
verify (contract definitions on the frames), history (the run), live (live mode).
"""
from sources.simulation.marketplace import Marketplace, generate

__all__ = ["Marketplace", "generate"]
