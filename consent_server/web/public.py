"""Where visitors reach this service: the address the operator configured
(``CONSENT_PUBLIC_URL``), or, without one, the address the request came to.

The request's address is its ``Host`` header, which the client chooses.
That is harmless where it only fills a snippet the reader copies; the config
page's scan, whose browser carries a live token to this service, runs only
with the configured address.
"""

from __future__ import annotations

from flask import current_app, request


def configured() -> str | None:
    """The operator's public address of this service (no trailing slash), if any."""
    url = current_app.config["PUBLIC_URL"]
    return str(url).rstrip("/") if url else None


def service_url() -> str:
    """This service's address as visitors use it, without a trailing slash."""
    return configured() or request.host_url.rstrip("/")
