"""Demand jobs: forecast, supply/coverage and recruiting recommendations."""
