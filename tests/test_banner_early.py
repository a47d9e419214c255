"""The banner shows as soon as its script runs, before a late page body.

A shop that sends its <head> at once and renders the rest of the page later
(a slow backend, a streamed template) must not keep its visitors waiting for
the banner, and a tag marked for consent that comes in that late part must
still wait for a choice.
"""

import time

import pytest

from tests.browser import (
    NOTICE,
    action,
    attempts,
    click,
    collect_attempts,
    ran,
    serve,
    settle,
    trackers,
    wait_for,
    wait_for_rows,
)

pytestmark = pytest.mark.browser

# How long the page's body comes after its <head>.
LATE_SECONDS = 1.5
# What the page itself notes: when the banner's first layer is first visible,
# when the body began to arrive, DOMContentLoaded, and every layout shift.
HEAD = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>A shop that sends its body late</title>
  <script src="{script}"></script>
  <script>
    window.seen = {banner: null, body: null, dcl: null, shift: 0};
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (!e.hadRecentInput) seen.shift += e.value;
    }).observe({type: 'layout-shift', buffered: true});
    document.addEventListener('DOMContentLoaded', () => {
      seen.dcl = performance.now();
    });
    (function check() {
      const notice = document.querySelector('{notice}');
      if (notice && notice.getClientRects().length) seen.banner = performance.now();
      else requestAnimationFrame(check);
    })();
  </script>
</head>
"""
BODY = """<body>
  <script>seen.body = performance.now();</script>
  <h1>Linen tea towel</h1>
  <p>Stonewashed linen, 50 × 70 cm.</p>
  <script type="text/plain" data-consent="analytics"
          src="https://www.googletagmanager.com/gtag/js?id=G-LATE"></script>
  <script type="text/plain" data-consent="analytics">
    (window.ran = window.ran || []).push("late-body");
  </script>
  <p>Woven from European flax.</p>
</body>
</html>
"""


def late_page(script_url):
    """A WSGI app: the page's <head> at once, its body LATE_SECONDS later."""

    def app(environ, start_response):
        if environ["PATH_INFO"] != "/":
            start_response("204 No Content", [])
            return [b""]
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Cache-Control", "no-store"),
            ],
        )

        def body():
            yield (
                HEAD.replace("{script}", script_url)
                .replace("{notice}", NOTICE)
                .encode()
            )
            time.sleep(LATE_SECONDS)
            yield BODY.encode()

        return body()

    return app


@pytest.fixture
def late_shop(service):
    server = serve(late_page(service.script_url), host_name="localhost")
    yield server.url + "/"
    server.stop()


def seen(driver):
    return driver.execute_script("return window.seen")


def test_banner_shows_before_a_late_body_and_its_tags_wait(driver, late_shop, service):
    driver.get(late_shop)
    wait_for(driver, "document.readyState === 'complete' && !!window.Consent")
    page = seen(driver)

    # The banner was on screen before the body had come, well before
    # DOMContentLoaded, and nothing on the page moved.
    assert page["banner"] is not None, "the banner never became visible"
    assert page["banner"] < page["body"], page
    assert page["dcl"] - page["banner"] > LATE_SECONDS * 1000 / 2, page
    assert page["shift"] == 0

    # The marked tags of the late body have not run.
    settle()
    assert ran(driver) == []
    assert trackers(attempts(driver)) == []

    # Accept all: they run, and the page still has not moved.
    click(driver, action(NOTICE, "accept-all"))
    wait_for_rows(service, 1)
    urls = collect_attempts(driver, lambda u: bool(trackers(u)))
    assert "https://www.googletagmanager.com/gtag/js?id=G-LATE" in urls
    wait_for(driver, "(window.ran || []).length > 0")
    assert ran(driver) == ["late-body"]
    assert seen(driver)["shift"] == 0


def test_a_choice_made_before_the_body_comes_applies_to_its_tags(
    driver, late_shop, service
):
    # The visitor accepts while the body is still on its way: driven from the
    # page itself, since the browser's automation waits for the page to load.
    driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {
            "source": """
              new MutationObserver((records, observer) => {
                const accept = document.querySelector(
                  '#consent-banner [data-consent-action="accept-all"]');
                if (!accept || document.body) return;
                observer.disconnect();
                window.acceptedEarly = true;
                accept.click();
              }).observe(document, {childList: true, subtree: true});
            """
        },
    )
    driver.get(late_shop)
    wait_for(driver, "document.readyState === 'complete' && !!window.Consent")
    assert driver.execute_script("return window.acceptedEarly") is True
    wait_for_rows(service, 1)

    # The tags that came after the choice run, each once.
    wait_for(driver, "(window.ran || []).length > 0")
    settle()
    assert ran(driver) == ["late-body"]
    assert seen(driver)["shift"] == 0
