"""Which category a cookie, storage key or host belongs to, and who says so.

The first source that knows wins: the site's own declared services (the
editor's word); consent-server's reviewed lists, of strictly necessary
cookies (``data/necessary.csv``) and of the hosts common tags call
(``data/hosts.csv``); then the Open Cookie Database
(``data/open-cookie-database.csv``, Apache-2.0, see ``data/NOTICE.md``).
The database files session, CSRF, load-balancer and bot-protection cookies
under Functional, which would make them opt-in here; the reviewed list is
there so that they are never reported as leaks. The database classifies
cookies, not hosts: a host is taken from it only where a row names exactly
that host for an analytics or marketing cookie, or where the host is under
a domain all of whose rows are (an ad network's). Its domains are where
cookies are set: google.com's or gstatic.com's rows say little of a font
or a CDN served from under them.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
from collections import Counter
from collections.abc import Sequence
from importlib import resources
from typing import Literal

from ..domain.site_config import Service
from ..domain.vocabulary import CATEGORIES, Category

Source = Literal["declared", "necessary", "hosts", "database", "unknown"]

# The database's categories onto our five. Necessary (9 rows: Rails, NextAuth,
# Supabase and Clerk sign-in sessions, and one banner's own cookies) reads as
# authentication; Personalization (3 rows) as preferences, like Functional.
DATABASE_CATEGORIES: dict[str, Category] = {
    "Analytics": "analytics",
    "Marketing": "advertising",
    "Security": "security",
    "Functional": "preferences",
    "Personalization": "preferences",
    "Necessary": "authentication",
}
# The database's names for platforms that our list of tag hosts names
# otherwise, so that a proposed service holds both the hosts and the cookies.
PLATFORM_NAMES = {"Facebook": "Meta Pixel", "Youtube": "YouTube"}
# When the rows for one host disagree, the more intrusive category is told.
_WEIGHT = {"advertising": 5, "analytics": 4}


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What one name or host is: its category (None: nobody knows), the
    service or platform it belongs to, who said so, and the cookie pattern
    that matched (``_ga_*``), for a proposed service."""

    category: Category | None
    service: str
    source: Source
    pattern: str = ""
    purpose: str = ""  # what it is for, where our list says


UNKNOWN = Verdict(None, "", "unknown")


def matches(pattern: str, name: str) -> bool:
    """Whether a cookie name matches a pattern with at most one ``*``, as the
    banner matches them."""
    head, star, tail = pattern.partition("*")
    if not star:
        return name == pattern
    return (
        len(name) >= len(head) + len(tail)
        and name.startswith(head)
        and (name.endswith(tail))
    )


def host_matches(pattern: str, host: str) -> bool:
    """Whether a host matches ``www.example.com`` or ``*.example.com`` (which
    takes the domain itself too)."""
    if pattern.startswith("*."):
        domain = pattern[2:]
        return host == domain or host.endswith("." + domain)
    return host == pattern


@dataclasses.dataclass(frozen=True)
class _Row:
    pattern: str
    category: Category
    service: str
    purpose: str = ""


def _data(name: str) -> str:
    return (resources.files("consent_server.scan") / "data" / name).read_text(
        encoding="utf-8"
    )


def _category(text: str) -> Category:
    assert text in CATEGORIES, text  # our own files, checked by the tests
    return text


@functools.cache
def necessary_rows() -> tuple[_Row, ...]:
    """consent-server's reviewed list of strictly necessary cookies."""
    return tuple(
        _Row(row["name"], _category(row["category"]), row["service"], row["purpose"])
        for row in csv.DictReader(io.StringIO(_data("necessary.csv")))
    )


@functools.cache
def host_rows() -> tuple[_Row, ...]:
    """consent-server's reviewed list of the hosts common tags call."""
    return tuple(
        _Row(row["host"], _category(row["category"]), row["service"])
        for row in csv.DictReader(io.StringIO(_data("hosts.csv")))
    )


