"""Real-browser harness for the banner tests: servers, Chromium, and what it did.

Loaded as a pytest plugin from conftest.py. Three processes' worth of parts run
in the test process: the consent service (its own port, on 127.0.0.1), a tiny
storefront that serves ``tests/pages/*.html`` (another port, browsed as
``localhost`` so that shop and service are different hosts, as in production),
and headless Chromium driven by Selenium. Every host but the loopback ones
fails to resolve at once, so a tracker never loads, but Chrome's performance
log still shows the attempt: the tests assert on that, on cookies, on the
markers the mocked trackers leave in ``window.ran`` and on the consent log.
"""

import base64
import dataclasses
import json
import os
import secrets
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask, Response, render_template, request
from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    JavascriptException,
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import WSGIRequestHandler, make_server

from consent_server import create_app
from consent_server.cli import init_database
from consent_server.store import sites as store_sites
from consent_server.store.engine import get_db
from tests.helpers import events

HERE = Path(__file__).resolve().parent
PAGES = HERE / "pages"
AXE = HERE.parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
IN_CI = os.environ.get("CI") == "true"

SECRET = "browser-test-key-0123456789"
COOKIE = "cs_consent"
# The hosts the test pages' gated tags point at. None of them resolves here.
TRACKER_HOSTS = (
    "googletagmanager.com",
    "connect.facebook.net",
    "youtube.com",
    "pixel.example",
)
WAIT_SECONDS = 10
# Proving that something did NOT happen needs a moment for it to have had the
# chance; this is that moment, kept short.
SETTLE_SECONDS = 0.5

BANNER = "#consent-banner"
NOTICE = '#consent-banner [data-consent-layer="notice"]'
PREFERENCES = '#consent-banner [data-consent-layer="preferences"]'


def missing(what, reason):
    """Skip a test that lacks a tool; fail it in CI, where nothing may be skipped."""
    if IN_CI:
        pytest.fail(f"CI=true but {what} is missing: {reason}")
    pytest.skip(f"{what} is missing: {reason}")


# -- servers ----------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass


@dataclasses.dataclass
class Server:
    """A WSGI app served from a thread on a free loopback port."""

    app: Flask
    url: str
    _server: object
    _thread: threading.Thread

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def serve(app, host_name="127.0.0.1", ssl_context=None):
    """Serve ``app`` on 127.0.0.1 and name it ``http://HOST_NAME:PORT``.

    With ``ssl_context`` (a certificate and key file), over https.
    """
    server = make_server(
        "127.0.0.1",
        0,
        app,
        threaded=True,
        request_handler=_QuietHandler,
        ssl_context=ssl_context,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if ssl_context else "http"
    return Server(app, f"{scheme}://{host_name}:{server.server_port}", server, thread)


@dataclasses.dataclass
class ConsentService:
    """The consent service under test, on a fresh SQLite database."""

    app: Flask
    url: str

    @property
    def script_url(self):
        return f"{self.url}/s/demo/consent.js"

    @property
    def engine(self):
        return self.app.extensions["consent_db"]


@pytest.fixture
def service(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite'}",
            "SECRET_KEY": SECRET,
            "RATELIMIT_ENABLED": False,
        },
        instance_path=str(tmp_path / "instance"),
    )
    with app.app_context():
        init_database()
    server = serve(app)
    yield ConsentService(app, server.url)
    server.stop()
    app.extensions["consent_db"].dispose()


