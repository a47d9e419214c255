"""Each consent event records the hash of the config document it was shown.

Revision ID: c4f1a9e2d7b3
Revises: 346808114dfe
Create Date: 2026-12-27

``consent_events.config_hash`` is the SHA-256 (hex) of the published config
document of the event's config revision, byte for byte as
``GET /v1/audit/sites/<site>/revisions/<n>`` serves it: the categories, the
services and every text the banner was built from. An event that has one
gets a version-2 entry in the Merkle tree, which includes it, so a receipt
and that document together prove what the visitor was shown. Rows written
before this revision keep NULL and their version-1 entries: their leaves do
not change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4f1a9e2d7b3"
down_revision: str | None = "346808114dfe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "consent_events", sa.Column("config_hash", sa.String(64), nullable=True)
    )


def downgrade() -> None:
    raise RuntimeError(
        "consent_events.config_hash is part of the entries of the log's Merkle"
        " tree: dropping it would break the leaf of every event that has one"
    )
