import gzip
import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from consent_server.domain import demo_site
from consent_server.store import sites as store_sites
from consent_server.store.engine import get_db
from consent_server.tokens import public_keys

BUDGET = 7000


def publish(app, **changes):
    with app.app_context():
        doc = demo_site.demo_config()
        doc.update(changes)
        return store_sites.publish(get_db(), doc, published_by="test")


@pytest.fixture
def database_url(tmp_path):
    # Serving the script does not depend on the kind of database.
    return f"sqlite:///{tmp_path / 'consent.sqlite'}"


def served_texts(response):
    """The languages whose texts a served script carries."""
    body = gzip.decompress(response.data) if response.headers.get(
        "Content-Encoding") == "gzip" else response.data  # fmt: skip
    text = body.decode()
    words = {"en": "Accept all", "de": "Alle akzeptieren", "fr": "Tout refuser",
             "it": "Rifiuta tutti", "es": "Rechazar todas"}  # fmt: skip
    return {code for code, word in words.items() if word in text}


def test_script_is_within_the_size_budget(client):
    # A French visitor: code, styles, config, keys, and two languages' texts.
    response = client.get("/s/demo/consent.js", headers={
        "Accept-Encoding": "gzip", "Accept-Language": "fr-FR,fr;q=0.9"})  # fmt: skip
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert len(response.data) <= BUDGET
    assert served_texts(response) == {"en", "fr"}


@pytest.mark.parametrize(
    ("accept_language", "carried"),
    [
        (None, {"en"}),
        ("de-DE,de;q=0.9,en;q=0.5", {"en", "de"}),
        ("es", {"en", "es"}),
        ("pt-BR,pt;q=0.9", {"en"}),
        ("en-GB", {"en"}),
    ],
)
def test_script_carries_the_default_and_the_best_match(
    client, accept_language, carried
):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = client.get("/s/demo/consent.js", headers=headers)
    assert served_texts(response) == carried
    assert "Accept-Language" in response.headers["Vary"]
    # Which languages exist is always known, so a page may ask for another.
    assert b'"language_codes":["de","en","es","fr","it"]' in response.data


def test_other_languages_texts_are_fetched_on_their_own(client):
    response = client.get("/s/demo/texts/it.json")
    assert response.status_code == 200
    assert response.json["accept_all"] == "Accetta tutti"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get("/s/demo/texts/it.json",
                       headers={"If-None-Match": response.headers["ETag"]})  # fmt: skip
    assert again.status_code == 304
    missing = client.get("/s/demo/texts/pt.json")
    assert missing.status_code == 404
    assert missing.json["error"]["code"] == "unknown_language"
    assert client.get("/s/nope/texts/en.json").status_code == 404


def test_script_carries_the_public_keys_newest_first(make_app):
    app = make_app(SECRET_KEY="second-key-0123456789,first-key-0123456789")
    body = app.test_client().get("/s/demo/consent.js").data.decode()
    new, old = public_keys(["second-key-0123456789", "first-key-0123456789"])
    assert f'"keys":["{new}","{old}"]' in body
    assert "second-key" not in body and "first-key" not in body


