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

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.cosignature import Witness
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


def witness_id(witness: Witness) -> str:
    """How a witness's key is named in the table: its name and key id."""
    return f"{witness.name}+{witness.key_id.hex()}"


def keep(
    conn: Connection, tree_size: int, witness: Witness, when: int, line: Signature
) -> None:
    """Keep one cosignature (within the caller's transaction)."""
    c = log_cosignatures.c
    found = conn.execute(
        sa.select(c.first_time, c.last_time).where(
            c.tree_size == tree_size, c.witness == witness_id(witness)
        )
    ).first()
    now = dt.datetime.now(dt.UTC)
    if found is None:
        conn.execute(
            log_cosignatures.insert().values(
                tree_size=tree_size,
                witness=witness_id(witness),
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
        .where(c.tree_size == tree_size, c.witness == witness_id(witness))
        .values(**values)
    )


def of_size(conn: Connection, tree_size: int) -> list[Cosigned]:
    """The cosignatures of one tree size, by witness."""
    c = log_cosignatures.c
    rows = conn.execute(
        sa.select(log_cosignatures).where(c.tree_size == tree_size).order_by(c.witness)
    )
    return [_cosigned(r) for r in rows]


def largest_covering(conn: Connection, leaf_index: int) -> int | None:
    """The largest cosigned tree size that holds ``leaf_index``, if any."""
    c = log_cosignatures.c
    size = conn.execute(
        sa.select(sa.func.max(c.tree_size)).where(c.tree_size > leaf_index)
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


def dating_problems(conn: Connection, limit: int = 10) -> list[str]:
    """Events whose recorded time the witnesses' times contradict, in words:
    recorded after a witness saw them in the tree (impossible), or recorded
    well before a witness saw the tree without them (back-dated, or joined
    the tree late)."""
    problems: list[str] = []
    e = consent_events.c
    for found in every(conn):
        first = dt.datetime.fromtimestamp(found.first_time, dt.UTC)
        last = dt.datetime.fromtimestamp(found.last_time, dt.UTC)
        name = found.witness.rsplit("+", 1)[0]
        later = conn.execute(
            sa.select(sa.func.count(), sa.func.min(e.leaf_index)).where(
                e.leaf_index < found.tree_size,
                e.leaf_index >= 0,
                e.recorded_at > last + CLOCK_SLACK,
            )
        ).one()
        if later[0]:
            problems.append(
                f"DATED LATER: {later[0]} events in the tree that witness {name}"
                f" saw at {last:%Y-%m-%d %H:%M:%S} UTC ({found.tree_size} leaves)"
                f" say they were recorded after it, the first at leaf {later[1]}"
            )
        earlier = conn.execute(
            sa.select(sa.func.count(), sa.func.min(e.leaf_index)).where(
                e.leaf_index >= found.tree_size,
                e.recorded_at < first - CLOCK_SLACK,
            )
        ).one()
        if earlier[0]:
            problems.append(
                f"BACK-DATED: {earlier[0]} events joined the tree after witness"
                f" {name} saw it with {found.tree_size} leaves at"
                f" {first:%Y-%m-%d %H:%M:%S} UTC, but say they were recorded"
                f" before, the first at leaf {earlier[1]} (or they joined the"
                " tree late, after the service stopped)"
            )
        if len(problems) >= limit:
            break
    return problems[:limit]