def storefront_app(service_url):
    """A made-up shop: the test pages, a slow script endpoint, an optional CSP."""
    shop = Flask(__name__, template_folder=str(PAGES), static_folder=None)

    @shop.get("/")
    @shop.get("/<page>")
    def page(page="shop"):
        if not (PAGES / f"{page}.html").is_file():
            return Response("no such page", status=404, mimetype="text/plain")
        nonce = secrets.token_urlsafe(16)
        body = render_template(
            f"{page}.html",
            consent_src=f"{service_url}/s/demo/consent.js",
            nonce=nonce,
            lang=request.args.get("lang"),
        )
        response = Response(body, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
        if request.args.get("csp") == "strict":
            response.headers["Content-Security-Policy"] = (
                f"default-src 'self'; script-src 'nonce-{nonce}';"
                f" style-src 'nonce-{nonce}'; connect-src 'self' {service_url};"
                " img-src 'self'; frame-src 'self'"
            )
        return response

    @shop.get("/tag.js")
    def tag():
        # A third-party tag that takes its time: ordering tests need one that
        # finishes after the inline script written below it would have run.
        time.sleep(int(request.args.get("delay", "0")) / 1000)
        name = json.dumps(request.args.get("name", "tag"))
        return Response(
            f"(window.ran = window.ran || []).push({name});\n",
            mimetype="text/javascript",
        )

    @shop.get("/favicon.ico")
    def favicon():
        return Response(status=204)

    return shop


@dataclasses.dataclass
class Storefront:
    url: str

    def page(self, name="shop", **query):
        """The address of ``tests/pages/NAME.html`` with an optional query."""
        return f"{self.url}/{name}" + (f"?{urlencode(query)}" if query else "")


@pytest.fixture
def storefront(service):
    # Browsed as localhost while the service is 127.0.0.1: two hosts, two
    # origins, and the consent cookie is the shop's first-party cookie.
    server = serve(storefront_app(service.url), host_name="localhost")
    yield Storefront(server.url)
    server.stop()


# -- Chromium -----------------------------------------------------------------


def chrome_options(user_data_dir, language=None, arguments=()):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        f"--user-data-dir={user_data_dir}",
        # Every tracker host fails at once; the attempt still shows in the log.
        # The shop's own subdomains are served here.
        "--host-resolver-rules=MAP *.shop.test 127.0.0.1, MAP * ~NOTFOUND,"
        " EXCLUDE 127.0.0.1, EXCLUDE localhost",
        *arguments,
    ):
        options.add_argument(arg)
    if language:
        options.add_argument(f"--lang={language}")
        options.add_experimental_option(
            "prefs", {"intl.accept_languages": f"{language}-FR,{language}"}
        )
    options.set_capability(
        "goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"}
    )
    return options


GPC_SCRIPT = (
    "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl',"
    " {get: () => true})"
)


@pytest.fixture
def make_browser(tmp_path):
    """Start headless Chromium: ``make_browser(language="fr", gpc=True)``.

    ``arguments`` are more command-line switches.
    """
    for path, name in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromedriver")):
        if not Path(path).exists():
            missing(name, f"install it (Debian: apt-get install {name})")
    started = []

    def make(language=None, gpc=False, arguments=()):
        profile = tmp_path / f"chromium-profile-{len(started)}"
        driver = webdriver.Chrome(
            service=DriverService(CHROMEDRIVER),
            options=chrome_options(profile, language, arguments),
        )
        started.append(driver)
        driver.set_script_timeout(30)
        if gpc:
            # Chromium has no switch for Global Privacy Control: send what a
            # browser with it on sends, the property and the header.
            driver.execute_cdp_cmd(
                "Page.addScriptToEvaluateOnNewDocument", {"source": GPC_SCRIPT}
            )
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd(
                "Network.setExtraHTTPHeaders", {"headers": {"Sec-GPC": "1"}}
            )
        return driver

    yield make
    for driver in started:
        driver.quit()


@pytest.fixture
def driver(make_browser):
    return make_browser()


# -- what the browser did -------------------------------------------------------


def network_events(driver):
    """The ``Network.requestWillBeSent`` events logged since the last call."""
    found = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            found.append(message["params"])
    return found


def attempts(driver):
    """URLs the browser tried to fetch since the last call, CORS preflights left out."""
    return [
        e["request"]["url"]
        for e in network_events(driver)
        if e.get("type") != "Preflight"
        and e["request"]["url"].startswith(("http:", "https:"))
    ]


def host_of(url):
    return urlsplit(url).hostname or ""


