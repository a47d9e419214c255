"""Security headers on every answer we send, where the view did not set its own.

Our pages, the API and the docs get a Content-Security-Policy that loads
nothing and may not be framed, ``nosniff`` and a ``Referrer-Policy``. A view
that sets one of these itself (the front page, ``/docs`` with its nonce)
keeps it. The banner's own files are loaded into storefronts' pages: they
get ``nosniff`` only, since a policy of ours on them would mean nothing there
but could only get in a storefront's way. ``Strict-Transport-Security`` is
sent when the operator sets ``CONSENT_HSTS_SECONDS`` (off by default: the demo
runs on plain http, and a browser that saw it would refuse that for a year).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

# What an answer of ours needs when it sets nothing itself: JSON and plain
# text load nothing, and no page of ours may be framed by another site.
DEFAULT_POLICY = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
REFERRER_POLICY = "no-referrer"
# The blueprint of the files storefronts embed (consent.js, consent.css).
EMBEDDED = frozenset({"files"})


def storefront_policy(nonce: str, service: str) -> str:
    """The policy of the demo storefront page: what a strict shop would send.

    Only scripts carrying the page's nonce run; the banner passes that nonce
    on to the tags it lets run (and ``'strict-dynamic'`` to what they load),
    so its gating works under the policy a careful storefront sets.
    """
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'nonce-{nonce}' 'strict-dynamic'",
            f"style-src 'self' 'nonce-{nonce}'",
            # The gated pixel and video of the demo come from other hosts.
            "img-src 'self' https:",
            "frame-src https:",
            f"connect-src {service}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _fill(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    seconds = current_app.config.get("HSTS_SECONDS") or 0
    if seconds:
        headers.setdefault("Strict-Transport-Security", f"max-age={seconds}")
    if request.blueprint not in EMBEDDED:
        headers.setdefault("Content-Security-Policy", DEFAULT_POLICY)
        headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    return response


def init_app(app: Flask) -> None:
    """Fill the security headers of every response ``app`` sends."""
    app.after_request(_fill)
