import json
import time

import pytest
from flask import Response
from selenium.webdriver.common.by import By

from consent_server.domain.texts import DEFAULT_TEXTS
from consent_server.tokens import sign_token
from tests.browser import (
    COOKIE,
    NOTICE,
    PREFERENCES,
    SECRET,
    TRACKER_HOSTS,
    action,
    api_calls,
    attempted_hosts,
    attempts,
    choices,
    click,
    collect_attempts,
    consent_cookie,
    console,
    cookie_names,
    find,
    log_rows,
    mark_document,
    network_events,
    open_page,
    payload_of,
    publish,
    ran,
    reload_page,
    set_consent_cookie,
    settle,
    shown_layer,
    status_text,
    switch_states,
    toggle,
    trackers,
    wait_for,
    wait_for_layer,
    wait_for_no_banner,
    wait_for_reload,
    wait_for_rows,
    wait_until,
    with_payload,
)

pytestmark = pytest.mark.browser

EN = DEFAULT_TEXTS["en"]
ALL = {"preferences": True, "analytics": True, "advertising": True}
NONE = {"preferences": False, "analytics": False, "advertising": False}
# What the page's mocked tags push when they run, in document order.
EVERY_TAG = ["analytics", "advertising", "preferences", "analytics+advertising"]
ANALYTICS_HOSTS = {"googletagmanager.com"}
TRACKER_COOKIES = {"_ga", "_ga_ABC123", "_fbp", "shop_lang"}


def accept_all(driver):
    click(driver, action(NOTICE, "accept-all"))


def first_visit(driver, url):
    """Open a page as a new visitor and wait for the banner's first layer."""
    open_page(driver, url)
    wait_for_layer(driver, "notice")


def wait_for_tags(driver, *markers):
    """Wait until the page's mocked tags have left these markers in window.ran."""
    wait_for(
        driver,
        " && ".join(f"(window.ran || []).includes({m!r})" for m in markers),
        message=lambda: f"tags {markers} never ran; ran: {ran(driver)}",
    )


def consent_posts(driver, service):
    """The bodies POSTed to /v1/consent since the network log was last read."""
    return [
        json.loads(e["request"].get("postData") or "null")
        for e in network_events(driver)
        if e["request"]["method"] == "POST"
        and e["request"]["url"] == f"{service.url}/v1/consent"
    ]


def add_gated_tag(driver, category, marker):
    """Add a gated inline tag after load, as a tag manager would."""
    driver.execute_script(
        """
        const s = document.createElement('script');
        s.type = 'text/plain';
        s.setAttribute('data-consent', arguments[0]);
        const marker = JSON.stringify(arguments[1]);
        s.textContent = `(window.ran = window.ran || []).push(${marker})`;
        document.body.append(s);
        """,
        category,
        marker,
    )


def block_recording(driver, blocked):
    """Make POST /v1/consent fail as if the service were down (or not any more)."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.setBlockedURLs", {"urls": ["*/v1/consent*"] if blocked else []}
    )


def block_config(driver, blocked):
    """Make GET /v1/sites/SITE/config fail as if offline (or not any more)."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.setBlockedURLs", {"urls": ["*/v1/sites/*"] if blocked else []}
    )


