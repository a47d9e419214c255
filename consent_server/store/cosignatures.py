"""The witnesses' cosignatures the log keeps, and what their times tell.

A cosignature of tree size N at time T says that at T the witness had seen
the log's tree with N leaves and no larger one. So the events at leaf
indexes below N were in the log by T, and the events at N and after
joined it after the witness's first cosignature of N: an event there that
says it was recorded well before that is back-dated (or joined the tree
late, after the service stopped before integrating it: either way a thing
to explain, so :func:`dating_problems` names it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.cosignature import Witness, shown_time
from ..domain.note import Signature
from .schema import consent_events, log_cosignatures

# How far the service's clock and the witness's may disagree, and how long
# an event may wait to join the tree, before a time is called wrong.
CLOCK_SLACK = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Cosigned:
    """A witness's cosignatures of one tree size."""

    tree_size: int
    witness: str  # NAME+KEYID
    first_time: int
    last_time: int
    line: str


def keep(
    conn: Connection, tree_size: int, witness: Witness, when: int, line: Signature
) -> None:
    """Keep one cosignature (within the caller's transaction)."""
    c = log_cosignatures.c
    found = conn.execute(
        sa.select(c.first_time, c.last_time).where(
            c.tree_size == tree_size, c.witness == witness.id
        )
    ).first()
    now = dt.datetime.now(dt.UTC)
    if found is None:
        conn.execute(
            log_cosignatures.insert().values(
                tree_size=tree_size,
                witness=witness.id,
                first_time=when,
                last_time=when,
                line=line.line,
                received_at=now,
            )
        )
        return
    first, last = min(found.first_time, when), max(found.last_time, when)
    values: dict[str, object] = {"first_time": first, "last_time": last}
    if when >= found.last_time:
        values.update(line=line.line, received_at=now)
    conn.execute(
        log_cosignatures.update()
        .where(c.tree_size == tree_size, c.witness == witness.id)
        .values(**values)
    )


def of_size(conn: Connection, tree_size: int, witnesses: list[str]) -> list[Cosigned]:
    """The cosignatures of one tree size by the witnesses named (their ids)."""
    c = log_cosignatures.c
    rows = conn.execute(
        sa.select(log_cosignatures)
        .where(c.tree_size == tree_size, c.witness.in_(witnesses))
        .order_by(c.witness)
    )
    return [_cosigned(r) for r in rows]


def largest_covering(
    conn: Connection, leaf_index: int, witnesses: list[str]
) -> int | None:
    """The largest tree size that holds ``leaf_index`` and that one of the
    witnesses named (their ids) cosigned, if any."""
    c = log_cosignatures.c
    size = conn.execute(
        sa.select(sa.func.max(c.tree_size)).where(
            c.tree_size > leaf_index, c.witness.in_(witnesses)
        )
    ).scalar()
    return int(size) if size is not None else None


def every(conn: Connection) -> list[Cosigned]:
    """Every kept cosignature, smallest tree first."""
    c = log_cosignatures.c
    rows = conn.execute(sa.select(log_cosignatures).order_by(c.tree_size, c.witness))
    return [_cosigned(r) for r in rows]


def _cosigned(row: sa.Row[tuple[object, ...]]) -> Cosigned:
    m = row._mapping
    return Cosigned(
        int(m["tree_size"]),
        str(m["witness"]),
        int(m["first_time"]),
        int(m["last_time"]),
        str(m["line"]),
    )


def _moment(timestamp: int) -> dt.datetime:
    # The endpoint keeps no time past the clock's slack; an older row's
    # could be anything, and is held to what a date can be.
    try:
        return dt.datetime.fromtimestamp(timestamp, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return dt.datetime.max.replace(tzinfo=dt.UTC) - 2 * CLOCK_SLACK


def dating_problems(conn: Connection, limit: int = 10) -> list[str]:
    """Events whose recorded time the witnesses' times contradict, in words:
    recorded after a witness saw them in the tree (impossible), or recorded
    well before the last time a witness saw the tree without them
    (back-dated, or joined the tree late).

    Each leaf is held to the strongest bound: the earliest time a tree that
    holds it was seen, the latest time one without it was. The leaves fall
    into ranges between cosigned sizes, each read once through the leaf
    index: the cost grows with the log, not with the log times the
    cosignatures.
    """
    seen: dict[int, tuple[int, int, str]] = {}  # size: earliest, latest, by whom
    for found in every(conn):
        name = found.witness.rsplit("+", 1)[0]
        first, last, who = seen.get(found.tree_size, (found.first_time, 0, name))
        seen[found.tree_size] = (
            min(first, found.first_time),
            max(last, found.last_time),
            who if last >= found.last_time else name,
        )
    sizes = sorted(seen)
    problems: list[str] = []
    e = consent_events.c

    def check(low: int, high: int | None, where: Any, words: str) -> None:
        query = sa.select(sa.func.count(), sa.func.min(e.leaf_index)).where(
            e.leaf_index >= low, where
        )
        if high is not None:
            query = query.where(e.leaf_index < high)
        count, first_leaf = conn.execute(query).one()
        if count and len(problems) < limit:
            problems.append(words.format(count=count, leaf=first_leaf))

    # Joined after a witness last saw the tree without them.
    latest, by = 0, ""
    for n, size in enumerate(sizes):
        _, last, who = seen[size]
        if last > latest:
            latest, by = last, who
        at = _moment(latest)
        check(
            size,
            sizes[n + 1] if n + 1 < len(sizes) else None,
            e.recorded_at < at - CLOCK_SLACK,
            f"BACK-DATED: {{count}} events joined the tree after witness {by} saw"
            f" it without them at {shown_time(latest)}, but say they were"
            " recorded before, the first at leaf {leaf} (or they joined the tree"
            " late, after the service stopped)",
        )
    # In a tree a witness saw before the time they say they were recorded.
    earliest, by = None, ""
    for n in range(len(sizes) - 1, -1, -1):
        first, _, who = seen[sizes[n]]
        if earliest is None or first < earliest:
            earliest, by = first, who
        at = _moment(earliest)
        check(
            sizes[n - 1] if n else 0,
            sizes[n],
            e.recorded_at > at + CLOCK_SLACK,
            f"DATED LATER: {{count}} events in the tree that witness {by} saw at"
            f" {shown_time(earliest)} say they were recorded after it, the"
            " first at leaf {leaf}",
        )
    return problems
