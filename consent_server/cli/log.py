"""Commands for the consent log: check it, export it, prune it."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask.cli import with_appcontext

from ..domain.export import write_csv, write_ndjson
from ..domain.vocabulary import CATEGORIES, METHODS
from ..store import events, log
from ..store.engine import get_db
from .common import schema_ready


@click.command("verify-log")
@with_appcontext
def verify_log_command() -> None:
    """Check the consent log's hash chain; exit 1 naming the first bad row."""
    schema_ready()
    report = log.verify_chain(get_db())
    if report.ok:
        click.echo(f"ok: {report.events} events, hash chain intact")
        return
    click.echo(
        f"BROKEN: the hash chain breaks at sequence number {report.first_bad_seq}"
        f" ({report.events} events verified before it)",
        err=True,
    )
    sys.exit(1)


TIME_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value and value.tzinfo is None else value


@click.command("export")
@with_appcontext
@click.option("--site", help="Only this site's events.")
@click.option("--consent-id", help="Only this visitor's events.")
@click.option(
    "--since", type=click.DateTime(TIME_FORMATS), help="Recorded at or after (UTC)."
)
@click.option(
    "--until", type=click.DateTime(TIME_FORMATS), help="Recorded before (UTC)."
)
@click.option("--method", type=click.Choice(METHODS), help="Only this method.")
@click.option(
    "--category",
    type=click.Choice(CATEGORIES),
    help="Only events where this category was allowed.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "ndjson"]),
    default="ndjson",
    show_default=True,
)
def export_command(
    site: str | None,
    consent_id: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    method: str | None,
    category: str | None,
    fmt: str,
) -> None:
    """Write the consent log to standard output, filtered like the audit API."""
    schema_ready()
    where = events.EventFilter(
        site=site,
        consent_id=consent_id,
        since=_utc(since),
        until=_utc(until),
        method=method,
        category=category,
    )
    out = sys.stdout
    # Either ends with a line stating the rows and the last hash, so a
    # file cut short (a full disk, a killed command) shows it.
    if fmt == "csv":
        write_csv(out, events.iter_csv_rows(get_db(), where))
    else:
        write_ndjson(out, events.iter_export_rows(get_db(), where))


@click.command("prune")
@with_appcontext
@click.option(
    "--older-than",
    "days",
    # Past this the cut-off date is before year 1.
    type=click.IntRange(min=0, max=700_000),
    required=True,
    help="Remove events older than this many days (0: everything recorded before now).",
)
def prune_command(days: int) -> None:
    """Remove old events from the start of the log, recording that it did."""
    schema_ready()
    removed = log.prune(get_db(), days)
    click.echo(f"Removed {removed} events older than {days} days.")
