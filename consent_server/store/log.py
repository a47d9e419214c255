"""Writing the consent log and checking its hash chain.

:func:`append` adds one row under the head lock, :func:`append_many` several
under one lock and one commit, and :class:`GroupCommit` gathers the appends
of a process's threads into such commits; :func:`verify_chain` walks
the chain and names the first row that breaks it; :func:`prune` removes old
rows from the start, recording where the chain starts again.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import datetime as dt
import fcntl
import os
import threading
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..domain.chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    ChainReport,
    Claim,
    NewEvent,
    fast_row_hash,
    row_hash,
    text_hash,
)
from ..domain.ids import new_id
from ..domain.vocabulary import NECESSARY, OPTIONAL
from . import erasure, raw, tree
from .engine import make_engine
from .events import (
    BOOLEANS,
    RECORDED_AT,
    raw_columns,
    raw_rows,
    sqlite_cell,
    sqlite_optional_text,
)
from .schema import consent_events, log_head, log_prunes

# The statements of an append, built once: building and caching a statement
# again per commit cost more CPU than the commit's SQL itself.
_LOCK_HEAD = (
    log_head.update()
    .where(log_head.c.id == 1)
    .values(seq=log_head.c.seq)
    .returning(
        log_head.c.seq, log_head.c.hash, log_head.c.tree_size, log_head.c.tree_edge
    )
)
_SET_HEAD = (
    log_head.update()
    .where(log_head.c.id == 1)
    .ordered_values(
        (log_head.c.hash, sa.bindparam("new_hash", type_=sa.String)),
        (log_head.c.seq, sa.bindparam("new_seq", type_=sa.Integer)),
        (log_head.c.tree_size, sa.bindparam("new_tree_size", type_=sa.Integer)),
        (log_head.c.tree_edge, sa.bindparam("new_edge", type_=sa.LargeBinary)),
    )
)
_INSERT = consent_events.insert()
# ... and run on the driver's cursor (store/raw.py): SQLAlchemy's execution
# of them took more CPU than the commit's SQL.
_RAW_LOCK_HEAD = raw.Statement(_LOCK_HEAD)
_RAW_SET_HEAD = raw.Statement(_SET_HEAD)
_RAW_INSERT = raw.Statement(_INSERT)


def append(
    conn: Connection, event: NewEvent, claim: Claim | None = None
) -> dict[str, Any]:
    """Append one event to the log and commit it; returns the stored row.

    The same as :func:`append_many` with one event.
    """
    return append_many(conn, [(event, claim)])[0]


def append_many(
    conn: Connection, items: Sequence[tuple[NewEvent, Claim | None]]
) -> list[dict[str, Any]]:
    """Append events to the log in order, in one transaction, and commit them;
    returns the stored rows in the same order.

    The head row is updated first so the transaction holds the write lock
    before it reads anything: appends from many processes then queue up
    instead of forking the chain. The lock is taken once for all the events.

    With a claim, an event continues that visitor's history (their consent
    id, ``continues`` naming their latest event) when the claim is still
    current; otherwise it is recorded as ``event.consent_id``, a new visitor.
    That is decided under the lock, and an event earlier in the same call
    counts as the visitor's latest: of two appends with the same claim only
    the first can continue the history.
    """
    if not items:
        return []
    with conn.begin():
        return _append_locked(conn, _lock_head(conn), items)


Head = tuple[int, str, int, bytes | None]


def _lock_head(conn: Connection) -> Head:
    """Take the log's write lock in the open transaction; returns the head's
    sequence number and hash, and the Merkle tree's size and right edge."""
    ((seq, hash_, tree_size, edge),) = _RAW_LOCK_HEAD.rows(conn, {})
    return seq, hash_, tree_size, bytes(edge) if edge is not None else None