class _Failing:
    """WSGI middleware: answer some requests with an HTTP error of our choosing."""

    def __init__(self, app):
        self.app = app
        self.statuses = {}

    def __call__(self, environ, start_response):
        status = self.statuses.get((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        if status is None:
            return self.app(environ, start_response)
        # With the CORS header, as the service's own errors have: the page
        # sees the status, not a network failure.
        response = Response(
            json.dumps({"error": {"code": "test", "message": "made to fail"}}),
            status,
            mimetype="application/json",
            headers={"Access-Control-Allow-Origin": environ.get("HTTP_ORIGIN", "*")},
        )
        return response(environ, start_response)


def answer_with(service, method, path, status):
    """Make the service answer ``method path`` with ``status`` (None: as usual).

    What a server under load, or a proxy in front of it, would answer.
    """
    app = service.app
    if not isinstance(app.wsgi_app, _Failing):
        app.wsgi_app = _Failing(app.wsgi_app)
    app.wsgi_app.statuses[(method, path)] = status


def wait_for_status(driver, text):
    """Wait until the banner's status line says ``text``."""
    wait_for(
        driver,
        "(document.querySelector('#consent-banner [role=\"status\"]') || {})"
        f".textContent === {text!r}",
        message=lambda: (
            f"the status never said {text!r}; it says {status_text(driver)!r}"
        ),
    )


def wait_for_posts(driver, service, count):
    """Wait until the page has POSTed ``count`` choices (or more); return them."""
    posts = []
    wait_until(
        lambda: posts.extend(consent_posts(driver, service)) or len(posts) >= count,
        message=f"{count} POST(s) to /v1/consent",
    )
    return posts


def calls_to(urls, service, path):
    """The URLs among ``urls`` that went to ``path`` on the service."""
    return [u for u in urls if u == f"{service.url}{path}"]


def test_harness_sees_what_a_page_does(driver, storefront):
    # Without the banner, a page's own tracker and inline script go ahead, and
    # the harness sees both: the zero counts below are not blind spots.
    driver.get(storefront.page("control"))
    assert trackers(attempts(driver)) == ["https://pixel.example/control.gif"]
    assert ran(driver) == ["inline"]
    console(driver)

    # ?csp=strict sends the strict policy: an inline script without the nonce
    # is blocked and the console says so.
    driver.get(storefront.page("control", csp="strict"))
    assert ran(driver) == []
    assert any("Content Security Policy" in m for m in console(driver))


def test_first_visit_runs_nothing(driver, storefront, service):
    # A new visitor opens a product page and does nothing.
    first_visit(driver, storefront.page())
    settle()

    # The banner asks; no tag has run, nothing was fetched or stored.
    for name in ("accept-all", "reject-all", "customize"):
        assert find(driver, action(NOTICE, name)).is_displayed()
    urls = attempts(driver)
    assert trackers(urls) == []
    assert api_calls(urls, service) == []
    assert ran(driver) == []
    assert driver.get_cookies() == []

    # Customize shows every switch: the necessary ones locked on, none ticked.
    click(driver, action(NOTICE, "customize"))
    wait_for_layer(driver, "preferences")
    assert switch_states(driver) == {
        "authentication": [True, True],
        "security": [True, True],
        "preferences": [False, False],
        "analytics": [False, False],
        "advertising": [False, False],
    }
    settle()
    assert trackers(attempts(driver)) == []
    assert driver.get_cookies() == []
    assert log_rows(service) == []


def test_reject_all_records_and_runs_nothing(driver, storefront, service):
    first_visit(driver, storefront.page())

    # The visitor rejects everything.
    click(driver, action(NOTICE, "reject-all"))
    [row] = wait_for_rows(service, 1)
    assert row["method"] == "reject_all"
    assert choices(row) == NONE
    wait_for_no_banner(driver)

    # The choice is kept in a first-party cookie on the shop.
    wait_for(driver, f"document.cookie.includes('{COOKIE}=')")
    cookie = consent_cookie(driver)
    assert cookie["path"] == "/"
    assert cookie["sameSite"] == "Lax"
    assert cookie["domain"] == "localhost"
    # A refusal is kept for the demo's refusal_days.
    assert abs(cookie["expiry"] - (time.time() + 182 * 86400)) < 3600
    assert payload_of(cookie["value"])["id"] == row["consent_id"]
    settle()
    assert trackers(attempts(driver)) == []
    assert ran(driver) == []

    # On the next page view: no banner, no tag, and no call to the service.
    reload_page(driver)
    settle()
    assert shown_layer(driver) is None
    urls = attempts(driver)
    assert trackers(urls) == []
    assert api_calls(urls, service) == []
    assert ran(driver) == []
    assert len(log_rows(service)) == 1


def test_accept_all_runs_every_tag(driver, storefront, service):
    first_visit(driver, storefront.page())
    assert trackers(attempts(driver)) == []

    # The visitor accepts everything.
    accept_all(driver)
    [row] = wait_for_rows(service, 1)
    assert row["method"] == "accept_all"
    assert choices(row) == ALL
    assert row["origin"] == storefront.url
    assert row["path"] == "/shop"
    assert row["language"] == "en"

    # Every gated tag runs, once, in document order; every tracker is fetched.
    urls = collect_attempts(driver, lambda u: attempted_hosts(u) == set(TRACKER_HOSTS))
    wait_for_tags(driver, *EVERY_TAG)
    assert ran(driver) == EVERY_TAG
    assert "https://www.googletagmanager.com/gtag/js?id=G-TEST" in urls
    assert "https://pixel.example/p.gif" in urls
    assert find(driver, "iframe[data-consent]").get_attribute("src") == (
        "https://www.youtube.com/embed/TEST-VIDEO"
    )
    wait_for_no_banner(driver)
    assert find(driver, "#cs-float").is_displayed()


def test_analytics_only_runs_only_analytics(driver, storefront, service):
    first_visit(driver, storefront.page())

    # Customize, switch analytics on, save.
    click(driver, action(NOTICE, "customize"))
    wait_for_layer(driver, "preferences")
    toggle(driver, "analytics")
    click(driver, action(PREFERENCES, "save"))
    [row] = wait_for_rows(service, 1)
    assert row["method"] == "custom"
    assert choices(row) == {**NONE, "analytics": True}

    # Analytics runs; advertising, and the tag that needs both, do not.
    urls = collect_attempts(driver, lambda u: attempted_hosts(u) == ANALYTICS_HOSTS)
    wait_for_tags(driver, "analytics")
    settle()
    urls += attempts(driver)
    assert attempted_hosts(urls) == ANALYTICS_HOSTS
    assert ran(driver) == ["analytics"]
    assert find(driver, "iframe[data-consent]").get_attribute("src") in (None, "")
    assert {"_ga", "_ga_ABC123"} <= cookie_names(driver)
    assert "_fbp" not in cookie_names(driver)


def test_withdrawing_consent_stops_tags_and_deletes_their_cookies(
    driver, storefront, service
):
    first_visit(driver, storefront.page())
    accept_all(driver)
    [given] = wait_for_rows(service, 1)
    wait_for_tags(driver, *EVERY_TAG)
    wait_for(driver, "document.cookie.includes('_fbp=')")
    assert cookie_names(driver) >= TRACKER_COOKIES

    # The visitor opens the settings from the shop's link and switches all off.
    click(driver, "a[data-consent-open]")
    wait_for_layer(driver, "preferences")
    assert {k: v[0] for k, v in switch_states(driver).items()} == {
        "authentication": True,
        "security": True,
        **ALL,
    }
    for category in ALL:
        toggle(driver, category)
    attempts(driver)
    mark_document(driver)
    click(driver, action(PREFERENCES, "save"))

    # Recorded as a withdrawal of the same visitor's consent.
    rows = wait_for_rows(service, 2)
    assert rows[1]["method"] == "withdraw"
    assert choices(rows[1]) == NONE
    assert rows[1]["consent_id"] == given["consent_id"]

    # The page reloads; the trackers' cookies are gone and nothing runs again.
    wait_for_reload(driver)
    settle()
    names = cookie_names(driver)
    assert names & TRACKER_COOKIES == set()
    assert COOKIE in names
    assert trackers(attempts(driver)) == []
    assert ran(driver) == []
    assert shown_layer(driver) is None


def test_returning_visitor_runs_tags_without_asking(driver, storefront, service):
    first_visit(driver, storefront.page())
    accept_all(driver)
    wait_for_rows(service, 1)
    wait_for_tags(driver, *EVERY_TAG)
    attempts(driver)

    # The visitor comes back to the page.
    open_page(driver, storefront.page())

    # Their tags run at once, with no banner and no request to the service.
    wait_for_tags(driver, *EVERY_TAG)
    assert ran(driver) == EVERY_TAG
    urls = collect_attempts(driver, lambda u: attempted_hosts(u) == set(TRACKER_HOSTS))
    assert shown_layer(driver) is None
    settle()
    urls += attempts(driver)
    assert api_calls(urls, service) == []
    assert len(log_rows(service)) == 1


def test_edited_cookie_counts_as_no_consent(driver, storefront, service):
    first_visit(driver, storefront.page())
    click(driver, action(NOTICE, "reject-all"))
    [genuine_row] = wait_for_rows(service, 1)
    wait_for(driver, f"document.cookie.includes('{COOKIE}=')")
    genuine = consent_cookie(driver)["value"]

    # The visitor edits the payload to allow everything, keeping the signatures.
    edited = with_payload(genuine, {**payload_of(genuine), "choices": ALL})
    set_consent_cookie(driver, edited)
    client = service.app.test_client()
    assert client.post("/v1/consent/verify", json={"token": genuine}).json["valid"]
    verdict = client.post("/v1/consent/verify", json={"token": edited}).json
    assert verdict["reason"] == "bad_signature"

    # The page checks the public-key signature itself (localhost is a secure
    # context): no tag runs, the banner asks, and the server was not asked.
    attempts(driver)
    reload_page(driver)
    wait_for_layer(driver, "notice")
    settle()
    urls = attempts(driver)
    assert trackers(urls) == []
    assert ran(driver) == []
    assert api_calls(urls, service) == []

    # The next choice starts a new history: the edited token is not sent on.
    click(driver, action(NOTICE, "reject-all"))
    rows = wait_for_rows(service, 2)
    [body] = consent_posts(driver, service)
    assert "previous" not in body
    assert rows[1]["consent_id"] != genuine_row["consent_id"]
    wait_for(driver, f"!document.cookie.includes('{COOKIE}={edited}')")
    fresh = consent_cookie(driver)["value"]
    assert payload_of(fresh)["id"] == rows[1]["consent_id"]


def _token(**changes):
    claims = {
        "consent_id": "0b6f3c9e-54a4-4f0e-9d59-2f8ad2c3c001",
        "site": "demo",
        "revision": 1,
        "choices": ALL,
        "expires_at": int(time.time()) + 86400,
    }
    claims.update(changes)
    return sign_token(SECRET, **claims)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_token(expires_at=int(time.time()) - 60), id="expired"),
        pytest.param(_token(site="other-shop"), id="other_site"),
        pytest.param(_token(revision=0), id="old_revision"),
        pytest.param("not-a-consent-token", id="malformed"),
        pytest.param(_token() + ".extra", id="extra_part"),
        pytest.param(
            with_payload(
                _token(),
                {**payload_of(_token()), "choices": dict.fromkeys(ALL, "yes")},
            ),
            id="not_booleans",
        ),
    ],
)
def test_cookie_that_does_not_count_shows_the_banner(driver, storefront, token):
    # The visitor carries a consent cookie that allows everything but cannot
    # be used: expired, for another site or consent revision, or broken.
    open_page(driver, storefront.page())
    set_consent_cookie(driver, token)

    reload_page(driver)

    # They are asked again, and no tag runs.
    wait_for_layer(driver, "notice")
    settle()
    assert trackers(attempts(driver)) == []
    assert ran(driver) == []


