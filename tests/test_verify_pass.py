"""verify-log's one pass over the log says a log is whole exactly when the
full checks (the chain's walk and the tree's rebuild) do, and otherwise
leaves the verdict to them."""

import datetime as dt

import pytest
import sqlalchemy as sa

from consent_server.domain import chain
from consent_server.store import erasure, tree, verify
from consent_server.store import log as store_log
from consent_server.store.schema import (
    consent_events,
    log_erasures,
    log_head,
    tree_nodes,
)
from tests.helpers import events, fill_log

c = consent_events.c
n = tree_nodes.c


def full(engine, sizes=()):
    with engine.connect() as conn:
        return store_log.verify_chain(conn), tree.verify_tree(conn, sizes)


def one_pass(engine, sizes=()):
    with engine.connect() as conn:
        return verify._one_pass(conn, sizes)


def edit(engine, at, **values):
    with engine.begin() as conn:
        conn.execute(consent_events.update().where(c.seq == at).values(**values))


def prune(engine, seq):
    row = events(engine)[seq - 1]
    with engine.connect() as conn:
        store_log.prune(
            conn, 1, now=row["recorded_at"] + dt.timedelta(days=1, microseconds=1)
        )


def erase(engine, seq):
    (row,) = [r for r in events(engine) if r["seq"] == seq]
    with engine.connect() as conn:
        erasure.erase(conn, row["consent_id"])


def awkward(engine):
    # Rows the database cannot write as JSON unescaped, a scan event and a
    # continued one: read the typed way inside the pass.
    rows = events(engine)
    made = []
    prev = rows[-1]["hash"]
    for i, text in enumerate(['"', "\\", "\x01\n", "é中🙂", "a\x1fb"]):
        row = dict(rows[-1])
        row.update(
            seq=rows[-1]["seq"] + 1 + i,
            event_id=f"awkward-{i}",
            user_agent=text,
            continues=rows[0]["event_id"] if i % 2 else None,
            scan=True if i == 3 else None,
            prev_hash=prev,
        )
        row["hash"] = prev = chain.row_hash(row)
        made.append(row)
    with engine.begin() as conn:
        size, edge = tree.integrate(conn, len(rows), made)
        conn.execute(consent_events.insert(), made)
        conn.execute(
            log_head.update().values(
                seq=made[-1]["seq"], hash=prev, tree_size=size, tree_edge=edge
            )
        )


def node(engine, level, position, value=None):
    # Change one stored node (None: delete it).
    where = (n.level == level) & (n.position == position)
    with engine.begin() as conn:
        if value is None:
            conn.execute(tree_nodes.delete().where(where))
        else:
            conn.execute(tree_nodes.update().where(where).values(hash=value))


def add_node(engine, level, position):
    with engine.begin() as conn:
        conn.execute(
            tree_nodes.insert().values(level=level, position=position, hash=b"x" * 32)
        )


def recomputed(engine):
    row = events(engine)[4]
    row["analytics"] = not row["analytics"]
    edit(engine, 5, analytics=row["analytics"], hash=chain.row_hash(row))


def put_back(engine):
    first = events(engine)[0]
    prune(engine, 3)
    with engine.begin() as conn:
        conn.execute(consent_events.insert().values(**first))


def stray(engine):
    forged = dict(events(engine)[-1])
    forged.update(seq=forged["seq"] + 1, event_id="forged", leaf_index=None)
    forged["prev_hash"] = forged["hash"]
    forged["hash"] = chain.row_hash(forged)
    with engine.begin() as conn:
        conn.execute(consent_events.insert().values(**forged))
        conn.execute(log_head.update().values(seq=forged["seq"], hash=forged["hash"]))


def swapped_leaves(engine):
    # Two events' leaves swapped, the tree made again over the new order:
    # consistent, but not in the order the pass reads.
    rows = events(engine)
    rows[2]["leaf_index"], rows[3]["leaf_index"] = 3, 2
    with engine.begin() as conn:
        conn.execute(tree_nodes.delete())
        ordered = sorted(rows, key=lambda r: r["leaf_index"])
        nodes = merkle_nodes(ordered)
        conn.execute(tree_nodes.insert(), nodes)
        for row in rows[2:4]:
            conn.execute(
                consent_events.update()
                .where(c.seq == row["seq"])
                .values(leaf_index=-1 - row["leaf_index"])
            )
        for row in rows[2:4]:
            conn.execute(
                consent_events.update()
                .where(c.seq == row["seq"])
                .values(leaf_index=row["leaf_index"])
            )
        conn.execute(log_head.update().values(tree_edge=None))


