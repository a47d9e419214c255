"""Database URLs as people should see them: password hidden, failures in one line."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Engine

# What the message suggests when a URL is not one we can use.
FORMS = "sqlite:////absolute/path/consent.sqlite or postgresql://user:password@host/db"
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


class DatabaseUnavailable(RuntimeError):
    """The database URL cannot be used, or the database does not answer."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot open the database {shown(url)}: {reason}")


def shown(url: str) -> str:
    """The URL with its password replaced by ``***``, safe to print or log."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        # Not a URL SQLAlchemy reads, but it may still hold a password.
        return _PASSWORD.sub(r"\1***@", url)


def unusable(url: str, exc: Exception) -> DatabaseUnavailable:
    """The error for a URL the engine could not be built from.

    ``exc`` is what building it raised: an unparseable URL, an unknown
    dialect or driver, or a driver that is not installed.
    """
    if isinstance(exc, sa.exc.NoSuchModuleError | ImportError):
        scheme = url.split("://", 1)[0]
        reason = f"unknown database driver {scheme!r} (use {FORMS})"
    else:
        reason = f"not a database URL (use {FORMS})"
    return DatabaseUnavailable(url, reason)


def check_connects(engine: Engine, url: str) -> None:
    """Open and close one connection to ``url``'s database; raise
    :class:`DatabaseUnavailable` if that fails.

    The reason is the driver's own first line, e.g. "connection refused".
    """
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(url, reason) from exc
