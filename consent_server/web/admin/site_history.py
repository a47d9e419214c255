"""Publishing a site's draft (with a warning when another revision came
first), discarding it, and the history of every revision with restore."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from ...domain import diff
from ...domain.errors import ConfigError, UnknownSite
from ...store import drafts, sites
from ...store.engine import get_db
from .forms import ActionForm, PublishForm
from .session import require
from .site_edit import account, back, working

bp = Blueprint("site_history", __name__, url_prefix="/sites")


def _document(config: Any) -> dict[str, Any]:
    return config.model_dump(mode="json", exclude=set(drafts.SERVER_KEYS))  # type: ignore[no-any-return]


def _not_valid(what: str, exc: ConfigError) -> str:
    return (
        f"{what} does not pass today's checks ({exc.field}: {exc.message}), so"
        " nothing changed. Correct that part of the site and try again."
    )


@bp.post("/<site>/publish")
@require("edit_sites")
def publish(site: str) -> ResponseReturnValue:
    """Publish the draft as the site's next revision; warn first if another
    revision was published since the draft was started."""
    working(site)
    form = PublishForm(prefix="publish")
    form.validate()
    confirmed = (form.confirmed.data or "").strip()
    conn = get_db()
    try:
        published = drafts.publish_draft(
            conn,
            site,
            account().actor,
            ask_again=bool(form.ask_again.data),
            confirmed=int(confirmed) if confirmed.isdigit() else None,
        )
    except drafts.NoDraft:
        flash("There is no draft to publish: nothing changed.")
        return back(site)
    except drafts.StaleDraft as exc:
        return _stale_page(site, exc, bool(form.ask_again.data))
    except ConfigError as exc:
        # A draft kept from before a rule was added may break it now.
        flash(_not_valid("The draft", exc))
        return back(site)
    message = f"Published revision {published.revision}."
    if form.ask_again.data:
        message += " Every visitor is asked again."
    # Browsers keep the banner script five minutes (web/files.py), so a
    # visitor who just loaded it sees the change only after that.
    message += (
        " Visitors see it within five minutes: a browser that loaded the banner"
        " just before keeps that one until then."
    )
    flash(message)
    return back(site)


def _stale_page(
    site: str, exc: drafts.StaleDraft, ask_again: bool
) -> ResponseReturnValue:
    conn = get_db()
    history = sites.revisions(conn, site)
    since = [r for r in history if exc.base is None or r.revision > exc.base]
    base_doc = None
    if exc.base is not None:
        base_doc = _document(sites.current_config(conn, site, exc.base))
    current = sites.current_config(conn, site)
    base_consent = next(
        (r.consent_revision for r in history if r.revision == exc.base), 0
    )
    meanwhile = diff.describe(
        base_doc,
        _document(current),
        consent_bumped=current.consent_revision > base_consent > 0,
    )
    draft = drafts.get_draft(conn, site)
    assert draft is not None
    form = PublishForm(
        formdata=None, prefix="publish", confirmed=str(exc.current), ask_again=ask_again
    )
    return render_template(
        "admin/site_publish.html",
        account=account(),
        site=site,
        base=exc.base,
        current=exc.current,
        since=since,
        meanwhile=meanwhile,
        yours=diff.describe(_document(current), draft.document),
        form=form,
        action=ActionForm(formdata=None),
    ), 409


@bp.post("/<site>/discard")
@require("edit_sites")
def discard(site: str) -> ResponseReturnValue:
    """Throw the draft away: the site is back to what is published."""
    working(site)
    try:
        drafts.discard_draft(get_db(), site, account().actor)
    except drafts.NoDraft:
        flash("There is no draft to discard: nothing changed.")
        return back(site)
    if drafts.site_exists(get_db(), site):
        flash("The draft is discarded: the site is as published.")
        return back(site)
    flash(
        f"The draft of {site} is discarded; it was never published, so the site"
        " is gone."
    )
    return redirect(url_for("admin.sites.index"))


@bp.get("/<site>/history")
@require("edit_sites")
def history(site: str) -> ResponseReturnValue:
    """Every revision, who published it and when, and what it changed."""
    working(site)
    revisions = sites.revisions(get_db(), site)
    entries = []
    for i, rev in enumerate(revisions):
        before = revisions[i + 1] if i + 1 < len(revisions) else None
        entries.append(
            {
                "rev": rev,
                "changes": diff.describe(
                    None if before is None else _strip(before.document),
                    _strip(rev.document),
                    consent_bumped=before is not None
                    and rev.consent_revision > before.consent_revision,
                ),
            }
        )
    return render_template(
        "admin/site_history.html",
        account=account(),
        site=site,
        entries=entries,
        has_draft=drafts.get_draft(get_db(), site) is not None,
        action=ActionForm(formdata=None),
    )


def _strip(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in drafts.SERVER_KEYS}


@bp.post("/<site>/history/<int:revision>/restore")
@require("edit_sites")
def restore(site: str, revision: int) -> ResponseReturnValue:
    """Make an earlier revision the draft, to publish again as it was."""
    working(site)
    try:
        drafts.restore_revision(get_db(), site, revision, account().actor)
    except UnknownSite:
        abort(404, f"Site {site} has no revision {revision}.")
    except ConfigError as exc:
        flash(_not_valid(f"Revision {revision}", exc))
        return back(site)
    flash(
        f"Revision {revision} is now the draft. Check it and publish it to make"
        " it what visitors see."
    )
    return back(site)