def _append_locked(
    conn: Connection,
    head: Head,
    items: Sequence[tuple[NewEvent, Claim | None]],
) -> list[dict[str, Any]]:
    """:func:`append_many` in a transaction that holds the lock on ``head``."""
    seq, prev_hash, tree_size, edge = head
    rows: list[dict[str, Any]] = []
    # The latest event of each visitor written in this call so far.
    written: dict[str, dict[str, Any]] = {}
    for event, claim in items:
        seq += 1
        consent_id, continues = event.consent_id, None
        if claim is not None:
            latest = written.get(claim.consent_id) or latest_event(
                conn, claim.consent_id
            )
            # A history whose events are all gone (pruned) cannot tell the
            # visitor's latest token from an older one: it is not continued.
            if latest is not None and claim.current(
                latest["event_id"], latest["recorded_at"]
            ):
                consent_id, continues = claim.consent_id, latest["event_id"]
        fields = _row(event, seq, consent_id, continues, prev_hash)
        prev_hash = fields["hash"]
        written[consent_id] = fields
        rows.append(fields)
    # The events join the Merkle tree in this same commit, in log order.
    tree_size, edge = tree.integrate(conn, tree_size, rows, edge)
    # Rows that continue nothing are inserted without the column, so a
    # first choice is written exactly as rows were before it existed.
    for group in (
        [r for r in rows if "continues" not in r],
        [r for r in rows if "continues" in r],
    ):
        _RAW_INSERT.many(conn, group)
    _RAW_SET_HEAD.rows(
        conn,
        {
            "new_seq": seq,
            "new_hash": prev_hash,
            "new_tree_size": tree_size,
            "new_edge": edge,
        },
    )
    return [{"continues": None, **r} for r in rows]


def _row(
    event: NewEvent, seq: int, consent_id: str, continues: str | None, prev_hash: str
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "seq": seq,
        "event_id": new_id(),
        "consent_id": consent_id,
        "site": event.site,
        "consent_revision": event.consent_revision,
        "config_revision": event.config_revision,
        **{k: True for k in NECESSARY},
        **{k: bool(event.choices[k]) for k in OPTIONAL},
        "method": event.method,
        "gpc": event.gpc,
        "language": event.language,
        "texts_hash": event.texts_hash,
        "origin": event.origin,
        "path": event.path,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "recorded_at": dt.datetime.now(dt.UTC),
        "prev_hash": prev_hash,
        # On every row, so that one INSERT takes a batch of both kinds; NULL,
        # as on rows written before the column existed, for a visitor's.
        "scan": True if event.scan else None,
        "config_hash": event.config_hash,
    }
    if continues is not None:
        fields["continues"] = continues
    # The same hash as row_hash's, by one string format where the row holds
    # nothing JSON escapes: a third cheaper per append.
    fields["hash"] = fast_row_hash(
        (
            *[fields[k] for k in _HASHED_BEFORE_TIME],
            fields["recorded_at"].isoformat(),
            prev_hash,
            continues,
        )
    ) or row_hash(fields)
    return fields


# The hashed fields before recorded_at (then prev_hash and continues).
_HASHED_BEFORE_TIME = HASHED_FIELDS[: HASHED_FIELDS.index("recorded_at")]
assert HASHED_FIELDS[len(_HASHED_BEFORE_TIME) :] == (
    "recorded_at",
    "prev_hash",
    "continues",
)


class _Waiting:
    """One append waiting for the commit that holds its row.

    Its gate is a lock held from the start: the thread waits by acquiring
    it, and is let through, once, when its row is committed or when it is
    to make the next commit.
    """

    def __init__(self, event: NewEvent, claim: Claim | None) -> None:
        self.item = (event, claim)
        self.row: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self.done = False
        self.gate = threading.Lock()
        self.gate.acquire()


class _LostBeforeTheLock(Exception):
    """A commit found its connection lost before it held the log's lock."""


