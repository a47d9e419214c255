"""Admins manage users: invite, change role, disable or enable, reset a password.

Invitations and resets are one-time links shown to the admin (a server may
have no mail), who hands them on. Their secrets are shown in the answer to the
POST only, never put in the session or a redirect.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from ...store import users
from ...store.accounts import AuthError
from ...store.engine import get_db
from ...store.users import LINK_DAYS
from .forms import ActionForm, InviteForm, RoleForm
from .session import Account, me, require

bp = Blueprint("users", __name__, url_prefix="/users")


def _account() -> Account:
    account = me()
    assert account is not None  # the views are @require-d
    return account


def _page(
    invite: InviteForm | None = None,
    link: tuple[str, str, str] | None = None,
    row_errors: dict[int, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    return render_template(
        "admin/users.html",
        account=_account(),
        users=users.list_users(get_db()),
        invite=invite or InviteForm(formdata=None),
        role_choices=RoleForm(formdata=None).role.choices,
        action=ActionForm(formdata=None),
        link=link,
        link_days=LINK_DAYS,
        row_errors=row_errors or {},
    ), status


def _link_url(secret: str) -> str:
    return url_for("admin.login.link", secret=secret, _external=True)


def _user_or_404(user_id: int) -> users.User:
    user = users.get_user(get_db(), user_id)
    if user is None:
        abort(404, f"There is no user with id {user_id}.")
    return user


@bp.get("/")
@require("manage_accounts")
def index() -> ResponseReturnValue:
    """The users, and the form to invite one."""
    return _page()


@bp.post("/")
@require("manage_accounts")
def invite() -> ResponseReturnValue:
    """Create a user and show the link with which they set their password."""
    form = InviteForm()
    if not form.validate():
        return _page(invite=form, status=400)
    try:
        _, secret = users.invite(
            get_db(), _account().actor, form.email.data, form.role.data
        )
    except AuthError as exc:
        form.email.errors.append(_sentence(exc.message))
        return _page(invite=form, status=400)
    email = form.email.data.strip().lower()
    return _page(link=("invite", email, _link_url(secret)))


@bp.post("/<int:user_id>/role")
@require("manage_accounts")
def role(user_id: int) -> ResponseReturnValue:
    """Give a user another role (never leaving no active admin)."""
    user = _user_or_404(user_id)
    form = RoleForm()
    if not form.validate():
        return _page(row_errors={user_id: "Choose one of the roles."}, status=400)
    try:
        users.set_role(get_db(), _account().actor, user_id, form.role.data)
    except AuthError as exc:
        return _page(row_errors={user_id: _sentence(exc.message)}, status=400)
    flash(f"{user.email} is now {form.role.data}.")
    return redirect(url_for("admin.users.index"))


@bp.post("/<int:user_id>/disable")
@require("manage_accounts")
def disable(user_id: int) -> ResponseReturnValue:
    """Disable an account: it cannot log in and its sessions end."""
    return _set_disabled(user_id, True)


@bp.post("/<int:user_id>/enable")
@require("manage_accounts")
def enable(user_id: int) -> ResponseReturnValue:
    """Let a disabled account log in again."""
    return _set_disabled(user_id, False)


def _set_disabled(user_id: int, disabled: bool) -> ResponseReturnValue:
    user = _user_or_404(user_id)
    try:
        users.set_disabled(get_db(), _account().actor, user_id, disabled)
    except AuthError as exc:
        return _page(row_errors={user_id: _sentence(exc.message)}, status=400)
    flash(f"{user.email} is {'disabled' if disabled else 'enabled'}.")
    return redirect(url_for("admin.users.index"))


@bp.post("/<int:user_id>/reset")
@require("manage_accounts")
def reset(user_id: int) -> ResponseReturnValue:
    """Show a new one-time link with which the user sets a new password."""
    user = _user_or_404(user_id)
    try:
        secret = users.reset_link(get_db(), _account().actor, user_id)
    except AuthError as exc:
        return _page(row_errors={user_id: _sentence(exc.message)}, status=400)
    kind = "reset" if user.has_password else "invite"
    return _page(link=(kind, user.email, _link_url(secret)))


def _sentence(message: str) -> str:
    # The store's messages are clauses; one that starts with an email keeps it
    # as it was typed.
    if "@" not in message.split(" ", 1)[0]:
        message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."
