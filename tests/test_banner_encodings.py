"""The banner files in Brotli, gzip or plain, as the browser's Accept-Encoding
allows, each encoding with its own ETag and its own 304."""

import gzip

import brotli
import pytest

PATHS = ("/s/demo/consent.js", "/s/demo/consent.css")


@pytest.fixture
def database_url(tmp_path):
    # Serving the files does not depend on the kind of database.
    return f"sqlite:///{tmp_path / 'consent.sqlite'}"


def decoded(response):
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(response.data)
    if encoding == "gzip":
        return gzip.decompress(response.data)
    assert encoding is None
    return response.data


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("accept_encoding", "sent"),
    [
        # What Chromium and Firefox send: Brotli.
        ("gzip, deflate, br, zstd", "br"),
        ("br", "br"),
        # Brotli whenever it is allowed, even ranked below gzip.
        ("gzip;q=1.0, br;q=0.5", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("*", "br"),
        ("br;q=0, gzip;q=0", None),
        ("identity", None),
        (None, None),
    ],
)
def test_each_client_gets_an_encoding_it_takes(client, path, accept_encoding, sent):
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == sent
    assert "Accept-Encoding" in response.headers["Vary"]
    assert decoded(response) == client.get(path).data


@pytest.mark.parametrize("path", PATHS)
def test_brotli_is_the_smallest(client, path):
    sizes = {
        name: len(client.get(path, headers={"Accept-Encoding": name}).data)
        for name in ("br", "gzip", "identity")
    }
    assert sizes["br"] < sizes["gzip"] < sizes["identity"]


@pytest.mark.parametrize("path", PATHS)
def test_each_encoding_has_its_own_etag_and_304(client, path):
    etags = {}
    for name in ("br", "gzip", "identity"):
        first = client.get(path, headers={"Accept-Encoding": name})
        etag = first.headers["ETag"]
        etags[name] = etag
        again = client.get(path, headers={"Accept-Encoding": name,
                                          "If-None-Match": etag})  # fmt: skip
        assert again.status_code == 304
        assert again.data == b""
        assert again.headers["ETag"] == etag
        assert "Content-Encoding" not in again.headers
        assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
        assert again.headers["Vary"] == first.headers["Vary"]
    assert len(set(etags.values())) == 3
    # Another encoding's tag is not this encoding's copy: the whole answer.
    other = client.get(path, headers={"Accept-Encoding": "br",
                                      "If-None-Match": etags["gzip"]})  # fmt: skip
    assert other.status_code == 200
    assert other.headers["Content-Encoding"] == "br"
    # A list of tags that holds this one is answered 304 too.
    listed = client.get(path, headers={
        "Accept-Encoding": "br",
        "If-None-Match": f'"nope", {etags["br"]}'})  # fmt: skip
    assert listed.status_code == 304


@pytest.mark.parametrize("path", PATHS)
def test_other_conditions_still_follow_http_rules(client, path):
    etag = client.get(path).headers["ETag"]
    weak = client.get(path, headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    refused = client.get(path, headers={"If-Match": '"nope"'})
    assert refused.status_code == 412
    head = client.head(path, headers={"Accept-Encoding": "br"})
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Encoding"] == "br"


@pytest.mark.parametrize(
    ("method", "path", "options"),
    [
        ("get", "/s/demo/consent.js", {}),
        ("get", "/s/demo/consent.css", {}),
        ("get", "/v1/sites/demo/config", {}),
        ("post", "/v1/consent/verify", {"json": {"token": "x"}}),
    ],
)
def test_storefront_answers_carry_no_session(client, method, path, options):
    # The config page's session cookie never reaches these paths; a shared
    # cache must not keep a copy per cookie either.
    response = getattr(client, method)(path, **options)
    assert response.status_code < 400
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
