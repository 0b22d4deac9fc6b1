"""Writes users make (and the alert lifecycle jobs share): one module per aggregate, used by pages and the API."""
