"""The config page's cookie scan: start one from a site's page, follow it, read
its report, and take its proposed services into the site's draft.

Editors and admins start a scan and use its proposal; everyone logged in
(auditors too) reads the reports, on ``/admin/scans/``. The scan itself runs
in the background (:mod:`.scan_job`); it publishes nothing.
"""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    render_template,
)
from flask.typing import ResponseReturnValue

from ...domain.errors import ConfigError, UnknownSite
from ...domain.origins import page_on
from ...domain.site_config import PublishedConfig
from ...scan.crawl import ScanError
from ...store import drafts, scans, sites
from ...store.engine import get_db, get_engine
from .. import public
from . import scan_job, scan_section
from .forms import SCAN_PAGES, ScanForm
from .session import me, require
from .site_edit import account, back, working
from .sites import _site_page

bp = Blueprint("site_scan", __name__)

NOT_PUBLISHED = (
    "Publish the site first: the scan tries the banner visitors see, and this"
    " site has none yet."
)


def _published_origins(site: str) -> list[str] | None:
    published = _published(site)
    return list(published.origins) if published else None


def _published(site: str) -> PublishedConfig | None:
    try:
        return sites.current_config(get_db(), site)
    except UnknownSite:
        return None


# The scan's browser carries a live token to this service: to the address
# the operator named, never to one a request's Host header made up.
NO_PUBLIC_URL = (
    "The scan cannot run on this server until the operator sets this service's"
    " public address (CONSENT_PUBLIC_URL, such as https://consent.shop.example):"
    " the scan's browser records its choices there. Nothing was started."
)


def _cannot_run(exc: ScanError) -> str:
    # The scanner's words are for the command line; here the operator sets
    # the programs' places in the service's settings.
    said = (
        str(exc)
        .replace("name it with --chromedriver", "set CONSENT_SCAN_CHROMEDRIVER")
        .replace("name it with --chromium", "set CONSENT_SCAN_CHROMIUM")
    )
    return (
        f"The scan cannot run on this server: {said}. Nothing was started; ask"
        " the service's operator."
    )


# What one page of a scan takes, about: three visits in a fresh browser, each
# waiting for the page to settle (measured on the demo storefront).
SECONDS_A_PAGE = 20


