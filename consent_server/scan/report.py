"""What a crawl found: leaks, undeclared and unused services, proposed services.

Everything a scan saw (a request to another host, a cookie, a storage key)
becomes one :class:`Item`, with the visits it was seen in and the verdict of
the :class:`~consent_server.scan.classify.Classifier`. From the items:

- a **leak** is an item of an optional category (preferences, analytics,
  advertising) seen before a choice or after Reject all;
- an **undeclared** item is one no declared service of the site covers;
- an **unused** service is a declared one none of whose cookies or hosts
  was seen;
- the **proposed** services are the declared ones, plus one per platform
  for every undeclared item whose category is known.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import ValidationError

from ..domain.site_config import Service
from ..domain.vocabulary import OPTIONAL, Category
from .classify import Classifier, Source, Verdict
from .crawl import (
    MAX_PER_VISIT,
    PHASE_TEXT,
    PHASES,
    Crawl,
    Phase,
    Visit,
    origin_of,
)

Kind = Literal["request", "cookie", "local storage", "session storage"]
# Our own: the banner's cookie and the consent service are never findings.
OURS = "consent-server"
# How many addresses of one host a report shows.
EXAMPLES = 3
# How many items of each kind a report lists, leaks first: a page made to
# flood the scan cannot make a report too big to keep or to read.
MAX_ITEMS = 500
KIND_WORDS: dict[str, str] = {
    "request": "hosts requested",
    "cookie": "cookies",
    "local storage": "local storage keys",
    "session storage": "session storage keys",
}


@dataclasses.dataclass(frozen=True)
class Evidence:
    """One address a request item was seen at: in which visit, from what."""

    phase: Phase
    url: str
    started_by: str
    element: str


@dataclasses.dataclass
class Item:
    """One thing a scan saw, on which pages and in which visits."""

    kind: Kind
    name: str  # the host, or the cookie or key name
    category: Category | None
    service: str
    source: Source
    pattern: str
    purpose: str
    # In which visits, on which pages.
    seen: dict[Phase, list[str]] = dataclasses.field(default_factory=dict)
    # A request's addresses, each with its visit and what started it.
    evidence: list[Evidence] = dataclasses.field(default_factory=list)
    domain: str = ""  # a cookie's
    first_party: bool | None = None
    days: float | None = None

    @property
    def phases(self) -> list[Phase]:
        """The visits it was seen in, in the order they are made."""
        return [p for p in PHASES if p in self.seen]

    @property
    def pages(self) -> list[str]:
        """The pages it was seen on."""
        return list(dict.fromkeys(page for p in self.phases for page in self.seen[p]))

    @property
    def leaked(self) -> list[Phase]:
        """The visits in which this item was a leak."""
        if self.category not in OPTIONAL or self.service == OURS:
            return []
        return [p for p in self.phases if p in ("before", "rejected")]

    @property
    def leaked_on(self) -> list[str]:
        """The pages on which it leaked."""
        return list(dict.fromkeys(page for p in self.leaked for page in self.seen[p]))

    @property
    def shown(self) -> list[Evidence]:
        """The evidence worth showing, a few of each address (or of each
        script that set a cookie): the leaks', if it leaked."""
        leaked = self.leaked
        shown: list[Evidence] = []
        told: set[str] = set()
        for e in self.evidence:
            key = e.url if self.kind == "request" else e.started_by
            if (not leaked or e.phase in leaked) and key not in told:
                told.add(key)
                shown.append(e)
        return shown[:EXAMPLES]

    @property
    def urls(self) -> list[str]:
        """Up to three of its addresses."""
        return [e.url for e in self.shown if e.url]

    @property
    def started_by(self) -> str:
        """What started the first of them ("" for a cookie)."""
        return self.shown[0].started_by if self.shown else ""

    @property
    def element(self) -> str:
        """The start tag of the element that loads the first of them, if found."""
        return self.shown[0].element if self.shown else ""

    @property
    def declared(self) -> bool:
        """Whether a service of the site's config covers it (or it is ours)."""
        return self.source == "declared" or self.service == OURS