def test_new_consent_revision_asks_again(driver, storefront, service):
    first_visit(driver, storefront.page())
    accept_all(driver)
    wait_for_rows(service, 1)
    wait_for_tags(driver, *EVERY_TAG)

    # The shop publishes a new config and asks every visitor again.
    assert publish(service, ask_again=True)["consent_revision"] == 2
    attempts(driver)

    # On the next page view the banner shows again and nothing runs. (The
    # script may come from the browser's cache for up to its max-age; a new
    # page view after that fetches the new revision.)
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    open_page(driver, storefront.page())
    wait_for_layer(driver, "notice")
    settle()
    assert trackers(attempts(driver)) == []
    assert ran(driver) == []

    # The new answer is recorded against the new revision, same visitor.
    click(driver, action(NOTICE, "reject-all"))
    rows = wait_for_rows(service, 2)
    assert rows[1]["consent_revision"] == 2
    assert rows[1]["consent_id"] == rows[0]["consent_id"]


def test_choice_on_a_stale_script_asks_again_with_the_new_texts(
    driver, storefront, service
):
    first_visit(driver, storefront.page())
    # While the visitor reads the banner, the shop asks everyone again with
    # a new title.
    publish(service, ask_again=True, languages={"en": {"title": "Fresh words"}})
    attempts(driver)
    accept_all(driver)

    # The server refuses the stale revision: nothing is recorded or run, and
    # the banner comes back with the current texts.
    wait_for(
        driver, "document.querySelector('#cs-notice')?.textContent === 'Fresh words'"
    )
    settle()
    assert log_rows(service) == []
    assert ran(driver) == []
    assert trackers(attempts(driver)) == []

    accept_all(driver)
    rows = wait_for_rows(service, 1)
    assert (rows[0]["consent_revision"], rows[0]["config_revision"]) == (2, 2)
    wait_for_tags(driver, *EVERY_TAG)


