import time

import pytest
from selenium.webdriver.common.by import By

from consent_server.domain.texts import DEFAULT_TEXTS
from tests.browser import (
    COOKIE,
    NOTICE,
    PREFERENCES,
    action,
    api_calls,
    attempts,
    click,
    consent_cookie,
    open_page,
    payload_of,
    publish,
    reload_page,
    settle,
    shown_layer,
    wait_for,
    wait_for_layer,
    wait_for_no_banner,
    wait_for_rows,
)

pytestmark = pytest.mark.browser

DAY = 86400
# The page's clock two days ahead; the browser's own (which ends cookies) is not.
TWO_DAYS_LATER = "Date.now = ((now) => () => now() + 2 * 86400000)(Date.now);"
GPC_NOTE = f"{PREFERENCES} #cs-gpc"


def choose_and_keep(driver, service, name):
    """Make a choice on the first layer; return its cookie once it is set."""
    wait_for_layer(driver, "notice")
    click(driver, action(NOTICE, name))
    wait_for_rows(service, 1)
    wait_for_no_banner(driver)
    wait_for(driver, f"document.cookie.includes('{COOKIE}=')")
    return consent_cookie(driver)


def two_days_later(driver):
    driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": TWO_DAYS_LATER}
    )
    reload_page(driver)


def test_a_refused_visitor_is_not_asked_again_within_the_refusal_period_and_is_after_it(
    driver, storefront, service
):
    # The shop keeps a refusal one day and a consent 180 days.
    publish(service, refusal_days=1, cookie_days=180)
    open_page(driver, storefront.page())

    # The visitor rejects all: cookie and token end after one day.
    cookie = choose_and_keep(driver, service, "reject-all")
    assert abs(cookie["expiry"] - (time.time() + DAY)) < 600
    assert abs(payload_of(cookie["value"])["exp"] - (time.time() + DAY)) < 600

    # On the next page view they are not asked, and nothing is sent.
    attempts(driver)  # what was sent so far
    reload_page(driver)
    settle()
    assert shown_layer(driver) is None
    assert api_calls(attempts(driver), service) == []

    # Two days later their refusal has ended: the banner asks again.
    two_days_later(driver)
    wait_for_layer(driver, "notice")


def test_a_consent_is_kept_for_the_cookie_lifetime_not_the_refusal_period(
    driver, storefront, service
):
    publish(service, refusal_days=1, cookie_days=180)
    open_page(driver, storefront.page())

    cookie = choose_and_keep(driver, service, "accept-all")
    assert abs(cookie["expiry"] - (time.time() + 180 * DAY)) < 600
    assert abs(payload_of(cookie["value"])["exp"] - (time.time() + 180 * DAY)) < 600

    # Two days later the visitor is still not asked.
    two_days_later(driver)
    settle()
    assert shown_layer(driver) is None


@pytest.mark.parametrize("language", ["en", "fr"])
def test_under_gpc_the_preferences_say_the_signal_was_honoured(
    make_browser, storefront, language
):
    driver = make_browser(language=language, gpc=True)
    open_page(driver, storefront.page())

    # The first layer does not say it; the second does, in the visitor's language.
    wait_for_layer(driver, "notice")
    assert not any(
        e.is_displayed() for e in driver.find_elements(By.CSS_SELECTOR, GPC_NOTE)
    )
    click(driver, action(NOTICE, "customize"))
    wait_for_layer(driver, "preferences")
    note = driver.find_element(By.CSS_SELECTOR, GPC_NOTE)
    assert note.is_displayed()
    assert note.text == DEFAULT_TEXTS[language]["gpc_honoured"]
    # A screen reader reads it with the dialog.
    layer = driver.find_element(By.CSS_SELECTOR, PREFERENCES)
    assert layer.get_attribute("aria-describedby") == "cs-gpc"


@pytest.mark.parametrize(
    ("browser_gpc", "site_gpc"),
    [
        pytest.param(False, True, id="no_signal"),
        pytest.param(True, False, id="site_ignores_it"),
    ],
)
def test_without_an_honoured_signal_the_preferences_do_not_mention_it(
    make_browser, storefront, service, browser_gpc, site_gpc
):
    publish(service, gpc=site_gpc)
    driver = make_browser(gpc=browser_gpc)
    open_page(driver, storefront.page())

    click(driver, action(NOTICE, "customize"))
    wait_for_layer(driver, "preferences")
    assert driver.find_elements(By.CSS_SELECTOR, GPC_NOTE) == []
    banner_text = driver.find_element(By.ID, "consent-banner").get_attribute(
        "textContent"
    )
    assert "Global Privacy Control" not in banner_text


def test_an_edited_gpc_text_is_shown_as_text(make_browser, storefront, service):
    markup = '<b id="injected">GPC</b> noted: no ads.'
    publish(service, languages={"en": {"gpc_honoured": markup}})
    driver = make_browser(gpc=True)
    open_page(driver, storefront.page())

    click(driver, action(NOTICE, "customize"))
    wait_for_layer(driver, "preferences")
    assert driver.find_element(By.CSS_SELECTOR, GPC_NOTE).text == markup
    assert driver.find_elements(By.ID, "injected") == []
