"""Published site configs: each publish stores the whole document as a new revision.

The server adds ``revision`` and ``consent_revision`` to what it stores.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ..domain.chain import Claim, NewEvent
from ..domain.errors import UnknownSite
from ..domain.printable import printable
from ..domain.site_config import (
    SITE_ID,
    PublishedConfig,
    SiteConfig,
    document_hash,
    validate_config,
)
from . import log
from .schema import consent_events, site_revisions, sites


def _published(
    config: SiteConfig, revision: int, consent_revision: int, document: str
) -> PublishedConfig:
    published = PublishedConfig(
        **dict(config), revision=revision, consent_revision=consent_revision
    )
    published._document_hash = document_hash(document)
    return published


@functools.lru_cache(maxsize=128)
def _parse(document: str) -> SiteConfig:
    # Checked again on the way out, so that what the banner and the log rely
    # on is always a whole config; kept, as checking costs more than the query
    # (the model is frozen, so sharing it is safe).
    return SiteConfig.model_validate_json(document)


# The largest number an INTEGER column holds on every backend: a revision
# asked for past it was never published (and is not sent to the driver).
MAX_REVISION = 2**31 - 1


def current_config(
    conn: Connection, site: str, revision: int | None = None
) -> PublishedConfig:
    """The site's published config, with ``revision`` and ``consent_revision``;
    the newest one, or the given revision.

    :raise UnknownSite: if the site (or that revision of it) was never published.
    """
    if not SITE_ID.fullmatch(site) or not 0 < (revision or 1) <= MAX_REVISION:
        raise UnknownSite(site)
    query = sa.select(
        site_revisions.c.revision,
        site_revisions.c.consent_revision,
        site_revisions.c.document,
    ).where(site_revisions.c.site == site)
    if revision is not None:
        query = query.where(site_revisions.c.revision == revision)
    with conn.begin():
        row = conn.execute(
            query.order_by(site_revisions.c.revision.desc()).limit(1)
        ).first()
    if row is None:
        raise UnknownSite(site)
    return _published(
        _parse(row.document), row.revision, row.consent_revision, row.document
    )


# How long a process answers from its cached config before it asks the
# database whether the site has published since: a publish reaches every
# process within this (plus one query).
FRESH_SECONDS = 1.0
# Sites (known or not) kept per process; more than this and the cache starts over.
MAX_CACHED_SITES = 1000

# Bumped after each publish committed in this process, so that what an
# editor publishes here is served here at once, not a second later.
_published_here = 0
_published_lock = threading.Lock()


def _bump_published(_conn: Connection) -> None:
    global _published_here
    with _published_lock:
        _published_here += 1


def newest_revision(conn: Connection, site: str) -> int | None:
    """The number of the site's newest revision (None if never published):
    one lookup in the primary key, without reading the document."""
    with conn.begin():
        newest: int | None = conn.execute(
            sa.select(site_revisions.c.revision)
            .where(site_revisions.c.site == site)
            .order_by(site_revisions.c.revision.desc())
            .limit(1)
        ).scalar()
    return newest


@dataclasses.dataclass(frozen=True)
class _Entry:
    config: PublishedConfig | None  # None: the site was never published
    until: float
    generation: int


class ConfigCache:
    """Published configs kept in one process and checked cheaply.

    For :data:`FRESH_SECONDS` after a check, :meth:`get` answers without the
    database; then one request asks for the site's newest revision number
    (an index lookup) while the others keep answering from the cache, and
    the document is read again only when that number changed. A revision is
    never changed once published, so its number is all that must be checked.
    Thread-safe: dict reads and writes are atomic, and a race costs at most
    one extra query.
    """

    def __init__(
        self,
        fresh_seconds: float = FRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fresh_seconds = fresh_seconds
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, connect: Callable[[], Connection], site: str) -> PublishedConfig:
        """The site's newest published config; ``connect`` is called only when
        the database must be asked.

        :raise UnknownSite: if the site was never published.
        """
        if not SITE_ID.fullmatch(site):
            raise UnknownSite(site)
        now = self._clock()
        generation = _published_here
        entry = self._entries.get(site)
        if (
            entry is not None
            and entry.generation == generation
            and (entry.until > now or not self._claim(site, entry, now))
        ):
            # Fresh, or another request is checking it right now.
            return self._answer(site, entry)
        try:
            config = self._read(connect(), site, entry)
        except BaseException:
            if entry is not None:
                # Whoever asks next checks again.
                self._entries[site] = dataclasses.replace(entry, until=0.0)
            raise
        if len(self._entries) >= MAX_CACHED_SITES and site not in self._entries:
            self._entries.clear()
        fresh = _Entry(config, now + self.fresh_seconds, generation)
        self._entries[site] = fresh
        return self._answer(site, fresh)

    def fresh(self, site: str) -> PublishedConfig | None:
        """The site's cached config if :meth:`get` would answer it now without
        the database; None if it would ask (or has never seen the site)."""
        entry = self._entries.get(site)
        if (
            entry is None
            or entry.generation != _published_here
            or entry.until <= self._clock()
        ):
            return None
        return entry.config

    def _claim(self, site: str, entry: _Entry, now: float) -> bool:
        # The first request to find the entry stale checks it; the others
        # answer from it meanwhile, so a burst costs one query, not one each.
        with self._lock:
            if self._entries.get(site) is not entry:
                return False
            self._entries[site] = dataclasses.replace(
                entry, until=now + self.fresh_seconds
            )
            return True

    @staticmethod
    def _read(
        conn: Connection, site: str, entry: _Entry | None
    ) -> PublishedConfig | None:
        newest = newest_revision(conn, site)
        if newest is None:
            return None
        if entry is not None and entry.config and entry.config.revision == newest:
            return entry.config
        return current_config(conn, site)

    @staticmethod
    def _answer(site: str, entry: _Entry) -> PublishedConfig:
        if entry.config is None:
            raise UnknownSite(site)
        return entry.config


def all_origins(conn: Connection) -> list[str]:
    """Every origin pattern any site currently allows (for CORS preflights)."""
    latest = (
        sa.select(
            site_revisions.c.site, sa.func.max(site_revisions.c.revision).label("r")
        )
        .group_by(site_revisions.c.site)
        .subquery()
    )
    with conn.begin():
        docs = conn.execute(
            sa.select(site_revisions.c.document).join(
                latest,
                sa.and_(
                    site_revisions.c.site == latest.c.site,
                    site_revisions.c.revision == latest.c.r,
                ),
            )
        ).scalars()
        return [o for doc in docs for o in json.loads(doc)["origins"]]


def publish(
    conn: Connection,
    doc: object,
    *,
    published_by: str,
    ask_again: bool = False,
    now: dt.datetime | None = None,
) -> PublishedConfig:
    """Validate a document and store it as the site's next revision.

    The consent revision is bumped when ``ask_again`` is set, and also when the
    document shows a category the previous revision did not: consent given
    before cannot cover a category the visitor was never asked about.

    :raise ConfigError: if the document is invalid; nothing is stored then.
    """
    config = validate_config(doc)
    with conn.begin():
        return publish_in(
            conn, config, published_by=published_by, ask_again=ask_again, now=now
        )


def publish_in(
    conn: Connection,
    config: SiteConfig,
    *,
    published_by: str,
    ask_again: bool = False,
    now: dt.datetime | None = None,
) -> PublishedConfig:
    """:func:`publish` a checked config inside the caller's transaction, so
    that what else the caller writes (a draft removed, a change recorded)
    happens with it or not at all."""
    now = now or dt.datetime.now(dt.UTC)
    site = config.site
    # Once committed, this process's cached configs are checked again at once.
    sa.event.listen(conn, "commit", _bump_published, once=True)
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert(sites).values(id=site, created_at=now).on_conflict_do_nothing())
    # Publishes of one site take turns on its row: each one then sees the
    # revision the one before it wrote, and numbers its own after it.
    conn.execute(sa.select(sites.c.id).where(sites.c.id == site).with_for_update())
    prev = conn.execute(
        sa.select(site_revisions)
        .where(site_revisions.c.site == site)
        .order_by(site_revisions.c.revision.desc())
        .limit(1)
    ).first()
    if prev is None:
        revision, consent_revision = 1, 1
    else:
        revision = prev.revision + 1
        added = set(config.categories) - set(json.loads(prev.document)["categories"])
        bump = ask_again or bool(added)
        consent_revision = prev.consent_revision + (1 if bump else 0)
    document = json.dumps(
        config.model_dump(mode="json"), sort_keys=True, ensure_ascii=False
    )
    conn.execute(
        site_revisions.insert().values(
            site=site,
            revision=revision,
            consent_revision=consent_revision,
            document=document,
            published_at=now,
            published_by=published_by,
        )
    )
    return _published(config, revision, consent_revision, document)


@dataclasses.dataclass(frozen=True)
class Revision:
    """One published revision of a site, as the history lists it."""

    revision: int
    consent_revision: int
    published_at: dt.datetime
    published_by: str
    document: dict[str, Any]


def revisions(conn: Connection, site: str) -> list[Revision]:
    """Every published revision of ``site``, newest first (none for an unknown
    site)."""
    with conn.begin():
        rows = conn.execute(
            sa.select(site_revisions)
            .where(site_revisions.c.site == site)
            .order_by(site_revisions.c.revision.desc())
        ).all()
    return [
        Revision(
            r.revision,
            r.consent_revision,
            r.published_at,
            r.published_by,
            json.loads(r.document),
        )
        for r in rows
    ]


@dataclasses.dataclass(frozen=True)
class SqlConsentStore:
    """Recording's storage (:class:`~consent_server.domain.recording.ConsentStore`)
    on one connection."""

    conn: Connection

    def config(self, site: str, revision: int | None = None) -> PublishedConfig:
        """The site's published config; see :func:`current_config`."""
        return current_config(self.conn, site, revision)

    def append(self, event: NewEvent, claim: Claim | None = None) -> dict[str, Any]:
        """Append and commit one event, in one commit with the events other
        threads of this process append at the same time; see
        :class:`consent_server.store.log.GroupCommit`."""
        return log.group_commit(self.conn.engine).append(event, claim)