@dataclasses.dataclass
class Report:
    """The outcome of one scan."""

    start: str
    site: str | None
    service: str | None
    pages: list[str]
    items: list[Item]
    declared: list[Service]
    unused: list[str]
    proposed: list[dict[str, Any]]
    problems: list[str]
    notes: list[str]
    # Items seen but not listed, past MAX_ITEMS, by kind; and how many of
    # those leaked.
    not_listed: dict[str, int] = dataclasses.field(default_factory=dict)
    leaks_not_listed: int = 0

    @property
    def leaks(self) -> list[Item]:
        """The listed items that leaked, requests first."""
        return [i for i in self.items if i.leaked]

    @property
    def leak_count(self) -> int:
        """Every leak seen, listed or not."""
        return len(self.leaks) + self.leaks_not_listed

    @property
    def undeclared(self) -> list[Item]:
        """The items no declared service covers."""
        return [i for i in self.items if not i.declared]


def _add(
    items: dict[tuple[str, str, str], Item],
    kind: Kind,
    name: str,
    verdict: Verdict,
    visit: Visit,
    domain: str = "",
) -> Item:
    key = (kind, name, domain)
    item = items.get(key)
    if item is None:
        item = items[key] = Item(
            kind,
            name,
            verdict.category,
            verdict.service,
            verdict.source,
            verdict.pattern,
            verdict.purpose,
            domain=domain,
        )
    pages = item.seen.setdefault(visit.phase, [])
    if visit.page not in pages:
        pages.append(visit.page)
    return item


# What the banner asks its consent service for; the rest of that host is
# like any other (a page may name a tracker's host as its "service").
SERVICE_PATHS = ("/s/", "/v1/")


def is_service(url: str, service: str) -> bool:
    """Whether ``url`` is one of the banner's requests to ``service``."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    return origin_of(url) == origin_of(service) and path.startswith(SERVICE_PATHS)


def build_report(
    crawl: Crawl,
    declared: list[Service],
    site: str | None,
    service: str | None,
    notes: list[str] | None = None,
) -> Report:
    """Classify what ``crawl`` saw against the site's ``declared`` services."""
    classifier = Classifier(declared)
    banner = f"{service.rstrip('/')}/s/" if service else ""
    items: dict[tuple[str, str, str], Item] = {}
    for visit in crawl.visits:
        for request in visit.requests:
            if service and is_service(request.url, service):
                continue  # the consent service itself is never a leak
            item = _add(
                items, "request", request.host, classifier.host(request.host), visit
            )
            started_by = request.started_by
            if banner and started_by.startswith(f"the script {banner}"):
                started_by = "the consent banner, running a gated tag"
            if len(item.evidence) < 20:  # enough to show a few of each visit
                item.evidence.append(
                    Evidence(visit.phase, request.url, started_by, request.element)
                )
        for cookie in visit.cookies:
            item = _add(
                items,
                "cookie",
                cookie.name,
                classifier.cookie(cookie.name),
                visit,
                cookie.domain,
            )
            if cookie.set_by and len(item.evidence) < 20:
                item.evidence.append(Evidence(visit.phase, "", cookie.set_by, ""))
            item.first_party = cookie.first_party
            if cookie.days is None or item.days is None:
                item.days = item.days if cookie.days is None else cookie.days
            else:
                item.days = max(item.days, cookie.days)
        storage: tuple[tuple[Kind, list[str]], ...] = (
            ("local storage", visit.local_storage),
            ("session storage", visit.session_storage),
        )
        for kind, keys in storage:
            for key in keys:
                _add(items, kind, key, classifier.cookie(key), visit)
    ordered = sorted(
        items.values(),
        key=lambda i: (not i.leaked, i.kind != "request", i.kind, i.name, i.domain),
    )
    used = {i.service for i in ordered if i.source == "declared"}
    cut = sum(v.cut for v in crawl.visits)
    if cut:
        notes = [
            *(notes or []),
            f"{cut:,} requests, cookies or storage keys were past what one visit"
            f" keeps ({MAX_PER_VISIT:,} of each) and are not in this report",
        ]
    problems = [
        f"{v.page} ({PHASE_TEXT[v.phase]}): {v.problem}"
        for v in crawl.visits
        if v.problem
    ]
    if crawl.stopped:
        problems.append(crawl.stopped)
    report = Report(
        start=crawl.start,
        site=site,
        service=service,
        pages=crawl.pages,
        items=ordered,
        declared=declared,
        unused=[s.name for s in declared if s.name not in used],
        proposed=propose(declared, ordered),
        problems=problems,
        notes=[*(notes or []), *(f"not scanned: {s}" for s in crawl.skipped)],
    )
    return limited(report, MAX_ITEMS)


