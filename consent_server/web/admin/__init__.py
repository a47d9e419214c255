"""The config page at ``/admin/``: accounts, and the sites' editing.

One blueprint holds the others (``login``, ``users``, ``tokens``, ``sites``,
``embed``) so that what every page needs is said once, here: the CSRF check
before any view runs, a strict Content-Security-Policy (our own stylesheet
and scripts only, no inline code), no caching, and HTML error pages that say
what went wrong.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from ..errors import seconds_to_reset
from . import (
    embed,
    insight,
    login,
    preview,
    session,
    site_history,
    site_scan,
    site_texts,
    sites,
    tokens,
    users,
)
from .session import me, require

bp = Blueprint("admin", __name__, url_prefix="/admin")
csrf = CSRFProtect()

PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self';"
    " connect-src 'self'; frame-src 'self'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)
CSRF_MESSAGE = (
    "This form was not accepted: its security token is missing, wrong or"
    " expired, so nothing was saved. Reload the page and try again."
)


@bp.before_request
def _check_csrf() -> None:
    # Every POST to the config page, whatever form it came from.
    csrf.protect()


@bp.after_request
def _headers(response: Response) -> Response:
    # A page with a policy of its own (the preview's frame) keeps it.
    response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
    response.headers["Cache-Control"] = "no-store"
    # Our own pages see where a form came from (the CSRF check on https
    # compares it); no other site ever does.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _error(exc: HTTPException) -> tuple[str, int, dict[str, str]]:
    status = exc.code or 500
    headers = {}
    if isinstance(exc, CSRFError):
        message = CSRF_MESSAGE
    elif status == 429:
        wait = seconds_to_reset()
        headers["Retry-After"] = str(wait)
        minutes = max(1, round(wait / 60))
        message = (
            "Too many wrong passwords. Logging in is paused for this account"
            f" and this computer: try again in about {minutes} minute"
            f"{'s' if minutes != 1 else ''}."
        )
    else:
        message = exc.description or ""
    page = render_template(
        "admin/message.html",
        title=f"{status} {exc.name}",
        message=message,
        account=me(),
    )
    return page, status, headers


@bp.get("/")
@require()
def home() -> str:
    """Who you are, your role, and the pages you may use."""
    return render_template("admin/home.html", account=me())


bp.register_error_handler(HTTPException, _error)
for _child in (
    login,
    users,
    tokens,
    sites,
    site_texts,
    site_history,
    site_scan,
    embed,
    insight,
    preview,
):
    bp.register_blueprint(_child.bp)


def init_app(app: Flask) -> None:
    """Serve the config page from ``app``."""
    # Only the config page's forms carry tokens: the API has none to check.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    # A form's token lasts as long as the session it belongs to.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    session.init_app(app)
    app.register_blueprint(bp)
