import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from consent_server.domain.texts import DEFAULT_TEXTS
from consent_server.store import drafts, schema
from consent_server.store import sites as store_sites
from consent_server.store.changes import Actor
from consent_server.store.engine import get_db
from tests.admin_helpers import AdminActions, make_user
from tests.browser import (
    BANNER,
    NOTICE,
    PREFERENCES,
    action,
    attempts,
    axe_source,
    click,
    console,
    host_of,
    publish,
    settle,
    shown_layer,
    switch_states,
    text_of,
    wait_for,
    wait_for_layer,
    wait_for_no_banner,
)
from tests.helpers import count_events
from tests.test_admin_browser import AXE_PAGE, WIDTHS, log_in

GERMAN_TITLE = DEFAULT_TEXTS["de"]["title"]
XSS = '<img src=x onerror="window.__xss = 1"><script>window.__xss = 2</script>'


@pytest.fixture
def admin(client):
    return AdminActions(client)


@pytest.fixture
def editor(app, admin):
    make_user(app, "ed@shop.example", "editor")
    assert admin.login("ed@shop.example").status_code == 302
    return admin


def publish_demo(app, **changes):
    with app.app_context():
        current = store_sites.current_config(get_db(), "demo")
        doc = current.model_dump(exclude={"revision", "consent_revision"})
        doc.update(changes)
        store_sites.publish(get_db(), doc, published_by="test")


def with_german_title(config, title):
    languages = config["languages"]
    return {**languages, "de": {**languages["de"], "title": title}}


# -- the page, through the test client -------------------------------------------


def test_the_page_offers_the_sites_languages_layers_and_widths(client, editor):
    page = client.get("/admin/sites/demo/preview")

    assert page.status_code == 200
    text = page.text
    for code in DEFAULT_TEXTS:
        assert f'value="{code}"' in text
    # An empty query: the site's default language, the first layer, a desktop.
    assert '<option lang="en" selected value="en">' in text
    assert 'src="/admin/sites/demo/preview/frame?lang=en&amp;layer=notice"' in text
    assert 'class="preview-stage preview-desktop"' in text


def test_the_frame_shows_the_language_and_layer_asked_for(client, editor):
    page = client.get("/admin/sites/demo/preview?lang=de&layer=preferences&width=phone")

    assert page.status_code == 200
    assert 'src="/admin/sites/demo/preview/frame?lang=de&amp;layer=preferences"' in (
        page.text
    )
    assert 'class="preview-stage preview-phone"' in page.text
    frame = client.get("/admin/sites/demo/preview/frame?lang=de&layer=preferences")
    assert frame.status_code == 200
    assert '<html lang="de">' in frame.text
    assert 'data-layer="preferences"' in frame.text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    (
        ("lang=xx", "lang", "This site has no texts in that language"),
        ("layer=third", "layer", "Choose the first or the second layer"),
        ("width=tv", "width", "Choose desktop or phone"),
    ),
)
def test_a_choice_not_in_the_list_is_an_error_at_the_field(
    client, editor, query, field, message
):
    page = client.get(f"/admin/sites/demo/preview?{query}")

    assert page.status_code == 400
    assert f'aria-describedby="{field}-error" aria-invalid="true"' in page.text
    assert message in page.text
    assert "preview-frame" not in page.text


def test_the_preview_script_is_built_from_the_working_settings(app, client, editor):
    publish_demo(app, languages=with_german_title(
        _demo(app), "Neuer Titel für die Vorschau"
    ))  # fmt: skip

    script = client.get("/admin/sites/demo/preview/consent.js?lang=de")

    assert script.status_code == 200
    assert script.mimetype == "text/javascript"
    assert "Neuer Titel für die Vorschau" in script.text
    assert script.headers["Cache-Control"] == "no-store"
    # Of the site's languages, the default and the one asked for.
    assert DEFAULT_TEXTS["en"]["title"] in script.text
    assert DEFAULT_TEXTS["fr"]["title"] not in script.text


def test_the_preview_shows_the_draft_not_the_published_banner(app, client, editor):
    with app.app_context():
        doc = drafts.working_document(get_db(), "demo")
        doc["languages"] = with_german_title(doc, "Titel im Entwurf")
        drafts.save_draft(get_db(), "demo", doc, Actor(None, "test"))

    script = client.get("/admin/sites/demo/preview/consent.js?lang=de").text
    published = client.get("/s/demo/consent.js", headers={"Accept-Language": "de"})

    assert "Titel im Entwurf" in script
    assert "Titel im Entwurf" not in published.text


