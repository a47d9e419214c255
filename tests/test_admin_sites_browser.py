import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from consent_server.store import drafts
from consent_server.store.engine import get_db
from consent_server.web.demo import create_storefront
from tests.admin_helpers import AdminActions, make_user
from tests.browser import (
    NOTICE,
    attempts,
    axe_source,
    console,
    host_of,
    open_page,
    serve,
    text_of,
    wait_for,
    wait_for_layer,
)
from tests.test_admin_browser import WIDTHS, load, log_in, page_violations
from tests.test_admin_sites import texts_data

pytestmark = pytest.mark.browser


def focused(driver):
    return driver.switch_to.active_element


def keyboard_replace(element, text):
    element.send_keys(Keys.CONTROL + "a")
    element.send_keys(Keys.DELETE)
    element.send_keys(text)


def test_an_editor_publishes_a_german_title_a_german_visitor_sees(driver, service):
    make_user(service.app, "ed@shop.example", "editor")
    log_in(driver, service, "ed@shop.example")

    # From the home page to the German texts by links, then the keyboard.
    driver.find_element(By.ID, "home-sites-link").click()
    wait_for(driver, "document.querySelector('#site-demo') !== null")
    driver.find_element(By.LINK_TEXT, "demo").click()
    wait_for(driver, "document.querySelector('#language-de') !== null")
    driver.find_element(By.CSS_SELECTOR, "#language-de a").click()
    wait_for(driver, "document.querySelector('#texts-form') !== null")
    title = driver.find_element(By.ID, "title")
    title.send_keys(Keys.SHIFT + Keys.TAB)
    focused(driver).send_keys(Keys.TAB)
    assert focused(driver).get_attribute("id") == "title"
    keyboard_replace(focused(driver), "Neu: Ihre Cookie-Wahl")
    driver.find_element(By.ID, "save-texts").send_keys(Keys.ENTER)
    wait_for(driver, "document.querySelector('#flash') !== null")
    assert "Saved to the draft" in driver.find_element(By.ID, "flash").text

    load(driver, service.url + "/admin/sites/demo/")
    assert "Neu: Ihre Cookie-Wahl" in driver.find_element(By.ID, "pending").text
    driver.find_element(By.ID, "publish").send_keys(Keys.ENTER)
    wait_for(driver, "document.querySelector('#flash') !== null")
    assert "Published revision 2." in driver.find_element(By.ID, "flash").text
    assert not [m for m in console(driver) if "Content Security Policy" in m]

    # A German visitor on the demo storefront.
    port = int(service.url.rsplit(":", 1)[1])
    shop = serve(create_storefront(port), host_name="localhost")
    try:
        open_page(driver, shop.url + "/?lang=de")
        wait_for_layer(driver, "notice")
        assert text_of(driver, f"{NOTICE} h2") == "Neu: Ihre Cookie-Wahl"
    finally:
        shop.stop()


XSS = "<img src=x onerror=\"window.pwned='{n}'\"><script>window.pwned='{n}'</script>"


def test_markup_written_on_the_page_stays_text_on_the_storefront(
    driver, service, storefront
):
    make_user(service.app, "ed@shop.example", "editor")
    editor = AdminActions(service.app.test_client())
    editor.login("ed@shop.example")
    with service.app.app_context():
        doc = drafts.working_document(get_db(), "demo")
    data = texts_data(doc, "en")
    payloads = {}
    for n, key in enumerate(k for k in data if k != "based_on"):
        payloads[key] = f"T{n} " + XSS.format(n=n)
        if key == "placeholder":
            payloads[key] += " {service}"
    data.update(payloads)
    assert editor.post("/admin/sites/demo/texts/en", data).status_code == 302
    assert editor.post("/admin/sites/demo/publish", {}).status_code == 302

    open_page(driver, storefront.page())
    wait_for_layer(driver, "notice")
    assert text_of(driver, f"{NOTICE} h2") == payloads["title"]
    shown = driver.execute_script(
        "return document.querySelector('#consent-banner').textContent"
    )
    assert payloads["description"] in shown and payloads["accept_all"] in shown
    assert driver.execute_script("return window.pwned === undefined")
    assert not driver.find_elements(
        By.CSS_SELECTOR, "#consent-banner img, script[src='x']"
    )

    # And on the config page, literally too.
    log_in(driver, service, "ed@shop.example")
    load(driver, service.url + "/admin/sites/demo/texts/en")
    assert (
        driver.find_element(By.ID, "title").get_attribute("value")
        == (payloads["title"])
    )
    load(driver, service.url + "/admin/sites/demo/history")
    assert payloads["title"] in driver.find_element(By.ID, "revisions").text
    assert driver.execute_script("return window.pwned === undefined")


