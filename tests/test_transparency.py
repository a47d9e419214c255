import base64
import hashlib
import json

import pytest
import sqlalchemy as sa

from consent_server.domain import merkle, note
from consent_server.domain.languages import texts_hash
from consent_server.domain.receipt import check as check_receipt
from consent_server.store import accounts, schema, sites
from consent_server.store import log as store_log
from consent_server.store.engine import get_db
from consent_server.store.schema import site_revisions
from tests.conftest import ConsentActions
from tests.helpers import events, new_event
from tests.rfc9162 import Reference

# The product's Merkle code is checked against tests/rfc9162.py, written from
# the RFC; the entry (the bytes a leaf hashes) is rebuilt here from the
# stored row, as someone holding an export would.

ENTRY_FIELDS = (
    "seq",
    "event_id",
    "consent_id",
    "continues",
    "site",
    "consent_revision",
    "config_revision",
    "authentication",
    "security",
    "preferences",
    "analytics",
    "advertising",
    "method",
    "gpc",
    "language",
    "texts_hash",
    "origin",
    "path",
    "ip",
    "user_agent",
)


def entry_of(row):
    value = {k: row[k] for k in ENTRY_FIELDS}
    # Version 2 adds the hash of the config document shown; an event
    # recorded before it existed has none and keeps a version-1 entry.
    value["v"] = 1
    if row["config_hash"] is not None:
        value["v"] = 2
        value["config_hash"] = row["config_hash"]
    value["recorded_at"] = row["recorded_at"].isoformat()
    value["scan"] = row["scan"] is True
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def reference(engine):
    rows = sorted(events(engine), key=lambda r: r["leaf_index"])
    assert [r["leaf_index"] for r in rows] == list(range(len(rows)))
    return rows, Reference([entry_of(r) for r in rows])


def b64(value):
    return base64.b64encode(value).decode()


@pytest.fixture
def app(make_app):
    # Signs a checkpoint whenever one is asked for (the default is at most
    # one a second per process).
    return make_app(CHECKPOINT_INTERVAL=0.001)


@pytest.fixture
def verifier(app):
    return app.extensions["consent_log_signer"].verifier


@pytest.fixture
def auditor(app, client):
    with app.app_context():
        token = accounts.create_token(get_db(), "auditor", "audit")

    def get(path, **params):
        return client.get(
            path, query_string=params, headers={"Authorization": f"Bearer {token}"}
        )

    return get


def post(consent, n, **changes):
    answers = []
    for _ in range(n):
        response = consent.post(**changes)
        assert response.status_code == 201
        answers.append(response.get_json())
    return answers


def checkpoint(client, verifier):
    response = client.get("/v1/log/checkpoint")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return note.open_checkpoint(response.get_data(), verifier)


def test_a_checkpoint_signs_the_tree_of_every_recorded_event(
    client, consent, engine, verifier
):
    post(consent, 5)
    signed = checkpoint(client, verifier)
    rows, ref = reference(engine)
    assert len(rows) == 5
    assert signed.size == 5
    assert signed.root == ref.mth(0, 5)
    assert signed.origin == verifier.name


def test_the_checkpoint_verifies_with_the_verifier_key_alone(client, consent, app):
    post(consent, 2)
    text = client.get("/v1/log/checkpoint").get_data()
    published = app.extensions["consent_log_signer"].verifier.key
    assert note.open_checkpoint(text, note.Verifier.from_key(published)).size == 2
    other = note.Signer.generate(note.Verifier.from_key(published).name)
    with pytest.raises(note.NoteError):
        note.open_checkpoint(text, other.verifier)
    changed = text.replace(b"\n2\n", b"\n3\n", 1)
    with pytest.raises(note.NoteError):
        note.open_checkpoint(changed, note.Verifier.from_key(published))


