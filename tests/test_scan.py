"""`consent-server scan` on made-up storefront pages (tests/pages/scan/).

The pages are served on loopback next to the consent service; every other
host fails to resolve at once, as in the banner tests, so the trackers never
load but Chrome's performance log still shows each attempt.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask, Response, render_template, request

from consent_server.cli import main
from consent_server.domain.demo_site import demo_config
from consent_server.domain.site_config import Service, validate_config
from consent_server.scan.classify import Classifier
from consent_server.scan.crawl import MAX_PER_VISIT, Crawl, Request, Visit
from consent_server.scan.formats import as_html, as_json, as_text
from consent_server.scan.report import MAX_ITEMS, build_report
from consent_server.store import accounts, stats
from consent_server.store.engine import get_db
from tests.browser import CHROMEDRIVER, CHROMIUM, missing, publish, serve, wait_for_rows

PAGES = Path(__file__).resolve().parent / "pages" / "scan"
# The ad frame's site is another name of the shop's server.
FRAMES = "frames.shop.test"
RESOLVE_LOOPBACK_ONLY = (
    f"--host-resolver-rules=MAP {FRAMES} 127.0.0.1, MAP * ~NOTFOUND,"
    " EXCLUDE 127.0.0.1, EXCLUDE localhost"
)
# What the test site declares: the Meta Pixel that the pages load, and a video
# service they never use. Google Analytics is left out, so that the scan has
# to know it from the Open Cookie Database.
DECLARED = [
    {
        "name": "Meta Pixel",
        "category": "advertising",
        "cookies": ["_fbp", "fr"],
        "hosts": ["connect.facebook.net"],
    },
    {
        "name": "YouTube",
        "category": "advertising",
        "cookies": ["YSC"],
        "hosts": ["*.youtube.com"],
    },
]


@pytest.fixture
def shop(service):
    for path, name in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromedriver")):
        if not Path(path).exists():
            missing(name, f"install it (Debian: apt-get install {name})")
    publish(service, ask_again=False, services=DECLARED)
    app = Flask(__name__, template_folder=str(PAGES), static_folder=None)

    @app.get("/scan/<name>")
    def page(name):
        if not (PAGES / f"{name}.html").is_file():
            return Response("no such page", status=404)
        frame = f"http://{FRAMES}:{request.host.rsplit(':', 1)[1]}/scan/frame"
        return render_template(
            f"{name}.html", consent_src=service.script_url, frame_src=frame
        )

    @app.get("/scan/away")
    def away():
        # The shop's own address, sending the browser on elsewhere.
        return Response(status=302, headers={"Location": request.args["to"]})

    @app.get("/scan/endless")
    def endless():
        # A file that goes on for as long as it is read, 64 KB at a time.
        def body():
            for _ in range(100_000):
                yield b"\0" * 65536

        return Response(
            body(),
            mimetype="application/octet-stream",
            headers={"Content-Disposition": 'attachment; filename="blanket.bin"'},
        )

    @app.get("/scan/trickle")
    def trickle():
        # An answer that never ends: a byte a second for five minutes.
        def body():
            for _ in range(300):
                yield b" "
                time.sleep(1)

        return Response(body(), mimetype="text/plain")

    @app.get("/scan/<name>.js")
    def script(name):
        if not (PAGES / f"{name}.js").is_file():
            return Response("no such script", status=404)
        body = (PAGES / f"{name}.js").read_text()
        return Response(body, mimetype="text/javascript")

    to_shop = heard(app)
    server = serve(app, host_name="localhost")
    yield server.url
    server.stop()
    # The storefront never gets the scan's token, whatever the test gave.
    assert {auth for _, auth in to_shop} <= {None}


def scan(url, *options):
    return CliRunner().invoke(
        main, ["scan", url, "--chromium-arg", RESOLVE_LOOPBACK_ONLY, *options]
    )


def by_name(items):
    return {(i["kind"], i["name"]): i for i in items}


@pytest.mark.browser
def test_scan_finds_the_ungated_tag_and_only_it(shop, service):
    leaky, clean = f"{shop}/scan/leaky", f"{shop}/scan/clean"
    result = scan(leaky, "--pages", "3", "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["site"] == "demo" and report["consent_service"] == service.url
    # The start page and the same-origin pages it links to; not the file, not
    # the other shop, and a page that is gone is said to be.
    assert report["pages"] == [leaky, clean]
    assert f"not scanned: {shop}/scan/gone (it answered HTTP 404)" in report["notes"]
    assert not [n for n in report["notes"] if "price-list" in n]

    # Exactly the GA4 snippet leaks, before a choice and after Reject all,
    # and only on the page it is pasted in.
    leaks = by_name(report["leaks"])
    assert set(leaks) == {
        ("request", "www.googletagmanager.com"),
        ("cookie", "_ga"),
        ("cookie", "_ga_LEAK"),
    }
    for leak in leaks.values():
        assert leak["leaked"] == ["before", "rejected"]
        assert leak["leaked_on"] == [leaky]
        assert leak["category"] == "analytics"
    # Its cookies are known from the Open Cookie Database, its loader's host
    # from our list of the hosts common tags call.
    assert leaks[("cookie", "_ga")]["classified_by"] == "database"
    assert leaks[("cookie", "_ga_LEAK")]["classified_by"] == "database"
    assert leaks[("request", "www.googletagmanager.com")]["classified_by"] == "hosts"
    loader = leaks[("request", "www.googletagmanager.com")]
    assert loader["urls"] == ["https://www.googletagmanager.com/gtag/js?id=G-LEAK"]
    assert loader["started_by"].startswith(f"the markup of {leaky}")
    assert loader["element"].startswith("<script async")
    assert 'data-consent="analytics"' in loader["fix"]
    # Where a cookie came from: the inline script that wrote it.
    assert leaks[("cookie", "_ga")]["set_by"] == (
        f"an inline script of {leaky}, line 16"
    )
    assert leaks[("cookie", "_ga")]["first_party"] is True
    # Two years asked for; Chromium keeps no cookie longer than 400 days.
    assert leaks[("cookie", "_ga")]["lifetime_days"] == pytest.approx(400, abs=1)

    # The gated Meta Pixel ran only after Accept all, on both pages.
    seen = by_name(report["seen"])
    pixel = seen[("request", "connect.facebook.net")]
    assert pixel["seen"] == ["accepted"] and pixel["classified_by"] == "declared"
    assert pixel["started_by"] == "the consent banner, running a gated tag"
    assert seen[("cookie", "_fbp")]["seen"] == ["accepted"]
    assert pixel["pages"] == [leaky, clean]
    # What the gated ad frame loads inside it counts, after Accept all only.
    ad = seen[("request", "static.ads-twitter.com")]
    assert ad["seen"] == ["accepted"] and ad["pages"] == [clean]
    assert ad["category"] == "advertising"
    # The shop's session cookie is strictly necessary, though the database
    # files it under Functional.
    session = seen[("cookie", "PHPSESSID")]
    assert session["category"] == "authentication" and not session["leaked"]
    # The consent service is never a finding.
    assert not [i for i in report["seen"] if i["name"] == "127.0.0.1"]
    assert report["unused"] == ["YouTube"]
    assert {"_ga", "_ga_LEAK", "PHPSESSID"} <= {i["name"] for i in report["undeclared"]}

    # The proposed services are a valid config's services: the declared ones
    # and what the scan learnt, Google Analytics with its wildcard.
    proposed = report["proposed"]["services"]
    validate_config({**demo_config(), "services": proposed})
    assert proposed[:2] == DECLARED
    analytics = [s for s in proposed if s["name"] == "Google Analytics"]
    assert analytics == [
        {
            "name": "Google Analytics",
            "category": "analytics",
            "cookies": ["_ga", "_ga_*"],
            "hosts": ["www.googletagmanager.com"],
        }
    ]

    # The scan chose as a visitor would, on the banner: two pages, two choices.
    assert [n for n in report["notes"] if "recorded as ordinary consents" in n]
    rows = wait_for_rows(service, 4)
    assert sorted(r["method"] for r in rows) == ["accept_all"] * 2 + ["reject_all"] * 2


@pytest.mark.browser
def test_scan_reports_the_storage_keys_an_ungated_script_writes(shop):
    page = f"{shop}/scan/storage"
    result = scan(page, "--pages", "0", "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    # Hotjar's keys, written before any choice and after Reject all, known
    # from the Open Cookie Database.
    leaks = by_name(report["leaks"])
    assert set(leaks) == {
        ("local storage", "_hjid"),
        ("session storage", "_hjIncludedInSample"),
    }
    for leak in leaks.values():
        assert leak["leaked"] == ["before", "rejected"]
        assert leak["seen"] == ["before", "rejected", "accepted"]
        assert leak["leaked_on"] == [page]
        assert (leak["category"], leak["service"]) == ("analytics", "Hotjar")
        assert leak["classified_by"] == "database"
        assert 'data-consent="analytics"' in leak["fix"]
    # The gated Mixpanel key was written after Accept all only: seen, not a
    # leak, and known by the database's wildcard.
    mixpanel = by_name(report["seen"])[("local storage", "mp_0ab1c2_mixpanel")]
    assert mixpanel["seen"] == ["accepted"] and mixpanel["leaked"] == []
    assert (mixpanel["category"], mixpanel["service"]) == ("analytics", "Mixpanel")
    assert "leaked_on" not in mixpanel
    # A storage key is no cookie a service could declare: none is proposed.
    assert not [s for s in report["proposed"]["services"] if s["name"] == "Hotjar"]


@pytest.mark.browser
def test_a_page_that_floods_the_scan_gets_a_bounded_report_that_says_so(shop):
    result = scan(f"{shop}/scan/flood", "--pages", "0", "--format", "json")
    # Leaks past the bounds are still leaks: the scan fails the deployment.
    assert result.exit_code == 1, result.output[-2000:]
    report = json.loads(result.output)
    keys = [i for i in report["seen"] if i["kind"] == "local storage"]
    assert len(keys) == MAX_ITEMS
    assert all(i["leaked"] == ["before", "rejected"] for i in keys)
    assert report["not_listed"] == {"local storage": MAX_PER_VISIT - MAX_ITEMS}
    assert report["ok"] is False
    notes = "\n".join(report["notes"])
    # Each of the three visits kept 1,000 of the page's 1,500 keys.
    assert (
        f"{3 * (1500 - MAX_PER_VISIT):,} requests, cookies or storage keys were"
        f" past what one visit keeps ({MAX_PER_VISIT:,} of each)"
    ) in notes
    assert (
        f"the report lists {MAX_ITEMS} local storage keys at most:"
        f" {MAX_PER_VISIT - MAX_ITEMS} more were seen and are not listed,"
        f" {MAX_PER_VISIT - MAX_ITEMS} of them leaks"
    ) in notes
    # Every leak is counted, listed or not.
    listed = len(report["leaks"])
    assert report["leak_count"] == listed + MAX_PER_VISIT - MAX_ITEMS
    text = scan(f"{shop}/scan/flood", "--pages", "0")
    assert f"{MAX_PER_VISIT - MAX_ITEMS} of them leaks" in text.output
    assert f"LEAKS ({report['leak_count']:,}, {listed:,} listed)" in text.output


def scan_browsers():
    """The command lines of the scan's Chromium processes still running."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        if "consent-scan-" in line:
            found.append(line)
    return found


