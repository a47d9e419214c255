"""The tables: sites, their revisions and drafts, the consent log, accounts and tokens,
and the record of changes made to accounts.

Timestamps are stored as UTC and read back timezone-aware on both backends.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from ..domain.vocabulary import (
    CATEGORIES,
    MAX_LANGUAGE,
    MAX_ORIGIN,
    MAX_SITE_ID,
    MAX_URL,
    MAX_USER_AGENT,
)

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite has no timezone type, so values are stored naive in UTC there and
    given their zone back on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = _utc(value)
        return (
            value.replace(tzinfo=None) if value and dialect.name == "sqlite" else value
        )

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        return _utc(value)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # A naive value read back from SQLite is UTC already.
    if value is None or value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC) if value else None
    return value.astimezone(dt.UTC)


# Sequence numbers, leaf indexes and tree sizes: 64 bits (SQLite's INTEGER is).
_BIG = sa.BigInteger().with_variant(sa.Integer, "sqlite")

sites = sa.Table(
    "sites",
    metadata,
    sa.Column("id", sa.String(MAX_SITE_ID), primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

site_revisions = sa.Table(
    "site_revisions",
    metadata,
    sa.Column(
        "site", sa.String(MAX_SITE_ID), sa.ForeignKey("sites.id"), primary_key=True
    ),
    sa.Column("revision", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("consent_revision", sa.Integer, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.Column("published_by", sa.String(320), nullable=False),
)

# The draft an editor is working on, one per site: the whole document as it
# was last saved (always a valid config), the revision it was based on (None
# for a site never published), and who saved it last.
site_drafts = sa.Table(
    "site_drafts",
    metadata,
    sa.Column(
        "site", sa.String(MAX_SITE_ID), sa.ForeignKey("sites.id"), primary_key=True
    ),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("base_revision", sa.Integer, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.String(320), nullable=False),
)

# The newest cookie scan of each site, started from the config page: one row
# per site, so that "one scan per site at a time" is a conditional update of
# that row. ``run`` names the scan; its worker writes only while the row is
# still its own. A scan still ``running`` after ``expires_at`` (its process
# died) counts as failed, and a new one may take the row.
site_scans = sa.Table(
    "site_scans",
    metadata,
    sa.Column(
        "site", sa.String(MAX_SITE_ID), sa.ForeignKey("sites.id"), primary_key=True
    ),
    sa.Column("run", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # running, done, failed
    sa.Column("start_url", sa.String(MAX_URL), nullable=False),
    sa.Column("pages", sa.Integer, nullable=False),  # as many as asked for
    sa.Column("pages_done", sa.Integer, nullable=False),
    sa.Column("pages_planned", sa.Integer, nullable=False),
    sa.Column("visits_done", sa.Integer, nullable=False),
    sa.Column("started_by", sa.String(320), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    # The finished report, as `consent-server scan --format json` writes it.
    sa.Column("report", sa.Text, nullable=True),
    # Why a failed scan failed, in one line.
    sa.Column("error", sa.Text, nullable=True),
)

# The consent log. Append-only: rows are only ever inserted (and removed from
# the old end by `prune`); `hash` chains every row to the one before it.
consent_events = sa.Table(
    "consent_events",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    # Looked up by ix_consent_events_consent_id_seq below, which starts with it.
    sa.Column("consent_id", sa.String(36), nullable=False),
    sa.Column("site", sa.String(MAX_SITE_ID), nullable=False),
    sa.Column("consent_revision", sa.Integer, nullable=False),
    sa.Column("config_revision", sa.Integer, nullable=False),
    # One column a category: what the visitor allowed.
    *(sa.Column(category, sa.Boolean, nullable=False) for category in CATEGORIES),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("gpc", sa.Boolean, nullable=False),
    sa.Column("language", sa.String(MAX_LANGUAGE), nullable=False),
    sa.Column("texts_hash", sa.String(64), nullable=False),
    sa.Column("origin", sa.String(MAX_ORIGIN), nullable=False),
    sa.Column("path", sa.String(MAX_URL), nullable=False),
    sa.Column("ip", sa.String(45), nullable=False),
    sa.Column("user_agent", sa.String(MAX_USER_AGENT), nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    # The event_id of the visitor's event this one continues; NULL for a first
    # choice (or a new visitor) and for every row written before it existed.
    sa.Column("continues", sa.String(36), nullable=True),
    # The event's leaf in the log's Merkle tree (see tree_nodes): dense from
    # 0 in commit order, set in the transaction that appends the event.
    sa.Column("leaf_index", _BIG, nullable=True),
    # True for a choice the cookie scanner made (`consent-server scan`): kept
    # out of statistics and histories. NULL means a visitor's choice.
    sa.Column("scan", sa.Boolean, nullable=True),
    # SHA-256 (hex) of the config document the visitor was shown, as
    # published (site_revisions.document): in the event's entry from version
    # 2 on. NULL on rows written before it existed (version-1 entries).
    sa.Column("config_hash", sa.String(64), nullable=True),
    sa.Index("ix_consent_events_leaf_index", "leaf_index", unique=True),
    # A visitor's newest event (verify, receipts) in one index range.
    sa.Index("ix_consent_events_consent_id_seq", "consent_id", "seq"),
    sa.Index("ix_consent_events_site_recorded_at", "site", "recorded_at"),
    # Audit pages walk one site's events in sequence order.
    sa.Index("ix_consent_events_site_seq", "site", "seq"),
)

# One row (id 1): the newest sequence number and hash. Taking the row lock on
# it serialises appends across processes and servers, and it lets `verify`
# notice rows removed from, or added past, the end of the log.
log_head = sa.Table(
    "log_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column(
        "seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False
    ),
    sa.Column("hash", sa.String(64), nullable=False),
    # How many events the Merkle tree holds (the next event's leaf_index).
    sa.Column("tree_size", _BIG, nullable=False, server_default=sa.text("0")),
    # The tree's right edge (store.tree.edge_of), so an append reads no node;
    # ignored unless it states the current tree_size.
    sa.Column("tree_edge", sa.LargeBinary, nullable=True),
)

# The log's Merkle tree (RFC 9162 section 2.1), as the hashes of its complete
# subtrees: node (level, position) covers leaves [position * 2**level,
# (position + 1) * 2**level); level 0 holds the leaf hashes. Rows are only
# inserted, and kept when `prune` or `erase` remove events' personal data, so
# every checkpoint and proof still verifies.
tree_nodes = sa.Table(
    "tree_nodes",
    metadata,
    sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("position", _BIG, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)

# Every checkpoint the log signed: its tree size, root and the signed note as
# it was handed out (C2SP tlog-checkpoint in a C2SP signed note).
log_checkpoints = sa.Table(
    "log_checkpoints",
    metadata,
    sa.Column("tree_size", _BIG, primary_key=True, autoincrement=False),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("signed_at", UTCDateTime, nullable=False),
)

# Witnesses' cosignatures of the log's checkpoints (C2SP tlog-cosignature):
# one row per tree size and witness key, with the first and the last time
# that witness cosigned that size, and its last cosignature line.
log_cosignatures = sa.Table(
    "log_cosignatures",
    metadata,
    sa.Column("tree_size", _BIG, primary_key=True, autoincrement=False),
    sa.Column("witness", sa.String(300), primary_key=True),  # NAME+KEYID
    sa.Column("first_time", _BIG, nullable=False),  # the witness's, in seconds
    sa.Column("last_time", _BIG, nullable=False),
    sa.Column("line", sa.Text, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
)

# Each `prune` leaves a row here: the chain then starts again after through_seq.
log_prunes = sa.Table(
    "log_prunes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("pruned_at", UTCDateTime, nullable=False),
    sa.Column("older_than_days", sa.Integer, nullable=False),
    sa.Column("rows_removed", sa.Integer, nullable=False),
    sa.Column(
        "through_seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        nullable=False,
    ),
    sa.Column("through_hash", sa.String(64), nullable=False),
    # Every leaf below this one has had its event removed (by this prune or
    # an earlier one): their leaf hashes stay in tree_nodes. None on prunes
    # from before the Merkle tree.
    sa.Column("through_leaf", _BIG, nullable=True),
)

# Each event removed by `erase` (a visitor's request to have their data
# erased): its place in the chain and in the tree, so both still verify
# without it, and when. The consent id itself is kept only as a SHA-256, to
# answer "was my data erased?" to someone who shows it.
log_erasures = sa.Table(
    "log_erasures",
    metadata,
    sa.Column("seq", _BIG, primary_key=True, autoincrement=False),
    sa.Column("leaf_index", _BIG, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("consent_hash", sa.String(64), nullable=False, index=True),
    sa.Column("erased_at", UTCDateTime, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # Set while the account may not log in; its sessions end at once.
    sa.Column("disabled_at", UTCDateTime, nullable=True),
    # Part of every session's id: raising it (a password set, the account
    # disabled) ends the sessions the account had.
    sa.Column("session_epoch", sa.Integer, nullable=False, server_default=sa.text("0")),
)

# One-time links an admin hands to a person: an invitation to set the first
# password, or a reset. Only a hash of the link's secret is kept.
account_links = sa.Table(
    "account_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    # Set when the link was used, or when a newer link replaced it.
    sa.Column("used_at", UTCDateTime, nullable=True),
    sa.Index("ix_account_links_user_id", "user_id"),
)

# Every change made to accounts and tokens: who made it, when, and what.
# Append-only, like the consent log, though not hash-chained.
account_changes = sa.Table(
    "account_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    # None when the change came from the command line.
    sa.Column("actor_id", sa.Integer, nullable=True),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.String(320), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    # A scan token may be bound to one site (NULL: any), and any token may
    # expire (NULL: never); an expired token is refused as a revoked one.
    sa.Column("site", sa.String(63), nullable=True),
    sa.Column("expires_at", UTCDateTime, nullable=True),
)

# Who asked the audit API what, and when: kept apart from the consent log.
audit_access = sa.Table(
    "audit_access",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("token_id", sa.Integer, nullable=True),
    sa.Column("token_name", sa.String(100), nullable=False),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("path", sa.String(MAX_URL), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("ip", sa.String(45), nullable=False),
    # The URL rule that answered; repeated refusals are counted per rule, so a
    # flood of made-up paths still adds up on one row. None on rows written
    # before it was kept.
    sa.Column("route", sa.String(100), nullable=True),
    # How many requests the row stands for: one, or the repeats of a refusal
    # counted on it (accounts.record_access), the last of them at last_seen.
    sa.Column("hits", sa.Integer, nullable=False, server_default=sa.text("1")),
    sa.Column("last_seen", UTCDateTime, nullable=True),
    # record_access looks for the repeat to count among one address's rows.
    sa.Index("ix_audit_access_ip_at", "ip", "at"),
)
