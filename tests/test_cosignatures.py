"""Witnesses cosign the log's checkpoints (C2SP tlog-cosignature v1): the log
keeps the cosignatures of the witnesses its operator names, receipts carry
them, and their times catch an event dated before the tree that holds it."""

import base64
import datetime as dt
import hashlib
import json
import struct

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from consent_server.cli import main
from consent_server.domain.cosignature import Witness, WitnessSigner
from consent_server.domain.note import BadKey, Checkpoint
from consent_server.store.schema import log_cosignatures
from tests.conftest import ConsentActions
from tests.helpers import events
from tests.test_tamper import rechain, served, witness  # noqa: F401 (a fixture)


def independent_check(vkey, text, line):
    """A cosignature line checked from the C2SP text alone: the key id, the
    timestamp and the signed message."""
    name, hex_id, key64 = vkey.split("+", 2)
    key = base64.b64decode(key64)
    assert key[0] == 0x04
    wanted = hashlib.sha256(name.encode() + b"\n" + b"\x04" + key[1:]).digest()[:4]
    assert wanted.hex() == hex_id
    signer, b64 = line.removeprefix("— ").strip().split(" ")
    raw = base64.b64decode(b64)
    assert signer == name and raw[:4] == wanted and len(raw) == 76
    (when,) = struct.unpack(">Q", raw[4:12])
    signed = b"cosignature/v1\n" + f"time {when}\n".encode() + text.encode()
    Ed25519PublicKey.from_public_bytes(key[1:]).verify(raw[12:], signed)
    return when


def test_a_cosignature_is_c2sp_cosignature_v1():
    signer = WitnessSigner.generate("witness.example/w1")
    text = Checkpoint("shop.example/log", 7, bytes(range(32))).text
    line = signer.cosign(text, 1_767_000_000).line
    assert independent_check(signer.witness.key, text, line) == 1_767_000_000
    assert WitnessSigner.from_key(signer.key).witness == signer.witness
    assert Witness.from_key(signer.witness.key) == signer.witness
    # The log's own kind of key (0x01) is not a witness's.
    with pytest.raises(BadKey, match="a witness's is 4"):
        Witness.from_key(
            "shop.example/log+0f2e5b1c+AQ" + base64.b64encode(bytes(31)).decode()
        )


@pytest.fixture
def app(make_app):
    return make_app(CHECKPOINT_INTERVAL=0.001)


def named(app, *signers):
    app.config["LOG_WITNESSES"] = [s.witness.key for s in signers]


def record(app, n):
    consent = ConsentActions(app.test_client())
    return [consent.post().get_json() for _ in range(n)]


def test_a_witness_cosigns_and_the_receipt_carries_it(app, served, tmp_path):  # noqa: F811
    signer = WitnessSigner.generate("witness.example/w1")
    key_file = tmp_path / "witness.key"
    key_file.write_text(signer.key + "\n")
    named(app, signer)
    log_key = app.extensions["consent_log_signer"].verifier.key
    state = tmp_path / "state"
    made = record(app, 3)
    out = witness(served, state, "--key", log_key, "--sign-key", str(key_file))
    assert out.exit_code == 0, out.output
    assert "cosigned as witness.example/w1 and handed to the log (3 events)" in (
        out.output
    )
    cosigned = (state / "cosigned").read_text()
    text = cosigned[: cosigned.index("\n\n") + 1]
    independent_check(signer.witness.key, text, cosigned.splitlines()[-1])

    # More events after the witness's run: the receipt of an early one is in
    # the cosigned tree of 3, with the cosignature; a later one's is not.
    later = record(app, 2)
    receipt = app.test_client().post(
        "/v1/consent/receipt", json={"token": made[0]["token"]}
    )
    assert receipt.status_code == 200
    body = receipt.get_json()
    assert body["tree_size"] == 3
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(body))
    runner = CliRunner()
    args = ["verify-receipt", str(path), "--key", log_key]
    checked = runner.invoke(main, [*args, "--witness", signer.witness.key])
    assert checked.exit_code == 0, checked.output
    assert "cosigned by witness witness.example/w1 at" in checked.output
    # A witness that did not cosign it: the receipt does not satisfy it.
    other = WitnessSigner.generate("witness.example/w2")
    refused = runner.invoke(main, [*args, "--witness", other.witness.key])
    assert refused.exit_code == 1
    assert "not cosigned by witness witness.example/w2" in refused.output
    # One byte of the cosignature changed: it no longer counts.
    line = body["checkpoint"].splitlines()[-1]
    changed = line[:-6] + ("A" if line[-6] != "A" else "B") + line[-5:]
    path.write_text(
        json.dumps({**body, "checkpoint": body["checkpoint"].replace(line, changed)})
    )
    broken = runner.invoke(main, [*args, "--witness", signer.witness.key])
    assert broken.exit_code == 1, broken.output
    fresh = app.test_client().post(
        "/v1/consent/receipt", json={"token": later[-1]["token"]}
    )
    assert fresh.get_json()["tree_size"] == 5
    assert "witness.example/w1" not in fresh.get_json()["checkpoint"]


