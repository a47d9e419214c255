"""Editors shape a site's banner: the sites list, a new site, and the sections
of a site's page (categories, services, languages, settings, look), each
saving to the site's draft (:mod:`.site_edit`). Texts are edited on their own
page (:mod:`.site_texts`); publishing and the history are :mod:`.site_history`.
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from ...domain import diff
from ...domain.errors import ConfigError
from ...domain.theme import contrast
from ...domain.vocabulary import OPTIONAL
from ...store import drafts, sites
from ...store.engine import get_db
from .forms import (
    SHIPPED_LANGUAGES,
    ActionForm,
    CategoriesForm,
    LanguageForm,
    NewSiteForm,
    PublishForm,
    ScanForm,
    ServiceForm,
    SettingsForm,
    ThemeForm,
)
from .scan_section import section as scan_section
from .session import require
from .site_edit import (
    Placer,
    account,
    back,
    place,
    save,
    shipped,
    text_fields,
    working,
)

bp = Blueprint("sites", __name__, url_prefix="/sites")


def _language_summary(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for lang in doc["languages"]:
        rows = text_fields(lang, doc)
        default = [r for r in rows if r["value"] == r["shipped"]]
        out.append(
            {
                "code": lang,
                "name": diff.language_name(lang),
                "shipped": shipped(lang, "title") is not None,
                "total": len(rows),
                "default": len(default),
                "own": len(rows) - len(default),
            }
        )
    return out


def _forms(
    site: str, doc: dict[str, Any], based_on: int | None, seen: str = ""
) -> dict[str, Any]:
    base = "" if based_on is None else str(based_on)
    theme = doc["theme"]
    settings = SettingsForm(
        formdata=None,
        prefix="settings",
        based_on=base,
        draft_seen=seen,
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
        draft_seen=seen,
        **{c: c in doc["categories"] for c in OPTIONAL},
    )
    services = [
        ServiceForm(
            formdata=None,
            prefix=f"service-{i}",
            based_on=base,
            draft_seen=seen,
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
    language = LanguageForm(
        formdata=None, prefix="language", based_on=base, draft_seen=seen
    )
    language.language.choices = missing
    return {
        "settings": settings,
        "theme": ThemeForm(
            formdata=None, prefix="theme", based_on=base, draft_seen=seen, **theme
        ),
        "categories": categories,
        "services": services,
        "new_service": ServiceForm(
            formdata=None, prefix="service-new", based_on=base, draft_seen=seen
        ),
        "language": language,
        "publish": PublishForm(formdata=None, prefix="publish"),
    }


def _language_choices(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(code, diff.language_name(code)) for code in doc["languages"]]


def _site_page(
    site: str,
    status: int = 200,
    scan_form: ScanForm | None = None,
    scan_message: str = "",
    **override: Any,
) -> ResponseReturnValue:
    conn = get_db()
    doc = working(site)
    draft = drafts.get_draft(conn, site)
    newest = drafts.published_revision(conn, site)
    published = None if newest is None else sites.current_config(conn, site)
    based_on = draft.base_revision if draft else newest
    forms = _forms(site, doc, based_on, drafts.stamp(draft))
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
        account=account(),
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
        scan_view=scan_section(
            site,
            doc,
            None if published is None else list(published.origins),
            scan_form,
            scan_message,
        ),
        **forms,
    ), status


# -- the list and a new site ----------------------------------------------------


def _list_page(
    form: NewSiteForm | None = None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "admin/site_list.html",
        account=account(),
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
        drafts.create_site(get_db(), doc, account().actor)
    except ConfigError as exc:
        place(form, exc, _new_site_field)
        return _list_page(form, 400)
    except drafts.SiteExists:
        form.site.errors = [f"There is already a site {site!r}: choose another id."]
        return _list_page(form, 400)
    flash(
        f"Site {site} is made, as a draft: visitors see nothing of it until you"
        " publish it."
    )
    return back(site)


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
    doc = working(site)
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
    if not save(site, form, changed, "settings", _settings_field):
        return _site_page(site, 400, settings=form)
    return back(site, "#settings")


def _theme_field(parts: list[str]) -> tuple[str | None, str]:
    if parts[0] == "theme" and len(parts) > 1:
        return parts[1], ""
    return None, ""


@bp.post("/<site>/theme")
@require("edit_sites")
def theme(site: str) -> ResponseReturnValue:
    """Position and colours; the colours must keep WCAG AA contrast."""
    doc = working(site)
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
    if not save(site, form, changed, "theme", _theme_field):
        return _site_page(site, 400, theme=form)
    return back(site, "#theme")


@bp.post("/<site>/categories")
@require("edit_sites")
def categories(site: str) -> ResponseReturnValue:
    """Which optional categories the banner offers."""
    doc = working(site)
    form = CategoriesForm(prefix="categories")
    form.validate()
    shown = [c for c in OPTIONAL if getattr(form, c).data]
    changed = {**doc, "categories": shown}
    if not save(site, form, changed, "categories", lambda p: (None, "")):
        return _site_page(site, 400, categories=form)
    return back(site, "#categories")


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
    page_forms = _forms(site, working(site), None)["services"]
    page_forms[index] = form
    return _site_page(site, 400, services=page_forms)


MOVED = (
    "The services changed since this page was shown (another editor's save?):"
    " nothing was saved. Here they are as they are now; try again."
)


def _moved(doc: dict[str, Any], index: int, name: str | None) -> bool:
    # Services are addressed by their place in the list; the page also sends
    # the name it showed there, so that a list changed meanwhile by another
    # editor does not have the wrong service changed or removed.
    if name is None or doc["services"][index]["name"] == name:
        return False
    flash(MOVED)
    return True


def _save_service(site: str, index: int | None) -> ResponseReturnValue:
    doc = working(site)
    if index is not None and not 0 <= index < len(doc["services"]):
        abort(404, f"Site {site} has no service number {index + 1}.")
    prefix = "service-new" if index is None else f"service-{index}"
    if index is not None and _moved(doc, index, request.form.get(f"{prefix}-was")):
        return back(site, "#services")
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
    if not save(site, form, changed, section, _service_field(where)):
        return _services_page(site, form, index)
    return back(site, "#services")


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
    doc = working(site)
    if not 0 <= index < len(doc["services"]):
        abort(404, f"Site {site} has no service number {index + 1}.")
    if _moved(doc, index, request.form.get("name")):
        return back(site, "#services")
    services = list(doc["services"])
    gone = services.pop(index)
    drafts.save_draft(
        get_db(),
        site,
        {**doc, "services": services},
        account().actor,
        section=f"service {gone['name']} removed",
    )
    flash(f"Service {gone['name']} is removed from the draft.")
    return back(site, "#services")


@bp.post("/<site>/languages/")
@require("edit_sites")
def add_language(site: str) -> ResponseReturnValue:
    """Add a language we ship texts for; its texts start as the shipped ones."""
    doc = working(site)
    form = LanguageForm(prefix="language")
    form.language.choices = [
        c for c in SHIPPED_LANGUAGES if c.value not in doc["languages"]
    ]
    if not form.validate():
        form.language.errors = ["Choose one of the languages in the list."]
        return _site_page(site, 400, language=form)
    lang = form.language.data
    changed = {**doc, "languages": {**doc["languages"], lang: {}}}
    if not save(
        site, form, changed, f"{diff.language_name(lang)} added", lambda p: (None, "")
    ):
        return _site_page(site, 400, language=form)
    return redirect(url_for("admin.site_texts.texts", site=site, lang=lang))


@bp.post("/<site>/languages/<lang>/remove")
@require("edit_sites")
def remove_language(site: str, lang: str) -> ResponseReturnValue:
    """Take one language's texts out; the default language stays."""
    doc = working(site)
    name = diff.language_name(lang)
    if lang not in doc["languages"]:
        abort(404, f"Site {site} has no texts in {name} ({lang}).")
    if lang == doc["default_language"]:
        flash(
            f"{name} is the default language, so it stays. Choose another default"
            " language under Addresses and settings first."
        )
        return back(site, "#texts")
    languages = {k: v for k, v in doc["languages"].items() if k != lang}
    drafts.save_draft(
        get_db(),
        site,
        {**doc, "languages": languages},
        account().actor,
        section=f"{name} removed",
    )
    flash(f"{name} is removed from the draft.")
    return back(site, "#texts")
