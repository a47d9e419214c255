"""Group commit: consents posted at the same time in one process are appended
in one transaction, each answered 201 only once its row is committed."""

import contextlib
import threading
import time

import pytest
import sqlalchemy as sa

from consent_server.store import log as store_log
from consent_server.store.engine import make_engine
from consent_server.store.schema import consent_events, log_head
from tests.conftest import ORIGIN
from tests.helpers import count_events, events, new_event

EVERYTHING = {"preferences": True, "analytics": True, "advertising": True}
NOTHING = {"preferences": False, "analytics": False, "advertising": False}
# Below the connection pool's size: each request holds a connection.
POSTS = 10


@contextlib.contextmanager
def head_held(engine):
    """Hold the log's write lock from another connection, as a commit in
    another process would, so that appends queue up behind it."""
    with engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(
            log_head.update().where(log_head.c.id == 1).values(seq=log_head.c.seq)
        )
        try:
            yield
        finally:
            transaction.rollback()


def wait_for(condition, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def chain_ok(engine):
    with engine.connect() as conn:
        return store_log.verify_chain(conn).ok


def head(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(log_head.c.seq, log_head.c.hash)).one()


class Posts:
    """Posts sent from threads at once, each answer kept with what another
    connection could read of its row the moment the answer arrived."""

    def __init__(self, app, engine, bodies):
        self.answers = [None] * len(bodies)
        self.seen = [None] * len(bodies)
        self._threads = [
            threading.Thread(target=self._post, args=(app, engine, i, body))
            for i, body in enumerate(bodies)
        ]

    def _post(self, app, engine, i, body):
        response = app.test_client().post(
            "/v1/consent", json=body, headers={"Origin": body.pop("_origin", ORIGIN)}
        )
        self.answers[i] = (response.status_code, response.get_json())
        if response.status_code == 201:
            with engine.connect() as conn:
                self.seen[i] = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(consent_events)
                    .where(consent_events.c.event_id == response.get_json()["event_id"])
                ).scalar()

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def join(self):
        for t in self._threads:
            t.join(timeout=60)
        return self


def queued_together(app, engine, bodies):
    """Post every body while the log is locked, so that all of them wait, then
    let the commits go; returns the answered posts and the commits' sizes."""
    writer = store_log.group_commit(engine)
    before = len(writer.batch_sizes)
    valid = sum(1 for b in bodies if "_origin" not in b)
    with head_held(engine):
        posts = Posts(app, engine, bodies).start()
        wait_for(lambda: writer.pending() == valid, "every post to be queued")
    posts.join()
    return posts, list(writer.batch_sizes)[before:]


def test_posts_at_once_are_one_or_few_commits_each_answered_once_committed(
    app, consent, engine
):
    posts, sizes = queued_together(
        app, engine, [consent.body(choices=EVERYTHING) for _ in range(POSTS)]
    )
    assert [status for status, _ in posts.answers] == [201] * POSTS
    # The first post was already committing when the others came: they all
    # went in the next commit.
    assert sum(sizes) == POSTS
    assert len(sizes) <= 2
    # Each answer came after its row was committed: another connection saw it.
    assert posts.seen == [1] * POSTS
    rows = events(engine)
    assert len(rows) == POSTS
    assert {r["event_id"] for r in rows} == {a["event_id"] for _, a in posts.answers}
    assert [r["seq"] for r in rows] == list(range(1, POSTS + 1))
    assert chain_ok(engine)


def test_many_posts_unsynchronised_each_get_their_row(app, consent, engine):
    # No lock held: however the posts fall into commits, every 201 is a row.
    posts = Posts(app, engine, [consent.body() for _ in range(3 * POSTS)])
    posts.start().join()
    assert [status for status, _ in posts.answers] == [201] * (3 * POSTS)
    assert posts.seen == [1] * (3 * POSTS)
    assert count_events(engine) == 3 * POSTS
    assert sum(store_log.group_commit(engine).batch_sizes) == 3 * POSTS
    assert chain_ok(engine)


def an_event(consent_id):
    return new_event(consent_id=consent_id, origin=ORIGIN, user_agent="a browser")


def test_a_commit_never_waits_for_a_connection_held_by_an_append_it_holds(
    engine, database_url
):
    # A pool of one, taken by a request that then waits for the commit: were
    # the commit to wait for that pool, both would wait until its timeout.
    small = make_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=5)
    writer = store_log.group_commit(small)
    rows = {}
    holding, go = threading.Event(), threading.Event()

    def append(name):
        try:
            rows[name] = writer.append(an_event(name))
        except Exception as exc:  # noqa: BLE001 (the test reports it)
            rows[name] = exc

    def hold_then_append(name):
        with small.connect():
            holding.set()
            go.wait(10)
            append(name)

    first = threading.Thread(target=append, args=("c-first",))
    second = threading.Thread(target=hold_then_append, args=("c-second",))
    try:
        with head_held(engine):
            second.start()
            assert holding.wait(10)
            first.start()
            wait_for(lambda: writer.pending() == 1, "the first append")
            go.set()
            wait_for(lambda: writer.pending() == 2, "the second append")
        first.join(timeout=30)
        second.join(timeout=30)
    finally:
        small.dispose()
    assert {name: type(row) for name, row in rows.items()} == {
        "c-first": dict,
        "c-second": dict,
    }
    assert count_events(engine) == 2
    assert chain_ok(engine)


