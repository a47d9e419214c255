"""Users of the config page: logging in, roles, disabling, one-time links.

Every change is recorded (:mod:`.changes`) in the transaction that makes it.
A user invited but not yet through their link has no password (an empty
``password_hash``) and cannot log in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from werkzeug.security import check_password_hash, generate_password_hash

from . import changes
from .accounts import (
    AuthError,
    check_email,
    check_password,
    check_role,
    hash_token,
    insert_user,
)
from .changes import Actor
from .schema import account_links, users

# How long an invitation or a reset link works (once).
LINK_DAYS = 7
LINK_PURPOSES = ("invite", "reset")
# Stored for a user who has not set a password yet: no password matches it.
NO_PASSWORD = ""


@dataclasses.dataclass(frozen=True)
class User:
    """A user as the page needs them: never their password hash."""

    id: int
    email: str
    role: str
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    session_epoch: int
    has_password: bool

    @property
    def active(self) -> bool:
        """Whether the account may log in (it may still need a password)."""
        return self.disabled_at is None

    @property
    def session_id(self) -> str:
        """What a session keeps of its user: a new epoch ends the old sessions."""
        return f"{self.id}:{self.session_epoch}"


class LinkError(AuthError):
    """A one-time link that does not (or no longer) work."""


def _user(row: sa.Row[Any]) -> User:
    return User(
        row.id,
        row.email,
        row.role,
        row.created_at,
        row.disabled_at,
        row.session_epoch,
        row.password_hash != NO_PASSWORD,
    )


def get_user(conn: Connection, user_id: int) -> User | None:
    """The user with this id, or None."""
    with conn.begin():
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    return _user(row) if row else None


def for_session(conn: Connection, session_id: str) -> User | None:
    """The active user a session belongs to, or None if that session has ended."""
    user_id, _, epoch = session_id.partition(":")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None
    user = get_user(conn, int(user_id))
    if user is None or not user.active or user.session_epoch != int(epoch):
        return None
    return user


def list_users(conn: Connection) -> list[User]:
    """Every user, by email."""
    with conn.begin():
        rows = conn.execute(sa.select(users).order_by(users.c.email)).all()
    return [_user(r) for r in rows]


@functools.cache
def _decoy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def check_login(conn: Connection, email: str, password: str) -> User | None:
    """The user these credentials log in, or None: unknown email, wrong
    password, no password set yet and a disabled account look the same."""
    email = email.strip().lower()
    with conn.begin():
        row = conn.execute(sa.select(users).where(users.c.email == email)).first()
    if row is None or row.password_hash == NO_PASSWORD:
        # The same scrypt work as for a real account, so the time taken does
        # not tell which emails have one.
        check_password_hash(_decoy_hash(), password)
        return None
    if not check_password_hash(row.password_hash, password):
        return None
    user = _user(row)
    return user if user.active else None


def _link(conn: Connection, user_id: int, purpose: str) -> str:
    """A new one-time link's secret; earlier unused links of the user stop working."""
    now = dt.datetime.now(dt.UTC)
    conn.execute(
        account_links.update()
        .where(account_links.c.user_id == user_id, account_links.c.used_at.is_(None))
        .values(used_at=now)
    )
    secret = secrets.token_urlsafe(32)
    conn.execute(
        account_links.insert().values(
            user_id=user_id,
            purpose=purpose,
            token_hash=hash_token(secret),
            created_at=now,
            expires_at=now + dt.timedelta(days=LINK_DAYS),
        )
    )
    return secret


def invite(conn: Connection, actor: Actor, email: str, role: str) -> tuple[int, str]:
    """Create a user without a password; returns their id and the secret of
    the one-time link with which they set it.

    :raise AuthError: bad email, unknown role or taken email.
    """
    email = check_email(email)
    check_role(role)
    with conn.begin():
        user_id = insert_user(conn, email, NO_PASSWORD, role, actor)
        secret = _link(conn, user_id, "invite")
        changes.record(conn, actor, "user.invite", email, days=LINK_DAYS)
    return user_id, secret


def reset_link(conn: Connection, actor: Actor, user_id: int) -> str:
    """A one-time link with which the user sets a new password; the old one
    works until the link is used.

    :raise AuthError: for an unknown or disabled user.
    """
    with conn.begin():
        user = _locked(conn, user_id)
        if not user.active:
            raise AuthError(f"{user.email} is disabled: enable the account first")
        purpose = "reset" if user.has_password else "invite"
        secret = _link(conn, user_id, purpose)
        changes.record(conn, actor, f"user.{purpose}_link", user.email, days=LINK_DAYS)
    return secret


def _locked(conn: Connection, user_id: int) -> User:
    row = conn.execute(
        sa.select(users).where(users.c.id == user_id).with_for_update()
    ).first()
    if row is None:
        raise AuthError(f"no user with id {user_id}")
    return _user(row)


