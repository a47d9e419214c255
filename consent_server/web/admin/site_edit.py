"""What the sites pages share: the working document, saving it, and putting
the site config rules' messages at the fields they name.

Each section of a site's page is a small form that changes one part of the
site's working document (:func:`drafts.working_document`) and saves the whole
of it as the draft, which must pass the site config's own rules: a message
from them is put at the field it names, with status 400, and nothing is saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from wtforms import Field

from ...domain import diff
from ...domain.errors import ConfigError, UnknownSite
from ...domain.languages import TEXT_KEYS
from ...domain.texts import DEFAULT_TEXTS
from ...domain.vocabulary import NECESSARY
from ...store import drafts
from ...store.engine import get_db
from .forms import SectionForm
from .session import Account, me

# Texts that are long enough to want a box of several lines.
LONG_TEXTS = {"description"}
# How a rule's message names another field, in the page's words.
FIELD_WORDS = {
    "theme.background": "the background colour",
    "theme.accent": "the button colour",
    "theme.text": "the text colour",
}
# Where a message about a field of the document is shown: which field of the
# section's form (None: the form's first field).
Placer = Callable[[list[str]], tuple[str | None, str]]


def account() -> Account:
    account = me()
    assert account is not None  # the views are @require-d
    return account


def sentence(message: str) -> str:
    for name, words in FIELD_WORDS.items():
        message = message.replace(name, words)
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


def parts(path: str) -> list[str]:
    # "services[0].cookies[1]" and "services.0.cookies.1" alike.
    return re.findall(r"[^.\[\]]+", path)


def place(form: SectionForm, exc: ConfigError, placer: Placer) -> None:
    name, prefix = placer(parts(exc.field))
    fields = [f for f in form if f.type not in ("HiddenField", "CSRFTokenField")]
    target: Field = getattr(form, name) if name else fields[0]
    target.errors = [*target.errors, prefix + sentence(exc.message)]


# Where on the site's page each part of the document is edited.
SECTIONS = {
    "theme": "Look",
    "services": "Services and their cookies",
    "categories": "Categories",
    "languages": "Texts",
}


def _broken_before(site: str, exc: ConfigError) -> bool:
    # Whether the draft as it was already failed on the same field: a rule
    # added since it was saved, not this section's input.
    try:
        drafts.checked(drafts.working_document(get_db(), site))
    except ConfigError as before:
        return before.field == exc.field
    return False


def _say_where(form: SectionForm, exc: ConfigError) -> None:
    top = parts(exc.field)[0] if exc.field else ""
    what = diff.SETTING_NAMES.get(top, exc.field)
    section = SECTIONS.get(top, "Addresses and settings")
    fields = [f for f in form if f.type not in ("HiddenField", "CSRFTokenField")]
    fields[0].errors = [
        *fields[0].errors,
        f"Nothing was saved: another part of the draft does not pass today's"
        f" checks ({what}: {exc.message}). Correct it under {section} on the"
        " site's page first, or discard the draft.",
    ]


def working(site: str) -> dict[str, Any]:
    try:
        return drafts.working_document(get_db(), site)
    except UnknownSite:
        abort(404, f"There is no site {site!r}.")


def based_on(form: SectionForm) -> int | None:
    value = (form.based_on.data or "").strip()
    return int(value) if value.isdigit() else None


def save(
    site: str,
    form: SectionForm,
    doc: dict[str, Any],
    section: str,
    placer: Placer,
) -> bool:
    """Save ``doc`` as the draft; False (with the message at its field) if the
    site's rules refuse it."""
    try:
        drafts.save_draft(
            get_db(),
            site,
            doc,
            account().actor,
            based_on=based_on(form),
            section=section,
            seen=form.draft_seen.data or "",
        )
    except drafts.DraftChanged as exc:
        # Saving what this page holds would undo what the other editor
        # saved. Nothing is saved; what was typed stays on the page, and
        # saving it again, now knowingly, replaces theirs.
        form.draft_seen.data = drafts.stamp(exc.draft)
        who = (
            f"{exc.draft.updated_by} saved the draft at"
            f" {exc.draft.updated_at:%H:%M:%S} UTC"
            if exc.draft
            else "Someone published or discarded the draft"
        )
        flash(
            f"Not saved: {who}, after you opened this page. What you typed is"
            " still here. Reload the page to see their version first, or save"
            " again to replace it with yours."
        )
        return False
    except ConfigError as exc:
        if placer(parts(exc.field))[0] is None and _broken_before(site, exc):
            _say_where(form, exc)
        else:
            place(form, exc, placer)
        return False
    flash(f"Saved to the draft: {section}. Publish it when you are ready.")
    return True


def shipped(lang: str, key: str, part: str = "") -> str | None:
    base = DEFAULT_TEXTS.get(lang) or DEFAULT_TEXTS.get(lang.split("-")[0])
    if base is None:
        return None
    if part:
        entry = base.get("categories", {}).get(key, {})  # type: ignore[attr-defined]
        return entry.get(part)  # type: ignore[no-any-return]
    value = base.get(key)
    return value if isinstance(value, str) else None


def text_fields(lang: str, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every text of one language: its field name, label, value, shipped text."""
    texts = doc["languages"][lang]
    rows = []
    for key in TEXT_KEYS:
        rows.append(
            {
                "name": key,
                "label": diff.TEXT_NAMES.get(key, key).capitalize(),
                "value": texts.get(key, ""),
                "shipped": shipped(lang, key),
                "long": key in LONG_TEXTS,
                "path": (key,),
            }
        )
    for cat in (*NECESSARY, *doc["categories"]):
        for part in ("label", "description"):
            rows.append(
                {
                    "name": f"categories_{cat}_{part}",
                    "label": f"{cat.capitalize()}: {part}",
                    "value": texts.get("categories", {}).get(cat, {}).get(part, ""),
                    "shipped": shipped(lang, cat, part),
                    "long": part == "description",
                    "path": ("categories", cat, part),
                }
            )
    return rows


def back(site: str, anchor: str = "") -> ResponseReturnValue:
    """To the site's page (at ``anchor``), after a form was saved."""
    return redirect(url_for("admin.sites.site_page", site=site) + anchor)