def test_disposing_of_an_engine_closes_its_writers_connection(engine, database_url):
    made = make_engine(database_url)
    writer = store_log.group_commit(made)
    writer.append(an_event("c-1"))
    pool = writer.commit_engine().pool
    assert pool.checkedin() == 1
    made.dispose()
    assert pool.checkedin() == 0
    assert count_events(engine) == 1


def test_an_engine_disposed_of_during_a_commit_leaves_no_connection_open(
    engine, database_url
):
    made = make_engine(database_url)
    writer = store_log.group_commit(made)
    pool = writer.commit_engine().pool
    done = {}
    with head_held(engine):
        during = threading.Thread(
            target=lambda: done.setdefault("row", writer.append(an_event("c-1")))
        )
        during.start()
        wait_for(lambda: writer.pending() == 1, "the commit to wait for the lock")
        made.dispose()
    during.join(timeout=30)
    assert "row" in done
    # The commit's connection went back to the pool disposed of meanwhile,
    # which closed it.
    assert pool.checkedin() == 0 and pool.checkedout() == 0
    writer.append(an_event("c-2"))
    made.dispose()
    assert count_events(engine) == 2


def test_a_bad_consent_does_not_fail_the_others_of_its_commit(app, consent, engine):
    bodies = [consent.body() for _ in range(POSTS)]
    for body in bodies[::3]:
        body["_origin"] = "https://elsewhere.example"
    posts, sizes = queued_together(app, engine, bodies)
    bad = len(bodies[::3])
    statuses = [status for status, _ in posts.answers]
    assert sorted(statuses) == [201] * (POSTS - bad) + [403] * bad
    assert sum(sizes) == POSTS - bad
    assert count_events(engine) == POSTS - bad
    assert chain_ok(engine)


def test_the_latest_token_continues_once_within_one_commit(app, consent, engine):
    first = consent.post(choices=EVERYTHING).get_json()
    bodies = [
        consent.body(previous=first["token"], method="reject_all", choices=NOTHING)
        for _ in range(POSTS)
    ]
    posts, sizes = queued_together(app, engine, bodies)
    assert [status for status, _ in posts.answers] == [201] * POSTS
    assert len(sizes) <= 2
    continued = [a for _, a in posts.answers if a["id"] == first["id"]]
    assert len(continued) == 1
    rows = {r["event_id"]: r for r in events(engine)}
    assert rows[continued[0]["event_id"]]["continues"] == first["event_id"]
    assert [r for r in rows.values() if r["continues"]] == [
        rows[continued[0]["event_id"]]
    ]
    # The one that continued could itself be continued by its own token.
    again = consent.post(previous=continued[0]["token"]).get_json()
    assert again["id"] == first["id"]
    assert chain_ok(engine)


@pytest.fixture
def failing_commits(engine):
    """Makes every append fail at its last statement, after its rows were
    written, as a database that breaks mid-commit would."""

    def fail(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE log_head SET hash"):
            raise sa.exc.OperationalError(statement, parameters, OSError("disk I/O"))

    commits = store_log.group_commit(engine).commit_engine()
    sa.event.listen(commits, "before_cursor_execute", fail)
    yield
    sa.event.remove(commits, "before_cursor_execute", fail)


def test_a_failing_commit_answers_503_to_all_its_posts_and_writes_nothing(
    app, consent, engine, request
):
    assert consent.post().status_code == 201
    before = head(engine)
    request.getfixturevalue("failing_commits")
    posts, sizes = queued_together(app, engine, [consent.body() for _ in range(POSTS)])
    assert sizes == []
    for status, answer in posts.answers:
        assert status == 503
        assert answer["error"]["code"] == "database_unavailable"
    assert count_events(engine) == 1
    assert head(engine) == before
    assert chain_ok(engine)


def test_after_a_failing_commit_the_next_posts_are_recorded(app, consent, engine):
    def fail(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE log_head SET hash"):
            raise sa.exc.OperationalError(statement, parameters, OSError("disk I/O"))

    commits = store_log.group_commit(engine).commit_engine()
    sa.event.listen(commits, "before_cursor_execute", fail)
    try:
        assert consent.post().status_code == 503
    finally:
        sa.event.remove(commits, "before_cursor_execute", fail)
    posts, _ = queued_together(app, engine, [consent.body() for _ in range(POSTS)])
    assert [status for status, _ in posts.answers] == [201] * POSTS
    assert count_events(engine) == POSTS
    assert chain_ok(engine)
