"""Admins manage audit API tokens, and read the record of account changes.

A new token is shown once, in the answer to the POST that made it; only its
hash is kept.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from ...store import accounts, changes
from ...store.accounts import AuthError
from ...store.engine import get_db
from .forms import ActionForm, TokenForm
from .session import me, require

bp = Blueprint("tokens", __name__)


def _page(
    form: TokenForm | None = None,
    created: tuple[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    return render_template(
        "admin/tokens.html",
        account=me(),
        form=form or TokenForm(formdata=None),
        action=ActionForm(formdata=None),
        tokens=accounts.list_tokens(get_db()),
        created=created,
    ), status


@bp.get("/tokens/")
@require("manage_accounts")
def index() -> ResponseReturnValue:
    """The tokens, live and revoked, and the form to make one."""
    return _page()


@bp.post("/tokens/")
@require("manage_accounts")
def create() -> ResponseReturnValue:
    """Make a token and show it, this once."""
    form = TokenForm()
    if not form.validate():
        return _page(form, status=400)
    account = me()
    assert account is not None
    try:
        token = accounts.create_token(
            get_db(), form.name.data, form.scope.data, account.actor
        )
    except AuthError as exc:
        form.name.errors.append(exc.message)
        return _page(form, status=400)
    return _page(created=(form.name.data.strip(), token))


@bp.post("/tokens/<int:token_id>/revoke")
@require("manage_accounts")
def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke a token: it stops working at once."""
    account = me()
    assert account is not None
    try:
        accounts.revoke_token_id(get_db(), token_id, account.actor)
    except AuthError:
        flash(f"Token {token_id} was already revoked, or never existed.")
    else:
        flash(f"Token {token_id} is revoked.")
    return redirect(url_for("admin.tokens.index"))


@bp.get("/changes/")
@require("manage_accounts")
def changes_page() -> ResponseReturnValue:
    """Every change made to accounts and tokens, newest first."""
    return render_template(
        "admin/changes.html", account=me(), changes=changes.recent(get_db())
    )
