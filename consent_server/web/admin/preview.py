"""The preview: a site's real banner, built from its working document, in a frame.

``/admin/sites/<site>/preview`` holds a small form (language, layer, width)
and a frame. The frame is a sample shop page of ours that loads the banner
script exactly as a storefront would, built by :func:`banner.build_script`
from the site's working document, plus ``admin-preview.js``, which runs
first. Nothing is recorded, in two ways: ``admin-preview.js`` answers the
banner's requests in the page itself (no request leaves it) and keeps its
cookies in the page's memory; and the frame's policy allows no connection
at all, so even without that script the banner could not reach
``/v1/consent``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy.engine import Connection
from wtforms import SelectChoice, SelectField

from ...domain.errors import ConfigError, UnknownSite
from ...domain.site_config import SITE_ID, PublishedConfig, validate_config
from ...store import drafts
from ...store.engine import get_db
from ...store.schema import sites as sites_table
from .. import banner
from ..demo import LANGUAGES
from .session import me, require

bp = Blueprint("preview", __name__)

# The frame's own policy: our script and styles only, no connection to
# anything (the banner's requests are answered in the page), and framed by
# our own config page alone.
FRAME_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
    " connect-src 'none'; base-uri 'none'; form-action 'none';"
    " frame-ancestors 'self'"
)
FRAME_ENDPOINTS = frozenset({"admin.preview.frame"})
LAYERS = {
    "notice": "First layer: the notice",
    "preferences": "Second layer: the choices",
}
WIDTHS = {"desktop": "Desktop (1280 pixels)", "phone": "Phone (375 pixels)"}
# What a field says when its value is not one of the list (an edited address).
NOT_LISTED = {
    "lang": "This site has no texts in that language: choose one from the list.",
    "layer": "Choose the first or the second layer from the list.",
    "width": "Choose desktop or phone from the list.",
}


def _known(conn: Connection, site: str) -> bool:
    if not SITE_ID.fullmatch(site):
        return False
    with conn.begin():
        found = conn.execute(
            sa.select(sites_table.c.id).where(sites_table.c.id == site)
        ).first()
    return found is not None


def _document(site: str) -> dict[str, Any] | None:
    """The site's working document, or None when there is nothing to preview.

    :raise 404: for a site that does not exist.
    """
    conn = get_db()
    try:
        return drafts.working_document(conn, site)
    except UnknownSite:
        # A site with neither a draft nor a published revision (its first
        # draft discarded) has nothing to show; one that does not exist is
        # a wrong address.
        if not _known(conn, site):
            abort(404, f"There is no site called “{site}”. Check the address.")
        return None


def _language_name(code: str) -> str:
    name = LANGUAGES.get(code)
    return f"{name} ({code})" if name else code


# WTForms is untyped (setup.cfg allows subclassing it in forms.py only).
class PreviewForm(FlaskForm):
    """What to preview: a GET form that changes nothing, so it needs no token."""

    class Meta:
        csrf = False

    lang = SelectField("Language")
    layer = SelectField(
        "Layer", choices=[SelectChoice(*c) for c in LAYERS.items()], default="notice"
    )
    width = SelectField(
        "Width", choices=[SelectChoice(*c) for c in WIDTHS.items()], default="desktop"
    )


def _form(document: dict[str, Any]) -> PreviewForm:
    # Left-out fields keep these defaults; an empty query shows the first
    # layer in the site's default language, on a desktop.
    form = PreviewForm(formdata=request.args or None, lang=document["default_language"])
    form.lang.choices = [
        SelectChoice(code, _language_name(code), render_kw={"lang": code})
        for code in document["languages"]
    ]
    return form


def _validate(form: PreviewForm) -> bool:
    ok: bool = form.validate()
    for name, message in NOT_LISTED.items():
        if form[name].errors:
            form[name].errors = [message]
    return ok


@bp.get("/sites/<site>/preview")
@require("edit_sites")
def page(site: str) -> ResponseReturnValue:
    """The preview form and the frame showing the banner as asked.

    :raise 404: for a site that does not exist.
    """
    document = _document(site)
    if document is None:
        return render_template("admin/preview.html", account=me(), site=site, form=None)
    form = _form(document)
    ok = _validate(form)
    return render_template(
        "admin/preview.html",
        account=me(),
        site=site,
        form=form,
        ok=ok,
        language=_language_name(form.lang.data) if ok else "",
        layers=LAYERS,
    ), (200 if ok else 400)


def _choice(name: str, allowed: object, default: str) -> str:
    value = request.args.get(name, default)
    if value not in allowed:  # type: ignore[operator]
        abort(400, f"The {name} “{value}” cannot be previewed.")
    return value


def _built(site: str) -> tuple[PublishedConfig, str]:
    """The site's working config and the language asked for (default: the site's).

    :raise 404: when the site does not exist or has nothing to preview.
    :raise 400: for a language the site does not have.
    """
    document = _document(site)
    if document is None:
        abort(404, f"Site “{site}” has nothing to preview yet.")
    try:
        checked = validate_config(document)
    except ConfigError as exc:
        # Drafts are checked when saved; this would be a bug, said plainly.
        abort(409, f"The site's settings cannot be shown: {exc.field} {exc.message}.")
    config = PublishedConfig(**dict(checked), revision=1, consent_revision=1)
    lang = _choice("lang", config.languages, config.default_language)
    return config, lang


@bp.get("/sites/<site>/preview/frame")
@require("edit_sites")
def frame(site: str) -> ResponseReturnValue:
    """A sample shop page that shows the banner built from the working document."""
    config, lang = _built(site)
    layer = _choice("layer", LAYERS, "notice")
    return render_template(
        "admin/preview_frame.html", site=site, lang=lang, layer=layer, config=config
    )


@bp.get("/sites/<site>/preview/consent.js")
@require("edit_sites")
def script(site: str) -> Response:
    """The banner script as a storefront loads it, built from the working document."""
    config, lang = _built(site)
    languages = list(dict.fromkeys([config.default_language, lang]))
    static = Path(current_app.static_folder or "static")
    # No keys: a preview has no consent cookie of ours to check.
    built = banner.build_script(static, config, [], languages)
    return Response(built.body, mimetype="text/javascript")


@bp.after_request
def _frame_policy(response: Response) -> Response:
    # The config page's policy forbids being framed; the preview frame is
    # the one page of ours our own config page frames (the config page's
    # own hook leaves a policy set here alone).
    if request.endpoint in FRAME_ENDPOINTS:
        response.headers["Content-Security-Policy"] = FRAME_POLICY
    return response