class GroupCommit:
    """Appends from the threads of one process, committed together.

    A thread that appends puts its event in the queue. If no other thread is
    committing, it becomes the one that does: on the writer's own connection
    (see :meth:`commit_engine`) it takes the log's write lock (the head row, which
    other processes may hold), then everything queued by then, and appends it
    as :func:`append_many` does, in one transaction (one lock on the head, one
    fsync), then hands each waiting thread its row. Events that arrive while
    it waits for the lock join its commit; those that arrive after wait for
    the next commit, which the committer hands to the first of them. So nobody
    waits for a timer: alone, an append commits at once; under load, the
    commits grow. Only the threads whose rows were committed, and the next
    committer, are woken: a thread waiting for a later commit sleeps on.

    Every append returns only after the commit that holds its row. When that
    commit fails, every append of it raises the error and nothing of it is
    written. :meth:`_committed` is the one place a batch is known committed.

    With ``lock_path`` (for a SQLite file, whose processes cannot queue on a
    lock in the database), a commit first takes an exclusive lock on that
    file, shared by every process writing the database. A waiting process
    then wakes the moment the lock is free, where SQLite's busy handler
    would sleep for up to 100 ms between tries, and the events that arrive
    meanwhile join its batch.
    """

    # Past this many events a commit leaves the rest to the next one, so that
    # no answer waits on an unbounded transaction.
    MAX_BATCH = 256

    def __init__(self, engine: Engine, lock_path: str | None = None) -> None:
        # Weak: the engine keys the process's writers, and outlives none.
        self._engine = weakref.ref(engine)
        self._own: tuple[int, Engine] | None = None  # (pid, engine)
        self._lock_path = lock_path
        self._lock_file: tuple[int, int] | None = None  # (pid, descriptor)
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._committing = False
        self._in_flight = 0
        # The size of each commit, newest last (for tests and benchmarks).
        self.batch_sizes: collections.deque[int] = collections.deque(maxlen=10_000)

    def append(self, event: NewEvent, claim: Claim | None = None) -> dict[str, Any]:
        """Queue one event, wait for the commit that holds it; returns its row.

        The caller may hold a connection of the engine's pool while it waits:
        commits are made on a connection of the writer's own (:meth:`commit_engine`),
        so threads that all hold one never wait for the pool to hand the
        writer another.

        :raise sqlalchemy.exc.SQLAlchemyError: that commit failed.
        """
        mine = _Waiting(event, claim)
        with self._lock:
            self._queue.append(mine)
            leading = not self._committing
            self._committing = True
        if not leading:
            # Let through when committed, or to make the next commit.
            mine.gate.acquire()
        while not mine.done:
            self._commit(mine)
        if mine.error is not None:
            raise mine.error
        assert mine.row is not None
        return mine.row

    def commit_engine(self) -> Engine:
        """The engine commits are made on: this process's writer's own, with a
        pool of one connection.

        Only one thread of a process commits at a time, so a commit never
        waits for that pool. Sharing the requests' pool, it could wait for a
        connection that only requests waiting for this very commit hold.
        An in-memory SQLite database has one connection for everyone: then
        it is the requests' engine.
        """
        engine = self._engine()
        assert engine is not None, "a writer outlived its engine"
        if engine.dialect.name == "sqlite" and engine.url.database in (
            None,
            "",
            ":memory:",
        ):
            return engine
        with self._lock:
            if self._own is None or self._own[0] != os.getpid():
                if self._own is not None:
                    # Inherited through fork: the parent's connection is its own.
                    self._own[1].dispose(close=False)
                url = engine.url.render_as_string(hide_password=False)
                own = make_engine(url, pool_size=1, max_overflow=0)
                self._own = (os.getpid(), own)
            return self._own[1]

    def dispose(self) -> None:
        """Close the writer's own connection (with its engine's others); a
        commit under way closes its connection once it is done."""
        with self._lock:
            own, self._own = self._own, None
        if own is not None and own[0] == os.getpid():
            own[1].dispose()

    def _take(self) -> list[_Waiting]:
        with self._lock:
            batch = self._queue[: self.MAX_BATCH]
            del self._queue[: self.MAX_BATCH]
            self._in_flight = len(batch)
        return batch

    def _commit(self, mine: _Waiting) -> None:
        error: BaseException | None = None
        batch: list[_Waiting] = []
        rows: list[dict[str, Any]] = []
        try:
            try:
                rows = self._try_commit(batch)
            except _LostBeforeTheLock:
                # The writer's connection was dead (the database restarted):
                # nothing was sent but the lock, so once more on a new one.
                rows = self._try_commit(batch)
        except BaseException as exc:  # handed to every append of the batch
            error = exc
            if isinstance(exc, _LostBeforeTheLock) and exc.__cause__ is not None:
                error = exc.__cause__  # lost again: the driver's error
            batch = batch or self._take()
        if error is None:
            self._committed(rows)
        for i, waiting in enumerate(batch):
            if error is None:
                waiting.row = rows[i]
            else:
                waiting.error = _own_copy(error)
            waiting.done = True
        with self._lock:
            self._in_flight = 0
            # The next commit is made by this thread if its own event is
            # still queued (past MAX_BATCH), else by the first one queued.
            following = None
            if self._queue and mine.done:
                following = self._queue[0]
            elif not self._queue:
                self._committing = False
        for waiting in batch:
            if waiting is not mine:
                waiting.gate.release()
        if following is not None:
            following.gate.release()

    def _try_commit(self, batch: list[_Waiting]) -> list[dict[str, Any]]:
        """One commit of what is queued; returns its rows. ``batch`` gets the
        appends it took, so that they get its error if it fails.

        :raise _LostBeforeTheLock: the connection was found lost while taking
            the lock, before anything was taken (or written).
        """
        engine = self.commit_engine()
        pool = engine.pool  # a dispose meanwhile gives the engine a new one
        try:
            # The connection before the writers' lock: no process waits for
            # the lock while this one connects.
            with engine.connect() as conn, self._writer(), conn.begin():
                # The lock first, then the batch: what arrives while this
                # process waits for another's commit joins this one.
                try:
                    head = _lock_head(conn)
                except sa.exc.DBAPIError as exc:
                    if exc.connection_invalidated:
                        raise _LostBeforeTheLock from exc
                    raise
                batch.extend(self._take())
                return _append_locked(conn, head, [w.item for w in batch])
        finally:
            with self._lock:
                dropped = engine is not self._engine() and (
                    self._own is None or self._own[1] is not engine
                )
            if dropped:
                # Disposed of while this commit ran: its connection came back
                # to a pool nobody uses any more.
                pool.dispose()

    def _committed(self, rows: list[dict[str, Any]]) -> None:
        """Called once for every batch, right after its commit and before any
        of its appends returns; ``rows`` are the batch's rows in log order."""
        self.batch_sizes.append(len(rows))

    @contextlib.contextmanager
    def _writer(self) -> Iterator[None]:
        """Hold the writers' file lock, if there is one, around a commit."""
        if self._lock_path is None:
            yield
            return
        if self._lock_file is None or self._lock_file[0] != os.getpid():
            # A descriptor inherited through fork shares its lock with the
            # parent: each process opens its own.
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._lock_file = (os.getpid(), fd)
        fd = self._lock_file[1]
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def pending(self) -> int:
        """How many appends are waiting or being committed now."""
        with self._lock:
            return len(self._queue) + self._in_flight