def trackers(urls, hosts=TRACKER_HOSTS):
    """The URLs that go to one of ``hosts`` (or a subdomain of one)."""
    return [
        u
        for u in urls
        if any(host_of(u) == h or host_of(u).endswith("." + h) for h in hosts)
    ]


def attempted_hosts(urls):
    """Which of the tracker hosts the URLs reached."""
    return {h for h in TRACKER_HOSTS if trackers(urls, (h,))}


def api_calls(urls, service):
    """The URLs that went to the service's ``/v1/`` API."""
    return [u for u in urls if u.startswith(f"{service.url}/v1/")]


def collect_attempts(driver, until, timeout=WAIT_SECONDS):
    """Gather attempted URLs until ``until(urls)`` holds; return them all."""
    urls = []

    def done(_):
        urls.extend(attempts(driver))
        return until(urls)

    try:
        WebDriverWait(driver, timeout, poll_frequency=0.1).until(done)
    except TimeoutException:
        pytest.fail(f"the browser never made the expected requests; it made {urls}")
    return urls


def console(driver):
    """Browser console messages since the last call."""
    return [e["message"] for e in driver.get_log("browser")]


def ran(driver):
    """The markers the page's (mocked) tags pushed when they ran."""
    return driver.execute_script("return window.ran || []")


def cookie_names(driver):
    """Names of the cookies the storefront page can see."""
    return {c["name"] for c in driver.get_cookies()}


def wait_for(driver, condition, timeout=WAIT_SECONDS, message=None):
    """Wait until the JavaScript expression ``condition`` is truthy; return it.

    ``message`` (a string, or a function called on failure) says what went wrong.
    """
    script = f"return ({condition});"
    try:
        return WebDriverWait(
            driver,
            timeout,
            poll_frequency=0.05,
            # While a page reloads, the old document goes away under us.
            ignored_exceptions=(JavascriptException, StaleElementReferenceException),
        ).until(lambda d: d.execute_script(script))
    except TimeoutException:
        if callable(message):
            message = message()
        pytest.fail(message or f"timed out after {timeout} s waiting for: {condition}")


def wait_until(check, timeout=WAIT_SECONDS, message="condition"):
    """Poll a Python callable until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {message}")
        time.sleep(0.05)


def settle():
    """Give the page a moment in which something it must not do could happen."""
    time.sleep(SETTLE_SECONDS)


def open_page(driver, url):
    """Load a storefront page and wait until the consent script has set up."""
    driver.get(url)
    wait_for(
        driver,
        "document.readyState === 'complete' && !!window.Consent",
        message=f"{url} loaded but window.Consent never appeared",
    )


def mark_document(driver):
    """Tag the current document, so that a reload can be told apart from it."""
    driver.execute_script("window.__old_document = true")


def wait_for_reload(driver):
    """Wait until a new document replaced the one ``mark_document`` tagged."""
    wait_for(
        driver,
        "!window.__old_document && document.readyState === 'complete'"
        " && !!window.Consent",
        message="the page did not reload",
    )


def reload_page(driver):
    """Reload, and wait for the new document (not the old one) to be ready."""
    mark_document(driver)
    driver.refresh()
    wait_for_reload(driver)


SHOWN_LAYER = """
const root = document.querySelector('#consent-banner');
if (!root || root.hidden || !root.getClientRects().length) return null;
const layers = Array.from(root.querySelectorAll('[data-consent-layer]')).filter(
  (el) => !el.hidden && el.getClientRects().length > 0);
