"""No session outside the config page: storefront answers read and write no cookie.

The config page's session cookie is sent only to ``/admin/``
(``SESSION_COOKIE_PATH``), so on every other path the session is empty
anyway; opening it there still built a signing serializer per request, and
saving it added ``Vary: Cookie`` to the banner files, which a shared cache
would then keep apart per visitor for nothing. Elsewhere Flask is given no
session at all (its null session, which refuses writes).
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin


class ConfigPageOnly(SessionInterface):
    """``inner``'s sessions on paths under the session cookie's path only."""

    def __init__(self, inner: SessionInterface) -> None:
        self.inner = inner

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """The session under the cookie's path; None (a null session) elsewhere."""
        # "/admin" too, which only redirects to "/admin/".
        prefix = self.get_cookie_path(app).rstrip("/")
        if not request.path.startswith(prefix):
            return None
        return self.inner.open_session(app, request)

    def save_session(
        self, app: Flask, session: SessionMixin, response: Response
    ) -> None:
        """Save as ``inner`` does (Flask skips this for a null session)."""
        self.inner.save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Keep ``app``'s sessions (set up already) to the config page."""
    if not isinstance(app.session_interface, ConfigPageOnly):
        app.session_interface = ConfigPageOnly(app.session_interface)
