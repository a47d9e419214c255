import csv
import datetime as dt
import io
import re
import uuid
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from consent_server.domain import chain, charts, demo_site
from consent_server.store import sites as store_sites
from consent_server.store.engine import get_db
from consent_server.store.schema import consent_events, log_head
from tests.admin_helpers import AdminActions, make_user

SVG = "{http://www.w3.org/2000/svg}"
T, F = True, False

# The known log: (day, site, visitor, method, preferences, analytics,
# advertising, gpc). 2 March has no events; 28 February and the other site
# are outside what the page asks for.
LOG = [
    ("2026-02-28", "demo", 9, "accept_all", T, T, T, F),
    ("2026-03-01", "demo", 1, "accept_all", T, T, T, F),
    ("2026-03-01", "demo", 2, "reject_all", F, F, F, T),
    ("2026-03-01", "demo", 3, "custom", F, T, F, F),
    ("2026-03-01", "demo", 4, "accept_all", T, T, F, T),
    ("2026-03-01", "other", 8, "accept_all", T, T, T, T),
    ("2026-03-03", "demo", 1, "withdraw", F, F, F, F),
    ("2026-03-03", "demo", 5, "custom", T, F, F, F),
    ("2026-03-04", "demo", 2, "accept_all", T, T, T, T),
]
RANGE = {"site": "demo", "from": "2026-03-01", "to": "2026-03-04"}


def log_events(engine, entries):
    # Chained rows straight into the log, each at noon UTC of its day.
    with engine.begin() as conn:
        seq, prev = conn.execute(sa.select(log_head.c.seq, log_head.c.hash)).one()
        for day, site, visitor, method, pref, ana, adv, gpc in entries:
            seq += 1
            when = (
                day
                if isinstance(day, dt.datetime)
                else dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")
            )
            row = {
                "seq": seq,
                "event_id": str(uuid.UUID(int=seq)),
                "consent_id": str(uuid.UUID(int=visitor + (1 << 64))),
                "site": site,
                "consent_revision": 1,
                "config_revision": 1,
                "authentication": True,
                "security": True,
                "preferences": pref,
                "analytics": ana,
                "advertising": adv,
                "method": method,
                "gpc": gpc,
                "language": "en",
                "texts_hash": "a" * 64,
                "origin": "https://shop.example",
                "path": "/",
                "ip": "203.0.113.0",
                "user_agent": "Mozilla/5.0 (insight test)",
                "recorded_at": when,
                "prev_hash": prev,
            }
            row["hash"] = prev = chain.row_hash(row)
            conn.execute(consent_events.insert().values(**row))
        conn.execute(log_head.update().values(seq=seq, hash=prev))


class Tables(HTMLParser):
    # Every table of a page by id: its rows as lists of cell texts.
    def __init__(self, page):
        super().__init__()
        self.tables, self._rows, self._cell = {}, None, None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._rows = self.tables.setdefault(dict(attrs).get("id"), [])
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._rows = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def chart(page, chart_id):
    found = re.search(rf'<svg [^>]*id="{chart_id}".*?</svg>', page, re.S)
    assert found, f"no chart {chart_id}"
    return ET.fromstring(found.group())


@pytest.fixture
def admin(client):
    return AdminActions(client)


@pytest.fixture
def editor(app, admin):
    make_user(app, "ed@shop.example", "editor")
    assert admin.login("ed@shop.example").status_code == 302
    return admin


@pytest.fixture
def known_log(app, engine):
    with app.app_context():
        other = demo_site.demo_config()
        other["site"] = "other"
        store_sites.publish(get_db(), other, published_by="test")
    log_events(engine, LOG)