def test_unreachable_server_keeps_tags_off_and_retries(driver, storefront, service):
    first_visit(driver, storefront.page())

    # The consent service cannot be reached when the visitor accepts.
    block_recording(driver, True)
    attempts(driver)
    accept_all(driver)

    # Nothing runs; the banner says it is trying again, and does.
    wait_for(
        driver,
        "(document.querySelector('#consent-banner [role=\"status\"]') || {})"
        f".textContent === {EN['retrying']!r}",
        message=lambda: f"no retry message; the status says {status_text(driver)!r}",
    )
    urls = collect_attempts(
        driver, lambda u: len([x for x in u if x.endswith("/v1/consent")]) >= 2
    )
    assert trackers(urls) == []
    assert ran(driver) == []
    assert consent_cookie(driver) is None
    assert log_rows(service) == []

    # The service is back: the retry records the choice and the tags run.
    block_recording(driver, False)
    [row] = wait_for_rows(service, 1, timeout=15)
    assert row["method"] == "accept_all"
    wait_for_tags(driver, *EVERY_TAG)
    assert consent_cookie(driver) is not None
    wait_for_no_banner(driver)


def test_global_privacy_control_keeps_advertising_off(
    make_browser, storefront, service
):
    driver = make_browser(gpc=True)
    first_visit(driver, storefront.page())
    assert driver.execute_script("return navigator.globalPrivacyControl") is True

    # The visitor, whose browser sends GPC, clicks Accept all.
    accept_all(driver)
    [row] = wait_for_rows(service, 1)
    assert row["gpc"] is True
    assert choices(row) == {**ALL, "advertising": False}

    # Analytics and preferences run; advertising does not.
    urls = collect_attempts(driver, lambda u: attempted_hosts(u) == ANALYTICS_HOSTS)
    wait_for_tags(driver, "analytics", "preferences")
    settle()
    urls += attempts(driver)
    assert attempted_hosts(urls) == ANALYTICS_HOSTS
    assert ran(driver) == ["analytics", "preferences"]

    # The settings show advertising off.
    click(driver, "a[data-consent-open]")
    wait_for_layer(driver, "preferences")
    states = switch_states(driver)
    assert states["advertising"][0] is False
    assert states["analytics"][0] is True


