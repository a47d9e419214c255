"""People and machines that may use the service: users with roles, bearer tokens.

Passwords are stored as salted scrypt hashes (Werkzeug); bearer tokens as a
SHA-256 of the token, which is shown once when it is made and never again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from werkzeug.security import generate_password_hash

from ..domain.errors import InvalidInput
from ..domain.printable import printable
from ..domain.site_config import SITE_ID
from ..domain.vocabulary import ROLES, SCOPES
from . import changes
from .changes import Actor
from .schema import api_tokens, audit_access, users

EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
MIN_PASSWORD = 12
# Long enough for any passphrase; scrypt of a megabyte would only cost time.
MAX_PASSWORD = 1024
# What one audit_access row keeps of the path and query: enough to read what
# was asked, never the whole of a hostile 8 KB request line.
MAX_ACCESS_PATH = 512
# Refusals that are counted on one row instead of each being written out: an
# unauthenticated flood must not grow the table by a row a request. Allowed
# reads (and a valid token's 404s) are each kept: they are the evidence of who
# read what.
COUNTED_STATUSES = frozenset({400, 401, 403, 429})
# A counted row stands for the repeats within this span after its first one.
REPEAT_WINDOW = dt.timedelta(hours=1)


class AuthError(InvalidInput):
    """A user or token could not be created; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__("invalid_account", message)


def check_email(email: str) -> str:
    """The email address as stored: trimmed and in lower case.

    :raise AuthError: if it is not an email address.
    """
    email = email.strip().lower()
    if not EMAIL.fullmatch(email):
        raise AuthError(f"{email!r} is not an email address")
    return email


def check_password(password: str) -> None:
    """:raise AuthError: if the password is too short or too long to accept."""
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AuthError(f"the password may have at most {MAX_PASSWORD} characters")


def check_role(role: str) -> None:
    """:raise AuthError: for a role that is not one of :data:`ROLES`."""
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}")


def insert_user(
    conn: Connection, email: str, password_hash: str, role: str, actor: Actor
) -> int:
    """Add a user inside the caller's transaction, recorded as ``user.create``.

    :raise AuthError: if the email is taken.
    """
    if conn.execute(sa.select(users.c.id).where(users.c.email == email)).first():
        raise AuthError(f"a user {email} already exists")
    new_id: int = conn.execute(
        users.insert()
        .values(
            email=email,
            password_hash=password_hash,
            role=role,
            created_at=dt.datetime.now(dt.UTC),
        )
        .returning(users.c.id)
    ).scalar_one()
    changes.record(conn, actor, "user.create", email, role=role)
    return new_id


def create_user(
    conn: Connection,
    email: str,
    password: str,
    role: str,
    actor: Actor = changes.COMMAND_LINE,
) -> int:
    """Create a user with a hashed password and return the new id.

    :raise AuthError: bad email, short password, unknown role or taken email.
    """
    email = check_email(email)
    check_role(role)
    check_password(password)
    with conn.begin():
        return insert_user(conn, email, generate_password_hash(password), role, actor)


# The cookie scanner's scope: the one scope a token may be bound to a site in.
SCAN_SCOPE = "scan"


def hash_token(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    conn: Connection,
    name: str,
    scope: str,
    actor: Actor = changes.COMMAND_LINE,
    *,
    site: str | None = None,
    expires_at: dt.datetime | None = None,
) -> str:
    """Create a bearer token and return it; only its hash is stored.

    A token of scope ``scan`` may be bound to one ``site``; any token may
    expire at ``expires_at`` (UTC). The change is recorded as
    ``token.create`` by ``actor``.

    :raise AuthError: for an unknown scope, an empty name, a site given to
        another scope, a site id that cannot be one, or an expiry not in
        the future.
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise AuthError("the token needs a name of 1 to 100 characters")
    if scope not in SCOPES:
        raise AuthError(f"scope must be one of {', '.join(SCOPES)}")
    if site is not None and scope != SCAN_SCOPE:
        raise AuthError(f"only a token of scope {SCAN_SCOPE} is bound to a site")
    if site is not None and not SITE_ID.fullmatch(site):
        raise AuthError(f"{printable(site)} is not a site id")
    now = dt.datetime.now(dt.UTC)
    if expires_at is not None and expires_at <= now:
        raise AuthError("a token must expire in the future")
    token = "cst_" + secrets.token_urlsafe(32)
    with conn.begin():
        token_id = conn.execute(
            api_tokens.insert()
            .values(
                name=name,
                scope=scope,
                token_hash=hash_token(token),
                created_at=now,
                site=site,
                expires_at=expires_at,
            )
            .returning(api_tokens.c.id)
        ).scalar_one()
        bound = {"site": site} if site else {}
        if expires_at is not None:
            bound["expires_at"] = expires_at.isoformat(timespec="seconds")
        changes.record(
            conn, actor, "token.create", name, token_id=token_id, scope=scope, **bound
        )
    return token


@dataclasses.dataclass(frozen=True)
class Token:
    """A bearer token as stored: never the token itself."""

    id: int
    name: str
    scope: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    site: str | None = None  # a scan token's one site; None: any
    expires_at: dt.datetime | None = None  # None: never

    def expired(self, now: dt.datetime | None = None) -> bool:
        """Whether the token's time is up."""
        when = now or dt.datetime.now(dt.UTC)
        return self.expires_at is not None and self.expires_at <= when


