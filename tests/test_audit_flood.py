import datetime as dt
import secrets

import pytest
import sqlalchemy as sa
from alembic import command

from consent_server import create_app
from consent_server.store import accounts, migrate
from consent_server.store.engine import get_db, make_engine
from consent_server.store.schema import audit_access
from tests.conftest import SECRET

FLOOD = 2000
FLOODER = "198.51.100.7"
OTHER = "203.0.113.9"


def access_rows(engine):
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(audit_access).order_by(audit_access.c.id)
            ).mappings()
        ]


def stored_size(rows):
    # What the rows hold, counted as the text of every value.
    return sum(len(str(v)) for row in rows for v in row.values() if v is not None)


def new_token(app, scope="audit", name="auditor"):
    with app.app_context():
        return accounts.create_token(get_db(), name, scope)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def as_client(address):
    return {"REMOTE_ADDR": address}


@pytest.mark.parametrize(
    "target",
    (
        lambda junk: f"/v1/audit/events?q={junk}",
        lambda junk: f"/v1/audit/consents/{junk}?q={junk}",
    ),
    ids=("long-query", "made-up-path"),
)
def test_an_unauthenticated_flood_adds_up_on_a_few_small_rows(app, engine, target):
    client = app.test_client()
    # Step: 2,000 requests without a token, each with its own 2 KB of junk.
    for _ in range(FLOOD):
        response = client.get(target(secrets.token_hex(1024)))
        assert response.status_code == 401
    rows = access_rows(engine)
    assert len(rows) == 1
    assert stored_size(rows) < 1500
    (row,) = rows
    assert (row["status"], row["token_name"], row["hits"]) == (401, "(none)", FLOOD)
    assert row["last_seen"] >= row["at"]
    assert row["path"].endswith("characters]")

    # Step: an auditor's reads are still each written down, in full.
    token = new_token(app)
    for n in range(1, 21):
        response = client.get(f"/v1/audit/events?limit={n}", headers=bearer(token))
        assert response.status_code == 200
    kept = access_rows(engine)[1:]
    assert [(r["token_name"], r["status"], r["hits"]) for r in kept] == [
        ("auditor", 200, 1)
    ] * 20
    assert [r["path"] for r in kept] == [
        f"/v1/audit/events?limit={n}" for n in range(1, 21)
    ]
    # The listing for the config page says how many requests a row stands for.
    with app.app_context():
        listed = accounts.recent_access(get_db(), limit=21)
    assert [r["hits"] for r in listed] == [1] * 20 + [FLOOD]


def test_refusals_are_counted_apart_by_route_status_and_token(app, engine):
    client = app.test_client()
    stats = bearer(new_token(app, "stats", "dashboard"))
    for _ in range(3):
        client.get("/v1/audit/events")
        client.get("/v1/audit/verify")
        client.get("/v1/audit/verify", headers=stats)
        client.get("/v1/audit/events", environ_overrides=as_client(OTHER))
    rows = access_rows(engine)
    assert [
        (r["path"], r["status"], r["token_name"], r["ip"], r["hits"]) for r in rows
    ] == [
        ("/v1/audit/events", 401, "(none)", "127.0.0.0", 3),
        ("/v1/audit/verify", 401, "(none)", "127.0.0.0", 3),
        ("/v1/audit/verify", 403, "dashboard", "127.0.0.0", 3),
        ("/v1/audit/events", 401, "(none)", "203.0.113.0", 3),
    ]


def test_a_refusal_after_the_window_starts_a_new_row(app, engine, monkeypatch):
    client = app.test_client()
    client.get("/v1/audit/events")
    # Step: as if the first refusal were older than the window.
    monkeypatch.setattr(accounts, "REPEAT_WINDOW", dt.timedelta(seconds=-1))
    client.get("/v1/audit/events")
    assert [r["hits"] for r in access_rows(engine)] == [1, 1]


def test_a_long_authorised_path_is_cut_and_says_so(app, engine):
    token = new_token(app)
    site = "s" * 3000
    response = app.test_client().get(
        f"/v1/audit/events?site={site}", headers=bearer(token)
    )
    assert response.status_code == 200
    (row,) = access_rows(engine)
    cut = len("/v1/audit/events?site=") + 3000 - accounts.MAX_ACCESS_PATH
    assert row["path"] == (
        f"/v1/audit/events?site={site}"[: accounts.MAX_ACCESS_PATH]
        + f"...[cut {cut} characters]"
    )