@pytest.mark.browser
def test_a_page_that_holds_the_browser_is_stopped_at_the_time_bound(shop):
    # The page's synchronous request holds every WebDriver command for five
    # minutes; the scan's bound is 10 s.
    began = time.monotonic()
    result = scan(f"{shop}/scan/stall", "--pages", "0", "--timeout", "10")
    took = time.monotonic() - began
    # Stopped, not passed: a scan that could not finish is no clean bill.
    assert result.exit_code == 2, result.output
    assert (
        "Problem: the scan stopped at its time bound (10 s) during a visit of"
        f" {shop}/scan/stall (before a choice)"
    ) in result.output
    assert "No leaks seen: but the scan met the problems above" in result.output
    assert "No leaks:" not in result.output
    # Well before the page would have let go, and with no browser left over.
    assert took < 60, took
    assert scan_browsers() == []


@pytest.mark.browser
def test_a_tracker_posing_as_the_consent_service_still_leaks(shop):
    result = scan(f"{shop}/scan/posing", "--pages", "0", "--format", "json")
    report = json.loads(result.output)
    # Only the banner's own paths of the service it names are the service's:
    # the tracker's script on that host is a leak all the same.
    assert result.exit_code == 1, result.output
    leaks = by_name(report["leaks"])
    assert ("request", "www.googletagmanager.com") in leaks
    assert leaks[("request", "www.googletagmanager.com")]["urls"] == [
        "https://www.googletagmanager.com/gtag/js?id=G-POSE"
    ]
    [said] = [n for n in report["notes"] if "consent scripts from 2 services" in n]
    assert "give --service to name it" in said


