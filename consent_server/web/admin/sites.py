"""Editors shape a site's banner: sections that save to a draft, publish, history.

Each section is a small form that changes one part of the site's working
document (:func:`drafts.working_document`) and saves the whole of it as the
draft, which must pass the site config's own rules: a message from them is
put at the field it names, with status 400, and nothing is saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from wtforms import Field

from ...domain import diff
from ...domain.errors import ConfigError, UnknownSite
from ...domain.languages import TEXT_KEYS
from ...domain.texts import DEFAULT_TEXTS
from ...domain.theme import contrast
from ...domain.vocabulary import NECESSARY, OPTIONAL
from ...store import drafts, sites
from ...store.engine import get_db
from .forms import (
    SHIPPED_LANGUAGES,
    ActionForm,
    CategoriesForm,
    LanguageForm,
    NewSiteForm,
    PublishForm,
    SectionForm,
    ServiceForm,
    SettingsForm,
    ThemeForm,
    texts_form,
)
from .session import Account, me, require

bp = Blueprint("sites", __name__, url_prefix="/sites")

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


def _account() -> Account:
    account = me()
    assert account is not None  # the views are @require-d
    return account


def _sentence(message: str) -> str:
    for name, words in FIELD_WORDS.items():
        message = message.replace(name, words)
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


def _parts(path: str) -> list[str]:
    # "services[0].cookies[1]" and "services.0.cookies.1" alike.
    return re.findall(r"[^.\[\]]+", path)


def _place(form: SectionForm, exc: ConfigError, placer: Placer) -> None:
    name, prefix = placer(_parts(exc.field))
    fields = [f for f in form if f.type not in ("HiddenField", "CSRFTokenField")]
    target: Field = getattr(form, name) if name else fields[0]
    target.errors = [*target.errors, prefix + _sentence(exc.message)]


def _working(site: str) -> dict[str, Any]:
    try:
        return drafts.working_document(get_db(), site)
    except UnknownSite:
        abort(404, f"There is no site {site!r}.")


def _based_on(form: SectionForm) -> int | None:
    value = (form.based_on.data or "").strip()
    return int(value) if value.isdigit() else None


def _save(
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
            _account().actor,
            based_on=_based_on(form),
            section=section,
        )
    except ConfigError as exc:
        _place(form, exc, placer)
        return False
    flash(f"Saved to the draft: {section}. Publish it when you are ready.")
    return True


# -- what the pages show --------------------------------------------------------


def _base_texts(lang: str) -> dict[str, Any]:
    found = DEFAULT_TEXTS.get(lang) or DEFAULT_TEXTS.get(lang.split("-")[0])
    return found or DEFAULT_TEXTS["en"]


def _shipped(lang: str, key: str, part: str = "") -> str | None:
    base = DEFAULT_TEXTS.get(lang) or DEFAULT_TEXTS.get(lang.split("-")[0])
    if base is None:
        return None
    if part:
        entry = base.get("categories", {}).get(key, {})  # type: ignore[attr-defined]
        return entry.get(part)  # type: ignore[no-any-return]
    value = base.get(key)
    return value if isinstance(value, str) else None


def _text_fields(lang: str, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every text of one language: its field name, label, value, shipped text."""
    texts = doc["languages"][lang]
    rows = []
    for key in TEXT_KEYS:
        rows.append(
            {
                "name": key,
                "label": diff.TEXT_NAMES.get(key, key).capitalize(),
                "value": texts.get(key, ""),
                "shipped": _shipped(lang, key),
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
                    "shipped": _shipped(lang, cat, part),
                    "long": part == "description",
                    "path": ("categories", cat, part),
                }
            )
    return rows


