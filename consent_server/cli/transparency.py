"""Commands for the transparency log: keep a checkpoint, check a receipt."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..domain import json_text
from ..domain.note import BadKey, Verifier
from ..domain.printable import printable
from ..domain.receipt import BadReceipt, check
from ..store import tree
from ..store.engine import get_db
from .common import schema_ready


@click.command("checkpoint")
@with_appcontext
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write it to this file instead of standard output.",
)
def checkpoint_command(out: Path | None) -> None:
    """Sign a checkpoint of the log as it is now and print it.

    Keep the output away from the database (another server, an auditor's
    mailbox, a bucket): `verify-log --against` and witnesses compare the log
    with it later, and a log rewritten since cannot match it.
    """
    schema_ready()
    try:
        signed = tree.sign_checkpoint(
            get_db(), current_app.extensions["consent_log_signer"]
        )
    except tree.TreeMismatch as exc:
        raise click.ClickException(str(exc)) from None
    if out is None:
        click.echo(signed.note, nl=False)
        return
    try:
        out.write_text(signed.note)
    except OSError as exc:
        raise click.ClickException(
            f"cannot write {printable(str(out))}: {exc.strerror}"
        ) from None
    click.echo(
        f"Checkpoint of {signed.tree_size} events written to {printable(str(out))}"
    )


@click.command("verify-receipt")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "verifier_key",
    required=True,
    help="The log's verifier key (NAME+KEYID+KEY), as the log publishes it.",
)
def verify_receipt_command(file: Path, verifier_key: str) -> None:
    """Check a consent receipt offline: its checkpoint's signature and the
    event's inclusion proof. Needs no database and no network."""
    try:
        verifier = Verifier.from_key(verifier_key.strip())
    except BadKey as exc:
        raise click.ClickException(f"--key: {printable(exc.message)}") from None
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text()
    except OSError as exc:
        raise click.ClickException(
            f"cannot read {printable(str(file))}: {exc.strerror}"
        ) from None
    except UnicodeDecodeError:
        raise click.ClickException(f"{printable(str(file))} is not a receipt") from None
    try:
        receipt = json_text.loads(text)
    except (ValueError, RecursionError):
        raise click.ClickException(
            f"{printable(str(file))} is not a receipt (not JSON)"
        ) from None
    try:
        checked = check(receipt, verifier)
    except BadReceipt as exc:
        click.echo(f"INVALID: {printable(exc.message)}", err=True)
        sys.exit(1)
    event = checked.event
    click.echo(
        f"ok: event {printable(str(event.get('event_id')))} of consent"
        f" {printable(str(event.get('consent_id')))} (site"
        f" {printable(str(event.get('site')))}, recorded"
        f" {printable(str(event.get('recorded_at')))}) is leaf"
        f" {checked.leaf_index} of the log {printable(checked.checkpoint.origin)},"
        f" in its signed checkpoint of {checked.checkpoint.size} events"
    )
    choices = {k: event.get(k) for k in ("preferences", "analytics", "advertising")}
    click.echo("choices: " + json.dumps(choices, separators=(", ", ": ")))