def test_after_a_key_change_the_checkpoint_is_signed_again_at_once(
    client, consent, app
):
    post(consent, 3)
    old = app.extensions["consent_log_signer"]
    before = client.get("/v1/log/checkpoint").get_data()
    assert note.open_checkpoint(before, old.verifier).size == 3
    # The operator changes the key (a restart with another CONSENT_LOG_KEY);
    # no consent arrives after it.
    new = note.Signer.generate(old.name)
    app.extensions["consent_log_signer"] = new
    app.extensions.pop("consent_checkpointer", None)  # a new process
    text = client.get("/v1/log/checkpoint").get_data()
    signed = note.open_checkpoint(text, new.verifier)
    assert signed.size == 3
    with pytest.raises(note.NoteError):
        note.open_checkpoint(text, old.verifier)


def test_inclusion_proofs_match_the_rfc(client, consent, engine, verifier, auditor):
    post(consent, 9)
    signed = checkpoint(client, verifier)
    rows, ref = reference(engine)
    for row in rows:
        for size in (row["leaf_index"] + 1, 9):
            answer = auditor(f"/v1/audit/events/{row['event_id']}/proof", size=size)
            assert answer.status_code == 200, answer.get_json()
            body = answer.get_json()
            assert body == {
                "leaf_index": row["leaf_index"],
                "tree_size": size,
                "hashes": [b64(h) for h in ref.path(row["leaf_index"], 0, size)],
            }
    # Without a size: against the latest checkpoint.
    first = rows[0]["event_id"]
    assert auditor(f"/v1/audit/events/{first}/proof").get_json()["tree_size"] == (
        signed.size
    )


def test_consistency_proofs_match_the_rfc(client, consent, engine, auditor):
    post(consent, 11)
    _rows, ref = reference(engine)
    for old in range(1, 12):
        for new in (old, 7, 11):
            if new < old:
                continue
            expected = [b64(h) for h in ref.proof(old, new)]
            public = client.get(
                "/v1/log/consistency", query_string={"from": old, "to": new}
            )
            assert public.get_json() == {"from": old, "to": new, "hashes": expected}
            audit = auditor("/v1/audit/consistency", **{"from": old, "to": new})
            assert audit.get_json() == public.get_json()
    empty = client.get("/v1/log/consistency", query_string={"from": 0, "to": 11})
    assert empty.get_json()["hashes"] == []


@pytest.mark.parametrize(
    "query",
    (
        {},
        {"from": 1},
        {"from": "x", "to": 2},
        {"from": 3, "to": 2},
        {"from": 1, "to": 99},
        {"from": "-1", "to": 2},
        {"from": "１", "to": 2},
    ),
)
def test_bad_consistency_sizes_are_a_clear_400(client, consent, query):
    post(consent, 3)
    answer = client.get("/v1/log/consistency", query_string=query)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "invalid_parameter"


def test_proof_of_an_unknown_event_or_a_size_it_is_not_in(consent, auditor):
    first = post(consent, 3)[0]
    assert auditor("/v1/audit/events/nope/proof").status_code == 404
    url = f"/v1/audit/events/{first['event_id']}/proof"
    for size in (0, 4, "abc"):
        answer = auditor(url, size=size)
        assert answer.status_code == 400
        assert answer.get_json()["error"]["code"] == "invalid_parameter"


def test_the_proofs_need_an_audit_token(client, consent):
    first = post(consent, 1)[0]
    assert client.get(f"/v1/audit/events/{first['event_id']}/proof").status_code == 401
    assert client.get("/v1/audit/consistency?from=1&to=1").status_code == 401


def test_an_operator_can_keep_the_log_paths_to_auditors(make_app):
    app = make_app(LOG_PUBLIC=False)
    client = app.test_client()
    post(ConsentActions(client), 2)
    assert client.get("/v1/log/checkpoint").status_code == 401
    assert client.get("/v1/log/consistency?from=1&to=2").status_code == 401
    with app.app_context():
        stats = accounts.create_token(get_db(), "stats", "stats")
        token = accounts.create_token(get_db(), "witness", "audit")
    refused = client.get(
        "/v1/log/checkpoint", headers={"Authorization": f"Bearer {stats}"}
    )
    assert refused.status_code == 403
    allowed = client.get(
        "/v1/log/checkpoint", headers={"Authorization": f"Bearer {token}"}
    )
    assert allowed.status_code == 200


