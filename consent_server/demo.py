"""The demo storefront that `consent-server demo` serves beside the service."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("demo", __name__)


@bp.get("/")
def storefront() -> str:
    """A product page of a made-up shop that embeds the banner."""
    return render_template("demo.html")
