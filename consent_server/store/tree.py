"""The consent log's Merkle tree in the database: leaves, proofs, checkpoints.

Events join the tree in the transaction that appends them
(:func:`integrate`, called by :func:`consent_server.store.log.append_many`
under the log's head lock): the lock that orders the log orders the leaves
too, once per batch, and an event is in the tree the moment its ``201`` is
sent. A crash can lose neither an acknowledged event's leaf nor leave a half
tree: both are in the same commit. Events logged before the tree existed are
added in sequence order by :func:`integrate_backlog` when the database is
upgraded.

A *checkpoint* signs the tree's size and root (:func:`sign_checkpoint`); every
one handed out is kept in ``log_checkpoints``.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain import merkle
from ..domain.entry import FIELDS_V1, FIELDS_V2, entry_bytes, fast_entry
from ..domain.note import Checkpoint, NoteError, Signer, open_checkpoint
from . import erasure, raw
from .events import BOOLEANS, STREAM, sqlite_cell, sqlite_optional_text
from .schema import consent_events, log_checkpoints, log_head, log_prunes, tree_nodes

# Rows per statement when integrating an old log.
BACKLOG_BATCH = 5000


class DbHashes:
    """The stored tree as a :class:`merkle.HashSource`: one query per call."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get_many(self, keys: Sequence[merkle.Key]) -> list[bytes]:
        if not keys:
            return []
        c = tree_nodes.c
        # One statement for all of them: a few dozen (level, position) pairs
        # at most, each a primary-key lookup.
        found: dict[merkle.Key, bytes] = {
            (level, position): bytes(value)
            for level, position, value in self._conn.execute(
                sa.select(c.level, c.position, c.hash).where(
                    sa.or_(
                        *(
                            sa.and_(c.level == level, c.position == position)
                            for level, position in set(keys)
                        )
                    )
                )
            )
        }
        return [found[key] for key in keys]


def leaf_of(fields: dict[str, Any]) -> bytes:
    """The leaf hash of one event."""
    try:
        entry = fast_entry(fields)
    except (TypeError, KeyError):  # a value as no append writes it
        entry = entry_bytes(fields)
    return merkle.leaf_hash(entry)


def integrate(
    conn: Connection,
    tree_size: int,
    rows: Sequence[dict[str, Any]],
    edge: bytes | None = None,
) -> tuple[int, bytes]:
    """Add events to the tree, in order, inside the caller's transaction;
    returns the new tree size and its right edge (see :func:`edge_of`).

    The caller holds the head lock and read ``tree_size`` (and ``edge``, the
    right edge kept in the head, when it has it) under it. Each row gets its
    ``leaf_index`` set (the caller inserts the rows afterwards).
    """
    for offset, row in enumerate(rows):
        row["leaf_index"] = tree_size + offset
    leaves = [leaf_of(row) for row in rows]
    keys = merkle.frontier_keys(tree_size)
    known = _edge_hashes(edge, tree_size, len(keys))
    source: merkle.HashSource = (
        _Edge(dict(zip(keys, known, strict=True))) if known else DbHashes(conn)
    )
    nodes = merkle.append_leaves(source, tree_size, leaves)
    _RAW_INSERT_NODES.many(
        conn, [{"level": n.level, "position": n.index, "hash": n.hash} for n in nodes]
    )
    new_size = tree_size + len(rows)
    # The new right edge: nodes just made, or kept from the old edge, or
    # (without a kept edge) read.
    hashes = dict(zip(keys, known, strict=True)) if known else {}
    hashes.update({(n.level, n.index): n.hash for n in nodes})
    new_keys = merkle.frontier_keys(new_size)
    missing = [k for k in new_keys if k not in hashes]
    hashes.update(zip(missing, DbHashes(conn).get_many(missing), strict=True))
    return new_size, edge_of(new_size, [hashes[k] for k in new_keys])