def _language_summary(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for lang in doc["languages"]:
        rows = _text_fields(lang, doc)
        default = [r for r in rows if r["value"] == r["shipped"]]
        out.append(
            {
                "code": lang,
                "name": diff.language_name(lang),
                "shipped": _shipped(lang, "title") is not None,
                "total": len(rows),
                "default": len(default),
                "own": len(rows) - len(default),
            }
        )
    return out


def _forms(site: str, doc: dict[str, Any], based_on: int | None) -> dict[str, Any]:
    base = "" if based_on is None else str(based_on)
    theme = doc["theme"]
    settings = SettingsForm(
        formdata=None,
        prefix="settings",
        based_on=base,
        default_language=doc["default_language"],
        policy_url=doc["policy_url"],
        origins="\n".join(doc["origins"]),
        cookie_domain=doc.get("cookie_domain") or "",
        cookie_days=str(doc["cookie_days"]),
        refusal_days=str(doc["refusal_days"]),
        google_consent_mode=doc["google_consent_mode"],
        gpc=doc["gpc"],
    )
    categories = CategoriesForm(
        formdata=None,
        prefix="categories",
        based_on=base,
        **{c: c in doc["categories"] for c in OPTIONAL},
    )
    services = [
        ServiceForm(
            formdata=None,
            prefix=f"service-{i}",
            based_on=base,
            name=s["name"],
            category=s["category"],
            cookies="\n".join(s.get("cookies", [])),
            hosts="\n".join(s.get("hosts", [])),
            purpose=s.get("purpose") or "",
        )
        for i, s in enumerate(doc["services"])
    ]
    for form in services:
        for f in form:
            f.description = ""  # said once, at the form that adds a service
    missing = [c for c in SHIPPED_LANGUAGES if c.value not in doc["languages"]]
    language = LanguageForm(formdata=None, prefix="language", based_on=base)
    language.language.choices = missing
    return {
        "settings": settings,
        "theme": ThemeForm(formdata=None, prefix="theme", based_on=base, **theme),
        "categories": categories,
        "services": services,
        "new_service": ServiceForm(formdata=None, prefix="service-new", based_on=base),
        "language": language,
        "publish": PublishForm(formdata=None, prefix="publish"),
    }


def _language_choices(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(code, diff.language_name(code)) for code in doc["languages"]]


def _site_page(site: str, status: int = 200, **override: Any) -> ResponseReturnValue:
    conn = get_db()
    doc = _working(site)
    draft = drafts.get_draft(conn, site)
    newest = drafts.published_revision(conn, site)
    published = None if newest is None else sites.current_config(conn, site)
    based_on = draft.base_revision if draft else newest
    forms = _forms(site, doc, based_on)
    forms.update(override)
    forms["settings"].default_language.choices = _language_choices(doc)
    pending: list[str] = []
    if draft is not None:
        before = (
            None
            if published is None
            else published.model_dump(mode="json", exclude=set(drafts.SERVER_KEYS))
        )
        pending = diff.describe(before, draft.document)
    theme = doc["theme"]
    return render_template(
        "admin/site.html",
        account=_account(),
        site=site,
        doc=doc,
        draft=draft,
        published=published,
        pending=pending,
        stale=draft is not None
        and newest is not None
        and draft.base_revision != newest,
        languages=_language_summary(doc),
        ratios={
            "accent": contrast(theme["accent"], "#ffffff"),
            "accent_bg": contrast(theme["accent"], theme["background"]),
            "text": contrast(theme["text"], theme["background"]),
        },
        action=ActionForm(formdata=None),
        **forms,
    ), status


def _back(site: str, anchor: str = "") -> ResponseReturnValue:
    return redirect(url_for("admin.sites.site_page", site=site) + anchor)


# -- the list and a new site ----------------------------------------------------


def _list_page(
    form: NewSiteForm | None = None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "admin/site_list.html",
        account=_account(),
        sites=drafts.list_sites(get_db()),
        form=form or NewSiteForm(formdata=None),
    ), status


@bp.get("/")
@require("edit_sites")
def index() -> ResponseReturnValue:
    """Every site, its published revision and whether a draft waits; a new one."""
    return _list_page()


def _new_site_field(parts: list[str]) -> tuple[str | None, str]:
    if parts[0] == "origins":
        return "origin", ""
    if parts[0] in ("site", "policy_url", "default_language"):
        return parts[0], ""
    return None, ""


@bp.post("/")
@require("edit_sites")
def create() -> ResponseReturnValue:
    """Make a site from its id, language, policy and shop address; the rest
    from the shipped defaults. It starts as a draft."""
    form = NewSiteForm()
    form.validate()
    site = (form.site.data or "").strip()
    doc = {
        "site": site,
        "default_language": form.default_language.data,
        "languages": {form.default_language.data: {}},
        "policy_url": (form.policy_url.data or "").strip(),
        "origins": [(form.origin.data or "").strip()],
    }
    try:
        drafts.create_site(get_db(), doc, _account().actor)
    except ConfigError as exc:
        _place(form, exc, _new_site_field)
        return _list_page(form, 400)
    except drafts.SiteExists:
        form.site.errors = [f"There is already a site {site!r}: choose another id."]
        return _list_page(form, 400)
    flash(
        f"Site {site} is made, as a draft: visitors see nothing of it until you"
        " publish it."
    )
    return _back(site)


# -- a site's page and its sections ---------------------------------------------


@bp.get("/<site>/")
@require("edit_sites")
def site_page(site: str) -> ResponseReturnValue:
    """The site's sections, its draft and the publish form."""
    return _site_page(site)


def _settings_field(parts: list[str]) -> tuple[str | None, str]:
    if parts[0] == "origins" and len(parts) > 1 and parts[1].isdigit():
        return "origins", f"Line {int(parts[1]) + 1}: "
    if parts[0] in (
        "default_language",
        "policy_url",
        "origins",
        "cookie_domain",
        "cookie_days",
        "refusal_days",
        "google_consent_mode",
        "gpc",
    ):
        return parts[0], ""
    return None, f"{'.'.join(parts)}: "


def _number(text: str | None) -> int | str:
    # A whole number goes to the rules as one; anything else as the text it is,
    # so that the rules' own message says what is wanted.
    value = (text or "").strip()
    return int(value) if re.fullmatch(r"[0-9]{1,6}", value) else value


@bp.post("/<site>/settings")
@require("edit_sites")
def settings(site: str) -> ResponseReturnValue:
    """Addresses, lifetimes and switches."""
    doc = _working(site)
    form = SettingsForm(prefix="settings")
    form.default_language.choices = _language_choices(doc)
    form.validate()
    domain = (form.cookie_domain.data or "").strip()
    changed = {
        **doc,
        "default_language": form.default_language.data,
        "policy_url": (form.policy_url.data or "").strip(),
        "origins": [
            line.strip()
            for line in (form.origins.data or "").splitlines()
            if line.strip()
        ],
        "cookie_domain": domain or None,
        "cookie_days": _number(form.cookie_days.data),
        "refusal_days": _number(form.refusal_days.data),
        "google_consent_mode": bool(form.google_consent_mode.data),
        "gpc": bool(form.gpc.data),
    }
    if not _save(site, form, changed, "settings", _settings_field):
        return _site_page(site, 400, settings=form)
    return _back(site, "#settings")


def _theme_field(parts: list[str]) -> tuple[str | None, str]:
    if parts[0] == "theme" and len(parts) > 1:
        return parts[1], ""
    return None, ""


@bp.post("/<site>/theme")
@require("edit_sites")
def theme(site: str) -> ResponseReturnValue:
    """Position and colours; the colours must keep WCAG AA contrast."""
    doc = _working(site)
    form = ThemeForm(prefix="theme")
    form.validate()
    changed = {
        **doc,
        "theme": {
            **doc["theme"],
            "position": form.position.data,
            "accent": (form.accent.data or "").strip(),
            "background": (form.background.data or "").strip(),
            "text": (form.text.data or "").strip(),
            "floating": bool(form.floating.data),
        },
    }
    if not _save(site, form, changed, "theme", _theme_field):
        return _site_page(site, 400, theme=form)
    return _back(site, "#theme")


@bp.post("/<site>/categories")
@require("edit_sites")
def categories(site: str) -> ResponseReturnValue:
    """Which optional categories the banner offers."""
    doc = _working(site)
    form = CategoriesForm(prefix="categories")
    form.validate()
    shown = [c for c in OPTIONAL if getattr(form, c).data]
    changed = {**doc, "categories": shown}
    if not _save(site, form, changed, "categories", lambda p: (None, "")):
        return _site_page(site, 400, categories=form)
    return _back(site, "#categories")


def _lines(text: str | None) -> list[str]:
    # One a line; commas and spaces part entries too, as neither can be in one.
    return [c for c in re.split(r"[\s,]+", text or "") if c]


def _service(form: ServiceForm) -> dict[str, Any]:
    return {
        "name": (form.name.data or "").strip(),
        "category": form.category.data,
        "cookies": _lines(form.cookies.data),
        "hosts": _lines(form.hosts.data),
        "purpose": (form.purpose.data or "").strip() or None,
    }


def _service_field(index: int) -> Placer:
    def place(parts: list[str]) -> tuple[str | None, str]:
        if parts[0] == "services" and len(parts) > 2 and parts[1] == str(index):
            name = parts[2]
            if name == "cookies" and len(parts) > 3 and parts[3].isdigit():
                return "cookies", f"Cookie {int(parts[3]) + 1}: "
            if name == "hosts" and len(parts) > 3 and parts[3].isdigit():
                return "hosts", f"Host {int(parts[3]) + 1}: "
            return name, ""
        return None, ""

    return place


def _services_page(
    site: str, form: ServiceForm, index: int | None
) -> ResponseReturnValue:
    if index is None:
        return _site_page(site, 400, new_service=form)
    page_forms = _forms(site, _working(site), None)["services"]
    page_forms[index] = form
    return _site_page(site, 400, services=page_forms)


def _save_service(site: str, index: int | None) -> ResponseReturnValue:
    doc = _working(site)
    if index is not None and not 0 <= index < len(doc["services"]):
        abort(404, f"Site {site} has no service number {index + 1}.")
    prefix = "service-new" if index is None else f"service-{index}"
    form = ServiceForm(prefix=prefix)
    form.validate()
    service = _service(form)
    services = list(doc["services"])
    others = [s["name"] for i, s in enumerate(services) if i != index]
    if service["name"] in others:
        form.name.errors = [f"There is already a service named {service['name']!r}."]
        return _services_page(site, form, index)
    where = len(services) if index is None else index
    if index is None:
        services.append(service)
    else:
        services[index] = service
    changed = {**doc, "services": services}
    section = f"service {service['name'] or '(no name)'}"
    if not _save(site, form, changed, section, _service_field(where)):
        return _services_page(site, form, index)
    return _back(site, "#services")


@bp.post("/<site>/services/")
@require("edit_sites")
def add_service(site: str) -> ResponseReturnValue:
    """A new service and its cookie names."""
    return _save_service(site, None)


@bp.post("/<site>/services/<int:index>")
@require("edit_sites")
def edit_service(site: str, index: int) -> ResponseReturnValue:
    """Change one service."""
    return _save_service(site, index)


@bp.post("/<site>/services/<int:index>/remove")
@require("edit_sites")
def remove_service(site: str, index: int) -> ResponseReturnValue:
    """Take one service out."""
    doc = _working(site)
    if not 0 <= index < len(doc["services"]):
        abort(404, f"Site {site} has no service number {index + 1}.")
    services = list(doc["services"])
    gone = services.pop(index)
    drafts.save_draft(
        get_db(),
        site,
        {**doc, "services": services},
        _account().actor,
        section=f"service {gone['name']} removed",
    )
    flash(f"Service {gone['name']} is removed from the draft.")
    return _back(site, "#services")


@bp.post("/<site>/languages/")
@require("edit_sites")
def add_language(site: str) -> ResponseReturnValue:
    """Add a language we ship texts for; its texts start as the shipped ones."""
    doc = _working(site)
    form = LanguageForm(prefix="language")
    form.language.choices = [
        c for c in SHIPPED_LANGUAGES if c.value not in doc["languages"]
    ]
    if not form.validate():
        form.language.errors = ["Choose one of the languages in the list."]
        return _site_page(site, 400, language=form)
    lang = form.language.data
    changed = {**doc, "languages": {**doc["languages"], lang: {}}}
    if not _save(
        site, form, changed, f"{diff.language_name(lang)} added", lambda p: (None, "")
    ):
        return _site_page(site, 400, language=form)
    return redirect(url_for("admin.sites.texts", site=site, lang=lang))


# -- texts of one language ------------------------------------------------------


def _texts_page(
    site: str,
    lang: str,
    doc: dict[str, Any],
    form: SectionForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    rows = _text_fields(lang, doc)
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
            **{r["name"]: r["value"] for r in rows},
        )
    return render_template(
        "admin/site_texts.html",
        account=_account(),
        site=site,
        lang=lang,
        language=diff.language_name(lang),
        shipped=_shipped(lang, "title") is not None,
        rows=rows,
        form=form,
    ), status


def _language_of(site: str, lang: str) -> dict[str, Any]:
    doc = _working(site)
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
    rows = _text_fields(lang, doc)
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
    if not _save(site, form, changed, f"{name} texts", place):
        return _texts_page(site, lang, doc, form, 400)
    return redirect(url_for("admin.sites.texts", site=site, lang=lang))


# -- publish, discard, history --------------------------------------------------


def _document(config: Any) -> dict[str, Any]:
    return config.model_dump(mode="json", exclude=set(drafts.SERVER_KEYS))  # type: ignore[no-any-return]


@bp.post("/<site>/publish")
@require("edit_sites")
def publish(site: str) -> ResponseReturnValue:
    """Publish the draft as the site's next revision; warn first if another
    revision was published since the draft was started."""
    _working(site)
    form = PublishForm(prefix="publish")
    form.validate()
    confirmed = (form.confirmed.data or "").strip()
    conn = get_db()
    try:
        published = drafts.publish_draft(
            conn,
            site,
            _account().actor,
            ask_again=bool(form.ask_again.data),
            confirmed=int(confirmed) if confirmed.isdigit() else None,
        )
    except drafts.NoDraft:
        flash("There is no draft to publish: nothing changed.")
        return _back(site)
    except drafts.StaleDraft as exc:
        return _stale_page(site, exc, bool(form.ask_again.data))
    message = f"Published revision {published.revision}."
    if form.ask_again.data:
        message += " Every visitor is asked again."
    flash(message)
    return _back(site)


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
        account=_account(),
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
    _working(site)
    try:
        drafts.discard_draft(get_db(), site, _account().actor)
    except drafts.NoDraft:
        flash("There is no draft to discard: nothing changed.")
        return _back(site)
    if drafts.site_exists(get_db(), site):
        flash("The draft is discarded: the site is as published.")
        return _back(site)
    flash(
        f"The draft of {site} is discarded; it was never published, so the site"
        " is gone."
    )
    return redirect(url_for("admin.sites.index"))


@bp.get("/<site>/history")
@require("edit_sites")
def history(site: str) -> ResponseReturnValue:
    """Every revision, who published it and when, and what it changed."""
    _working(site)
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
        account=_account(),
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
    _working(site)
    try:
        drafts.restore_revision(get_db(), site, revision, _account().actor)
    except UnknownSite:
        abort(404, f"Site {site} has no revision {revision}.")
    flash(
        f"Revision {revision} is now the draft. Check it and publish it to make"
        " it what visitors see."
    )
    return _back(site)