CONSENT_TYPES = (
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
)
DATA_LAYER = """
return JSON.parse(JSON.stringify(Array.from(window.dataLayer || [],
  (e) => (e && typeof e.length === 'number') ? Array.from(e) : e)));
"""


def consent_entries(layer, kind):
    return [i for i, e in enumerate(layer) if e[:2] == ["consent", kind]]


def index_of(layer, *start):
    return next(i for i, e in enumerate(layer) if e[: len(start)] == list(start))


def granted(**categories):
    """The Consent Mode v2 state for the given choices."""
    values = {
        "analytics_storage": categories.get("analytics"),
        "ad_storage": categories.get("advertising"),
        "ad_user_data": categories.get("advertising"),
        "ad_personalization": categories.get("advertising"),
        "functionality_storage": categories.get("preferences"),
        "personalization_storage": categories.get("preferences"),
        "security_storage": True,
    }
    return {k: "granted" if v else "denied" for k, v in values.items()}


def test_consent_mode_default_comes_first_and_updates_follow(
    driver, storefront, service
):
    first_visit(driver, storefront.page())

    # Before any tag: the default, everything denied but security.
    layer = driver.execute_script(DATA_LAYER)
    assert consent_entries(layer, "default") == [0], layer
    default = layer[0][2]
    assert {k: default[k] for k in CONSENT_TYPES} == granted()
    assert index_of(layer, "js") > 0
    assert consent_entries(layer, "update") == []

    # The visitor allows analytics only.
    click(driver, action(NOTICE, "customize"))
    wait_for_layer(driver, "preferences")
    toggle(driver, "analytics")
    click(driver, action(PREFERENCES, "save"))
    wait_for_rows(service, 1)
    wait_for_tags(driver, "analytics")

    # One update with that choice, before the analytics tag ran.
    layer = driver.execute_script(DATA_LAYER)
    [update] = consent_entries(layer, "update")
    assert {k: layer[update][2][k] for k in CONSENT_TYPES} == granted(analytics=True)
    assert update < index_of(layer, "event", "gated_analytics")

    # On the next page: the default first, then the visitor's stored choice,
    # before their tag runs.
    open_page(driver, storefront.page())
    wait_for_tags(driver, "analytics")
    layer = driver.execute_script(DATA_LAYER)
    assert consent_entries(layer, "default") == [0]
    [update] = consent_entries(layer, "update")
    assert {k: layer[update][2][k] for k in CONSENT_TYPES} == granted(analytics=True)
    assert update < index_of(layer, "event", "gated_analytics")


def test_strict_content_security_policy(driver, storefront, service):
    # The banner's look on a page without a policy, to compare with.
    first_visit(driver, storefront.page("strict"))
    look = driver.execute_script(
        "const s = getComputedStyle(document.querySelector('#consent-banner'));"
        " return [s.position, s.zIndex, s.backgroundColor];"
    )

    # On a shop that sends a strict policy (nonces, no inline anything).
    console(driver)
    first_visit(driver, storefront.page("strict", csp="strict"))
    assert (
        driver.execute_script(
            "const s = getComputedStyle(document.querySelector('#consent-banner'));"
            " return [s.position, s.zIndex, s.backgroundColor];"
        )
        == look
    ), "the banner's styles did not apply under the strict policy"

    # The visitor accepts all; the nonce'd gated tag runs and the choice is saved.
    accept_all(driver)
    wait_for_rows(service, 1)
    wait_for_tags(driver, "strict-analytics")
    assert ran(driver) == ["strict-analytics"]
    click(driver, "a[data-consent-open]")
    wait_for_layer(driver, "preferences")

    # The browser blocked nothing.
    violations = [
        m
        for m in console(driver)
        if "Content Security Policy" in m or "Refused to" in m
    ]
    assert violations == []


def test_tags_added_later_are_gated(driver, storefront, service):
    first_visit(driver, storefront.page("late"))

    # The page adds a gated tag and pixel after it loaded: they stay off.
    wait_for(driver, "!!document.querySelector('img[data-src$=\"late.gif\"]')")
    settle()
    assert trackers(attempts(driver)) == []
    assert ran(driver) == []

    # After Accept all they run.
    accept_all(driver)
    wait_for_rows(service, 1)
    wait_for_tags(driver, "late")
    collect_attempts(driver, lambda u: "https://pixel.example/late.gif" in trackers(u))

    # One added after consent runs at once.
    click(driver, "#add")
    wait_for_tags(driver, "after-consent")
    collect_attempts(
        driver, lambda u: "https://pixel.example/after-consent.gif" in trackers(u)
    )
    assert ran(driver) == ["late", "after-consent"]


