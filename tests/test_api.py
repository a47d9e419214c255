import base64
import datetime as dt
import json

import pytest

from consent_server.domain import demo_site, languages
from consent_server.store import sites as store_sites
from consent_server.store.engine import get_db
from consent_server.tokens import sign_token, verify_token
from tests.conftest import ORIGIN, SECRET
from tests.helpers import count_events, events


def test_recorded_consent_returns_a_token_that_verifies(consent, engine):
    response = consent.post()
    assert response.status_code == 201
    data = response.get_json()
    assert set(data) == {"id", "event_id", "token", "recorded_at", "expires_at"}
    assert data["event_id"] == events(engine)[0]["event_id"]
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN

    verified = consent.verify(data["token"]).get_json()
    assert verified == {
        "valid": True,
        "id": data["id"],
        "site": "demo",
        "choices": {"preferences": False, "analytics": True, "advertising": False},
        "revision": 1,
        "reason": None,
    }
    assert count_events(engine) == 1


def test_one_edited_character_makes_the_token_invalid(consent):
    token = consent.post().get_json()["token"]
    for i in (5, len(token) // 2, len(token) - 3):
        edited = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        result = consent.verify(edited).get_json()
        assert result["valid"] is False
        assert result["reason"] in ("bad_signature", "malformed")


def test_rotating_the_key_keeps_old_tokens_valid(make_app):
    old_app = make_app(SECRET_KEY="old-key-0123456789abcdef")
    token = (
        old_app.test_client()
        .post(
            "/v1/consent",
            json={
                "site": "demo",
                "choices": {
                    "preferences": True,
                    "analytics": False,
                    "advertising": False,
                },
                "method": "custom",
                "revision": 1,
                "language": "de",
            },
            headers={"Origin": ORIGIN},
        )
        .get_json()["token"]
    )

    rotated = make_app(SECRET_KEY="new-key-0123456789abcdef,old-key-0123456789abcdef")
    client = rotated.test_client()
    assert client.post("/v1/consent/verify", json={"token": token}).get_json()["valid"]
    # New tokens are signed with the first key only.
    new = client.post(
        "/v1/consent",
        json={
            "site": "demo",
            "choices": {"preferences": True, "analytics": False, "advertising": False},
            "method": "custom",
            "revision": 1,
            "language": "de",
        },
        headers={"Origin": ORIGIN},
    ).get_json()["token"]
    assert verify_token(new, "new-key-0123456789abcdef").valid
    assert not verify_token(new, "old-key-0123456789abcdef").valid


def test_stored_row_has_every_logged_field(consent, engine):
    consent.post(
        headers={"User-Agent": "Mozilla/5.0 Test", "Sec-GPC": "1"}, language="de-CH"
    )
    (row,) = events(engine)
    assert row["seq"] == 1
    assert row["site"] == "demo"
    assert row["consent_revision"] == 1 and row["config_revision"] == 1
    assert (row["authentication"], row["security"]) == (True, True)
    assert (row["preferences"], row["analytics"], row["advertising"]) == (
        False,
        True,
        False,
    )
    assert row["method"] == "custom"
    assert row["gpc"] is True
    assert row["language"] == "de-CH"
    assert len(row["texts_hash"]) == 64
    # Page origin and path only: no query string, no fragment.
    assert row["origin"] == ORIGIN
    assert row["path"] == "/products/tea-towel"
    assert row["ip"] == "127.0.0.0"
    assert row["user_agent"] == "Mozilla/5.0 Test"
    assert row["recorded_at"].tzinfo is not None
    assert len(row["hash"]) == 64 and len(row["prev_hash"]) == 64


@pytest.mark.parametrize(
    ("remote", "stored"),
    (
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::"),
        ("::ffff:198.51.100.9", "198.51.100.0"),
    ),
)
def test_ip_is_truncated(consent, engine, remote, stored):
    consent._client.post(
        "/v1/consent",
        json=consent.body(),
        headers={"Origin": ORIGIN},
        environ_base={"REMOTE_ADDR": remote},
    )
    assert events(engine)[0]["ip"] == stored


def test_previous_token_keeps_the_consent_id(consent, engine):
    first = consent.post().get_json()
    second = consent.post(
        previous=first["token"],
        method="withdraw",
        choices={"preferences": False, "analytics": False, "advertising": False},
    ).get_json()
    assert second["id"] == first["id"]
    assert verify_token(second["token"], SECRET).choices["analytics"] is False
    assert [e["consent_id"] for e in events(engine)] == [first["id"], first["id"]]


def test_bad_previous_token_is_recorded_as_a_new_visitor(consent, engine):
    victim = consent.post().get_json()
    # Naming the victim's id in a forged payload must not reach their history.
    forged = sign_token(
        "attacker-key-0123456789",
        consent_id=victim["id"],
        site="demo",
        revision=1,
        choices={"preferences": True, "analytics": True, "advertising": True},
        expires_at=2**40,
    )
    for previous in (forged, victim["token"][:-2] + "xx", "garbage"):
        response = consent.post(previous=previous)
        assert response.status_code == 201
        assert response.get_json()["id"] != victim["id"]
    assert [e["consent_id"] for e in events(engine)].count(victim["id"]) == 1


def test_previous_token_of_another_site_is_not_taken(consent, app, engine):
    with app.app_context():
        other = demo_site.demo_config()
        other["site"] = "other"
        store_sites.publish(get_db(), other, published_by="test")
    theirs = consent.post(body=consent.body(site="other")).get_json()
    mine = consent.post(previous=theirs["token"]).get_json()
    assert mine["id"] != theirs["id"]


def test_gpc_keeps_advertising_off_under_accept_all(consent, engine):
    everything = {"preferences": True, "analytics": True, "advertising": True}
    response = consent.post(
        method="accept_all", choices=everything, headers={"Sec-GPC": "1"}
    )
    assert response.status_code == 201
    row = events(engine)[0]
    assert (row["advertising"], row["gpc"]) == (False, True)
    # A deliberate choice in the second layer may still switch it on.
    consent.post(method="custom", choices=everything, gpc=True)
    assert events(engine)[1]["advertising"] is True


def test_strictly_necessary_may_be_sent_as_true(consent):
    choices = {
        "authentication": True,
        "security": True,
        "preferences": False,
        "analytics": False,
        "advertising": False,
    }
    assert consent.post(method="reject_all", choices=choices).status_code == 201


VALID = {
    "site": "demo",
    "choices": {"preferences": False, "analytics": True, "advertising": False},
    "method": "custom",
    "revision": 1,
    "language": "en",
}


def _with(**changes):
    body = dict(VALID)
    body.update(changes)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    (
        (b"not json", "application/json", 400, "invalid_json"),
        (b"[1, 2]", "application/json", 400, "invalid_body"),
        (b"\xff\xfe{}", "application/json", 400, "invalid_utf8"),
        (b"[" * 2000 + b"]" * 2000, "application/json", 400, "invalid_json"),
        (_with(), "text/plain", 415, "unsupported_media_type"),
        (_with(), "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (
            _with(url="http://127.0.0.1/" + "a" * 5000),
            "application/json",
            413,
            "too_large",
        ),
        (_with(site="nope"), "application/json", 404, "unknown_site"),
        (_with(site=5), "application/json", 400, "invalid_site"),
        (
            _with(
                choices={
                    "preferences": False,
                    "analytics": True,
                    "advertising": False,
                    "tracking": True,
                }
            ),
            "application/json",
            400,
            "unknown_category",
        ),
        (
            _with(choices={"preferences": False, "analytics": True}),
            "application/json",
            400,
            "missing_category",
        ),
        (
            _with(
                choices={"preferences": False, "analytics": "yes", "advertising": False}
            ),
            "application/json",
            400,
            "invalid_choices",
        ),
        (
            _with(choices={"preferences": False, "analytics": 1, "advertising": False}),
            "application/json",
            400,
            "invalid_choices",
        ),
        (_with(choices=["analytics"]), "application/json", 400, "invalid_choices"),
        (
            _with(
                choices={
                    "security": False,
                    "preferences": False,
                    "analytics": True,
                    "advertising": False,
                }
            ),
            "application/json",
            400,
            "necessary_category",
        ),
        (_with(method="maybe"), "application/json", 400, "invalid_method"),
        (_with(method="accept_all"), "application/json", 400, "method_mismatch"),
        (_with(method="reject_all"), "application/json", 400, "method_mismatch"),
        (_with(revision=2), "application/json", 409, "stale_revision"),
        (_with(revision="1"), "application/json", 400, "invalid_revision"),
        (_with(language="english please"), "application/json", 400, "invalid_language"),
        (_with(language="e" * 3000), "application/json", 400, "invalid_language"),
        (_with(language="en\u0000"), "application/json", 400, "invalid_text"),
        (
            b'{"site": "demo", "language": "\\ud800"}',
            "application/json",
            400,
            "invalid_text",
        ),
        (_with(url="javascript:alert(1)"), "application/json", 400, "invalid_url"),
        (_with(url="http://127.0.0.1:99999/"), "application/json", 400, "invalid_url"),
        (_with(previous=["x"]), "application/json", 400, "invalid_previous"),
        (_with(gpc="1"), "application/json", 400, "invalid_gpc"),
        (_with(extra=True), "application/json", 400, "unknown_field"),
        # Control characters would reach the log and the CSV export.
        (
            _with(url=ORIGIN + "/a\u0001b\u001bc"),
            "application/json",
            400,
            "invalid_url",
        ),
        # Which of two values was meant is unclear: neither is recorded.
        (
            _with().replace(b'"site": "demo"', b'"site": "other", "site": "demo"'),
            "application/json",
            400,
            "duplicate_key",
        ),
        (_with(), "application/json; charset=utf-16", 415, "unsupported_media_type"),
    ),
)
def test_bad_input_is_refused_and_writes_nothing(
    client, engine, data, content_type, status, code
):
    response = client.post(
        "/v1/consent", data=data, content_type=content_type, headers={"Origin": ORIGIN}
    )
    assert response.status_code == status
    assert response.is_json
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]
    assert count_events(engine) == 0


