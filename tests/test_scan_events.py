"""The cookie scanner's choices: POST /v1/consent with a bearer token of scope scan.

They are real events of the log (chain, tree, exports, verify-log) marked
``scan``, kept out of statistics and of visitors' histories; their tokens
expire within minutes and verify as ``valid: false, reason: "scan"``.
"""

import base64
import datetime as dt
import json

import pytest

from consent_server.domain import merkle
from consent_server.domain.entry import canonical
from consent_server.domain.vocabulary import SCAN_TOKEN_MINUTES
from consent_server.scan import run
from consent_server.scan.crawl import Crawl, Visit
from consent_server.store import accounts, stats
from consent_server.store.engine import get_db
from consent_server.tokens import verify_token
from tests.conftest import SECRET
from tests.helpers import count_events, events

ACCEPT_ALL = {"preferences": True, "analytics": True, "advertising": True}


@pytest.fixture
def make_token(app):
    def make(scope="scan", name="scanner"):
        with app.app_context():
            return accounts.create_token(get_db(), name, scope)

    return make


@pytest.fixture
def scan_post(consent, make_token):
    token = make_token()

    def post(**changes):
        headers = {"Authorization": f"Bearer {token}"}
        return consent.post(headers=headers, **changes)

    return post


@pytest.fixture
def auditor(client, make_token):
    token = make_token("audit", "auditor")

    def get(path, **params):
        return client.get(
            path, query_string=params, headers={"Authorization": f"Bearer {token}"}
        )

    return get


def accepted(post):
    response = post(choices=ACCEPT_ALL, method="accept_all")
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_scan_choice_is_recorded_marked_with_a_short_token(scan_post, engine):
    answer = accepted(scan_post)
    recorded = dt.datetime.fromisoformat(answer["recorded_at"])
    expires = dt.datetime.fromisoformat(answer["expires_at"])
    assert expires - recorded == dt.timedelta(minutes=SCAN_TOKEN_MINUTES)
    assert SCAN_TOKEN_MINUTES <= 15
    (row,) = events(engine)
    assert row["scan"] is True and row["event_id"] == answer["event_id"]
    # The banner still reads the choices from the token and applies them in
    # the scanner's browser; only verifiers are told it is a scan's.
    assert verify_token(answer["token"], SECRET).reason == "scan"


def test_an_ordinary_choice_is_unchanged(consent, engine):
    response = consent.post()
    assert response.status_code == 201
    answer = response.get_json()
    recorded = dt.datetime.fromisoformat(answer["recorded_at"])
    expires = dt.datetime.fromisoformat(answer["expires_at"])
    assert expires - recorded == dt.timedelta(days=180)
    (row,) = events(engine)
    assert row["scan"] is None  # as every row written before scans were marked
    result = consent.verify(answer["token"]).get_json()
    assert result["valid"] is True and result["reason"] is None
    # Its payload has no scan mark at all: the same token as before.
    payload = json.loads(base64.urlsafe_b64decode(answer["token"].split(".")[0] + "=="))
    assert "scan" not in payload


def test_a_scan_token_verifies_as_scan(scan_post, consent):
    token = accepted(scan_post)["token"]
    result = consent.verify(token, site="demo").get_json()
    assert result["valid"] is False and result["reason"] == "scan"
    assert result["id"] is not None and result["choices"] == ACCEPT_ALL


def test_scan_wins_over_expired_and_superseded(scan_post, consent):
    first = accepted(scan_post)
    # A newer scan choice from the same browser supersedes the first one...
    second = scan_post(
        previous=first["token"],
        method="reject_all",
        choices=dict.fromkeys(ACCEPT_ALL, False),
    )
    assert second.status_code == 201
    assert second.get_json()["id"] == first["id"]
    assert consent.verify(first["token"]).get_json()["reason"] == "scan"
    # ...and long after, the token has expired: still said to be a scan's.
    later = dt.datetime.now(dt.UTC).timestamp() + 3600
    assert verify_token(first["token"], SECRET, now=later).reason == "scan"