def merkle_nodes(rows):
    from consent_server.domain import merkle

    store = merkle.MemoryStore()
    store.append([tree.leaf_of(r) for r in rows])
    return [
        {"level": level, "position": position, "hash": value}
        for (level, position), value in store.nodes.items()
    ]


def partly_erased(engine):
    row = events(engine)[3]
    with engine.begin() as conn:
        conn.execute(
            log_erasures.insert().values(
                seq=10_000,
                leaf_index=None,
                prev_hash=row["prev_hash"],
                hash=row["hash"],
                consent_hash=erasure.consent_hash(row["consent_id"]),
                erased_at=row["recorded_at"],
            )
        )


CHANGES = {
    "untouched": lambda e: None,
    "pruned": lambda e: prune(e, 4),
    "erased": lambda e: erase(e, 7),
    "pruned and erased": lambda e: (prune(e, 2), erase(e, 12)),
    "the last visitor erased": lambda e: erase(e, 20),
    "awkward rows": awkward,
    "a field changed": lambda e: edit(e, 3, analytics=False),
    "a config hash changed": lambda e: edit(e, 4, config_hash="c" * 64),
    "a config hash taken off": lambda e: edit(e, 6, config_hash=None),
    "a config hash added": lambda e: edit(e, 7, config_hash="b" * 64),
    "a config hash not hex": lambda e: edit(e, 8, config_hash='"' + "b" * 63),
    "a field changed, its hash made again": recomputed,
    "the first row deleted": lambda e: edit(e, 1, seq=1000),
    "a row deleted": lambda e: edit(e, 9, seq=1000, leaf_index=1000),
    "the last row deleted": lambda e: edit(e, 20, seq=1000, leaf_index=1000),
    "a row added behind the log's back": stray,
    "a pruned row put back": put_back,
    "the head moved back": lambda e: engine_do(
        e, log_head.update().values(seq=log_head.c.seq - 1)
    ),
    "the head's hash changed": lambda e: engine_do(
        e, log_head.update().values(hash="0" * 64)
    ),
    "the tree's size changed": lambda e: engine_do(
        e, log_head.update().values(tree_size=log_head.c.tree_size - 1)
    ),
    "a leaf changed": lambda e: node(e, 0, 5, b"\x00" * 32),
    "a leaf deleted": lambda e: node(e, 0, 5),
    "an inner node changed": lambda e: node(e, 1, 1, b"\x00" * 32),
    "an inner node cut short": lambda e: node(e, 2, 0, b"\x00" * 31),
    "an inner node deleted": lambda e: node(e, 1, 1),
    "an inner node added": lambda e: add_node(e, 1, 50),
    "a node added above the tree": lambda e: add_node(e, 9, 0),
    "a leaf added": lambda e: add_node(e, 0, 20),
    "two leaves swapped": swapped_leaves,
    "an erasure recorded by hand": partly_erased,
}


def engine_do(engine, statement):
    with engine.begin() as conn:
        conn.execute(statement)


@pytest.mark.parametrize("change", CHANGES)
def test_the_one_pass_agrees_with_the_full_checks(engine, change):
    fill_log(engine, 20)
    CHANGES[change](engine)
    sizes = [0, 1, 5, 8, 13, 20, 21]
    chain_report, tree_report = full(engine, sizes)
    if chain_report.ok and tree_report.ok and change != "two leaves swapped":
        assert one_pass(engine, sizes) == (chain_report, tree_report)
    else:
        with pytest.raises(verify._Unsure):
            one_pass(engine, sizes)
    with engine.connect() as conn:
        assert verify.verify_log(conn, sizes) == (chain_report, tree_report)


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4097, 8193])
def test_the_one_pass_over_logs_of_every_shape(engine, count):
    # Batches of the pass and of the tree's levels end anywhere.
    fill_log(engine, count)
    sizes = range(count + 2)
    chain_report, tree_report = full(engine, sizes)
    assert chain_report.ok and tree_report.ok
    assert one_pass(engine, sizes) == (chain_report, tree_report)


