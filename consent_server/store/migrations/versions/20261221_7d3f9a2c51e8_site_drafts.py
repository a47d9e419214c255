"""Drafts of site configs kept on the server, one per site.

Revision ID: 7d3f9a2c51e8
Revises: 0a960bd3a946
Create Date: 2026-12-21

``site_drafts`` keeps the document an editor is working on in the config
page, the revision it was based on and who saved it last. A new table only:
published revisions and the consent log are not touched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7d3f9a2c51e8"
down_revision: str | None = "0a960bd3a946"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "site_drafts",
        sa.Column("site", sa.String(63), sa.ForeignKey("sites.id"), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("base_revision", sa.Integer, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("site_drafts")
