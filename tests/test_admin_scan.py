"""The config page's "Scan this site": starting a scan, following it, its report,
and its proposed services becoming a draft.

The real scans run on the made-up storefront of tests/test_scan.py (an
ungated GA4 snippet, a gated Meta Pixel), in a real Chromium whose every
host but the loopback ones fails at once.
"""

import datetime as dt
import html
import json
import re
import socket
import socketserver
import threading
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from consent_server.scan.crawl import Chromium
from consent_server.scan.formats import fix
from consent_server.scan.run import scan
from consent_server.store import accounts, changes, drafts, scans, schema
from consent_server.store.engine import get_db
from consent_server.web.admin import scan_job
from tests import test_scan
from tests.admin_helpers import AdminActions, make_user, rows
from tests.browser import (
    AXE,
    CHROMEDRIVER,
    CHROMIUM,
    IN_CI,
    axe_source,
    missing,
    wait_for,
)
from tests.test_admin_browser import load, log_in, page_violations

# The storefront of the command's tests, and the switches its scans run with.
shop = test_scan.shop
RESOLVE = test_scan.RESOLVE_LOOPBACK_ONLY
SHOP = "http://localhost:5000"  # on the demo site's origins (loopback, any port)
SCAN_WAIT_SECONDS = 120


def start_data(url, pages="1"):
    return {"scan-start_url": url, "scan-pages": pages}


def status(actions, site="demo"):
    answer = actions.client.get(f"/admin/sites/{site}/scan/status")
    assert answer.status_code == 200, answer.text
    return answer.get_json()


def wait_until_finished(actions):
    deadline = time.monotonic() + SCAN_WAIT_SECONDS
    while time.monotonic() < deadline:
        now = status(actions)
        if now["state"] != "running":
            return now
        time.sleep(0.5)
    pytest.fail(f"the scan did not finish within {SCAN_WAIT_SECONDS} s")


def plain(service):
    # A service as the draft keeps it, without the keys it leaves empty.
    return {k: v for k, v in service.items() if v is not None}


def scan_rows(engine):
    return rows(engine, schema.site_scans)


def loopback(*urls):
    # The setting that lets a scan reach these servers on loopback, and no
    # other port there.
    ports = {url.rsplit(":", 1)[1].split("/")[0] for url in urls}
    return [f"{a}:{p}" for a in ("127.0.0.1", "[::1]") for p in sorted(ports)]


@pytest.fixture
def scanning(service, shop):
    # The service's scans resolve only loopback names, as the command's tests.
    # The storefront and the service are on loopback, which a scan may not
    # reach unless allowed, port by port.
    service.app.config.update(
        SCAN_CHROMIUM_ARGS=[RESOLVE],
        SCAN_SECONDS=90,
        SCAN_NETWORKS=loopback(service.url, shop),
        PUBLIC_URL=service.url,
    )
    return service


def logged_in(app, email, role):
    actions = AdminActions(app.test_client())
    make_user(app, email, role)
    assert actions.login(email).status_code == 302
    return actions


@pytest.fixture
def editor(app):
    # The service's address as the operator sets it, without which the config
    # page scans nothing.
    app.config["PUBLIC_URL"] = "http://localhost"
    return logged_in(app, "ed@shop.example", "editor")


