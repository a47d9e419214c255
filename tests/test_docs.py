import json
import os
from pathlib import Path

import pytest

from tests.browser import console, network_events, settle, wait_for

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"
REDOC = ROOT / "node_modules" / "redoc"
# The one file Redoc's bundle loads from elsewhere; `npm run vendor` empties it.
CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_docs_page_is_served_with_a_strict_policy(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    # Every script on the page carries this response's nonce; none from elsewhere.
    page = response.get_data(as_text=True)
    assert page.count("<script") == page.count(f'nonce="{nonce}"') == 2
    assert "default-src 'none'" in policy and "unsafe-eval" not in policy
    assert "http" not in page.split("<body>", 1)[1]
    assert client.get("/docs").headers["Content-Security-Policy"] != policy


def test_vendored_redoc_is_the_pinned_package():
    # static/vendor/ is what a pip install ships; it must be what package.json pins.
    if not REDOC.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but redoc is missing: run `npm ci`")
        pytest.skip("run `npm ci` to compare with the pinned redoc")
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    installed = json.loads((REDOC / "package.json").read_text())["version"]
    assert installed == pinned["redoc"]
    bundle = (REDOC / "bundles" / "redoc.standalone.js").read_bytes()
    assert bundle.count(CDN_LOGO) == 1, "redoc changed how it loads its logo"
    stale = "is stale: run `npm run vendor`"
    shipped = (VENDOR / "redoc.standalone.js").read_bytes()
    assert shipped == bundle.replace(CDN_LOGO, b"data:,"), f"the bundle {stale}"
    for ours, theirs in (
        ("redoc.standalone.js.LICENSE.txt", "bundles/redoc.standalone.js.LICENSE.txt"),
        ("redoc.LICENSE", "LICENSE"),
    ):
        assert (VENDOR / ours).read_bytes() == (REDOC / theirs).read_bytes(), stale


@pytest.mark.browser
def test_docs_render_the_api_from_our_own_origin(service, driver):
    driver.get(f"{service.url}/docs")
    # Redoc has read /openapi.json and rendered its title and an operation.
    wait_for(
        driver,
        "document.querySelector('h1') &&"
        " document.querySelector('h1').textContent.includes('consent-server') &&"
        ' document.body.textContent.includes("Record a visitor\'s choice")',
        timeout=30,
    )
    settle()
    urls = [
        e["request"]["url"]
        for e in network_events(driver)
        if e["request"]["url"].startswith(("http:", "https:"))
    ]
    assert f"{service.url}/openapi.json" in urls
    assert f"{service.url}/static/vendor/redoc.standalone.js" in urls
    others = [u for u in urls if not u.startswith(f"{service.url}/")]
    assert not others, f"the page called another origin: {others}"
    refused = [m for m in console(driver) if "Content Security Policy" in m]
    assert not refused, refused
