"""The log signing key: ``consent-server keygen``.

Needs no database and no secret key: a key can be made on another machine
than the server's and brought to it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from pathlib import Path

import click

from ..domain.cosignature import WitnessSigner
from ..domain.note import BadKey, Signer
from ..domain.printable import printable

# Where the log's name comes from when --name is not given.
ORIGIN_VARIABLE = "CONSENT_LOG_ORIGIN"


def default_origin() -> str:
    """The log's origin string: ``CONSENT_LOG_ORIGIN``, or else this host's
    name followed by ``/consent-log`` (a schema-less URL, as C2SP asks)."""
    return os.environ.get(ORIGIN_VARIABLE) or f"{socket.getfqdn()}/consent-log"


def write_new_file(path: Path, text: str) -> None:
    """Write a file that must not exist yet, private (0600) from its first
    byte and put in place whole: a crash leaves no half key behind.

    :raise FileExistsError: ``path`` exists (it is left as it was).
    """
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.link(draft, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            draft.unlink()


@click.command("keygen")
@click.option(
    "--name",
    default=None,
    help=f"The log's name, its checkpoints' origin line [default: ${ORIGIN_VARIABLE},"
    " or HOSTNAME/consent-log].",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the signing key to this new file (0600; never overwritten).",
)
@click.option(
    "--witness",
    is_flag=True,
    help="Make a witness's key instead (C2SP cosignature/v1), for"
    " `witness --sign-key`; --name is then the witness's name.",
)
def keygen_command(name: str | None, out: Path | None, witness: bool) -> None:
    """Make a log signing key; print the verifier key to publish.

    The signing key signs the log's checkpoints: keep it apart from the
    database and from the cookie secret. Without --out it is printed first,
    for CONSENT_LOG_KEY, and the verifier key on the line after it. With
    --witness, a witness's key: the log's operator lists its public key in
    CONSENT_LOG_WITNESSES.
    """
    signer: Signer | WitnessSigner
    try:
        if witness:
            if name is None:
                raise click.ClickException("--witness needs the witness's --name")
            signer = WitnessSigner.generate(name)
        else:
            signer = Signer.generate(default_origin() if name is None else name)
    except BadKey as exc:
        raise click.ClickException(printable(exc.message)) from None
    if isinstance(signer, WitnessSigner):
        public = signer.witness.key
    else:
        public = signer.verifier.key
    if out is None:
        click.echo(signer.key)
        click.echo(public)
        click.echo(
            "The first line is the signing key (secret); the second, the verifier"
            " key to publish.",
            err=True,
        )
        return
    if out.exists() or out.is_symlink():
        raise click.ClickException(f"{printable(str(out))} exists: not overwritten")
    try:
        write_new_file(out, signer.key + "\n")
    except FileExistsError:
        raise click.ClickException(
            f"{printable(str(out))} exists: not overwritten"
        ) from None
    except OSError as exc:
        raise click.ClickException(
            f"cannot write {printable(str(out))}: {exc.strerror}"
        ) from None
    click.echo(public)
    click.echo(
        f"Signing key written to {printable(str(out))}; publish the verifier key.",
        err=True,
    )
