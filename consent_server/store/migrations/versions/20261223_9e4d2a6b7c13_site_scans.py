"""The newest cookie scan of each site, started from the config page.

Revision ID: 9e4d2a6b7c13
Revises: 3c7e5b1f9a20
Create Date: 2026-12-23

``site_scans`` keeps one row per site: the scan that runs or ran last, how
far it got, and its finished report, so that every process of the service
shows the same scan and lets only one run per site at a time. A new table
only: nothing else is touched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e4d2a6b7c13"
down_revision: str | None = "3c7e5b1f9a20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "site_scans",
        sa.Column("site", sa.String(63), sa.ForeignKey("sites.id"), primary_key=True),
        sa.Column("run", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("start_url", sa.String(2048), nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("pages_done", sa.Integer, nullable=False),
        sa.Column("pages_planned", sa.Integer, nullable=False),
        sa.Column("visits_done", sa.Integer, nullable=False),
        sa.Column("started_by", sa.String(320), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("site_scans")
