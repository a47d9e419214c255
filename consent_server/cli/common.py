"""What every command shares: the check that ``init`` has been run."""

from __future__ import annotations

import click
import sqlalchemy as sa

from ..store import engine


def schema_ready() -> None:
    """Stop with a clear message when `init` has not been run on this database."""
    if not sa.inspect(engine.get_engine()).has_table("log_head"):
        raise click.ClickException(
            "the database has no consent-server tables yet: run `consent-server init`"
        )
