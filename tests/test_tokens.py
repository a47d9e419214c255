import base64
import json
import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from consent_server import tokens

KEY = "test-token-key-0123456789abcdef"
OLD_KEY = "old-key-0123456789abcdef"
NEW_KEY = "new-key-fedcba9876543210"
CHOICES = {"preferences": True, "analytics": False, "advertising": True}
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _sign(keys=KEY, **overrides):
    fields = {
        "consent_id": "c0ffee00-1234-4abc-8def-0123456789ab",
        "site": "shop",
        "revision": 1,
        "choices": CHOICES,
        "expires_at": int(time.time()) + 3600,
    }
    fields.update(overrides)
    return tokens.sign_token(keys, **fields)


def _b64decode(segment):
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _read_payload(token):
    return json.loads(_b64decode(token.split(".")[0]))


def _other_char(char):
    # Flip the top bit of the 6-bit group, so the decoded bits change too.
    return ALPHABET[ALPHABET.index(char) ^ 32]


def _edit(token, segment, position):
    parts = token.split(".")
    text = parts[segment]
    parts[segment] = (
        text[:position] + _other_char(text[position]) + text[position + 1 :]
    )
    return ".".join(parts)


def test_signed_token_verifies():
    # A token straight from sign_token is valid and carries what was signed.
    token = _sign(consent_id="abc-123", site="shop", revision=3)

    result = tokens.verify_token(token, KEY, site="shop", consent_revision=3)

    assert result.valid is True
    assert result.reason is None
    assert result.id == "abc-123"
    assert result.site == "shop"
    assert result.revision == 3
    assert result.choices == CHOICES


def test_choices_are_stored_as_booleans():
    # Truthy values become real booleans in the token.
    token = _sign(choices={"preferences": 1, "analytics": 0, "advertising": "yes"})

    result = tokens.verify_token(token, KEY)

    assert result.choices == {
        "preferences": True,
        "analytics": False,
        "advertising": True,
    }


def test_as_dict_is_the_verify_endpoint_shape():
    # The dataclass turns into the JSON the verify endpoint sends.
    token = _sign(consent_id="abc-123", revision=2)

    result = tokens.verify_token(token, KEY).as_dict()

    assert result == {
        "valid": True,
        "id": "abc-123",
        "site": "shop",
        "choices": CHOICES,
        "revision": 2,
        "reason": None,
    }


def test_payload_is_readable_without_the_secret():
    # The first segment is base64url JSON the banner decodes with atob().
    expires_at = int(time.time()) + 3600
    token = _sign(consent_id="abc-123", expires_at=expires_at)

    payload = _read_payload(token)

    assert not token.startswith(".")
    assert payload == {
        "id": "abc-123",
        "site": "shop",
        "rev": 1,
        "choices": CHOICES,
        "exp": expires_at,
    }


def test_long_payload_is_never_compressed():
    # itsdangerous would zlib-compress this repetitive payload and mark it
    # with a leading "."; the banner could not read that.
    token = _sign(consent_id="a" * 1500)

    assert not token.startswith(".")
    assert _read_payload(token)["id"] == "a" * 1500
    assert tokens.verify_token(token, KEY).valid is True


def test_editing_any_payload_character_is_caught():
    # Change each character of the payload in turn; none may pass.
    token = _sign()
    payload_length = len(token.split(".")[0])

    for position in range(payload_length):
        edited = _edit(token, 0, position)
        result = tokens.verify_token(edited, KEY)

        assert result.valid is False, position
        assert result.reason in ("bad_signature", "malformed"), position


def test_editing_any_signature_character_is_caught():
    # Change each character of the signature in turn.
    token = _sign()
    signature_length = len(token.split(".")[2])

    for position in range(signature_length):
        edited = _edit(token, 2, position)
        result = tokens.verify_token(edited, KEY)

        assert result.valid is False, position
        assert result.reason == "bad_signature", position


def test_editing_the_timestamp_is_caught():
    # The middle segment is signed too.
    token = _sign()

    result = tokens.verify_token(_edit(token, 1, 0), KEY)

    assert result.valid is False
    assert result.reason == "bad_signature"


def test_reencoded_payload_with_flipped_choice_is_caught():
    # A visitor turns analytics on by rewriting the readable payload and
    # keeping the old signature: it still parses, but the server says no.
    token = _sign()
    payload = _read_payload(token)
    assert payload["choices"]["analytics"] is False
    payload["choices"]["analytics"] = True
    forged_payload = _b64encode(json.dumps(payload, separators=(",", ":")).encode())
    forged = ".".join([forged_payload, *token.split(".")[1:]])

    result = tokens.verify_token(forged, KEY)

    assert _read_payload(forged)["choices"]["analytics"] is True
    assert result.valid is False
    assert result.reason == "bad_signature"
    assert result.choices is None


def test_wrong_key_is_a_bad_signature():
    # A token signed by someone else's secret does not verify.
    token = _sign(keys="some-other-secret-key")

    result = tokens.verify_token(token, KEY)

    assert result.valid is False
    assert result.reason == "bad_signature"
    assert result.id is None