def test_a_later_checkpoint_extends_an_earlier_one(client, consent, verifier):
    post(consent, 3)
    old = checkpoint(client, verifier)
    post(consent, 4)
    new = checkpoint(client, verifier)
    assert (old.size, new.size) == (3, 7)
    proof = client.get(
        "/v1/log/consistency", query_string={"from": 3, "to": 7}
    ).get_json()["hashes"]
    assert merkle.verify_consistency(
        3, 7, [base64.b64decode(h) for h in proof], old.root, new.root
    )


def test_the_revision_a_visitor_was_shown(client, consent, auditor, engine):
    post(consent, 1)
    row = events(engine)[0]
    answer = auditor(f"/v1/audit/sites/demo/revisions/{row['config_revision']}")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(site_revisions.c.document).where(
                site_revisions.c.site == "demo",
                site_revisions.c.revision == row["config_revision"],
            )
        ).scalar_one()
    # Byte for byte what was published: texts, categories and services.
    assert answer.get_data(as_text=True) == stored
    document = answer.get_json()
    assert document["site"] == "demo"
    assert {"languages", "categories", "services"} <= set(document)
    missing = auditor("/v1/audit/sites/demo/revisions/99")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "unknown_revision"


# -- receipts ------------------------------------------------------------------


def verify_receipt(receipt, verifier, banner):
    # consent-server verify-receipt RECEIPT --key KEY --banner DOCUMENT
    from click.testing import CliRunner

    from consent_server.cli import main

    args = ["verify-receipt", str(receipt), "--key", verifier.key]
    return CliRunner().invoke(main, [*args, "--banner", str(banner)])


def receipt_of(client, token):
    return client.post("/v1/consent/receipt", json={"token": token})


def test_a_receipt_proves_the_visitors_latest_event(client, consent, engine, verifier):
    first = post(consent, 1)[0]
    post(consent, 2)
    later = consent.post(previous=first["token"]).get_json()
    answer = receipt_of(client, first["token"])
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    # The latest event of the visitor, not the one the old token stood for.
    assert body["event"]["event_id"] == later["event_id"]
    assert body["event"]["consent_id"] == first["id"]
    rows, ref = reference(engine)
    row = next(r for r in rows if r["event_id"] == later["event_id"])
    assert (
        entry_of(row)
        == json.dumps(
            body["event"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    )
    signed = note.open_checkpoint(body["checkpoint"], verifier)
    assert signed.size == body["tree_size"] == 4
    assert body["leaf_index"] == row["leaf_index"]
    assert body["inclusion"] == [b64(h) for h in ref.path(row["leaf_index"], 0, 4)]


@pytest.mark.parametrize("token", ("", "abc", 7, None, "a.b.c.d"))
def test_a_receipt_needs_a_token_we_signed(client, consent, token):
    post(consent, 1)
    answer = receipt_of(client, token)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "invalid_token"


def test_a_receipt_body_must_name_a_token(client):
    answer = client.post("/v1/consent/receipt", json={"nope": 1})
    assert answer.status_code == 400
    assert client.post("/v1/consent/receipt", data="x").status_code == 415


def test_a_receipt_waits_for_the_checkpoint_that_covers_it(make_app):
    app = make_app(CHECKPOINT_INTERVAL=60)
    client = app.test_client()
    consent = ConsentActions(client)
    # The first append signs the first checkpoint; the next is due in 60 s.
    first = post(consent, 1)[0]
    second = post(consent, 1)[0]
    assert receipt_of(client, first["token"]).status_code == 200
    waiting = receipt_of(client, second["token"])
    assert waiting.status_code == 202
    assert waiting.headers["Retry-After"] == "60"
    assert waiting.get_json()["pending"] is True


def test_verify_receipt_checks_one_offline(client, consent, verifier, tmp_path):
    from click.testing import CliRunner

    from consent_server.cli import main

    token = post(consent, 3)[1]["token"]
    receipt = receipt_of(client, token).get_json()
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt, separators=(",", ":")))
    runner = CliRunner()
    good = runner.invoke(main, ["verify-receipt", str(path), "--key", verifier.key])
    assert good.exit_code == 0, good.output
    assert good.output.startswith(f"ok: event {receipt['event']['event_id']}")
    assert "leaf 1 " in good.output and "checkpoint of 3 events" in good.output
    # One byte changed anywhere that matters, and the receipt fails.
    text = path.read_text()
    for old, new in (
        ('"analytics":true', '"analytics":false'),
        ('"leaf_index":1', '"leaf_index":2'),
        (receipt["inclusion"][0][:4], "AAAA"),
        ("\\n3\\n", "\\n4\\n"),
    ):
        changed = text.replace(old, new, 1)
        assert changed != text, old
        path.write_text(changed)
        bad = runner.invoke(main, ["verify-receipt", str(path), "--key", verifier.key])
        assert bad.exit_code == 1, (old, bad.output)
        assert "INVALID" in bad.output
    other = note.Signer.generate(verifier.name).verifier.key
    path.write_text(text)
    wrong_key = runner.invoke(main, ["verify-receipt", str(path), "--key", other])
    assert wrong_key.exit_code == 1
    assert "does not verify" in wrong_key.output
    for args in (["--key", "nonsense"], ["--key", verifier.key, "--x"]):
        refused = runner.invoke(main, ["verify-receipt", str(path), *args])
        assert refused.exit_code == 2 or refused.output.startswith("Error:")
    missing = runner.invoke(
        main, ["verify-receipt", "/nonexistent", "--key", verifier.key]
    )
    assert missing.exit_code == 1 and missing.output.startswith("Error: cannot read")


