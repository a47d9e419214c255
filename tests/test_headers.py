import re

import pytest

from consent_server import create_app
from consent_server.store import accounts
from consent_server.store.engine import get_db
from consent_server.web import headers, home
from consent_server.web.demo import create_storefront
from consent_server.web.settings import BadSetting
from tests.browser import NOTICE, action, click, console, open_page, serve, wait_for
from tests.conftest import SECRET

REFERRER_POLICIES = ("no-referrer", "strict-origin-when-cross-origin", "same-origin")


def policy(response):
    # The Content-Security-Policy as {directive: [values]}.
    found = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        found[name] = values
    return found


def assert_strict(response):
    directives = policy(response)
    scripts = directives.get("script-src", directives["default-src"])
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["default-src"] in (["'self'"], ["'none'"])
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in REFERRER_POLICIES


@pytest.fixture
def bearer(app):
    with app.app_context():
        return {
            "Authorization": f"Bearer {accounts.create_token(get_db(), 'a', 'audit')}"
        }


@pytest.mark.parametrize(
    ("method", "path", "status"),
    (
        ("get", "/", 200),
        ("get", "/docs", 200),
        ("get", "/openapi.json", 200),
        ("get", "/healthz", 200),
        ("get", "/v1/sites/demo/config", 200),
        ("get", "/v1/sites/nowhere/config", 404),
        ("get", "/v1/audit/verify", 401),
        ("get", "/v1/nothing-here", 404),
        ("get", "/nothing-here", 404),
        ("get", "/static/home.css", 200),
        ("post", "/v1/consent/verify", 200),
    ),
)
def test_our_pages_and_answers_send_the_security_headers(client, method, path, status):
    kwargs = {"json": {"token": "x"}} if method == "post" else {}
    # A static file is streamed from disk: close it when done.
    with getattr(client, method)(path, **kwargs) as response:
        assert response.status_code == status
        assert_strict(response)
        assert "Strict-Transport-Security" not in response.headers


def test_recording_and_audit_answers_send_them_too(client, consent, bearer):
    recorded = consent.post()
    assert recorded.status_code == 201
    assert_strict(recorded)
    for path in ("/v1/audit/verify", "/v1/audit/events"):
        response = client.get(path, headers=bearer)
        assert response.status_code == 200
        assert_strict(response)


def test_a_page_with_its_own_policy_keeps_it(client):
    assert client.get("/").headers["Content-Security-Policy"] == home.PAGE_POLICY
    docs = client.get("/docs")
    nonce = re.search(r'nonce="([^"]+)"', docs.text).group(1)
    assert policy(docs)["script-src"] == [f"'nonce-{nonce}'"]
    assert docs.headers["Content-Security-Policy"].count("frame-ancestors") == 1


@pytest.mark.parametrize("path", ("/s/demo/consent.js", "/s/demo/consent.css"))
def test_the_banner_files_stay_embeddable(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    for name in ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"):
        assert name not in response.headers


def test_hsts_is_sent_when_configured(make_app):
    client = make_app(HSTS_SECONDS=31536000).test_client()
    for path in ("/", "/v1/sites/demo/config", "/s/demo/consent.js"):
        assert client.get(path).headers["Strict-Transport-Security"] == (
            "max-age=31536000"
        )


@pytest.mark.parametrize("value", ("yes", -1, 10**9, True, 1.5))
def test_a_bad_hsts_setting_is_refused_at_start(tmp_path, value):
    with pytest.raises(BadSetting, match="^CONSENT_HSTS_SECONDS: must be a whole"):
        create_app(
            {"SECRET_KEY": SECRET, "HSTS_SECONDS": value},
            instance_path=str(tmp_path),
        )


def test_the_demo_storefront_sends_a_strict_policy_with_the_banners_nonce():
    response = create_storefront(5000).test_client().get("/")
    assert_strict(response)
    directives = policy(response)
    nonce = re.search(r'consent\.js" nonce="([^"]+)"', response.text).group(1)
    assert directives["script-src"] == [f"'nonce-{nonce}'", "'strict-dynamic'"]
    assert directives["connect-src"] == ["http://localhost:5000"]
    assert (
        headers.storefront_policy(nonce, "http://localhost:5000")
        == (response.headers["Content-Security-Policy"])
    )


@pytest.mark.browser
def test_the_demo_storefront_works_under_its_policy(driver, service):
    port = int(service.url.rsplit(":", 1)[1])
    shop = serve(create_storefront(port), host_name="localhost")
    try:
        open_page(driver, shop.url + "/")
        click(driver, action(NOTICE, "accept-all"))
        # The gated inline gtag snippet ran: it carries the banner's nonce.
        wait_for(driver, "Array.isArray(window.dataLayer) && !!window.gtag")
        refused = [m for m in console(driver) if "Content Security Policy" in m]
        assert refused == []
    finally:
        shop.stop()