@pytest.mark.browser
def test_an_editor_scans_the_site_and_sees_what_the_command_reports(
    shop, scanning, driver
):
    service = scanning
    leaky = f"{shop}/scan/leaky"
    make_user(service.app, "ed@shop.example", "editor")
    other = logged_in(service.app, "anna@shop.example", "editor")
    auditor = logged_in(service.app, "audit@shop.example", "auditor")

    # axe-core checks the page in each state, where it is installed (CI
    # needs it); the scan's own checks run either way.
    found = {}

    def check(state):
        if AXE.exists() or IN_CI:
            found[state] = page_violations(driver, axe_source())

    # The editor starts the scan from the site's page, in a browser.
    log_in(driver, service, "ed@shop.example")
    load(driver, service.url + "/admin/sites/demo/")
    check("site")
    url = driver.find_element(By.ID, "scan-start_url")
    url.clear()
    url.send_keys(leaky)
    pages = driver.find_element(By.ID, "scan-pages")
    pages.clear()
    pages.send_keys("1")
    driver.find_element(By.ID, "start-scan").click()
    wait_for(driver, "document.querySelector('#scan-progress') !== null")
    check("site, scanning")

    # While it runs, a second start (another editor's) is refused inline.
    running = status(other)
    assert running["state"] == "running" and running["start_url"] == leaky
    again = other.post("/admin/sites/demo/scan", start_data(leaky))
    assert again.status_code == 409
    assert "A scan of this site is running already" in again.text
    assert [r["run"] for r in scan_rows(service.engine)] == [
        scan_rows(service.engine)[0]["run"]
    ]

    # The page's script follows it and shows the report when it is done.
    finished = wait_until_finished(other)
    assert finished["state"] == "done", finished
    assert (finished["pages_done"], finished["pages_planned"]) == (1, 1)
    assert finished["visits_done"] == 3
    wait_for(
        driver,
        "document.querySelector('#scan-report-heading') !== null",
        timeout=15,
    )
    check("site with a report")
    assert found == {k: [] for k in found}

    # Its Reject all and Accept all are scan events, sent with a token made
    # for this scan alone and revoked when it ended.
    events = rows(service.engine, schema.consent_events)
    assert sorted(e["method"] for e in events) == ["accept_all", "reject_all"]
    assert all(e["scan"] is True for e in events)
    tokens = rows(service.engine, schema.api_tokens)
    assert [(t["name"], t["scope"]) for t in tokens] == [
        ("config-page scan of demo", "scan")
    ]
    assert tokens[0]["revoked_at"] is not None
    made = [
        (c["actor"], c["action"])
        for c in rows(service.engine, schema.account_changes)
        if c["target"] == "config-page scan of demo"
    ]
    assert made == [
        ("ed@shop.example", "token.create"),
        ("ed@shop.example", "token.revoke"),
    ]

    # The same leaks as the scanner reports for that page, each with its fix.
    expected = scan(
        leaky, Chromium(CHROMIUM, CHROMEDRIVER, (RESOLVE,)), pages=0, site="demo"
    )
    assert expected.leaks
    stored = json.loads(scan_rows(service.engine)[0]["report"])
    assert [(i["kind"], i["name"], i["leaked_on"]) for i in stored["leaks"]] == [
        (i.kind, i.name, i.leaked_on) for i in expected.leaks
    ]
    page = other.client.get("/admin/sites/demo/").text
    leaks = page[page.index('id="scan-leaks"') : page.index('id="scan-undeclared"')]
    assert "<script" not in leaks  # the fixes' markup is shown as text
    leaks = html.unescape(leaks)
    for item in expected.leaks:
        assert item.name in leaks and fix(item) in leaks
    assert f"<code>{leaky}</code>" in leaks
    assert "https://www.googletagmanager.com/gtag/js?id=G-LEAK" in leaks
    assert "an inline script of" in leaks  # where the _ga cookie came from
    assert "recorded in the consent log as scan events" in page
    # What Chromium connects to by itself (updates, sign-in) is refused too,
    # but is not the page's doing: the report does not blame the shop for it.
    assert not [n for n in stored["notes"] if "update.googleapis.com" in n]
    # Leaks first; then what is undeclared and unused.
    assert page.index('id="scan-leaks"') < page.index('id="scan-undeclared"')
    assert page.index('id="scan-undeclared"') < page.index('id="scan-unused"')

    # An auditor reads the report, and cannot start a scan or use it.
    report = auditor.client.get("/admin/scans/demo/")
    assert report.status_code == 200 and 'id="scan-leaks"' in report.text
    assert 'id="scan-form"' not in report.text
    assert 'id="use-proposed"' not in report.text
    assert auditor.post("/admin/sites/demo/scan", start_data(leaky)).status_code == 403
    assert auditor.post("/admin/sites/demo/scan/propose").status_code == 403

    # The proposed services become the draft's, beside the declared ones;
    # nothing is published.
    before = other.client.get("/v1/sites/demo/config").get_json()
    assert other.post("/admin/sites/demo/scan/propose").status_code == 302
    with service.app.app_context():
        draft = drafts.get_draft(get_db(), "demo")
    assert draft is not None
    proposed = stored["proposed"]["services"]
    services = [plain(s) for s in draft.document["services"]]
    assert services[:2] == [plain(s) for s in before["services"]]
    assert services[:2] == test_scan.DECLARED
    assert services == [plain(s) for s in proposed]
    assert "Google Analytics" in [s["name"] for s in services]
    assert other.client.get("/v1/sites/demo/config").get_json() == before
    # Used once, there is nothing more to add.
    assert 'id="use-proposed"' not in other.client.get("/admin/sites/demo/").text