def test_gated_scripts_run_in_document_order(driver, storefront, service):
    first_visit(driver, storefront.page("order"))
    settle()
    assert not [u for u in attempts(driver) if "/tag.js" in u]

    # A slow external tag, an inline one, a fast external one: after consent
    # they run in the order written, as they would have without the gate.
    accept_all(driver)
    wait_for_rows(service, 1)
    wait_for(driver, "(window.ran || []).length >= 3")
    settle()
    assert ran(driver) == ["first", "second", "third"]


def test_video_placeholder_asks_for_its_category(driver, storefront, service):
    first_visit(driver, storefront.page())

    # Until advertising is allowed the video is a placeholder with a button.
    iframe = find(driver, "iframe[data-consent]")
    assert iframe.get_attribute("src") in (None, "")
    placeholder = find(driver, ".cs-ph")
    assert placeholder.is_displayed()
    assert placeholder.find_element(By.CSS_SELECTOR, "button").is_displayed()

    # The visitor allows it from the placeholder.
    click(driver, ".cs-ph button")
    [row] = wait_for_rows(service, 1)
    assert choices(row) == {**NONE, "advertising": True}

    # The video loads; the placeholder is gone.
    urls = collect_attempts(
        driver, lambda u: "https://www.youtube.com/embed/TEST-VIDEO" in u
    )
    assert "youtube.com" in attempted_hosts(urls)
    assert iframe.get_attribute("src") == "https://www.youtube.com/embed/TEST-VIDEO"
    wait_for(
        driver,
        "!document.querySelector('.cs-ph')"
        " || !document.querySelector('.cs-ph').getClientRects().length",
    )


def test_javascript_api(driver, storefront, service):
    first_visit(driver, storefront.page())
    assert driver.execute_script("return Consent.get()") is None
    assert driver.execute_script("return Consent.allowed('analytics')") is False
    assert driver.execute_script("return Consent.allowed('security')") is True
    driver.execute_script(
        "window.changes = []; window.events = [];"
        " Consent.on('change', (c) => changes.push(c));"
        " document.addEventListener('consent:change', (e) => events.push(e.detail));"
    )

    # The shop's own code records a choice.
    driver.execute_script("Consent.set({analytics: true})")
    [row] = wait_for_rows(service, 1)
    assert row["method"] == "custom"
    assert choices(row) == {**NONE, "analytics": True}
    wait_for(driver, "changes.length === 1 && events.length === 1")
    got = driver.execute_script("return Consent.get()")
    assert got["id"] == row["consent_id"]
    assert got["choices"] == {**NONE, "analytics": True}
    assert got["revision"] == 1
    assert got["time"]
    assert driver.execute_script("return Consent.allowed('analytics')") is True
    wait_for_tags(driver, "analytics")

    # Widening to everything runs the rest, for the same visitor.
    driver.execute_script("Consent.acceptAll()")
    rows = wait_for_rows(service, 2)
    assert rows[1]["method"] == "accept_all"
    assert rows[1]["consent_id"] == row["consent_id"]
    wait_for_tags(driver, *EVERY_TAG)
    wait_for(driver, "changes.length === 2")


def test_every_kind_of_gated_element_waits_and_then_loads(driver, storefront, service):
    hosts = ("fonts.example", "media.example", "embed.example", "pixel.example")
    first_visit(driver, storefront.page("media"))
    settle()
    assert trackers(attempts(driver), hosts) == []

    accept_all(driver)
    wait_for_rows(service, 1)
    expected = {
        "https://fonts.example/shop.css",
        "https://media.example/clip.mp4",
        "https://media.example/poster.jpg",
        "https://media.example/jingle.mp3",
        "https://embed.example/ad.svg",
        "https://pixel.example/a.gif",
    }
    collect_attempts(driver, lambda urls: expected <= set(urls))
    settle()
    assert "no-category" not in ran(driver)
    assert find(driver, "link[data-consent]").get_attribute("href") == (
        "https://fonts.example/shop.css"
    )
    assert find(driver, "img[data-consent]").get_attribute("srcset") == (
        "https://pixel.example/a2.gif 2x"
    )


def test_gpc_sent_only_as_a_header_is_what_the_page_obeys(driver, storefront, service):
    # Some browsers and extensions send Sec-GPC without the script property.
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Sec-GPC": "1"}})
    first_visit(driver, storefront.page())
    accept_all(driver)
    [row] = wait_for_rows(service, 1)
    assert (row["gpc"], row["advertising"]) == (True, False)

    # The page follows what was recorded, not what the button asked for.
    wait_for_tags(driver, "analytics", "preferences")
    settle()
    assert "advertising" not in ran(driver)
    assert driver.execute_script("return Consent.allowed('advertising')") is False
    assert "_fbp" not in cookie_names(driver)


