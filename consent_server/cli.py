"""The `consent-server` command: thin wrappers around the domain modules."""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import make_server, run_simple

from . import auth, db, log, sites
from .choices import METHODS
from .sites import CATEGORIES


def _app() -> Flask:
    from . import create_app

    # Commands here sign nothing, so they run without a secret key.
    return create_app(require_secret=False)


def _schema_ready() -> None:
    """Stop with a clear message when `init` has not been run on this database."""
    if not sa.inspect(db.get_engine()).has_table("log_head"):
        raise click.ClickException(
            "the database has no consent-server tables yet: run `consent-server init`"
        )


@click.group(
    cls=FlaskGroup, create_app=_app, add_default_commands=False, load_dotenv=False
)
def main() -> None:
    """consent-server: cookie consent banner, tracking gate and consent log."""


@click.group("sites")
def sites_group() -> None:
    """Site config documents as code."""


def init_database() -> bool:
    """Create or upgrade the schema and publish the demo site if it is missing.

    Returns whether the demo site was created.
    """
    db.create_schema(db.get_engine())
    conn = db.get_db()
    try:
        sites.current_config(conn, "demo")
    except sites.UnknownSite:
        sites.publish(conn, sites.demo_config(), published_by="consent-server init")
        return True
    return False


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database (never drops data) and the demo site."""
    created = init_database()
    click.echo("Database ready." + (" Created the demo site." if created else ""))


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--storefront-port", default=None, type=int,
              help="Port of the demo storefront [default: PORT + 1].")  # fmt: skip
def demo_command(host: str, port: int, storefront_port: int | None) -> None:
    """Serve the service and a demo storefront on the embedded SQLite default."""
    from . import create_app
    from .demo import create_storefront

    app = create_app({"DEMO": True})
    with app.app_context():
        init_database()
    shop_port = storefront_port or port + 1
    shop = make_server(host, shop_port, create_storefront(port), threaded=True)
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    click.echo(f"consent-server demo: the service on http://{host}:{port}/")
    click.echo(f"Open the demo storefront: http://{host}:{shop_port}/")
    # Flask's app.run() refuses to run inside a `flask`-style CLI command.
    run_simple(host, port, app, threaded=True)


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice(auth.ROLES), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user_command(email: str, role: str, password: str) -> None:
    """Create a user of the config page."""
    _schema_ready()
    try:
        auth.create_user(db.get_db(), email, password, role)
    except auth.AuthError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {role} {email.strip().lower()}.")


@click.command("create-token")
@with_appcontext
@click.argument("name")
@click.option("--scope", type=click.Choice(auth.SCOPES), required=True)
def create_token_command(name: str, scope: str) -> None:
    """Create a bearer token for the audit API; it is printed this once only."""
    _schema_ready()
    try:
        token = auth.create_token(db.get_db(), name, scope)
    except auth.AuthError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)


@click.command("revoke-token")
@with_appcontext
@click.argument("name")
def revoke_token_command(name: str) -> None:
    """Revoke the bearer token(s) with this name or id; they stop working at once."""
    _schema_ready()
    try:
        count = auth.revoke_token(db.get_db(), name)
    except auth.AuthError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Revoked {count} token{'s' if count > 1 else ''} named {name}.")


@click.command("list-tokens")
@with_appcontext
def list_tokens_command() -> None:
    """List bearer tokens (never the tokens themselves): id, name, scope, state."""
    _schema_ready()
    for t in auth.list_tokens(db.get_db()):
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "live"
        click.echo(
            f"{t.id}\t{t.name}\t{t.scope}\tcreated {t.created_at:%Y-%m-%d}\t{state}"
        )


@click.command("verify-log")
@with_appcontext
def verify_log_command() -> None:
    """Check the consent log's hash chain; exit 1 naming the first bad row."""
    _schema_ready()
    report = log.verify_chain(db.get_db())
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
    _schema_ready()
    where = log.EventFilter(
        site=site,
        consent_id=consent_id,
        since=_utc(since),
        until=_utc(until),
        method=method,
        category=category,
    )
    out = sys.stdout
    rows = (log.as_json(r) for r in log.iter_events(db.get_db(), where))
    if fmt == "csv":
        log.write_csv(out, rows)
    else:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


@click.command("prune")
@with_appcontext
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    required=True,
    help="Remove events older than this many days.",
)
def prune_command(days: int) -> None:
    """Remove old events from the start of the log, recording that it did."""
    _schema_ready()
    removed = log.prune(db.get_db(), days)
    click.echo(f"Removed {removed} events older than {days} days.")


@sites_group.command("export")
@with_appcontext
@click.argument("site")
def sites_export_command(site: str) -> None:
    """Print the site's published config document as JSON."""
    _schema_ready()
    try:
        config = sites.current_config(db.get_db(), site)
    except sites.UnknownSite:
        raise click.ClickException(f"there is no site {site!r}") from None
    click.echo(json.dumps(config, indent=2, ensure_ascii=False))


@sites_group.command("import")
@with_appcontext
@click.argument("file", type=click.File("rb"))
@click.option("--ask-again", is_flag=True, help="Bump the consent revision.")
def sites_import_command(file: Any, ask_again: bool) -> None:
    """Validate a config document and publish it as the site's new revision."""
    _schema_ready()
    try:
        doc = json.loads(file.read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise click.ClickException(
            f"{file.name} is not a JSON document: {exc}"
        ) from None
    try:
        config = sites.publish(
            db.get_db(), doc, published_by="sites import", ask_again=ask_again
        )
    except sites.ConfigError as exc:
        raise click.ClickException(f"invalid config, nothing changed: {exc}") from None
    click.echo(
        f"Published {config['site']} revision {config['revision']}"
        f" (consent revision {config['consent_revision']})."
    )


def init_app(app: Flask) -> None:
    """Add the commands to the application's CLI (and so to `consent-server`)."""
    for command in (
        init_command,
        demo_command,
        create_user_command,
        create_token_command,
        revoke_token_command,
        list_tokens_command,
        verify_log_command,
        export_command,
        prune_command,
        sites_group,
    ):
        app.cli.add_command(command)
