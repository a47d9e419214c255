"""The config page's forms: each field labelled, checked, its error shown at it.

Every form carries the CSRF token of the session (Flask-WTF); the admin
blueprint checks it before any view runs, so no form can do without it.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ...domain.roles import DESCRIPTIONS
from ...domain.vocabulary import ROLES, SCOPES
from ...store.accounts import EMAIL, MAX_PASSWORD, MIN_PASSWORD

ROLE_CHOICES = [SelectChoice(r, f"{r}: {DESCRIPTIONS[r]}") for r in ROLES]
SCOPE_CHOICES = [
    SelectChoice("audit", "audit: read the consent log and its proofs"),
    SelectChoice("stats", "stats: read the statistics only"),
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
