import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa

from consent_server.domain import chain as log_chain
from consent_server.store import log as store_log
from consent_server.store.schema import consent_events, log_head, log_prunes
from tests.helpers import events, fill_log, new_event


def record(consent, n):
    for _ in range(n):
        assert consent.post().status_code == 201


def chain(engine):
    with engine.connect() as conn:
        return store_log.verify_chain(conn)


def test_untouched_log_verifies(consent, engine):
    record(consent, 5)
    assert chain(engine) == log_chain.ChainReport(ok=True, events=5, first_bad_seq=None)


def test_empty_log_verifies(engine):
    assert chain(engine) == log_chain.ChainReport(ok=True, events=0, first_bad_seq=None)


def test_rows_are_chained_in_order(consent, engine):
    record(consent, 3)
    rows = events(engine)
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert rows[0]["prev_hash"] == "0" * 64
    assert rows[1]["prev_hash"] == rows[0]["hash"]
    assert rows[2]["prev_hash"] == rows[1]["hash"]


@pytest.mark.parametrize(
    ("column", "value"),
    (
        ("analytics", False),
        ("advertising", True),
        ("method", "accept_all"),
        ("ip", "198.51.100.0"),
        ("consent_id", "someone-else"),
    ),
)
def test_edited_row_is_named(consent, engine, column, value):
    record(consent, 5)
    with engine.begin() as conn:
        conn.execute(
            consent_events.update()
            .where(consent_events.c.seq == 3)
            .values({column: value})
        )
    report = chain(engine)
    assert (report.ok, report.first_bad_seq) == (False, 3)


def test_edit_with_recomputed_hash_breaks_the_next_row(consent, engine):
    record(consent, 5)
    row = events(engine)[2]
    row["analytics"] = False
    with engine.begin() as conn:
        conn.execute(
            consent_events.update()
            .where(consent_events.c.seq == 3)
            .values(analytics=False, hash=log_chain.row_hash(row))
        )
    assert chain(engine).first_bad_seq == 4


@pytest.mark.parametrize(("deleted", "first_bad"), ((1, 1), (3, 3), (5, 5)))
def test_deleted_row_is_named(consent, engine, deleted, first_bad):
    record(consent, 5)
    with engine.begin() as conn:
        conn.execute(consent_events.delete().where(consent_events.c.seq == deleted))
    report = chain(engine)
    assert (report.ok, report.first_bad_seq) == (False, first_bad)


def test_inserted_row_is_named(consent, engine):
    record(consent, 4)
    forged = dict(events(engine)[-1])
    forged.update(
        seq=5,
        event_id="forged",
        prev_hash=forged["hash"],
        analytics=True,
        leaf_index=None,
    )
    forged["hash"] = log_chain.row_hash(forged)
    with engine.begin() as conn:
        conn.execute(consent_events.insert().values(**forged))
    report = chain(engine)
    assert (report.ok, report.first_bad_seq) == (False, 5)


def test_row_inserted_in_a_gap_is_named(consent, engine):
    record(consent, 3)
    forged = dict(events(engine)[-1])
    forged.update(seq=10, event_id="forged-gap", leaf_index=None)
    with engine.begin() as conn:
        conn.execute(consent_events.insert().values(**forged))
    assert chain(engine).first_bad_seq == 10


def test_prune_removes_old_rows_and_the_rest_still_verifies(consent, engine):
    record(consent, 4)
    second = events(engine)[1]["recorded_at"]
    # Thirty days after the second row, only the first two are older than that.
    later = second + dt.timedelta(days=30, microseconds=1)
    with engine.connect() as conn:
        assert store_log.prune(conn, 30, now=later) == 2
    assert [r["seq"] for r in events(engine)] == [3, 4]
    assert chain(engine) == log_chain.ChainReport(ok=True, events=2, first_bad_seq=None)
    record(consent, 1)
    assert chain(engine) == log_chain.ChainReport(ok=True, events=3, first_bad_seq=None)


def test_rows_put_back_after_a_prune_are_named(consent, engine):
    record(consent, 3)
    first = events(engine)[0]
    with engine.connect() as conn:
        store_log.prune(
            conn, 1, now=first["recorded_at"] + dt.timedelta(days=1, microseconds=1)
        )
    with engine.begin() as conn:
        conn.execute(consent_events.insert().values(**first))
    assert chain(engine).first_bad_seq == 1


def test_prune_with_nothing_old_removes_nothing(consent, engine):
    record(consent, 2)
    with engine.connect() as conn:
        assert store_log.prune(conn, 30) == 0
    assert chain(engine).ok
    record(consent, 1)
    assert chain(engine).events == 3


def test_concurrent_appends_keep_one_unbroken_chain(app, consent, engine):
    errors = []

    def worker():
        client = app.test_client()
        for _ in range(10):
            response = client.post(
                "/v1/consent",
                json=consent.body(),
                headers={"Origin": "http://127.0.0.1:8000"},
            )
            if response.status_code != 201:
                errors.append(response.get_data(as_text=True))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [r["seq"] for r in events(engine)] == list(range(1, 61))
    assert chain(engine) == log_chain.ChainReport(
        ok=True, events=60, first_bad_seq=None
    )
    with engine.connect() as conn:
        assert conn.execute(sa.select(log_head.c.seq)).scalar() == 60