def test_verify_receipt_checks_the_banner_the_visitor_was_shown(
    app, client, consent, verifier, auditor, tmp_path
):

    from consent_server.domain.demo_site import demo_config

    token = post(consent, 1, language="de")[0]["token"]
    receipt = receipt_of(client, token).get_json()
    event = receipt["event"]
    assert event["language"] == "de"
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    shown = auditor(f"/v1/audit/sites/demo/revisions/{event['config_revision']}")
    (tmp_path / "shown.json").write_bytes(shown.get_data())
    # Another revision: the same banner but its German title.
    changed = demo_config()
    changed["languages"]["de"]["title"] = "Ganz andere Worte"
    with app.app_context():
        other = sites.publish(get_db(), changed, published_by="editor").revision
    later = auditor(f"/v1/audit/sites/demo/revisions/{other}")
    assert later.status_code == 200
    (tmp_path / "later.json").write_bytes(later.get_data())
    # And one with the same texts but a service more: the banner would read
    # the same, but the visitor did not agree to that service.
    more = demo_config()
    more["services"] = [
        *more["services"],
        {"name": "Heatmaps", "category": "analytics", "cookies": [], "hosts": []},
    ]
    with app.app_context():
        third = sites.publish(get_db(), more, published_by="editor").revision
    (tmp_path / "more.json").write_bytes(
        auditor(f"/v1/audit/sites/demo/revisions/{third}").get_data()
    )
    foreign = {**json.loads(shown.get_data()), "site": "another"}
    (tmp_path / "foreign.json").write_text(json.dumps(foreign))
    # The shown document, but written out again with other whitespace.
    (tmp_path / "reformatted.json").write_text(
        json.dumps(json.loads(shown.get_data()), indent=2)
    )
    (tmp_path / "nonsense.json").write_text('{"site": "demo"}')

    def verify(banner):
        return verify_receipt(tmp_path / "receipt.json", verifier, tmp_path / banner)

    assert event["v"] == 2
    assert event["config_hash"] == hashlib.sha256(shown.get_data()).hexdigest()
    good = verify("shown.json")
    assert good.exit_code == 0, good.output
    assert "is the config document the visitor was shown" in good.output
    assert f"config_hash {event['config_hash']}" in good.output
    assert f"texts_hash {event['texts_hash']}" in good.output
    not_it = "is not the config document this event records"
    for banner, says in (
        ("later.json", not_it),
        ("more.json", not_it),
        ("reformatted.json", not_it),
        ("foreign.json", "is the config of site another"),
    ):
        bad = verify(banner)
        assert bad.exit_code == 1, bad.output
        assert says in bad.output and "INVALID" in bad.output
    nonsense = verify("nonsense.json")
    assert nonsense.exit_code == 1
    assert "is not a site's config document" in nonsense.output
    assert len(nonsense.output.strip().splitlines()) == 1