def find_token(conn: Connection, token: str) -> Token | None:
    """The live token with this value (not revoked, not expired), or None."""
    c = api_tokens.c
    with conn.begin():
        row = conn.execute(
            sa.select(api_tokens).where(
                c.token_hash == hash_token(token),
                c.revoked_at.is_(None),
                sa.or_(c.expires_at.is_(None), c.expires_at > dt.datetime.now(dt.UTC)),
            )
        ).first()
    return _token(row) if row else None


def _token(row: sa.Row[Any]) -> Token:
    return Token(
        row.id,
        row.name,
        row.scope,
        row.created_at,
        row.revoked_at,
        row.site,
        row.expires_at,
    )


def list_tokens(conn: Connection) -> list[Token]:
    """Every token ever made, oldest first, revoked ones included."""
    with conn.begin():
        rows = conn.execute(sa.select(api_tokens).order_by(api_tokens.c.id)).all()
    return [_token(r) for r in rows]


def revoke_tokens_named(
    conn: Connection, name: str, actor: Actor = changes.COMMAND_LINE
) -> list[int]:
    """Revoke every live token with exactly this name; returns their ids.

    Names are not unique, so all live tokens of that name go: a name is what
    an operator knows a leaked token by, and revoking errs on the safe side.

    :raise AuthError: if no live token has that name.
    """
    ids = _revoke(conn, api_tokens.c.name == name, actor)
    if not ids:
        raise AuthError(f"no live token named {name!r}")
    return ids


def revoke_token_id(
    conn: Connection, token_id: int, actor: Actor = changes.COMMAND_LINE
) -> None:
    """Revoke the live token with this id.

    :raise AuthError: if there is no live token with that id.
    """
    if not _revoke(conn, api_tokens.c.id == token_id, actor):
        raise AuthError(f"no live token with id {token_id}")


def _revoke(conn: Connection, match: sa.ColumnElement[bool], actor: Actor) -> list[int]:
    with conn.begin():
        rows = conn.execute(
            api_tokens.update()
            .where(match, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=dt.datetime.now(dt.UTC))
            .returning(api_tokens.c.id, api_tokens.c.name)
        ).all()
        for row in rows:
            changes.record(conn, actor, "token.revoke", row.name, token_id=row.id)
    return sorted(r.id for r in rows)


def record_access(
    conn: Connection,
    token: Token | None,
    *,
    method: str,
    path: str,
    route: str,
    status: int,
    ip: str,
) -> None:
    """Write down one request to the audit API, allowed or not.

    ``route`` is the URL rule that answered (``/v1/audit/consents/<consent_id>``).
    A refusal (:data:`COUNTED_STATUSES`) like one already written in the last
    :data:`REPEAT_WINDOW` (same address, token, method, route and status)
    adds one to that row's ``hits`` and sets its ``last_seen`` instead; the
    row keeps the path of the first of them.
    """
    now = dt.datetime.now(dt.UTC)
    token_id = token.id if token else None
    route = route[:100]
    with conn.begin():
        if status in COUNTED_STATUSES:
            c = audit_access.c
            same = conn.execute(
                sa.select(c.id)
                .where(
                    c.ip == ip,
                    c.at >= now - REPEAT_WINDOW,
                    c.route == route,
                    c.status == status,
                    c.method == method,
                    c.token_id.is_(None)
                    if token_id is None
                    else c.token_id == token_id,
                )
                .order_by(c.id.desc())
                .limit(1)
            ).scalar()
            if same is not None:
                conn.execute(
                    audit_access.update()
                    .where(c.id == same)
                    .values(hits=c.hits + 1, last_seen=now)
                )
                return
        conn.execute(
            audit_access.insert().values(
                at=now,
                token_id=token_id,
                token_name=token.name if token else "(none)",
                method=method,
                path=bounded_path(path),
                route=route,
                status=status,
                ip=ip,
                hits=1,
            )
        )


def recent_access(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    """The newest audit requests, newest first (for the config page and tests).

    Each row has ``hits``, how many requests it stands for (more than one only
    for counted refusals), and ``last_seen``, the time of the last of them
    (None when it stands for one).
    """
    with conn.begin():
        rows = conn.execute(
            sa.select(audit_access).order_by(audit_access.c.id.desc()).limit(limit)
        ).mappings()
        return [dict(r) for r in rows]


def bounded_path(path: str) -> str:
    """The path as stored: cut to :data:`MAX_ACCESS_PATH`, saying how much was cut."""
    if len(path) <= MAX_ACCESS_PATH:
        return path
    return f"{path[:MAX_ACCESS_PATH]}...[cut {len(path) - MAX_ACCESS_PATH} characters]"