def test_scans_and_visitors_never_share_a_history(scan_post, consent, engine):
    visitor = consent.post().get_json()
    scanned = accepted(scan_post)
    # The scanner sending a visitor's token, or a visitor a scan's token,
    # starts a new consent id: nobody's history holds a scan event.
    from_visitor = scan_post(previous=visitor["token"]).get_json()
    from_scan = consent.post(previous=scanned["token"]).get_json()
    assert from_visitor["id"] not in (visitor["id"], scanned["id"])
    assert from_scan["id"] not in (visitor["id"], scanned["id"])
    by_id = {}
    for row in events(engine):
        by_id.setdefault(row["consent_id"], set()).add(row["scan"] is True)
    assert all(len(kinds) == 1 for kinds in by_id.values())
    # The visitor's token is still their latest: the scan did not supersede it.
    assert consent.verify(visitor["token"]).get_json()["valid"] is True


def test_scan_events_are_kept_out_of_stats(scan_post, consent, app, auditor):
    consent.post(choices=dict.fromkeys(ACCEPT_ALL, False), method="reject_all")
    accepted(scan_post)
    accepted(scan_post)
    (day,) = auditor("/v1/audit/stats").get_json()["days"]
    assert day["events"] == 1 and day["visitors"] == 1
    assert day["opt_in"] == dict.fromkeys(ACCEPT_ALL, 0.0)
    assert set(day["by_method"]) == {"reject_all"}
    # What the config page's opt-in charts read.
    with app.app_context():
        assert stats.visitors(get_db(), site="demo") == 1
        assert [d["events"] for d in stats.daily(get_db(), site="demo")] == [1]


def test_scan_only_site_has_no_stats(scan_post, auditor):
    accepted(scan_post)
    assert auditor("/v1/audit/stats").get_json()["days"] == []


def test_the_audit_api_shows_scan_events_marked(scan_post, consent, auditor):
    visitor = consent.post().get_json()
    scanned = accepted(scan_post)
    listed = auditor("/v1/audit/events").get_json()["events"]
    assert [(e["event_id"], e["scan"]) for e in listed] == [
        (visitor["event_id"], False),
        (scanned["event_id"], True),
    ]
    # A visitor's history never lists a scan event; the scanner's own
    # history is there for an auditor who follows its consent id, marked.
    history = auditor(f"/v1/audit/consents/{visitor['id']}").get_json()
    assert [e["scan"] for e in history["events"]] == [False]
    history = auditor(f"/v1/audit/consents/{scanned['id']}").get_json()
    assert [e["scan"] for e in history["events"]] == [True]


def test_scan_events_stay_in_the_log_exports_and_tree(
    scan_post, consent, auditor, runner
):
    consent.post()
    scanned = accepted(scan_post)
    consent.post()
    # The chain and the tree take every event, the scan's among them.
    report = auditor("/v1/audit/verify").get_json()
    assert report["ok"] is True and report["events"] == 3 and report["tree_size"] == 3
    assert runner.invoke(args=["verify-log"]).exit_code == 0

    # The NDJSON export: the scan's entry says so, and the leaves rebuild the root.
    lines = [
        json.loads(line)
        for line in runner.invoke(
            args=["export", "--format", "ndjson"]
        ).output.splitlines()
    ]
    end = lines.pop()["end"]
    assert [e["entry"]["scan"] for e in lines] == [False, True, False]
    assert [e["scan"] for e in lines if e["event_id"] == scanned["event_id"]] == [True]
    leaves = [merkle.leaf_hash(canonical(line["entry"])) for line in lines]
    assert [base64.b64encode(h).decode() for h in leaves] == [
        line["leaf_hash"] for line in lines
    ]
    assert base64.b64encode(merkle.root_of(leaves)).decode() == end["root"]

    # The CSV export has every event and its scan column, next to last
    # (before the config document's hash, added later).
    csv_text = runner.invoke(args=["export", "--format", "csv"]).output
    header, *rows, last = csv_text.splitlines()
    assert header.split(",")[-2:] == ["scan", "config_hash"]
    assert last.startswith("#end rows=3")
    assert [r.rsplit(",", 2)[1] for r in rows] == ["false", "true", "false"]


@pytest.mark.parametrize(
    ("scope", "revoked", "status", "code"),
    (
        ("audit", False, 403, "forbidden"),
        ("stats", False, 403, "forbidden"),
        ("scan", True, 401, "unauthorized"),
    ),
)
def test_a_wrong_bearer_token_writes_nothing(
    consent, engine, make_token, runner, scope, revoked, status, code
):
    token = make_token(scope, "someone")
    if revoked:
        assert runner.invoke(args=["revoke-token", "someone"]).exit_code == 0
    before = count_events(engine)
    response = consent.post(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]
    assert count_events(engine) == before


