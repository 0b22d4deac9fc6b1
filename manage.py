"""Command line: python manage.py --help."""
from __future__ import annotations

import logging

import click

from cli import data, jobs, users
from cli import forecast
from cli import anomaly
from cli import churn


@click.group()
def cli() -> None:
    """Marketplace operations dashboard."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")


cli.add_command(data.init_db)
cli.add_command(data.demo)
cli.add_command(data.ingest)
cli.add_command(jobs.run_jobs)
cli.add_command(users.create_user)
cli.add_command(users.create_token)
cli.add_command(forecast.backtest)
cli.add_command(anomaly.detect)
cli.add_command(churn.evaluate_churn)


if __name__ == "__main__":
    cli()
