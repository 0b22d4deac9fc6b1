"""Command-line commands, one module per area; manage.py lists them explicitly."""
