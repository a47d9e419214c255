"""The embed page: the markup a shop pastes, and the cookie table for its policy.

Built from the site's published config (what visitors are shown now), never
from a draft: the snippet must name what the banner really asks about.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import SelectField

from ...domain import embed
from ...domain.errors import UnknownSite
from ...domain.site_config import PublishedConfig
from ...store import sites
from ...store.engine import get_db
from .. import public
from ..demo import LANGUAGES
from .session import me, require

bp = Blueprint("embed", __name__)


# WTForms is untyped; setup.cfg allows subclassing it in forms.py only, so this
# one form says so itself (it can move to forms.py when that file is free).
class LanguageForm(FlaskForm):
    """Which of the site's languages the cookie table and the link are in.

    A GET form: it changes nothing, so it carries no CSRF token.
    """

    class Meta:
        csrf = False

    lang = SelectField(
        "Language of the cookie table and the settings link",
        validate_choice=True,
    )


def _config(site: str) -> PublishedConfig:
    try:
        return sites.current_config(get_db(), site)
    except UnknownSite:
        abort(404, f"There is no published site with the id “{site}”.")


def _language_choices(config: PublishedConfig) -> list[tuple[str, str]]:
    # The default language first, each named in itself where we know its name.
    codes = sorted(config.languages, key=lambda c: c != config.default_language)
    return [
        (
            code,
            f"{LANGUAGES.get(code, code)} ({code})"
            + (", the site's default" if code == config.default_language else ""),
        )
        for code in codes
    ]


@bp.get("/sites/<site>/embed")
@require("edit_sites")
def page(site: str) -> ResponseReturnValue:
    """The script tag, each service's gated markup, the settings link and the
    cookie table, each with a Copy button."""
    config = _config(site)
    form = LanguageForm(request.args)
    form.lang.choices = _language_choices(config)
    status = 200
    language = config.default_language
    if "lang" in request.args:
        if form.validate():
            language = form.lang.data
        else:
            form.lang.errors = ["Choose one of the site's languages."]
            status = 400
    form.lang.data = language
    texts = config.languages[language]
    rows = embed.declaration(config, language)
    return render_template(
        "admin/embed.html",
        account=me(),
        config=config,
        form=form,
        language=language,
        script_tag=embed.script_tag(
            public.service_url() + url_for("files.banner_script", site=config.site)
        ),
        service_origin=public.service_url(),
        examples=embed.examples(config),
        settings_link=embed.settings_link(texts),
        rows=rows,
        # The page itself speaks English; it names categories in the site's
        # default language, as the editor knows them.
        labels={
            k: v.label
            for k, v in config.languages[config.default_language].categories.items()
        },
        texts=texts,
        words=embed.table_words(language),
        cookie_text=embed.cookie_text,
        table_html=embed.table_html(rows, texts, language),
        table_markdown=embed.table_markdown(rows, texts, language),
    ), status
