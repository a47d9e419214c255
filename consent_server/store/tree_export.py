"""The NDJSON export with the Merkle tree in it: each event's entry, leaf
index and leaf hash, the leaves of pruned and erased events, and an end line
with the tree's size and root.

From such an export anyone can rebuild the tree: hash each ``entry``
(SHA-256 of 0x00 and its canonical JSON) and check it against ``leaf_hash``,
then fold the leaf hashes in ``leaf_index`` order into the root the end line
states, and compare that with a signed checkpoint of the same size.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.chain import GENESIS_HASH
from ..domain.entry import FIELDS_V1, FIELDS_V2, version_of
from ..domain.export import EXPORT_FIELDS
from . import tree
from .events import EventFilter, raw_columns, raw_rows
from .schema import consent_events, tree_nodes

_EXTRA = (
    consent_events.c.leaf_index,
    sa.type_coerce(consent_events.c.scan, sa.types.NullType()).label("scan"),
    tree_nodes.c.hash.label("leaf_hash"),
    consent_events.c.config_hash,
)
_N = len(EXPORT_FIELDS)


def _b64(value: bytes) -> str:
    return base64.b64encode(bytes(value)).decode()


def _entry(shown: dict[str, Any], scan: Any) -> dict[str, Any]:
    version = version_of(shown)
    entry: dict[str, Any] = {"v": version}
    for name in FIELDS_V2 if version == 2 else FIELDS_V1:
        entry[name] = shown.get(name)
    entry["scan"] = scan in (1, True)
    return entry


def records(
    conn: Connection, where: EventFilter | None = None
) -> Iterator[dict[str, Any]]:
    """The export's objects in leaf order, then ``{"end": {...}}``.

    The tree's size and root are read first, in the export's transaction:
    the export covers the events of that tree, and states it. An unfiltered
    export also holds a ``{"leaf_index", "leaf_hash"}`` line for each leaf
    whose event was pruned or erased, so its leaves are the whole tree.
    """
    where = where or EventFilter()
    whole = where == EventFilter()
    with conn.begin():
        size = tree.tree_size(conn)
        head = tree.root(conn, size)
        c = consent_events.c
        n = tree_nodes.c
        query = (
            where.select(*raw_columns(), *_EXTRA)
            .select_from(
                consent_events.join(
                    tree_nodes, sa.and_(n.level == 0, n.position == c.leaf_index)
                )
            )
            .where(c.leaf_index < size)
        )
        gone = _gone(conn, size) if whole else iter(())
        next_gone = next(gone, None)
        rows = 0
        last_hash = GENESIS_HASH
        for cells in raw_rows(conn, query):
            leaf_index = cells[_N]
            while next_gone is not None and next_gone[0] < leaf_index:
                yield {"leaf_index": next_gone[0], "leaf_hash": _b64(next_gone[1])}
                rows += 1
                next_gone = next(gone, None)
            shown = dict(zip(EXPORT_FIELDS, cells[:_N], strict=True))
            # As the audit API shows an event: the cookie scanner's, or not.
            shown["scan"] = cells[_N + 1] in (1, True)
            shown["config_hash"] = cells[_N + 3]
            shown["leaf_index"] = leaf_index
            shown["leaf_hash"] = _b64(cells[_N + 2])
            shown["entry"] = _entry(shown, cells[_N + 1])
            last_hash = shown["hash"]
            rows += 1
            yield shown
        while next_gone is not None:
            yield {"leaf_index": next_gone[0], "leaf_hash": _b64(next_gone[1])}
            rows += 1
            next_gone = next(gone, None)
    yield {
        "end": {
            "rows": rows,
            "hash": last_hash,
            "tree_size": size,
            "root": _b64(head),
        }
    }


def _gone(conn: Connection, size: int) -> Iterator[tuple[int, bytes]]:
    # The leaves below `size` with no event: pruned or erased. Few, or a
    # prefix (prune): read them all at once.
    n = tree_nodes.c
    c = consent_events.c
    kept = sa.select(c.leaf_index).where(c.leaf_index == n.position).exists()
    found = conn.execute(
        sa.select(n.position, n.hash)
        .where(n.level == 0, n.position < size, ~kept)
        .order_by(n.position)
    ).all()
    for position, value in found:
        yield position, bytes(value)


def tree_facts() -> tuple[dict[str, Any], Callable[[Connection], int]]:
    """For the CSV export: a dict the end line takes its ``tree_size`` and
    ``root`` from, and the function that fills it in the export's own
    transaction (``events.iter_csv_rows(..., on_start=...)``)."""
    facts: dict[str, Any] = {}

    def start(conn: Connection) -> int:
        size = tree.tree_size(conn)
        facts["tree_size"] = size
        facts["root"] = _b64(tree.root(conn, size))
        return size

    return facts, start