def test_the_tables_show_the_numbers_of_a_known_log(editor, known_log):
    response = editor.client.get("/admin/insight/", query_string=RANGE)
    assert response.status_code == 200
    tables = Tables(response.text).tables

    assert tables["rates-table"] == [
        ["Day", "Choices", "Preferences", "Analytics", "Advertising"],
        ["2026-03-01", "4", "50.0 %", "75.0 %", "25.0 %"],
        ["2026-03-02", "0", "—", "—", "—"],
        ["2026-03-03", "2", "50.0 %", "0.0 %", "0.0 %"],
        ["2026-03-04", "1", "100.0 %", "100.0 %", "100.0 %"],
    ]
    assert tables["methods-table"] == [
        ["Day", "Accept all", "Reject all", "Customized", "Withdrawn", "All"],
        ["2026-03-01", "2", "1", "1", "0", "4"],
        ["2026-03-02", "0", "0", "0", "0", "0"],
        ["2026-03-03", "0", "0", "1", "1", "2"],
        ["2026-03-04", "1", "0", "0", "0", "1"],
    ]
    assert tables["gpc-table"] == [
        ["Day", "Choices", "With GPC on", "Share"],
        ["2026-03-01", "4", "2", "50.0 %"],
        ["2026-03-02", "0", "0", "—"],
        ["2026-03-03", "2", "0", "0.0 %"],
        ["2026-03-04", "1", "1", "100.0 %"],
    ]
    # The range's headline figures: visitor 1 and 2 came back, so 5 visitors.
    page = response.text
    for figure, value in {
        "events": "7",
        "visitors": "5",
        "preferences": "57.1 %",  # 4 of 7
        "analytics": "57.1 %",  # 4 of 7
        "advertising": "28.6 %",  # 2 of 7
        "gpc": "42.9 %",  # 3 of 7
    }.items():
        assert f'id="total-{figure}">{value}<' in page


def test_the_csv_has_the_same_numbers_one_row_per_day(editor, known_log):
    response = editor.client.get("/admin/insight/insight.csv", query_string=RANGE)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert list(csv.reader(io.StringIO(response.text))) == [
        [
            "day",
            "events",
            "visitors",
            "preferences opt-in %",
            "analytics opt-in %",
            "advertising opt-in %",
            "accept_all",
            "reject_all",
            "custom",
            "withdraw",
            "gpc events",
            "gpc share %",
        ],
        [
            "2026-03-01",
            "4",
            "4",
            "50.0",
            "75.0",
            "25.0",
            "2",
            "1",
            "1",
            "0",
            "2",
            "50.0",
        ],
        ["2026-03-02", "0", "0", "", "", "", "0", "0", "0", "0", "0", ""],
        ["2026-03-03", "2", "2", "50.0", "0.0", "0.0", "0", "0", "1", "1", "0", "0.0"],
        [
            "2026-03-04",
            "1",
            "1",
            "100.0",
            "100.0",
            "100.0",
            "1",
            "0",
            "0",
            "0",
            "1",
            "100.0",
        ],
    ]
    # The page links this very file.
    page = editor.client.get("/admin/insight/", query_string=RANGE).text
    assert (
        'href="/admin/insight/insight.csv?site=demo&amp;from=2026-03-01&amp;to=2026-03-04"'
        in page
    )


def test_the_bars_are_one_per_day_with_heights_in_proportion(editor, known_log):
    page = editor.client.get("/admin/insight/", query_string=RANGE).text
    svg = chart(page, "methods-chart")
    assert svg.get("role") == "img"
    title = svg.find(f"{SVG}title")
    assert svg.get("aria-labelledby").split()[0] == title.get("id")
    assert "Choices per day by button" in title.text

    bars = svg.findall(f"{SVG}g[@class='bar']")
    assert [b.get("data-day") for b in bars] == ["1 Mar", "2 Mar", "3 Mar", "4 Mar"]
    heights = [
        sum(float(r.get("height")) for r in b.findall(f"{SVG}rect")) for b in bars
    ]
    # 4, 0, 2 and 1 events: the empty day has no bar at all.
    assert heights[1] == 0 and not bars[1].findall(f"{SVG}rect")
    assert heights[0] == pytest.approx(2 * heights[2]) == pytest.approx(4 * heights[3])
    parts = {r.get("data-part"): float(r.get("height")) for r in bars[0]}
    assert parts["Accept all"] == pytest.approx(2 * parts["Reject all"])
    assert parts["Customized"] == pytest.approx(parts["Reject all"])


