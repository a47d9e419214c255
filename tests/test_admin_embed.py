import html
import re
from html.parser import HTMLParser

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from consent_server.domain import embed
from consent_server.domain.demo_site import DEMO_SERVICES, demo_config
from consent_server.domain.site_config import Service, validate_config
from consent_server.store import sites
from consent_server.store.engine import get_db
from tests.admin_helpers import AdminActions, make_user
from tests.browser import attempts, axe_source, console, host_of, wait_for
from tests.test_admin_browser import WIDTHS, load, log_in, page_violations

XSS = "</script><script>alert(1)</script>"
PAGE = "/admin/sites/demo/embed"


class Boxes(HTMLParser):
    """The text of each readonly box on a page, by id, as the browser reads it."""

    def __init__(self, page):
        super().__init__()
        self.boxes = {}
        self._in = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "textarea":
            self._in = dict(attrs)["id"]
            self.boxes[self._in] = ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._in = None

    def handle_data(self, data):
        if self._in:
            self.boxes[self._in] += data


def table_rows(page):
    # The rows of the cookie table shown on the page: [service, category, cookies,
    # purpose] as text.
    table = page.split('id="cookie-table"', 1)[1].split("</table>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        rows.append([html.unescape(c.strip()) for c in cells])
    return rows


def publish(app, **changes):
    doc = {**demo_config(), **changes}
    with app.app_context():
        return sites.publish(get_db(), doc, published_by="test")


@pytest.fixture
def editor(app, client):
    make_user(app, "ed@shop.example", "editor")
    actions = AdminActions(client)
    assert actions.login("ed@shop.example").status_code == 302
    return actions


# -- the domain part ------------------------------------------------------------


@pytest.fixture
def config():
    return validate_config(demo_config())


def test_the_script_tag_loads_the_sites_banner():
    tag = embed.script_tag("https://consent.example/s/demo/consent.js")
    assert tag == '<script src="https://consent.example/s/demo/consent.js"></script>'


def test_an_optional_service_is_gated_by_its_category(config):
    examples = {e.service: e for e in embed.examples(config)}
    markup = examples["Google Analytics"].markup
    assert '<script type="text/plain" data-consent="analytics"' in markup
    assert "<!-- Google Analytics:" in markup
    # No script in the example runs as it is pasted.
    assert "<script>" not in markup and "<script src" not in markup


def test_a_known_host_gets_its_real_address_and_a_video_an_iframe(config):
    gtm = Service(
        name="GA4", category="analytics", cookies=[], hosts=["www.googletagmanager.com"]
    )
    video = Service(
        name="Videos", category="advertising", cookies=[], hosts=["www.youtube.com"]
    )
    assert (
        'src="https://www.googletagmanager.com/gtag/js?id=YOUR-ID"'
        in embed.gated_markup(gtm)
    )
    markup = embed.gated_markup(video)
    assert '<iframe data-consent="advertising"' in markup
    assert 'data-src="https://www.youtube.com/embed/VIDEO-ID"' in markup
    assert " src=" not in markup


def test_a_strictly_necessary_service_is_left_as_it_is():
    login = Service(name="Shop login", category="authentication", cookies=[])
    markup = embed.gated_markup(login)
    assert "data-consent" not in markup and "strictly necessary" in markup


def test_the_table_lists_every_service_with_its_cookies_and_purpose(config):
    rows = embed.declaration(config, "en")
    assert [(r.service, r.category, r.cookies) for r in rows] == [
        (name, category, cookies) for name, category, cookies, *_ in DEMO_SERVICES
    ]
    analytics = config.languages["en"].categories["analytics"]
    assert rows[0].category_label == analytics.label
    # A service's own purpose where it has one, else its category's description.
    assert [r.purpose for r in rows] == [purpose for *_, purpose in DEMO_SERVICES]


def test_a_services_own_purpose_is_used_when_it_has_one(config):
    own = Service(
        name="Hotjar",
        category="analytics",
        cookies=["_hj*"],
        purpose="Records how visitors scroll, to improve our pages.",
        hosts=["static.hotjar.com"],
    )
    with_purpose = config.model_copy(update={"services": [own]})
    (row,) = embed.declaration(with_purpose, "en")
    assert row.purpose == "Records how visitors scroll, to improve our pages."
    assert row.hosts == ("static.hotjar.com",)


def test_a_service_of_a_hidden_category_keeps_its_categorys_words():
    # The banner does not show advertising, so the site's texts lack its words.
    config = validate_config({**demo_config(), "categories": ["analytics"]})

    ads = embed.declaration(config, "de")[1]

    assert (ads.service, ads.category_label) == ("Google Ads", "Werbung")
    assert ads.purpose


def test_the_table_speaks_the_chosen_language(config):
    rows = embed.declaration(config, "de")
    table = embed.table_html(rows, config.languages["de"], "de")
    assert '<th scope="col">Dienst</th>' in table
    assert config.languages["de"].categories["analytics"].label in table
    assert "_ga_* (jeder Name, der mit _ga_ beginnt)" in table


@pytest.mark.parametrize(
    ("name", "shown"),
    (
        ("_ga", "_ga"),
        ("_ga_*", "_ga_* (any name starting with _ga_)"),
        ("*_session", "*_session (* stands for any characters)"),
        ("*", "* (* stands for any characters)"),
    ),
)
def test_wildcard_cookie_names_are_explained(name, shown):
    assert embed.cookie_text(name, "en") == shown


def test_values_from_the_config_are_escaped_in_what_is_copied(config):
    evil = Service(name=XSS, category="analytics", cookies=["a|b"])
    tainted = config.model_copy(update={"services": [evil]})
    rows = embed.declaration(tainted, "en")
    texts = config.languages["en"]
    for built in (
        embed.gated_markup(evil),
        embed.table_html(rows, texts, "en"),
        embed.table_markdown(rows, texts, "en"),
    ):
        assert "<script>alert" not in built and "</script><script>" not in built
        assert "&lt;/script&gt;&lt;script&gt;alert(1)" in built
    # A pipe in a name does not split a Markdown cell.
    row = embed.table_markdown(rows, texts, "en").splitlines()[2]
    assert row.count(" | ") == 3 and "a\\|b" in row


def test_the_settings_link_opens_the_banner_in_the_sites_words(config):
    assert (
        embed.settings_link(config.languages["fr"])
        == f'<a href="#" data-consent-open>{config.languages["fr"].settings}</a>'
    )


def test_the_sites_own_words_are_escaped_in_the_link_and_the_table(config):
    texts = config.languages["en"].model_copy(
        update={"settings": XSS, "always_on": "<b>on</b>"}
    )
    login = Service(
        name="Login", category="authentication", cookies=[], purpose="<i>x</i>"
    )
    with_login = config.model_copy(update={"services": [login]})

    link = embed.settings_link(texts)
    table = embed.table_html(embed.declaration(with_login, "en"), texts, "en")

    assert link == (
        '<a href="#" data-consent-open>'
        "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</a>"
    )
    assert "&lt;b&gt;on&lt;/b&gt;" in table and "&lt;i&gt;x&lt;/i&gt;" in table
    assert "<b>" not in table and "<i>" not in table


# -- the page -------------------------------------------------------------------


def test_the_snippet_carries_the_site_and_each_services_category(editor):
    response = editor.client.get(PAGE)

    assert response.status_code == 200
    boxes = Boxes(response.text).boxes
    assert boxes["script-tag"] == (
        '<script src="http://localhost/s/demo/consent.js"></script>'
    )
    gated = [boxes[k] for k in boxes if k.startswith("service-")]
    assert len(gated) == len(DEMO_SERVICES)
    for (name, category, *_), markup in zip(DEMO_SERVICES, gated, strict=True):
        assert markup.startswith(f"<!-- {name}:")
        # A tag, or a frame for a video service: gated by its category either way.
        assert f'data-consent="{category}"' in markup
    assert boxes["settings-link"] == (
        '<a href="#" data-consent-open>Cookie settings</a>'
    )


def test_the_page_table_lists_every_service_with_its_cookies(editor):
    page = editor.client.get(PAGE).text

    rows = table_rows(page)
    assert [r[0] for r in rows] == [name for name, *_ in DEMO_SERVICES]
    for row, (_, _, cookies, *_) in zip(rows, DEMO_SERVICES, strict=True):
        for cookie in cookies:
            assert cookie in row[2]
    assert rows[0][1] == "Analytics"
    assert "_ga_* (any name starting with _ga_)" in rows[0][2]
    # The same table, to copy, as HTML and as Markdown.
    boxes = Boxes(page).boxes
    assert boxes["table-html"].startswith("<table>")
    assert '<th scope="row">Google Analytics</th>' in boxes["table-html"]
    assert boxes["table-markdown"].startswith(
        "| Service | Category | Cookies | Purpose |"
    )


def test_strictly_necessary_services_are_listed_too(app, editor):
    services = [
        *demo_config()["services"],
        {"name": "Shop login", "category": "authentication", "cookies": ["session"]},
    ]
    publish(app, services=services)

    page = editor.client.get(PAGE).text

    rows = table_rows(page)
    assert rows[-1][:3] == ["Shop login", "Sign-in and cart (Always on)", "session"]
    assert "<li>Shop login</li>" in page
    assert "Tags of Shop login" not in page


def test_the_table_in_another_of_the_sites_languages(editor):
    page = editor.client.get(PAGE + "?lang=de").text

    assert '<option selected value="de">Deutsch (de)</option>' in page
    # The page names categories as the editor knows them, in the default language.
    assert '<h3>Google Analytics <span class="category">(Analytics)</span></h3>' in page
    head = page.split('id="cookie-table"', 1)[1].split("</thead>", 1)[0]
    assert "Dienst" in head and "Zweck" in head
    assert "| Dienst | Kategorie |" in Boxes(page).boxes["table-markdown"]


def test_the_default_language_comes_first_and_is_shown_by_default(app, editor):
    publish(app, default_language="fr")

    page = editor.client.get(PAGE).text

    options = re.findall(r"<option[^>]*>([^<]*)</option>", page)
    assert options[0] == "Français (fr), the site&#39;s default"
    assert "| Service | Catégorie |" in Boxes(page).boxes["table-markdown"]


def test_a_language_the_site_does_not_have_is_refused_at_the_field(editor):
    response = editor.client.get(PAGE + "?lang=xx")

    assert response.status_code == 400
    assert 'id="lang-error"' in response.text
    assert "Choose one of the site&#39;s languages." in response.text
    # The page still shows the table, in the default language.
    assert "| Service | Category |" in Boxes(response.text).boxes["table-markdown"]


def test_a_service_name_with_markup_is_inert_in_the_snippet_and_literal_on_the_page(
    app, editor
):
    publish(app, services=[{"name": XSS, "category": "analytics", "cookies": ["_x"]}])

    page = editor.client.get(PAGE).text

    assert XSS not in page
    assert table_rows(page)[0][0] == XSS  # shown as typed
    boxes = Boxes(page).boxes
    # What is copied: escaped, so pasting it into a shop runs nothing.
    for key in ("service-1", "table-html"):
        assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in boxes[key]
        assert "<script>alert" not in boxes[key]


def test_copy_buttons_wait_for_the_script_and_the_code_is_selectable_without_it(
    editor,
):
    page = editor.client.get(PAGE).text

    assert '<script src="/static/admin-copy.js" defer></script>' in page
    assert page.count('<textarea id="') == page.count(" readonly ")
    for button in re.findall(r"<button[^>]*data-copy[^>]*>", page):
        assert " hidden" in button and 'type="button"' in button


def test_the_copy_script_is_served_from_our_origin(client):
    # A static file is streamed from disk: close it when done.
    with client.get("/static/admin-copy.js") as response:
        assert response.status_code == 200
        assert "navigator.clipboard.writeText" in response.text


def test_an_auditor_may_not_see_the_embed_page(app, client):
    make_user(app, "audit@shop.example", "auditor")
    AdminActions(client).login("audit@shop.example")

    response = client.get(PAGE)

    assert response.status_code == 403
    assert "cannot do this" in response.text


def test_the_embed_page_needs_a_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"


def test_an_unknown_site_is_a_plain_404(editor):
    response = editor.client.get("/admin/sites/no-such-shop/embed")

    assert response.status_code == 404
    assert "There is no published site with the id “no-such-shop”." in response.text


# -- in the browser -------------------------------------------------------------


def grant_clipboard(driver, service):
    driver.execute_cdp_cmd(
        "Browser.grantPermissions",
        {
            "origin": service.url,
            "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
        },
    )


READ_CLIPBOARD = """
const done = arguments[arguments.length - 1];
navigator.clipboard.readText().then(done, (e) => done('error: ' + e));
"""


@pytest.mark.browser
def test_copy_by_keyboard_puts_the_snippet_on_the_clipboard(driver, service):
    make_user(service.app, "ed@shop.example", "editor")
    grant_clipboard(driver, service)
    log_in(driver, service, "ed@shop.example")
    load(driver, service.url + PAGE)
    wait_for(driver, "!document.querySelector('#script-tag-copy').hidden")

    # From the box, Tab reaches its Copy button; Enter presses it.
    driver.find_element(By.ID, "script-tag").click()
    driver.switch_to.active_element.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("id") == "script-tag-copy"
    driver.switch_to.active_element.send_keys(Keys.ENTER)

    wait_for(driver, "document.querySelector('#script-tag-status').textContent")
    status = driver.find_element(By.ID, "script-tag-status")
    assert status.text == "Copied" and status.get_attribute("aria-live") == "polite"
    assert driver.execute_async_script(READ_CLIPBOARD) == (
        f'<script src="{service.url}/s/demo/consent.js"></script>'
    )

    # Space works too, on the next block; only its own status speaks.
    driver.find_element(By.ID, "service-1-copy").send_keys(Keys.SPACE)
    wait_for(driver, "document.querySelector('#service-1-status').textContent")
    assert driver.find_element(By.ID, "script-tag-status").text == ""
    assert driver.execute_async_script(READ_CLIPBOARD).startswith(
        "<!-- Google Analytics:"
    )
    assert not [m for m in console(driver) if "Content Security Policy" in m]
    assert {host_of(u) for u in attempts(driver)} == {"127.0.0.1"}


SPY_ALERT = "window.alert = () => { window.alerted = true; };"


@pytest.mark.browser
def test_a_service_name_with_markup_is_shown_as_typed_and_never_runs(driver, service):
    with service.app.app_context():
        sites.publish(
            get_db(),
            {**demo_config(), "services": [{"name": XSS, "category": "analytics"}]},
            published_by="test",
        )
    make_user(service.app, "ed@shop.example", "editor")
    driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": SPY_ALERT}
    )
    log_in(driver, service, "ed@shop.example")
    load(driver, service.url + PAGE)

    cell = driver.find_element(By.CSS_SELECTOR, "#cookie-table tbody th")
    assert cell.text == XSS
    assert (
        driver.find_element(By.ID, "service-1")
        .get_attribute("value")
        .startswith("<!-- &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;:")
    )
    assert driver.execute_script("return window.alerted === undefined")