_INSERT_NODES = tree_nodes.insert()
_RAW_INSERT_NODES = raw.Statement(_INSERT_NODES)


def edge_of(size: int, hashes: Sequence[bytes]) -> bytes:
    """The tree's right edge as the head keeps it: the size it is of (8
    bytes), then the hashes of :func:`merkle.frontier_keys` in order. With
    it, an append reads no node: one lookup less under the lock."""
    return size.to_bytes(8, "big") + b"".join(hashes)


def _edge_hashes(edge: bytes | None, size: int, count: int) -> list[bytes]:
    # The kept edge, if it is of this very tree size; else nothing.
    if (
        edge is None
        or len(edge) != 8 + merkle.HASH_SIZE * count
        or int.from_bytes(edge[:8], "big") != size
        or count == 0
    ):
        return []
    return [
        bytes(edge[8 + i * merkle.HASH_SIZE : 8 + (i + 1) * merkle.HASH_SIZE])
        for i in range(count)
    ]


class _Edge:
    """A :class:`merkle.HashSource` over the kept right edge alone."""

    def __init__(self, nodes: dict[merkle.Key, bytes]) -> None:
        self._nodes = nodes

    def get_many(self, keys: Sequence[merkle.Key]) -> list[bytes]:
        return [self._nodes[k] for k in keys]


def integrate_backlog(conn: Connection) -> int:
    """Give every event without a leaf one, in sequence order, inside the
    caller's transaction (a database upgrade); returns how many joined.

    Takes the head lock first, like an append, so no event is added meanwhile.
    """
    c = consent_events.c
    joined = 0
    while True:
        tree_size = _lock_head(conn)
        rows = [
            dict(r)
            for r in conn.execute(
                sa.select(consent_events)
                .where(c.leaf_index.is_(None))
                .order_by(c.seq)
                .limit(BACKLOG_BATCH)
            ).mappings()
        ]
        if not rows:
            return joined
        new_size, _edge = integrate(conn, tree_size, rows)
        conn.execute(
            consent_events.update()
            .where(c.seq == sa.bindparam("at_seq"))
            .values(leaf_index=sa.bindparam("new_leaf")),
            [{"at_seq": r["seq"], "new_leaf": r["leaf_index"]} for r in rows],
        )
        conn.execute(
            log_head.update()
            .where(log_head.c.id == 1)
            .values(tree_size=new_size, tree_edge=None)
        )
        joined += len(rows)


def _lock_head(conn: Connection) -> int:
    # The same row lock an append takes first; returns the tree size.
    size: int = conn.execute(
        log_head.update()
        .where(log_head.c.id == 1)
        .values(seq=log_head.c.seq)
        .returning(log_head.c.tree_size)
    ).scalar_one()
    return size


def pruned_through(conn: Connection) -> int:
    """The first leaf whose event no prune removed (0 before any prune)."""
    through: int | None = conn.execute(
        sa.select(sa.func.max(log_prunes.c.through_leaf))
    ).scalar()
    return through or 0


def tree_size(conn: Connection) -> int:
    """How many leaves the tree has now."""
    size: int = conn.execute(
        sa.select(log_head.c.tree_size).where(log_head.c.id == 1)
    ).scalar_one()
    return size


def leaf_index_of(conn: Connection, event_id: str) -> int | None:
    """The leaf index of one event, or None for an unknown event."""
    index: int | None = conn.execute(
        sa.select(consent_events.c.leaf_index).where(
            consent_events.c.event_id == event_id
        )
    ).scalar()
    return index


