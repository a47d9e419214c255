import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from consent_server.domain.texts import DEFAULT_TEXTS
from tests.browser import (
    NOTICE,
    PREFERENCES,
    action,
    api_calls,
    attempts,
    axe_source,
    choices,
    click,
    consent_cookie,
    log_rows,
    open_page,
    settle,
    switch,
    switch_states,
    text_of,
    trackers,
    wait_for,
    wait_for_layer,
    wait_for_no_banner,
    wait_for_rows,
)

pytestmark = pytest.mark.browser

IN_BANNER = (
    "!!(document.activeElement && document.activeElement.closest('#consent-banner'))"
)
FOCUSED = """
const el = document.activeElement;
if (!el || !el.closest('#consent-banner')) return null;
const shows = (e) => {
  if (!e) return false;
  const s = getComputedStyle(e);
  return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
    || s.boxShadow !== 'none';
};
// A switch may draw its focus ring on its label or the track beside it.
const ring = shows(el) || Array.from(el.labels || []).some(shows)
  || (el.matches('input') && shows(el.nextElementSibling));
return [el.getAttribute('data-consent-action')
        || el.getAttribute('data-consent-category')
        || el.outerHTML.slice(0, 80), ring];
"""
CONTROLS = """
return Array.from(document.querySelectorAll(arguments[0] + ' button, '
  + arguments[0] + ' input:not([disabled]), ' + arguments[0] + ' a[href]'))
  .filter((el) => el.getClientRects().length > 0)
  .map((el) => el.getAttribute('data-consent-action')
       || el.getAttribute('data-consent-category') || el.outerHTML.slice(0, 80));
"""


def press(driver, key):
    """Press a key on whatever has the focus, as a keyboard user would."""
    ActionChains(driver).send_keys(key).perform()


def tab_to(driver, css, limit=30):
    """Press Tab until the element matching ``css`` has the focus."""
    for _ in range(limit):
        if driver.execute_script(
            "return !!document.activeElement"
            " && document.activeElement.matches(arguments[0])",
            css,
        ):
            return
        press(driver, Keys.TAB)
    pytest.fail(f"Tab never reached {css}")


def focus_rings(driver, layer):
    """Tab through a layer; ``{control: shows a focus ring}`` for each one reached."""
    controls = driver.execute_script(CONTROLS, layer)
    seen = {}
    for _ in range(2 * len(controls) + 2):
        press(driver, Keys.TAB)
        focused = driver.execute_script(FOCUSED)
        if focused:
            seen[focused[0]] = focused[1]
    missed = set(controls) - set(seen)
    assert not missed, f"Tab never reached {sorted(missed)} in {layer}"
    return seen


def test_keyboard_only(driver, storefront, service):
    open_page(driver, storefront.page())
    wait_for_layer(driver, "notice")

    # Focus moves into the banner.
    wait_for(driver, IN_BANNER, message="the focus did not move into the banner")

    # Customize, then switch analytics on with Space, then save with Enter.
    tab_to(driver, action(NOTICE, "customize"))
    press(driver, Keys.ENTER)
    wait_for_layer(driver, "preferences")
    wait_for(driver, IN_BANNER, message="the focus left the banner on Customize")
    tab_to(driver, switch("analytics"))
    press(driver, Keys.SPACE)
    assert switch_states(driver)["analytics"] == [True, False]
    tab_to(driver, action(PREFERENCES, "save"))
    press(driver, Keys.ENTER)

    [row] = wait_for_rows(service, 1)
    assert row["method"] == "custom"
    assert choices(row) == {
        "preferences": False,
        "analytics": True,
        "advertising": False,
    }
    wait_for_no_banner(driver)

    # The focus goes back to where it was before the banner took it.
    assert driver.execute_script("return document.activeElement === document.body")


def test_every_control_shows_keyboard_focus(driver, storefront):
    open_page(driver, storefront.page())
    wait_for_layer(driver, "notice")

    rings = focus_rings(driver, NOTICE)
    click(driver, action(NOTICE, "customize"))
    wait_for_layer(driver, "preferences")
    rings.update(focus_rings(driver, PREFERENCES))

    assert {name for name, shown in rings.items() if not shown} == set()


def test_escape_records_nothing(driver, storefront, service):
    open_page(driver, storefront.page())
    wait_for_layer(driver, "notice")
    attempts(driver)

    # The visitor opens the preferences and presses Escape, twice.
    click(driver, action(NOTICE, "customize"))
    wait_for_layer(driver, "preferences")
    press(driver, Keys.ESCAPE)
    press(driver, Keys.ESCAPE)
    settle()

    # Nothing was sent, stored, recorded or run.
    urls = attempts(driver)
    assert api_calls(urls, service) == []
    assert trackers(urls) == []
    assert consent_cookie(driver) is None
    assert log_rows(service) == []
    assert driver.execute_script("return window.ran || []") == []