def test_the_rate_lines_have_a_gap_on_a_day_without_events(editor, known_log):
    page = editor.client.get("/admin/insight/", query_string=RANGE).text
    svg = chart(page, "rates-chart")
    lines = {g.get("data-series"): g for g in svg.findall(f"{SVG}g[@class='series']")}
    assert set(lines) == {"Preferences", "Analytics", "Advertising"}
    dots = lines["Analytics"].findall(f"{SVG}circle")
    assert [(d.get("data-day"), d.get("data-value")) for d in dots] == [
        ("1 Mar", "0.7500"),
        ("3 Mar", "0.0000"),
        ("4 Mar", "1.0000"),
    ]
    # Two runs: 1 March alone, then 3 and 4 March; a lone day is a dot only.
    path = lines["Analytics"].find(f"{SVG}path").get("d")
    assert path.count("M") == 1 and path.count("L") == 1
    # Lines differ by their dashes too, not by colour alone.
    dashes = {
        name: g.find(f"{SVG}path").get("stroke-dasharray") for name, g in lines.items()
    }
    assert len(set(dashes.values())) == 3
    assert "style=" not in page


def test_a_hidden_category_is_left_out(app, editor, engine):
    with app.app_context():
        config = demo_site.demo_config()
        config["categories"] = ["analytics"]
        config["services"] = [
            s for s in config["services"] if s["category"] == "analytics"
        ]
        store_sites.publish(get_db(), config, published_by="test")
    log_events(engine, LOG)
    page = editor.client.get("/admin/insight/", query_string=RANGE).text
    assert Tables(page).tables["rates-table"][0] == ["Day", "Choices", "Analytics"]
    assert 'id="total-advertising"' not in page


def test_the_default_range_is_the_last_30_days(editor, engine):
    now = dt.datetime.now(dt.UTC)
    log_events(
        engine,
        [
            (now - dt.timedelta(days=30), "demo", 1, "accept_all", T, T, T, F),
            (now - dt.timedelta(days=29), "demo", 2, "reject_all", F, F, F, F),
            (now, "demo", 3, "custom", F, T, F, F),
        ],
    )
    response = editor.client.get("/admin/insight/")
    assert response.status_code == 200
    rows = Tables(response.text).tables["methods-table"][1:]
    assert len(rows) == 30
    assert rows[0][0] == (now - dt.timedelta(days=29)).date().isoformat()
    assert rows[-1][0] == now.date().isoformat()
    assert 'id="total-events">2<' in response.text
    assert f'value="{now.date().isoformat()}"' in response.text


def test_empty_dates_mean_the_default_range(editor):
    response = editor.client.get("/admin/insight/", query_string={"from": "", "to": ""})
    assert response.status_code == 200
    assert len(Tables(response.text).tables["methods-table"]) == 31


@pytest.mark.parametrize(
    ("query", "field", "message"),
    (
        ({"from": "2026-13-01"}, "from", "Enter a date as year-month-day"),
        ({"to": "yesterday"}, "to", "Enter a date as year-month-day"),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "to", "before the From date"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "to", "at most 366 days"),
        ({"from": "9999-12-01", "to": "9999-12-31"}, "to", "Choose an earlier date"),
        ({"site": "nowhere"}, "site", "Choose one of the sites in the list."),
    ),
    ids=["bad-from", "bad-to", "reversed", "too-long", "last-day", "unknown-site"],
)
def test_bad_dates_or_site_are_shown_at_the_field(editor, query, field, message):
    for path in ("/admin/insight/", "/admin/insight/insight.csv"):
        response = editor.client.get(path, query_string=query)
        assert response.status_code == 400
        assert response.mimetype == "text/html"
        error = re.search(rf'id="{field}-error">(.*?)</div>', response.text, re.S)
        assert error and message in error.group(1)
        assert (
            f'id="{field}"' in response.text and 'aria-invalid="true"' in response.text
        )
        assert 'id="rates-chart"' not in response.text


