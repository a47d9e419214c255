"""The config page's cookie scan, run in the background.

A thread of the app's process runs :func:`consent_server.scan.run.scan` and
writes how far it got, then the report (as ``consent-server scan --format
json`` writes it), to the site's row in ``site_scans`` (:mod:`...store.scans`):
every process of the service reads the scan from there. The thread holds no
request and no app context, only the engine and what it was given.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection, Engine

from ...domain.origins import origin_allowed
from ...domain.site_config import Service
from ...scan.crawl import Chromium, Progress, ScanError, origin_of
from ...scan.egress import Policy, networks, proxy, where
from ...scan.formats import as_json
from ...scan.report import MAX_ITEMS, Report, limited
from ...scan.run import scan
from ...store import accounts, changes, scans
from ...store.accounts import AuthError
from ...store.changes import Actor
from ..scan_auth import SCOPE

log = logging.getLogger(__name__)

# How long past its time bound a scan may still be finishing: a visit that
# started just before the bound runs to its end (a page load, the banner, a
# choice recorded, the page settling), and the site's services are read last.
GRACE_SECONDS = 120
FAILED_UNEXPECTEDLY = "the scan failed unexpectedly; the server's log has the details"


def token_name(site: str) -> str:
    """The name the config page's scan token of ``site`` goes by."""
    return f"config-page scan of {site}"


def scan_token(conn: Connection, site: str, actor: Actor, seconds: float) -> str:
    """A new bearer token of scope ``scan`` for one scan of ``site`` from the
    config page: the scan's choices are sent with it, so that the consent
    service records them as scan events, kept out of stats and histories.

    It is good for ``site`` only, and lives while the scan runs
    (:func:`run_job` revokes it), ``seconds`` at most: the scan's bound, so
    that a scan whose process stopped leaves no token that works. A token an
    earlier scan of the site left live is revoked first: only one is ever
    live per site. Both are recorded as ``actor``'s changes, beside the
    tokens made on the command line.
    """
    name = token_name(site)
    with contextlib.suppress(AuthError):  # usually there is none left over
        accounts.revoke_tokens_named(conn, name, actor)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return accounts.create_token(
        conn, name, SCOPE, actor, site=site, expires_at=expires
    )


# What the banner asks this service for: its script, texts and styles, and
# the API it records and verifies choices with.
SERVICE_PATHS = ("/s/", "/v1/")


def reaches(origins: list[str], service: str) -> Callable[[str], bool]:
    """Where the config page's scan of a site may send requests: the site's
    allowed ``origins`` (its pages and what they load from there), and this
    ``service``'s banner paths. Addresses that go to no network (``data:``,
    ``blob:``) are the page's own."""
    ours = origin_of(service)

    def allowed(url: str) -> bool:
        try:
            parts = urlsplit(url)
            origin = origin_of(url)
        except ValueError:
            return False
        if parts.scheme.lower() not in ("http", "https", "ws", "wss"):
            return parts.scheme.lower() in ("data", "blob")
        if origin == ours:
            return parts.path.startswith(SERVICE_PATHS)
        return "@" not in parts.netloc and origin_allowed(origin, origins)

    return allowed


def tunnels(origins: list[str], service: str) -> Callable[[str, int], bool]:
    """Which hosts and ports the config page's scan may open a tunnel to
    (https, WebSockets): those of the site's allowed ``origins``, and this
    ``service`` if it is on https. A tunnel's path is not seen: that host,
    all of it; a service on http is reached by plain requests, whose paths
    are checked, and never through a tunnel (a WebSocket to any path)."""
    ours = origin_of(service) if service.lower().startswith("https:") else None
    parts = urlsplit(service)
    default_port = 443 if parts.scheme.lower() == "https" else 80
    service_place = ((parts.hostname or "").lower(), parts.port or default_port)

    def allowed(host: str, port: int) -> bool:
        if ours is None and (host.lower(), port) == service_place:
            # Whatever origins the site lists that cover it (127.0.0.1:*).
            return False
        name = where(host.lower(), port).rsplit(":", 1)[0]
        for scheme, default in (("https", 443), ("http", 80)):
            origin = f"{scheme}://{name}" + ("" if port == default else f":{port}")
            if origin == ours or origin_allowed(origin, origins):
                return True
        return False

    return allowed


