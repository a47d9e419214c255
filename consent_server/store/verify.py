"""Checking the whole log, its hash chain and its Merkle tree, in one pass.

:func:`verify_log` reads each event once, in one snapshot of the database,
and checks it against both: its chain hash and the link to the row before
it, and its entry against its stored leaf. The leaves then build the tree,
whose every stored node must be the one rebuilt. These are the checks of
:func:`~consent_server.store.log.verify_chain` and
:func:`~consent_server.store.tree.verify_tree`, made in one read of the log
instead of two, with no per-row join.

The pass only ever says that all is well. On anything else (a row that does
not match, an event out of leaf order, a leaf missing) it stops and leaves
the verdict to those two full checks, which find and name what broke. So
what verify reports is always theirs; a sound log is only reported sooner.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain import merkle
from ..domain.chain import GENESIS_HASH, ChainReport, fast_row_hash, plain_text
from ..domain.chain import row_hash as typed_row_hash
from ..domain.entry import entry_bytes, fast_entry
from ..domain.export import EXPORT_FIELDS
from . import erasure, log, raw, tree
from .events import RECORDED_AT, raw_columns, raw_rows
from .schema import consent_events, log_head, log_prunes, tree_nodes

# Rows a batch: the size of one fetch from the driver.
BATCH = 4096

_sha256 = hashlib.sha256


class _Unsure(Exception):
    """The pass met something the full checks must look at."""


def verify_log(
    conn: Connection, sizes: Sequence[int] = ()
) -> tuple[ChainReport, tree.TreeReport]:
    """Check the hash chain and the Merkle tree; the reports of
    :func:`log.verify_chain` and :func:`tree.verify_tree` (``sizes`` as
    there: the tree's root at each is in the tree's report)."""
    try:
        return _one_pass(conn, sizes)
    except _Unsure:
        pass
    except conn.dialect.loaded_dbapi.Error:
        # A value the driver cannot read (text that is not UTF-8, say): the
        # full checks meet it too, and fail as they always have.
        pass
    return log.verify_chain(conn), tree.verify_tree(conn, sizes)


def _one_pass(
    conn: Connection, sizes: Sequence[int]
) -> tuple[ChainReport, tree.TreeReport]:
    """Both checks in one read of the log; :raise _Unsure: anything at all
    is not as an intact log has it."""
    wanted = sorted({s for s in sizes if s >= 0})
    with conn.begin():
        _one_snapshot(conn)
        head_seq, head_hash, size = conn.execute(
            sa.select(log_head.c.seq, log_head.c.hash, log_head.c.tree_size).where(
                log_head.c.id == 1
            )
        ).one()
        anchor = conn.execute(
            sa.select(log_prunes.c.through_seq, log_prunes.c.through_hash)
            .order_by(log_prunes.c.id.desc())
            .limit(1)
        ).first()
        through_seq, through_hash = anchor if anchor else (0, GENESIS_HASH)
        c = consent_events.c
        # Rows outside the chain's run: at or below the prune point, or past
        # the head (no append wrote them: row and head commit together).
        for outside in (c.seq <= through_seq, c.seq > head_seq):
            found = conn.execute(sa.select(sa.func.min(c.seq)).where(outside))
            if found.scalar() is not None:
                raise _Unsure
        try:
            stored_root = tree.root(conn, size)
        except KeyError as exc:  # nodes missing
            raise _Unsure from exc
        walk = _Walk(
            conn,
            first=through_seq + 1,
            prev=through_hash,
            erased=erasure.erased_links(conn, through_seq + 1, head_seq),
            pruned=tree.pruned_through(conn),
            erased_leaves=erasure.erased_leaves(conn),
            wanted=wanted,
        )
        for batch in _rows(conn, through_seq + 1, head_seq):
            walk.add(batch)
        walk.finish(head_seq, head_hash)
        if walk.leaves != size or erasure.partly_erased(conn) is not None:
            raise _Unsure
        built = walk.tree
        _compare_levels(conn, built.levels)
    rebuilt = built.root(walk.leaves)
    if rebuilt != stored_root:
        raise _Unsure
    roots = {s: built.root(s) for s in wanted if s <= walk.leaves}
    return (
        ChainReport(True, walk.events, None),
        tree.TreeReport(True, walk.leaves, rebuilt, None, roots),
    )


def _one_snapshot(conn: Connection) -> None:
    """Make every read of the open transaction see the same committed log.

    SQLite's driver starts no transaction for reads, so each statement
    would see the log as it is when it starts; PostgreSQL's default
    isolation does the same. An append meanwhile would then look like a
    broken log, and a broken log could look whole.
    """
    if conn.dialect.name == "sqlite":
        driver: Any = conn.connection.driver_connection
        if not driver.in_transaction:
            driver.execute("BEGIN")
    else:
        conn.exec_driver_sql(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
        )


# A batch's rows: seq, leaf_index, prev_hash, hash, the chain hash the row
# should have, its leaf hash.
Row = tuple[int, Any, Any, Any, str, bytes]


def _rows(conn: Connection, first: int, last: int) -> Iterator[list[Row]]:
    """The events from ``first`` to ``last`` in sequence order, in batches,
    each with its chain hash and its leaf hash computed."""
    if conn.dialect.name == "sqlite":
        yield from _sqlite_rows(conn, first, last)
        return
    c = consent_events.c
    query = (
        sa.select(*raw_columns(), _SCAN, c.config_hash, c.leaf_index)
        .where(c.seq >= first, c.seq <= last)
        .order_by(c.seq)
    )
    batch: list[Row] = []
    for values in raw_rows(conn, query, booleans=False):
        batch.append(_python_row(conn, values))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


_SCAN = sa.type_coerce(consent_events.c.scan, sa.types.NullType()).label("scan")
_PREV_HASH = EXPORT_FIELDS.index("prev_hash")
_HASH = EXPORT_FIELDS.index("hash")


def _python_row(conn: Connection, values: list[Any]) -> Row:
    # raw_rows' cells (recorded_at as text, booleans as the driver gives
    # them), then scan, config_hash and leaf_index.
    seq = values[0]
    should_be = fast_row_hash(values[:_HASH])
    fields = dict(zip(EXPORT_FIELDS, values, strict=False))
    fields["scan"] = values[-3]
    fields["config_hash"] = values[-2]
    try:
        entry: bytes | None = fast_entry(fields, values[RECORDED_AT])
    except (TypeError, KeyError):
        entry = None
    if should_be is None or entry is None:
        should_be, entry = _typed(conn, seq)
    return (seq, values[-1], values[_PREV_HASH], values[_HASH], should_be, _leaf(entry))


def _leaf(entry: bytes) -> bytes:
    return _sha256(b"\x00" + entry).digest()


def _typed(conn: Connection, seq: int) -> tuple[str, bytes]:
    """The chain hash and the entry of one row read the typed way."""
    try:
        # Reading it can fail too: a time that does not exist, say.
        row = dict(
            conn.execute(sa.select(consent_events).where(consent_events.c.seq == seq))
            .mappings()
            .one()
        )
        try:
            entry = fast_entry(row)
        except (TypeError, KeyError):
            entry = entry_bytes(row)
        return typed_row_hash(row), entry
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise _Unsure from exc  # the full checks say what it is


def _sqlite_pass() -> str:
    chain_guards, chain_text = log.sqlite_hash_parts()
    entry_guards, entry_text = tree.sqlite_entry_parts()
    # Each condition once (most are on both lists), and both texts in one
    # value, so that SQLite tests them once a row.
    guards = " AND ".join(dict.fromkeys([*chain_guards, *entry_guards]))
    return (
        "SELECT seq, leaf_index, prev_hash, hash, continues IS NOT NULL,"
        f" {_EXTRA_QUOTES_SQL},"
        f" CASE WHEN {guards} THEN {chain_text} || char(31) || {entry_text} END"
        " FROM consent_events WHERE seq >= ? AND seq <= ? ORDER BY seq"
    )


# The quotes a row's entry has beyond those of a version-1 entry without a
# continues id: two for the id, four for the config hash's key and value.
_EXTRA_QUOTES_SQL = "2 * (continues IS NOT NULL) + 4 * (config_hash IS NOT NULL)"
_SQLITE_PASS = _sqlite_pass()


def _sqlite_rows(conn: Connection, first: int, last: int) -> Iterator[list[Row]]:
    """:func:`_rows` on SQLite: the database writes both texts, the chain's
    and the entry, in one statement (see ``log.sqlite_hash_parts`` and
    ``tree.sqlite_entry_parts``); a row they cannot be sure of (a condition
    false, or a character JSON escapes) is read the typed way."""
    sha256 = _sha256
    quotes = tree.ENTRY_QUOTES
    for batch in raw.sqlite_batches(conn, _SQLITE_PASS, (first, last), BATCH):
        out: list[Row] = []
        for seq, leaf_index, prev_hash, hash_, continued, extra, texts in batch:
            data = entry = None
            if texts is not None:
                text, _, written = texts.partition("\x1f")
                # Every text of the entry is in the chain's text too, but
                # the config hash, which the guards hold to hex digits: with
                # no character to escape there (plain_text), and none in
                # the entry (its quotes are its template's, and a cell
                # holding the separator would leave one), both are exactly
                # as JSON writes them.
                entry = written.encode()
                if "\x1f" not in written and entry.count(b'"') == quotes + extra:
                    data = plain_text(text, continued)
            if data is not None and entry is not None:
                should_be = sha256(data).hexdigest()
                leaf = sha256(b"\x00" + entry).digest()
            else:
                should_be, typed_entry = _typed(conn, seq)
                leaf = _leaf(typed_entry)
            out.append((seq, leaf_index, prev_hash, hash_, should_be, leaf))
        yield out


class _Walk:
    """The chain walked and the leaves checked, batch by batch, in
    sequence order; :raise _Unsure: at the first thing amiss."""

    def __init__(
        self,
        conn: Connection,
        *,
        first: int,
        prev: str,
        erased: dict[int, tuple[str, str]],
        pruned: int,
        erased_leaves: set[int],
        wanted: Sequence[int],
    ) -> None:
        self._expected = first
        self._prev = prev
        self._erased = erased
        self._pruned = pruned
        self._erased_leaves = erased_leaves
        self._stored = _Take(_stored_leaves(conn))
        self.tree = _Built({s - 1 for s in wanted if s > 0})
        self.events = 0
        # Leaves checked so far (the next leaf's position).
        self.leaves = 0

    def _step_over(self, at: int, prev: str) -> tuple[int, str]:
        # Rows a visitor had erased: the chain steps over them by the
        # hashes kept when they were removed.
        erased = self._erased
        while at in erased:
            kept_prev, kept_hash = erased[at]
            if kept_prev != prev:
                raise _Unsure
            at, prev = at + 1, kept_hash
        return at, prev

    def add(self, batch: list[Row]) -> None:
        expected, prev, erased = self._expected, self._prev, self._erased
        next_leaf = self.leaves
        computed: list[bytes | None] = []
        for seq, leaf_index, prev_hash, hash_, should_be, leaf in batch:
            if seq != expected or (erased and expected in erased):
                expected, prev = self._step_over(expected, prev)
                if seq != expected:
                    raise _Unsure
            if prev_hash != prev or hash_ != should_be:
                raise _Unsure
            prev = hash_
            expected += 1
            if leaf_index != next_leaf:
                # Leaves whose events are gone (pruned, erased) come between;
                # an event out of leaf order is left to the full checks.
                if type(leaf_index) is not int or leaf_index < next_leaf:
                    raise _Unsure
                self._next(computed)
                computed = []
                self._gone(leaf_index - next_leaf)
                next_leaf = leaf_index
            computed.append(leaf)
            next_leaf += 1
        self._expected, self._prev = expected, prev
        self.events += len(batch)
        self._next(computed)

    def _next(self, computed: list[bytes | None]) -> None:
        self._check_leaves(computed, self._stored.take(len(computed)))

    def _gone(self, count: int) -> None:
        # So many leaves without events next, a batch at a time.
        while count > 0:
            self._next([None] * min(count, BATCH))
            count -= BATCH

    def _check_leaves(self, computed: list[bytes | None], rows: list[Any]) -> None:
        """Compare the next stored leaves (``rows``: position, hash) with
        what the events hash to (None: a leaf without an event, which only
        a prune or an erase may leave), and build the tree from them."""
        if not computed:
            return
        start, pruned = self.leaves, self._pruned
        if len(rows) != len(computed):
            raise _Unsure
        positions, hashes = zip(*rows, strict=True)
        if positions != tuple(range(start, start + len(rows))):
            raise _Unsure
        if start >= pruned and None not in computed:
            if list(hashes) != computed:
                raise _Unsure
        else:
            erased = self._erased_leaves
            for at, have, should_be in zip(positions, hashes, computed, strict=True):
                if should_be is None:
                    if at >= pruned and at not in erased:
                        raise _Unsure  # an event deleted
                elif at < pruned or have != should_be:
                    raise _Unsure  # an event below the prune point is back
        self.tree.add(start, hashes)
        self.leaves = start + len(rows)

    def finish(self, head_seq: int, head_hash: str) -> None:
        """After the last batch: the chain must end at the head, and any
        leaves after the last event's be pruned or erased ones."""
        expected, prev = self._step_over(self._expected, self._prev)
        if head_seq != expected - 1 or head_hash != prev:
            raise _Unsure
        while rows := self._stored.take(BATCH):
            self._check_leaves([None] * len(rows), rows)


