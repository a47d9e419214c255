import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from consent_server import create_app
from consent_server.domain import chain, demo_site
from consent_server.domain.chain import GENESIS_HASH
from consent_server.domain.vocabulary import OPTIONAL
from consent_server.store import accounts, log, migrate, tree
from consent_server.store import sites as store_sites
from consent_server.store.engine import make_engine
from consent_server.store.schema import log_head, metadata
from consent_server.tokens import sign_token
from tests import schema_0_1
from tests.conftest import SECRET, ConsentActions
from tests.helpers import events, fill_log


@pytest.fixture
def old_engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def app_on(database_url):
    # The application without running init: the tests run it themselves.
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET,
            "RATELIMIT_ENABLED": False,
        }
    )
    yield app
    app.extensions["consent_db"].dispose()


def init_0_1(engine):
    # What consent-server 0.1's `init` did on an empty database.
    schema_0_1.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            schema_0_1.log_head.insert().values(id=1, seq=0, hash=GENESIS_HASH)
        )


def before_audit_trail(engine):
    # A database made before revocation, the audit trail and the (site, seq)
    # index, which 0.1's init added to it on the fly.
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE audit_access"))
        conn.execute(sa.text("DROP INDEX ix_consent_events_site_seq"))
        conn.execute(sa.text("ALTER TABLE api_tokens DROP COLUMN revoked_at"))


def version(engine):
    with engine.connect() as conn:
        return migrate.current_revision(conn)


def differences(engine, target):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, target)


def chained(rows):
    prev = GENESIS_HASH
    for row in rows:
        if row["prev_hash"] != prev or chain.row_hash(row) != row["hash"]:
            return False
        prev = row["hash"]
    return True


def head_row(engine):
    with engine.connect() as conn:
        h = log_head.c
        return tuple(conn.execute(sa.select(h.id, h.seq, h.hash)).one())


@pytest.mark.parametrize("older", [None, before_audit_trail], ids=["0.1", "older"])
def test_init_adopts_a_database_made_before_alembic(old_engine, app_on, older):
    init_0_1(old_engine)
    with old_engine.connect() as conn:
        store_sites.publish(conn, demo_site.demo_config(), published_by="0.1")
    # (Today's append code writes the Merkle tree too, which a 0.1 database
    # has no tables for: the rows are written the way 0.1 wrote them.)
    fill_log(old_engine, 41)
    if older:
        older(old_engine)
    before = events(old_engine)
    head_before = head_row(old_engine)
    # Today's hashing reads the old rows exactly as they were written.
    assert chained(before)
    assert len(before) == 41 and version(old_engine) is None

    result = app_on.test_cli_runner().invoke(args=["init"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Database ready."
    assert version(old_engine) == migrate.head_revision()
    after = events(old_engine)
    # The rows are untouched; later revisions only added empty columns, and
    # the upgrade put every old event into the Merkle tree, in log order.
    assert [r.pop("continues") for r in after] == [None] * 41
    assert [r.pop("leaf_index") for r in after] == list(range(41))
    assert [r.pop("scan") for r in after] == [None] * 41
    assert [r.pop("config_hash") for r in after] == [None] * 41
    assert after == before
    assert head_row(old_engine) == head_before
    with old_engine.connect() as conn:
        assert tree.tree_size(conn) == 41
    verify = app_on.test_cli_runner().invoke(args=["verify-log"])
    assert verify.exit_code == 0
    assert "ok: 41 events" in verify.output
    assert differences(old_engine, metadata) == []
    # The adopted database works as a new one, revocation included.
    with old_engine.connect() as conn:
        accounts.create_token(conn, "after", "audit")
    assert (
        app_on.test_cli_runner().invoke(args=["revoke-token", "after"]).exit_code == 0
    )


def test_init_on_an_empty_database_reaches_head(old_engine, app_on):
    result = app_on.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Database ready. Created the demo site."
    assert version(old_engine) == migrate.head_revision()
    assert head_row(old_engine) == (1, 0, GENESIS_HASH)
    # The revisions build exactly the tables schema.py describes.
    assert differences(old_engine, metadata) == []


def test_baseline_builds_what_0_1_built(old_engine):
    # The first revision alone: later ones add to it.
    with old_engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), migrate.BASELINE)
    # Compare with the frozen 0.1 schema too: the first revision is that schema.
    assert differences(old_engine, schema_0_1.metadata) == []
    assert differences(old_engine, migrate.baseline_metadata()) == []


def test_init_twice_changes_nothing(old_engine, app_on):
    runner = app_on.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    fill_log(old_engine, 5, start=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    before = events(old_engine), head_row(old_engine), version(old_engine)

    result = runner.invoke(args=["init"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Database ready."
    assert (events(old_engine), head_row(old_engine), version(old_engine)) == before


def test_init_refuses_a_database_it_did_not_make(old_engine, app_on):
    init_0_1(old_engine)
    fill_log(old_engine, 3)
    # A column that no consent-server version had: not ours to adopt.
    with old_engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE log_prunes ADD COLUMN note VARCHAR(10)"))
        conn.execute(sa.text("DROP TABLE users"))
    before = events(old_engine)

    result = app_on.test_cli_runner().invoke(args=["init"])

    assert result.exit_code == 1
    assert "do not match the baseline" in result.output
    assert "log_prunes" in result.output
    assert version(old_engine) is None
    assert events(old_engine) == before
    # Checked before anything changed: the missing table was not made either.
    assert not sa.inspect(old_engine).has_table("users")


def test_a_log_from_before_continues_verifies_after_the_upgrade(old_engine, app_on):
    # A database at the first revision, with rows written as it had them.
    with old_engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), migrate.BASELINE)
    with old_engine.connect() as conn:
        store_sites.publish(conn, demo_site.demo_config(), published_by="0.1")
    fill_log(old_engine, 21)
    consent = ConsentActions(app_on.test_client())
    # The token the visitor of the last row was given then.
    last = events(old_engine)[-1]
    first = {
        "id": last["consent_id"],
        "event_id": last["event_id"],
        "token": sign_token(
            SECRET,
            consent_id=last["consent_id"],
            site=last["site"],
            revision=last["consent_revision"],
            choices={k: last[k] for k in OPTIONAL},
            expires_at=int(dt.datetime.now(dt.UTC).timestamp()) + 86400,
            event_id=last["event_id"],
        ),
    }
    before = events(old_engine)
    assert "continues" not in before[0]

    result = app_on.test_cli_runner().invoke(args=["init"])

    assert result.exit_code == 0, result.output
    assert version(old_engine) == migrate.head_revision()
    after = events(old_engine)
    assert [r.pop("continues") for r in after] == [None] * 21
    assert [r.pop("leaf_index") for r in after] == list(range(21))
    assert [r.pop("scan") for r in after] == [None] * 21
    assert [r.pop("config_hash") for r in after] == [None] * 21
    assert after == before
    with old_engine.connect() as conn:
        assert log.verify_chain(conn) == chain.ChainReport(True, 21, None)
    # The visitor's token from before continues their history now, recorded.
    second = consent.post(previous=first["token"]).get_json()
    assert second["id"] == first["id"]
    assert events(old_engine)[-1]["continues"] == first["event_id"]
    with old_engine.connect() as conn:
        assert log.verify_chain(conn) == chain.ChainReport(True, 22, None)
