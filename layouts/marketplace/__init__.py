"""Marketplace pages: overview, metric explorer, velocity and cohorts."""