def test_withdrawal_applies_while_the_server_is_unreachable(
    driver, storefront, service
):
    first_visit(driver, storefront.page())
    accept_all(driver)
    wait_for_rows(service, 1)
    wait_for(driver, "Consent.allowed('analytics') === true")

    # The service goes away; the visitor withdraws analytics.
    block_recording(driver, True)
    click(driver, "a[data-consent-open]")
    wait_for_layer(driver, "preferences")
    toggle(driver, "analytics")
    click(driver, action(PREFERENCES, "save"))
    wait_for(driver, "Consent.allowed('analytics') === false")

    # Nothing new of analytics runs meanwhile, and its cookies are gone.
    add_gated_tag(driver, "analytics", "late-after-withdrawal")
    settle()
    assert "late-after-withdrawal" not in ran(driver)
    assert "_ga" not in cookie_names(driver)

    # When the service is back, the withdrawal is recorded and the page reloads.
    mark_document(driver)
    block_recording(driver, False)
    rows = wait_for_rows(service, 2, timeout=15)
    assert rows[1]["method"] == "withdraw" and rows[1]["analytics"] is False
    wait_for_reload(driver)


def test_returning_visitor_can_allow_a_video_from_its_placeholder(
    driver, storefront, service
):
    first_visit(driver, storefront.page())
    click(driver, action(NOTICE, "reject-all"))
    wait_for_rows(service, 1)
    reload_page(driver)
    assert shown_layer(driver) is None

    # No banner was built on this page view; the placeholder still works.
    click(driver, ".cs-ph button")
    rows = wait_for_rows(service, 2)
    assert rows[1]["advertising"] is True and rows[1]["analytics"] is False
    wait_for(driver, "!!document.querySelector('iframe[data-consent]').src")
    driver.execute_script("Consent.set({analytics: true})")
    rows = wait_for_rows(service, 3)
    assert (rows[2]["analytics"], rows[2]["advertising"]) == (True, True)


def test_rejecting_after_ask_again_deletes_what_was_allowed_before(
    driver, storefront, service
):
    first_visit(driver, storefront.page())
    accept_all(driver)
    [given] = wait_for_rows(service, 1)
    wait_for(driver, "document.cookie.includes('_fbp=')")

    publish(service, ask_again=True)
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    open_page(driver, storefront.page())
    wait_for_layer(driver, "notice")
    mark_document(driver)
    click(driver, action(NOTICE, "reject-all"))
    rows = wait_for_rows(service, 2)
    assert rows[1]["consent_id"] == given["consent_id"]
    wait_for_reload(driver)
    assert cookie_names(driver) & TRACKER_COOKIES == set()


def test_after_a_409_the_old_consent_no_longer_counts(driver, storefront, service):
    first_visit(driver, storefront.page())
    accept_all(driver)
    wait_for_rows(service, 1)
    wait_for_tags(driver, *EVERY_TAG)

    # The shop asks everyone again while this page stays open; the next
    # change the page makes is refused as stale.
    publish(service, ask_again=True)
    driver.execute_script("Consent.set({preferences: false})")
    wait_for_layer(driver, "notice")
    assert driver.execute_script("return Consent.allowed('advertising')") is False

    # A tag added now waits for the new answer.
    add_gated_tag(driver, "advertising", "late-ad")
    settle()
    assert "late-ad" not in ran(driver)
    assert len(log_rows(service)) == 1


def test_after_a_409_an_unreachable_config_is_retried(driver, storefront, service):
    # Reproduces: offline after a 409, the banner stayed on "Saving…" for good.
    first_visit(driver, storefront.page())
    publish(service, ask_again=True, languages={"en": {"title": "Fresh words"}})
    # The visitor's connection drops after the choice reaches the service.
    block_config(driver, True)
    attempts(driver)
    accept_all(driver)

    # The banner leaves "Saving…", says it is trying again, and does.
    wait_for_status(driver, EN["retrying"])
    config = "/v1/sites/demo/config"
    urls = collect_attempts(driver, lambda u: len(calls_to(u, service, config)) >= 2)
    assert shown_layer(driver) == "notice"
    assert trackers(urls) == []
    assert ran(driver) == []
    assert consent_cookie(driver) is None
    assert log_rows(service) == []

    # Back online: the banner asks again with the current texts.
    block_config(driver, False)
    wait_for(
        driver,
        "document.querySelector('#cs-notice')?.textContent === 'Fresh words'",
        timeout=15,
    )
    assert status_text(driver) == ""
    accept_all(driver)
    [row] = wait_for_rows(service, 1)
    assert row["consent_revision"] == 2
    wait_for_tags(driver, *EVERY_TAG)


