"""Who is logged in to the config page: Flask-Login on Flask's signed session.

The session keeps the user's id and *session epoch*; the user is read again
on every request, so a disabled account, or one whose password was set anew,
loses its sessions at once. The cookie is HttpOnly, SameSite=Lax, limited to
``/admin/`` and, with ``CONSENT_SESSION_SECURE=auto`` (the default), Secure
whenever the request came over https.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import ParamSpec, cast

from flask import Flask, abort, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user

from ...domain.roles import DESCRIPTIONS, Permission, may
from ...store import users
from ...store.changes import Actor
from ...store.engine import get_db

P = ParamSpec("P")

login_manager = LoginManager()
# A session whose browser or address changed is dropped, not just marked
# stale: a stolen cookie is worth less.
login_manager.session_protection = "strong"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, Secure per request when set to ``auto``."""

    def get_cookie_secure(self, app: Flask) -> bool:
        setting = app.config["SESSION_SECURE"]
        if setting == "auto":
            return request.is_secure
        return bool(setting)


@dataclasses.dataclass(frozen=True)
class Account:
    """The logged-in user, as Flask-Login wants them."""

    user: users.User
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """What the session keeps: the user's id and session epoch."""
        return self.user.session_id

    @property
    def actor(self) -> Actor:
        """This user as the author of a recorded change."""
        return Actor(self.user.id, self.user.email)

    @property
    def role_description(self) -> str:
        """What the user's role may do, in words."""
        return DESCRIPTIONS.get(self.user.role, "")

    def may(self, permission: Permission) -> bool:
        """Whether this user's role has ``permission``."""
        return may(self.user.role, permission)


def _load(session_id: str) -> Account | None:
    user = users.for_session(get_db(), session_id)
    return Account(user) if user else None


def me() -> Account | None:
    """The logged-in user of this request, or None."""
    if not current_user.is_authenticated:
        return None
    return cast(Account, current_user._get_current_object())


def require(
    permission: Permission | None = None,
) -> Callable[[Callable[P, ResponseReturnValue]], Callable[P, ResponseReturnValue]]:
    """Views for logged-in users only (to the login page otherwise), and with
    ``permission`` for those that need it.

    :raise 403: for a user whose role lacks ``permission``.
    """

    def decorate(
        view: Callable[P, ResponseReturnValue],
    ) -> Callable[P, ResponseReturnValue]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            account = me()
            if account is None:
                return redirect(url_for("admin.login.page"))
            if permission and not account.may(permission):
                abort(
                    403,
                    f"Your role ({account.user.role}) cannot do this: it"
                    f" {account.role_description}. Ask an admin if you need more.",
                )
            return view(*args, **kwargs)

        return guarded

    return decorate


def init_app(app: Flask) -> None:
    """Keep config page sessions on ``app``."""
    app.session_interface = SessionInterface()
    login_manager.user_loader(_load)
    login_manager.init_app(app)
