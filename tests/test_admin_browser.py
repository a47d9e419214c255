import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.admin_helpers import PASSWORD, make_user
from tests.browser import attempts, axe_source, console, host_of, wait_for

pytestmark = pytest.mark.browser

# The whole page, where the banner tests scan the banner only.
AXE_PAGE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']})
  .then((r) => done(r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary)}))))
  .catch((e) => done([{id: 'axe-error', impact: 'critical', help: String(e),
                       nodes: []}]));
"""
WIDTHS = {"desktop": (1280, 900), "phone": (375, 812)}


def page_violations(driver, source):
    driver.execute_script(source)
    found = driver.execute_async_script(AXE_PAGE)
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    for v in serious:
        print(f"{v['impact']}: {v['id']}: {v['help']}: {v['nodes']}")
    return [v["id"] for v in serious]


def load(driver, url):
    driver.get(url)
    wait_for(driver, "document.readyState === 'complete'")


def type_and_tab(driver, text):
    active = driver.switch_to.active_element
    active.send_keys(text)
    active.send_keys(Keys.TAB)


def test_login_by_keyboard_alone_asks_no_one_else(driver, service):
    make_user(service.app, "ed@shop.example", "editor")
    load(driver, service.url + "/admin/")
    assert driver.current_url.endswith("/admin/login")

    # Tab from the top of the page: the skip link, then the fields in order.
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("class") == "skip"
    driver.switch_to.active_element.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("id") == "email"
    type_and_tab(driver, "ed@shop.example")
    assert driver.switch_to.active_element.get_attribute("id") == "password"
    driver.switch_to.active_element.send_keys(PASSWORD + Keys.ENTER)
    wait_for(driver, "document.querySelector('#who') !== null")

    assert "ed@shop.example" in driver.find_element(By.ID, "who").text
    assert driver.find_element(By.ID, "role").text == "editor"
    cookie = driver.get_cookie("cs_admin")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    urls = attempts(driver)
    assert urls and {host_of(u) for u in urls} == {"127.0.0.1"}, urls
    assert not [m for m in console(driver) if "Content Security Policy" in m]

    # Log out with the keyboard too.
    driver.find_element(By.ID, "logout").send_keys(Keys.ENTER)
    wait_for(driver, "document.querySelector('#login-form') !== null")
    assert "You are logged out." in driver.find_element(By.ID, "flash").text


def test_a_wrong_password_is_shown_at_the_field(driver, service):
    load(driver, service.url + "/admin/login")
    driver.find_element(By.ID, "email").send_keys("nobody@shop.example")
    driver.find_element(By.ID, "password").send_keys("wrong password" + Keys.ENTER)
    wait_for(driver, "document.querySelector('#password-error') !== null")
    field = driver.find_element(By.ID, "password")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == "password-error"
    assert (
        driver.find_element(By.ID, "password-error").text == "Wrong email or password."
    )


def log_in(driver, service, email):
    load(driver, service.url + "/admin/login")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    wait_for(driver, "document.querySelector('#who') !== null")


@pytest.mark.parametrize("width", WIDTHS, ids=list(WIDTHS))
def test_axe_finds_no_serious_problems_on_the_config_pages(driver, service, width):
    source = axe_source()
    driver.set_window_size(*WIDTHS[width])
    make_user(service.app, "boss@shop.example", "admin")
    found = {}

    load(driver, service.url + "/admin/login")
    driver.find_element(By.ID, "login").click()  # the empty form's errors
    wait_for(driver, "document.querySelector('#email-error') !== null")
    found["login with errors"] = page_violations(driver, source)

    log_in(driver, service, "boss@shop.example")
    found["home"] = page_violations(driver, source)

    load(driver, service.url + "/admin/users/")
    driver.find_element(By.ID, "email").send_keys("new@shop.example" + Keys.ENTER)
    wait_for(driver, "document.querySelector('#one-time-link') !== null")
    link = driver.find_element(By.ID, "one-time-link").get_attribute("value")
    found["users with a link"] = page_violations(driver, source)
    driver.find_element(By.ID, "invite").click()  # empty email: an inline error
    wait_for(driver, "document.querySelector('#email-error') !== null")
    found["users with an error"] = page_violations(driver, source)

    load(driver, service.url + "/admin/tokens/")
    driver.find_element(By.ID, "name").send_keys("privacy office" + Keys.ENTER)
    wait_for(driver, "document.querySelector('#new-token') !== null")
    found["tokens"] = page_violations(driver, source)

    load(driver, service.url + "/admin/changes/")
    found["changes"] = page_violations(driver, source)

    load(driver, link)
    found["set password"] = page_violations(driver, source)

    load(driver, service.url + "/admin/link/not-a-link")
    found["a dead link"] = page_violations(driver, source)

    assert found == {name: [] for name in found}
    urls = attempts(driver)
    assert {host_of(u) for u in urls} == {"127.0.0.1"}, urls