def test_after_a_409_a_config_error_opens_the_banner_and_retries(
    driver, storefront, service
):
    first_visit(driver, storefront.page())
    accept_all(driver)
    wait_for_rows(service, 1)
    wait_for_tags(driver, *EVERY_TAG)
    wait_for_no_banner(driver)

    # The shop asks everyone again; its config answers an error for a while.
    publish(service, ask_again=True, languages={"en": {"title": "Fresh words"}})
    answer_with(service, "GET", "/v1/sites/demo/config", 503)
    driver.execute_script("Consent.set({preferences: false})")

    # The change is refused as stale. The old consent no longer counts, and
    # the visitor, who had no banner open, now sees one that says it retries.
    wait_for_layer(driver, "notice")
    wait_for_status(driver, EN["retrying"])
    assert driver.execute_script("return Consent.allowed('advertising')") is False
    add_gated_tag(driver, "advertising", "late-ad")
    settle()
    assert "late-ad" not in ran(driver)

    # The config answers again: the banner shows its current texts.
    answer_with(service, "GET", "/v1/sites/demo/config", None)
    wait_for(
        driver,
        "document.querySelector('#cs-notice')?.textContent === 'Fresh words'",
        timeout=15,
    )
    assert status_text(driver) == ""
    assert len(log_rows(service)) == 1


def test_a_refused_choice_is_not_retried_but_a_server_error_is(
    driver, storefront, service
):
    # A network failure is retried (test_unreachable_server_keeps_tags_off_and_
    # retries); an HTTP error is retried only when it may pass next time.
    first_visit(driver, storefront.page())
    answer_with(service, "POST", "/v1/consent", 400)
    network_events(driver)
    accept_all(driver)

    # Refused: "Saving…" goes, no retry is promised or made, nothing runs,
    # and the banner stays for the visitor to choose again.
    posts = wait_for_posts(driver, service, 1)
    time.sleep(2.5)  # longer than the first retry's 2 s back-off
    posts += consent_posts(driver, service)
    assert len(posts) == 1
    assert status_text(driver) == ""
    assert shown_layer(driver) == "notice"
    assert ran(driver) == []
    assert consent_cookie(driver) is None

    # A server error may pass next time: the banner says so and retries.
    answer_with(service, "POST", "/v1/consent", 503)
    accept_all(driver)
    wait_for_status(driver, EN["retrying"])
    wait_for_posts(driver, service, 2)
    assert ran(driver) == []
    assert log_rows(service) == []

    answer_with(service, "POST", "/v1/consent", None)
    [row] = wait_for_rows(service, 1, timeout=15)
    assert row["method"] == "accept_all"
    wait_for_tags(driver, *EVERY_TAG)
    wait_for_no_banner(driver)


def test_an_iframe_of_a_hidden_category_does_not_break_the_banner(
    driver, storefront, service
):
    publish(service, ask_again=False, categories=["preferences", "analytics"])
    first_visit(driver, storefront.page())
    accept_all(driver)
    wait_for_rows(service, 1)
    wait_for_tags(driver, "analytics", "preferences")
    assert find(driver, ".cs-ph").is_displayed()


def test_saving_after_a_category_was_hidden_is_recorded_not_refused(
    driver, storefront, service
):
    first_visit(driver, storefront.page())
    accept_all(driver)
    wait_for_rows(service, 1)
    wait_for_tags(driver, *EVERY_TAG)
    # The site stops showing advertising; the visitor keeps what is shown on.
    publish(service, ask_again=False, categories=["preferences", "analytics"])
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    open_page(driver, storefront.page())  # with the new script
    click(driver, "a[data-consent-open]")
    wait_for_layer(driver, "preferences")
    mark_document(driver)
    click(driver, action(PREFERENCES, "save"))

    # Nothing shown was refused: a change, not a withdrawal, and it is kept.
    rows = wait_for_rows(service, 2)
    assert rows[1]["method"] == "custom"
    assert choices(rows[1]) == {**ALL, "advertising": False}
    wait_for_reload(driver)  # advertising's trackers may be running: reload
    assert "_fbp" not in cookie_names(driver)


def test_under_gpc_a_placeholder_opens_the_second_layer(
    make_browser, storefront, service
):
    driver = make_browser(gpc=True)
    first_visit(driver, storefront.page())
    click(driver, action(NOTICE, "reject-all"))
    wait_for_rows(service, 1)

    # "Allow and play" does not switch advertising on by itself under GPC:
    # the visitor decides in the second layer.
    click(driver, ".cs-ph button")
    wait_for_layer(driver, "preferences")
    settle()
    assert len(log_rows(service)) == 1
    toggle(driver, "advertising")
    click(driver, action(PREFERENCES, "save"))
    rows = wait_for_rows(service, 2)
    assert (rows[1]["advertising"], rows[1]["gpc"]) == (True, True)
