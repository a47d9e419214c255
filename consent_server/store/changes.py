"""The record of changes made to accounts and tokens: who, when, what.

Each change is written in the same transaction as the change itself, so a
change that happened is always recorded and a refused one never is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .schema import account_changes


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who makes a change: a user of the config page, or the command line."""

    id: int | None
    email: str


# Changes made with `consent-server` commands, which have no logged-in user.
COMMAND_LINE = Actor(None, "(command line)")


@dataclasses.dataclass(frozen=True)
class Change:
    """One recorded change."""

    id: int
    at: dt.datetime
    actor_id: int | None
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


def record(
    conn: Connection, actor: Actor, action: str, target: str, **detail: Any
) -> None:
    """Write down one change; call it inside the transaction that makes it."""
    conn.execute(
        account_changes.insert().values(
            at=dt.datetime.now(dt.UTC),
            actor_id=actor.id,
            actor=actor.email,
            action=action,
            target=target,
            detail=json.dumps(detail, sort_keys=True, default=str),
        )
    )


def recent(conn: Connection, limit: int = 200) -> list[Change]:
    """The newest changes, newest first."""
    with conn.begin():
        rows = conn.execute(
            sa.select(account_changes)
            .order_by(account_changes.c.id.desc())
            .limit(limit)
        ).all()
    return [
        Change(
            r.id, r.at, r.actor_id, r.actor, r.action, r.target, json.loads(r.detail)
        )
        for r in rows
    ]