class _Heard(socketserver.BaseRequestHandler):
    # One connection: what it asked for ("/hit?popup"), "tls" or "other" for
    # bytes that are not plain http, "connect" for none (a preconnect).
    def handle(self):
        self.request.settimeout(3)
        try:
            data = self.request.recv(65536)
        except OSError:
            data = b""
        words = data.split(b"\r\n", 1)[0].split(b" ")
        if len(words) == 3 and words[2].startswith(b"HTTP/"):
            self.server.heard.append(words[1].decode("latin-1"))
            self.request.sendall(
                b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
            )
        else:
            self.server.heard.append("connect" if not data else "other")


@pytest.fixture
def canary():
    # Two servers on a name that is none of the site's origins, and every
    # connection made to them: one answers requests, the other is only ever
    # preconnected to.
    heard = []
    servers = []
    for _ in range(2):
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Heard)
        server.daemon_threads = True
        server.heard = heard
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    # And a UDP socket, for WebRTC's STUN requests: a datagram is a "udp".
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.2)
    listening = threading.Event()
    listening.set()

    def datagrams():
        while listening.is_set():
            try:
                udp.recv(65536)
            except OSError:
                continue
            heard.append("udp")

    threading.Thread(target=datagrams, daemon=True).start()
    yield [*(s.server_address[1] for s in servers), udp.getsockname()[1]], heard
    listening.clear()
    for server in servers:
        server.shutdown()
        server.server_close()
    udp.close()


@pytest.mark.browser
def test_the_config_page_scan_sends_nothing_outside_the_site_origins(
    shop, scanning, canary
):
    service = scanning
    editor = logged_in(service.app, "ed@shop.example", "editor")
    (port, quiet, udp), heard = canary
    resolve = RESOLVE.replace("MAP *", "MAP canary.shop.test 127.0.0.1, MAP *")
    service.app.config.update(SCAN_CHROMIUM_ARGS=[resolve])
    page = f"{shop}/scan/reach?canary={port}&quiet={quiet}&udp={udp}"
    started = editor.post("/admin/sites/demo/scan", start_data(page))
    assert started.status_code == 302, started.text
    assert wait_until_finished(editor)["state"] == "done"
    # The canary heard nothing, not even a connection; the request is still
    # in the report, counted from the browser's log, before any choice as
    # after each.
    assert heard == []
    report = json.loads(scan_rows(service.engine)[0]["report"])
    [seen] = [i for i in report["undeclared"] if i["name"] == "canary.shop.test"]
    assert set(seen["seen"]) == {"before", "rejected", "accepted"}
    assert any("counted but never sent" in n for n in report["notes"])
    # The command line's scan, run by the shop itself, follows them all, but
    # a window the page opens by itself (window.open, a form sent to a new
    # window): the scan's browser blocks popups, as a visitor's does.
    scan(page, Chromium(CHROMIUM, CHROMEDRIVER, (resolve,)), pages=0)
    assert "/hit?popup" not in heard and "/hit?form" not in heard
    assert set(heard) >= {
        "/hit",
        "/hit?worker",
        "/hit?sharedworker",
        "/hit?serviceworker",
        "/hit?frame",
        "/hit?socket",
        "/hit?redirect",
        "/hit?beacon",
        "/hit?events",
        "udp",
        "connect",
    }, heard