def _demo(app):
    with app.app_context():
        return store_sites.current_config(get_db(), "demo").model_dump(mode="json")


def test_the_frame_may_connect_nowhere_and_only_our_page_may_frame_it(client, editor):
    page = client.get("/admin/sites/demo/preview")
    frame = client.get("/admin/sites/demo/preview/frame")

    page_policy = page.headers["Content-Security-Policy"]
    assert "frame-src 'self'" in page_policy
    assert "frame-ancestors 'none'" in page_policy
    policy = frame.headers["Content-Security-Policy"]
    assert "connect-src 'none'" in policy
    assert "frame-ancestors 'self'" in policy
    assert "script-src 'self';" in policy and "unsafe" not in policy


def test_an_unknown_site_is_a_plain_404(client, editor):
    for path in ("", "/frame", "/consent.js"):
        response = client.get(f"/admin/sites/nowhere/preview{path}")
        assert response.status_code == 404
    assert "There is no site called “nowhere”" in (
        client.get("/admin/sites/nowhere/preview").text
    )


def test_a_site_with_nothing_saved_says_there_is_nothing_to_preview(
    app, engine, client, editor
):
    with engine.begin() as conn:
        conn.execute(
            schema.sites.insert().values(id="new-shop", created_at=sa.func.now())
        )

    page = client.get("/admin/sites/new-shop/preview")

    assert page.status_code == 200
    assert "There is nothing to preview yet" in page.text
    assert "preview-frame" not in page.text
    assert client.get("/admin/sites/new-shop/preview/frame").status_code == 404


def test_an_auditor_cannot_open_the_preview(app, client, admin):
    make_user(app, "audit@shop.example", "auditor")
    admin.login("audit@shop.example")

    for path in ("", "/frame", "/consent.js"):
        response = client.get(f"/admin/sites/demo/preview{path}")
        assert response.status_code == 403
        assert "Your role (auditor) cannot do this" in response.text


def test_logged_out_the_preview_asks_to_log_in(client):
    response = client.get("/admin/sites/demo/preview")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"


# -- the preview in Chromium ----------------------------------------------------


FRAME = "#preview-frame"


def open_preview(driver, service, **query):
    url = f"{service.url}/admin/sites/demo/preview"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    driver.get(url)
    wait_for(driver, "document.readyState === 'complete'")
    driver.switch_to.frame(driver.find_element(By.CSS_SELECTOR, FRAME))
    wait_for(driver, "document.readyState === 'complete' && !!window.Consent")


def editor_in_browser(driver, service):
    make_user(service.app, "ed@shop.example", "editor")
    log_in(driver, service, "ed@shop.example")


@pytest.mark.browser
def test_an_editor_sees_the_banner_in_german(driver, service):
    editor_in_browser(driver, service)

    open_preview(driver, service, lang="de")

    wait_for_layer(driver, "notice")
    assert text_of(driver, f"{NOTICE} h2") == GERMAN_TITLE
    assert driver.execute_script("return document.documentElement.lang") == "de"
    assert not [m for m in console(driver) if "Content Security Policy" in m]


@pytest.mark.browser
def test_the_preview_works_by_keyboard_alone(driver, service):
    editor_in_browser(driver, service)
    driver.get(f"{service.url}/admin/sites/demo/preview")
    wait_for(driver, "document.readyState === 'complete'")

    # Pick German and the phone in the form, and show it, with keys only.
    driver.find_element(By.ID, "lang").send_keys("Deutsch")
    driver.find_element(By.ID, "width").send_keys("Phone")
    driver.find_element(By.ID, "show-preview").send_keys(Keys.ENTER)
    wait_for(driver, "location.search.includes('lang=de')")
    assert "width=phone" in driver.current_url
    driver.switch_to.frame(driver.find_element(By.CSS_SELECTOR, FRAME))
    wait_for_layer(driver, "notice")

    # The banner takes the focus, as on a shop; Tab reaches "Customize".
    for _ in range(6):
        if driver.switch_to.active_element.get_attribute("data-consent-action") == (
            "customize"
        ):
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for_layer(driver, "preferences")
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait_for_layer(driver, "notice")
    assert text_of(driver, f"{NOTICE} h2") == GERMAN_TITLE


