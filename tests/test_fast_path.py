"""Recording and verifying answered in front of Flask (web/fast.py) answer
exactly as the views do: the same headers, the same bodies, the same errors,
the same rate limits, and nothing written when a request is refused."""

import json

import pytest
import sqlalchemy as sa

from consent_server.store.engine import make_engine
from consent_server.store.schema import consent_events
from tests.conftest import ORIGIN, ConsentActions

# A media type the fast path leaves to Flask: the view's own answer.
VIEWS_OWN = "application/json; charset=utf-8"


@pytest.fixture
def dispatched(app):
    """How many requests reached Flask's own request handling."""
    seen = []
    app.before_request(lambda: seen.append(1) and None)
    return seen


def _events(engine):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(consent_events)
        ).scalar()


def _headers(answer):
    return {
        k: v for k, v in answer.headers.items() if k not in ("Date", "Content-Length")
    }


def test_a_second_choice_is_answered_without_flask_and_alike(consent, dispatched):
    first = consent.post()
    second = consent.post()

    assert first.status_code == second.status_code == 201
    assert len(dispatched) == 1
    assert _headers(second) == _headers(first)
    assert second.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert second.headers["Cache-Control"] == "no-store"
    assert set(second.get_json()) == set(first.get_json())
    assert second.get_json()["id"] != first.get_json()["id"]
    assert second.headers["Content-Length"] == str(len(second.get_data()))


def test_a_fast_verify_gives_the_views_answer(consent, dispatched):
    token = consent.post().get_json()["token"]
    first = consent.verify(token)
    before = len(dispatched)
    second = consent.verify(token)

    assert len(dispatched) == before
    assert second.get_data() == first.get_data()
    assert _headers(second) == _headers(first)
    assert second.get_json()["valid"] is True
    # A newer choice of the same visitor supersedes the token, here too.
    consent.post(previous=token)
    assert consent.verify(token).get_json()["reason"] == "superseded"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{", 400, "invalid_json"),
        (b'{"site": "demo", "site": "x"}', 400, "duplicate_key"),
        (b"\xff", 400, "invalid_utf8"),
        (b"[]", 400, None),
    ],
)
def test_a_broken_body_gets_flasks_error_and_writes_nothing(
    client, consent, engine, body, status, code
):
    consent.post()
    before = _events(engine)

    answer = client.post(
        "/v1/consent",
        data=body,
        headers={"Origin": ORIGIN, "Content-Type": "application/json"},
    )

    assert answer.status_code == status
    error = answer.get_json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code
    assert _events(engine) == before


def test_refused_choices_are_refused_as_the_view_refuses_them(consent, engine):
    consent.post()
    before = _events(engine)

    stale = consent.post(revision=99)
    elsewhere = consent.post(origin="https://attacker.example")
    unknown = consent.post(site="no-such-site")

    assert stale.status_code == 409
    assert elsewhere.status_code == 403
    assert "Access-Control-Allow-Origin" not in elsewhere.headers
    assert unknown.status_code == 404
    assert _events(engine) == before


def test_the_rate_limit_counts_both_paths_once(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_CONSENT="3 per minute")
    client = app.test_client()

    def post(body):
        return client.post(
            "/v1/consent",
            data=body,
            headers={"Origin": ORIGIN, "Content-Type": "application/json"},
        )

    good = ConsentActions(client).body()
    answers = [post(json.dumps(good)), post(b"{"), post(json.dumps(good))]
    assert [a.status_code for a in answers] == [201, 400, 201]
    limited = post(json.dumps(good))
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"]


def test_a_database_error_is_answered_as_the_view_answers_it(
    app, client, consent, engine, tmp_path
):
    consent.post()
    before = _events(engine)
    body = json.dumps(consent.body())
    # The database goes away (as when its server stops).
    if engine.dialect.name == "sqlite":
        gone = f"sqlite:///{tmp_path / 'gone' / 'consent.sqlite'}"
    else:
        gone = "postgresql://consent:consent@127.0.0.1:1/consent"
    app.extensions["consent_db"] = make_engine(gone)
    app.extensions.pop("consent_configs", None)
    try:
        fast, view = (
            client.post(
                "/v1/consent",
                data=body,
                headers={"Origin": ORIGIN, "Content-Type": kind},
            )
            for kind in ("application/json", VIEWS_OWN)
        )
    finally:
        app.extensions["consent_db"].dispose()
        app.extensions["consent_db"] = engine

    assert fast.status_code == view.status_code == 503
    assert fast.headers["Retry-After"] == view.headers["Retry-After"]
    assert fast.get_json() == view.get_json()
    assert _events(engine) == before


def test_the_address_behind_a_proxy_is_the_one_recorded(make_app):
    app = make_app(PROXY_COUNT=1)
    client = app.test_client()
    actions = ConsentActions(client)
    for _ in range(2):
        answer = actions.post(headers={"X-Forwarded-For": "203.0.113.77"})
        assert answer.status_code == 201
    engine = app.extensions["consent_db"]
    with engine.connect() as conn:
        ips = conn.execute(sa.select(consent_events.c.ip)).scalars().all()
    assert ips[-2:] == ["203.0.113.0", "203.0.113.0"]