def latest_of(conn: Connection, consent_id: str) -> dict[str, Any] | None:
    """The whole row of one visitor's newest event (what a receipt shows)."""
    c = consent_events.c
    row = (
        conn.execute(
            sa.select(consent_events)
            .where(c.consent_id == consent_id)
            .order_by(c.seq.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def root(conn: Connection, size: int) -> bytes:
    """The root hash of the tree's first ``size`` leaves."""
    return merkle.root(DbHashes(conn), size)


def inclusion(conn: Connection, leaf_index: int, size: int) -> list[bytes]:
    """The inclusion proof of one leaf in the tree of ``size`` leaves."""
    return merkle.inclusion_proof(DbHashes(conn), leaf_index, size)


def consistency(conn: Connection, old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of ``new_size`` leaves extends that of ``old_size``."""
    return merkle.consistency_proof(DbHashes(conn), old_size, new_size)


class TreeMismatch(RuntimeError):
    """The stored tree no longer extends the latest signed checkpoint: rows
    were removed or rewritten behind the log's back. Nothing is signed."""

    def __init__(self, signed_size: int, size: int) -> None:
        super().__init__(
            f"the tree ({size} leaves) does not extend the latest checkpoint"
            f" ({signed_size} leaves): the log was rewritten or rolled back,"
            " and no new checkpoint is signed"
        )
        self.signed_size = signed_size
        self.size = size


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint the log signed, as kept."""

    tree_size: int
    root: bytes
    note: str
    signed_at: dt.datetime


def _stored(row: Any) -> StoredCheckpoint:
    return StoredCheckpoint(row.tree_size, bytes(row.root), row.note, row.signed_at)


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    """The newest checkpoint (the largest tree), or None before the first."""
    c = log_checkpoints.c
    row = conn.execute(
        sa.select(log_checkpoints).order_by(c.tree_size.desc()).limit(1)
    ).first()
    return _stored(row) if row is not None else None


def covering_checkpoint(conn: Connection, leaf_index: int) -> StoredCheckpoint | None:
    """The newest checkpoint whose tree holds this leaf, or None yet."""
    latest = latest_checkpoint(conn)
    return latest if latest is not None and latest.tree_size > leaf_index else None


def checkpoint_at(conn: Connection, size: int) -> StoredCheckpoint | None:
    """The checkpoint signed for a tree of exactly ``size`` leaves, if any."""
    row = conn.execute(
        sa.select(log_checkpoints).where(log_checkpoints.c.tree_size == size)
    ).first()
    return _stored(row) if row is not None else None


def sign_checkpoint(
    conn: Connection, signer: Signer, *, now: dt.datetime | None = None
) -> StoredCheckpoint:
    """Sign and keep a checkpoint of the tree as it is now, in one
    transaction; returns it (the one already kept when the tree has not grown
    since).

    The head lock is held while the root is read, so the checkpoint states a
    tree that really existed, and two servers signing at once keep one.
    """
    with conn.begin():
        size = _lock_head(conn)
        latest = latest_checkpoint(conn)
        resign = latest is not None and latest.tree_size == size
        if latest is not None and resign and signed_by(latest, signer):
            return latest
        if latest is not None and (
            size < latest.tree_size or root(conn, latest.tree_size) != latest.root
        ):
            # Never sign a tree that does not extend what was signed before.
            raise TreeMismatch(latest.tree_size, size)
        head = root(conn, size)
        note = Checkpoint(signer.name, size, head).sign(signer)
        signed_at = now or dt.datetime.now(dt.UTC)
        if resign:
            # The log's key changed and the tree did not grow: the same tree
            # under the new key, so that witnesses and receipts get a
            # checkpoint the published key verifies, now rather than after
            # the next consent. The note the old key signed is not kept here
            # (its holders keep it), the size being the table's key.
            conn.execute(
                log_checkpoints.update()
                .where(log_checkpoints.c.tree_size == size)
                .values(note=note, signed_at=signed_at)
            )
        else:
            conn.execute(
                log_checkpoints.insert().values(
                    tree_size=size, root=head, note=note, signed_at=signed_at
                )
            )
    return StoredCheckpoint(size, head, note, signed_at)


def signed_by(checkpoint: StoredCheckpoint, signer: Signer) -> bool:
    """Whether ``signer``'s key signed ``checkpoint`` (not an earlier key)."""
    try:
        open_checkpoint(checkpoint.note, signer.verifier)
    except NoteError:
        return False
    return True


def b64(value: bytes) -> str:
    """A hash as proofs and checkpoints write it: standard base64."""
    return base64.b64encode(value).decode()


def _sqlite_entry_text() -> str:
    """SQL for SQLite that writes an event's entry (of either version) itself, text
    fields put in unescaped (:func:`plain_entry` checks they needed no
    escape), or NULL for a row holding a value it cannot write exactly as
    the canonical JSON would (see ``events.sqlite_cell``)."""
    guards, text = sqlite_entry_parts()
    return f"CASE WHEN {' AND '.join(guards)} THEN {text} END"


def sqlite_entry_parts() -> tuple[list[str], str]:
    """:func:`_sqlite_entry_text` in two: the SQL conditions under which the
    entry is right, and the printf that writes it (whatever the row holds)."""
    guards = [
        sqlite_optional_text("continues"),
        "(scan IS NULL OR scan IN (0, 1))",
        CONFIG_HASH_GUARD,
    ]
    parts, args = [], []
    for name in sorted((*FIELDS_V2, "v")):
        if name == "v":
            # Version 2 for an event that records its config document.
            parts.append('"v":%d')
            args.append("1 + (config_hash IS NOT NULL)")
        elif name == "config_hash":
            # Only in a version-2 entry: the key and its comma, or nothing.
            parts[-1] += "%s"
            args.append(
                "CASE WHEN config_hash IS NULL THEN ''"
                " ELSE ',\"config_hash\":\"' || config_hash || '\"' END"
            )
        elif name == "continues":
            parts.append('"continues":%s')
            args.append(
                "CASE WHEN continues IS NULL THEN 'null'"
                " ELSE '\"' || continues || '\"' END"
            )
        elif name == "scan":
            parts.append('"scan":%s')
            args.append("CASE scan WHEN 1 THEN 'true' ELSE 'false' END")
        else:
            guard, conversion, values = sqlite_cell(name)
            guards += guard
            text = conversion.startswith("%s") and name not in BOOLEANS
            quote = '"' if text else ""
            parts.append(f'"{name}":{quote}{conversion}{quote}')
            args += values
    return guards, f"printf('{{{','.join(parts)}}}', {', '.join(args)})"


# A config_hash SQLite can write as it is: none, or 64 lower-case hex digits.
CONFIG_HASH_GUARD = (
    "(config_hash IS NULL OR typeof(config_hash) = 'text'"
    " AND instr(config_hash, char(0)) = 0"
    " AND length(config_hash) = 64 AND config_hash NOT GLOB '*[^0-9a-f]*')"
)
# The quotes an entry has beyond those of a version-1 entry without a
# continues id: two for the id, four for the config hash's key and value.
_SQLITE_EXTRA_QUOTES = "2 * (continues IS NOT NULL) + 4 * (config_hash IS NOT NULL)"

_SQLITE_LEAVES = (
    "SELECT n.position, n.hash, e.seq, "
    + _SQLITE_EXTRA_QUOTES.replace("continues", "e.continues").replace(
        "config_hash", "e.config_hash"
    )
    + ", "
    + _sqlite_entry_text()
    + " FROM tree_nodes AS n LEFT JOIN consent_events AS e"
    " ON e.leaf_index = n.position WHERE n.level = 0 ORDER BY n.position"
)
# The quotes of an entry without and with a continues id: every key's two,
# and two for each text value.
_ENTRY_TEXTS = 11
ENTRY_QUOTES = 2 * (len(FIELDS_V1) + 1) + 2 * _ENTRY_TEXTS
# The bytes an entry's text holds as they are (printable ASCII but '\').
_PLAIN = bytes(b for b in range(0x20, 0x7F) if b != ord("\\"))


def plain_entry(text: str | None, extra_quotes: int) -> bytes | None:
    """The entry's bytes when the text the database wrote needed no escape
    (printable ASCII, no backslash, no quote but the template's and the
    ``extra_quotes`` of the row's optional fields), else None."""
    if text is None or not text.isascii():
        return None
    data = text.encode()
    quotes = ENTRY_QUOTES + extra_quotes
    if data.translate(None, _PLAIN) or data.count(b'"') != quotes:
        return None
    return data


def _typed_leaf(conn: Connection, seq: int) -> bytes | None:
    try:
        row = (
            conn.execute(sa.select(consent_events).where(consent_events.c.seq == seq))
            .mappings()
            .one()
        )
    except ValueError:  # a time that does not exist, say: see _checked_leaf
        return None
    return _checked_leaf(dict(row))


def _checked_leaf(fields: dict[str, Any]) -> bytes | None:
    """:func:`leaf_of` a row read back to be checked, or None for a row no
    append could have written (a value of another type, text that cannot
    be written as UTF-8): it matches no leaf."""
    try:
        return leaf_of(fields)
    except (TypeError, ValueError):
        return None


def _leaves(conn: Connection) -> Iterator[tuple[int, bytes, int | None, Any]]:
    """Every stored leaf in order: its position, its hash, and for a leaf
    whose event is still there, the event's seq and what its leaf hash
    should be (a function, or the hash)."""
    if conn.dialect.name == "sqlite":
        for batch in raw.sqlite_batches(conn, _SQLITE_LEAVES):
            for position, leaf, seq, extra_quotes, text in batch:
                if seq is None:
                    yield position, leaf, None, None
                    continue
                entry = plain_entry(text, extra_quotes)
                yield (
                    position,
                    leaf,
                    seq,
                    merkle.leaf_hash(entry)
                    if entry is not None
                    else _typed_leaf(conn, seq),
                )
        return
    n = tree_nodes.c
    e = consent_events.c
    query = (
        sa.select(
            n.position.label("leaf_position"),
            n.hash.label("leaf_hash"),
            consent_events,
        )
        .select_from(tree_nodes.outerjoin(consent_events, e.leaf_index == n.position))
        .where(n.level == 0)
        .order_by(n.position)
    )
    with conn.execute(query, execution_options=STREAM) as rows:
        for row in rows.mappings():
            seq = row["seq"]
            yield (
                row["leaf_position"],
                bytes(row["leaf_hash"]),
                seq,
                _checked_leaf(dict(row)) if seq is not None else None,
            )


_SQLITE_NODES = (
    "SELECT level, position, hash FROM tree_nodes WHERE level > 0"
    " ORDER BY level, position"
)


def _stored_nodes(conn: Connection) -> Iterator[tuple[int, int, bytes]]:
    """Every stored node above the leaves: level, position, hash; by level."""
    if conn.dialect.name == "sqlite":
        for batch in raw.sqlite_batches(conn, _SQLITE_NODES, size=5000):
            yield from batch
        return
    n = tree_nodes.c
    query = (
        sa.select(n.level, n.position, n.hash)
        .where(n.level > 0)
        .order_by(n.level, n.position)
    )
    with conn.execute(query, execution_options=STREAM) as rows:
        for level, position, hash_ in rows:
            yield level, position, bytes(hash_)


def _compare_nodes(conn: Connection, built: list[bytearray]) -> str | None:
    """What differs between the stored nodes and those rebuilt from the
    leaves (``built[level - 1]``, each level's hashes in order), in words."""
    level, count = 1, 0

    def short(level: int, count: int) -> str | None:
        have = len(built[level - 1]) // 32 if level <= len(built) else 0
        if count < have:
            return (
                f"the tree's node {count} at level {level} is missing: proofs"
                " that need it cannot be made"
            )
        return None

    for stored_level, position, hash_ in _stored_nodes(conn):
        while stored_level > level:
            if missing := short(level, count):
                return missing
            level, count = level + 1, 0
        at = 32 * position
        if (
            position != count
            or level > len(built)
            or bytes(built[level - 1][at : at + 32]) != hash_
        ):
            if position > count and (missing := short(level, count)):
                return missing
            return (
                f"the tree's stored node {position} at level {level} does not"
                " match its leaves: proofs made from it would not verify"
            )
        count += 1
    while level <= len(built):
        if missing := short(level, count):
            return missing
        level, count = level + 1, 0
    return None


@dataclass(frozen=True)
class TreeReport:
    """What checking the tree found.

    ``ok`` when every stored event hashes to its leaf, the leaves are dense,
    and the root rebuilt from the leaves is the stored tree's. ``problem``
    says in words what broke, else None. ``roots`` holds the rebuilt root at
    each size asked for (the checkpoints to compare with).
    """

    ok: bool
    tree_size: int
    root: bytes
    problem: str | None
    roots: dict[int, bytes]


def verify_tree(conn: Connection, sizes: Sequence[int] = ()) -> TreeReport:
    """Rebuild the tree from the log and compare it with what is stored.

    Every event still in the log must hash to the stored leaf at its
    ``leaf_index``; pruned and erased events count by their stored leaf. The
    root is rebuilt from the leaves alone, and ``sizes`` (checkpoints' tree
    sizes) get the root of the tree as it was at that size.
    """
    wanted = sorted({s for s in sizes if s >= 0})
    roots: dict[int, bytes] = {}
    e = consent_events.c
    with conn.begin():
        size = tree_size(conn)
        pruned = pruned_through(conn)
        erased = erasure.erased_leaves(conn)
        try:
            stored_root: bytes | None = root(conn, size)
        except KeyError:  # nodes missing
            stored_root = None
        if 0 in wanted:
            roots[0] = merkle.EMPTY_ROOT
        edge: list[tuple[int, bytes]] = []
        # Every complete node rebuilt, level by level (1 up), in order: to
        # compare with the stored nodes proofs are made of.
        built: list[bytearray] = []
        expected = 0
        problem: str | None = None
        node = merkle.node_hash
        for position, leaf, seq, should_be in _leaves(conn):
            if position != expected:
                problem = f"leaf {expected} is missing from the tree"
                break
            if seq is None:
                if position >= pruned and position not in erased:
                    problem = (
                        f"the event at leaf {position} is gone, and no prune or"
                        " erase removed it: events were deleted"
                    )
                    break
            elif position < pruned:
                problem = (
                    f"the event at sequence number {seq} was pruned"
                    " and is back: it was put back"
                )
                break
            elif should_be != leaf:
                problem = (
                    f"the event at sequence number {seq} does not hash"
                    f" to its leaf {position}: the row was changed"
                )
                break
            level, current = 0, leaf
            while edge and edge[-1][0] == level:
                current = node(edge.pop()[1], current)
                level += 1
                if len(built) < level:
                    built.append(bytearray())
                built[level - 1] += current
            edge.append((level, current))
            expected += 1
            if expected in wanted:
                roots[expected] = merkle.fold([h for _, h in edge])
        if problem is None:
            stray = conn.execute(
                sa.select(sa.func.min(e.seq)).where(
                    sa.or_(
                        e.leaf_index.is_(None),
                        e.leaf_index < 0,
                        e.leaf_index >= expected,
                    )
                )
            ).scalar()
            if stray is not None:
                problem = (
                    f"the event at sequence number {stray} is not in the tree:"
                    " it was added behind the log's back"
                )
        if problem is None:
            problem = erasure.partly_erased(conn)
        if problem is None:
            problem = _compare_nodes(conn, built)
    rebuilt = merkle.fold([h for _, h in edge]) if edge else merkle.EMPTY_ROOT
    if problem is None and expected != size:
        problem = f"the tree says {size} leaves but holds {expected}"
    if problem is None and stored_root != rebuilt:
        problem = "the tree's stored nodes do not match its leaves"
    return TreeReport(problem is None, expected, rebuilt, problem, roots)