@pytest.mark.parametrize(
    "url",
    (
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "https://evil.example/",
        "http://localhost:5000@evil.example/",
        "http://localhost:5000\\@evil.example/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "localhost:5000/",
        "",
    ),
)
def test_an_address_outside_the_allowed_origins_is_refused(app, editor, url):
    answer = editor.post("/admin/sites/demo/scan", start_data(url))
    assert answer.status_code == 400
    assert 'id="scan-start_url-error"' in answer.text
    assert scan_rows(app.extensions["consent_db"]) == []


def test_the_number_of_pages_is_bounded(app, editor):
    for pages in ("0", "21", "many"):
        answer = editor.post("/admin/sites/demo/scan", start_data(SHOP, pages))
        assert answer.status_code == 400
        assert 'id="scan-pages-error"' in answer.text
    assert scan_rows(app.extensions["consent_db"]) == []


def test_more_pages_than_the_time_bound_fits_are_refused_inline(app, editor):
    # Some 20 s a page: a scan bounded to 60 s would stop after 3 pages.
    app.config["SCAN_SECONDS"] = 60
    answer = editor.post("/admin/sites/demo/scan", start_data(SHOP, "4"))
    assert answer.status_code == 400
    assert 'id="scan-pages-error"' in answer.text
    assert "stops a scan after 60 seconds" in answer.text
    assert "choose at most 3" in answer.text
    assert scan_rows(app.extensions["consent_db"]) == []


def test_a_second_start_while_a_scan_runs_is_refused(app, editor):
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            missing(path, "install chromium and chromium-driver")
    with app.app_context():
        run = scans.start(get_db(), "demo", SHOP + "/", 5, "anna@shop.example", 600)
    answer = editor.post("/admin/sites/demo/scan", start_data(SHOP + "/other"))
    assert answer.status_code == 409
    assert 'id="scan-message"' in answer.text
    assert "started by anna@shop.example" in answer.text
    [row] = scan_rows(app.extensions["consent_db"])
    assert (row["run"], row["start_url"]) == (run, SHOP + "/")
    # The page shows it running, with a progress bar the script can follow.
    page = editor.client.get("/admin/sites/demo/").text
    assert 'data-status-url="/admin/sites/demo/scan/status"' in page
    assert 'id="scan-form"' not in page


def test_a_scan_past_its_time_bound_no_longer_holds_the_site(app):
    with app.app_context():
        conn = get_db()
        old = scans.start(conn, "demo", SHOP + "/", 5, "anna@shop.example", 600)
        # Its process died: the row is still "running", with its bound behind it.
        conn.execute(
            schema.site_scans.update().values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            )
        )
        conn.commit()
        gone = scans.latest(conn, "demo")
        assert (gone.state, gone.error) == ("failed", scans.OVERDUE)
        new = scans.start(conn, "demo", SHOP + "/", 5, "ed@shop.example", 600)
        assert new != old
        # The old worker, were it still going, can no longer write.
        assert not scans.finish(conn, "demo", old, "{}")
        assert scans.latest(conn, "demo").state == "running"
        with pytest.raises(scans.ScanRunning):
            scans.start(conn, "demo", SHOP + "/", 5, "ed@shop.example", 600)