@pytest.mark.browser
def test_the_second_layer_shows_the_category_switches(driver, service):
    editor_in_browser(driver, service)

    open_preview(driver, service, lang="de", layer="preferences")

    wait_for_layer(driver, "preferences")
    assert switch_states(driver) == {
        "authentication": [True, True],
        "security": [True, True],
        "preferences": [False, False],
        "analytics": [False, False],
        "advertising": [False, False],
    }
    assert (
        text_of(driver, f"{PREFERENCES} h2") == DEFAULT_TEXTS["de"]["preferences_title"]
    )


@pytest.mark.browser
def test_the_phone_frame_is_375_pixels_wide(driver, service):
    editor_in_browser(driver, service)

    open_preview(driver, service, width="phone")

    assert driver.execute_script("return window.innerWidth") == 375
    driver.switch_to.default_content()
    frame = driver.find_element(By.CSS_SELECTOR, FRAME)
    assert frame.get_property("clientWidth") == 375

    open_preview(driver, service, width="desktop")
    assert driver.execute_script("return window.innerWidth") == 1280


@pytest.mark.browser
def test_clicking_every_button_records_nothing_and_keeps_no_cookie(driver, service):
    editor_in_browser(driver, service)
    before = count_events(service.engine)
    attempts(driver)  # forget the requests so far
    presses = [
        ("notice", NOTICE, "accept-all"),
        ("notice", NOTICE, "reject-all"),
        ("preferences", PREFERENCES, "save"),
        ("preferences", PREFERENCES, "accept-all"),
        ("preferences", PREFERENCES, "reject-all"),
    ]
    urls = []
    for layer, selector, name in presses:
        # At phone width the frame is shown at its own size, so a click lands
        # where the button is drawn.
        open_preview(driver, service, layer=layer, width="phone")
        wait_for_layer(driver, layer)
        click(driver, action(selector, name))
        # The banner takes the choice as on a shop, and says it kept nothing.
        wait_for_no_banner(driver)
        assert "nothing was recorded" in text_of(driver, "#preview-note")
        assert driver.execute_script("return document.cookie").startswith("cs_consent=")
        urls += attempts(driver)
        driver.switch_to.default_content()

    settle()
    assert count_events(service.engine) == before
    assert not [u for u in urls if "/v1/" in u], urls
    assert {host_of(u) for u in urls} == {"127.0.0.1"}, urls
    # The banner's cookie lived in the frame's memory only.
    assert "cs_consent" not in {c["name"] for c in driver.get_cookies()}


@pytest.mark.browser
def test_a_text_with_markup_is_shown_as_text_and_runs_nothing(driver, service):
    current = publish(service, ask_again=False)
    publish(service, ask_again=False, languages=with_german_title(current, XSS))
    editor_in_browser(driver, service)

    open_preview(driver, service, lang="de")

    wait_for_layer(driver, "notice")
    assert text_of(driver, f"{NOTICE} h2") == XSS
    assert not driver.find_elements(By.CSS_SELECTOR, f"{BANNER} img, {BANNER} script")
    settle()
    assert driver.execute_script("return window.__xss") is None
    driver.switch_to.default_content()
    assert driver.execute_script("return window.__xss") is None


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS, ids=list(WIDTHS))
def test_axe_finds_no_serious_problems_on_the_preview(driver, service, width):
    source = axe_source()
    driver.set_window_size(*WIDTHS[width])
    editor_in_browser(driver, service)
    found = {}

    for layer in ("notice", "preferences"):
        for frame_width in ("desktop", "phone"):
            open_preview(driver, service, lang="de", layer=layer, width=frame_width)
            wait_for_layer(driver, layer)
            # axe checks the frame's page too, when it runs in it as well.
            driver.execute_script(source)
            driver.switch_to.default_content()
            driver.execute_script(source)
            found[f"{layer}, {frame_width}"] = _violations(driver)

    driver.get(f"{service.url}/admin/sites/demo/preview?lang=xx")
    wait_for(driver, "document.querySelector('#lang-error') !== null")
    driver.execute_script(source)
    found["with an error"] = _violations(driver)

    assert found == {name: [] for name in found}
    assert shown_layer(driver) is None


def _violations(driver):
    result = driver.execute_async_script(AXE_PAGE)
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    for v in serious:
        print(f"{v['impact']}: {v['id']}: {v['help']}: {v['nodes']}")
    return [v["id"] for v in serious]