def test_script_revalidates_with_its_etag(client):
    first = client.get("/s/demo/consent.js", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Cache-Control"] == "public, max-age=300"
    assert first.headers["Content-Type"].startswith("text/javascript")
    again = client.get("/s/demo/consent.js", headers={
        "Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]})  # fmt: skip
    assert again.status_code == 304
    assert again.data == b""
    plain = client.get("/s/demo/consent.js")
    assert "Content-Encoding" not in plain.headers
    assert plain.headers["ETag"] != first.headers["ETag"]
    assert plain.data == gzip.decompress(first.data)


def test_publishing_changes_the_script(app, client):
    before = client.get("/s/demo/consent.js")
    publish(app, policy_url="https://shop.example/new-privacy")
    after = client.get(
        "/s/demo/consent.js", headers={"If-None-Match": before.headers["ETag"]}
    )
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert b'"policy_url":"https://shop.example/new-privacy"' in after.data


def test_script_carries_only_what_the_browser_needs(client):
    body = client.get("/s/demo/consent.js").data
    assert b'"site":"demo"' in body and b'"consent_revision":1' in body
    # Allowed origins and service names stay on the server.
    assert b"origins" not in body and b"127.0.0.1:*" not in body
    assert b"Meta Pixel" not in body
    # So do the hosts services call, what they are for, and the lifetimes
    # (each recorded choice brings its own).
    assert b"googletagmanager" not in body and b"Counts visits" not in body
    assert b"cookie_days" not in body and b"refusal_days" not in body
    # Which cookies to delete when a category is refused, by category.
    assert b'"cookies":{"analytics":["_ga","_ga_*","_gid"],' in body
    assert b"__CONFIG__" not in body and b"__CSS__" not in body


@pytest.mark.parametrize(
    ("changes", "carried"),
    [
        ({}, True),
        ({"gpc": False}, False),
        ({"categories": ["preferences", "analytics"]}, False),
    ],
)
def test_the_gpc_text_is_carried_only_where_it_can_show(app, client, changes, carried):
    # Said only when the site honours GPC and shows advertising to keep off.
    publish(app, **changes)
    body = client.get("/s/demo/consent.js").data.decode()
    assert ("Global Privacy Control signal was honoured" in body) is carried


def test_texts_cannot_break_out_of_the_script(app, client):
    publish(app, languages={"en": {"title": "</script><script>alert(1)</script>",
                                   "description": "line\u2028separator"}})  # fmt: skip
    body = client.get("/s/demo/consent.js").data.decode()
    assert "</script>" not in body
    assert "\u2028" not in body
    assert "\\u003c/script>" in body


def test_unknown_site_script_is_a_404(client):
    response = client.get("/s/nope/consent.js")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/javascript")


def test_styles_are_served_alone_too(client):
    response = client.get("/s/demo/consent.css", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/css")
    assert b"#consent-banner" in gzip.decompress(response.data)


def test_shipped_build_matches_the_source(tmp_path):
    # What storefronts receive is the terser build of static/consent.js,
    # made by `npm run build`; it must never lag behind the source.
    root = Path(__file__).resolve().parent.parent
    terser = root / "node_modules" / ".bin" / "terser"
    if not terser.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but terser is missing: run `npm ci`")
        pytest.skip("terser is missing: run `npm ci` to check the banner build")
    command = json.loads((root / "package.json").read_text())["scripts"]["build"]
    args = shlex.split(command)
    args[args.index("--output") + 1] = str(tmp_path / "consent.min.js")
    subprocess.run([str(terser), *args[1:]], cwd=root, check=True, timeout=60)
    assert (tmp_path / "consent.min.js").read_bytes() == (
        root / "static" / "consent.min.js"
    ).read_bytes(), "static/consent.min.js is stale: run `npm run build`"


def test_placeholder_names_in_texts_are_left_alone(app, client):
    publish(app, languages={"en": {"title": "See __CSS__ and __CONFIG__"}})
    body = client.get("/s/demo/consent.js").data.decode()
    assert "See __CSS__ and __CONFIG__" in body
    assert body.count("#consent-banner{") == 1


def test_texts_of_the_revision_a_cached_script_was_built_from(app, client):
    languages = demo_site.demo_config()["languages"]
    languages["de"] = {**languages["de"], "title": "Neu"}
    publish(app, languages=languages)  # revision 2
    assert client.get("/s/demo/texts/de.json").json["title"] == "Neu"
    old = client.get("/s/demo/texts/de.json?revision=1")
    assert old.json["title"] == "Ihre Privatsphäre, Ihre Wahl"
    assert old.headers["Cache-Control"] == "public, max-age=86400"
    bad = client.get("/s/demo/texts/de.json?revision=x")
    assert (bad.status_code, bad.json["error"]["code"]) == (400, "bad_revision")
    assert client.get("/s/demo/texts/de.json?revision=99").status_code == 404
    # Past what a database integer holds: still only a revision never published.
    huge = client.get(f"/s/demo/texts/de.json?revision={2**63}")
    assert (huge.status_code, huge.json["error"]["code"]) == (404, "unknown_site")