def _own_copy(error: BaseException) -> BaseException:
    # Each waiting request raises its own copy: one exception object raised
    # in many threads at once would share one traceback.
    try:
        return copy.copy(error)
    except Exception:  # an exception that cannot be copied: share it
        return error


_writers: weakref.WeakKeyDictionary[Engine, GroupCommit] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def group_commit(engine: Engine) -> GroupCommit:
    """The process's :class:`GroupCommit` for one database engine."""
    with _writers_lock:
        writer = _writers.get(engine)
        if writer is None:
            database = engine.url.database
            lock_path = None
            if engine.dialect.name == "sqlite" and database not in (
                None,
                "",
                ":memory:",
            ):
                lock_path = f"{database}-writer"
            writer = _writers[engine] = GroupCommit(engine, lock_path)
            # Disposing of the engine closes the writer's connection too.
            sa.event.listen(engine, "engine_disposed", lambda _e: writer.dispose())
        return writer


def verify_chain(conn: Connection) -> ChainReport:
    """Walk the whole log and report the first sequence number that breaks the chain.

    A changed row is bad itself; a deleted row is reported by its missing
    number; a row added past the head, or a head that runs past the last row,
    is reported at the first number that does not fit.

    Safe under live traffic: it checks the rows up to the head it read first
    (appends commit row and head together, in order), and looks again when a
    prune moved the start of the chain while it was walking.
    """
    for _ in range(10):
        report, anchor_id = _walk(conn)
        if report.ok or _anchor(conn)[0] == anchor_id:
            break
    return report


def _anchor(conn: Connection) -> tuple[int | None, int, str]:
    """The newest prune's id and where the chain starts again after it."""
    with conn.begin():
        row = conn.execute(
            sa.select(
                log_prunes.c.id, log_prunes.c.through_seq, log_prunes.c.through_hash
            )
            .order_by(log_prunes.c.id.desc())
            .limit(1)
        ).first()
    return (row[0], row[1], row[2]) if row else (None, 0, GENESIS_HASH)


def _head(conn: Connection) -> tuple[int, str]:
    with conn.begin():
        seq, hash_ = conn.execute(
            sa.select(log_head.c.seq, log_head.c.hash).where(log_head.c.id == 1)
        ).one()
    return seq, hash_


