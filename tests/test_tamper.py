"""Someone with write access to the database rewrites the log: saved
checkpoints and a witness catch it, and name what happened."""

import shutil
import threading

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from werkzeug.serving import make_server

from consent_server.cli import main
from consent_server.domain import chain
from consent_server.domain.chain import GENESIS_HASH
from consent_server.store import erasure, tree
from consent_server.store.schema import (
    consent_events,
    log_checkpoints,
    log_erasures,
    log_head,
    tree_nodes,
)
from tests.conftest import ConsentActions
from tests.helpers import events


@pytest.fixture
def app(make_app):
    return make_app(CHECKPOINT_INTERVAL=0.001)


@pytest.fixture
def saved(app, runner, tmp_path):
    # `consent-server checkpoint --out`, kept away from the database.
    made = []

    def save():
        path = tmp_path / f"checkpoint-{len(made)}.txt"
        out = runner.invoke(args=["checkpoint", "--out", str(path)])
        assert out.exit_code == 0, out.output
        made.append(path)
        return path

    return save


def record(app, n):
    consent = ConsentActions(app.test_client())
    for _ in range(n):
        assert consent.post().status_code == 201


def verify_against(runner, *paths):
    args = ["verify-log"]
    for path in paths:
        args += ["--against", str(path)]
    return runner.invoke(args=args)


def rechain(conn, rows):
    # What a careful attacker does after changing rows: every chain hash, the
    # whole Merkle tree and the head, recomputed, and the database's own
    # checkpoints deleted.
    prev = GENESIS_HASH
    conn.execute(tree_nodes.delete())
    conn.execute(log_checkpoints.delete())
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = chain.row_hash(row)
    conn.execute(consent_events.delete())
    size, _edge = tree.integrate(conn, 0, rows)
    if rows:
        conn.execute(consent_events.insert(), rows)
    conn.execute(
        log_head.update().values(
            seq=rows[-1]["seq"] if rows else 0,
            hash=prev,
            tree_size=size,
            tree_edge=None,
        )
    )


def test_the_log_holds_what_it_signed(app, runner, saved):
    record(app, 4)
    first = saved()
    record(app, 3)
    second = saved()
    out = verify_against(runner, first, second)
    assert out.exit_code == 0, out.output
    assert "ok: holds the tree of" in out.output
    assert out.output.count("ok: holds the tree") == 2


def test_a_cut_tail_is_named(app, runner, saved, engine):
    record(app, 6)
    kept = saved()
    # Cut the last two events and mend the chain's head, without a hash.
    rows = events(engine)
    with engine.begin() as conn:
        conn.execute(consent_events.delete().where(consent_events.c.seq > 4))
        conn.execute(log_head.update().values(seq=4, hash=rows[3]["hash"]))
    out = verify_against(runner, kept)
    assert out.exit_code == 1
    assert "the event at leaf 4 is gone, and no prune or erase removed it" in out.output
    # Also cutting the tree's nodes and every checkpoint it kept.
    with engine.begin() as conn:
        rechain(conn, rows[:4])
        conn.execute(
            log_checkpoints.insert().values(
                tree_size=4, root=b"x" * 32, note="", signed_at=rows[0]["recorded_at"]
            )
        )
    out = verify_against(runner, kept)
    assert out.exit_code == 1
    assert "ROLLED BACK" in out.output or "TRUNCATED" in out.output
    assert "the log holds 4 events" in out.output


def test_a_row_rewritten_with_every_hash_recomputed_is_named(
    app, runner, saved, engine
):
    record(app, 5)
    kept = saved()
    rows = events(engine)
    rows[1]["analytics"] = not rows[1]["analytics"]
    with engine.begin() as conn:
        rechain(conn, rows)
    # The chain and the tree are consistent in themselves again...
    plain = runner.invoke(args=["verify-log"])
    assert plain.exit_code == 0, plain.output
    # ...but not with what the log signed before.
    out = verify_against(runner, kept)
    assert out.exit_code == 1
    assert "REWRITTEN: the first 5 events are not the ones the checkpoint signed" in (
        out.output
    )


def test_a_changed_or_missing_node_inside_the_tree_is_named(app, runner, engine):
    # The leaves and the root stay right; a node in between is what the
    # proofs are made of.
    record(app, 6)
    n = tree_nodes.c
    inner = (n.level == 1) & (n.position == 1)
    with engine.begin() as conn:
        kept = conn.execute(sa.select(n.hash).where(inner)).scalar_one()
        conn.execute(tree_nodes.update().where(inner).values(hash=b"\x00" * 32))
    out = runner.invoke(args=["verify-log"])
    assert out.exit_code == 1
    assert (
        "the tree's stored node 1 at level 1 does not match its leaves: proofs"
        " made from it would not verify"
    ) in out.output
    with engine.begin() as conn:
        conn.execute(tree_nodes.delete().where(inner))
    out = runner.invoke(args=["verify-log"])
    assert out.exit_code == 1
    assert "the tree's node 1 at level 1 is missing" in out.output
    with engine.begin() as conn:
        conn.execute(tree_nodes.insert().values(level=1, position=1, hash=kept))
    assert runner.invoke(args=["verify-log"]).exit_code == 0