def test_verify_receipt_of_an_older_event_checks_only_its_texts(
    app, client, engine, verifier, auditor, tmp_path
):

    from consent_server.tokens import sign_token
    from tests.conftest import SECRET

    # An event as the log recorded them before it kept the config
    # document's hash: a version-1 entry.
    shown = auditor("/v1/audit/sites/demo/revisions/1").get_data()
    with app.app_context():
        config = sites.current_config(get_db(), "demo", 1)
    with engine.connect() as conn:
        row = store_log.append(
            conn,
            new_event(
                consent_id="00000000-0000-4000-8000-000000000001",
                choices={"preferences": True, "analytics": False, "advertising": False},
                method="custom",
                texts_hash=texts_hash(config, "en"),
            ),
        )
    token = sign_token(
        SECRET,
        consent_id=row["consent_id"],
        site="demo",
        revision=1,
        choices={"preferences": True, "analytics": False, "advertising": False},
        expires_at=4_000_000_000,
        event_id=row["event_id"],
    )
    receipt = receipt_of(client, token).get_json()
    assert receipt["event"]["v"] == 1 and "config_hash" not in receipt["event"]
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    (tmp_path / "shown.json").write_bytes(shown)
    result = verify_receipt(
        tmp_path / "receipt.json", verifier, tmp_path / "shown.json"
    )
    assert result.exit_code == 0, result.output
    assert "holds the texts the visitor was shown" in result.output
    assert "its categories and services are not proved" in result.output


def test_checkpoint_command_prints_a_signed_checkpoint(app, consent, verifier):
    post(consent, 2)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["checkpoint"])
    assert out.exit_code == 0, out.output
    assert note.open_checkpoint(out.output, verifier).size == 2


def test_prune_keeps_every_checkpoint_and_the_remaining_proofs(
    app, client, consent, engine, verifier, tmp_path
):
    answers = post(consent, 6)
    before = checkpoint(client, verifier)
    rows = events(engine)
    cut = rows[3]["recorded_at"]
    with engine.connect() as conn:
        # Everything recorded before the fourth event.
        assert store_log.prune(conn, 0, now=cut) == 3
    assert len(events(engine)) == 3
    runner = app.test_cli_runner()
    saved = tmp_path / "before.txt"
    saved.write_bytes(client.get("/v1/log/checkpoint").get_data())
    out = runner.invoke(args=["verify-log", "--against", str(saved)])
    assert out.exit_code == 0, out.output
    assert "Merkle tree of 6 leaves" in out.output
    # The same tree: the checkpoint signed before the prune still holds.
    assert checkpoint(client, verifier) == before
    for answer in answers[3:]:
        receipt = receipt_of(client, answer["token"]).get_json()
        assert receipt["tree_size"] == 6
        assert check_receipt(receipt, verifier).event["event_id"] == answer["event_id"]
    # A pruned visitor has nothing left to prove.
    assert receipt_of(client, answers[0]["token"]).status_code == 404


# -- erasure ---------------------------------------------------------------------


