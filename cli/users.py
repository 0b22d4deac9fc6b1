"""create-user, create-token."""
from __future__ import annotations

import click

from cli.common import fail, settings
from models.ops import ROLES


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", default=None, help="Asked for when not given.")
def create_user(email, role, password) -> None:
    """Create a user who can sign in (passwords are stored hashed)."""
    from auth.accounts import AccountError, create_user as create
    from models.schema import upgrade
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        account = create(upgrade(settings().db_url), email, role, password)
    except AccountError as exc:
        fail(str(exc), 2)
    click.echo(f"created {account.email} ({account.role})")


@click.command("create-token")
@click.option("--email", required=True)
def create_token(email) -> None:
    """Create an API token for a user and print it (it is shown only once)."""
    from auth.accounts import AccountError, create_token as create
    from models.schema import upgrade
    try:
        click.echo(create(upgrade(settings().db_url), email))
    except AccountError as exc:
        fail(str(exc), 2)