@pytest.mark.browser
def test_a_tag_that_hides_from_automated_browsers_is_seen(shop):
    result = scan(f"{shop}/scan/cloaked", "--pages", "0", "--format", "json")
    assert result.exit_code == 1, result.output
    leaks = by_name(json.loads(result.output)["leaks"])
    assert leaks[("request", "connect.facebook.net")]["leaked"] == [
        "before",
        "rejected",
    ]


@pytest.mark.browser
def test_a_page_cannot_make_the_scan_save_a_download(shop):
    downloads = Path.home() / "Downloads"
    before = set(downloads.iterdir()) if downloads.is_dir() else set()
    result = scan(f"{shop}/scan/download", "--pages", "0")
    assert result.exit_code == 0, result.output
    after = set(downloads.iterdir()) if downloads.is_dir() else set()
    assert after == before


@pytest.mark.browser
def test_a_scan_whose_process_is_killed_leaves_no_browser(shop, tmp_path):
    # A server restarted or killed mid-scan (a deploy, the memory killer):
    # its browser must not run on, past every bound.
    running = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "consent_server",
            "scan",
            f"{shop}/scan/stall",
            "--pages",
            "0",
            "--chromium-arg",
            RESOLVE_LOOPBACK_ONLY,
        ],
        env={**os.environ, "CONSENT_INSTANCE_PATH": str(tmp_path / "instance")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not scan_browsers() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scan_browsers(), "the scan's browser did not start"
        time.sleep(2)  # well into the visit
    finally:
        running.kill()
        running.wait(timeout=10)
    deadline = time.monotonic() + 15
    while scan_browsers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert scan_browsers() == []


def heard(app):
    """Record the Authorization header of each request ``app`` gets."""
    got = []
    inner = app.wsgi_app

    def wsgi(environ, start_response):
        got.append(
            (
                f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}",
                environ.get("HTTP_AUTHORIZATION"),
            )
        )
        return inner(environ, start_response)

    app.wsgi_app = wsgi
    return got


