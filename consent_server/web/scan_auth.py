"""Telling the cookie scanner's choices from visitors': its bearer token.

``consent-server scan --token`` sends ``Authorization: Bearer TOKEN`` with
the banner's requests to this service (``scan/token.py``); a POST of a choice
that carries a live token of scope ``scan`` is recorded as a scan event. The
header is read only where a view asks: every other request ignores it.
"""

from __future__ import annotations

from ..store import accounts
from ..store.engine import get_db
from .errors import ApiError

SCOPE = accounts.SCAN_SCOPE
# Where a 401 says how to authenticate (RFC 9110 §11.6.1).
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="consent-server scan"'}


def is_scan(authorization: str, site: object) -> bool:
    """Whether an ``Authorization`` header proves the cookie scanner sent this
    choice for ``site`` (as the request's body names it).

    A scheme other than Bearer is not meant for us (a proxy's Basic login,
    say) and is ignored: False, as with no header.

    :raise ApiError: 401 for a bearer token that is missing, unknown,
        revoked or expired, 403 for one of another scope or bound to another
        site; nothing is to be written then.
    """
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    token = token.strip()
    if not token:
        raise ApiError(
            401,
            "unauthorized",
            "send the header Authorization: Bearer TOKEN",
            headers=CHALLENGE,
        )
    found = accounts.find_token(get_db(), token)
    if found is None:
        raise ApiError(
            401,
            "unauthorized",
            "the token is unknown, was revoked or has expired",
            headers=CHALLENGE,
        )
    if found.scope != SCOPE:
        raise ApiError(
            403,
            "forbidden",
            f"a token with scope {found.scope!r} cannot record consent;"
            f" the cookie scanner's needs scope {SCOPE!r}",
        )
    if found.site is not None and found.site != site:
        raise ApiError(
            403,
            "forbidden",
            f"this scan token is for site {found.site!r} only",
        )
    return True