_PREV_HASH = RECORDED_AT + 1
_HASH = -1


def _sqlite_hash_text() -> str:
    """SQL for SQLite that writes a row's canonical JSON text itself.

    The same text as :func:`~consent_server.domain.chain.row_hash` writes,
    text fields put in unescaped (``chain.text_hash`` checks they need no
    escape), or NULL for a row holding a value it cannot write exactly so
    (see ``events.sqlite_cell``). One printf a row: building the text in
    the database saves making two dozen Python objects a row, most of what
    a verify of a million costs.
    """
    guards, text = sqlite_hash_parts()
    return f"CASE WHEN {' AND '.join(guards)} THEN {text} END"


def sqlite_hash_parts() -> tuple[list[str], str]:
    """:func:`_sqlite_hash_text` in two: the SQL conditions under which the
    text is right, and the printf that writes it (whatever the row holds)."""
    guards, parts, args = [sqlite_optional_text("continues")], [], []
    for name in HASHED_FIELDS:
        if name == "continues":
            continue
        guard, conversion, values = sqlite_cell(name)
        guards += guard
        quote = '"' if conversion.startswith("%s") and name not in BOOLEANS else ""
        parts.append(f'"{name}":{quote}{conversion}{quote}')
        args += values
    args.append(
        "CASE WHEN continues IS NULL THEN ''"
        " WHEN typeof(continues) = 'text'"
        " THEN ',\"continues\":\"' || continues || '\"' END"
    )
    return guards, f"printf('{{{','.join(parts)}%s}}', {', '.join(args)})"


_SQLITE_WALK = (
    "SELECT seq, prev_hash, hash, continues IS NOT NULL, "
    + _sqlite_hash_text()
    + " FROM consent_events WHERE seq >= ? AND seq <= ? ORDER BY seq"
)
_PREV_HASH = RECORDED_AT + 1
_HASH = -1


def _chain_rows(
    conn: Connection, first: int, last: int
) -> Iterator[tuple[int, str, str, str]]:
    """Each row from ``first`` to ``last`` in order: seq, prev_hash, hash and
    the hash it should have.

    One streaming pass over tuples; on SQLite the database writes each row's
    hash input (see :func:`_sqlite_hash_text`), elsewhere the driver's
    values go through ``chain.fast_row_hash``. A row either cannot be sure
    of is hashed by ``chain.row_hash`` over the row read the typed way.
    """
    if conn.dialect.name == "sqlite":
        for batch in raw.sqlite_batches(conn, _SQLITE_WALK, (first, last)):
            for seq, prev_hash, hash_, continued, text in batch:
                yield (
                    seq,
                    prev_hash,
                    hash_,
                    text_hash(text, bool(continued)) or _typed_row_hash(conn, seq),
                )
        return
    c = consent_events.c
    query = (
        sa.select(*raw_columns()).where(c.seq >= first, c.seq <= last).order_by(c.seq)
    )
    for row in raw_rows(conn, query, booleans=False):
        seq = row[0]
        yield (
            seq,
            row[_PREV_HASH],
            row[_HASH],
            fast_row_hash(row[:_HASH]) or _typed_row_hash(conn, seq),
        )


def _walk(conn: Connection) -> tuple[ChainReport, int | None]:
    head_seq, head_hash = _head(conn)
    anchor_id, through_seq, prev = _anchor(conn)
    expected = through_seq + 1
    events = 0
    c = consent_events.c
    with conn.begin():
        # Rows a visitor had erased: the chain steps over them by the hashes
        # kept when they were removed.
        erased = erasure.erased_links(conn, expected, head_seq)

        def step_over(at: int, prev: str) -> tuple[int, str, bool]:
            while at in erased:
                kept_prev, kept_hash = erased[at]
                if kept_prev != prev:
                    return at, prev, False
                at, prev = at + 1, kept_hash
            return at, prev, True

        for seq, prev_hash, hash_, should_be in _chain_rows(conn, expected, head_seq):
            expected, prev, linked = step_over(expected, prev)
            if not linked or seq != expected:
                return ChainReport(False, events, expected), anchor_id
            if prev_hash != prev or hash_ != should_be:
                return ChainReport(False, events, seq), anchor_id
            prev = hash_
            expected += 1
            events += 1
        expected, prev, linked = step_over(expected, prev)
        if not linked:
            return ChainReport(False, events, expected), anchor_id
        if head_seq != expected - 1 or head_hash != prev:
            return ChainReport(False, events, expected), anchor_id
        old = conn.execute(
            sa.select(sa.func.min(c.seq)).where(c.seq <= through_seq)
        ).scalar()
        if old is not None:
            # Rows at or below a prune point cannot be there unless put back.
            return ChainReport(False, events, old), anchor_id
        beyond = conn.execute(
            sa.select(sa.func.min(c.seq)).where(c.seq > head_seq)
        ).scalar()
    if beyond is not None and _head(conn)[0] < beyond:
        # Past the head even now: no append wrote that row.
        return ChainReport(False, events, beyond), anchor_id
    return ChainReport(True, events, None), anchor_id


