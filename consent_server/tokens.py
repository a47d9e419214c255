"""The signed consent token: what the visitor's cookie carries.

A storefront backend can import this module on its own to check the cookie
with the shared secret::

    from consent_server.tokens import verify_token
    result = verify_token(request.cookies["consent"], "the-shared-secret", site="shop")
    if result.valid and result.choices["analytics"]: ...

The payload is plain base64url JSON (never compressed), so the banner script
reads the choices without the secret; only the server can tell a genuine
token from an edited one.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Any

from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

# No token lives longer than the longest allowed cookie lifetime (MAX_AGE_SECONDS).
from .domain.vocabulary import MAX_AGE_SECONDS, OPTIONAL

# Longer than any token we sign, so a helper of another version still reads
# ours; anything longer is not a token and is not even decoded.
MAX_TOKEN_READ = 4096

# Its own salt: a consent token can never pass for any other signed value.
SALT = "consent-server.consent-token.v1"


class _Serializer(URLSafeTimedSerializer):
    """URL-safe timed serializer that never zlib-compresses the payload."""

    def dump_payload(self, obj: Any) -> bytes:
        # The mixin would compress long payloads; the banner must read them
        # with nothing but atob().
        return base64_encode(self.serializer.dumps(obj, **self.serializer_kwargs))


def split_keys(keys: str | Sequence[str]) -> list[str]:
    """Turn ``"new,old"`` or a list into a list of keys, newest first."""
    if isinstance(keys, str):
        keys = keys.split(",")
    found = [k.strip() for k in keys if k.strip()]
    if not found:
        raise ValueError("no secret key given")
    return found


def _serializer(keys: str | Sequence[str]) -> _Serializer:
    # itsdangerous signs with the last key and verifies with all of them.
    return _Serializer(list(reversed(split_keys(keys))), salt=SALT)


def sign_token(
    keys: str | Sequence[str],
    *,
    consent_id: str,
    site: str,
    revision: int,
    choices: Mapping[str, bool],
    expires_at: int,
) -> str:
    """Sign a consent token with the first (newest) key."""
    payload = {
        "id": consent_id,
        "site": site,
        "rev": revision,
        "choices": {k: bool(choices[k]) for k in OPTIONAL},
        "exp": expires_at,
    }
    token: str = _serializer(keys).dumps(payload)
    return token


@dataclasses.dataclass(frozen=True)
class Verification:
    """What a token proves. ``reason`` says why it is not valid, else None."""

    valid: bool
    id: str | None = None
    site: str | None = None
    choices: dict[str, bool] | None = None
    revision: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of the verify endpoint."""
        return dataclasses.asdict(self)


def _well_formed(payload: Any) -> bool:
    if not isinstance(payload, dict):
        return False
    choices = payload.get("choices")
    return (
        isinstance(payload.get("id"), str)
        and isinstance(payload.get("site"), str)
        and type(payload.get("rev")) is int
        and type(payload.get("exp")) is int
        and isinstance(choices, dict)
        and all(type(choices.get(k)) is bool for k in OPTIONAL)
    )


def verify_token(
    token: Any,
    keys: str | Sequence[str],
    *,
    site: str | None = None,
    consent_revision: int | None = None,
    now: float | None = None,
) -> Verification:
    """Check a token's signature, expiry, site and consent revision.

    Reasons, in the order they are checked: ``malformed``, ``bad_signature``,
    ``expired``, ``other_site`` (when ``site`` is given) and ``old_revision``
    (when ``consent_revision`` is given). A token that fails only the last
    three still names its consent id, site and choices.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_READ:
        return Verification(False, reason="malformed")
    if not token.isascii() or token.count(".") != 2:
        return Verification(False, reason="malformed")
    try:
        payload = _serializer(keys).loads(token, max_age=MAX_AGE_SECONDS)
    except SignatureExpired:
        return Verification(False, reason="expired")
    except BadSignature:
        return Verification(False, reason="bad_signature")
    except BadData:
        return Verification(False, reason="malformed")
    if not _well_formed(payload):
        # Signed by us but not a consent token we would write.
        return Verification(False, reason="malformed")
    found = Verification(
        True,
        id=payload["id"],
        site=payload["site"],
        choices=dict(payload["choices"]),
        revision=payload["rev"],
    )
    current = time.time() if now is None else now
    if payload["exp"] <= current:
        return dataclasses.replace(found, valid=False, reason="expired")
    if site is not None and payload["site"] != site:
        return dataclasses.replace(found, valid=False, reason="other_site")
    if consent_revision is not None and payload["rev"] != consent_revision:
        return dataclasses.replace(found, valid=False, reason="old_revision")
    return found
