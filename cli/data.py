"""init-db, demo, ingest."""
from __future__ import annotations

import click

from cli.common import emit, fail, json_option, settings


@click.command("init-db")
def init_db() -> None:
    """Create or upgrade the schema at DATABASE_URL (SQLite under var/ by default)."""
    from models.schema import upgrade
    s = settings()
    upgrade(s.db_url)
    click.echo(f"schema up to date at {_safe_url(s.db_url)}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


@click.command("demo")
@click.option("--customers", type=click.IntRange(10, 5_000_000), default=None, help="Customers (default DEMO_CUSTOMERS).")
@click.option("--days", type=click.IntRange(7, 730), default=None, help="Days of history (default DEMO_DAYS).")
@click.option("--seed", type=int, default=None, help="Random seed (default DEMO_SEED).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Write contract CSVs into this folder instead of the store.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the store already holds customers.")
@json_option
def demo(customers, days, seed, out_dir, if_empty, as_json) -> None:
    """Generate the synthetic marketplace into the store, or as contract CSVs with --out."""
    from bootstrap.demo import load_demo, write_demo_csv
    s = settings()
    customers = customers or s.demo_customers
    days = days or s.demo_days
    seed = s.demo_seed if seed is None else seed
    if out_dir:
        result = write_demo_csv(out_dir, customers=customers, days=days, seed=seed, progress=not as_json)
    else:
        result = load_demo(s, customers=customers, days=days, seed=seed, if_empty=if_empty, progress=not as_json)
    emit(result, as_json, _print_demo)


def _print_demo(result: dict) -> None:
    if "skipped" in result:
        click.echo(f"demo: {result['skipped']}; nothing to do")
        return
    if "out" in result:
        click.echo(f"wrote contract CSVs to {result['out']} in {result['seconds']} s:")
        for record, n in result["rows"].items():
            click.echo(f"  {record:<20}{n:>10,}")
        return
    click.echo(f"demo marketplace: {result['customers']:,} customers, {result['days']} days, seed {result['seed']}, "
               f"loaded in {result['seconds']} s")
    _print_summary(result["records"])


@click.command("ingest")
@click.option("--source", "sources", multiple=True,
              help="synthetic | csv:DIR | rails:DSN (repeatable; default SOURCES).")
@click.option("--calls-api", default=None, help="Support-call API base URL.")
@click.option("--calls-token", default=None, help="Bearer token for the support-call API.")
@click.option("--once", is_flag=True, help="Poll once and exit (default: keep polling every minute).")
@click.option("--interval", type=click.IntRange(1, 86400), default=60, help="Seconds between polls.")
@json_option
def ingest(sources, calls_api, calls_token, once, interval, as_json) -> None:
    """Pull sources into the store; prints {record: {inserted, updated, unchanged, quarantined}}; exits 1 when any poll failed."""
    import time
    from sources import get_adapter
    from ingestion.pipeline import ingest_sources
    s = settings()
    uris = list(sources) or s.source_uris()
    try:
        adapters = [get_adapter(u, s) for u in uris]
        if calls_api or s.calls_api_url:
            adapters.append(get_adapter("calls:" + (calls_api or s.calls_api_url), s, token=calls_token))
    except ValueError as exc:
        fail(str(exc), 2)
    while True:
        result = ingest_sources(s, adapters, progress=not as_json)
        emit(result["records"], as_json, _print_summary)
        if result["errors"]:
            for src, err in result["errors"].items():
                click.echo(f"source {src} failed: {err}", err=True)
        if once:
            raise SystemExit(1 if result["errors"] else 0)  # any failed (source, record): 1, shown above
        time.sleep(interval)


def _print_summary(records: dict) -> None:
    click.echo(f"{'record':<20}{'inserted':>10}{'updated':>10}{'unchanged':>11}{'quarantined':>13}")
    for name, c in records.items():
        click.echo(f"{name:<20}{c['inserted']:>10}{c['updated']:>10}{c['unchanged']:>11}{c['quarantined']:>13}")