@pytest.mark.parametrize(
    "origin",
    (
        None,
        "http://evil.example",
        "http://127.0.0.1.evil.example:80",
        # Over the length limit: refused, and not echoed back either.
        "http://127.0.0.1:" + "1" * 300,
    ),
)
def test_origin_not_listed_may_not_record(consent, engine, origin):
    response = consent.post(origin=origin)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert count_events(engine) == 0


@pytest.mark.parametrize("path", ["/v1/consent", "/v1/consent/verify"])
def test_preflight_answers_listed_origins_only(client, path):
    ok = client.options(
        path,
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert ok.status_code == 204
    assert ok.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "POST" in ok.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in ok.headers["Access-Control-Allow-Headers"]

    refused = client.options(path, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_a_listed_origin_reads_the_verify_answer_and_its_retry_after(client, consent):
    # The banner asks when the browser cannot check a signature itself.
    token = consent.post().get_json()["token"]
    ok = client.post("/v1/consent/verify", json={"token": token, "site": "demo"},
                     headers={"Origin": "http://localhost:3000"})  # fmt: skip
    assert ok.json["valid"] is True
    assert ok.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert ok.headers["Access-Control-Expose-Headers"] == "Retry-After"
    assert "Origin" in ok.headers["Vary"]
    other = client.post("/v1/consent/verify", json={"token": token},
                        headers={"Origin": "https://evil.example"})  # fmt: skip
    assert other.json["valid"] is True  # a backend's question needs no CORS
    assert "Access-Control-Allow-Origin" not in other.headers


def test_raw_oversized_body_without_length_is_refused(client, engine):
    response = client.post(
        "/v1/consent",
        data=b"{" + b" " * 10000 + b"}",
        content_type="application/json",
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 413
    assert count_events(engine) == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    (
        ({"token": "garbage"}, "malformed"),
        ({"token": 12}, "malformed"),
        ({"token": None}, "malformed"),
        ({"token": "a.b.c"}, "bad_signature"),
    ),
)
def test_verify_garbage_is_invalid_not_an_error(client, body, reason):
    response = client.post("/v1/consent/verify", json=body)
    assert response.status_code == 200
    assert response.get_json()["valid"] is False
    assert response.get_json()["reason"] == reason


def test_verify_reports_other_site_expired_and_old_revision(consent, app):
    token = consent.post().get_json()["token"]
    assert consent.verify(token, site="shop").get_json()["reason"] == "other_site"

    expired = sign_token(
        SECRET,
        consent_id="x",
        site="demo",
        revision=1,
        choices=VALID["choices"],
        expires_at=1000,
    )
    assert consent.verify(expired).get_json()["reason"] == "expired"

    with app.app_context():
        store_sites.publish(
            get_db(), demo_site.demo_config(), published_by="test", ask_again=True
        )
    result = consent.verify(token).get_json()
    assert (result["valid"], result["reason"], result["revision"]) == (
        False,
        "old_revision",
        1,
    )


def test_verify_wrong_key_is_bad_signature(consent):
    forged = sign_token(
        "another-key-0123456789",
        consent_id="x",
        site="demo",
        revision=1,
        choices=VALID["choices"],
        expires_at=2**40,
    )
    assert consent.verify(forged).get_json()["reason"] == "bad_signature"


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    (
        (b"{}", "application/json", 400),
        (b"x", "text/plain", 415),
        (b"{", "application/json", 400),
    ),
)
def test_verify_bad_request(client, data, content_type, status):
    response = client.post("/v1/consent/verify", data=data, content_type=content_type)
    assert response.status_code == status
    assert "code" in response.get_json()["error"]


def test_site_config_is_public_json(client):
    response = client.get("/v1/sites/demo/config")
    assert response.status_code == 200
    config = response.get_json()
    assert (config["site"], config["revision"], config["consent_revision"]) == (
        "demo",
        1,
        1,
    )
    assert set(config["languages"]) >= {"en", "de", "fr", "es", "it"}
    # Who may record consent is not told to the public.
    assert "origins" not in config
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get(
        "/v1/sites/demo/config", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_unknown_site_config_is_a_json_404(client):
    response = client.get("/v1/sites/nope/config")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_site"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    (
        ("GET", "/v1/nothing", 404),
        ("GET", "/v1/consent", 405),
        ("DELETE", "/v1/consent/verify", 405),
    ),
)
def test_api_errors_are_json(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert set(response.get_json()["error"]) == {"code", "message"}


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_recording_is_rate_limited_per_client(make_app, engine):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_CONSENT="3 per minute")
    client = app.test_client()
    body = dict(VALID)
    statuses = [
        client.post("/v1/consent", json=body, headers={"Origin": ORIGIN}).status_code
        for _ in range(5)
    ]
    assert statuses == [201, 201, 201, 429, 429]
    limited = client.post("/v1/consent", json=body, headers={"Origin": ORIGIN})
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    # Another client is not affected.
    other = client.post(
        "/v1/consent",
        json=body,
        headers={"Origin": ORIGIN},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert other.status_code == 201


def test_log_keeps_the_texts_of_the_config_revision_shown(consent, app, engine):
    with app.app_context():
        first = store_sites.current_config(get_db(), "demo")
        changed = demo_site.demo_config()
        changed["languages"] = {"en": {"title": "A new title"}}
        changed["default_language"] = "en"
        store_sites.publish(get_db(), changed, published_by="test")
    # A visitor whose cached script still carries revision 1.
    assert consent.post(config_revision=1).status_code == 201
    assert consent.post().status_code == 201
    old, new = events(engine)
    assert (old["config_revision"], new["config_revision"]) == (1, 2)
    assert old["texts_hash"] == languages.texts_hash(first, "en")
    assert new["texts_hash"] != old["texts_hash"]


@pytest.mark.parametrize("value", (0, 99, "1", True))
def test_config_revision_must_be_one_published(consent, engine, value):
    response = consent.post(config_revision=value)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_revision"
    assert count_events(engine) == 0


@pytest.mark.parametrize(
    "url",
    (
        "https://attacker.example:8443/any/path",
        "http://[::1",
        "http://\u2100.example/",
        "http://" + "a" * 300 + ".example/",
    ),
)
def test_url_must_be_a_page_of_the_requesting_origin(consent, engine, url):
    response = consent.post(url=url)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_url"
    assert count_events(engine) == 0


def test_path_parameters_do_not_reach_the_log(consent, engine):
    consent.post(url=ORIGIN + "/cart;jsessionid=SECRET123?q=1")
    assert events(engine)[0]["path"] == "/cart"


def test_language_longer_than_the_log_keeps_is_refused(consent, engine):
    response = consent.post(language="abc-12345678-12345678-12345678-12345678")
    assert response.status_code == 400
    assert count_events(engine) == 0


@pytest.mark.parametrize("path", ("/s/a%00b/consent.js", "/v1/sites/a%00b/config"))
def test_odd_site_ids_in_paths_are_unknown_sites(client, path):
    assert client.get(path).status_code == 404


def test_gpc_header_alone_is_honoured_in_the_token(consent):
    everything = {"preferences": True, "analytics": True, "advertising": True}
    token = consent.post(
        method="accept_all", choices=everything, headers={"Sec-GPC": "1"}
    ).get_json()["token"]
    assert verify_token(token, SECRET).choices["advertising"] is False


def test_ipv6_clients_are_limited_per_64(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_CONSENT="3 per minute")
    client = app.test_client()
    statuses = [
        client.post(
            "/v1/consent",
            json=dict(VALID),
            headers={"Origin": ORIGIN},
            environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{i:x}"},
        ).status_code
        for i in range(5)
    ]
    assert statuses == [201, 201, 201, 429, 429]


def test_long_page_paths_are_cut_not_refused(consent, engine):
    response = consent.post(url=ORIGIN + "/" + "p" * 2100)
    assert response.status_code == 201
    assert len(events(engine)[0]["path"]) == 2048


def test_category_hidden_since_the_script_was_cached_asks_again(consent, app, engine):
    with app.app_context():
        doc = demo_site.demo_config()
        doc["categories"] = ["preferences", "analytics"]
        store_sites.publish(get_db(), doc, published_by="test")
    everything = {"preferences": True, "analytics": True, "advertising": True}
    stale = consent.post(method="accept_all", choices=everything, config_revision=1)
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "stale_revision"
    current = consent.post(method="custom", choices=everything, config_revision=2)
    assert current.get_json()["error"]["code"] == "hidden_category"
    assert count_events(engine) == 0


def test_ipv4_behind_a_dual_stack_socket_is_limited_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_CONSENT="3 per minute")
    client = app.test_client()

    def post(address):
        return client.post(
            "/v1/consent",
            json=dict(VALID),
            headers={"Origin": ORIGIN},
            environ_base={"REMOTE_ADDR": address},
        ).status_code

    assert [post("::ffff:198.51.100.1") for _ in range(4)] == [201, 201, 201, 429]
    assert post("::ffff:198.51.100.2") == 201


