"""Count repeated audit refusals on one row instead of writing each in full.

Revision ID: 5b0c7e3a9d41
Revises: f21e1837c94f
Create Date: 2026-12-15

An unauthenticated flood of ``/v1/audit/*`` requests wrote one
``audit_access`` row each. From this revision a refusal like a recent one
adds to that row's ``hits`` (``last_seen`` its latest), matched by the URL
rule that answered (``route``). Only columns and an index are added: rows
written before keep their meaning (``hits`` 1, no ``route``, no
``last_seen``), and the consent log is not touched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b0c7e3a9d41"
down_revision: str | None = "15db1786dc54"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both backends: nullable, or with a constant default.
    op.add_column("audit_access", sa.Column("route", sa.String(100), nullable=True))
    op.add_column(
        "audit_access",
        sa.Column("hits", sa.Integer, nullable=False, server_default=sa.text("1")),
    )
    op.add_column(
        "audit_access",
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_audit_access_ip_at", "audit_access", ["ip", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_access_ip_at", table_name="audit_access")
    with op.batch_alter_table("audit_access") as batch:
        batch.drop_column("last_seen")
        batch.drop_column("hits")
        batch.drop_column("route")
