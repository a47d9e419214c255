"""Logging in and out, and the one-time links that set a password.

Wrong credentials get one message whatever was wrong (unknown email, wrong
password, disabled account), so the page tells no one which emails have an
account. Only failed attempts count against the limits: per client and per
account, ``CONSENT_RATELIMIT_LOGIN`` and ``CONSENT_RATELIMIT_LOGIN_ACCOUNT``.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user

from ...store import users
from ...store.accounts import AuthError
from ...store.engine import get_db
from ..limits import limiter, login_account_key, setting
from .forms import ActionForm, LoginForm, PasswordForm
from .session import Account, me

bp = Blueprint("login", __name__)

WRONG = "Wrong email or password."
# The answer to a failed login; only these count against the limits.
FAILED = 401


def _failed(response: Response) -> bool:
    return response.status_code == FAILED


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: setting("RATELIMIT_LOGIN"), methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: setting("RATELIMIT_LOGIN_ACCOUNT"),
    key_func=login_account_key,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-account",
)
def page() -> ResponseReturnValue:
    """The login form; a right email and password start a session."""
    if me() is not None:
        return redirect(url_for("admin.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("admin/login.html", form=form)
    user = users.check_login(get_db(), form.email.data, form.password.data)
    if user is None:
        form.password.errors.append(WRONG)
        return render_template("admin/login.html", form=form), FAILED
    # A new session for the new user: nothing from before the login is kept.
    session.clear()
    login_user(Account(user))
    session.permanent = True
    return redirect(url_for("admin.home"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session (the CSRF check has already run)."""
    ActionForm()
    logout_user()
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("admin.login.page"))


@bp.route("/link/<secret>", methods=["GET", "POST"])
def link(secret: str) -> ResponseReturnValue:
    """An invitation or reset link: set a password; the link then stops working.

    :raise 404: for a link that does not work (the page says why it may not).
    """
    conn = get_db()
    try:
        user, purpose = users.link_user(conn, secret)
    except AuthError as exc:
        return render_template(
            "admin/message.html", title="This link does not work", message=exc.message
        ), 404
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            users.use_link(conn, secret, form.password.data)
        except users.LinkError as exc:
            return render_template(
                "admin/message.html",
                title="This link does not work",
                message=exc.message,
            ), 404
        except AuthError as exc:
            form.password.errors.append(exc.message)
        else:
            logout_user()
            session.clear()
            flash("Your password is set. Log in with it.")
            return redirect(url_for("admin.login.page"))
    return render_template("admin/link.html", form=form, user=user, purpose=purpose)
