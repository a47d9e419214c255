"""Every page of the config page, found the way a new user finds it: by links.

An admin starts at ``/admin/`` and follows every link that stays on the
config page. Each page found must pass axe-core (nothing serious or
critical), at desktop and phone widths, load nothing from another host and
break no rule of its Content-Security-Policy; and every page the config page
has must be reachable that way, so that no page needs its address typed in.
"""

from urllib.parse import urldefrag, urlsplit

import pytest
from selenium.webdriver.common.by import By

from tests.admin_helpers import make_user
from tests.browser import attempts, axe_source, console, host_of
from tests.test_admin_browser import WIDTHS, load, log_in, page_violations

pytestmark = pytest.mark.browser

# Pages reached otherwise than by a link: the login page (where the config
# page sends whoever is logged out), a one-time link handed on by an admin,
# files for download or for the preview's frame, and the scan's status (JSON
# for the progress bar's script).
NOT_LINKED = {
    "admin.login.page",
    "admin.login.link",
    "admin.insight.csv_file",
    "admin.preview.frame",
    "admin.preview.script",
    "admin.site_scan.status_json",
}
MAX_PAGES = 80


def admin_pages(app):
    """The endpoints of the config page that answer GET with a page."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.")
        and "GET" in (rule.methods or ())
        and rule.endpoint not in NOT_LINKED
    }


def crawl(driver, start):
    """Follow every same-origin link under /admin/ from ``start``; yield each
    page's path after loading it."""
    origin = urlsplit(start)
    seen, queue = set(), [start]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        load(driver, url)
        yield url
        for link in driver.find_elements(By.CSS_SELECTOR, "a[href]"):
            target = urldefrag(link.get_attribute("href")).url
            parts = urlsplit(target)
            if (
                parts.netloc == origin.netloc
                and parts.path.startswith("/admin/")
                and not parts.path.endswith(".csv")
                and target not in seen
            ):
                queue.append(target)


@pytest.mark.parametrize("width", WIDTHS, ids=list(WIDTHS))
def test_every_config_page_is_linked_accessible_and_asks_no_one_else(
    driver, service, width
):
    source = axe_source()
    driver.set_window_size(*WIDTHS[width])
    make_user(service.app, "boss@shop.example", "admin")
    log_in(driver, service, "boss@shop.example")
    attempts(driver), console(driver)

    found, endpoints = {}, set()
    adapter = service.app.url_map.bind("127.0.0.1")
    for url in crawl(driver, service.url + "/admin/"):
        parts = urlsplit(url)
        endpoints.add(adapter.match(parts.path, query_args=parts.query)[0])
        if problems := page_violations(driver, source):
            found[parts.path + "?" + parts.query] = problems
    assert found == {}

    # Every page is a link away from the start page.
    assert admin_pages(service.app) - endpoints == set()
    urls = attempts(driver)
    assert {host_of(u) for u in urls} == {"127.0.0.1"}, urls
    assert not [m for m in console(driver) if "Content Security Policy" in m]
