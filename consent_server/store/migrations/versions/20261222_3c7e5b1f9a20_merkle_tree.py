"""The consent log becomes a transparency log: a Merkle tree and its checkpoints.

Revision ID: 3c7e5b1f9a20
Revises: 7d3f9a2c51e8
Create Date: 2026-12-22

``tree_nodes`` keeps the hashes of the tree's complete subtrees (level 0: one
leaf per event), ``log_checkpoints`` every signed checkpoint,
``consent_events.leaf_index`` each event's place among the leaves and
``consent_events.scan`` marks the cookie scanner's choices,
``log_head.tree_size`` how many leaves there are, and
``log_prunes.through_leaf`` below which leaf every event was pruned (their
leaves are kept, so old checkpoints still verify), and ``log_erasures``
each event ``consent-server erase`` removed, with its place in the chain and
the tree. The events already in the
log are not rewritten: they get their leaf index, in sequence order, when
``consent-server init`` runs this upgrade (``store.tree.integrate_backlog``),
which also stores their leaves. ``leaf_index`` is not part of the chain hash,
so the chain verifies exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c7e5b1f9a20"
down_revision: str | None = "7d3f9a2c51e8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.add_column("consent_events", sa.Column("leaf_index", _BIG, nullable=True))
    # Set (true) on the cookie scanner's choices; in every entry from now on.
    op.add_column("consent_events", sa.Column("scan", sa.Boolean, nullable=True))
    op.create_index(
        "ix_consent_events_leaf_index", "consent_events", ["leaf_index"], unique=True
    )
    # A visitor's newest event (verify, receipts) in one index range.
    op.create_index(
        "ix_consent_events_consent_id_seq", "consent_events", ["consent_id", "seq"]
    )
    op.add_column(
        "log_head",
        sa.Column("tree_size", _BIG, nullable=False, server_default=sa.text("0")),
    )
    op.add_column("log_head", sa.Column("tree_edge", sa.LargeBinary, nullable=True))
    op.add_column("log_prunes", sa.Column("through_leaf", _BIG, nullable=True))
    op.create_table(
        "tree_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("position", _BIG, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("tree_size", _BIG, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "log_erasures",
        sa.Column("seq", _BIG, primary_key=True, autoincrement=False),
        sa.Column("leaf_index", _BIG, nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("consent_hash", sa.String(64), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_log_erasures_consent_hash", "log_erasures", ["consent_hash"])


def downgrade() -> None:
    raise RuntimeError(
        "the Merkle tree is what the log's published checkpoints and receipts"
        " prove against: dropping it would make every one of them unverifiable"
    )
