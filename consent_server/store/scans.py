"""The newest cookie scan of each site: claiming the site for one, its progress,
its report.

One row per site (``site_scans``). Starting a scan takes the row with one
conditional statement, so two editors (or two server processes) pressing
Start at once get one scan between them. The worker names its scan (``run``)
in every write, so a worker that outlived its time bound cannot overwrite the
scan that took the row after it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.errors import ConsentError
from .schema import site_scans

RUNNING, DONE, FAILED = "running", "done", "failed"
# The PostgreSQL advisory lock under which a scan is claimed (any number,
# the same in every process: "scan" in ASCII).
SCANS_LOCK = 0x7363616E
# What a scan that outlived its time bound says (its process died, or hung).
OVERDUE = (
    "the scan did not finish within its time bound: the server may have"
    " restarted while it ran"
)


class ScansBusy(ConsentError):
    """As many scans as the server allows at once are running."""

    def __init__(self, running: int) -> None:
        super().__init__("scans_busy", f"{running} scans are running already")
        self.running = running


class ScanRunning(ConsentError):
    """A scan of the site is running already."""

    def __init__(self, scan: Scan) -> None:
        super().__init__("scan_running", f"a scan of {scan.site} is running already")
        self.scan = scan


@dataclasses.dataclass(frozen=True)
class Scan:
    """A site's newest scan, as the page shows it."""

    site: str
    run: str
    state: str
    start_url: str
    pages: int
    pages_done: int
    pages_planned: int
    visits_done: int
    started_by: str
    started_at: dt.datetime
    expires_at: dt.datetime
    finished_at: dt.datetime | None
    report: str | None
    error: str | None


def _scan(row: Any, now: dt.datetime) -> Scan:
    scan = Scan(**row._mapping)
    if scan.state == RUNNING and scan.expires_at < now:
        return dataclasses.replace(scan, state=FAILED, error=OVERDUE)
    return scan


def latest(conn: Connection, site: str) -> Scan | None:
    """The site's newest scan, or None; a running one past its time bound
    is given as failed."""
    with conn.begin():
        row = conn.execute(
            sa.select(site_scans).where(site_scans.c.site == site)
        ).first()
    return _scan(row, dt.datetime.now(dt.UTC)) if row else None


def start(
    conn: Connection,
    site: str,
    start_url: str,
    pages: int,
    started_by: str,
    seconds: float,
    at_once: int | None = None,
) -> str:
    """Claim the site for a new scan that may run for ``seconds``; return its
    name (``run``). With ``at_once``, only while fewer scans than that (of
    any site, by any process of the service) are running.

    :raise ScanRunning: if a scan of the site is running and within its bound.
    :raise ScansBusy: if ``at_once`` scans of other sites are.
    """
    now = dt.datetime.now(dt.UTC)
    run = secrets.token_hex(16)
    values = {
        "run": run,
        "state": RUNNING,
        "start_url": start_url,
        "pages": pages,
        "pages_done": 0,
        "pages_planned": pages,
        "visits_done": 0,
        "started_by": started_by,
        "started_at": now,
        "expires_at": now + dt.timedelta(seconds=seconds),
        "finished_at": None,
        "report": None,
        "error": None,
    }
    c = site_scans.c
    try:
        with conn.begin():
            if at_once is not None:
                _lock(conn)
                busy = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(site_scans)
                    .where(c.site != site, c.state == RUNNING, c.expires_at >= now)
                ).scalar_one()
                if busy >= at_once:
                    raise ScansBusy(busy)
            taken = conn.execute(
                site_scans.update()
                .where(c.site == site)
                .where(sa.or_(c.state != RUNNING, c.expires_at < now))
                .values(**values)
            )
            if taken.rowcount == 1:
                return run
            if conn.execute(sa.select(c.site).where(c.site == site)).first() is None:
                conn.execute(site_scans.insert().values(site=site, **values))
                return run
    except sa.exc.IntegrityError:
        pass  # another process inserted the site's first scan meanwhile
    running = latest(conn, site)
    assert running is not None
    raise ScanRunning(running)


def _lock(conn: Connection) -> None:
    """Hold the lock that makes counting and claiming one step, until the
    transaction ends: no other process claims a scan in between."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(SCANS_LOCK)))
    else:
        # A write that changes nothing still takes SQLite's write lock, so
        # that the count below is read with no other writer between.
        conn.execute(site_scans.update().where(sa.false()).values(run=site_scans.c.run))


def _own(conn: Connection, site: str, run: str, **values: Any) -> bool:
    c = site_scans.c
    with conn.begin():
        done = conn.execute(
            site_scans.update()
            .where(c.site == site, c.run == run, c.state == RUNNING)
            .values(**values)
        )
    return done.rowcount == 1


def progress(
    conn: Connection,
    site: str,
    run: str,
    pages_done: int,
    pages_planned: int,
    visits_done: int,
) -> bool:
    """Say how far the scan ``run`` got; False if the row is no longer its own."""
    return _own(
        conn,
        site,
        run,
        pages_done=pages_done,
        pages_planned=pages_planned,
        visits_done=visits_done,
    )


def finish(conn: Connection, site: str, run: str, report: str) -> bool:
    """Keep the finished report of the scan ``run``."""
    return _own(
        conn,
        site,
        run,
        state=DONE,
        report=report,
        finished_at=dt.datetime.now(dt.UTC),
    )


def fail(conn: Connection, site: str, run: str, error: str) -> bool:
    """Say why the scan ``run`` could not finish."""
    return _own(
        conn,
        site,
        run,
        state=FAILED,
        error=error[:2000],
        finished_at=dt.datetime.now(dt.UTC),
    )
