"""The `consent-server` command: thin wrappers around the domain and the store.

The commands are grouped by what they work on: ``accounts``, ``log`` and
``sites`` modules beside this one; setting up and the demo are here.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext
from werkzeug.serving import make_server, run_simple

from ..domain.demo_site import demo_config
from ..domain.errors import UnknownSite
from ..domain.printable import printable
from ..store import engine, migrate, users
from ..store import sites as site_store
from ..store.changes import Actor
from ..store.url import check_connects, shown
from . import accounts, keys, log, transparency
from .scan import scan_command
from .sites import sites_group


def build_app(
    config: Mapping[str, Any] | None = None, *, require_secret: bool = False
) -> Flask:
    """Build the application for a command and check that its database answers.

    A bad setting or an unreachable database stops the command with one line
    (``Error: ...``, exit 1) instead of a traceback.
    """
    from .. import create_app

    try:
        app = create_app(config, require_secret=require_secret)
        check_connects(app.extensions["consent_db"], app.config["DATABASE_URL"])
    except RuntimeError as exc:
        raise click.ClickException(printable(str(exc))) from exc
    return app


def _app() -> Flask:
    # Commands here sign nothing, so they run without a secret key.
    return build_app()


# A plain group rather than Flask's FlaskGroup: that one adds its own options
# (--app, --env-file, ...) and the commands extensions register on the app
# (Flask-Limiter's `limiter`), none of which are ours to offer.
@click.group()
@click.version_option(
    package_name="consent-server",
    prog_name="consent-server",
    message="%(prog)s %(version)s",
)
@click.pass_context
def main(ctx: click.Context) -> None:
    """consent-server: cookie consent banner, tracking gate and consent log."""
    # `with_appcontext` builds the application from this, as under `flask`.
    ctx.obj = ScriptInfo(create_app=_app, set_debug_flag=False)


def init_database() -> bool:
    """Create or upgrade the schema and publish the demo site if it is missing.

    Returns whether the demo site was created.
    """
    engine.create_schema(engine.get_engine())
    conn = engine.get_db()
    try:
        site_store.current_config(conn, "demo")
    except UnknownSite:
        site_store.publish(conn, demo_config(), published_by="consent-server init")
        return True
    return False


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database (never drops data) and the demo site."""
    try:
        created = init_database()
    except migrate.SchemaMismatch as exc:
        raise click.ClickException(printable(str(exc))) from exc
    click.echo("Database ready." + (" Created the demo site." if created else ""))
    # Which database (and so which instance folder) this was: password hidden.
    click.echo(f"Database: {printable(shown(current_app.config['DATABASE_URL']))}")


# The demo's accounts, made (or given a new password) at every start.
DEMO_ACCOUNTS = (("editor@demo.test", "editor"), ("admin@demo.test", "admin"))


def demo_accounts() -> list[tuple[str, str, str]]:
    """Give each demo account a fresh random password; returns (email, role,
    password) to print. A new password at every start: the demo may be
    served on more than loopback (``--host``), and a password in the README
    would then open its config page to anyone."""
    made = []
    for email, role in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        users.set_password(
            engine.get_db(), Actor(None, "consent-server demo"), email, password, role
        )
        made.append((email, role, password))
    return made


def _reachable(host: str) -> str:
    """The address to reach a server listening on ``host`` from this machine."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--storefront-port", default=None, type=click.IntRange(1, 65535),
              help="Port of the demo storefront [default: PORT + 1].")  # fmt: skip
def demo_command(host: str, port: int, storefront_port: int | None) -> None:
    """Serve the service and a demo storefront on the embedded SQLite default."""
    from ..web.demo import create_storefront

    shop_port = storefront_port or port + 1
    app = build_app(
        {
            "DEMO": True,
            "DEMO_STOREFRONT_PORT": shop_port,
            # Where the storefront reaches the service, and the config page's
            # scan sends its token.
            "PUBLIC_URL": f"http://{_reachable(host)}:{port}",
            # The demo storefront and service are on loopback: the scan may
            # go to their two ports there, and no other.
            "SCAN_NETWORKS": [
                f"{address}:{p}"
                for address in ("127.0.0.1", "[::1]")
                for p in (port, shop_port)
            ],
        }
    )
    with app.app_context():
        init_database()
        accounts_made = demo_accounts()
    shop = make_server(host, shop_port, create_storefront(port), threaded=True)
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    click.echo(f"consent-server demo: the service on http://{host}:{port}/")
    click.echo(f"Open the demo storefront: http://{host}:{shop_port}/")
    click.echo(f"Config page: http://{host}:{port}/admin/ (new passwords every start)")
    for email, role, password in accounts_made:
        click.echo(f"  {role}: email {email}  password {password}")
    # What visitors' receipts and witnesses are checked with (the demo's
    # own signing key, kept in its instance folder).
    verifier = app.extensions["consent_log_signer"].verifier.key
    click.echo(f"Log verifier key (verify-receipt --key, witness): {verifier}")
    # Flask's app.run() refuses to run inside a `flask`-style CLI command.
    run_simple(host, port, app, threaded=True)


COMMANDS: tuple[click.Command, ...] = (
    init_command,
    demo_command,
    accounts.create_user_command,
    accounts.create_token_command,
    accounts.revoke_token_command,
    accounts.list_tokens_command,
    log.verify_log_command,
    log.export_command,
    log.prune_command,
    keys.keygen_command,
    transparency.checkpoint_command,
    transparency.verify_receipt_command,
    transparency.witness_command,
    transparency.erase_command,
    sites_group,
    scan_command,
)
for _command in COMMANDS:
    main.add_command(_command)


def init_app(app: Flask) -> None:
    """Add the commands to the application's CLI too (``app.test_cli_runner``,
    ``flask --app consent_server``)."""
    for command in COMMANDS:
        app.cli.add_command(command)
