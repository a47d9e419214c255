import json
import string
import time

import pytest
import sqlalchemy as sa
from hypothesis import example, given
from hypothesis import strategies as st
from itsdangerous.encoding import base64_decode

from consent_server.store import log
from consent_server.tokens import sign_token, verify_token
from tests import fuzzing
from tests.conftest import ORIGIN, SECRET, ConsentActions
from tests.fuzzing import PROPERTY
from tests.helpers import count_events


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory):
    app = fuzzing.sqlite_app(tmp_path_factory.mktemp("properties"))
    yield app
    app.extensions["consent_db"].dispose()


def json_values():
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=40)
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.text(max_size=12), inner, max_size=4)
        ),
        max_leaves=12,
    )


VALID = ConsentActions(None).body()
FIELDS = sorted(VALID) + ["previous"]
CHOICES = sorted(VALID["choices"])


@st.composite
def near_valid_bodies(draw):
    # A real body with some fields dropped, replaced by any JSON value, or
    # joined by unknown ones: the checks must catch each, alone or together.
    body = json.loads(json.dumps(VALID))
    for key in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        action = draw(st.sampled_from(("drop", "replace", "keep")))
        if action == "drop":
            body.pop(key, None)
        elif action == "replace":
            body[key] = draw(json_values())
    if draw(st.booleans()):
        choices = dict(VALID["choices"])
        for key in draw(st.lists(st.sampled_from(CHOICES), max_size=3, unique=True)):
            choices[key] = draw(json_values() | st.booleans())
        if draw(st.booleans()):
            choices[draw(st.text(max_size=12))] = draw(json_values())
        body["choices"] = choices
    if draw(st.booleans()):
        body["method"] = draw(
            st.sampled_from(("accept_all", "reject_all", "custom", "withdraw"))
        )
    if draw(st.booleans()):
        body[draw(st.text(max_size=12))] = draw(json_values())
    if draw(st.booleans()):
        body["url"] = draw(
            st.sampled_from((ORIGIN, "http://other.example", "javascript:x", ""))
        ) + draw(st.text(max_size=30))
    return body


bodies = json_values() | near_valid_bodies()


def assert_error_shape(response):
    error = response.get_json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]


@PROPERTY
@given(body=bodies)
def test_any_json_body_is_recorded_whole_or_refused_cleanly(sqlite_app, body):
    engine = sqlite_app.extensions["consent_db"]
    before = count_events(engine)
    # Send it as the wire carries it, not as the test client would encode it.
    response = sqlite_app.test_client().post(
        "/v1/consent",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Origin": ORIGIN},
    )
    after = count_events(engine)
    if response.status_code == 201:
        assert after == before + 1
        assert verify_token(response.get_json()["token"], SECRET).valid
    else:
        assert 400 <= response.status_code < 500, response.get_data(as_text=True)
        assert_error_shape(response)
        assert after == before


@PROPERTY
@given(
    raw=st.binary(max_size=200)
    | st.text(max_size=200).map(str.encode)
    | st.sampled_from((b"", b"{", b'{"site": "demo", "site": "x"}', b"\xff\xfe{}")),
    content_type=st.sampled_from(
        (
            "application/json",
            "application/json; charset=latin-1",
            "text/plain",
            "application/x-www-form-urlencoded",
        )
    ),
)
def test_any_raw_body_is_refused_without_a_row(sqlite_app, raw, content_type):
    engine = sqlite_app.extensions["consent_db"]
    before = count_events(engine)
    response = sqlite_app.test_client().post(
        "/v1/consent", data=raw, content_type=content_type, headers={"Origin": ORIGIN}
    )
    assert 400 <= response.status_code < 500 or response.status_code == 201
    if response.status_code == 201:
        assert count_events(engine) == before + 1
    else:
        assert_error_shape(response)
        assert count_events(engine) == before