def test_the_log_keeps_only_what_its_witnesses_signed_of_its_own_tree(app, engine):
    signer = WitnessSigner.generate("witness.example/w1")
    client = app.test_client()
    record(app, 2)
    note = client.get("/v1/log/checkpoint").text
    text = note[: note.index("\n\n") + 1]
    line = signer.cosign(text, 1_767_000_000).line
    # No witness named: nothing kept.
    none = client.post("/v1/log/cosignature", data=note + line)
    assert none.status_code == 404
    named(app, signer)
    kept = client.post("/v1/log/cosignature", data=note + line)
    assert kept.status_code == 201, kept.text
    assert kept.get_json() == {"tree_size": 2, "cosigned_by": ["witness.example/w1"]}
    stranger = WitnessSigner.generate("witness.example/w9").cosign(text, 5).line
    refused = client.post("/v1/log/cosignature", data=note + stranger)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "no_cosignature"
    # A tree this log never had, though signed with its key (say, a fork):
    # refused, and nothing kept.
    fork = Checkpoint(text.splitlines()[0], 2, bytes(32))
    forged = fork.sign(app.extensions["consent_log_signer"])
    other = client.post(
        "/v1/log/cosignature", data=forged + signer.cosign(fork.text, 9).line
    )
    assert other.status_code == 409
    assert client.post("/v1/log/cosignature", data="nonsense").status_code == 400
    with engine.connect() as conn:
        rows = conn.execute(sa.select(log_cosignatures)).all()
    assert [(r.tree_size, r.first_time) for r in rows] == [(2, 1_767_000_000)]


def test_an_event_dated_before_the_witness_saw_the_tree_without_it_is_named(
    app, engine, runner
):
    signer = WitnessSigner.generate("witness.example/w1")
    named(app, signer)
    client = app.test_client()
    record(app, 2)
    note = client.get("/v1/log/checkpoint").text
    text = note[: note.index("\n\n") + 1]
    seen = int(dt.datetime.now(dt.UTC).timestamp())
    line = signer.cosign(text, seen).line
    assert client.post("/v1/log/cosignature", data=note + line).status_code == 201
    ok = runner.invoke(args=["verify-log"])
    assert ok.exit_code == 0, ok.output
    # Someone with the database and the log's key adds a consent dated a day
    # before the witness saw the tree of 2 without it, and recomputes the
    # chain and the whole tree to agree with that: only the witness's time
    # tells.
    record(app, 1)
    rows = events(engine)
    rows[-1]["recorded_at"] -= dt.timedelta(days=1)
    with engine.begin() as conn:
        rechain(conn, rows)
    caught = runner.invoke(args=["verify-log"])
    assert caught.exit_code == 1
    assert (
        "BACK-DATED: 1 events joined the tree after witness witness.example/w1"
        " saw it without them"
    ) in caught.output
    assert "the first at leaf 2" in caught.output
    assert "DATED LATER" not in caught.output
    # And one in the tree the witness saw, dated a day after it saw it.
    rows = events(engine)
    rows[-1]["recorded_at"] += dt.timedelta(days=1)
    rows[0]["recorded_at"] += dt.timedelta(days=1)
    with engine.begin() as conn:
        rechain(conn, rows)
    later = runner.invoke(args=["verify-log"])
    assert later.exit_code == 1
    assert (
        "DATED LATER: 1 events in the tree that witness witness.example/w1 saw at"
    ) in later.output
    assert "BACK-DATED" not in later.output