return layers.map((el) => el.getAttribute('data-consent-layer')).join(' ') || null;
"""


def shown_layer(driver):
    """Which banner layer is visible: "notice", "preferences" or None."""
    return driver.execute_script(SHOWN_LAYER)


def wait_for_layer(driver, layer):
    try:
        WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.05).until(
            lambda d: shown_layer(d) == layer
        )
    except TimeoutException:
        pytest.fail(
            f"expected the banner's {layer!r} layer; shown: {shown_layer(driver)!r}"
        )


def wait_for_no_banner(driver):
    try:
        WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.05).until(
            lambda d: shown_layer(d) is None
        )
    except TimeoutException:
        pytest.fail(f"the banner stayed open ({shown_layer(driver)!r} layer)")


def find(driver, css):
    try:
        return driver.find_element(By.CSS_SELECTOR, css)
    except NoSuchElementException:
        pytest.fail(f"no element matches {css}")


def click(driver, css):
    """Click the element as a visitor would (wait until it can be clicked)."""
    try:
        WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.05).until(
            lambda d: d.find_element(By.CSS_SELECTOR, css).is_displayed()
        )
    except TimeoutException:
        pytest.fail(f"{css} never became visible")
    find(driver, css).click()


def action(layer, name):
    """The selector of a button in one layer of the banner."""
    return f'{layer} [data-consent-action="{name}"]'


def switch(category):
    return f'{PREFERENCES} input[data-consent-category="{category}"]'


def toggle(driver, category):
    """Flip a category switch by clicking it (or its label, if it is styled over)."""
    element = find(driver, switch(category))
    try:
        element.click()
    except (ElementNotInteractableException, ElementClickInterceptedException):
        label = driver.execute_script("return arguments[0].closest('label')", element)
        if label is None:
            pytest.fail(f"the {category} switch cannot be clicked")
        label.click()


def switch_states(driver):
    """``{category: (checked, disabled)}`` for every switch in the preferences layer."""
    return driver.execute_script(
        f"""return Object.fromEntries(Array.from(
          document.querySelectorAll('{PREFERENCES} input[data-consent-category]'),
          (el) => [el.getAttribute('data-consent-category'),
                   [el.checked, el.disabled]]));"""
    )


def status_text(driver):
    return driver.execute_script(
        "const el = document.querySelector('#consent-banner [role=\"status\"]');"
        " return el ? el.textContent.trim() : null;"
    )


def text_of(driver, css):
    """An element's text as written (CSS may change its case on screen)."""
    return find(driver, css).get_attribute("textContent").strip()


# -- the consent log and the cookie -------------------------------------------


def log_rows(service):
    """Every row of the consent log, oldest first."""
    return events(service.engine)


def wait_for_rows(service, count, timeout=WAIT_SECONDS):
    """Wait until the log holds ``count`` rows (no more); return them."""
    rows = wait_until(
        lambda: (rows := log_rows(service)) and len(rows) >= count and rows,
        timeout,
        message=f"{count} consent log row(s)",
    )
    assert len(rows) == count, rows
    return rows


def choices(row):
    return {
        "preferences": row["preferences"],
        "analytics": row["analytics"],
        "advertising": row["advertising"],
    }


def consent_cookie(driver):
    return driver.get_cookie(COOKIE)


def payload_of(token):
    """The JSON payload of a consent token, read without the secret."""
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def with_payload(token, payload):
    """The same token with its payload replaced and its signature kept."""
    raw = json.dumps(payload, separators=(",", ":")).encode()
    part = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return ".".join([part, *token.split(".")[1:]])


def set_consent_cookie(driver, token):
    """Give the visitor a consent cookie on the storefront (a page must be open)."""
    driver.delete_cookie(COOKIE)
    driver.add_cookie({"name": COOKIE, "value": token, "path": "/"})


def publish(service, ask_again=True, **changes):
    """Publish the demo site's config again with ``changes``; return the new config."""
    with service.app.app_context():
        current = store_sites.current_config(get_db(), "demo")
        doc = current.model_dump(exclude={"revision", "consent_revision"})
        doc.update(changes)
        return store_sites.publish(
            get_db(), doc, published_by="test", ask_again=ask_again
        ).model_dump()


def axe_source():
    if not AXE.exists():
        missing("axe-core", "run `npm install` in the repository root")
    return AXE.read_text(encoding="utf-8")


# -- reporting ------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # On failure, show what the page said: it often names the banner's error.
    if report.when == "call" and report.failed and "driver" in item.funcargs:
        try:
            messages = console(item.funcargs["driver"])
        except WebDriverException as exc:
            messages = [f"(could not read the console: {exc.msg})"]
        if messages:
            report.sections.append(("browser console", "\n".join(messages)))
    return report
