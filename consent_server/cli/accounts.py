"""Commands for accounts: config page users and audit API bearer tokens."""

from __future__ import annotations

import click

from ..domain.vocabulary import ROLES, SCOPES
from ..store import accounts
from ..store.engine import get_db
from .common import database_command


@click.command("create-user")
@database_command
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user_command(email: str, role: str, password: str) -> None:
    """Create a user of the config page."""
    accounts.create_user(get_db(), email, password, role)
    click.echo(f"Created {role} {email.strip().lower()}.")


@click.command("create-token")
@database_command
@click.argument("name")
@click.option("--scope", type=click.Choice(SCOPES), required=True)
def create_token_command(name: str, scope: str) -> None:
    """Create a bearer token for the audit API; it is printed this once only."""
    token = accounts.create_token(get_db(), name, scope)
    click.echo(token)


@click.command("revoke-token")
@database_command
@click.argument("name")
def revoke_token_command(name: str) -> None:
    """Revoke the bearer token(s) with this name or id; they stop working at once."""
    count = accounts.revoke_token(get_db(), name)
    click.echo(f"Revoked {count} token{'s' if count > 1 else ''} named {name}.")


@click.command("list-tokens")
@database_command
def list_tokens_command() -> None:
    """List bearer tokens (never the tokens themselves): id, name, scope, state."""
    for t in accounts.list_tokens(get_db()):
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "live"
        click.echo(
            f"{t.id}\t{t.name}\t{t.scope}\tcreated {t.created_at:%Y-%m-%d}\t{state}"
        )