def test_verify_under_live_traffic_raises_no_false_alarm(app, consent, engine):
    stop = threading.Event()

    def arrive():
        client = app.test_client()
        while not stop.is_set():
            client.post(
                "/v1/consent",
                json=consent.body(),
                headers={"Origin": "http://127.0.0.1:8000"},
            )

    writers = [threading.Thread(target=arrive) for _ in range(2)]
    for t in writers:
        t.start()
    reports = []
    try:
        # Verify again and again while at least twenty more consents arrive.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            len(reports) < 20 or reports[-1].events < reports[0].events + 20
        ):
            reports.append(chain(engine))
    finally:
        stop.set()
        for t in writers:
            t.join()
    assert [r for r in reports if not r.ok] == []
    assert reports[-1].events >= reports[0].events + 20


def test_verify_while_pruning_raises_no_false_alarm(consent, engine):
    record(consent, 30)
    rows = events(engine)
    stop = threading.Event()

    def prune_one_by_one():
        for row in rows[:20]:
            if stop.is_set():
                return
            with engine.connect() as conn:
                store_log.prune(
                    conn,
                    1,
                    now=row["recorded_at"] + dt.timedelta(days=1, microseconds=1),
                )

    pruner = threading.Thread(target=prune_one_by_one)
    pruner.start()
    try:
        reports = [chain(engine) for _ in range(30)]
    finally:
        stop.set()
        pruner.join()
    assert [r for r in reports if not r.ok] == []


def test_prune_stops_at_the_first_row_recorded_after_the_cut_off(runner, engine):
    now = dt.datetime.now(dt.UTC)
    old, today = now - dt.timedelta(days=60), now - dt.timedelta(hours=1)
    fill_log(engine, 5, start=old)  # 1-5: old
    fill_log(engine, 1, start=today)  # 6: today
    fill_log(engine, 1, start=old)  # 7: from a server whose clock is slow
    fill_log(engine, 3, start=today)  # 8-10: today
    result = runner.invoke(args=["prune", "--older-than", "30"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.output == "Removed 5 events older than 30 days.\n"
    assert [r["seq"] for r in events(engine)] == [6, 7, 8, 9, 10]
    with engine.connect() as conn:
        assert conn.execute(sa.select(log_prunes.c.through_seq)).scalar() == 5
    assert chain(engine) == log_chain.ChainReport(ok=True, events=5, first_bad_seq=None)
    checked = runner.invoke(args=["verify-log"])
    assert checked.exit_code == 0, checked.output
    # The pruned events' leaves stay in the tree.
    assert checked.output.startswith(
        "ok: 5 events, hash chain intact\nok: Merkle tree of 10 leaves, root "
    )
    # Pruning again removes nothing more: row 6 still blocks the way.
    assert runner.invoke(args=["prune", "--older-than", "30"]).output.startswith(
        "Removed 0 events"
    )
    assert [r["seq"] for r in events(engine)] == [6, 7, 8, 9, 10]


def test_prune_of_an_all_old_log_removes_every_row(runner, engine):
    fill_log(engine, 4, start=dt.datetime.now(dt.UTC) - dt.timedelta(days=60))
    assert runner.invoke(args=["prune", "--older-than", "30"]).output.startswith(
        "Removed 4 events"
    )
    assert events(engine) == []
    assert chain(engine).ok


# A row as the log stored it before events recorded what they continue, and the
# hash that code gave it: the hash is a stored format, so it must never change.
OLD_ROW = {
    "seq": 7,
    "event_id": "00000000-0000-0000-0000-000000000007",
    "consent_id": "00000000-0000-0000-0000-0000000000c1",
    "site": "demo",
    "consent_revision": 1,
    "config_revision": 2,
    "authentication": True,
    "security": True,
    "preferences": False,
    "analytics": True,
    "advertising": False,
    "method": "custom",
    "gpc": False,
    "language": "de",
    "texts_hash": "a" * 64,
    "origin": "https://shop.example",
    "path": "/kasse",
    "ip": "203.0.113.0",
    "user_agent": "Mozilla/5.0 (Ä)",
    "recorded_at": dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC),
    "prev_hash": "b" * 64,
}
OLD_HASH = "84fbc3029b56f5dafa55b271fe97cb44306f85d0a57f61993820167015ce212e"


def test_a_row_from_before_continues_hashes_as_it_did():
    assert log_chain.row_hash(OLD_ROW) == OLD_HASH
    # Read back from the upgraded table, where the new column is NULL.
    assert log_chain.row_hash({**OLD_ROW, "continues": None}) == OLD_HASH


def test_what_an_event_continues_is_in_its_hash():
    continued = {**OLD_ROW, "continues": "00000000-0000-0000-0000-000000000006"}
    other = {**OLD_ROW, "continues": "00000000-0000-0000-0000-000000000005"}
    assert len({log_chain.row_hash(r) for r in (OLD_ROW, continued, other)}) == 3


@pytest.mark.parametrize(
    "user_agent",
    (
        "Mozilla/5.0 (X11; Linux x86_64)",
        'a "quoted" agent',
        "back\\slash",
        "Mozilla/5.0 (Ä) 日本",
        "tab\there\x1b",
    ),
)
def test_an_appended_row_hashes_as_row_hash_writes(engine, user_agent):
    # Appends hash a row by a faster way where they can: the stored hash is
    # row_hash's, for a first choice and for one continuing a history.
    event = new_event(
        choices={"preferences": True, "analytics": False, "advertising": True},
        method="custom",
        user_agent=user_agent,
    )
    claim = log_chain.Claim("c-1", lambda event_id, recorded_at: True)
    with engine.connect() as conn:
        first = store_log.append(conn, event)
        second = store_log.append(conn, event, claim)
    assert second["continues"] == first["event_id"]
    for row in events(engine):
        assert row["hash"] == log_chain.row_hash(row)
    assert chain(engine).ok
