"""Bearer tokens bound to a site, and tokens that expire.

Revision ID: 5b8e1c7d2f46
Revises: 9e4d2a6b7c13
Create Date: 2026-12-24

A token of scope ``scan`` may now be good for one site only (``site``), so
that a token made for one shop's scan cannot mark another shop's consents
as scan events; and any token may expire (``expires_at``), so that the
token of a config-page scan whose process died stops working with the
scan's time bound. Both columns may be empty, as they are for every token
made before: any site, never expires, as until now.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b8e1c7d2f46"
down_revision: str | None = "9e4d2a6b7c13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("site", sa.String(63), nullable=True))
    op.add_column(
        "api_tokens",
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("site")