def test_erase_removes_one_visitors_events_and_keeps_every_proof(
    app, client, consent, engine, verifier, tmp_path
):
    others = post(consent, 2)
    first = post(consent, 1)[0]
    second = consent.post(previous=first["token"]).get_json()
    later = post(consent, 2)
    saved = tmp_path / "before.txt"
    saved.write_bytes(client.get("/v1/log/checkpoint").get_data())
    runner = app.test_cli_runner()

    out = runner.invoke(args=["erase", first["id"]])

    assert out.exit_code == 0, out.output
    assert out.output.startswith(f"Erased 2 events of consent {first['id']}")
    left = events(engine)
    assert first["id"] not in {r["consent_id"] for r in left}
    assert len(left) == 4
    # The chain, the tree and the checkpoint signed before all still hold.
    checked = runner.invoke(args=["verify-log", "--against", str(saved)])
    assert checked.exit_code == 0, checked.output
    assert "Merkle tree of 6 leaves" in checked.output
    for answer in others + later:
        receipt = receipt_of(client, answer["token"]).get_json()
        assert check_receipt(receipt, verifier).event["event_id"] == answer["event_id"]
    # The erased visitor has nothing left to prove, and the erasure is recorded.
    assert receipt_of(client, second["token"]).status_code == 404
    again = runner.invoke(args=["erase", first["id"]])
    assert again.exit_code == 0
    assert "was erased already, on " in again.output
    unknown = runner.invoke(args=["erase", "no-such-visitor"])
    assert unknown.exit_code == 1
    assert (
        unknown.output == "Error: the log holds no events of consent no-such-visitor\n"
    )


def test_erase_takes_the_visitors_ids_out_of_the_audit_access_records(
    app, consent, engine, auditor
):
    first, other = post(consent, 2)
    assert auditor(f"/v1/audit/consents/{first['id']}").status_code == 200
    assert auditor(f"/v1/audit/events/{first['event_id']}/proof").status_code in (
        200,
        202,
    )
    assert auditor(f"/v1/audit/consents/{other['id']}").status_code == 200

    out = app.test_cli_runner().invoke(args=["erase", first["id"]])

    assert out.exit_code == 0, out.output
    assert "Took its ids out of 2 audit access records" in out.output
    with engine.connect() as conn:
        paths = conn.execute(sa.select(schema.audit_access.c.path)).scalars().all()
    assert "/v1/audit/consents/[erased]" in paths
    assert "/v1/audit/events/[erased]/proof" in paths
    assert not [p for p in paths if first["id"] in p or first["event_id"] in p]
    # Another visitor's stay as they were.
    assert f"/v1/audit/consents/{other['id']}" in paths


