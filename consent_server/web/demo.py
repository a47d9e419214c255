"""The demo storefront that `consent-server demo` serves beside the service.

It runs as its own small application on a second port, so the banner is
embedded cross-origin exactly as on a real shop: the storefront's page loads
``/s/demo/consent.js`` from the consent service and posts choices to it.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, render_template, request

from . import headers
from .resources import resource_folder

# The languages the banner ships texts for (domain/texts.py DEFAULT_TEXTS),
# each named in itself for the switch.
LANGUAGES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "it": "Italiano",
}


def page_language() -> str:
    """``?lang=`` if it is one of ours, else the browser's best match, else English.

    The page says it in ``<html lang>``, which is what the banner reads first.
    """
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


def create_storefront(service_port: int) -> Flask:
    """A made-up shop's product page that embeds the banner and gated tags."""
    app = Flask(
        "consent_server_storefront",
        static_folder=resource_folder("static"),
        template_folder=resource_folder("templates"),
    )

    @app.get("/")
    def product() -> Response:
        # The service runs on the same host name the visitor used, other port.
        host = request.host.rsplit(":", 1)[0]
        service = f"{request.scheme}://{host}:{service_port}"
        # A strict shop's policy, to show the banner works under one.
        nonce = secrets.token_urlsafe(16)
        page = render_template(
            "demo.html",
            service=service,
            lang=page_language(),
            languages=LANGUAGES,
            nonce=nonce,
        )
        response = Response(page, mimetype="text/html")
        response.headers["Content-Security-Policy"] = headers.storefront_policy(
            nonce, service
        )
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        return response

    headers.init_app(app)
    return app