def test_a_scan_token_left_live_by_a_stopped_scan_goes_with_the_next(app, consent):
    ed = changes.Actor(None, "ed@shop.example")
    with app.app_context():
        conn = get_db()
        # The first scan's process stopped: its token was never revoked.
        left = scan_job.scan_token(conn, "demo", ed, 300)
        new = scan_job.scan_token(conn, "demo", ed, 300)
        assert accounts.find_token(conn, left) is None
        found = accounts.find_token(conn, new)
    assert (found.scope, found.site) == ("scan", "demo")
    # It works for the scan's bound at most, even if nothing revokes it.
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=300)
    assert soon - dt.timedelta(seconds=5) < found.expires_at <= soon
    headers = {"Authorization": f"Bearer {left}"}
    assert consent.post(headers=headers).status_code == 401
    recorded = consent.post(headers={"Authorization": f"Bearer {new}"})
    assert recorded.status_code == 201
    assert consent.verify(recorded.get_json()["token"]).get_json()["reason"] == "scan"
    with app.app_context():
        conn = get_db()
        conn.execute(
            schema.api_tokens.update()
            .where(schema.api_tokens.c.id == found.id)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        conn.commit()
    expired = consent.post(headers={"Authorization": f"Bearer {new}"})
    assert expired.status_code == 401
    assert "has expired" in expired.get_json()["error"]["message"]


def test_a_missing_chromium_is_said_inline(app, editor, tmp_path):
    app.config["SCAN_CHROMIUM"] = str(tmp_path / "no-chromium")
    answer = editor.post("/admin/sites/demo/scan", start_data(SHOP + "/"))
    assert answer.status_code == 503
    assert 'id="scan-message"' in answer.text
    assert (
        f"The scan cannot run on this server: Chromium is not at"
        f" {tmp_path / 'no-chromium'}: install it (Debian: apt-get install"
        " chromium) or set CONSENT_SCAN_CHROMIUM."
    ) in html.unescape(answer.text)
    assert scan_rows(app.extensions["consent_db"]) == []


def test_an_auditor_cannot_start_a_scan(app):
    auditor = logged_in(app, "audit@shop.example", "auditor")
    answer = auditor.post("/admin/sites/demo/scan", start_data(SHOP + "/"))
    assert answer.status_code == 403
    assert scan_rows(app.extensions["consent_db"]) == []
    assert status(auditor) == {"state": "none"}
    page = auditor.client.get("/admin/scans/demo/")
    assert page.status_code == 200 and "not been scanned yet" in page.text
    assert 'id="scan-form"' not in page.text
    assert "/admin/scans/demo/" in auditor.client.get("/admin/scans/").text


def test_the_status_endpoint_needs_login(client):
    answer = client.get("/admin/sites/demo/scan/status")
    assert answer.status_code == 401
    assert "state" not in answer.get_json()


def test_a_site_never_published_cannot_be_scanned(app, editor):
    made = editor.post(
        "/admin/sites/",
        {
            "site": "newshop",
            "default_language": "en",
            "policy_url": "https://new.example/privacy",
            "origin": "https://new.example",
        },
    )
    assert made.status_code == 302
    page = editor.client.get("/admin/sites/newshop/").text
    assert 'id="scan-unpublished"' in page and 'id="scan-form"' not in page
    answer = editor.post(
        "/admin/sites/newshop/scan", start_data("https://new.example/")
    )
    assert answer.status_code == 400
    assert "Publish the site first" in answer.text
    assert scan_rows(app.extensions["consent_db"]) == []


def test_proposed_services_without_a_finished_scan_change_nothing(app, editor):
    assert editor.post("/admin/sites/demo/scan/propose").status_code == 302
    with app.app_context():
        assert drafts.get_draft(get_db(), "demo") is None


@pytest.mark.browser
def test_a_shop_on_a_network_the_scan_may_not_reach_is_not_scanned(shop, scanning):
    # The demo site allows loopback origins, as a site may list an internal
    # host; the server's browser still reaches none unless the operator
    # allowed that network.
    service = scanning
    service.app.config["SCAN_NETWORKS"] = []
    editor = logged_in(service.app, "ed@shop.example", "editor")
    started = editor.post("/admin/sites/demo/scan", start_data(f"{shop}/scan/clean"))
    assert started.status_code == 302, started.text
    finished = wait_until_finished(editor)
    assert finished["state"] == "failed"
    port = shop.rsplit(":", 1)[1]
    [row] = scan_rows(service.engine)
    assert row["error"] == (
        f"{shop}/scan/clean cannot be scanned: the scan's proxy refused to"
        f" connect to localhost:{port}: 127.0.0.1 is on a network this server's"
        " scans may not reach (the operator may allow it: CONSENT_SCAN_NETWORKS)"
    )
    page = editor.client.get("/admin/sites/demo/").text
    assert "CONSENT_SCAN_NETWORKS" in html.unescape(page)


@pytest.mark.browser
def test_a_page_that_holds_the_browser_cannot_keep_a_scan_past_its_bound(
    shop, scanning
):
    # The page's synchronous request holds every WebDriver command for five
    # minutes; the config page's scans may take 10 s.
    service = scanning
    service.app.config["SCAN_SECONDS"] = 10
    editor = logged_in(service.app, "ed@shop.example", "editor")
    began = time.monotonic()
    started = editor.post("/admin/sites/demo/scan", start_data(f"{shop}/scan/stall"))
    assert started.status_code == 302, started.text
    finished = wait_until_finished(editor)
    # Done well within the row's bound (the scan's plus its grace), so the
    # site and the server's scan places are free again, with no browser left.
    assert time.monotonic() - began < 10 + scan_job.GRACE_SECONDS / 2
    assert finished["state"] == "done" and finished["leaks"] == 0
    assert test_scan.scan_browsers() == []
    [row] = scan_rows(service.engine)
    report = json.loads(row["report"])
    assert report["ok"] is False
    assert report["problems"] == [
        "the scan stopped at its time bound (10 s) during a visit of"
        f" {shop}/scan/stall (before a choice)"
    ]
    page = html.unescape(editor.client.get("/admin/sites/demo/").text)
    words = re.sub(r"<[^>]+>", "", page)
    assert "No leaks seen: but the scan met the problems above" in words
    assert "No leaks: nothing" not in words
    again = editor.post("/admin/sites/demo/scan", start_data(f"{shop}/scan/clean"))
    assert again.status_code == 302, again.text
    assert wait_until_finished(editor)["state"] == "done"


@pytest.fixture
def launched(app, monkeypatch):
    # The scans the config page starts, kept instead of run.
    jobs = []
    monkeypatch.setattr(scan_job, "launch", jobs.append)
    app.config["PUBLIC_URL"] = "https://consent.shop.example"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            missing(path, "install chromium and chromium-driver")
    return jobs


def editor_on(app, host):
    # An editor whose every request names ``host`` in its Host header.
    client = app.test_client()
    opened = client.open

    def open_on_host(*args, **kwargs):
        kwargs.setdefault("base_url", f"http://{host}/")
        return opened(*args, **kwargs)

    client.open = open_on_host
    actions = AdminActions(client)
    make_user(app, "ed@shop.example", "editor")
    assert actions.login("ed@shop.example").status_code == 302
    return actions


def test_without_a_public_address_the_config_page_scans_nothing(app, launched):
    # The address a request came to is its Host header, which the client
    # chooses: the scan's token must not go wherever that names.
    app.config["PUBLIC_URL"] = None
    editor = editor_on(app, "127.0.0.1:9999")
    answer = editor.post("/admin/sites/demo/scan", start_data(SHOP + "/"))
    assert answer.status_code == 503
    assert "until the operator sets this service's public address" in html.unescape(
        answer.text
    )
    assert "CONSENT_PUBLIC_URL" in answer.text
    assert launched == []
    assert scan_rows(app.extensions["consent_db"]) == []
    with app.app_context():
        assert [t for t in accounts.list_tokens(get_db()) if t.scope == "scan"] == []


def test_the_configured_public_address_is_the_scans_service(app, launched):
    app.config["PUBLIC_URL"] = "https://consent.shop.example/"
    editor = editor_on(app, "internal.example:8080")
    answer = editor.post("/admin/sites/demo/scan", start_data(SHOP + "/"))
    assert answer.status_code == 302, answer.text
    [job] = launched
    # The token goes there only, and its address is the operator's choice.
    assert job.service == "https://consent.shop.example"
    assert job.policy.trusted == frozenset({("consent.shop.example", 443)})
    assert job.policy.reaches("https://consent.shop.example/v1/consent")
    assert not job.policy.reaches("http://internal.example:8080/v1/consent")
    assert not job.policy.tunnels("internal.example", 8080)
    # The embed snippet names it too, whatever the request's host.
    page = editor.client.get("/admin/sites/demo/embed").text
    assert "https://consent.shop.example/s/demo/consent.js" in page
    assert "internal.example" not in page


@pytest.mark.parametrize(
    ("name", "value", "said"),
    (
        ("SCAN_NETWORKS", "10.0.0.0/8", "must be a JSON list of networks"),
        ("SCAN_NETWORKS", ["10.0.0.0/33"], "'10.0.0.0/33' is not a network"),
        ("SCAN_NETWORKS", ["127.0.0.0/8"], "loopback is allowed by address and port"),
        ("PUBLIC_URL", "consent.shop.example", "must be this service's address"),
        ("PUBLIC_URL", "https://consent.shop.example/c", "(no path)"),
        ("PUBLIC_URL", "https://u@consent.shop.example", "(no path)"),
        ("PUBLIC_URL", 8080, "must be this service's address"),
        ("SCAN_CONCURRENCY", 0, "must be a whole number of scans at once, 1 to 16"),
        ("SCAN_CONCURRENCY", "2", "must be a whole number of scans at once"),
    ),
)
def test_a_bad_scan_setting_is_refused_at_start(tmp_path, name, value, said):
    from consent_server import create_app
    from consent_server.web.settings import BadSetting
    from tests.conftest import SECRET

    with pytest.raises(BadSetting, match=f"^CONSENT_{name}: ") as refused:
        create_app({"SECRET_KEY": SECRET, name: value}, instance_path=str(tmp_path))
    assert said in str(refused.value)


def test_the_server_runs_a_bounded_number_of_scans_at_once(app, editor, launched):
    from consent_server.domain.demo_site import demo_config

    app.config["SCAN_CONCURRENCY"] = 1
    with app.app_context():
        conn = get_db()
        drafts.create_site(
            conn, {**demo_config(), "site": "other"}, changes.COMMAND_LINE
        )
        scans.start(conn, "other", SHOP + "/", 5, "anna@shop.example", 600, at_once=1)
    answer = editor.post("/admin/sites/demo/scan", start_data(SHOP + "/"))
    assert answer.status_code == 503
    assert 'id="scan-message"' in answer.text
    assert (
        "1 scans are running on this server already, the most it runs at once"
    ) in html.unescape(answer.text)
    assert launched == []
    assert [r["site"] for r in scan_rows(app.extensions["consent_db"])] == ["other"]
    # Once that scan is past its bound, the slot is free again.
    with app.app_context():
        conn = get_db()
        conn.execute(
            schema.site_scans.update().values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            )
        )
        conn.commit()
    answer = editor.post("/admin/sites/demo/scan", start_data(SHOP + "/"))
    assert answer.status_code == 302, answer.text
    assert len(launched) == 1


