import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from consent_server.cli import main
from consent_server.domain.demo_site import DEMO_SERVICES
from consent_server.domain.texts import DEFAULT_TEXTS
from consent_server.web.demo import LANGUAGES, create_storefront
from tests.browser import (
    CHROMEDRIVER,
    CHROMIUM,
    NOTICE,
    missing,
    open_page,
    serve,
    text_of,
    wait_for_layer,
)


@pytest.fixture
def shop():
    return create_storefront(5000).test_client()


def test_storefront_offers_every_language_the_banner_ships(shop):
    assert set(LANGUAGES) == set(DEFAULT_TEXTS)
    page = shop.get("/").text
    for code in LANGUAGES:
        assert f'href="?lang={code}"' in page


@pytest.mark.parametrize(
    ("query", "accept_language", "lang"),
    (
        ("", None, "en"),
        ("?lang=de", None, "de"),
        ("?lang=it", "fr", "it"),
        ("", "fr-CH, fr;q=0.9, en;q=0.5", "fr"),
        ("?lang=xx", "es", "es"),
        ("?lang=xx", "pt-BR", "en"),
    ),
)
def test_storefront_page_says_its_language(shop, query, accept_language, lang):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    page = shop.get("/" + query, headers=headers).text
    assert f'<html lang="{lang}">' in page
    assert f'lang="{lang}" hreflang="{lang}" aria-current="true"' in page


@pytest.mark.browser
def test_storefront_in_german_shows_the_german_banner(driver, service):
    # The demo storefront itself, beside the service under test.
    port = int(service.url.rsplit(":", 1)[1])
    shop = serve(create_storefront(port), host_name="localhost")
    try:
        open_page(driver, shop.url + "/?lang=de")
        wait_for_layer(driver, "notice")
        assert text_of(driver, f"{NOTICE} h2") == DEFAULT_TEXTS["de"]["title"]
    finally:
        shop.stop()


@pytest.mark.browser
def test_a_scan_of_the_demo_storefront_finds_every_tag_gated_and_declared(service):
    # What `consent-server scan` says of the demo, as a shop would run it.
    for path, name in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromedriver")):
        if not Path(path).exists():
            missing(name, f"install it (Debian: apt-get install {name})")
    port = int(service.url.rsplit(":", 1)[1])
    shop = serve(create_storefront(port), host_name="localhost")
    try:
        result = CliRunner().invoke(
            main,
            ["scan", shop.url + "/", "--pages", "1", "--format", "json",
             "--chromium-arg", "--host-resolver-rules=MAP * ~NOTFOUND,"
             " EXCLUDE 127.0.0.1, EXCLUDE localhost"],
        )  # fmt: skip
    finally:
        shop.stop()

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["site"] == "demo" and report["problems"] == []
    assert report["leaks"] == [] and report["undeclared"] == []
    # Every service the demo declares is used by its page, each only once
    # the visitor accepted, and known by the site's own declaration.
    assert report["unused"] == []
    demo = {name for name, *_ in DEMO_SERVICES}
    used = {i["service"] for i in report["seen"]}
    assert used == demo | {"consent-server"}
    for item in report["seen"]:
        if item["service"] in demo:
            assert item["seen"] == ["accepted"], item
            assert item["classified_by"] == "declared", item
