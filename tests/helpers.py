import datetime as dt
import uuid

import sqlalchemy as sa

from consent_server.domain import chain
from consent_server.domain.site_config import document_hash
from consent_server.store import tree
from consent_server.store.schema import consent_events, log_head, site_revisions


def new_event(**changes):
    # A choice as recording hands it to the log (no config document hash,
    # as events were before it was kept), with any field changed.
    fields = {
        "consent_id": "c-1",
        "site": "demo",
        "consent_revision": 1,
        "config_revision": 1,
        "choices": {"preferences": False, "analytics": False, "advertising": False},
        "method": "reject_all",
        "gpc": False,
        "language": "en",
        "texts_hash": "a" * 64,
        "origin": "https://shop.example",
        "path": "/",
        "ip": "203.0.113.0",
        "user_agent": "Mozilla/5.0",
    }
    return chain.NewEvent(**{**fields, **changes})


def count_events(engine):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(consent_events)
        ).scalar()


def events(engine):
    # Only the columns the table has: an old database lacks the newer ones.
    present = {c["name"] for c in sa.inspect(engine).get_columns("consent_events")}
    columns = [c for c in consent_events.c if c.name in present]
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(*columns).order_by(consent_events.c.seq)
            ).mappings()
        ]


def fill_log(
    engine,
    count,
    *,
    start=None,
    step=dt.timedelta(seconds=1),
    sites=("demo",),
    chunk=5000,
):
    # Append `count` well-chained events straight into the log, much faster than
    # through the API; choices, methods and GPC follow a fixed pattern of seq.
    with engine.begin() as conn:
        seq, prev = conn.execute(sa.select(log_head.c.seq, log_head.c.hash)).one()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("consent_events")}
        # The document each site's revision 1 published, where one was (what
        # verify-log holds the events to); else a made-up hash.
        shown = {site: "b" * 64 for site in sites}
        if "config_hash" in columns:
            r = site_revisions.c
            for site, document in conn.execute(
                sa.select(r.site, r.document).where(r.site.in_(sites), r.revision == 1)
            ):
                shown[site] = document_hash(document)
    when = start or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    methods = ("accept_all", "reject_all", "custom", "withdraw")
    batch = []
    for i in range(count):
        seq += 1
        method = methods[seq % 4]
        row = {
            "seq": seq,
            "event_id": str(uuid.UUID(int=seq)),
            # About three events per visitor, as when people change their mind.
            "consent_id": str(uuid.UUID(int=(seq // 3) + (1 << 64))),
            "site": sites[seq % len(sites)],
            "consent_revision": 1,
            "config_revision": 1,
            "authentication": True,
            "security": True,
            "preferences": method == "accept_all"
            or (method == "custom" and seq % 2 == 0),
            "analytics": method in ("accept_all", "custom"),
            "advertising": method == "accept_all" and seq % 3 != 0,
            "method": method,
            "gpc": seq % 3 == 0,
            "language": "en",
            "texts_hash": "a" * 64,
            "origin": "https://shop.example",
            "path": f"/products/{seq % 50}",
            "ip": "203.0.113.0",
            "user_agent": "Mozilla/5.0 (fill_log)",
            "recorded_at": when + step * i,
            "prev_hash": prev,
        }
        row["hash"] = prev = chain.row_hash(row)
        if "config_hash" in columns:
            # Events recorded before the log kept the config document's
            # hash (version-1 entries) between those recorded since.
            row["config_hash"] = None if seq % 2 else shown[row["site"]]
        batch.append(row)
        if len(batch) == chunk or i == count - 1:
            with engine.begin() as conn:
                head = {"seq": seq, "hash": prev}
                if _has_tree(conn):
                    # Into the Merkle tree too, as appends do.
                    head["tree_size"], head["tree_edge"] = tree.integrate(
                        conn, tree.tree_size(conn), batch
                    )
                conn.execute(consent_events.insert(), batch)
                conn.execute(log_head.update().values(**head))
            batch = []
    return seq


def _has_tree(conn):
    # A database from before the Merkle tree (the upgrade tests) has none.
    return "tree_size" in {c["name"] for c in sa.inspect(conn).get_columns("log_head")}