def test_token_followed_by_a_newer_choice_is_superseded(consent):
    first = consent.post(
        method="accept_all",
        choices={"preferences": True, "analytics": True, "advertising": True},
    ).get_json()
    assert consent.verify(first["token"]).get_json()["valid"] is True
    second = consent.post(
        previous=first["token"],
        method="reject_all",
        choices={"preferences": False, "analytics": False, "advertising": False},
    ).get_json()
    old = consent.verify(first["token"]).get_json()
    assert (old["valid"], old["reason"]) == (False, "superseded")
    assert old["id"] == first["id"]
    assert consent.verify(second["token"]).get_json()["valid"] is True


def test_withdraw_that_grants_everything_is_refused_and_writes_nothing(consent, engine):
    first = consent.post().get_json()
    response = consent.post(
        previous=first["token"],
        method="withdraw",
        choices={"preferences": True, "analytics": True, "advertising": True},
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "code": "method_mismatch",
        "message": "withdraw must refuse at least one optional category the site shows",
    }
    assert count_events(engine) == 1
    # Refusing one shown category is a withdrawal.
    narrowed = consent.post(
        previous=first["token"],
        method="withdraw",
        choices={"preferences": True, "analytics": False, "advertising": True},
    )
    assert narrowed.status_code == 201
    assert [e["method"] for e in events(engine)] == ["custom", "withdraw"]


