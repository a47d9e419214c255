"""Commands for the consent log: check it, export it, prune it."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..domain.export import object_lines, write_csv
from ..domain.note import (
    BadKey,
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    open_checkpoint,
)
from ..domain.printable import printable
from ..domain.vocabulary import CATEGORIES, METHODS
from ..store import cosignatures, events, log, sites, tree, tree_export, verify
from ..store.engine import get_db
from ..store.tree import b64
from .common import schema_ready


@click.command("verify-log")
@with_appcontext
@click.option(
    "--against",
    "checkpoints",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="CHECKPOINT",
    help="A checkpoint saved earlier (consent-server checkpoint, a witness):"
    " the log must still hold the tree it signed. May be given several times.",
)
@click.option(
    "--key",
    "verifier_key",
    default=None,
    help="The log's verifier key to check those checkpoints with"
    " [default: this server's own].",
)
def verify_log_command(checkpoints: tuple[Path, ...], verifier_key: str | None) -> None:
    """Check the consent log: its hash chain, its Merkle tree, and (with
    --against) that it still holds every saved checkpoint's tree; exit 1
    naming what broke."""
    schema_ready()
    saved: list[tuple[Path, Checkpoint]] = []
    if checkpoints:  # the log's key is needed for those only
        verifier = _verifier(verifier_key)
        saved = [(path, _saved_checkpoint(path, verifier)) for path in checkpoints]
    conn = get_db()
    report, found = verify.verify_log(conn, [c.size for _, c in saved])
    failures = []
    if report.ok:
        click.echo(f"ok: {report.events} events, hash chain intact")
    else:
        failures.append(
            f"BROKEN: the hash chain breaks at sequence number {report.first_bad_seq}"
            f" ({report.events} events verified before it)"
        )
    if found.ok:
        click.echo(
            f"ok: Merkle tree of {found.tree_size} leaves, root {b64(found.root)}"
        )
    else:
        failures.append(f"BROKEN: {found.problem}")
    with conn.begin():
        latest = tree.latest_checkpoint(conn)
        dating = cosignatures.dating_problems(conn)
        changed = sites.changed_documents(conn)
    failures.extend(dating)
    failures.extend(changed)
    for path, checkpoint in saved:
        problem = against(found, checkpoint, latest)
        name = printable(str(path))
        if problem is None:
            click.echo(f"ok: holds the tree of {name} ({checkpoint.size} events)")
        else:
            failures.append(f"{problem} (checkpoint {name})")
    for line in failures:
        click.echo(line, err=True)
    if failures:
        sys.exit(1)


def _verifier(key: str | None) -> Verifier:
    if key is None:
        if current_app.extensions.get("consent_log_key_unknown"):
            raise click.ClickException(
                "give --key VERIFIER_KEY (the log's verifier key): CONSENT_LOG_KEY"
                " is not set here, so the log's key is not known"
            )
        signer: Signer = current_app.extensions["consent_log_signer"]
        return signer.verifier
    try:
        return Verifier.from_key(key.strip())
    except BadKey as exc:
        raise click.ClickException(f"--key: {printable(exc.message)}") from None


def _saved_checkpoint(path: Path, verifier: Verifier) -> Checkpoint:
    name = printable(str(path))
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {name}: {exc.strerror}") from None
    try:
        return open_checkpoint(text, verifier)
    except NoteError as exc:
        raise click.ClickException(
            f"{name} is not a checkpoint signed by this log's key:"
            f" {printable(exc.message)}"
        ) from None


def against(
    found: tree.TreeReport,
    checkpoint: Checkpoint,
    latest: tree.StoredCheckpoint | None,
) -> str | None:
    """What a saved checkpoint says about the log, in words; None when the
    log still holds exactly the tree it signed."""
    if not found.ok and checkpoint.size > found.tree_size:
        # The tree could be rebuilt only up to where it breaks.
        return (
            f"REWRITTEN: the log's tree breaks at leaf {found.tree_size}, inside"
            f" the {checkpoint.size} events the checkpoint signed"
        )
    if checkpoint.size > found.tree_size:
        if found.tree_size == 0:
            return (
                f"EMPTIED: the log holds no events, but the checkpoint signed"
                f" {checkpoint.size}"
            )
        if latest is None or latest.tree_size < checkpoint.size:
            # The database's own record of checkpoints is older too.
            return (
                f"ROLLED BACK: the log holds {found.tree_size} events and remembers"
                f" no checkpoint past {latest.tree_size if latest else 0}, but"
                f" signed one of {checkpoint.size}: an older copy of the database"
                " was restored"
            )
        return (
            f"TRUNCATED: the log holds {found.tree_size} events, but the"
            f" checkpoint signed {checkpoint.size}: its tail was removed"
        )
    if found.roots.get(checkpoint.size) != checkpoint.root:
        return (
            f"REWRITTEN: the first {checkpoint.size} events are not the ones the"
            " checkpoint signed: events were changed, removed or put in"
        )
    return None


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
        facts, start = tree_export.tree_facts()
        write_csv(out, events.iter_csv_rows(get_db(), where, start), facts)
    else:
        for line in object_lines(tree_export.records(get_db(), where)):
            out.write(line)


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
