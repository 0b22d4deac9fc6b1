"""Marketplace pages' callbacks: overview, metric explorer, velocity and cohorts."""
