"""The config page's cookie scan, run in the background.

A thread of the app's process runs :func:`consent_server.scan.run.scan` and
writes how far it got, then the report (as ``consent-server scan --format
json`` writes it), to the site's row in ``site_scans`` (:mod:`...store.scans`):
every process of the service reads the scan from there. The thread holds no
request and no app context, only the engine and what it was given.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from ...scan.crawl import Chromium, Progress, ScanError
from ...scan.formats import as_json
from ...scan.run import scan
from ...store import scans

log = logging.getLogger(__name__)

# How long past its time bound a scan may still be finishing: a visit that
# started just before the bound runs to its end (a page load, the banner, a
# choice recorded, the page settling), and the site's services are read last.
GRACE_SECONDS = 120
FAILED_UNEXPECTEDLY = "the scan failed unexpectedly; the server's log has the details"


def scan_token(site: str) -> str | None:
    """The bearer token of scope ``scan`` the scan's choices are sent with,
    so that the consent service records them as scan events, kept out of
    stats; None for now: the choices are then ordinary consents, and the
    report says so.

    The one place the config page's scan gets its token.
    """
    return None


def chromium(config: Mapping[str, Any]) -> Chromium:
    """The browser the app's settings name (``CONSENT_SCAN_CHROMIUM`` ...)."""
    return Chromium(
        config["SCAN_CHROMIUM"],
        config["SCAN_CHROMEDRIVER"],
        tuple(config["SCAN_CHROMIUM_ARGS"]),
    )


@dataclasses.dataclass(frozen=True)
class Job:
    """One scan to run: where, how far, within how long, with which token."""

    engine: Engine
    site: str
    run: str  # the scan's name in its row (store.scans.start)
    start_url: str
    pages: int  # the start page included
    seconds: float
    chromium: Chromium
    token: str | None = None


def launch(job: Job) -> threading.Thread:
    """Run ``job`` in a thread of its own and return at once."""
    thread = threading.Thread(
        target=run_job, args=(job,), name=f"scan of {job.site}", daemon=True
    )
    thread.start()
    return thread


def run_job(job: Job) -> None:
    """Run the scan and keep its progress and its report (or why it failed)."""
    with job.engine.connect() as conn:

        def told(step: Progress) -> None:
            scans.progress(
                conn,
                job.site,
                job.run,
                step.pages_done,
                step.pages_planned,
                step.visits_done,
            )

        try:
            report = scan(
                job.start_url,
                job.chromium,
                job.pages - 1,  # the crawl counts the pages besides the start
                job.seconds,
                site=job.site,
                token=job.token,
                progress=told,
            )
        except ScanError as exc:
            scans.fail(conn, job.site, job.run, str(exc))
            return
        except Exception:
            # Nobody waits on this thread: unless the row says so, the page
            # would show the scan running until its time bound.
            log.exception("the scan of %s failed", job.site)
            scans.fail(conn, job.site, job.run, FAILED_UNEXPECTEDLY)
            return
        scans.finish(conn, job.site, job.run, as_json(report))