class _Take:
    """Rows of batches, taken by any count."""

    def __init__(self, batches: Iterator[Sequence[Any]]) -> None:
        self._batches = batches
        self._left: list[Any] = []

    def take(self, count: int) -> list[Any]:
        rows = self._left
        while len(rows) < count:
            batch = next(self._batches, None)
            if batch is None:
                break
            rows += batch
        self._left = rows[count:]
        return rows[:count]


def _stored_leaves(conn: Connection) -> Iterator[Sequence[Any]]:
    """Every stored leaf in position order, in batches: position, hash."""
    n = tree_nodes.c
    yield from _batches(
        conn,
        sa.select(n.position, n.hash).where(n.level == 0).order_by(n.position),
        "SELECT position, hash FROM tree_nodes WHERE level = 0 ORDER BY position",
    )


def _batches(
    conn: Connection, query: sa.Select[Any], sqlite: str, *params: Any
) -> Iterator[Sequence[Any]]:
    # The same query, on SQLite from the driver's cursor as plain tuples.
    if conn.dialect.name == "sqlite":
        yield from raw.sqlite_batches(conn, sqlite, params, BATCH)
        return
    with conn.execute(query, execution_options={"yield_per": BATCH}) as result:
        yield from result.partitions()


class _Built:
    """Every complete node above the leaves, built level by level as the
    leaves arrive in order (``levels[level - 1]``: that level's hashes)."""

    def __init__(self, keep: set[int]) -> None:
        self.levels: list[bytearray] = []
        # Per level from the leaves up: a left child waiting for its right.
        self._waiting: list[bytes | None] = []
        # Leaves kept for the roots asked for (a tree of odd size ends in one).
        self._keep = keep
        self._kept: dict[int, bytes] = {}

    def add(self, start: int, leaves: Sequence[bytes]) -> None:
        """Add the leaves at ``start`` onwards (right after those before)."""
        for at in self._keep:
            if start <= at < start + len(leaves):
                self._kept[at] = leaves[at - start]
        hashes: Sequence[bytes] = leaves
        level = 0
        sha256 = _sha256
        while hashes:
            if level == len(self._waiting):
                self._waiting.append(None)
            left = self._waiting[level]
            if left is not None:
                hashes = [left, *hashes]
            self._waiting[level] = hashes[-1] if len(hashes) % 2 else None
            # Pairs from the left; an odd one out waits (above).
            pairs = iter(hashes)
            parents = [
                sha256(b"\x01" + a + b).digest()
                for a, b in zip(pairs, pairs, strict=False)
            ]
            if parents:
                if level == len(self.levels):
                    self.levels.append(bytearray())
                self.levels[level] += b"".join(parents)
            hashes = parents
            level += 1

    def _get(self, level: int, index: int) -> bytes:
        if level == 0:
            return self._kept[index]
        at = merkle.HASH_SIZE * index
        return bytes(self.levels[level - 1][at : at + merkle.HASH_SIZE])

    def root(self, size: int) -> bytes:
        """The root of the tree of the first ``size`` leaves (all added)."""
        if size == 0:
            return merkle.EMPTY_ROOT
        keys = merkle.range_keys(0, size)
        if keys[-1][0] == 0 and size - 1 not in self._kept:
            # The whole tree's last leaf, when their number is odd: the one
            # still waiting for a right neighbour.
            last = self._waiting[0] if self._waiting else None
            if last is None:
                raise KeyError(size - 1)
            self._kept[size - 1] = last
        return merkle.fold([self._get(level, index) for level, index in keys])


