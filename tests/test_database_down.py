"""While the database cannot be reached, every path that needs it answers 503
with Retry-After (never a 500), and the paths that do not need it still work."""

import pytest

from consent_server.store import accounts
from consent_server.store import engine as store_engine
from consent_server.store.engine import get_db, make_engine
from consent_server.web.errors import RETRY_AFTER
from tests.conftest import ORIGIN


@pytest.fixture
def down(app, consent, tmp_path):
    """An app that worked, then lost its database (as when the server stops)."""
    first = consent.post()
    assert first.status_code == 201
    with app.app_context():
        bearer = accounts.create_token(get_db(), "auditor", "audit")
        get_db().commit()
    working = app.extensions["consent_db"]
    if working.dialect.name == "sqlite":
        unreachable = f"sqlite:///{tmp_path / 'gone' / 'consent.sqlite'}"
    else:
        # A port nothing listens on: the connection is refused at once.
        unreachable = "postgresql://consent:consent@127.0.0.1:1/consent"
    app.extensions["consent_db"] = make_engine(unreachable)
    # The first choice left the site's config in the process's cache, which
    # answers without the database for a second: start past that, as a
    # longer outage would.
    app.extensions.pop("consent_configs", None)
    yield {"token": first.get_json()["token"], "bearer": bearer}
    app.extensions["consent_db"].dispose()
    app.extensions["consent_db"] = working


def _requests(down):
    auth = {"Authorization": f"Bearer {down['bearer']}"}
    return [
        ("GET", "/s/demo/consent.js", {}),
        ("GET", "/v1/sites/demo/config", {}),
        ("POST", "/v1/consent", {"json": "body", "headers": {"Origin": ORIGIN}}),
        ("POST", "/v1/consent/verify", {"json": {"token": down["token"]}}),
        ("GET", "/v1/audit/events", {"headers": auth}),
        ("GET", "/v1/audit/verify", {"headers": auth}),
        ("GET", "/v1/audit/stats", {"headers": auth}),
        ("GET", "/healthz", {}),
    ]  # fmt: skip


def test_every_path_that_needs_the_database_answers_503(client, consent, down):
    for method, path, options in _requests(down):
        if options.get("json") == "body":
            options = {**options, "json": consent.body()}
        answer = client.open(path, method=method, **options)
        assert answer.status_code == 503, (method, path, answer.get_data()[:200])
        assert int(answer.headers["Retry-After"]) > 0, (method, path)
        if path != "/healthz":
            assert answer.get_json()["error"]["code"] == "database_unavailable"


def test_the_banner_can_read_the_503_of_its_post(client, consent, down):
    # The origin was allowed before the database went away: the page's script
    # must be able to read the answer (CORS) to wait as Retry-After says.
    answer = consent.post()
    assert answer.status_code == 503
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_what_needs_no_database_still_answers(client, down):
    # The preflight is answered from the origins read before the outage.
    preflight = client.options(
        "/v1/consent",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert client.get("/s/demo/consent.css").status_code == 200
    assert client.get("/").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_an_unauthenticated_audit_request_is_still_refused(client, down):
    # Its access row cannot be written, but the 401 itself needs no database.
    assert client.get("/v1/audit/events").status_code == 401


def test_with_limits_on_a_503_still_says_when_to_come_back(make_app, tmp_path):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    refused = {"preferences": False, "analytics": False, "advertising": False}
    body = {"site": "demo", "method": "reject_all", "revision": 1, "language": "en",
            "choices": refused}  # fmt: skip
    recorded = client.post("/v1/consent", json=body, headers={"Origin": ORIGIN})
    assert recorded.status_code == 201
    # Only a 429 or a 503 tells the banner to wait.
    assert "Retry-After" not in recorded.headers
    working = app.extensions["consent_db"]
    app.extensions["consent_db"] = make_engine(
        f"sqlite:///{tmp_path / 'gone' / 'consent.sqlite'}"
    )
    try:
        answer = client.post("/v1/consent", json=body, headers={"Origin": ORIGIN})
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == str(RETRY_AFTER)
    finally:
        app.extensions["consent_db"].dispose()
        app.extensions["consent_db"] = working


def _cut_every_other_connection(url):
    # As a restart of the server would, for the connections waiting in pools.
    other = make_engine(url)
    try:
        with other.connect() as conn:
            cut = conn.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).scalar()
    finally:
        other.dispose()
    return cut


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_connections_cut_while_they_waited_in_the_pool_are_replaced(
    consent, database_url, monkeypatch
):
    first = consent.post()
    assert first.status_code == 201
    assert consent.verify(first.get_json()["token"]).get_json()["valid"] is True
    assert _cut_every_other_connection(database_url) >= 1
    # They waited long enough to be tried before use.
    monkeypatch.setattr(store_engine, "IDLE_PING_SECONDS", 0.0)
    answer = consent.verify(first.get_json()["token"])
    assert answer.status_code == 200
    assert answer.get_json()["valid"] is True
    assert consent.post().status_code == 201


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_connections_cut_in_steady_use_cost_no_answer(app, consent, database_url):
    # Five requests at once used five connections a moment ago: too recently
    # to be tried before use. The first request on a dead one replaces the
    # rest of the pool with it, and its read (or the commit that had taken
    # no lock yet) is made again on a new connection.
    token = consent.post().get_json()["token"]
    engine = app.extensions["consent_db"]
    held = [engine.connect() for _ in range(5)]
    for conn in held:
        conn.exec_driver_sql("SELECT 1")
    for conn in held:
        conn.close()
    assert _cut_every_other_connection(database_url) >= 6
    verifies = [consent.verify(token).status_code for _ in range(6)]
    assert verifies == [200] * 6
    # The writer's own connection, cut too.
    posts = [consent.post().status_code for _ in range(2)]
    assert posts == [201, 201]