def test_withdraw_counts_only_the_categories_the_site_shows(consent, app, engine):
    with app.app_context():
        doc = demo_site.demo_config()
        doc["categories"] = ["preferences", "analytics"]
        store_sites.publish(get_db(), doc, published_by="test")
    # Advertising is hidden, so it is off anyway: refusing it withdraws nothing.
    response = consent.post(
        method="withdraw",
        config_revision=2,
        choices={"preferences": True, "analytics": True, "advertising": False},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "method_mismatch"
    assert count_events(engine) == 0


OFF = {"preferences": False, "analytics": False, "advertising": False}


def payload(token):
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.mark.parametrize(
    ("method", "choices", "shown", "headers", "days"),
    [
        ("reject_all", OFF, None, None, 10),
        ("custom", OFF, None, None, 10),
        ("custom", {**OFF, "preferences": True}, None, None, 300),
        ("accept_all", dict.fromkeys(OFF, True), None, None, 300),
        # Under GPC, "Accept all" on a site that shows only advertising
        # allows nothing: it is kept as a refusal.
        ("accept_all", {**OFF, "advertising": True}, ["advertising"],
         {"Sec-GPC": "1"}, 10),
        # Granting only a category the site hides grants nothing it shows.
        ("custom", OFF, ["analytics"], None, 10),
    ],
)  # fmt: skip
def test_a_refusal_is_kept_for_refusal_days_any_other_choice_for_cookie_days(
    consent, app, method, choices, shown, headers, days
):
    with app.app_context():
        doc = demo_site.demo_config()
        doc.update(cookie_days=300, refusal_days=10)
        if shown:
            doc["categories"] = shown
        store_sites.publish(get_db(), doc, published_by="test")
    response = consent.post(
        method=method, choices=choices, config_revision=2, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()

    recorded = dt.datetime.fromisoformat(data["recorded_at"])
    expires = dt.datetime.fromisoformat(data["expires_at"])
    assert expires - recorded == dt.timedelta(days=days)
    # The token ends when the answer says.
    assert payload(data["token"])["exp"] == int(expires.timestamp())


def test_a_withdrawal_of_everything_is_kept_for_refusal_days(consent, app):
    with app.app_context():
        doc = demo_site.demo_config()
        doc.update(cookie_days=300, refusal_days=10)
        store_sites.publish(get_db(), doc, published_by="test")
    first = consent.post(config_revision=2).get_json()
    withdrawn = consent.post(
        method="withdraw", choices=OFF, previous=first["token"], config_revision=2
    ).get_json()

    for data, days in ((first, 300), (withdrawn, 10)):
        recorded = dt.datetime.fromisoformat(data["recorded_at"])
        expires = dt.datetime.fromisoformat(data["expires_at"])
        assert expires - recorded == dt.timedelta(days=days)
