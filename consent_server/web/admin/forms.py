"""The config page's forms: each field labelled, checked, its error shown at it.

Every form carries the CSRF token of the session (Flask-WTF); the admin
blueprint checks it before any view runs, so no form can do without it.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    ValidationError,
)

from ...domain.diff import language_name
from ...domain.roles import DESCRIPTIONS
from ...domain.texts import DEFAULT_TEXTS
from ...domain.theme import POSITIONS
from ...domain.vocabulary import CATEGORIES, MAX_URL, ROLES, SCOPES
from ...store.accounts import EMAIL, MAX_PASSWORD, MIN_PASSWORD

ROLE_CHOICES = [SelectChoice(r, f"{r}: {DESCRIPTIONS[r]}") for r in ROLES]
SCOPE_CHOICES = [
    SelectChoice("audit", "audit: read the consent log and its proofs"),
    SelectChoice("stats", "stats: read the statistics only"),
    SelectChoice("scan", "scan: mark the cookie scanner's choices as scan events"),
]
assert [c.value for c in SCOPE_CHOICES] == list(SCOPES)


def _email(_form: FlaskForm, field: StringField) -> None:
    if not EMAIL.fullmatch((field.data or "").strip()):
        raise ValidationError("Enter an email address, such as name@shop.example.")


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(
        "Email", validators=[DataRequired("Enter your email address."), Length(max=320)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password.")]
    )


class PasswordForm(FlaskForm):
    """A new password, typed twice (invitation and reset links)."""

    password = PasswordField(
        "New password",
        validators=[
            DataRequired("Enter a password."),
            Length(
                min=MIN_PASSWORD,
                max=MAX_PASSWORD,
                message=f"Use {MIN_PASSWORD} to {MAX_PASSWORD} characters.",
            ),
        ],
    )
    confirm = PasswordField(
        "The same password again",
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", "The two passwords are not the same."),
        ],
    )


class InviteForm(FlaskForm):
    """A new user: their email and role."""

    email = EmailField(
        "Email", validators=[DataRequired("Enter an email address."), _email]
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default="editor")


class RoleForm(FlaskForm):
    """Another role for one user."""

    role = SelectField("Role", choices=ROLE_CHOICES)


class TokenForm(FlaskForm):
    """A new audit API token."""

    name = StringField(
        "Name",
        description="What the token is for, such as 'privacy office export'.",
        validators=[
            DataRequired("Give the token a name."),
            Length(max=100, message="Use at most 100 characters."),
        ],
    )
    scope = SelectField("Scope", choices=SCOPE_CHOICES, default="audit")


class ActionForm(FlaskForm):
    """A button with nothing to fill in (log out, disable, revoke...): the
    CSRF token only."""


# -- the sites pages ------------------------------------------------------------
#
# Their forms carry the session's CSRF token as a plain hidden field (the
# blueprint checks it before any view runs), so that several of them, each
# with its own prefix, can share one page. Most checking is left to the site
# config's own rules (validate_config), whose messages the view puts at the
# field they name: one set of rules for the page and for `sites import`.

SHIPPED_LANGUAGES = [
    SelectChoice(code, f"{language_name(code)} ({code})") for code in DEFAULT_TEXTS
]
POSITION_NAMES = {
    "bottom": "bottom, across the page",
    "top": "top, across the page",
    "center": "centre of the page",
    "bottom-left": "bottom left corner",
    "bottom-right": "bottom right corner",
}
CATEGORY_CHOICES = [SelectChoice(c, c) for c in CATEGORIES]


class SectionForm(FlaskForm):
    """One section of a site's page; ``based_on`` is the revision it showed,
    ``draft_seen`` the draft (its stamp)."""

    class Meta:
        csrf = False  # checked for the whole blueprint; see above

    based_on = HiddenField()
    draft_seen = HiddenField()


class NewSiteForm(SectionForm):
    """A new site: its id and the least it needs; the rest from the defaults."""

    site = StringField(
        "Site id",
        description=(
            "Lower-case letters, digits and dashes, such as my-shop. It is part"
            " of the script address and cannot be changed later."
        ),
    )
    default_language = SelectField(
        "Language of the banner", choices=SHIPPED_LANGUAGES, default="en"
    )
    policy_url = StringField(
        "Privacy policy address",
        description="Such as https://shop.example/privacy.",
    )
    origin = StringField(
        "Shop address",
        description="Where the banner is shown, such as https://shop.example.",
    )


class SettingsForm(SectionForm):
    """The site's addresses, lifetimes and switches."""

    default_language = SelectField(
        "Default language",
        description="Shown to visitors whose language the site has no texts for.",
    )
    policy_url = StringField(
        "Privacy policy address", description="Such as https://shop.example/privacy."
    )
    origins = TextAreaField(
        "Shop addresses allowed to use the banner",
        description=(
            "One a line, such as https://shop.example. *.shop.example allows"
            " every subdomain, :* every port."
        ),
    )
    cookie_domain = StringField(
        "Cookie domain",
        description=(
            "Leave empty, unless the choice should be shared by every host under"
            " one domain: then that domain, such as shop.example."
        ),
    )
    cookie_days = StringField(
        "Days a choice is kept",
        description="Before the banner asks again: 1 to 395 days.",
    )
    refusal_days = StringField(
        "Days a refusal is kept",
        description=(
            "For a visitor who allowed nothing optional, before the banner asks"
            " again: 1 to 395 days. Asking again soon after a refusal is what"
            " regulators call nagging; six months (182 days) is usual."
        ),
    )
    google_consent_mode = BooleanField(
        "Send the choices to Google tags (Google Consent Mode v2)"
    )
    gpc = BooleanField(
        "Honour the browser's Global Privacy Control signal (advertising stays off)"
    )


