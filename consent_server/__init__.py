"""consent-server: a cookie consent banner and tracking gate with a provable log."""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import cli
from .store import engine
from .store import url as database_url
from .tokens import split_keys
from .web import (
    admin,
    audit,
    audit_tree,  # noqa: F401 (adds its routes to the audit blueprint)
    consent,
    cors,
    errors,
    fast,
    files,
    headers,
    home,
    meta,
    settings,
    transparency,
)
from .web.limits import limiter
from .web.resources import resource_folder

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,
    # Default: a SQLite file in the instance folder (set in create_app).
    "DATABASE_URL": None,
    "DEMO": False,
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    # Off: the limiter would put Retry-After on every answer; a 429 gets its own.
    "RATELIMIT_HEADERS_ENABLED": False,
    "RATELIMIT_CONSENT": "60 per minute",
    "RATELIMIT_VERIFY": "600 per minute",
    # Per client over the whole audit API: room for a script paging a large
    # log (1000 events a page), not for a flood.
    "RATELIMIT_AUDIT": "300 per minute",
    # Wrong passwords on the config page's login, per client and per account
    # (only failures count); the next attempt is answered 429.
    "RATELIMIT_LOGIN": "10 per 15 minutes",
    "RATELIMIT_LOGIN_ACCOUNT": "10 per 15 minutes",
    # The config page's session cookie: Secure when the request came over
    # https ("auto"), or always (true) or never (false).
    "SESSION_SECURE": "auto",
    "SESSION_COOKIE_NAME": "cs_admin",
    "SESSION_COOKIE_PATH": "/admin/",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # A config page session ends after this many seconds (and at logout).
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    # Number of reverse proxies in front whose X-Forwarded-For we trust.
    "PROXY_COUNT": 0,
    # Strict-Transport-Security max-age in seconds; 0 (the default) sends
    # none, since the demo runs on plain http.
    "HSTS_SECONDS": 0,
    # The log signing key (the text `consent-server keygen` prints), or a file
    # holding it; with neither, a key made in the instance folder.
    "LOG_KEY": None,
    "LOG_KEY_FILE": None,
    # Whether anyone may read /v1/log/ (witnesses); false: audit tokens only.
    "LOG_PUBLIC": True,
    # Witness keys (C2SP cosignature/v1) whose cosignatures the log keeps.
    "LOG_WITNESSES": [],
    # A process signs at most one checkpoint each this many seconds.
    "CHECKPOINT_INTERVAL": 1.0,
    # Set by `consent-server demo`: the home page links the demo storefront.
    "DEMO_STOREFRONT_PORT": None,
    # The config page's cookie scan: the browser it drives, more Chromium
    # switches (a proxy, host rules: a JSON list), and its time bound.
    "SCAN_CHROMIUM": "/usr/bin/chromium",
    "SCAN_CHROMEDRIVER": "/usr/bin/chromedriver",
    "SCAN_CHROMIUM_ARGS": [],
    "SCAN_SECONDS": 180,
    # How many config-page scans (each its own Chromium) run at once on the
    # whole service, every process together.
    "SCAN_CONCURRENCY": 2,
    # Networks (JSON list: ["10.1.2.0/24"]) the config page's scan may reach
    # besides public addresses: none, so that an editor cannot point the
    # server's browser at its loopback or its private network.
    "SCAN_NETWORKS": [],
    # This service's address as visitors reach it (https://consent.example):
    # the embed snippet, the home page and the config page's scan use it.
    # Without it, the address each request came to.
    "PUBLIC_URL": None,
}
MIN_SECRET_LENGTH = 16


def _demo_secret(app: Flask) -> str:
    """A random key kept in the instance folder, so demo cookies survive restarts."""
    path = Path(app.instance_path) / "demo-secret.key"
    if not path.exists():
        # Private from its first byte (never written, then chmod-ed), and put
        # in place whole: a second process starting at the same moment either
        # links first or reads the complete key the other one linked.
        draft = path.with_name(f"{path.name}.{secrets.token_hex(8)}.new")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(32))
                file.flush()
                os.fsync(file.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            draft.unlink()
    return path.read_text().strip()


def _configure_secret(app: Flask, require_secret: bool) -> None:
    raw = app.config["SECRET_KEY"]
    if not raw and (app.config["DEMO"] or not require_secret):
        raw = _demo_secret(app)
    if not raw:
        raise RuntimeError(
            "CONSENT_SECRET_KEY is not set: give the service a long random key"
            " (several, comma-separated, to rotate: the first signs, all verify)"
        )
    keys = split_keys(str(raw))
    weak = [k for k in keys if len(k) < MIN_SECRET_LENGTH]
    if weak and require_secret and not app.config["DEMO"] and not app.testing:
        raise RuntimeError(
            f"CONSENT_SECRET_KEY has a key shorter than {MIN_SECRET_LENGTH} characters"
        )
    app.config["CONSENT_KEYS"] = keys
    # Flask's own session (the config page) signs with the same rotation.
    app.config["SECRET_KEY"] = keys[0]
    app.config["SECRET_KEY_FALLBACKS"] = keys[1:]


def default_instance() -> str:
    """The instance folder when none is given: beside this Python's packages.

    Flask would pick ``instance/`` beside the code when run from a checkout
    and this folder when installed, so ``python -m consent_server`` in a
    checkout and ``consent-server`` could use two databases. One rule for
    every way of starting the service: the environment's own ``var/``.
    """
    return str(Path(sys.prefix) / "var" / "consent_server-instance")


def create_app(
    test_config: Mapping[str, Any] | None = None,
    *,
    require_secret: bool = True,
    instance_path: str | None = None,
) -> Flask:
    """Build the application.

    Settings come from safe defaults, then ``config.py`` in the instance folder, then
    ``CONSENT_*`` environment variables, then ``test_config``. Outside demo
    mode the app refuses to start without a real secret key; commands that
    sign nothing pass ``require_secret=False``. ``instance_path`` (absolute)
    replaces the default instance folder (:func:`default_instance`), and so
    does ``CONSENT_INSTANCE_PATH`` when it is not given (tests give each app its
    own, the command line and gunicorn through the environment).
    """
    if instance_path is None:
        instance_path = os.environ.get("CONSENT_INSTANCE_PATH") or default_instance()
    if instance_path is not None and not os.path.isabs(instance_path):
        raise settings.BadSetting("INSTANCE_PATH", "must be an absolute path")
    app = Flask(
        __name__,
        static_folder=resource_folder("static"),
        template_folder=resource_folder("templates"),
        instance_relative_config=True,
        instance_path=instance_path,
    )
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("CONSENT")
    if test_config is not None:
        app.config.from_mapping(test_config)

    settings.check(app.config)
    try:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise settings.BadSetting(
            "INSTANCE_PATH", f"cannot make {app.instance_path}: {exc.strerror}"
        ) from None
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = "sqlite:///" + str(
            Path(app.instance_path) / "consent.sqlite"
        )
    _configure_secret(app, require_secret)
    transparency.init_app(app, require_key=require_secret)
    # Inside the proxy fix, so that it sees the client's address.
    fast.init_app(app)
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]

    try:
        engine.init_app(app)
    except (sa.exc.ArgumentError, ImportError, ValueError) as exc:
        # A bad URL never gets better by retrying: say so at start-up.
        raise database_url.unusable(str(app.config["DATABASE_URL"]), exc) from exc
    cli.init_app(app)
    limiter.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    admin.init_app(app)
    for module in (files, cors, consent, transparency, audit, meta, home):
        app.register_blueprint(module.bp)
    return app