def _keeps_an_admin(conn: Connection, user: User) -> None:
    """:raise AuthError: if ``user`` is the last active admin."""
    if user.role != "admin" or not user.active:
        return
    # Locking the other admins' rows: two admins demoting each other at the
    # same moment cannot both pass this check (PostgreSQL; SQLite has one
    # writer at a time anyway).
    others = conn.execute(
        sa.select(users.c.id)
        .where(
            users.c.role == "admin",
            users.c.disabled_at.is_(None),
            users.c.id != user.id,
        )
        .with_for_update()
    ).all()
    if not others:
        raise AuthError(
            f"{user.email} is the last active admin: make another admin first"
        )


def set_role(conn: Connection, actor: Actor, user_id: int, role: str) -> None:
    """Give a user another role.

    :raise AuthError: unknown role or user, or demoting the last active admin.
    """
    check_role(role)
    with conn.begin():
        user = _locked(conn, user_id)
        if user.role == role:
            return
        if role != "admin":
            _keeps_an_admin(conn, user)
        conn.execute(users.update().where(users.c.id == user_id).values(role=role))
        changes.record(
            conn, actor, "user.role", user.email, **{"from": user.role, "to": role}
        )


def set_disabled(conn: Connection, actor: Actor, user_id: int, disabled: bool) -> None:
    """Disable an account (its sessions end at once) or enable it again.

    :raise AuthError: unknown user, or disabling the last active admin.
    """
    with conn.begin():
        user = _locked(conn, user_id)
        if (user.disabled_at is not None) == disabled:
            return
        if disabled:
            _keeps_an_admin(conn, user)
            values: dict[str, Any] = {
                "disabled_at": dt.datetime.now(dt.UTC),
                "session_epoch": users.c.session_epoch + 1,
            }
        else:
            values = {"disabled_at": None}
        conn.execute(users.update().where(users.c.id == user_id).values(**values))
        action = "user.disable" if disabled else "user.enable"
        changes.record(conn, actor, action, user.email)


def link_user(conn: Connection, secret: str) -> tuple[User, str]:
    """The user and purpose (``invite``/``reset``) of a link that still works.

    :raise LinkError: unknown, used, replaced or expired link, or disabled user.
    """
    with conn.begin():
        row = conn.execute(
            sa.select(account_links, users)
            .join(users, users.c.id == account_links.c.user_id)
            .where(account_links.c.token_hash == hash_token(secret))
        ).first()
    if (
        row is None
        or row.used_at is not None
        or row.expires_at <= dt.datetime.now(dt.UTC)
        or row.disabled_at is not None
    ):
        raise LinkError(
            "this link does not work: it has expired, was already used, or was"
            " replaced by a newer one. Ask an admin for a new link."
        )
    user = get_user(conn, row.user_id)
    assert user is not None
    return user, row.purpose


def use_link(conn: Connection, secret: str, password: str) -> User:
    """Set the password of the link's user and use the link up; the user's
    other sessions end.

    :raise LinkError: if the link does not work (see :func:`link_user`).
    :raise AuthError: if the password cannot be accepted.
    """
    check_password(password)
    user, purpose = link_user(conn, secret)
    password_hash = generate_password_hash(password)
    with conn.begin():
        # Used up in the same statement that checks it is unused: two tabs
        # submitting the same link cannot both set a password.
        used = conn.execute(
            account_links.update()
            .where(
                account_links.c.token_hash == hash_token(secret),
                account_links.c.used_at.is_(None),
            )
            .values(used_at=dt.datetime.now(dt.UTC))
        ).rowcount
        if used != 1:
            raise LinkError(
                "this link was used a moment ago. Ask an admin for a new one."
            )
        conn.execute(
            users.update()
            .where(users.c.id == user.id)
            .values(
                password_hash=password_hash,
                session_epoch=users.c.session_epoch + 1,
            )
        )
        changes.record(
            conn, Actor(user.id, user.email), "user.password_set", user.email,
            via=purpose,
        )  # fmt: skip
    updated = get_user(conn, user.id)
    assert updated is not None
    return updated


def set_password(
    conn: Connection, actor: Actor, email: str, password: str, role: str
) -> int:
    """Set a user's password directly (the demo's accounts); their sessions end.

    Creates the user with ``role`` if there is none with this email (an
    existing user keeps theirs). Returns the user's id.
    """
    email = check_email(email)
    check_role(role)
    check_password(password)
    password_hash = generate_password_hash(password)
    with conn.begin():
        row = conn.execute(sa.select(users.c.id).where(users.c.email == email)).first()
        if row is None:
            return insert_user(conn, email, password_hash, role, actor)
        conn.execute(
            users.update()
            .where(users.c.id == row.id)
            .values(
                password_hash=password_hash, session_epoch=users.c.session_epoch + 1
            )
        )
        changes.record(conn, actor, "user.password_set", email, via="command line")
        user_id: int = row.id
    return user_id