def test_the_log_still_verifies_after_the_hostile_bodies(sqlite_app):
    # Runs after the two properties above (same module app): whatever they
    # sent, the chain of what was written is whole.
    engine = sqlite_app.extensions["consent_db"]
    with engine.connect() as conn:
        report = log.verify_chain(conn)
        rows = conn.execute(sa.text("SELECT count(*) FROM consent_events")).scalar()
    assert report.ok, report
    assert report.events == rows


def signed(consent_id="c0ffee", analytics=False):
    return sign_token(
        [SECRET],
        consent_id=consent_id,
        site="demo",
        revision=1,
        choices={"preferences": False, "analytics": analytics, "advertising": False},
        expires_at=int(time.time()) + 86400,
        event_id="e-" + consent_id,
    )


TOKEN = signed()
OTHER = signed("deadbeef", analytics=True)
ALPHABET = string.ascii_letters + string.digits + "-_.=+/~ !%\x00é"


def lookalikes(token):
    # Changes that decode to the same bytes, which a random flip rarely hits:
    # another last character of a base64 part differing only in its unused
    # low bits, and the standard alphabet's "+" and "/" for "-" and "_".
    found = []
    start = 0
    for part in token.split("."):
        end = start + len(part)
        for c in string.ascii_letters + string.digits + "-_":
            if c != part[-1] and base64_decode(part[:-1] + c) == base64_decode(part):
                found.append(token[: end - 1] + c + token[end:])
        start = end + 1
    for plain, standard in (("-", "+"), ("_", "/")):
        at = token.find(plain)
        if at >= 0:
            found.append(token[:at] + standard + token[at + 1 :])
    return found


@st.composite
def changed_tokens(draw):
    kind = draw(
        st.sampled_from(("flip", "insert", "delete", "swap", "splice", "lookalike"))
    )
    token = TOKEN
    if kind == "lookalike":
        return draw(st.sampled_from(lookalikes(token)))
    if kind in ("flip", "insert", "delete"):
        at = draw(st.integers(0, len(token) - (kind != "insert")))
        if kind == "flip":
            new = draw(st.sampled_from(ALPHABET).filter(lambda c: c != token[at]))
            return token[:at] + new + token[at + 1 :]
        if kind == "insert":
            return token[:at] + draw(st.sampled_from(ALPHABET)) + token[at:]
        return token[:at] + token[at + 1 :]
    parts = token.split(".")
    if kind == "swap":
        order = draw(
            st.permutations(range(len(parts))).filter(lambda o: o != sorted(o))
        )
        return ".".join(parts[i] for i in order)
    # Parts of another genuine token put in place of this one's.
    other = OTHER.split(".")
    which = draw(st.sets(st.integers(0, len(parts) - 1), min_size=1, max_size=3))
    return ".".join(other[i] if i in which else p for i, p in enumerate(parts))


# Both tokens may be signed in the same second: their timestamps are then
# equal, and a splice taking every other part from OTHER is OTHER itself.
def genuine(token):
    return token in (TOKEN, OTHER)


def test_the_unchanged_token_is_valid(sqlite_app):
    assert verify_token(TOKEN, SECRET).valid
    response = sqlite_app.test_client().post(
        "/v1/consent/verify", json={"token": TOKEN}
    )
    assert response.get_json()["valid"] is True


@PROPERTY
@given(token=changed_tokens())
@example(token=lookalikes(TOKEN)[0])
def test_any_change_to_a_token_makes_it_invalid(sqlite_app, token):
    if genuine(token):
        return
    result = verify_token(token, SECRET, site="demo")
    assert not result.valid, token
    response = sqlite_app.test_client().post(
        "/v1/consent/verify", json={"token": token}
    )
    if "\x00" in token:
        # No JSON string of ours may hold a NUL: refused as bad input.
        assert response.status_code == 400
        assert_error_shape(response)
    else:
        assert response.status_code == 200
        assert response.get_json()["valid"] is False, token
