"""Each consent event records the event of the visitor's history it continues.

Revision ID: 15db1786dc54
Revises: f21e1837c94f
Create Date: 2026-12-02

``consent_events.continues`` holds the ``event_id`` of the visitor's latest
event that this one followed (the one their ``previous`` token stood for), or
NULL for a first choice and a new visitor. Rows written before this revision
keep NULL: the chain hashes the column only when it is set, so they still
verify exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "15db1786dc54"
down_revision: str | None = "f21e1837c94f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The consent log is legal evidence: only add to it. New columns are nullable
# (old rows stay valid); nothing is dropped, renamed or retyped, and no log
# row is rewritten.


def upgrade() -> None:
    op.add_column(
        "consent_events", sa.Column("continues", sa.String(36), nullable=True)
    )


def downgrade() -> None:
    raise RuntimeError(
        "consent_events.continues is part of the log's hashed rows: dropping it"
        " would break the chain of every event that continues a history"
    )