def pages_within(seconds: int) -> int:
    """The most pages a scan bounded to ``seconds`` can be expected to finish."""
    return max(SCAN_PAGES[0], min(SCAN_PAGES[1], seconds // SECONDS_A_PAGE))


@bp.post("/sites/<site>/scan")
@require("edit_sites")
def start(site: str) -> ResponseReturnValue:
    """Start a scan of the site in the background; one per site at a time."""
    working(site)  # 404 for a site that does not exist
    form = ScanForm(prefix="scan")
    form.validate()
    published = _published(site)
    origins = list(published.origins) if published else None
    if published is None or origins is None:
        return _site_page(site, 400, scan_form=form, scan_message=NOT_PUBLISHED)
    url = ""
    if not form.start_url.errors:
        try:
            url = page_on(form.start_url.data or "", origins)
        except ValueError as exc:
            form.start_url.errors = [str(exc)]
    most = pages_within(current_app.config["SCAN_SECONDS"])
    if not form.pages.errors and (form.pages.data or 0) > most:
        form.pages.errors = [
            f"This server stops a scan after {current_app.config['SCAN_SECONDS']}"
            f" seconds, and a page takes some {SECONDS_A_PAGE}: choose at most"
            f" {most}, or ask the operator to raise CONSENT_SCAN_SECONDS."
        ]
    if form.errors:
        return _site_page(site, 400, scan_form=form)
    chromium = scan_job.chromium(current_app.config)
    try:
        chromium.check()
    except ScanError as exc:
        return _site_page(site, 503, scan_form=form, scan_message=_cannot_run(exc))
    if public.configured() is None:
        return _site_page(site, 503, scan_form=form, scan_message=NO_PUBLIC_URL)
    seconds = current_app.config["SCAN_SECONDS"]
    bound = seconds + scan_job.GRACE_SECONDS
    actor = account().actor
    try:
        run = scans.start(
            get_db(),
            site,
            url,
            form.pages.data,
            actor.email,
            bound,
            at_once=current_app.config["SCAN_CONCURRENCY"],
        )
    except scans.ScansBusy as exc:
        # The server's capacity, not this editor's doing: 503, as when the
        # scan cannot run here at all.
        return _site_page(
            site,
            503,
            scan_form=form,
            scan_message=(
                f"{exc.running} scans are running on this server already, the"
                " most it runs at once: start this one when one of them has"
                " finished. Nothing was started."
            ),
        )
    except scans.ScanRunning as exc:
        return _site_page(
            site,
            409,
            scan_form=form,
            scan_message=(
                f"A scan of this site is running already, started by"
                f" {exc.scan.started_by} at {exc.scan.started_at:%H:%M:%S} UTC:"
                " wait for its report, then start another."
            ),
        )
    scan_job.launch(
        scan_job.Job(
            engine=get_engine(),
            site=site,
            run=run,
            start_url=url,
            pages=form.pages.data,
            seconds=seconds,
            chromium=chromium,
            token=scan_job.scan_token(get_db(), site, actor, bound),
            actor=actor,
            service=public.service_url(),
            policy=scan_job.policy(origins, public.service_url(), current_app.config),
            declared=list(published.services),
        )
    )
    flash(
        f"The scan of {url} started. It takes a few minutes; this page shows its"
        " report when it is done."
    )
    return back(site, "#scan")


@bp.get("/sites/<site>/scan/status")
def status_json(site: str) -> ResponseReturnValue:
    """The site's newest scan as JSON, for the progress bar; logged in only."""
    account = me()
    if account is None:
        return jsonify(error="log in to the config page first"), 401
    if not account.may("read_stats"):
        return jsonify(error="your role cannot read scans"), 403
    if not drafts.site_exists(get_db(), site):
        return jsonify(error=f"there is no site {site!r}"), 404
    return jsonify(scan_section.status(scans.latest(get_db(), site)))


@bp.post("/sites/<site>/scan/propose")
@require("edit_sites")
def propose(site: str) -> ResponseReturnValue:
    """Add the services the newest report proposes to the site's draft;
    nothing is published."""
    doc = working(site)
    scan = scans.latest(get_db(), site)
    if scan is None or scan.report is None:
        flash("There is no finished scan of this site to take services from.")
        return back(site, "#scan")
    report = json.loads(scan.report)
    new = scan_section.to_add(doc, report)
    if not new:
        flash("The draft has every service the scan proposes already.")
        return back(site, "#scan")
    names = ", ".join(s["name"] for s in new)
    try:
        drafts.save_draft(
            get_db(),
            site,
            scan_section.merged(doc, report),
            account().actor,
            section=f"services from the cookie scan: {names}",
        )
    except ConfigError as exc:
        flash(
            f"The proposed services were not added: {exc.field}: {exc.message}."
            " Add them one by one under Services and their cookies."
        )
        return back(site, "#scan")
    flash(
        f"Added to the draft from the scan: {names}. Review them under Services"
        " and their cookies, then publish the draft."
    )
    return back(site, "#draft")


@bp.get("/scans/")
@require("read_stats")
def index() -> ResponseReturnValue:
    """Every site and its newest scan."""
    conn = get_db()
    rows = [(s, scans.latest(conn, s.site)) for s in drafts.list_sites(conn)]
    return render_template("admin/scans.html", account=me(), rows=rows)


@bp.get("/scans/<site>/")
@require("read_stats")
def report(site: str) -> ResponseReturnValue:
    """The site's newest scan and its report, for every role."""
    working(site)
    return render_template(
        "admin/site_scan.html",
        account=me(),
        site=site,
        scan_view=scan_section.section(site, origins=_published_origins(site)),
    )
