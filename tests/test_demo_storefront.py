import pytest

from consent_server.domain.texts import DEFAULT_TEXTS
from consent_server.web.demo import LANGUAGES, create_storefront
from tests.browser import NOTICE, open_page, serve, text_of, wait_for_layer


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
