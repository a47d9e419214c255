"""What every command shares: an initialised database, and plain one-line errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..domain.errors import ConsentError
from ..domain.printable import printable
from ..store import engine

P = ParamSpec("P")
R = TypeVar("R")


def schema_ready() -> None:
    """Stop with a clear message when `init` has not been run on this database."""
    if not sa.inspect(engine.get_engine()).has_table("log_head"):
        raise click.ClickException(
            "the database has no consent-server tables yet: run `consent-server init`"
        )


def database_command(command: Callable[P, R]) -> Callable[P, R]:
    """Run a command in the app context on an initialised database; a rule it
    breaks (a :class:`ConsentError`) ends it with one plain line, exit 1.

    The message may quote what was stored or typed: control characters in it
    are printed as escapes.
    """

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        schema_ready()
        try:
            return command(*args, **kwargs)
        except ConsentError as exc:
            raise click.ClickException(printable(exc.message)) from None

    return with_appcontext(run)
