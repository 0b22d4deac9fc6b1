"""Command-line commands, one module per area; manage.py lists them explicitly.

Commands import their heavy modules (pandas, scikit-learn, the simulator) inside the command
function, on purpose: `manage.py --help` and light commands start fast, and `detect` on one series stays
under a second plus start-up.
"""