@pytest.mark.browser
def test_scan_of_a_page_with_every_tag_gated_finds_no_leak(shop, service):
    to_service = heard(service.app)
    with service.app.app_context():
        token = accounts.create_token(get_db(), "ci scan", "scan")
    result = scan(
        f"{shop}/scan/clean", "--pages", "0", "--token", token, "--service", service.url
    )
    assert result.exit_code == 0, result.output
    assert "No leaks" in result.output and "LEAKS" not in result.output
    # The tags did run once accepted, so the scan saw them.
    assert "request to www.googletagmanager.com [analytics" in result.output
    assert "after Accept all" in result.output
    # The token went with the banner's requests to the consent service, and
    # only with those: the visit without a choice has none.
    choices = [auth for path, auth in to_service if path == "POST /v1/consent"]
    assert choices == [f"Bearer {token}"] * 2
    # The consent service recorded both as scan events: out of the stats.
    rows = wait_for_rows(service, 2)
    assert [r["scan"] for r in rows] == [True, True]
    with service.app.app_context():
        assert stats.daily(get_db()) == []
    assert "Note: the scan's choices were sent with its scan token" in result.output
    scripts = [auth for path, auth in to_service if path.endswith("/consent.js")]
    assert f"Bearer {token}" in scripts


@pytest.mark.browser
def test_scan_of_a_page_that_is_not_there_stops_with_one_line(shop):
    result = scan(f"{shop}/scan/gone")
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {shop}/scan/gone cannot be scanned: it answered HTTP 404\n"
    )


