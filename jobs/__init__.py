"""Jobs: each module loads its inputs from the store, calls the domain, writes derived tables.

Every job is defined and scheduled once, in jobs/table.py; jobs/runner.py runs one by name.
"""
