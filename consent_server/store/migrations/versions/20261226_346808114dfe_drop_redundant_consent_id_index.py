"""Drop the index on consent_events.consent_id alone.

Revision ID: 346808114dfe
Revises: 8a2f6c4e1b97
Create Date: 2026-12-26

``ix_consent_events_consent_id_seq`` (consent id, then sequence number)
answers every lookup by consent id the single-column index answered (a
visitor's history, their newest event, an erasure), in the same order or
better. The single-column one only cost: each recorded consent wrote one
more page of a random place in it, about one page in nine of a commit.
Dropping an index removes no data; the downgrade builds it again.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "346808114dfe"
down_revision: str | None = "8a2f6c4e1b97"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_consent_events_consent_id", table_name="consent_events")


def downgrade() -> None:
    op.create_index("ix_consent_events_consent_id", "consent_events", ["consent_id"])