def test_scan_says_in_one_line_when_chromium_is_missing(tmp_path):
    result = CliRunner().invoke(
        main, ["scan", "http://localhost:1/", "--chromium", str(tmp_path / "none")]
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: Chromium is not at {tmp_path / 'none'}: install it (Debian:"
        " apt-get install chromium) or name it with --chromium"
    ]


def test_a_token_goes_only_to_a_consent_service_named_on_the_command_line():
    # Not to wherever the page's script tag points: the page decides that.
    result = CliRunner().invoke(main, ["scan", "http://localhost:1/", "--token", "t"])
    assert result.exit_code == 2
    assert result.output == (
        "Error: --token needs --service URL: the token is sent to that consent"
        " service only\n"
    )


def test_scan_says_in_one_line_when_selenium_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "selenium", None)  # import fails
    result = CliRunner().invoke(main, ["scan", "http://localhost:1/"])
    assert result.exit_code == 2
    assert result.output == (
        "Error: the scan needs Selenium: pip install 'consent-server[scan]'\n"
    )


@pytest.mark.parametrize(
    ("name", "category", "source"),
    (
        ("_ga", "analytics", "database"),
        ("_ga_X1Y2Z3", "analytics", "database"),
        ("_gcl_au", "advertising", "database"),
        # Filed under Functional by the database, strictly necessary here.
        ("PHPSESSID", "authentication", "necessary"),
        ("__cf_bm", "security", "necessary"),
        ("wordpress_logged_in_5c0ffee", "authentication", "necessary"),
        # The site's own word comes first.
        ("_fbp", "advertising", "declared"),
        # The banner's own: its cookie, and its note that a cookie was checked.
        ("cs_consent", "security", "necessary"),
        ("cs_v:eyJzaXRlIjoiZGVtbyJ9.sig", "security", "necessary"),
        ("shop_lang", None, "unknown"),
    ),
)
def test_cookies_are_classified_site_first(name, category, source):
    classifier = Classifier([Service.model_validate(s) for s in DECLARED])
    verdict = classifier.cookie(name)
    assert (verdict.category, verdict.source) == (category, source)


@pytest.mark.parametrize(
    ("host", "category", "source"),
    (
        ("connect.facebook.net", "advertising", "declared"),
        ("www.googletagmanager.com", "analytics", "hosts"),
        ("region1.google-analytics.com", "analytics", "hosts"),
        ("challenges.cloudflare.com", "security", "hosts"),
        # An ad network's host, known from its cookies in the database.
        ("fastlane.rubiconproject.com", "advertising", "database"),
        # Served from under domains the database files ad cookies for, but
        # a font or a shop's own CDN is not an ad: nobody knows, not a leak.
        ("fonts.gstatic.com", None, "unknown"),
        ("cdn.shopify.com", None, "unknown"),
    ),
)
def test_hosts_are_classified_site_first(host, category, source):
    classifier = Classifier([Service.model_validate(s) for s in DECLARED])
    verdict = classifier.host(host)
    assert (verdict.category, verdict.source) == (category, source)