@pytest.mark.parametrize(
    ("keys"),
    (
        f"{NEW_KEY},{OLD_KEY}",
        f" {NEW_KEY} , {OLD_KEY} ",
        [NEW_KEY, OLD_KEY],
        (NEW_KEY, OLD_KEY),
    ),
)
def test_old_token_verifies_after_key_rotation(keys):
    # Cookies issued before the rotation keep working while the old key is listed.
    token = _sign(keys=OLD_KEY)

    result = tokens.verify_token(token, keys)

    assert result.valid is True
    assert result.reason is None


def test_new_tokens_are_signed_with_the_first_key():
    # After rotation the newest (first) key signs; the old one alone cannot
    # verify, the new one alone can.
    token = _sign(keys=f"{NEW_KEY},{OLD_KEY}")

    assert tokens.verify_token(token, f"{NEW_KEY},{OLD_KEY}").valid is True
    assert tokens.verify_token(token, [NEW_KEY, OLD_KEY]).valid is True
    assert tokens.verify_token(token, NEW_KEY).valid is True
    old_only = tokens.verify_token(token, OLD_KEY)
    assert old_only.valid is False
    assert old_only.reason == "bad_signature"


def test_old_token_fails_once_the_old_key_is_dropped():
    # Removing the old key from the list retires its tokens.
    token = _sign(keys=OLD_KEY)

    result = tokens.verify_token(token, NEW_KEY)

    assert result.valid is False
    assert result.reason == "bad_signature"


def test_expired_token_still_names_its_consent():
    # exp in the past: not valid, but the consent id is reported.
    token = _sign(consent_id="abc-123", expires_at=int(time.time()) - 60)

    result = tokens.verify_token(token, KEY)

    assert result.valid is False
    assert result.reason == "expired"
    assert result.id == "abc-123"
    assert result.site == "shop"
    assert result.choices == CHOICES


@pytest.mark.parametrize(
    ("offset", "valid", "reason"),
    (
        (-1, True, None),
        (0, False, "expired"),
        (1, False, "expired"),
    ),
)
def test_expiry_boundary(offset, valid, reason):
    # now= replaces the clock; a token is expired from exp onwards.
    expires_at = int(time.time()) + 3600
    token = _sign(expires_at=expires_at)

    result = tokens.verify_token(token, KEY, now=expires_at + offset)

    assert result.valid is valid
    assert result.reason == reason


def test_token_for_another_site():
    # A cookie from shop does not count on outlet.
    token = _sign(site="shop", consent_id="abc-123")

    result = tokens.verify_token(token, KEY, site="outlet")

    assert result.valid is False
    assert result.reason == "other_site"
    assert result.id == "abc-123"
    assert result.site == "shop"


def test_token_for_an_older_consent_revision():
    # After "ask every visitor again" a revision-1 token no longer counts.
    token = _sign(revision=1, consent_id="abc-123")

    result = tokens.verify_token(token, KEY, site="shop", consent_revision=2)

    assert result.valid is False
    assert result.reason == "old_revision"
    assert result.id == "abc-123"
    assert result.revision == 1


def test_expired_is_reported_before_other_site():
    # An expired token for another site says expired.
    token = _sign(site="shop", expires_at=int(time.time()) - 60)

    result = tokens.verify_token(token, KEY, site="outlet", consent_revision=2)

    assert result.valid is False
    assert result.reason == "expired"


def test_other_site_is_reported_before_old_revision():
    # A token for another site and an old revision says other_site.
    token = _sign(site="shop", revision=1)

    result = tokens.verify_token(token, KEY, site="outlet", consent_revision=2)

    assert result.reason == "other_site"


def _signed_non_consent_payload():
    serializer = URLSafeTimedSerializer(KEY, salt=tokens.SALT)
    return serializer.dumps({"id": 1})


@pytest.mark.parametrize(
    ("token"),
    (
        "",
        "abc",
        "....",
        12345,
        None,
        "x" * 5000,
        "é.é.é",
        pytest.param(_signed_non_consent_payload(), id="signed-non-consent"),
    ),
)
def test_garbage_is_malformed(token):
    # Anything that is not a token we would write is malformed, never an error.
    result = tokens.verify_token(token, KEY, site="shop", consent_revision=1)

    assert result.valid is False
    assert result.reason == "malformed"
    assert result.id is None


def test_three_parts_that_do_not_decode_fail_the_signature():
    # The signature is checked before the payload is decoded.
    result = tokens.verify_token("a.b.c", KEY)
    assert (result.valid, result.reason, result.id) == (False, "bad_signature", None)


def test_split_keys():
    # Blank entries and whitespace are dropped, order kept.
    assert tokens.split_keys("a, b,,") == ["a", "b"]
    assert tokens.split_keys(["new", " old "]) == ["new", "old"]


@pytest.mark.parametrize(("keys"), ("", " , ,", []))
def test_split_keys_needs_a_key(keys):
    # No usable key at all is a configuration error.
    with pytest.raises(ValueError):
        tokens.split_keys(keys)