def policy(origins: list[str], service: str, config: Mapping[str, Any]) -> Policy:
    """What the config page's scan of a site with ``origins`` may reach
    through its proxy, this ``service`` being the address it was asked on.

    Only public addresses, and the networks the operator allows; this
    service's configured public address (``CONSENT_PUBLIC_URL``) is the
    operator's own and may be anywhere, but the address a request came to
    is no more trusted than the Host header that named it.
    """
    trusted: frozenset[tuple[str, int]] = frozenset()
    if config["PUBLIC_URL"] and origin_of(config["PUBLIC_URL"]) == origin_of(service):
        parts = urlsplit(service)
        if parts.hostname:
            default = 443 if parts.scheme == "https" else 80
            trusted = frozenset({(parts.hostname, parts.port or default)})
    return Policy(
        reaches=reaches(origins, service),
        tunnels=tunnels(origins, service),
        allowed_networks=networks(config["SCAN_NETWORKS"]),
        trusted=trusted,
    )


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
    token: str | None = None  # of scope scan; revoked when the scan ends
    actor: Actor = changes.COMMAND_LINE  # who started it, and so revokes the token
    service: str | None = None  # this service's address: the token goes there only
    policy: Policy | None = None  # where its browser may send, through its proxy
    declared: list[Service] | None = None  # the site's published services


def launch(job: Job) -> threading.Thread:
    """Run ``job`` in a thread of its own and return at once."""
    thread = threading.Thread(
        target=run_job, args=(job,), name=f"scan of {job.site}", daemon=True
    )
    thread.start()
    return thread


def run_job(job: Job) -> None:
    """Run the scan, revoke its token, then keep its report (or why it failed):
    once the page shows the scan finished, its token is no longer live."""
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

        report, error = None, None
        try:
            with contextlib.ExitStack() as stack:
                browser, refused = job.chromium, None
                if job.policy is not None:
                    egress = stack.enter_context(proxy(job.policy))
                    browser, refused = egress.browser(browser), egress.refused
                report = scan(
                    job.start_url,
                    browser,
                    job.pages - 1,  # the crawl counts the pages besides the start
                    job.seconds,
                    site=job.site,
                    service=job.service,
                    token=job.token,
                    progress=told,
                    reaches=job.policy.reaches if job.policy else None,
                    declared=job.declared,
                    refused=refused,
                )
        except ScanError as exc:
            error = str(exc)
        except Exception:
            # Nobody waits on this thread: unless the row says so, the page
            # would show the scan running until its time bound.
            log.exception("the scan of %s failed", job.site)
            error = FAILED_UNEXPECTEDLY
        try:
            _revoke(conn, job)
        except Exception:
            log.exception("the scan token of %s could not be revoked", job.site)
        if report is None:
            scans.fail(conn, job.site, job.run, error or FAILED_UNEXPECTEDLY)
        else:
            scans.finish(conn, job.site, job.run, kept_report(report))


# The most a report kept in the database may hold, in characters.
MAX_REPORT = 4_000_000


def kept_report(report: Report) -> str:
    """The report's JSON, listing fewer items of each kind until it fits
    :data:`MAX_REPORT` (the report says how many it left out)."""
    text, per_kind = as_json(report), MAX_ITEMS
    while len(text) > MAX_REPORT and per_kind > 1:
        per_kind = max(1, per_kind // 5)
        report = limited(report, per_kind)
        text = as_json(report)
    return text


def _revoke(conn: Connection, job: Job) -> None:
    live = accounts.find_token(conn, job.token) if job.token else None
    if live is None:
        return  # none, or a newer scan of the site revoked it
    with contextlib.suppress(AuthError):  # unless revoked in between
        accounts.revoke_token_id(conn, live.id, job.actor)