def test_the_built_package_carries_the_cookie_database_and_its_licence(tmp_path):
    # Build the wheel offline, as tests/test_install.py does, and use the
    # scanner from what it unpacks to, not from the checkout.
    from tests.test_install import ROOT, SOURCES, run

    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        else:
            shutil.copy2(ROOT / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--no-cache-dir", "--wheel-dir", tmp_path, source])  # fmt: skip
    (wheel,) = tmp_path.glob("consent_server-*.whl")
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from importlib import resources\n"
        "import consent_server\n"
        "from consent_server.scan.classify import Classifier\n"
        "data = resources.files('consent_server.scan') / 'data'\n"
        "print(consent_server.__file__)\n"
        "print(Classifier().cookie('_ga_X1').category)\n"
        "print(Classifier().cookie('PHPSESSID').source)\n"
        "print('Apache License' in (data / 'LICENSE').read_text())\n"
        "print('Open Cookie Database' in (data / 'NOTICE.md').read_text())\n"
    )
    out = run([sys.executable, "-c", script, unpacked], cwd=tmp_path).stdout.split()
    assert out[0].startswith(str(unpacked))
    assert out[1:] == ["analytics", "necessary", "True", "True"]


def test_reports_show_what_the_storefront_wrote_without_obeying_it():
    # A page's markup is the storefront's (or a tag's): the HTML report
    # escapes it, the text report shows its control characters as escapes.
    hostile = '<img alt="\x1b[2J" src="https://t.example/p" onerror="alert(1)">'
    visit = Visit(
        "http://shop.test/", "before",
        requests=[Request("https://t.example/p", "t.example", "Image",
                          "the markup of http://shop.test/, line 3", hostile)],
    )  # fmt: skip
    tracker = Service(name="T", category="analytics", hosts=["t.example"])
    report = build_report(Crawl("http://shop.test/", [visit]), [tracker], "demo", None)
    assert [i.name for i in report.leaks] == ["t.example"]
    page = as_html(report)
    assert "<img" not in page and "&lt;img alt=" in page
    text = as_text(report)
    assert "\x1b" not in text and '<img alt="\\x1b[2J"' in text
    assert json.loads(as_json(report))["leaks"][0]["element"] == hostile


@pytest.mark.parametrize(
    ("url", "is_the_service"),
    (
        ("https://consent.example/s/demo/consent.js", True),
        # The same origin however the page writes it.
        ("https://CONSENT.example:443/v1/consent", True),
        ("https://user@consent.example/v1/consent", True),
        # Another port, scheme or host; or a path the banner never asks for.
        ("https://consent.example:8443/v1/consent", False),
        ("http://consent.example/v1/consent", False),
        ("https://consent.example@tracker.example/v1/consent", False),
        ("https://consent.example/collect", False),
    ),
)
def test_only_the_banners_requests_to_its_service_are_left_out(url, is_the_service):
    visit = Visit(
        "http://shop.test/", "before",
        requests=[Request(url, url.split("/")[2].split("@")[-1].lower(), "Script",
                          "the markup of http://shop.test/, line 1", "")],
    )  # fmt: skip
    report = build_report(
        Crawl("http://shop.test/", [visit]), [], "demo", "https://consent.example:443"
    )
    assert (report.leaks == [] and report.undeclared == []) is is_the_service


@pytest.mark.parametrize(
    ("seen", "options", "problem", "status"),
    (
        # What a shop's CI gets: 1 for a leak, 2 for a scan that could not
        # check the gate, 0 for a clean one; --strict fails on undeclared too.
        ("www.googletagmanager.com", (), "", 1),
        ("cdn.example", (), "", 0),
        ("cdn.example", ("--strict",), "", 1),
        ("cdn.example", (), "the banner did not show", 2),
        ("www.googletagmanager.com", (), "the banner did not show", 1),
    ),
)
def test_scan_exit_status_tells_ci_what_it_found(
    monkeypatch, seen, options, problem, status
):
    request = Request(f"https://{seen}/x", seen, "Script", "")
    visit = Visit("http://shop.test/", "before", problem=problem, requests=[request])
    report = build_report(Crawl("http://shop.test/", [visit]), [], None, None)
    monkeypatch.setattr("consent_server.scan.run.scan", lambda *a, **k: report)
    result = CliRunner().invoke(main, ["scan", "http://shop.test/", *options])
    assert result.exit_code == status, result.output
