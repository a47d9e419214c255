import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa

from consent_server.domain import demo_site
from consent_server.store import accounts
from consent_server.store import log as store_log
from consent_server.store import sites as store_sites
from consent_server.store.engine import get_db
from consent_server.store.schema import consent_events
from consent_server.tokens import sign_token
from tests.conftest import ORIGIN, SECRET
from tests.helpers import events

EVERYTHING = {"preferences": True, "analytics": True, "advertising": True}
NOTHING = {"preferences": False, "analytics": False, "advertising": False}


def accept_all(consent, **changes):
    response = consent.post(method="accept_all", choices=EVERYTHING, **changes)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def reject_all(consent, **changes):
    response = consent.post(method="reject_all", choices=NOTHING, **changes)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def row_of(engine, event_id):
    (row,) = [e for e in events(engine) if e["event_id"] == event_id]
    return row


def chain_ok(engine):
    with engine.connect() as conn:
        return store_log.verify_chain(conn).ok


def test_only_the_latest_token_continues_a_history(consent, engine):
    a = accept_all(consent)
    b = reject_all(consent, previous=a["token"])
    # B changed the visitor's mind: same visitor, continuing A.
    assert b["id"] == a["id"]
    assert row_of(engine, b["event_id"])["continues"] == a["event_id"]

    # Someone still holding A cannot write into that history any more.
    stale = accept_all(consent, previous=a["token"])
    assert stale["id"] != a["id"]
    assert row_of(engine, stale["event_id"])["continues"] is None

    # The visitor's own latest token still continues it.
    c = accept_all(consent, previous=b["token"])
    assert c["id"] == a["id"]
    assert row_of(engine, c["event_id"])["continues"] == b["event_id"]
    history = [e for e in events(engine) if e["consent_id"] == a["id"]]
    assert [e["event_id"] for e in history] == [
        a["event_id"],
        b["event_id"],
        c["event_id"],
    ]
    assert chain_ok(engine)


def test_first_choice_continues_nothing(consent, engine):
    a = accept_all(consent)
    assert row_of(engine, a["event_id"])["continues"] is None


def test_expired_latest_token_continues_the_history(consent, engine):
    a = accept_all(consent)
    # The token the server gave for A, but past its lifetime.
    expired = sign_token(
        SECRET,
        consent_id=a["id"],
        site="demo",
        revision=1,
        choices=EVERYTHING,
        expires_at=int(time.time()) - 60,
        event_id=a["event_id"],
    )
    assert consent.verify(expired).get_json()["reason"] == "expired"
    b = reject_all(consent, previous=expired)
    assert b["id"] == a["id"]
    assert row_of(engine, b["event_id"])["continues"] == a["event_id"]


def test_expired_superseded_token_starts_a_new_visitor(consent, engine):
    a = accept_all(consent)
    reject_all(consent, previous=a["token"])
    expired_a = sign_token(
        SECRET,
        consent_id=a["id"],
        site="demo",
        revision=1,
        choices=EVERYTHING,
        expires_at=int(time.time()) - 60,
        event_id=a["event_id"],
    )
    c = accept_all(consent, previous=expired_a)
    assert c["id"] != a["id"]


def test_latest_token_of_an_older_consent_revision_continues(app, consent, engine):
    a = accept_all(consent)
    # The editor publishes with "ask every visitor again".
    with app.app_context():
        store_sites.publish(
            get_db(), demo_site.demo_config(), published_by="test", ask_again=True
        )
    assert consent.verify(a["token"]).get_json()["reason"] == "old_revision"
    b = reject_all(consent, previous=a["token"], revision=2)
    assert b["id"] == a["id"]
    assert row_of(engine, b["event_id"])["continues"] == a["event_id"]
    # And the answer to "ask again" is the visitor's latest token now.
    c = accept_all(consent, previous=a["token"], revision=2)
    assert c["id"] != a["id"]


def test_audit_history_shows_what_each_event_continues(app, client, consent):
    a = accept_all(consent)
    b = reject_all(consent, previous=a["token"])
    with app.app_context():
        token = accounts.create_token(get_db(), "auditor", "audit")
    response = client.get(
        f"/v1/audit/consents/{a['id']}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    shown = [(e["event_id"], e["continues"]) for e in response.get_json()["events"]]
    assert shown == [(a["event_id"], None), (b["event_id"], a["event_id"])]


@pytest.mark.parametrize("column", ("continues", "consent_id"))
def test_changing_what_an_event_continues_breaks_the_chain(consent, engine, column):
    a = accept_all(consent)
    b = reject_all(consent, previous=a["token"])
    accept_all(consent, previous=b["token"])
    assert chain_ok(engine)
    seq = row_of(engine, b["event_id"])["seq"]
    with engine.begin() as conn:
        conn.execute(
            consent_events.update()
            .where(consent_events.c.seq == seq)
            .values({column: "00000000-0000-0000-0000-000000000000"})
        )
    with engine.connect() as conn:
        report = store_log.verify_chain(conn)
    assert (report.ok, report.first_bad_seq) == (False, seq)


@pytest.mark.parametrize("value", ("00000000-0000-0000-0000-000000000000", None))
def test_setting_or_clearing_continues_breaks_the_chain(consent, engine, value):
    a = accept_all(consent)
    b = reject_all(consent, previous=a["token"])
    # Claim the first choice continued something, or that B continued nothing.
    target = a if value else b
    seq = row_of(engine, target["event_id"])["seq"]
    with engine.begin() as conn:
        conn.execute(
            consent_events.update()
            .where(consent_events.c.seq == seq)
            .values(continues=value)
        )
    with engine.connect() as conn:
        report = store_log.verify_chain(conn)
    assert (report.ok, report.first_bad_seq) == (False, seq)


def test_concurrent_posts_with_the_latest_token_continue_once(app, consent, engine):
    a = accept_all(consent)
    threads_count = 8
    start = threading.Barrier(threads_count)
    answers = []
    errors = []

    def post():
        client = app.test_client()
        start.wait()
        response = client.post(
            "/v1/consent",
            json=consent.body(
                previous=a["token"], method="reject_all", choices=NOTHING
            ),
            headers={"Origin": ORIGIN},
        )
        if response.status_code == 201:
            answers.append(response.get_json())
        else:
            errors.append(response.get_data(as_text=True))

    threads = [threading.Thread(target=post) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    continued = [r for r in answers if r["id"] == a["id"]]
    assert len(continued) == 1
    # Everyone else became a visitor of their own.
    others = {r["id"] for r in answers} - {a["id"]}
    assert len(others) == threads_count - 1
    rows = {e["event_id"]: e for e in events(engine)}
    assert rows[continued[0]["event_id"]]["continues"] == a["event_id"]
    assert [r["event_id"] for r in answers if rows[r["event_id"]]["continues"]] == [
        continued[0]["event_id"]
    ]
    assert chain_ok(engine)
    with engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(consent_events)
            .where(consent_events.c.consent_id == a["id"])
        ).scalar()
    assert count == 2


def test_after_prune_no_token_continues_the_gone_history(consent, engine):
    # Once prune removed a visitor's events, nothing tells their latest token
    # from an older one: neither may write into that consent id.
    a = accept_all(consent)
    b = reject_all(consent, previous=a["token"])
    assert b["id"] == a["id"]
    with engine.connect() as conn:
        store_log.prune(conn, 0, now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    assert events(engine) == []
    assert accept_all(consent, previous=a["token"])["id"] != a["id"]
    assert accept_all(consent, previous=b["token"])["id"] != a["id"]