def test_a_scan_token_bound_to_a_site_marks_that_sites_choices_only(
    app, consent, engine
):
    with app.app_context():
        ours = accounts.create_token(get_db(), "demo scan", "scan", site="demo")
        theirs = accounts.create_token(get_db(), "other scan", "scan", site="other")
    refused = consent.post(headers={"Authorization": f"Bearer {theirs}"})
    assert refused.status_code == 403
    assert refused.get_json()["error"] == {
        "code": "forbidden",
        "message": "this scan token is for site 'other' only",
    }
    assert count_events(engine) == 0
    assert consent.post(headers={"Authorization": f"Bearer {ours}"}).status_code == 201
    assert [r["scan"] for r in events(engine)] == [True]


def test_an_expired_scan_token_is_refused_as_a_revoked_one(app, consent, engine):
    with app.app_context():
        conn = get_db()
        token = accounts.create_token(
            conn,
            "short",
            "scan",
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60),
        )
        assert accounts.find_token(conn, token).expires_at is not None
        conn.execute(
            accounts.api_tokens.update().values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            )
        )
        conn.commit()
    response = consent.post(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == (
        "the token is unknown, was revoked or has expired"
    )
    assert count_events(engine) == 0


@pytest.mark.parametrize(
    ("scope", "given", "said"),
    (
        ("audit", {"site": "demo"}, "only a token of scope scan is bound to a site"),
        ("scan", {"site": "Not A Site"}, "Not A Site is not a site id"),
        (
            "scan",
            {"expires_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
            "a token must expire in the future",
        ),
    ),
)
def test_a_token_that_cannot_be_is_refused_and_nothing_is_made(app, scope, given, said):
    with app.app_context():
        conn = get_db()
        with pytest.raises(accounts.AuthError, match=said):
            accounts.create_token(conn, "bad", scope, **given)
        assert accounts.list_tokens(conn) == []


@pytest.mark.parametrize("header", ("Bearer cst_unknown", "Bearer", "bearer  "))
def test_an_unknown_or_empty_bearer_token_is_a_401(consent, engine, header):
    response = consent.post(headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert count_events(engine) == 0


def test_another_scheme_is_not_ours_and_is_ignored(consent, engine):
    # A proxy's Basic login in front of the service says nothing about scans.
    response = consent.post(headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 201
    assert [r["scan"] for r in events(engine)] == [None]


def test_a_scan_token_is_ignored_where_it_does_not_record(client, consent, make_token):
    headers = {"Authorization": f"Bearer {make_token()}"}
    token = consent.post().get_json()["token"]
    assert client.get("/v1/sites/demo/config", headers=headers).status_code == 200
    assert client.get("/s/demo/consent.js", headers=headers).status_code == 200
    # A visitor's token verifies as a visitor's, whoever asks.
    answer = client.post(
        "/v1/consent/verify", json={"token": token}, headers=headers
    ).get_json()
    assert answer["valid"] is True
    # And a bad bearer token on verify is no error either: verify ignores it.
    answer = client.post(
        "/v1/consent/verify",
        json={"token": token},
        headers={"Authorization": "Bearer cst_unknown"},
    )
    assert answer.status_code == 200 and answer.get_json()["valid"] is True


@pytest.mark.parametrize(
    ("token", "recorded", "note"),
    (
        ("cst_x", True, run.SCAN_EVENTS),
        (None, True, run.ORDINARY_EVENTS),
        ("cst_x", False, run.TOKEN_REFUSED),
    ),
)
def test_the_scan_report_says_how_its_choices_were_recorded(
    monkeypatch, token, recorded, note
):
    # Step: a crawl whose banner showed, and whose choices were recorded or
    # not (a refused token), without a browser.
    page = "http://127.0.0.1:9/"
    visits = [
        Visit(page, phase, banner=True, recorded=recorded and phase != "before")
        for phase in ("before", "rejected", "accepted")
    ]
    monkeypatch.setattr(run, "crawl", lambda *args, **kwargs: Crawl(page, visits))
    monkeypatch.setattr(run, "declared_services", lambda service, site: [])
    report = run.scan(page, None, site="demo", service=page, token=token)
    assert note in report.notes
    others = {run.SCAN_EVENTS, run.ORDINARY_EVENTS, run.TOKEN_REFUSED} - {note}
    assert not others & set(report.notes)