def cosigned_note(client, signer, when):
    note = client.get("/v1/log/checkpoint").text
    text = note[: note.index("\n\n") + 1]
    return note + signer.cosign(text, when).line


def test_a_cosignature_from_the_future_or_of_an_empty_tree_is_not_kept(app, engine):
    signer = WitnessSigner.generate("witness.example/w1")
    named(app, signer)
    client = app.test_client()
    empty = cosigned_note(client, signer, 1_767_000_000)
    refused = client.post("/v1/log/cosignature", data=empty)
    assert refused.status_code == 400 and "empty tree" in refused.text
    record(app, 1)
    for when in ((1 << 63) - 1, int(dt.datetime.now(dt.UTC).timestamp()) + 86_400):
        future = client.post(
            "/v1/log/cosignature", data=cosigned_note(client, signer, when)
        )
        assert future.status_code == 400, future.text
    with engine.connect() as conn:
        assert conn.execute(sa.select(log_cosignatures)).all() == []


def test_receipts_name_only_the_witnesses_of_now_under_the_key_of_now(app, tmp_path):
    from consent_server.domain.note import Signer

    kept = WitnessSigner.generate("witness.example/w1")
    # Another key under the same name: a cosignature of one is not the other's.
    twin = WitnessSigner.generate("witness.example/w1")
    named(app, kept, twin)
    client = app.test_client()
    made = record(app, 2)
    answer = client.post(
        "/v1/log/cosignature", data=cosigned_note(client, kept, 1_767_000_000)
    )
    assert answer.status_code == 201
    body = client.post("/v1/consent/receipt", json={"token": made[0]["token"]})
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(body.get_json()))
    log_key = app.extensions["consent_log_signer"].verifier.key
    args = ["verify-receipt", str(path), "--key", log_key]
    runner = CliRunner()
    assert runner.invoke(main, [*args, "--witness", kept.witness.key]).exit_code == 0
    both = runner.invoke(
        main, [*args, "--witness", kept.witness.key, "--witness", twin.witness.key]
    )
    assert both.exit_code == 1, both.output
    # A witness the operator no longer names: its cosignatures go out no more.
    named(app, twin)
    again = client.post("/v1/consent/receipt", json={"token": made[0]["token"]})
    assert "witness.example/w1" not in again.get_json()["checkpoint"]
    # After a change of the log's key, receipts are in a checkpoint the new
    # key signed, and check with it.
    named(app, kept)
    new = Signer.generate(app.extensions["consent_log_signer"].name)
    app.extensions["consent_log_signer"] = new
    rotated = client.post("/v1/consent/receipt", json={"token": made[0]["token"]})
    assert rotated.status_code == 200, rotated.text
    path.write_text(json.dumps(rotated.get_json()))
    checked = runner.invoke(
        main, ["verify-receipt", str(path), "--key", new.verifier.key]
    )
    assert checked.exit_code == 0, checked.output


def test_the_leash_runs_a_program_from_a_path_with_spaces(tmp_path, monkeypatch):
    import subprocess
    import sys

    from consent_server.scan import crawl

    folder = tmp_path / "an interpreter's folder"
    folder.mkdir()
    (folder / "python").symlink_to(sys.executable)
    monkeypatch.setattr(crawl.sys, "executable", str(folder / "python"))
    profile = tmp_path / "a profile"
    profile.mkdir()
    wrapper = crawl._leashed("/bin/echo", str(profile))
    assert wrapper != "/bin/echo"
    ran = subprocess.run([wrapper, "it", "ran"], capture_output=True, text=True)
    assert (ran.returncode, ran.stdout) == (0, "it ran\n"), ran.stderr