# The backup is a copy of the SQLite file: the same on PostgreSQL would be a
# dump and a restore, which the tree sees the same way.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_older_copy_of_the_database_restored_is_named(
    make_app, tmp_path, database_url
):
    app = make_app(CHECKPOINT_INTERVAL=0.001)
    runner = app.test_cli_runner()
    record(app, 3)
    path = database_url.removeprefix("sqlite:///")
    app.extensions["consent_db"].dispose()
    shutil.copy(path, tmp_path / "backup.sqlite")
    record(app, 4)
    later = tmp_path / "later.txt"
    assert runner.invoke(args=["checkpoint", "--out", str(later)]).exit_code == 0
    app.extensions["consent_db"].dispose()
    shutil.copy(tmp_path / "backup.sqlite", path)
    for suffix in ("-wal", "-shm"):
        (tmp_path / ("consent.sqlite" + suffix)).unlink(missing_ok=True)
    out = verify_against(runner, later)
    assert out.exit_code == 1
    assert "ROLLED BACK: the log holds 3 events" in out.output
    assert "an older copy of the database was restored" in out.output


def test_an_emptied_log_is_named(app, runner, saved, engine):
    record(app, 3)
    kept = saved()
    with engine.begin() as conn:
        rechain(conn, [])
    out = verify_against(runner, kept)
    assert out.exit_code == 1
    assert "EMPTIED: the log holds no events, but the checkpoint signed 3" in out.output


def test_a_checkpoint_of_another_key_is_refused(app, runner, tmp_path):
    record(app, 1)
    path = tmp_path / "forged.txt"
    from consent_server.domain.note import Checkpoint, Signer

    signer = app.extensions["consent_log_signer"]
    forged = Checkpoint(signer.name, 1, b"\0" * 32).sign(Signer.generate(signer.name))
    path.write_text(forged)
    out = verify_against(runner, path)
    assert out.exit_code == 1
    assert out.output.startswith("Error: ")
    assert "is not a checkpoint signed by this log's key" in out.output


# -- a witness on another machine ------------------------------------------------


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def witness(url, state, *extra):
    return CliRunner().invoke(main, ["witness", url, "--state", str(state), *extra])


def test_a_witness_follows_the_log_and_catches_a_rewrite(app, served, engine, tmp_path):
    key = app.extensions["consent_log_signer"].verifier.key
    state = tmp_path / "witness"
    record(app, 3)
    first = witness(served, state, "--key", key)
    assert first.exit_code == 0, first.output
    assert "first checkpoint: 3 events" in first.output
    record(app, 2)
    grew = witness(served, state)
    assert grew.exit_code == 0, grew.output
    assert "grew from 3 to 5 events, consistently" in grew.output
    same = witness(served, state)
    assert "unchanged at 5 events" in same.output
    # The operator rewrites an old event and re-signs a tree with the key.
    rows = events(engine)
    rows[0]["advertising"] = not rows[0]["advertising"]
    with engine.begin() as conn:
        rechain(conn, rows)
    record(app, 1)
    caught = witness(served, state)
    assert caught.exit_code == 1
    assert "FORK: the log's tree of 6 events does not extend the tree of 5" in (
        caught.output
    )
    evidence = list(state.glob("evidence-*.txt"))
    assert len(evidence) == 1 and "FORK" in evidence[0].read_text()
    # The witness still holds the last good checkpoint.
    assert "\n5\n" in (state / "checkpoint").read_text()


def test_a_witness_catches_a_rollback_and_a_fork_of_equal_size(
    app, served, engine, tmp_path
):
    state = tmp_path / "witness"
    key = app.extensions["consent_log_signer"].verifier.key
    record(app, 4)
    assert witness(served, state, "--key", key).exit_code == 0
    rows = events(engine)
    with engine.begin() as conn:
        rechain(conn, rows[:2])
    shrunk = witness(served, state)
    assert shrunk.exit_code == 1
    assert "ROLLBACK: the log now signs a tree of 2 events" in shrunk.output
    rows[3]["preferences"] = not rows[3]["preferences"]
    with engine.begin() as conn:
        rechain(conn, rows)
    forked = witness(served, state)
    assert forked.exit_code == 1
    assert "FORK: the log signed two different trees of 4 events" in forked.output


def test_a_witness_refuses_a_checkpoint_its_key_did_not_sign(app, served, tmp_path):
    from consent_server.domain.note import Signer

    record(app, 1)
    other = Signer.generate("someone/else").verifier.key
    out = witness(served, tmp_path / "w", "--key", other)
    assert out.exit_code == 1
    assert "does not verify with its key" in out.output
    assert witness(served, tmp_path / "w2").output.startswith(
        "Error: the first run needs the log's --key"
    )
    unreachable = witness("http://127.0.0.1:9", tmp_path / "w3", "--key", other)
    assert unreachable.exit_code == 1
    assert unreachable.output.startswith("Error: cannot reach http://127.0.0.1:9/")


