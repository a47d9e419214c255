"""Recording a choice takes the site's config from the process's cache, and a
banner published by another server a moment ago is still recorded."""

import os
import subprocess
import sys

import sqlalchemy as sa

from consent_server.store import log as store_log
from consent_server.store import sites
from consent_server.store.schema import consent_events

ASK_AGAIN_ELSEWHERE = """
import sys
from consent_server.domain.demo_site import demo_config
from consent_server.store import engine, sites

made = engine.make_engine(sys.argv[1])
with made.connect() as conn:
    sites.publish(conn, demo_config(), published_by="another server", ask_again=True)
made.dispose()
"""


def test_a_first_choice_reads_no_config_from_the_database(client, consent, engine):
    assert consent.post().status_code == 201
    statements = []
    # The requests' engine and the one the commits are made on.
    for each in (engine, store_log.group_commit(engine).commit_engine()):
        sa.event.listen(
            each,
            "before_cursor_execute",
            lambda _conn, _cursor, statement, *_args: statements.append(statement),
        )

    answer = consent.post()

    assert answer.status_code == 201
    assert statements
    assert not [s for s in statements if "site_revisions" in s]


def test_a_banner_published_elsewhere_a_moment_ago_is_recorded(
    app, consent, database_url, engine
):
    # This process has the first consent revision cached, and (as within its
    # freshness window) does not look again.
    app.extensions["consent_configs"] = sites.ConfigCache(fresh_seconds=3600)
    assert consent.post().status_code == 201

    # Another server asks every visitor again: consent revision 2.
    subprocess.run(
        [sys.executable, "-c", ASK_AGAIN_ELSEWHERE, database_url],
        env=os.environ,
        check=True,
        timeout=60,
    )

    # A visitor shown the new banner (served by that server) chooses at once.
    # (One shown the old banner is still recorded under it until this
    # process's cache looks again, as its banner is still served meanwhile.)
    fresh = consent.post(revision=2)

    assert fresh.status_code == 201, fresh.get_json()
    with engine.connect() as conn:
        recorded = conn.execute(
            sa.select(consent_events.c.consent_revision).where(
                consent_events.c.event_id == fresh.get_json()["event_id"]
            )
        ).scalar_one()
    assert recorded == 2
