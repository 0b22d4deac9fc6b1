"""Store reads that jobs and the read side share: source and derived tables into DataFrames.

A loader only reads; it holds no business rule (those live in domain/) and no cache (read/ adds one).
"""