def test_a_long_pruned_start_and_erased_rows_at_batch_edges(engine):
    fill_log(engine, 9000)
    prune(engine, 5000)
    for seq in (6144, 8191, 9000):
        erase(engine, seq)
    chain_report, tree_report = full(engine, [4096, 8192, 9000])
    assert chain_report.ok and tree_report.ok
    assert one_pass(engine, [4096, 8192, 9000]) == (chain_report, tree_report)


@pytest.mark.parametrize("changed", [{"config_hash": "c" * 64}, {"config_hash": None}])
def test_a_changed_config_hash_breaks_the_tree(engine, changed):
    # Event 4 records the config document it was shown: rewriting which
    # one, or taking it off, changes its leaf.
    fill_log(engine, 20)
    assert events(engine)[3]["config_hash"] is not None
    edit(engine, 4, **changed)
    with engine.connect() as conn:
        chain_report, tree_report = verify.verify_log(conn)
    assert chain_report.ok  # the older chain does not cover it
    assert not tree_report.ok


# SQLite only: PostgreSQL's text holds no NUL and its VARCHAR no bytes.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "field", ["user_agent", "path", "texts_hash", "continues", "config_hash"]
)
def test_a_nul_and_more_after_a_value_is_a_changed_row(engine, field):
    # SQLite's printf, length() and GLOB stop at a NUL: "value\0more" must
    # not pass for "value" in either check.
    fill_log(engine, 20)
    row = events(engine)[3]
    value = row[field] if row[field] is not None else "b" * 60
    if field == "config_hash":
        value = value[:60]  # 64 characters with the NUL and what follows
    edit(engine, 4, **{field: value + "\x00abc"})
    chain_report, tree_report = full(engine)
    assert not (chain_report.ok and tree_report.ok)
    with engine.connect() as conn:
        assert verify.verify_log(conn) == (chain_report, tree_report)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_blob_where_text_belongs_is_a_changed_row_not_a_crash(engine):
    fill_log(engine, 5)
    edit(engine, 2, config_hash=b"\x01" * 64)
    with engine.connect() as conn:
        chain_report, tree_report = verify.verify_log(conn)
    assert not tree_report.ok
    assert "does not hash to its leaf" in tree_report.problem


# What only SQLite's loose typing can hold: numbers of another kind, text
# where bytes belong, a time that does not exist.
SQLITE_SHAPES = {
    "a node at a position of 0.5": "UPDATE tree_nodes SET position = 0.5"
    " WHERE level = 1 AND position = 1",
    "a node at level 1.5": "INSERT INTO tree_nodes (level, position, hash)"
    f" VALUES (1.5, 0, x'{'01' * 32}')",
    "a leaf at a position of 2.5": "UPDATE tree_nodes SET position = 2.5"
    " WHERE level = 0 AND position = 3",
    "a node's hash as 32 characters": "UPDATE tree_nodes SET hash = '"
    + "a" * 32
    + "' WHERE level = 1 AND position = 1",
    "bytes for a user agent": "UPDATE consent_events SET user_agent = x'6162'"
    " WHERE seq = 2",
    "a recorded time at second 60": "UPDATE consent_events SET recorded_at ="
    " substr(recorded_at, 1, 17) || '60' || substr(recorded_at, 20) WHERE seq = 2",
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("shape", SQLITE_SHAPES)
def test_odd_sqlite_values_are_named_not_passed_or_crashed_on(engine, shape):
    fill_log(engine, 20)
    engine_do(engine, sa.text(SQLITE_SHAPES[shape]))
    chain_report, tree_report = full(engine, [20])
    assert not (chain_report.ok and tree_report.ok)
    with pytest.raises(verify._Unsure):
        one_pass(engine, [20])
    with engine.connect() as conn:
        assert verify.verify_log(conn, [20]) == (chain_report, tree_report)