def test_layers_are_named_dialogs(driver, storefront):
    open_page(driver, storefront.page())
    wait_for_layer(driver, "notice")
    click(driver, action(NOTICE, "customize"))
    wait_for_layer(driver, "preferences")

    for layer in (NOTICE, PREFERENCES):
        role, name = driver.execute_script(
            """const el = document.querySelector(arguments[0]);
            const by = el.getAttribute('aria-labelledby');
            const named = by ? by.split(/\\s+/).map(
              (id) => (document.getElementById(id) || {}).textContent || '').join(' ')
              : el.getAttribute('aria-label');
            return [el.getAttribute('role'), (named || '').trim()];""",
            layer,
        )
        assert role == "dialog", layer
        assert name, f"{layer} has no accessible name"


AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document.querySelector('#consent-banner'), {resultTypes: ['violations']})
  .then((r) => done(r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary)}))))
  .catch((e) => done([{id: 'axe-error', impact: 'critical', help: String(e),
                       nodes: []}]));
"""


def serious_violations(driver):
    found = driver.execute_async_script(AXE_RUN)
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    for v in serious:
        print(f"{v['impact']}: {v['id']}: {v['help']}")
        for node in v["nodes"]:
            print(f"    {node}")
    return [v["id"] for v in serious]


def test_axe_finds_no_serious_problems(driver, storefront):
    source = axe_source()
    open_page(driver, storefront.page())
    wait_for_layer(driver, "notice")
    driver.execute_script(source)

    assert serious_violations(driver) == [], "notice layer"

    click(driver, action(NOTICE, "customize"))
    wait_for_layer(driver, "preferences")
    assert serious_violations(driver) == [], "preferences layer"


@pytest.mark.parametrize("width", [1280, 375])
def test_axe_finds_no_serious_problems_with_the_gpc_note(
    make_browser, storefront, width
):
    # Under Global Privacy Control the second layer holds one more sentence.
    driver = make_browser(gpc=True)
    driver.set_window_size(width, 800)
    open_page(driver, storefront.page())
    click(driver, action(NOTICE, "customize"))
    wait_for_layer(driver, "preferences")
    wait_for(driver, "!!document.getElementById('cs-gpc')")
    driver.execute_script(axe_source())

    assert serious_violations(driver) == [], "preferences layer under GPC"


def assert_texts(driver, texts):
    assert text_of(driver, action(NOTICE, "accept-all")) == texts["accept_all"]
    assert text_of(driver, action(NOTICE, "reject-all")) == texts["reject_all"]
    assert text_of(driver, action(NOTICE, "customize")) == texts["customize"]
    click(driver, action(NOTICE, "customize"))
    wait_for_layer(driver, "preferences")
    assert text_of(driver, action(PREFERENCES, "save")) == texts["save"]


def test_page_language_picks_the_texts(driver, storefront, service):
    # A German page (<html lang="de">) in an English browser.
    open_page(driver, storefront.page(lang="de"))
    wait_for_layer(driver, "notice")
    assert_texts(driver, DEFAULT_TEXTS["de"])

    click(driver, action(PREFERENCES, "accept-all"))
    [row] = wait_for_rows(service, 1)
    assert row["language"] == "de"


def test_browser_language_picks_the_texts(make_browser, storefront, service):
    # A French browser on a page that does not say its language.
    driver = make_browser(language="fr")
    open_page(driver, storefront.page())
    assert driver.execute_script("return navigator.languages")[0].startswith("fr")
    wait_for_layer(driver, "notice")
    assert_texts(driver, DEFAULT_TEXTS["fr"])

    click(driver, action(PREFERENCES, "reject-all"))
    [row] = wait_for_rows(service, 1)
    assert row["language"] == "fr"
    wait_for_no_banner(driver)


RING = """
const el = document.activeElement;
const s = getComputedStyle(el);
return [el.id || el.className || el.parentNode.className,
        s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0];
"""


def test_buttons_outside_the_banner_show_keyboard_focus(driver, storefront, service):
    open_page(driver, storefront.page())
    wait_for_layer(driver, "notice")
    click(driver, action(NOTICE, "reject-all"))
    wait_for_rows(service, 1)
    wait_for(driver, "!!document.getElementById('cs-float')")

    # Tab through the page: the settings button and the video's allow button
    # must show where the focus is, like the banner's own controls.
    seen = {}
    for _ in range(12):
        press(driver, Keys.TAB)
        where, ring = driver.execute_script(RING)
        seen[where] = ring
    assert seen.get("cs-float") is True
    assert seen.get("cs-ph") is True