def test_a_flooding_client_gets_429_and_others_still_get_answers(make_app, engine):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_AUDIT="5 per minute")
    client = app.test_client()
    token = new_token(app)
    flooder = as_client(FLOODER)
    statuses = [
        client.get("/v1/audit/events", environ_overrides=flooder).status_code
        for _ in range(8)
    ]
    assert statuses == [401] * 5 + [429] * 3
    # One limit over the whole audit API: another path, even with a token.
    limited = client.get(
        "/v1/audit/verify", headers=bearer(token), environ_overrides=flooder
    )
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    assert set(limited.get_json()["error"]) == {"code", "message"}
    assert 0 < int(limited.headers["Retry-After"]) <= 60

    # Step: another client, mid-flood, is answered as usual.
    other = client.get(
        "/v1/audit/verify", headers=bearer(token), environ_overrides=as_client(OTHER)
    )
    assert other.status_code == 200
    assert other.get_json()["ok"] is True
    # The 429s add up on one row too.
    assert [(r["status"], r["ip"], r["hits"]) for r in access_rows(engine)] == [
        (401, "198.51.100.0", 5),
        (429, "198.51.100.0", 3),
        (429, "198.51.100.0", 1),
        (200, "203.0.113.0", 1),
    ]


def test_behind_a_proxy_the_limit_counts_the_forwarded_client(make_app):
    app = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_AUDIT="2 per minute", PROXY_COUNT=1
    )
    client = app.test_client()

    def get(forwarded):
        return client.get(
            "/v1/audit/events", headers={"X-Forwarded-For": forwarded}
        ).status_code

    assert [get(FLOODER) for _ in range(3)] == [401, 401, 429]
    assert get(OTHER) == 401


def test_a_bad_audit_limit_is_refused_at_start(tmp_path):
    with pytest.raises(RuntimeError) as caught:
        create_app(
            {
                "TESTING": True,
                "SECRET_KEY": SECRET,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite'}",
                "RATELIMIT_AUDIT": "5 per fortnight",
            },
            instance_path=str(tmp_path / "instance"),
        )
    assert str(caught.value).startswith("CONSENT_RATELIMIT_AUDIT: '5 per fortnight'")


def test_access_rows_from_before_counting_keep_their_meaning(database_url):
    engine = make_engine(database_url)
    try:
        baseline = migrate.baseline_metadata().tables["audit_access"]
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), migrate.BASELINE)
            conn.execute(
                baseline.insert().values(
                    at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                    token_id=None,
                    token_name="(none)",
                    method="GET",
                    path="/v1/audit/verify",
                    status=401,
                    ip="192.0.2.0",
                )
            )
        # Step: init's upgrade, then a new refusal alike from the same address.
        migrate.upgrade(engine)
        with engine.connect() as conn:
            accounts.record_access(
                conn,
                None,
                method="GET",
                path="/v1/audit/verify",
                route="/v1/audit/verify",
                status=401,
                ip="192.0.2.0",
            )
            rows = accounts.recent_access(conn)
    finally:
        engine.dispose()
    assert [(r["path"], r["hits"], r["route"], r["last_seen"]) for r in rows] == [
        ("/v1/audit/verify", 1, "/v1/audit/verify", None),
        ("/v1/audit/verify", 1, None, None),
    ]


def test_the_document_gives_every_audit_path_its_429(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_AUDIT="1 per minute")
    client = app.test_client()
    spec = client.get("/openapi.json").get_json()
    audit_paths = [p for p in spec["paths"] if p.startswith("/v1/audit/")]
    assert audit_paths
    for path in audit_paths:
        limited = spec["paths"][path]["get"]["responses"]["429"]
        assert "Retry-After" in limited["headers"]
    # What is documented is what a limited client gets.
    client.get("/v1/audit/verify")
    answer = client.get("/v1/audit/verify")
    assert answer.status_code == 429 and "Retry-After" in answer.headers


@pytest.mark.parametrize("path", ("/v1/audit/verify", "/v1/audit/consents/x"))
def test_the_document_lists_the_400_of_paths_without_parameters(client, path):
    spec = client.get("/openapi.json").get_json()
    template = path.replace("/x", "/{consent_id}")
    answer = client.get(path, environ_overrides={"QUERY_STRING": "\xff=1"})
    assert answer.status_code == 400
    assert "400" in spec["paths"][template]["get"]["responses"]