def test_the_contrast_check_follows_the_colours_typed(driver, service):
    make_user(service.app, "ed@shop.example", "editor")
    log_in(driver, service, "ed@shop.example")
    load(driver, service.url + "/admin/sites/demo/")
    ratios = driver.find_element(By.ID, "contrast")
    assert "(readable)" in ratios.text and "too faint" not in ratios.text

    # Tab from the position to the button colour and type a faint one.
    driver.find_element(By.ID, "theme-position").send_keys(Keys.TAB)
    assert focused(driver).get_attribute("id") == "theme-accent"
    keyboard_replace(focused(driver), "#ffff00")
    wait_for(
        driver, "document.querySelector('#contrast').textContent.includes('1.1 to 1')"
    )
    assert "too faint" in ratios.text
    keyboard_replace(focused(driver), "#aa0000")
    wait_for(
        driver, "!document.querySelector('#contrast').textContent.includes('faint')"
    )
    # Half-typed is not a colour yet.
    keyboard_replace(focused(driver), "#aa")
    assert "not a colour yet" in ratios.text

    # The server stays the judge: a faint colour is refused when saved.
    keyboard_replace(focused(driver), "#ffff00")
    focused(driver).send_keys(Keys.ENTER)
    wait_for(driver, "document.querySelector('#theme-accent-error') !== null")
    assert (
        "Must contrast at least 4.5:1"
        in driver.find_element(By.ID, "theme-accent-error").text
    )
    with service.app.app_context():
        assert drafts.get_draft(get_db(), "demo") is None


@pytest.mark.parametrize("width", WIDTHS, ids=list(WIDTHS))
def test_axe_finds_no_serious_problems_on_the_sites_pages(driver, service, width):
    source = axe_source()
    driver.set_window_size(*WIDTHS[width])
    make_user(service.app, "ed@shop.example", "editor")
    other = AdminActions(service.app.test_client())
    make_user(service.app, "anna@shop.example", "editor")
    other.login("anna@shop.example")
    found = {}
    log_in(driver, service, "ed@shop.example")

    load(driver, service.url + "/admin/sites/")
    found["sites"] = page_violations(driver, source)
    driver.find_element(By.ID, "create-site").click()  # empty: inline errors
    wait_for(driver, "document.querySelector('#site-error') !== null")
    found["sites with errors"] = page_violations(driver, source)

    load(driver, service.url + "/admin/sites/demo/")
    found["site"] = page_violations(driver, source)
    keyboard_replace(driver.find_element(By.ID, "theme-accent"), "blue")
    driver.find_element(By.ID, "save-theme").click()
    wait_for(driver, "document.querySelector('#theme-accent-error') !== null")
    found["site with an error"] = page_violations(driver, source)

    load(driver, service.url + "/admin/sites/demo/texts/de")
    found["texts"] = page_violations(driver, source)
    keyboard_replace(driver.find_element(By.ID, "title"), "Neu")
    driver.find_element(By.ID, "save-texts").click()
    wait_for(driver, "document.querySelector('#flash') !== null")

    # Someone else publishes meanwhile: the warning page.
    with service.app.app_context():
        doc = drafts.working_document(get_db(), "demo")
    other.post("/admin/sites/demo/settings", {
        "settings-default_language": "en",
        "settings-policy_url": doc["policy_url"],
        "settings-origins": "\n".join(doc["origins"]),
        "settings-cookie_days": "30",
        "settings-based_on": "1",
    })  # fmt: skip
    load(driver, service.url + "/admin/sites/demo/")
    found["site with a draft"] = page_violations(driver, source)
    with service.app.app_context():
        conn = get_db()
        draft = drafts.get_draft(conn, "demo").document
        from consent_server.store import sites as store_sites

        store_sites.publish(conn, {**draft, "cookie_days": 20}, published_by="anna")
    driver.find_element(By.ID, "publish").click()
    wait_for(driver, "document.querySelector('#stale-warning') !== null")
    found["publish warning"] = page_violations(driver, source)
    driver.find_element(By.ID, "confirm-publish").click()
    wait_for(driver, "document.querySelector('#flash') !== null")

    load(driver, service.url + "/admin/sites/demo/history")
    found["history"] = page_violations(driver, source)

    assert found == {name: [] for name in found}
    urls = attempts(driver)
    assert {host_of(u) for u in urls} == {"127.0.0.1"}, urls