class ThemeForm(SectionForm):
    """Where the banner sits and its colours."""

    position = SelectField(
        "Position",
        choices=[SelectChoice(p, POSITION_NAMES.get(p, p)) for p in POSITIONS],
    )
    accent = StringField("Button and link colour", description="Such as #1a56db.")
    background = StringField("Background colour", description="Such as #ffffff.")
    text = StringField("Text colour", description="Such as #111827.")
    floating = BooleanField(
        "After the choice, keep a small 'Cookie settings' button on the page"
    )


class CategoriesForm(SectionForm):
    """Which optional categories the banner shows (never pre-ticked for the
    visitor: this only decides whether the switch is offered)."""

    preferences = BooleanField("Preferences")
    analytics = BooleanField("Analytics")
    advertising = BooleanField("Advertising")


class ServiceForm(SectionForm):
    """One service the site uses and the cookies its tags set."""

    name = StringField("Name", description="Such as Google Analytics.")
    category = SelectField("Category", choices=CATEGORY_CHOICES, default="analytics")
    cookies = TextAreaField(
        "Cookie names",
        description="One a line; * matches any characters, as in _ga_*.",
    )
    hosts = TextAreaField(
        "Hosts its tags call",
        description=(
            "One a line, such as www.googletagmanager.com; *.google-analytics.com"
            " matches every subdomain."
        ),
    )
    purpose = StringField(
        "What it is for",
        description="One sentence for the cookie table of the privacy policy.",
    )


class LanguageForm(SectionForm):
    """A language to add, from those we ship texts for."""

    language = SelectField("Language")


class PublishForm(SectionForm):
    """Publish the draft; ``confirmed`` is the newest revision the editor was
    warned about."""

    ask_again = BooleanField(
        "Ask every visitor again",
        description=(
            "Everyone sees the banner again on their next visit, even those who"
            " already chose. Use it when the changes matter to their choice."
        ),
    )
    confirmed = HiddenField()


def texts_form(fields: list[tuple[str, str, bool]]) -> type[SectionForm]:
    """A form class for one language's texts: ``(name, label, long)`` each."""
    attrs: dict[str, object] = {
        name: (TextAreaField if long else StringField)(label)
        for name, label, long in fields
    }
    return type("TextsForm", (SectionForm,), attrs)


# How many pages the config page's scan may visit: each is three visits in a
# fresh browser, some seconds each, within the scan's time bound.
SCAN_PAGES = (1, 20)
SCAN_PAGES_DEFAULT = 5


class ScanForm(FlaskForm):
    """Where a cookie scan starts and how many pages it visits."""

    class Meta:
        csrf = False  # checked for the whole blueprint; see the section forms

    start_url = StringField(
        "Start page",
        description="An address on one of the site's allowed origins, such as"
        " the shop's home page.",
        validators=[
            DataRequired("Enter the address of a page of the shop."),
            Length(max=MAX_URL, message=f"Use at most {MAX_URL} characters."),
        ],
    )
    pages = IntegerField(
        "Pages to visit",
        description=f"The start page and pages its links lead to on the same"
        f" origin, {SCAN_PAGES[0]} to {SCAN_PAGES[1]}. Each page is visited three"
        " times: before a choice, after Reject all, after Accept all.",
        default=SCAN_PAGES_DEFAULT,
        validators=[
            NumberRange(
                *SCAN_PAGES,
                message=f"Choose {SCAN_PAGES[0]} to {SCAN_PAGES[1]} pages.",
            )
        ],
        render_kw={"min": SCAN_PAGES[0], "max": SCAN_PAGES[1]},
    )
