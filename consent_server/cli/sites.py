"""Commands for site config documents as code: export one, import one."""

from __future__ import annotations

import getpass
import json
from typing import Any

import click
from flask.cli import with_appcontext

from ..domain import json_text
from ..domain.errors import ConfigError, UnknownSite
from ..domain.printable import printable, printable_json
from ..store import sites
from ..store.engine import get_db
from .common import schema_ready


@click.group("sites")
def sites_group() -> None:
    """Site config documents as code."""


@sites_group.command("export")
@with_appcontext
@click.argument("site")
def sites_export_command(site: str) -> None:
    """Print the site's published config document as JSON."""
    schema_ready()
    try:
        config = sites.current_config(get_db(), site)
    except UnknownSite:
        raise click.ClickException(f"there is no site {site!r}") from None
    text = json.dumps(config.model_dump(mode="json"), indent=2, ensure_ascii=False)
    # Still the same document, but no text in it can drive the terminal.
    click.echo(printable_json(text))


@sites_group.command("import")
@with_appcontext
@click.argument("file", type=click.File("rb"))
@click.option("--ask-again", is_flag=True, help="Bump the consent revision.")
@click.option(
    "--by",
    metavar="NAME",
    help="Who imports it, as the site's history shows (default: your login name).",
)
def sites_import_command(file: Any, ask_again: bool, by: str | None) -> None:
    """Validate a config document and publish it as the site's new revision."""
    schema_ready()
    who = printable((by or _login_name()).strip())[:200] or "unknown"
    try:
        doc = json_text.loads(file.read().decode("utf-8"))
    except RecursionError:
        raise click.ClickException(
            f"{printable(file.name)} is nested too deeply"
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise click.ClickException(
            printable(f"{file.name} is not a JSON document: {exc}")
        ) from None
    try:
        config = sites.publish(
            get_db(), doc, published_by=f"sites import (by {who})", ask_again=ask_again
        )
    except ConfigError as exc:
        raise click.ClickException(
            printable(f"invalid config, nothing changed: {exc}")
        ) from None
    click.echo(
        f"Published {printable(config.site)} revision {config.revision}"
        f" (consent revision {config.consent_revision})."
    )


def _login_name() -> str:
    # The history names who imported a revision; a container may have no
    # name for its user, and then the history says so.
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