def _compare_levels(conn: Connection, levels: list[bytearray]) -> None:
    """Every stored node above the leaves must be one rebuilt, and every
    rebuilt one stored; :raise _Unsure: else."""
    n = tree_nodes.c
    for level, built in enumerate(levels, start=1):
        # The level's nodes are at 0, 1, 2, ... (a level and a position
        # name one node: the primary key), each a hash of 32 bytes; then
        # their hashes in order, joined, are the level rebuilt.
        count, first, last, odd = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.min(n.position),
                sa.func.max(n.position),
                sa.func.count().filter(
                    (sa.func.length(n.hash) != merkle.HASH_SIZE)
                    | (n.position != sa.cast(n.position, sa.BigInteger))
                    | (sa.func.typeof(n.hash) != "blob")
                    if conn.dialect.name == "sqlite"
                    else sa.func.length(n.hash) != merkle.HASH_SIZE
                ),
            ).where(n.level == level)
        ).one()
        if (
            count * merkle.HASH_SIZE != len(built)
            or first != 0
            or last != count - 1
            or odd
        ):
            raise _Unsure
        at = 0
        for batch in _batches(
            conn,
            sa.select(n.hash).where(n.level == level).order_by(n.position),
            "SELECT hash FROM tree_nodes WHERE level = ? ORDER BY position",
            level,
        ):
            joined = b"".join([value for (value,) in batch])
            if joined != built[at : at + len(joined)]:
                raise _Unsure
            at += len(joined)
    above = conn.execute(
        sa.select(sa.func.count()).where(
            (n.level > len(levels)) | (n.level != sa.cast(n.level, sa.BigInteger))
        )
    ).scalar_one()
    if above:
        raise _Unsure