def _typed_row_hash(conn: Connection, seq: int) -> str:
    """:func:`row_hash` of one row read the typed way (in the walk's
    transaction), or "" (no hash's) for a row no append could have written:
    a value of another type (bytes in a text column), a time that does not
    exist."""
    try:
        row = (
            conn.execute(sa.select(consent_events).where(consent_events.c.seq == seq))
            .mappings()
            .one()
        )
        return row_hash(dict(row))
    except (TypeError, ValueError):
        return ""


def prune(
    conn: Connection, older_than_days: int, *, now: dt.datetime | None = None
) -> int:
    """Remove the run of rows at the start of the log that are all older than
    the given age.

    Removal stops at the first row (in sequence order) recorded after the
    cut-off: a later row with an old time (a server with a slow clock) does not
    take newer rows with it. The removal is recorded with the last removed
    row's hash, so the rest of the chain still verifies. Returns the number of
    rows removed.
    """
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=older_than_days)
    c = consent_events.c
    with conn.begin():
        # Lock the head like an append does, so no row is added meanwhile.
        conn.execute(
            log_head.update().where(log_head.c.id == 1).values(seq=log_head.c.seq)
        )
        first_kept = conn.execute(
            sa.select(sa.func.min(c.seq)).where(c.recorded_at >= cutoff)
        ).scalar()
        query = sa.select(c.seq, c.hash).where(c.recorded_at < cutoff)
        if first_kept is not None:
            query = query.where(c.seq < first_kept)
        last = conn.execute(query.order_by(c.seq.desc()).limit(1)).first()
        removed = 0
        # The events go, their leaves stay in the tree: record below which
        # leaf nothing is left, so a verify can tell a prune from a deletion.
        through_leaf = tree.pruned_through(conn)
        if last is not None:
            newest_leaf = conn.execute(
                sa.select(sa.func.max(c.leaf_index)).where(c.seq <= last.seq)
            ).scalar()
            if newest_leaf is not None:
                through_leaf = max(through_leaf, newest_leaf + 1)
            removed = conn.execute(
                consent_events.delete().where(c.seq <= last.seq)
            ).rowcount
        anchor = (
            last
            or conn.execute(
                sa.select(log_prunes.c.through_seq, log_prunes.c.through_hash)
                .order_by(log_prunes.c.id.desc())
                .limit(1)
            ).first()
        )
        conn.execute(
            log_prunes.insert().values(
                pruned_at=now,
                older_than_days=older_than_days,
                rows_removed=removed,
                through_seq=anchor[0] if anchor else 0,
                through_hash=anchor[1] if anchor else GENESIS_HASH,
                through_leaf=through_leaf,
            )
        )
    return removed


# Built once: SQLAlchemy then keys its compiled-statement cache on the same
# object every time, instead of building and hashing a new select per call.
_LATEST_EVENT = (
    sa.select(consent_events.c.event_id, consent_events.c.recorded_at)
    .where(consent_events.c.consent_id == sa.bindparam("consent_id"))
    .order_by(consent_events.c.seq.desc())
    .limit(1)
)
_RAW_LATEST_EVENT = raw.Statement(_LATEST_EVENT)


def latest_event(conn: Connection, consent_id: str) -> dict[str, Any] | None:
    """The ``event_id`` and ``recorded_at`` of one consent id's newest logged
    event, or None if it has none: one lookup in the consent id's index."""
    rows = _RAW_LATEST_EVENT.read(conn, {"consent_id": consent_id})
    if not rows:
        return None
    return {"event_id": rows[0][0], "recorded_at": rows[0][1]}
