"""The `consent-server` command: thin wrappers around the domain and the store.

The commands are grouped by what they work on: ``accounts``, ``log`` and
``sites`` modules beside this one; setting up and the demo are here.
"""

from __future__ import annotations

import threading

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import make_server, run_simple

from ..domain.demo_site import demo_config
from ..domain.errors import UnknownSite
from ..store import engine, migrate
from ..store import sites as site_store
from . import accounts, log
from .sites import sites_group


def _app() -> Flask:
    from .. import create_app

    # Commands here sign nothing, so they run without a secret key.
    return create_app(require_secret=False)


@click.group(
    cls=FlaskGroup, create_app=_app, add_default_commands=False, load_dotenv=False
)
def main() -> None:
    """consent-server: cookie consent banner, tracking gate and consent log."""


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
        raise click.ClickException(str(exc)) from exc
    click.echo("Database ready." + (" Created the demo site." if created else ""))


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--storefront-port", default=None, type=int,
              help="Port of the demo storefront [default: PORT + 1].")  # fmt: skip
def demo_command(host: str, port: int, storefront_port: int | None) -> None:
    """Serve the service and a demo storefront on the embedded SQLite default."""
    from .. import create_app
    from ..web.demo import create_storefront

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


def init_app(app: Flask) -> None:
    """Add the commands to the application's CLI (and so to `consent-server`)."""
    for command in (
        init_command,
        demo_command,
        accounts.create_user_command,
        accounts.create_token_command,
        accounts.revoke_token_command,
        accounts.list_tokens_command,
        log.verify_log_command,
        log.export_command,
        log.prune_command,
        sites_group,
    ):
        app.cli.add_command(command)
