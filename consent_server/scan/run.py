"""One scan from start to report: crawl, read the site's services, classify."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import ValidationError

from ..domain.site_config import Service
from .crawl import Chromium, Embed, Progress, ScanError, crawl, host_of
from .egress import where
from .report import Report, build_report

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

CONFIG_SECONDS = 10
SCAN_EVENTS = (
    "the scan's choices were sent with its scan token: the consent service"
    " records them as scan events, kept out of stats and visitors' histories,"
    " and their tokens expire within minutes"
)
# With a token and no choice recorded: the service answers 401 or 403, and
# records nothing, for a token that is unknown, revoked or of another scope.
TOKEN_REFUSED = (
    "no choice was recorded: if the consent service refused the scan token,"
    " check that it is live and of scope scan (consent-server list-tokens)"
)
ORDINARY_EVENTS = (
    "the scan's Reject all and Accept all were recorded as ordinary consents"
    " (give --token with a token of scope scan to mark them)"
)


def declared_services(service: str, site: str) -> list[Service]:
    """The services of the site's published config, from the consent service's
    public ``GET /v1/sites/<site>/config``.

    :raise ValueError: saying why they could not be read.
    """
    url = f"{service.rstrip('/')}/v1/sites/{site}/config"
    try:
        with urllib.request.urlopen(url, timeout=CONFIG_SECONDS) as answer:
            doc = json.loads(answer.read(2_000_000).decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise ValueError(f"{url} answered {exc.code}") from None
    except (urllib.error.URLError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{url} could not be read: {exc}") from None
    try:
        return [Service.model_validate(s) for s in doc.get("services", [])]
    except (AttributeError, ValidationError) as exc:
        raise ValueError(
            f"{url} has services this scanner cannot read: {exc}"
        ) from None


def _place(url: str) -> str:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return where(parts.hostname or "", parts.port or default)


# Where Chromium itself connects, whatever the page (its updates, sign-in and
# search engine), though started with background networking off: refused
# like any other, but not the page's doing, so not in the report's note.
BROWSERS_OWN = frozenset(
    {
        "accounts.google.com",
        "clients2.google.com",
        "update.googleapis.com",
        "optimizationguide-pa.googleapis.com",
        "start.duckduckgo.com",
    }
)


def browsers_own(place: str) -> bool:
    """Whether ``host:port`` is one of Chromium's own connections."""
    return place.rsplit(":", 1)[0] in BROWSERS_OWN


def scan(
    start: str,
    chromium: Chromium,
    pages: int = 5,
    seconds: float = 600,
    site: str | None = None,
    service: str | None = None,
    token: str | None = None,
    progress: Callable[[Progress], None] | None = None,
    reaches: Callable[[str], bool] | None = None,
    declared: list[Service] | None = None,
    refused: Mapping[str, str] | None = None,
) -> Report:
    """Crawl ``start`` and report on it against the site's declared services.

    The site and its consent service come from the page's embed script tag
    unless given. With ``token`` (a bearer token of scope ``scan``), the
    browser's requests to the consent service, and only those, carry it.
    ``progress`` is told how far the crawl got after every visit.

    A scan run by the server gives ``reaches`` (which addresses its browser
    may send requests to: the others are counted and failed unsent) and the
    site's ``declared`` services, so that nothing the page names is fetched
    by the server itself; its browser goes out through a proxy
    (:mod:`.egress`), whose ``refused`` connections the report counts.

    :raise ScanError: when the scan cannot run at all.
    """
    notes: list[str] = []
    blocked: list[str] = []
    prepare: Callable[[WebDriver, Embed | None], Callable[[], None]] | None = None
    if token or reaches:
        from .token import intercept

        def prepare(driver: WebDriver, embed: Embed | None) -> Callable[[], None]:
            where = service or (embed.service if embed else None)
            return intercept(driver, where, token, reaches, blocked)

    try:
        crawled = crawl(start, chromium, pages, seconds, prepare, progress)
    except ScanError as exc:
        place = _place(start)
        if refused and place in refused:
            raise ScanError(
                f"{start} cannot be scanned: the scan's proxy refused to connect"
                f" to {refused[place]}"
            ) from None
        if start in blocked or not blocked:
            raise
        raise ScanError(
            f"{exc}; it led to {blocked[0]}, outside what this scan may reach"
        ) from None
    if blocked:
        hosts = sorted({host_of(url) for url in blocked})
        notes.append(
            f"{len(set(blocked))} addresses on {len(hosts)} hosts outside the"
            " site's allowed origins were counted but never sent, so that the"
            f" server's browser reaches only the shop ({', '.join(hosts[:10])}"
            f"{', …' if len(hosts) > 10 else ''}); consent-server scan on the"
            " command line follows them"
        )
    places = sorted(p for p in refused or {} if not browsers_own(p))
    if places:
        notes.append(
            f"connections to {len(places)} place{'s' if len(places) != 1 else ''}"
            " were refused by the scan's proxy, the"
            " server's browser's only way out (a WebSocket, a preconnect or a"
            " worker outside the site, or a host on a network the scan may not"
            f" reach): {', '.join(places[:10])}{', …' if len(places) > 10 else ''}"
        )
    embed = crawled.embed
    named = list(dict.fromkeys(e.service for v in crawled.visits for e in v.embeds))
    if len(named) > 1:
        used = service or (embed.service if embed else named[0])
        notes.append(
            f"the pages embed consent scripts from {len(named)} services"
            f" ({', '.join(named[:5])}); the scan took {used} for the consent"
            " service (give --service to name it)"
        )
    if embed is None and not service:
        notes.append(
            "no consent-server script (…/s/SITE/consent.js) on the start page:"
            " the site's services are unknown, and the banner cannot be tried"
        )
    service = service or (embed.service if embed else None)
    if site and embed and site != embed.site:
        notes.append(f"the page embeds site {embed.site}; the scan used {site}")
    site = site or (embed.site if embed else None)
    if declared is None and service and site:
        declared = []
        try:
            declared = declared_services(service, site)
        except ValueError as exc:
            notes.append(f"the site's services could not be read: {exc}")
    if any(v.recorded for v in crawled.visits):
        notes.append(SCAN_EVENTS if token else ORDINARY_EVENTS)
    elif token and any(v.banner for v in crawled.visits if v.phase != "before"):
        notes.append(TOKEN_REFUSED)
    return build_report(crawled, declared or [], site, service, notes)
