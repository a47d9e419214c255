"""Opt-in statistics from the consent log: per day and site, split by method and GPC.

Only visitors' choices count: the cookie scanner's (scan events) are left out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.vocabulary import OPTIONAL
from .schema import consent_events
from .schema import sites as site_table


def _rates(events: int, granted: dict[str, int]) -> dict[str, float]:
    return {k: round(granted[k] / events, 4) if events else 0.0 for k in OPTIONAL}


def _where(
    site: str | None, since: dt.date | None, until: dt.date | None
) -> list[sa.ColumnElement[bool]]:
    c = consent_events.c
    # The cookie scanner's choices are no visitor's: never counted.
    where: list[sa.ColumnElement[bool]] = [c.scan.is_not(True)]
    if site is not None:
        where.append(c.site == site)
    if since is not None:
        where.append(c.recorded_at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if until is not None:
        where.append(c.recorded_at < dt.datetime.combine(until, dt.time(), dt.UTC))
    return where


def daily(
    conn: Connection,
    *,
    site: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Per UTC day and site: events, distinct visitors, and the opt-in rate of
    each optional category, overall, per method and with and without GPC.

    ``until`` is exclusive. Days are oldest first.
    """
    c = consent_events.c
    # SQLite keeps UTC timestamps as text; PostgreSQL's session zone is UTC.
    day = (
        sa.func.date(c.recorded_at)
        if conn.dialect.name == "sqlite"
        else sa.cast(c.recorded_at, sa.Date)
    ).label("day")
    where = _where(site, since, until)
    sums = [sa.func.sum(sa.cast(c[k], sa.Integer)).label(k) for k in OPTIONAL]
    with conn.begin():
        groups = conn.execute(
            sa.select(
                day, c.site, c.method, c.gpc, sa.func.count().label("events"), *sums
            )
            .where(*where)
            .group_by(day, c.site, c.method, c.gpc)
        ).all()
        visitors = {
            (str(r.day), r.site): r.visitors
            for r in conn.execute(
                sa.select(
                    day,
                    c.site,
                    sa.func.count(sa.distinct(c.consent_id)).label("visitors"),
                )
                .where(*where)
                .group_by(day, c.site)
            )
        }

    days: dict[tuple[str, str], dict[str, Any]] = {}
    for g in groups:
        key = (str(g.day), g.site)
        entry = days.setdefault(
            key,
            {
                "events": 0,
                "granted": dict.fromkeys(OPTIONAL, 0),
                "method": {},
                "gpc": {},
            },
        )
        for bucket in (
            entry,
            entry["method"].setdefault(g.method, _empty()),
            entry["gpc"].setdefault("on" if g.gpc else "off", _empty()),
        ):
            bucket["events"] += g.events
            for k in OPTIONAL:
                bucket["granted"][k] += int(getattr(g, k) or 0)

    def shaped(bucket: dict[str, Any]) -> dict[str, Any]:
        return {
            "events": bucket["events"],
            "opt_in": _rates(bucket["events"], bucket["granted"]),
        }

    return [
        {
            "day": key[0],
            "site": key[1],
            "visitors": visitors[key],
            **shaped(entry),
            "by_method": {m: shaped(b) for m, b in sorted(entry["method"].items())},
            "by_gpc": {g: shaped(b) for g, b in sorted(entry["gpc"].items())},
        }
        for key, entry in sorted(days.items())
    ]


def _empty() -> dict[str, Any]:
    return {"events": 0, "granted": dict.fromkeys(OPTIONAL, 0)}


def visitors(
    conn: Connection,
    *,
    site: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> int:
    """How many distinct visitors made a choice in the range (``until``
    exclusive): one who came back on several days counts once, unlike the
    sum of :func:`daily`'s ``visitors``."""
    c = consent_events.c
    where = _where(site, since, until)
    with conn.begin():
        return int(
            conn.execute(
                sa.select(sa.func.count(sa.distinct(c.consent_id))).where(*where)
            ).scalar_one()
        )


def sites(conn: Connection) -> list[str]:
    """The ids of every published site, in order."""
    with conn.begin():
        return list(
            conn.execute(sa.select(site_table.c.id).order_by(site_table.c.id)).scalars()
        )
