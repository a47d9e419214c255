"""Drafts of site configs, kept on the server: what the config page edits.

Each site has at most one draft: the whole document, always a valid config
(a draft is saved only if it passes :func:`validate_config`), the revision it
was based on, and who saved it last. Publishing turns it into the site's next
revision; a draft based on an older revision than the newest one is not
published without the editor's say-so, so that no one silently undoes what
another editor published meanwhile. Every save, publish, discard and restore
is recorded with :func:`changes.record`, in the same transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.errors import ConsentError, UnknownSite
from ..domain.site_config import SITE_ID, PublishedConfig, validate_config
from . import changes, sites
from .changes import Actor
from .schema import site_drafts, site_revisions
from .schema import sites as sites_table

# What the server adds to a published document; a draft never carries them.
SERVER_KEYS = ("revision", "consent_revision")


class DraftError(ConsentError):
    """Something asked of a draft cannot be done as it stands."""


class NoDraft(DraftError):
    """There is no draft to publish or discard."""

    def __init__(self, site: str) -> None:
        super().__init__("no_draft", f"site {site!r} has no draft")
        self.site = site


class DraftChanged(DraftError):
    """Someone saved the draft after the editor's page showed it."""

    def __init__(self, site: str, draft: Draft | None) -> None:
        super().__init__("draft_changed", f"the draft of {site!r} changed meanwhile")
        self.site = site
        self.draft = draft


def stamp(draft: Draft | None) -> str:
    """What a page keeps of the draft it showed, to tell whether it changed."""
    return "" if draft is None else draft.updated_at.isoformat()


class SiteExists(DraftError):
    """A new site was given an id that is taken."""

    def __init__(self, site: str) -> None:
        super().__init__("site_exists", f"there is already a site {site!r}")
        self.site = site


class StaleDraft(DraftError):
    """The draft was based on an older revision than the newest one."""

    def __init__(self, site: str, base: int | None, current: int) -> None:
        super().__init__(
            "stale_draft",
            f"the draft of {site!r} is based on revision {base}, but revision"
            f" {current} was published since",
        )
        self.site = site
        self.base = base
        self.current = current


@dataclasses.dataclass(frozen=True)
class Draft:
    """A site's draft as stored."""

    site: str
    document: dict[str, Any]
    base_revision: int | None
    updated_at: dt.datetime
    updated_by: str


@dataclasses.dataclass(frozen=True)
class SiteSummary:
    """One line of the sites list."""

    site: str
    revision: int | None
    published_at: dt.datetime | None
    draft: Draft | None


def checked(doc: object) -> dict[str, Any]:
    """The document checked and filled in, as a draft keeps it.

    :raise ConfigError: naming the first field that is wrong.
    """
    return validate_config(doc).model_dump(mode="json")


def _draft(row: Any) -> Draft:
    return Draft(
        row.site,
        json.loads(row.document),
        row.base_revision,
        row.updated_at,
        row.updated_by,
    )


def _get(conn: Connection, site: str, lock: bool = False) -> Draft | None:
    query = sa.select(site_drafts).where(site_drafts.c.site == site)
    if lock:
        # Two editors pressing Publish at once: the second waits, then finds
        # the draft gone (published) instead of publishing it twice.
        query = query.with_for_update()
    row = conn.execute(query).first()
    return _draft(row) if row else None


def _newest(conn: Connection, site: str) -> int | None:
    return conn.execute(
        sa.select(sa.func.max(site_revisions.c.revision)).where(
            site_revisions.c.site == site
        )
    ).scalar()


def get_draft(conn: Connection, site: str) -> Draft | None:
    """The site's draft, or None."""
    with conn.begin():
        return _get(conn, site)


def published_revision(conn: Connection, site: str) -> int | None:
    """The site's newest revision, or None if it was never published."""
    with conn.begin():
        return _newest(conn, site)


def site_exists(conn: Connection, site: str) -> bool:
    """Whether there is a site ``site`` (published, or only a draft so far)."""
    with conn.begin():
        return (
            conn.execute(
                sa.select(sites_table.c.id).where(sites_table.c.id == site)
            ).first()
            is not None
        )


def working_document(conn: Connection, site: str) -> dict[str, Any]:
    """What an editor of ``site`` works on: the draft's document, or else the
    published document (without ``revision`` and ``consent_revision``).

    :raise UnknownSite: if the site has neither.
    """
    if not SITE_ID.fullmatch(site):
        raise UnknownSite(site)
    draft = get_draft(conn, site)
    if draft is not None:
        return draft.document
    published = sites.current_config(conn, site)
    return published.model_dump(mode="json", exclude=set(SERVER_KEYS))


def list_sites(conn: Connection) -> list[SiteSummary]:
    """Every site, by id, with its newest revision and its draft."""
    newest = (
        sa.select(
            site_revisions.c.site,
            sa.func.max(site_revisions.c.revision).label("revision"),
            sa.func.max(site_revisions.c.published_at).label("published_at"),
        )
        .group_by(site_revisions.c.site)
        .subquery()
    )
    with conn.begin():
        rows = conn.execute(
            sa.select(sites_table.c.id, newest.c.revision, newest.c.published_at)
            .outerjoin(newest, newest.c.site == sites_table.c.id)
            .order_by(sites_table.c.id)
        ).all()
        drafts = {d.site: _draft(d) for d in conn.execute(sa.select(site_drafts)).all()}
    return [
        SiteSummary(r.id, r.revision, r.published_at, drafts.get(r.id)) for r in rows
    ]