def test_a_storefront_page_may_ask_for_its_visitors_receipt(client, consent):
    from tests.conftest import ORIGIN

    token = post(consent, 1)[0]["token"]
    preflight = client.options("/v1/consent/receipt", headers={"Origin": ORIGIN})
    assert preflight.status_code == 204
    answer = client.post(
        "/v1/consent/receipt", json={"token": token}, headers={"Origin": ORIGIN}
    )
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    stranger = client.post(
        "/v1/consent/receipt",
        json={"token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert "Access-Control-Allow-Origin" not in stranger.headers
    refused = client.options(
        "/v1/consent/receipt", headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403


def test_anyone_can_rebuild_the_tree_from_an_export(
    app, client, consent, engine, verifier, auditor
):
    answers = post(consent, 7)
    with engine.connect() as conn:
        # The first two pruned, one visitor erased: their leaves stay.
        assert store_log.prune(conn, 0, now=events(engine)[2]["recorded_at"]) == 2
    assert app.test_cli_runner().invoke(args=["erase", answers[4]["id"]]).exit_code == 0
    signed = checkpoint(client, verifier)
    text = auditor("/v1/audit/events", format="ndjson").get_data(as_text=True)
    lines = [json.loads(line) for line in text.splitlines()]
    *records, end = lines
    assert [r["leaf_index"] for r in records] == list(range(7))
    gone = [r for r in records if "entry" not in r]
    assert [r["leaf_index"] for r in gone] == [0, 1, 4]
    assert all(set(r) == {"leaf_index", "leaf_hash"} for r in gone)
    leaves = []
    for record in records:
        leaf = base64.b64decode(record["leaf_hash"])
        if "entry" in record:
            entry = json.dumps(
                record["entry"],
                sort_keys=True,
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode()
            # The entry is the event's own fields, and hashes to its leaf.
            assert record["entry"]["event_id"] == record["event_id"]
            assert hashlib.sha256(b"\x00" + entry).digest() == leaf
        leaves.append(leaf)
    ref = Reference([])
    ref.leaves = leaves
    assert end["end"]["tree_size"] == signed.size == 7
    assert base64.b64decode(end["end"]["root"]) == ref.mth(0, 7) == signed.root
    assert end["end"]["rows"] == 7
    csv_end = auditor("/v1/audit/events", format="csv").get_data(as_text=True)
    facts = dict(part.split("=", 1) for part in csv_end.splitlines()[-1].split()[1:])
    assert (facts["rows"], facts["tree_size"]) == ("4", "7")
    assert base64.b64decode(facts["root"]) == signed.root
    # A filtered export holds only its events, and still states the tree.
    mine = auditor("/v1/audit/events", format="ndjson", consent_id=answers[5]["id"])
    *only, tail = [json.loads(x) for x in mine.get_data(as_text=True).splitlines()]
    assert [r["event_id"] for r in only] == [answers[5]["event_id"]]
    assert tail["end"]["tree_size"] == 7


def test_a_checkpoint_with_one_changed_byte_in_its_signature_fails(
    client, consent, verifier
):
    post(consent, 2)
    text = client.get("/v1/log/checkpoint").get_data(as_text=True)
    signature = text.rstrip("\n").rsplit(" ", 1)[1]
    # The last character before the padding carries unused bits: set one.
    body = signature.rstrip("=")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    bumped = alphabet[alphabet.index(body[-1]) ^ 1]
    changed = text.replace(signature, body[:-1] + bumped + signature[len(body) :])
    assert changed != text
    with pytest.raises(note.NoteError):
        note.open_checkpoint(changed, verifier)


def test_verify_log_names_a_config_document_changed_after_visitors_saw_it(
    app, consent, engine, auditor
):
    post(consent, 2)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["verify-log"]).exit_code == 0
    assert auditor("/v1/audit/verify").get_json()["documents_changed"] == []
    # A service taken out of the stored document of the revision shown.
    where = (site_revisions.c.site == "demo") & (site_revisions.c.revision == 1)
    with engine.begin() as conn:
        document = json.loads(
            conn.execute(sa.select(site_revisions.c.document).where(where)).scalar()
        )
        document["services"] = document["services"][1:]
        conn.execute(
            site_revisions.update().where(where).values(document=json.dumps(document))
        )
    result = runner.invoke(args=["verify-log"])
    assert result.exit_code == 1
    assert (
        "CHANGED: the config document of site demo revision 1 is not the one"
        " 2 event(s) recorded" in result.output
    )
    answer = auditor("/v1/audit/verify").get_json()
    assert answer["ok"] is False and len(answer["documents_changed"]) == 1
    # And gone altogether.
    with engine.begin() as conn:
        conn.execute(site_revisions.delete().where(where))
    result = runner.invoke(args=["verify-log"])
    assert result.exit_code == 1 and "MISSING: the config document" in result.output


@pytest.mark.parametrize("v, drop, add", [(2, "config_hash", {}), (1, None, {})])
def test_a_receipt_must_hold_the_fields_of_its_entry_version(
    client, consent, verifier, v, drop, add
):
    receipt = receipt_of(client, post(consent, 1)[0]["token"]).get_json()
    event = dict(receipt["event"])
    if v == 1:
        event["v"] = 1  # a version-1 entry that still has a config hash
    else:
        event.pop(drop)  # a version-2 entry without one
    with pytest.raises(Exception, match="does not hold the fields of a version"):
        check_receipt({**receipt, "event": event}, verifier)