def limited(report: Report, per_kind: int) -> Report:
    """``report`` listing at most ``per_kind`` items of each kind, leaks
    first, with a note of how many more of each were seen (and how many of
    those leaked: never left unsaid)."""
    kept: list[Item] = []
    counts: dict[str, int] = {}
    more: dict[str, list[Item]] = {}
    for item in report.items:  # leaks first already
        if counts.get(item.kind, 0) < per_kind:
            counts[item.kind] = counts.get(item.kind, 0) + 1
            kept.append(item)
        else:
            more.setdefault(item.kind, []).append(item)
    if not more:
        return report
    notes = list(report.notes)
    not_listed = dict(report.not_listed)
    leaks_not_listed = report.leaks_not_listed
    for kind, items in more.items():
        not_listed[kind] = not_listed.get(kind, 0) + len(items)
        leaked = sum(1 for i in items if i.leaked)
        leaks_not_listed += leaked
        notes.append(
            f"the report lists {per_kind:,} {KIND_WORDS[kind]} at most: {len(items):,}"
            " more were seen and are not listed"
            + (f", {leaked:,} of them leaks" if leaked else "")
        )
    return dataclasses.replace(
        report,
        items=kept,
        notes=notes,
        not_listed=not_listed,
        leaks_not_listed=leaks_not_listed,
    )


def propose(declared: list[Service], items: list[Item]) -> list[dict[str, Any]]:
    """The site's services as they should read: the declared ones as they
    are, and one more per platform the scan found with a known category."""
    proposed: dict[str, dict[str, Any]] = {}
    for service in declared:
        proposed[service.name] = service.model_dump(mode="json", exclude_none=True)
    found: dict[str, dict[str, Any]] = {}
    for item in items:
        if item.declared or item.category is None or item.kind.endswith("storage"):
            continue
        name = item.service or item.name
        if name in proposed:  # a declared service of that name, but not this item
            name = f"{name} ({item.category})"
        entry = found.setdefault(
            f"{name}\0{item.category}",
            {"name": name, "category": item.category, "cookies": [], "hosts": []},
        )
        if item.purpose:
            entry["purpose"] = item.purpose
        if item.kind == "cookie":
            pattern = item.pattern or item.name
            if pattern not in entry["cookies"]:
                entry["cookies"].append(pattern)
        elif item.name not in entry["hosts"]:
            entry["hosts"].append(item.name)
    for entry in found.values():
        entry["cookies"] = entry["cookies"][:50]
        entry["hosts"] = entry["hosts"][:50]
        try:
            checked = Service.model_validate(entry)
        except ValidationError:
            # A name or host the config would refuse (an address, odd
            # characters): keep what passes and leave the rest to a person.
            entry["cookies"] = [c for c in entry["cookies"] if _valid_cookie(c)]
            entry["hosts"] = [h for h in entry["hosts"] if _valid_host(h)]
            try:
                checked = Service.model_validate(entry)
            except ValidationError:
                continue
        if checked.name not in proposed:
            proposed[checked.name] = checked.model_dump(mode="json", exclude_none=True)
    return list(proposed.values())[:100]


def _valid_cookie(name: str) -> bool:
    try:
        Service.model_validate({"name": "x", "category": "security", "cookies": [name]})
    except ValidationError:
        return False
    return True


def _valid_host(host: str) -> bool:
    try:
        Service.model_validate({"name": "x", "category": "security", "hosts": [host]})
    except ValidationError:
        return False
    return True