@dataclasses.dataclass(frozen=True)
class CookieDatabase:
    """The Open Cookie Database, indexed by name and by domain."""

    exact: dict[str, _Row]
    prefixes: tuple[_Row, ...]  # longest first
    domains: dict[str, _Row]

    def cookie(self, name: str) -> _Row | None:
        """The row for a cookie or storage key name, exact names first."""
        if name in self.exact:
            return self.exact[name]
        return next((r for r in self.prefixes if matches(r.pattern, name)), None)

    # Domains whose every row is an analytics or marketing cookie: ad and
    # analytics networks, whose subdomains are all theirs.
    tracking: frozenset[str] = frozenset()

    def host(self, host: str) -> _Row | None:
        """The row for a host the database names, or for a tracking domain
        it is under."""
        if host in self.domains:
            return self.domains[host]
        labels = host.split(".")
        for i in range(1, len(labels) - 1):
            parent = ".".join(labels[i:])
            if parent in self.tracking:
                return self.domains[parent]
        return None


def _domain(text: str) -> str:
    # "facebook.com (3rd party)", ".linkedin.com", "www.googletagmanager.com"
    first = text.strip().split(" ")[0].lower().lstrip(".")
    return first if "." in first and "/" not in first else ""


@functools.cache
def cookie_database() -> CookieDatabase:
    """Read the shipped copy of the Open Cookie Database (once)."""
    exact: dict[str, _Row] = {}
    prefixes: list[_Row] = []
    by_domain: dict[str, list[_Row]] = {}
    other: set[str] = set()  # domains with a row of another category
    for row in csv.DictReader(io.StringIO(_data("open-cookie-database.csv"))):
        category = DATABASE_CATEGORIES.get(row["Category"].strip())
        name = row["Cookie / Data Key name"].strip()
        if category is None or not name:
            continue
        wildcard = row["Wildcard match"].strip() == "1"
        platform = row["Platform"].strip()
        platform = PLATFORM_NAMES.get(platform, platform)
        made = _Row(f"{name}*" if wildcard else name, category, platform)
        if wildcard:
            prefixes.append(made)
        else:
            exact.setdefault(name, made)
        domain = _domain(row["Domain"])
        if domain and category in ("analytics", "advertising"):
            by_domain.setdefault(domain, []).append(made)
        elif domain:
            other.add(domain)
    domains = {}
    for domain, rows in by_domain.items():
        categories = Counter(r.category for r in rows)
        top = max(categories, key=lambda c: (categories[c], _WEIGHT[c]))
        platform = Counter(r.service for r in rows if r.category == top)
        domains[domain] = _Row(domain, top, platform.most_common(1)[0][0])
    prefixes.sort(key=lambda r: -len(r.pattern))
    tracking = frozenset(d for d in domains if d not in other)
    return CookieDatabase(exact, tuple(prefixes), domains, tracking)


class Classifier:
    """Classifies what a scan saw, the site's declared services first."""

    def __init__(self, declared: Sequence[Service] = ()) -> None:
        self.declared = tuple(declared)

    def cookie(self, name: str) -> Verdict:
        """The verdict on a cookie (or a storage key) by its name."""
        for service in self.declared:
            for pattern in service.cookies:
                if matches(pattern, name):
                    return Verdict(service.category, service.name, "declared", pattern)
        for row in necessary_rows():
            if matches(row.pattern, name):
                return Verdict(
                    row.category, row.service, "necessary", row.pattern, row.purpose
                )
        found = cookie_database().cookie(name)
        if found is not None:
            return Verdict(found.category, found.service, "database", found.pattern)
        return UNKNOWN

    def host(self, host: str) -> Verdict:
        """The verdict on a request to another host."""
        for service in self.declared:
            for pattern in service.hosts:
                if host_matches(pattern, host):
                    return Verdict(service.category, service.name, "declared", pattern)
        for row in host_rows():
            if host_matches(row.pattern, host):
                return Verdict(row.category, row.service, "hosts", row.pattern)
        found = cookie_database().host(host)
        if found is not None:
            return Verdict(found.category, found.service, "database", host)
        return UNKNOWN