def revision_document(conn: Connection, site: str, revision: int) -> str | None:
    """The config document of one published revision, as stored, or None."""
    c = site_revisions.c
    with conn.begin():
        document: str | None = conn.execute(
            sa.select(c.document).where(c.site == site, c.revision == revision)
        ).scalar()
    return document


def changed_documents(conn: Connection, limit: int = 10) -> list[str]:
    """Published documents that no longer are what the events recording
    them were shown, in words (at most ``limit``).

    Each event of a version-2 entry holds the hash of its revision's
    document, so a document rewritten in the database after visitors saw
    it (a service taken out, say) is caught here, not only by a visitor's
    receipt. Runs in the caller's transaction.
    """
    e = consent_events.c
    r = site_revisions.c
    recorded = conn.execute(
        sa.select(e.site, e.config_revision, e.config_hash, sa.func.count())
        .where(e.config_hash.is_not(None))
        .group_by(e.site, e.config_revision, e.config_hash)
        .order_by(e.site, e.config_revision)
    ).all()
    wanted = {(site, revision) for site, revision, _, _ in recorded}
    documents: dict[tuple[str, int], str] = {}
    for site in sorted({site for site, _ in wanted}):
        revisions = sorted(revision for s, revision in wanted if s == site)
        for chunk in range(0, len(revisions), 500):
            for revision, document in conn.execute(
                sa.select(r.revision, r.document).where(
                    r.site == site, r.revision.in_(revisions[chunk : chunk + 500])
                )
            ):
                documents[(site, revision)] = document
    problems: list[str] = []
    for site, revision, recorded_hash, count in recorded:
        document = documents.get((site, revision))
        where = f"the config document of site {printable(site)} revision {revision}"
        if document is None:
            problems.append(
                f"MISSING: {where}, which {count} event(s) recorded, is gone"
            )
        elif document_hash(document) != recorded_hash:
            problems.append(
                f"CHANGED: {where} is not the one {count} event(s) recorded"
                f" (config_hash {printable(recorded_hash)}): it was changed after they"
                " were shown it"
            )
        if len(problems) == limit:
            break
    return problems