def test_a_report_too_big_to_keep_lists_fewer_items(monkeypatch):
    from consent_server.scan.crawl import Cookie, Crawl, Visit
    from consent_server.scan.report import build_report

    visit = Visit("http://localhost:5000/", "before")
    visit.cookies = [
        Cookie(f"_ga_{n:04}", "localhost", True, 400.0, "") for n in range(600)
    ]
    report = build_report(Crawl("http://localhost:5000/", [visit]), [], "demo", None)
    assert report.not_listed == {"cookie": 100}
    monkeypatch.setattr(scan_job, "MAX_REPORT", 200_000)
    kept = json.loads(scan_job.kept_report(report))
    assert len(kept["seen"]) < 500
    assert len(json.dumps(kept)) <= 200_000 * 1.1
    # Every cookie is a leak: the count of those not listed is still told.
    assert kept["not_listed"]["cookie"] == 600 - len(kept["seen"])
    assert any(
        f"{600 - len(kept['seen']) - 100:,} more were seen" in n
        and "of them leaks" in n
        for n in kept["notes"]
    )


def test_a_tunnel_to_the_service_only_when_it_is_on_https():
    # Over http the banner's requests are plain ones, whose paths are checked;
    # a tunnel there would be a WebSocket to any path of the service.
    origins = ["https://shop.example"]
    assert not scan_job.tunnels(origins, "http://consent.example:8080")(
        "consent.example", 8080
    )
    assert scan_job.tunnels(origins, "https://consent.example")("consent.example", 443)
    assert scan_job.tunnels(origins, "http://consent.example")("shop.example", 443)
    assert not scan_job.tunnels(origins, "http://consent.example")("shop.example", 80)
    # Not even when the site's origins cover the service's (the demo's
    # http://127.0.0.1:* holds the service on 127.0.0.1:5079).
    loopback = ["http://127.0.0.1:*"]
    to_service = scan_job.tunnels(loopback, "http://127.0.0.1:5079")
    assert not to_service("127.0.0.1", 5079)
    assert to_service("127.0.0.1", 5080)
