"""The signed consent token: what the visitor's cookie carries.

A storefront backend can import this module on its own to check the cookie
with the shared secret::

    from consent_server.tokens import verify_token
    result = verify_token(request.cookies["consent"], "the-shared-secret", site="shop")
    if result.valid and result.choices["analytics"]: ...

A token is four dot-separated parts::

    PAYLOAD . PUBLIC_SIGNATURE . TIMESTAMP . SIGNATURE

``PAYLOAD`` is plain base64url JSON (never compressed), so the banner script
reads the choices without the secret. ``PUBLIC_SIGNATURE`` is an Ed25519
signature of the ``PAYLOAD`` part's ASCII bytes, made with a key derived from
the secret (:func:`public_keys` gives what the browser checks it with).
``TIMESTAMP . SIGNATURE`` is itsdangerous' timed HMAC over everything before
it: the signature a backend holding the shared secret checks. Tokens signed
before the public signature existed have three parts (no
``PUBLIC_SIGNATURE``); they still verify here.

This helper cannot see the consent log, so it cannot tell that a visitor made
a newer choice after this token: only the verify endpoint answers
``superseded``. A backend that must know the visitor's latest choice asks it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadData, BadSignature, SignatureExpired, TimestampSigner
from itsdangerous.encoding import base64_decode, base64_encode

# No token lives longer than the longest allowed cookie lifetime (MAX_AGE_SECONDS).
from .domain.vocabulary import MAX_AGE_SECONDS, OPTIONAL

# Longer than any token we sign, so a helper of another version still reads
# ours; anything longer is not a token and is not even decoded.
MAX_TOKEN_READ = 4096

# Base64url parts joined by dots, nothing else: the decoder would skip other
# characters and read "+" as "-", so a changed cookie could still verify.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+){2,3}")

# Its own salt: a consent token can never pass for any other signed value.
SALT = "consent-server.consent-token.v1"


# What the public-key signature's key is derived for: a key derived with
# another label (another purpose) is unrelated to this one.
_HKDF_INFO = b"consent-server.consent-token.ed25519.v1"


def split_keys(keys: str | Sequence[str]) -> list[str]:
    """Turn ``"new,old"`` or a list into a list of keys, newest first."""
    if isinstance(keys, str):
        keys = keys.split(",")
    found = [k.strip() for k in keys if k.strip()]
    if not found:
        raise ValueError("no secret key given")
    return found


def _signer(keys: str | Sequence[str]) -> TimestampSigner:
    return _signer_of(keys if isinstance(keys, str) else tuple(keys))


@functools.lru_cache(maxsize=64)
def _signer_of(keys: str | tuple[str, ...]) -> TimestampSigner:
    # Made once per set of keys: a signer keeps nothing between calls, and
    # making one took half the time of the HMAC it signs with.
    # itsdangerous signs with the last key and verifies with all of them.
    return TimestampSigner(list(reversed(split_keys(keys))), salt=SALT)


@functools.lru_cache(maxsize=64)
def _signing_key(secret: str) -> Ed25519PrivateKey:
    """The Ed25519 key of one secret: HKDF-SHA256 of it, so rotating the
    secret rotates this key too."""
    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=SALT.encode(), info=_HKDF_INFO
    ).derive(secret.encode("utf-8"))
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_keys(keys: str | Sequence[str]) -> list[str]:
    """The raw Ed25519 public keys of all secrets, base64url, newest first.

    The banner script carries these and checks a token's public signature
    with them; they reveal nothing about the secrets.
    """
    return [
        base64_encode(
            _signing_key(key)
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        ).decode("ascii")
        for key in split_keys(keys)
    ]


def sign_token(
    keys: str | Sequence[str],
    *,
    consent_id: str,
    site: str,
    revision: int,
    choices: Mapping[str, bool],
    expires_at: int,
    event_id: str | None = None,
    scan: bool = False,
) -> str:
    """Sign a consent token with the first (newest) key.

    ``event_id`` is the logged event the token stands for: the verify
    endpoint compares it with the visitor's latest event. ``scan`` marks
    the token of a choice the cookie scanner made, which verifies as
    ``scan``, never as a visitor's consent.
    """
    payload: dict[str, Any] = {
        "id": consent_id,
        "site": site,
        "rev": revision,
        "choices": {k: bool(choices[k]) for k in OPTIONAL},
        "exp": expires_at,
    }
    if event_id is not None:
        payload["eid"] = event_id
    if scan:
        # Only when set: every other token is written as before.
        payload["scan"] = True
    encoded = base64_encode(json.dumps(payload, separators=(",", ":")))
    newest = split_keys(keys)[0]
    public = base64_encode(_signing_key(newest).sign(encoded))
    token: str = _signer(keys).sign(encoded + b"." + public).decode("ascii")
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
    # The logged event the token stands for (None for tokens signed before
    # tokens named it) and when it was signed (Unix seconds); not in as_dict.
    event_id: str | None = dataclasses.field(default=None, compare=False)
    signed_at: int | None = dataclasses.field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of the verify endpoint."""
        # Built directly: dataclasses.asdict deep-copies, half of a verify's
        # JSON time.
        return {
            "valid": self.valid,
            "id": self.id,
            "site": self.site,
            "choices": dict(self.choices) if self.choices is not None else None,
            "revision": self.revision,
            "reason": self.reason,
        }


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
        and isinstance(payload.get("eid", ""), str)
        and type(payload.get("scan", False)) is bool
    )


def _canonical(part: str) -> bool:
    try:
        return base64_encode(base64_decode(part)).decode("ascii") == part
    except BadData:
        return False


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
    ``scan`` (the token of a choice the cookie scanner made, not a
    visitor's), ``expired``, ``other_site`` (when ``site`` is given) and
    ``old_revision`` (when ``consent_revision`` is given). A token that fails
    only the last four still names its consent id, site and choices.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_READ:
        return Verification(False, reason="malformed")
    if not _TOKEN_SHAPE.fullmatch(token):
        return Verification(False, reason="malformed")
    if not _canonical(token.rsplit(".", 1)[1]):
        # The HMAC is compared as decoded bytes, and a last character that
        # differs only in its unused low bits decodes to the same ones: only
        # the one spelling we write is ours.
        return Verification(False, reason="bad_signature")
    try:
        value, signed = _signer(keys).unsign(
            token, max_age=MAX_AGE_SECONDS, return_timestamp=True
        )
    except SignatureExpired:
        return Verification(False, reason="expired")
    except BadSignature:
        return Verification(False, reason="bad_signature")
    # The HMAC covers the public signature too, so only the payload is read.
    try:
        payload = json.loads(base64_decode(value.split(b".")[0]))
    except (BadData, ValueError):
        payload = None
    if not _well_formed(payload):
        # Signed by us but not a consent token we would write.
        return Verification(False, reason="malformed")
    found = Verification(
        True,
        id=payload["id"],
        site=payload["site"],
        choices=dict(payload["choices"]),
        revision=payload["rev"],
        event_id=payload.get("eid"),
        signed_at=int(signed.timestamp()),
    )
    if payload.get("scan") is True:
        # Before expiry: a scan token is never a visitor's consent, however
        # old it is, and the reader should know why.
        return dataclasses.replace(found, valid=False, reason="scan")
    current = time.time() if now is None else now
    if payload["exp"] <= current:
        return dataclasses.replace(found, valid=False, reason="expired")
    if site is not None and payload["site"] != site:
        return dataclasses.replace(found, valid=False, reason="other_site")
    if consent_revision is not None and payload["rev"] != consent_revision:
        return dataclasses.replace(found, valid=False, reason="old_revision")
    return found
