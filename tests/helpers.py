import sqlalchemy as sa

from consent_server.db import consent_events


def count_events(engine):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(consent_events)
        ).scalar()


def events(engine):
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(consent_events).order_by(consent_events.c.seq)
            ).mappings()
        ]