@pytest.mark.parametrize("role", ("admin", "editor", "auditor"))
def test_every_role_may_read_insight(app, admin, role, known_log):
    make_user(app, f"{role}@shop.example", role)
    admin.login(f"{role}@shop.example")
    response = admin.client.get("/admin/insight/", query_string=RANGE)
    assert response.status_code == 200
    assert 'id="total-events">7<' in response.text
    csv_response = admin.client.get("/admin/insight/insight.csv", query_string=RANGE)
    assert csv_response.status_code == 200


def test_a_logged_out_visitor_is_sent_to_login(client):
    for path in ("/admin/insight/", "/admin/insight/insight.csv"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == "/admin/login"


def test_the_site_list_holds_every_site(editor, known_log):
    page = editor.client.get("/admin/insight/", query_string=RANGE).text
    assert re.findall(r'<option[^>]*value="([^"]+)"', page) == ["demo", "other"]
    other = editor.client.get(
        "/admin/insight/", query_string={**RANGE, "site": "other"}
    ).text
    assert 'id="total-events">1<' in other


# -- the chart functions alone -------------------------------------------------


def test_every_text_in_a_chart_is_escaped():
    evil = '<script>alert(1)</script>"&'
    series = [charts.Series(evil, [0.5, None], "#1a56db", "4 2")]
    for svg in (
        charts.rate_chart("c", evil, evil, [evil, "b"], series),
        charts.count_chart(
            "c", evil, evil, [evil, "b"], [charts.Series(evil, [1, 2], "#000")]
        ),
        charts.legend(series, "line"),
    ):
        assert "<script>" not in svg
        ET.fromstring(svg)  # still well-formed


@pytest.mark.parametrize(
    ("value", "cell"),
    (("=1+1", "'=1+1"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"), ("12", "12")),
)
def test_csv_cells_never_start_a_formula(value, cell):
    from consent_server.domain import insight

    # Nothing in the file comes from visitors; the guard holds for every cell.
    assert insight._cell(value) == cell


def test_a_server_without_sites_says_so(editor, monkeypatch):
    from consent_server.store import stats

    monkeypatch.setattr(stats, "sites", lambda conn: [])
    response = editor.client.get("/admin/insight/")
    assert response.status_code == 200
    assert 'id="no-sites"' in response.text and "<svg" not in response.text
    assert editor.client.get("/admin/insight/insight.csv").status_code == 400


@pytest.mark.parametrize(
    ("largest", "top", "step"),
    (
        (0, 1, 1),
        (1, 1, 1),
        (4, 4, 1),
        (7, 8, 2),
        (9, 10, 5),
        (38, 40, 10),
        (1234, 1500, 500),
    ),
)
def test_count_axes_end_on_a_round_number(largest, top, step):
    assert charts.nice_top(largest) == (top, step)


def test_chart_colours_read_on_white():
    from consent_server.domain.theme import contrast
    from consent_server.web.admin import insight as page

    colours = [
        *(c for c, _dash in page.CATEGORY_STYLE.values()),
        *page.METHOD_COLOURS.values(),
        page.GPC_STYLE[0],
        charts.TEXT,
        charts.AXIS,
    ]
    assert all(contrast(c, "#ffffff") >= 4.5 for c in colours), colours


# -- in Chromium -----------------------------------------------------------------


def _browser_log(service):
    # Every day of the default range but two, with counts that vary.
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=30)
    entries = []
    for d in range(30):
        if d in (10, 11):
            continue
        when = today - dt.timedelta(days=d)
        methods = [("accept_all", (T, T, T))] * (1 + d % 3)
        methods += [("custom", (d % 2 == 0, T, F))]
        methods += [("reject_all", (F, F, F))] * (1 + d % 2)
        methods += [("withdraw", (F, F, F))] * (d % 7 == 0)
        entries += [
            (when, "demo", d * 10 + n, m, *c, n == 0)
            for n, (m, c) in enumerate(methods)
        ]
    log_events(service.engine, entries)


@pytest.mark.browser
@pytest.mark.parametrize("width", ("desktop", "phone"))
def test_axe_finds_no_serious_problems_on_insight(driver, service, width):
    from selenium.webdriver.common.by import By

    from tests.browser import attempts, axe_source, console, host_of, wait_for
    from tests.test_admin_browser import WIDTHS, load, log_in, page_violations

    source = axe_source()
    driver.set_window_size(*WIDTHS[width])
    make_user(service.app, "audit@shop.example", "auditor")
    _browser_log(service)
    log_in(driver, service, "audit@shop.example")
    found = {}

    load(driver, service.url + "/admin/insight/")
    assert driver.find_element(By.ID, "rates-chart").is_displayed()
    for summary in driver.find_elements(By.TAG_NAME, "summary"):
        summary.click()  # the tables open, so axe checks them too
    wait_for(driver, "document.querySelector('#gpc-table').offsetParent !== null")
    found["charts and tables"] = page_violations(driver, source)

    load(driver, service.url + "/admin/insight/?from=2026-03-05&to=2026-03-01")
    assert driver.find_element(By.ID, "to-error").is_displayed()
    found["a reversed range"] = page_violations(driver, source)

    assert found == {name: [] for name in found}
    assert {host_of(u) for u in attempts(driver)} == {"127.0.0.1"}
    assert not [m for m in console(driver) if "Content Security Policy" in m]


def tab_to(driver, found, limit=60):
    # Press Tab until the focused element passes ``found``; return it.
    from selenium.webdriver.common.keys import Keys

    for _ in range(limit):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        active = driver.switch_to.active_element
        if found(active):
            return active
    pytest.fail("Tab never reached the element")


@pytest.mark.browser
def test_insight_by_keyboard_alone(driver, service):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from tests.browser import wait_for
    from tests.test_admin_browser import load, log_in

    make_user(service.app, "ed@shop.example", "editor")
    _browser_log(service)
    log_in(driver, service, "ed@shop.example")
    load(driver, service.url + "/admin/insight/?from=2026-03-05&to=2026-03-01")
    assert driver.find_element(By.ID, "to-error").is_displayed()

    # From the top of the page: the site list, then both dates, then Show.
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    tab_to(driver, lambda e: e.get_attribute("id") == "site")
    order = []
    show = tab_to(
        driver,
        lambda e: (
            order.append(e.get_attribute("id")) or e.get_attribute("id") == "show"
        ),
    )
    assert [i for i in dict.fromkeys(order)] == ["from", "to", "show"]
    # Put the range right: the To date's field, cleared, means today.
    to = driver.find_element(By.ID, "to")
    driver.execute_script("arguments[0].value = ''", to)
    show.send_keys(Keys.ENTER)
    wait_for(driver, "document.querySelector('#methods-table') !== null")
    assert "to=&" in driver.current_url or driver.current_url.endswith("to=")

    # A chart's table opens from the keyboard; its scrolling box takes focus.
    summary = tab_to(driver, lambda e: e.tag_name == "summary")
    summary.send_keys(Keys.ENTER)
    wait_for(driver, "document.querySelector('#rates-table').offsetParent !== null")
    box = tab_to(driver, lambda e: e.get_attribute("class") == "scroll")
    assert box.get_attribute("aria-labelledby") == "rates-caption"
