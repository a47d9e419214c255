"""Commands for the transparency log: keep a checkpoint, check a receipt."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from pydantic import ValidationError

from .. import log_key
from ..domain import json_text, merkle
from ..domain.cosignature import (
    Witness,
    WitnessSigner,
    cosigned_by,
    shown_time,
    with_cosignatures,
)
from ..domain.languages import texts_hash
from ..domain.note import (
    BadKey,
    Checkpoint,
    NoteError,
    Verifier,
    open_checkpoint,
    open_note,
)
from ..domain.printable import printable
from ..domain.receipt import BadReceipt, check
from ..domain.site_config import SiteConfig, document_hash
from ..store import erasure, tree
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
    if current_app.extensions.get("consent_log_key_automatic") and (
        log_key.automatic_refused(current_app)
    ):
        # A checkpoint signed with a key nobody published proves nothing.
        raise click.ClickException(f"CONSENT_LOG_KEY {log_key.missing(current_app)}")
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
@click.option(
    "--witness",
    "witness_keys",
    multiple=True,
    help="A witness's key (NAME+KEYID+KEY) that must have cosigned the"
    " receipt's checkpoint; may be given more than once.",
)
@click.option(
    "--banner",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The site's config document of the event's config_revision, byte"
    " for byte as GET /v1/audit/sites/SITE/revisions/N serves it: check that"
    " it is the one the visitor was shown (its categories, services and"
    " texts; only its texts for an event recorded before the log kept the"
    " document's hash).",
)
def verify_receipt_command(
    file: Path, verifier_key: str, witness_keys: tuple[str, ...], banner: Path | None
) -> None:
    """Check a consent receipt offline: its checkpoint's signature, the
    event's inclusion proof, (with --witness) the witnesses' cosignatures
    of that checkpoint, and (with --banner) that a config document is the
    one the visitor was shown. Needs no database and no network."""
    try:
        verifier = Verifier.from_key(verifier_key.strip())
    except BadKey as exc:
        raise click.ClickException(f"--key: {printable(exc.message)}") from None
    try:
        witnesses = [Witness.from_key(k) for k in witness_keys]
    except BadKey as exc:
        raise click.ClickException(f"--witness: {printable(exc.message)}") from None
    if banner is not None and str(file) == "-" == str(banner):
        raise click.ClickException(
            "the receipt and --banner cannot both be read from standard input"
        )
    receipt = _read_json(file, "a receipt")
    shown = _config_document(banner) if banner else None
    try:
        checked = check(receipt, verifier)
    except BadReceipt as exc:
        click.echo(f"INVALID: {printable(exc.message)}", err=True)
        sys.exit(1)
    cosigned = cosigned_by(open_note(receipt["checkpoint"], [verifier]), witnesses)
    missing = [w.name for w in witnesses if w.id not in cosigned]
    if missing:
        click.echo(
            f"INVALID: the receipt's checkpoint is not cosigned by witness"
            f" {printable(missing[0])}: ask the log for the receipt again once"
            " the witness has seen its tree",
            err=True,
        )
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
    for witness in witnesses:
        when, _ = cosigned[witness.id]
        click.echo(
            f"cosigned by witness {printable(witness.name)} at {shown_time(when)}:"
            " it had seen this tree, extending every earlier one"
        )
    choices = {k: event.get(k) for k in ("preferences", "analytics", "advertising")}
    click.echo("choices: " + json.dumps(choices, separators=(", ", ": ")))
    if banner is not None and shown is not None:
        _check_banner(banner, shown, event)


def _read_json(path: Path, what: str) -> Any:
    """The JSON in ``path`` (``-``: standard input); one plain line if not."""
    return _read_json_bytes(path, what)[0]


def _read_json_bytes(path: Path, what: str) -> tuple[Any, bytes]:
    """The JSON in ``path`` (``-``: standard input) and the file's bytes;
    one plain line if it holds no JSON in UTF-8."""
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise click.ClickException(
            f"cannot read {printable(str(path))}: {exc.strerror}"
        ) from None
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise click.ClickException(f"{printable(str(path))} is not {what}") from None
    try:
        return json_text.loads(text), data
    except (ValueError, RecursionError):
        raise click.ClickException(
            f"{printable(str(path))} is not {what} (not JSON)"
        ) from None


def _config_document(path: Path) -> tuple[SiteConfig, bytes]:
    """The published config in ``path`` and the file's bytes; one plain
    line if it is none."""
    value, data = _read_json_bytes(path, "a config document")
    try:
        return SiteConfig.model_validate(value), data
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the document"
        raise click.ClickException(
            f"{printable(str(path))} is not a site's config document: {where}:"
            f" {printable(first['msg'])}"
        ) from None


def _check_banner(
    path: Path, shown: tuple[SiteConfig, bytes], event: dict[str, Any]
) -> None:
    """The receipt's event recorded the config document in ``shown`` (a
    published config and its bytes): its hash, for an event whose entry
    has one (version 2), and its texts in the event's language; else
    INVALID and exit 1."""
    config, data = shown
    name = printable(str(path))
    site, language = event.get("site"), event.get("language")
    revision = event.get("config_revision")
    where = (
        f"GET /v1/audit/sites/{printable(str(site))}/revisions/"
        f"{printable(str(revision))}"
    )
    if config.site != site:
        click.echo(
            f"INVALID: {name} is the config of site {printable(config.site)},"
            f" the event is for site {printable(str(site))}",
            err=True,
        )
        sys.exit(1)
    recorded = event.get("config_hash")
    if recorded is not None and document_hash(data) != recorded:
        click.echo(
            f"INVALID: {name} is not the config document this event records"
            f" (config_hash {printable(str(recorded))}): the one it was shown is"
            f" {where}, byte for byte as served",
            err=True,
        )
        sys.exit(1)
    if not isinstance(language, str) or texts_hash(config, language) != event.get(
        "texts_hash"
    ):
        click.echo(
            f"INVALID: the banner texts of {name} are not the ones this event"
            f" records (language {printable(str(language))}): the banner it was"
            f" shown is {where}",
            err=True,
        )
        sys.exit(1)
    texts = (
        f"language {printable(language)},"
        f" texts_hash {printable(str(event['texts_hash']))}"
    )
    if recorded is None:
        click.echo(
            f"banner: {name} holds the texts the visitor was shown ({texts});"
            " the event was recorded before the log kept the document's hash,"
            " so its categories and services are not proved"
        )
        return
    click.echo(
        f"banner: {name} is the config document the visitor was shown"
        f" (config_hash {printable(str(recorded))}): its categories, services"
        f" and texts ({texts})"
    )


# What a witness keeps in its state folder.
WITNESS_KEY = "verifier.key"
WITNESS_CHECKPOINT = "checkpoint"
WITNESS_HISTORY = "checkpoints.log"
WITNESS_COSIGNED = "cosigned"  # the last checkpoint, with its cosignature


class WitnessAlarm(Exception):
    """The log did something a witness must not accept; the message says what."""


def _open(
    request: urllib.request.Request,
    refused: Callable[[urllib.error.HTTPError], str],
) -> bytes:
    """The answer's body (1 MB at most), or one plain line: ``refused`` words
    an error status, and an address that cannot be reached is said so."""
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            body: bytes = answer.read(1 << 20)
            return body
    except urllib.error.HTTPError as exc:
        raise click.ClickException(refused(exc)) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise click.ClickException(
            f"cannot reach {printable(request.full_url)}: {printable(str(reason))}"
        ) from None


def _fetch(url: str, token: str | None) -> bytes:
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def refused(exc: urllib.error.HTTPError) -> str:
        return f"{printable(url)} answered {exc.code}" + (
            ": send --token for a log kept to auditors" if exc.code == 401 else ""
        )

    return _open(urllib.request.Request(url, headers=headers), refused)


def _log_url(url: str) -> str:
    base = url.rstrip("/")
    return base.removesuffix("/v1/log/checkpoint")


def _write_whole(path: Path, text: str) -> None:
    # A crash leaves the old file or the new one, never half of one.
    draft = path.with_name(f".{path.name}.new")
    with open(draft, "w") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(draft, path)


def follow(
    previous: Checkpoint | None,
    latest: Checkpoint,
    consistency: Callable[[int, int], list[bytes]],
) -> str:
    """Whether ``latest`` may follow ``previous``: a line saying how, or
    :class:`WitnessAlarm`."""
    if previous is None:
        return f"first checkpoint: {latest.size} events"
    if latest.size < previous.size:
        raise WitnessAlarm(
            f"ROLLBACK: the log now signs a tree of {latest.size} events, after"
            f" signing one of {previous.size}: it shrank or was rolled back"
        )
    if latest.size == previous.size:
        if latest.root != previous.root:
            raise WitnessAlarm(
                f"FORK: the log signed two different trees of {latest.size} events"
            )
        return f"unchanged at {latest.size} events"
    proof = consistency(previous.size, latest.size)
    if not merkle.verify_consistency(
        previous.size, latest.size, proof, previous.root, latest.root
    ):
        raise WitnessAlarm(
            f"FORK: the log's tree of {latest.size} events does not extend the"
            f" tree of {previous.size} it signed before: its history was rewritten"
        )
    return f"grew from {previous.size} to {latest.size} events, consistently"


@click.command("witness")
@click.argument("url")
@click.option(
    "--state",
    "state",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder where the witness keeps the log's key and the last checkpoint.",
)
@click.option(
    "--key",
    "verifier_key",
    default=None,
    help="The log's verifier key; needed on the first run, kept in --state.",
)
@click.option("--token", default=None, help="Bearer token, for a log kept to auditors.")
@click.option(
    "--sign-key",
    "sign_key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The witness's own signing key file (keygen --witness): cosign each"
    " checkpoint that checks out and hand the cosignature to the log.",
)
def witness_command(
    url: str,
    state: Path,
    verifier_key: str | None,
    token: str | None,
    sign_key: Path | None,
) -> None:
    """Follow a consent log: fetch its checkpoint from URL (the service's
    address), check its signature and that it extends the last one seen, and
    keep it. Exit 1 on a fork, a rollback or a shrink (the evidence is kept in
    --state), or when the log cannot be checked. Run it from another machine,
    e.g. every few minutes."""
    state.mkdir(parents=True, exist_ok=True)
    key_file = state / WITNESS_KEY
    kept = key_file.read_text().strip() if key_file.exists() else None
    if verifier_key is not None and kept is not None and verifier_key.strip() != kept:
        raise click.ClickException(
            f"--key differs from the key kept in {printable(str(key_file))}:"
            " a log's key does not change; use another --state for another log"
        )
    text = verifier_key.strip() if verifier_key is not None else kept
    if text is None:
        raise click.ClickException("the first run needs the log's --key")
    cosigner = _witness_signer(sign_key) if sign_key is not None else None
    try:
        verifier = Verifier.from_key(text)
    except BadKey as exc:
        raise click.ClickException(f"--key: {printable(exc.message)}") from None
    base = _log_url(url)
    note_text = _fetch(base + "/v1/log/checkpoint", token)
    try:
        latest = open_checkpoint(note_text, verifier)
    except NoteError as exc:
        raise click.ClickException(
            "the log's checkpoint does not verify with its key:"
            f" {printable(exc.message)}"
        ) from None
    checkpoint_file = state / WITNESS_CHECKPOINT
    try:
        previous = (
            open_checkpoint(checkpoint_file.read_bytes(), verifier)
            if checkpoint_file.exists()
            else None
        )
    except NoteError as exc:
        raise click.ClickException(
            f"{printable(str(checkpoint_file))} is not a checkpoint of this log"
            f" ({printable(exc.message)}): the witness's state was damaged"
        ) from None

    def consistency(old: int, new: int) -> list[bytes]:
        body = _fetch(f"{base}/v1/log/consistency?from={old}&to={new}", token)
        try:
            hashes = json.loads(body)["hashes"]
            return [base64.b64decode(h, validate=True) for h in hashes]
        except (ValueError, KeyError, TypeError, binascii.Error):
            return []  # not a proof: verify_consistency refuses it

    try:
        how = follow(previous, latest, consistency)
    except WitnessAlarm as alarm:
        evidence = state / f"evidence-{int(time.time())}.txt"
        _write_whole(
            evidence,
            f"{alarm}\n\nkept before:\n{checkpoint_file.read_text()}\n"
            f"signed now:\n{note_text.decode(errors='replace')}",
        )
        click.echo(f"{alarm} (evidence: {printable(str(evidence))})", err=True)
        sys.exit(1)
    if kept is None:
        _write_whole(key_file, text + "\n")
    _write_whole(checkpoint_file, note_text.decode())
    with open(state / WITNESS_HISTORY, "a") as history:
        history.write(note_text.decode() + "\n")
    click.echo(f"ok: {printable(latest.origin)}: {how}, root {tree.b64(latest.root)}")
    if cosigner is not None:
        line = cosigner.cosign(latest.text, int(time.time())).line
        cosigned = with_cosignatures(note_text.decode(), [line])
        _write_whole(state / WITNESS_COSIGNED, cosigned)
        _post(base + "/v1/log/cosignature", cosigned.encode(), token)
        click.echo(
            f"cosigned as {printable(cosigner.name)} and handed to the log"
            f" ({latest.size} events)"
        )


def _witness_signer(path: Path) -> WitnessSigner:
    try:
        return WitnessSigner.from_key(path.read_text())
    except OSError as exc:
        raise click.ClickException(
            f"cannot read {printable(str(path))}: {exc.strerror}"
        ) from None
    except (UnicodeDecodeError, BadKey) as exc:
        why = exc.message if isinstance(exc, BadKey) else "not text"
        raise click.ClickException(
            f"--sign-key {printable(str(path))}: {printable(why)}"
        ) from None


def _post(url: str, body: bytes, token: str | None) -> None:
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    if token:
        headers["Authorization"] = f"Bearer {token}"

    def refused(exc: urllib.error.HTTPError) -> str:
        said = exc.read(2000).decode(errors="replace")
        with contextlib.suppress(ValueError, KeyError, TypeError):
            said = json.loads(said)["error"]["message"]
        return f"the log refused the cosignature ({exc.code}): {printable(said)}"

    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    _open(request, refused)


@click.command("erase")
@click.argument("consent_id")
@with_appcontext
def erase_command(consent_id: str) -> None:
    """Erase one visitor's events (a request under GDPR Art. 17), keeping the
    log's proofs: their places in the hash chain and their leaves in the
    Merkle tree stay, so every checkpoint and receipt still verifies."""
    schema_ready()
    conn = get_db()
    done = erasure.erase(conn, consent_id)
    shown = printable(consent_id)
    if done.events:
        click.echo(
            f"Erased {done.events} events of consent {shown}; the log's checkpoints"
            " and the other visitors' receipts still verify."
        )
    if done.access_records:
        click.echo(
            f"Took its ids out of {done.access_records} audit access records"
            " that named them."
        )
    if done.events:
        return
    when = erasure.erased_on(conn, consent_id)
    if when is not None:
        click.echo(f"Consent {shown} was erased already, on {when.isoformat()}.")
        return
    raise click.ClickException(f"the log holds no events of consent {shown}")