NO_CLIPBOARD = (
    "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined})"
)


@pytest.mark.browser
def test_without_a_clipboard_the_code_is_selected_to_copy_by_hand(driver, service):
    make_user(service.app, "ed@shop.example", "editor")
    driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": NO_CLIPBOARD}
    )
    log_in(driver, service, "ed@shop.example")
    load(driver, service.url + PAGE)

    driver.find_element(By.ID, "settings-link-copy").send_keys(Keys.ENTER)

    wait_for(driver, "document.querySelector('#settings-link-status').textContent")
    assert driver.find_element(By.ID, "settings-link-status").text == (
        "Selected: press Ctrl+C (or Cmd+C on a Mac) to copy."
    )
    assert driver.switch_to.active_element.get_attribute("id") == "settings-link"
    selected = driver.execute_script(
        "const b = document.activeElement;"
        " return b.value.slice(b.selectionStart, b.selectionEnd);"
    )
    assert selected == '<a href="#" data-consent-open>Cookie settings</a>'


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS, ids=list(WIDTHS))
def test_axe_finds_no_serious_problems_on_the_embed_page(driver, service, width):
    source = axe_source()
    driver.set_window_size(*WIDTHS[width])
    make_user(service.app, "ed@shop.example", "editor")
    grant_clipboard(driver, service)
    log_in(driver, service, "ed@shop.example")
    found = {}

    load(driver, service.url + PAGE)
    driver.find_element(By.ID, "table-html-copy").click()
    wait_for(driver, "document.querySelector('#table-html-status').textContent")
    found["embed, copied"] = page_violations(driver, source)

    load(driver, service.url + PAGE + "?lang=xx")  # an inline error at the field
    wait_for(driver, "document.querySelector('#lang-error') !== null")
    found["embed, wrong language"] = page_violations(driver, source)

    assert found == {name: [] for name in found}
