"""Commands for accounts: config page users and audit API bearer tokens."""

from __future__ import annotations

import datetime as dt

import click

from ..domain.printable import printable
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
    click.echo(f"Created {role} {printable(email.strip().lower())}.")


@click.command("create-token")
@database_command
@click.argument("name")
@click.option("--scope", type=click.Choice(SCOPES), required=True)
@click.option(
    "--site",
    metavar="SITE",
    help="Scope scan only: the token marks scan events of this site only.",
)
@click.option(
    "--minutes",
    type=click.IntRange(1, 525_600),
    help="The token stops working after this many minutes [default: never].",
)
def create_token_command(
    name: str, scope: str, site: str | None, minutes: int | None
) -> None:
    """Create a bearer token for the audit API; it is printed this once only."""
    expires = None
    if minutes is not None:
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    token = accounts.create_token(get_db(), name, scope, site=site, expires_at=expires)
    click.echo(token)


@click.command("revoke-token")
@database_command
@click.argument("name", required=False)
@click.option(
    "--id", "token_id", type=click.IntRange(min=1), help="Revoke by id instead."
)
def revoke_token_command(name: str | None, token_id: int | None) -> None:
    """Revoke bearer tokens by NAME, or one token by --id (see list-tokens).

    NAME is matched exactly and only as a name, even when it looks like a
    number: every live token with that name is revoked and the count printed.
    --id N revokes only the token with id N. Give one of the two. Revoked
    tokens stop working at once.
    """
    if name is not None and token_id is None:
        ids = accounts.revoke_tokens_named(get_db(), name)
        many = "s" if len(ids) > 1 else ""
        shown = ", ".join(map(str, ids))
        named = printable(name)
        click.echo(f"Revoked {len(ids)} token{many} named {named} (id{many} {shown}).")
    elif token_id is not None and name is None:
        accounts.revoke_token_id(get_db(), token_id)
        click.echo(f"Revoked token {token_id}.")
    else:
        raise click.UsageError("give a token NAME or --id N, not both")


@click.command("list-tokens")
@database_command
def list_tokens_command() -> None:
    """List bearer tokens (never the tokens themselves): id, name, scope, state."""
    for t in accounts.list_tokens(get_db()):
        if t.revoked_at:
            state = f"revoked {t.revoked_at:%Y-%m-%d}"
        elif t.expired():
            state = f"expired {t.expires_at:%Y-%m-%d %H:%M}"
        elif t.expires_at:
            state = f"live until {t.expires_at:%Y-%m-%d %H:%M} UTC"
        else:
            state = "live"
        if t.site:
            state += f"\tsite {printable(t.site)}"
        name, scope = printable(t.name), printable(t.scope)
        click.echo(f"{t.id}\t{name}\t{scope}\tcreated {t.created_at:%Y-%m-%d}\t{state}")