def _store(
    conn: Connection,
    site: str,
    document: dict[str, Any],
    base: int | None,
    actor: Actor,
    now: dt.datetime,
) -> None:
    values = {
        "document": json.dumps(document, sort_keys=True, ensure_ascii=False),
        "base_revision": base,
        "updated_at": now,
        "updated_by": actor.email,
    }
    done = conn.execute(
        site_drafts.update().where(site_drafts.c.site == site).values(**values)
    )
    if done.rowcount == 0:
        conn.execute(site_drafts.insert().values(site=site, **values))


def create_site(conn: Connection, doc: object, actor: Actor) -> dict[str, Any]:
    """Make a new site whose config is, for now, only a draft.

    :raise ConfigError: if the document is invalid; nothing is stored then.
    :raise SiteExists: if the id is taken.
    """
    document = checked(doc)
    site = document["site"]
    now = dt.datetime.now(dt.UTC)
    with conn.begin():
        taken = conn.execute(
            sa.select(sites_table.c.id).where(sites_table.c.id == site)
        ).first()
        if taken is not None:
            raise SiteExists(site)
        conn.execute(sites_table.insert().values(id=site, created_at=now))
        _store(conn, site, document, None, actor, now)
        changes.record(conn, actor, "site.create", site)
    return document


def save_draft(
    conn: Connection,
    site: str,
    doc: dict[str, Any],
    actor: Actor,
    *,
    based_on: int | None = None,
    section: str = "",
    seen: str | None = None,
) -> dict[str, Any]:
    """Check ``doc`` and keep it as the site's draft.

    ``based_on`` is the revision the editor's page showed. The draft keeps the
    oldest revision any of its edits was based on, so that publishing it warns
    when something was published after that. ``seen`` is the :func:`stamp`
    of the draft the page showed: if the draft changed since (another editor
    saved), nothing is stored, so no one's change is silently undone.

    :raise ConfigError: if the document is invalid; nothing is stored then.
    :raise DraftChanged: if the draft is no longer the one ``seen``.
    :raise UnknownSite: if there is no such site.
    """
    document = checked({**doc, "site": site})
    now = dt.datetime.now(dt.UTC)
    with conn.begin():
        if (
            conn.execute(
                sa.select(sites_table.c.id).where(sites_table.c.id == site)
            ).first()
            is None
        ):
            raise UnknownSite(site)
        draft = _get(conn, site, lock=True)
        if seen is not None and seen != stamp(draft):
            raise DraftChanged(site, draft)
        newest = _newest(conn, site)
        base = draft.base_revision if draft else newest
        if base is not None and based_on is not None:
            base = min(base, based_on)
        _store(conn, site, document, base, actor, now)
        changes.record(conn, actor, "site.draft_save", site, section=section)
    return document


def discard_draft(conn: Connection, site: str, actor: Actor) -> None:
    """Throw the site's draft away; a site that was never published goes with it.

    :raise NoDraft: if there is none.
    """
    with conn.begin():
        gone = conn.execute(site_drafts.delete().where(site_drafts.c.site == site))
        if gone.rowcount == 0:
            raise NoDraft(site)
        if _newest(conn, site) is None:
            conn.execute(sites_table.delete().where(sites_table.c.id == site))
        changes.record(conn, actor, "site.draft_discard", site)


def publish_draft(
    conn: Connection,
    site: str,
    actor: Actor,
    *,
    ask_again: bool = False,
    confirmed: int | None = None,
) -> PublishedConfig:
    """Publish the site's draft as its next revision, published by the actor.

    ``confirmed`` is the newest revision the editor was warned about: a draft
    based on an older revision is published only when it is the newest still.

    :raise NoDraft: if there is no draft.
    :raise StaleDraft: if another revision was published since the draft's base
        and the editor has not confirmed it.
    """
    with conn.begin():
        draft = _get(conn, site, lock=True)
        if draft is None:
            raise NoDraft(site)
        newest = _newest(conn, site)
        if newest is not None and draft.base_revision != newest != confirmed:
            raise StaleDraft(site, draft.base_revision, newest)
        config = validate_config(draft.document)
        published = sites.publish_in(
            conn, config, published_by=actor.email, ask_again=ask_again
        )
        conn.execute(site_drafts.delete().where(site_drafts.c.site == site))
        changes.record(
            conn,
            actor,
            "site.publish",
            site,
            revision=published.revision,
            ask_again=ask_again,
        )
    return published


def restore_revision(
    conn: Connection, site: str, revision: int, actor: Actor
) -> dict[str, Any]:
    """Make the site's draft the document of an earlier revision (replacing
    any draft), based on the newest revision.

    :raise UnknownSite: if the site has no such revision.
    """
    old = sites.current_config(conn, site, revision)
    document = checked(old.model_dump(mode="json", exclude=set(SERVER_KEYS)))
    now = dt.datetime.now(dt.UTC)
    with conn.begin():
        _store(conn, site, document, _newest(conn, site), actor, now)
        changes.record(conn, actor, "site.restore", site, revision=revision)
    return document