def test_the_tree_check_reads_awkward_rows_as_they_were_hashed(app, engine, runner):
    # Rows whose text the database cannot write as JSON unescaped (quotes,
    # backslashes, controls, non-ASCII), a scan event and a continued one:
    # the quick path or the typed one, the leaves come out the same.
    record(app, 2)
    rows = events(engine)
    awkward = ['"', "\\", "\x01\n", "é中🙂", "\u2028", 'a"b\\c', "</x>"]
    made = []
    for i, text in enumerate(awkward):
        row = dict(rows[-1])
        row.update(
            seq=rows[-1]["seq"] + 1 + i,
            event_id=f"awkward-{i}",
            user_agent=text,
            path="/" + text,
            continues=rows[0]["event_id"] if i % 2 else None,
            scan=True if i == 3 else None,
        )
        made.append(row)
    with engine.begin() as conn:
        prev = rows[-1]["hash"]
        for row in made:
            row["prev_hash"] = prev
            row["hash"] = prev = chain.row_hash(row)
        size, edge = tree.integrate(conn, len(rows), made)
        conn.execute(consent_events.insert(), made)
        conn.execute(
            log_head.update().values(
                seq=made[-1]["seq"], hash=prev, tree_size=size, tree_edge=edge
            )
        )
    with engine.connect() as conn:
        report = tree.verify_tree(conn)
    assert report.ok, report.problem
    assert report.tree_size == 2 + len(awkward)
    # Changing one awkward row is still caught, whichever path read it.
    with engine.begin() as conn:
        conn.execute(
            consent_events.update()
            .where(consent_events.c.event_id == "awkward-4")
            .values(user_agent="\u2029")
        )
    with engine.connect() as conn:
        report = tree.verify_tree(conn)
    assert not report.ok
    assert "does not hash to its leaf 6" in report.problem


def test_an_erasure_recorded_by_hand_to_hide_one_event_is_named(app, runner, engine):
    consent = ConsentActions(app.test_client())
    first = consent.post().get_json()
    consent.post(
        previous=first["token"],
        method="withdraw",
        choices={"preferences": False, "analytics": False, "advertising": False},
    )
    withdrawal = events(engine)[-1]
    # Drop the withdrawal and say the visitor asked for it to be erased.
    with engine.begin() as conn:
        conn.execute(
            consent_events.delete().where(consent_events.c.seq == withdrawal["seq"])
        )
        conn.execute(
            log_erasures.insert().values(
                seq=withdrawal["seq"],
                leaf_index=withdrawal["leaf_index"],
                prev_hash=withdrawal["prev_hash"],
                hash=withdrawal["hash"],
                consent_hash=erasure.consent_hash(withdrawal["consent_id"]),
                erased_at=withdrawal["recorded_at"],
            )
        )
    out = runner.invoke(args=["verify-log"])
    assert out.exit_code == 1
    assert "an erasure was recorded by hand" in out.output


def test_an_event_put_outside_the_tree_is_named_and_init_does_not_adopt_it(
    app, runner, engine
):
    record(app, 3)
    rows = events(engine)
    forged = dict(rows[-1])
    forged.update(seq=4, event_id="forged", prev_hash=rows[-1]["hash"], leaf_index=None)
    forged["hash"] = chain.row_hash(forged)
    with engine.begin() as conn:
        conn.execute(consent_events.insert().values(**forged))
        conn.execute(log_head.update().values(seq=4, hash=forged["hash"]))
    for _ in range(2):
        out = runner.invoke(args=["verify-log"])
        assert out.exit_code == 1
        assert "the event at sequence number 4 is not in the tree" in out.output
        # A later init does not give it a place in the tree.
        assert runner.invoke(args=["init"]).exit_code == 0
    with engine.begin() as conn:
        conn.execute(
            consent_events.update()
            .where(consent_events.c.seq == 4)
            .values(leaf_index=-1)
        )
    out = runner.invoke(args=["verify-log"])
    assert out.exit_code == 1
    assert "the event at sequence number 4 is not in the tree" in out.output
    receipt = app.test_client().post(
        "/v1/consent/receipt", json={"token": _token_of(app, forged)}
    )
    assert receipt.status_code == 409
    assert receipt.get_json()["error"]["code"] == "not_in_tree"


def _token_of(app, row):
    from consent_server.domain.vocabulary import OPTIONAL
    from consent_server.tokens import sign_token

    return sign_token(
        app.config["CONSENT_KEYS"],
        consent_id=row["consent_id"],
        site=row["site"],
        revision=row["consent_revision"],
        choices={k: row[k] for k in OPTIONAL},
        expires_at=int(row["recorded_at"].timestamp()) + 86400,
        event_id=row["event_id"],
    )
