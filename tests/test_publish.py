import threading

import sqlalchemy as sa

from consent_server.domain.demo_site import demo_config
from consent_server.store import schema, sites
from consent_server.store.engine import get_db


def test_publishes_at_the_same_moment_each_get_a_revision_of_their_own(app, engine):
    writers = 6
    start = threading.Barrier(writers)
    published, errors = [], []

    def publish(n):
        doc = {
            **demo_config(),
            "site": "busy",
            "policy_url": f"https://shop.example/{n}",
        }
        with app.app_context():
            start.wait()
            try:
                published.append(sites.publish(get_db(), doc, published_by=f"w{n}"))
            except Exception as exc:  # noqa: BLE001 - the test reports any failure
                errors.append(repr(exc))

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(c.revision for c in published) == list(range(1, writers + 1))
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(
                schema.site_revisions.c.revision, schema.site_revisions.c.published_by
            )
            .where(schema.site_revisions.c.site == "busy")
            .order_by(schema.site_revisions.c.revision)
        ).all()
    # Each revision is the document its writer sent.
    assert {(r.revision, r.published_by) for r in stored} == {
        (c.revision, f"w{c.policy_url.rsplit('/', 1)[1]}") for c in published
    }
