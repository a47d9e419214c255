"""What the "Scan this site" section shows: the site's newest scan, how far it
got, and its report in the page's words (leaks first, each with its fix).

The report is the one ``consent-server scan --format json`` writes, kept in
the site's scan row; its fixes are :func:`consent_server.scan.formats.fix`'s.
"""

from __future__ import annotations

import json
from typing import Any

from flask import url_for

from ...domain.vocabulary import OPTIONAL
from ...scan.crawl import PHASE_TEXT, PHASES
from ...scan.formats import SOURCES
from ...scan.run import ORDINARY_EVENTS, SCAN_EVENTS
from ...store import scans
from ...store.engine import get_db
from .forms import ScanForm

# The report's notes on how the scan's choices were recorded, in the page's
# words (the command line's tell their reader about --token).
IN_PAGE_WORDS = {
    SCAN_EVENTS: "The scan's Reject all and Accept all were recorded in the"
    " consent log as scan events: they count in no statistics and in no"
    " visitor's history, and their consent tokens expire within minutes.",
    ORDINARY_EVENTS: "The scan's Reject all and Accept all were recorded in the"
    " consent log as ordinary consents: they count in this site's statistics.",
}


def _what(item: dict[str, Any]) -> str:
    if item["kind"] == "request":
        return f"Request to {item['name']}"
    if item["kind"] == "cookie":
        party = "first party" if item["first_party"] else "third party"
        days = item["lifetime_days"]
        life = "session" if days is None else f"{days:g} days"
        return f"Cookie {item['name']} ({item['domain']}, {party}, {life})"
    return f"{item['kind'].capitalize()} key {item['name']}"


def _verdict(item: dict[str, Any]) -> str:
    if item["category"] is None:
        return "category unknown"
    who = f"{item['service']}, " if item["service"] else ""
    return f"{item['category']}: {who}known from {SOURCES[item['classified_by']]}"


def _phases(phases: list[str]) -> str:
    return ", ".join(PHASE_TEXT[p] for p in PHASES if p in phases)


def _row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "what": _what(item),
        "verdict": _verdict(item),
        "seen": _phases(item["seen"]),
        "leaked": _phases(item["leaked"]),
        "pages": item.get("leaked_on") or item["pages"],
        "urls": item.get("urls", []),
        "started_by": item.get("started_by") or item.get("set_by") or "",
        "element": item.get("element") or "",
        "fix": item.get("fix", ""),
    }


def to_add(doc: dict[str, Any], report: dict[str, Any]) -> list[dict[str, Any]]:
    """The proposed services the site's working document lacks (by name)."""
    names = {s["name"] for s in doc["services"]}
    return [s for s in report["proposed"]["services"] if s["name"] not in names]


def merged(doc: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with the scan's proposed services added: every service it has
    stays as it is; the banner offers the categories the new ones need."""
    new = to_add(doc, report)
    wanted = {s["category"] for s in new} & set(OPTIONAL)
    categories = [c for c in OPTIONAL if c in doc["categories"] or c in wanted]
    return {**doc, "services": [*doc["services"], *new], "categories": categories}


def status(scan: scans.Scan | None) -> dict[str, Any]:
    """The scan's state as the status endpoint and the progress bar give it."""
    if scan is None:
        return {"state": "none"}
    out: dict[str, Any] = {
        "state": scan.state,
        "start_url": scan.start_url,
        "pages_done": scan.pages_done,
        "pages_planned": scan.pages_planned,
        "visits_done": scan.visits_done,
        "visits_planned": 3 * scan.pages_planned,
        "started_at": scan.started_at.isoformat(),
        "finished_at": scan.finished_at.isoformat() if scan.finished_at else None,
        "error": scan.error,
    }
    if scan.report is not None:
        out["leaks"] = leak_count(json.loads(scan.report))
    return out


def leak_count(report: dict[str, Any]) -> int:
    """Every leak a kept report saw, listed or not (older reports list all)."""
    return int(report.get("leak_count", len(report["leaks"])))


def progress_text(scan: scans.Scan) -> str:
    """How far a running scan got, in words (the script writes the same)."""
    return (
        f"{scan.pages_done} of {scan.pages_planned} pages done"
        f" ({scan.visits_done} of {3 * scan.pages_planned} visits)."
    )


def section(
    site: str,
    doc: dict[str, Any] | None = None,
    origins: list[str] | None = None,
    form: ScanForm | None = None,
    message: str = "",
) -> dict[str, Any]:
    """Everything the section's template needs. ``doc`` is the working
    document (None: no proposal is offered), ``origins`` the published ones
    (None: the site is not published, so cannot be scanned)."""
    scan = scans.latest(get_db(), site)
    report = json.loads(scan.report) if scan and scan.report else None
    if form is None:
        form = ScanForm(formdata=None, prefix="scan")
        concrete = [o for o in origins or [] if "*" not in o]
        if scan is not None:
            form.start_url.data = scan.start_url
            form.pages.data = scan.pages
        elif concrete:
            form.start_url.data = concrete[0] + "/"
    shown = None
    if report is not None:
        notes = [IN_PAGE_WORDS.get(n, n) for n in report["notes"]]
        shown = {
            "start": report["start"],
            "pages": report["pages"],
            "leaks": [_row(i) for i in report["leaks"]],
            "leak_count": leak_count(report),
            "undeclared": [_row(i) for i in report["undeclared"]],
            "unused": report["unused"],
            "notes": notes,
            "problems": report["problems"],
            "to_add": to_add(doc, report) if doc is not None else [],
        }
    return {
        "scan": scan,
        "state": status(scan),
        "progress": progress_text(scan) if scan else "",
        "report": shown,
        "form": form,
        "origins": origins,
        "message": message,
        "status_url": url_for("admin.site_scan.status_json", site=site),
    }
