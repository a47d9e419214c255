"""The hot paths (the banner script, its 304, the config JSON, verify) answer
from each process's cached config, and a publish still reaches every process
within seconds."""

import os
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from consent_server.domain.demo_site import demo_config
from consent_server.domain.errors import UnknownSite
from consent_server.store import sites
from consent_server.store.engine import get_db

# A publish shows within the freshness window; this bounds the wait.
REACHES_WITHIN = 5.0

PUBLISH_ELSEWHERE = """
import sys
from consent_server.domain.demo_site import demo_config
from consent_server.store import engine, sites

made = engine.make_engine(sys.argv[1])
with made.connect() as conn:
    doc = {**demo_config(), "policy_url": sys.argv[2]}
    sites.publish(conn, doc, published_by="another server")
made.dispose()
"""


class Counter:
    """Statements run and connections checked out on one engine."""

    def __init__(self, engine):
        self.queries = []
        self.checkouts = 0
        sa.event.listen(engine, "before_cursor_execute", self._query)
        sa.event.listen(engine.pool, "checkout", self._checkout)

    def _query(self, _conn, _cursor, statement, *_args):
        self.queries.append(statement)

    def _checkout(self, *_args):
        self.checkouts += 1

    def reset(self):
        self.queries.clear()
        self.checkouts = 0


@pytest.fixture
def counter(engine):
    return Counter(engine)


def test_a_fresh_banner_its_304_and_the_config_need_no_database(client, counter):
    first = client.get("/s/demo/consent.js")
    assert first.status_code == 200
    assert client.get("/v1/sites/demo/config").status_code == 200
    counter.reset()

    again = client.get("/s/demo/consent.js")
    unchanged = client.get(
        "/s/demo/consent.js", headers={"If-None-Match": first.headers["ETag"]}
    )
    config = client.get("/v1/sites/demo/config")

    assert again.status_code == 200
    assert again.get_data() == first.get_data()
    assert unchanged.status_code == 304
    assert config.status_code == 200
    assert config.get_json()["site"] == "demo"
    assert counter.queries == []
    # Not even a connection is taken from the pool.
    assert counter.checkouts == 0


def test_verify_looks_up_only_the_visitors_latest_event(client, consent, counter):
    token = consent.post().get_json()["token"]
    client.get("/s/demo/consent.js")
    counter.reset()

    answer = consent.verify(token)

    assert answer.get_json()["valid"] is True
    assert len(counter.queries) == 1
    assert "consent_events" in counter.queries[0]


def test_a_publish_elsewhere_reaches_a_running_app_within_seconds(client, database_url):
    before = client.get("/s/demo/consent.js").get_data(as_text=True)
    policy = f"https://shop.example/privacy-{time.time_ns()}"
    assert policy not in before

    # Another server (here another process) publishes into the same database.
    subprocess.run(
        [sys.executable, "-c", PUBLISH_ELSEWHERE, database_url, policy],
        env=os.environ,
        check=True,
        timeout=60,
    )

    deadline = time.monotonic() + REACHES_WITHIN
    seen = {}
    while time.monotonic() < deadline:
        seen["script"] = client.get("/s/demo/consent.js").get_data(as_text=True)
        seen["config"] = client.get("/v1/sites/demo/config").get_json()["policy_url"]
        if policy in seen["script"] and seen["config"] == policy:
            break
        time.sleep(0.1)
    assert policy in seen["script"]
    assert seen["config"] == policy


def test_a_publish_in_this_process_shows_at_once(app, client):
    client.get("/s/demo/consent.js")
    policy = "https://shop.example/published-here"
    with app.app_context():
        sites.publish(
            get_db(), {**demo_config(), "policy_url": policy}, published_by="editor"
        )
    assert policy in client.get("/s/demo/consent.js").get_data(as_text=True)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_the_cache_asks_only_for_the_revision_number_once_a_window(app, counter):
    clock = Clock()
    cache = sites.ConfigCache(fresh_seconds=1.0, clock=clock)
    with app.app_context():
        first = cache.get(get_db, "demo")
        counter.reset()

        assert cache.get(get_db, "demo") is first
        assert counter.queries == []

        clock.now += 1.5
        assert cache.get(get_db, "demo") is first
        # Unchanged: one look at the newest revision number, not the document.
        assert len(counter.queries) == 1
        assert "document" not in counter.queries[0]

        sites.publish(get_db(), demo_config(), published_by="editor")
        assert cache.get(get_db, "demo").revision == first.revision + 1


def test_an_unknown_site_is_remembered_too(app, client, counter):
    assert client.get("/s/nosuchsite/consent.js").status_code == 404
    counter.reset()
    assert client.get("/s/nosuchsite/consent.js").status_code == 404
    assert client.get("/v1/sites/nosuchsite/config").status_code == 404
    assert counter.queries == []
    with app.app_context(), pytest.raises(UnknownSite):
        sites.ConfigCache().get(get_db, "not a site id")


def test_a_banner_checked_a_moment_ago_is_served_while_the_database_is_down(
    app, client
):
    # Within the freshness window the cached script is served; after it the
    # check needs the database, and the answer is the usual 503.
    from consent_server.store.engine import make_engine

    clock = Clock()
    app.extensions["consent_configs"] = sites.ConfigCache(clock=clock)
    assert client.get("/s/demo/consent.js").status_code == 200
    working = app.extensions["consent_db"]
    app.extensions["consent_db"] = make_engine(
        "postgresql://consent:consent@127.0.0.1:1/consent"
    )
    try:
        assert client.get("/s/demo/consent.js").status_code == 200
        clock.now += sites.FRESH_SECONDS + 0.5
        down = client.get("/s/demo/consent.js")
        assert down.status_code == 503
        assert down.get_json()["error"]["code"] == "database_unavailable"
    finally:
        app.extensions["consent_db"].dispose()
        app.extensions["consent_db"] = working


@pytest.mark.parametrize(
    "path", ("/s/demo/consent.js", "/s/demo/consent.css", "/v1/sites/demo/config")
)
def test_a_repeated_request_gets_the_same_answer_with_no_database(
    client, counter, path
):
    headers = {"Accept-Encoding": "gzip, br", "Accept-Language": "de"}
    first = client.get(path, headers=headers)
    etag = first.headers["ETag"]
    counter.reset()
    for extra in ({}, {"If-None-Match": etag}):
        a = client.get(path, headers={**headers, **extra})
        b = client.get(path, headers={**headers, **extra})
        assert (a.status_code, a.data) == (b.status_code, b.data)
        assert {k: v for k, v in a.headers.items() if k != "Date"} == {
            k: v for k, v in b.headers.items() if k != "Date"
        }
        assert "Date" in b.headers
    assert counter.checkouts == 0


def test_a_repeated_request_sees_a_publish_in_this_process_at_once(app, client):
    before = client.get("/s/demo/consent.js")
    assert client.get("/s/demo/consent.js").data == before.data
    with app.app_context():
        doc = {**demo_config(), "policy_url": "https://shop.example/replayed"}
        sites.publish(get_db(), doc, published_by="test")
    after = client.get("/s/demo/consent.js")
    assert b"https://shop.example/replayed" in after.data
