"""One language's banner texts of a site, each marked while it is still the
shipped text; a text left empty goes back to the shipped one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from ...domain import diff
from ...domain.languages import TEXT_KEYS
from ...store import drafts
from ...store.engine import get_db
from .forms import SectionForm, texts_form
from .session import require
from .site_edit import account, save, shipped, text_fields, working

bp = Blueprint("site_texts", __name__, url_prefix="/sites")


def _texts_page(
    site: str,
    lang: str,
    doc: dict[str, Any],
    form: SectionForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    rows = text_fields(lang, doc)
    form_class = texts_form([(r["name"], r["label"], r["long"]) for r in rows])
    if form is None:
        conn = get_db()
        draft = drafts.get_draft(conn, site)
        based_on = (
            draft.base_revision if draft else drafts.published_revision(conn, site)
        )
        form = form_class(
            formdata=None,
            based_on="" if based_on is None else str(based_on),
            draft_seen=drafts.stamp(draft),
            **{r["name"]: r["value"] for r in rows},
        )
    return render_template(
        "admin/site_texts.html",
        account=account(),
        site=site,
        lang=lang,
        language=diff.language_name(lang),
        shipped=shipped(lang, "title") is not None,
        rows=rows,
        form=form,
    ), status


def _language_of(site: str, lang: str) -> dict[str, Any]:
    doc = working(site)
    if lang not in doc["languages"]:
        abort(404, f"Site {site} has no texts in {diff.language_name(lang)} ({lang}).")
    return doc


@bp.get("/<site>/texts/<lang>")
@require("edit_sites")
def texts(site: str, lang: str) -> ResponseReturnValue:
    """Every banner text of one language, each marked when it is still the
    shipped one."""
    return _texts_page(site, lang, _language_of(site, lang))


@bp.post("/<site>/texts/<lang>")
@require("edit_sites")
def save_texts(site: str, lang: str) -> ResponseReturnValue:
    """Save one language's texts; an empty one falls back to the shipped text."""
    doc = _language_of(site, lang)
    rows = text_fields(lang, doc)
    form = texts_form([(r["name"], r["label"], r["long"]) for r in rows])()
    form.validate()
    given: dict[str, Any] = {}
    for row in rows:
        value = (getattr(form, row["name"]).data or "").strip()
        if not value:
            continue  # left empty: the shipped text, where there is one
        if len(row["path"]) == 1:
            given[row["name"]] = value
        else:
            _, cat, part = row["path"]
            given.setdefault("categories", {}).setdefault(cat, {})[part] = value
    changed = {**doc, "languages": {**doc["languages"], lang: given}}

    def place(parts: list[str]) -> tuple[str | None, str]:
        rest = parts[2:] if parts[:2] == ["languages", lang] else []
        if len(rest) == 1 and rest[0] in TEXT_KEYS:
            return rest[0], ""
        if len(rest) == 3 and rest[0] == "categories":
            return f"categories_{rest[1]}_{rest[2]}", ""
        return None, ""

    name = diff.language_name(lang)
    if not save(site, form, changed, f"{name} texts", place):
        return _texts_page(site, lang, doc, form, 400)
    return redirect(url_for("admin.site_texts.texts", site=site, lang=lang))
