from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.browser import attempts, console, host_of, wait_for


class Page(HTMLParser):
    """Every href and src on a page, its tags and its attributes' names."""

    def __init__(self):
        super().__init__()
        self.urls = []
        self.tags = set()
        self.attributes = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.update(k for k, _ in attrs)
        self.urls += [v for k, v in attrs if k in ("href", "src") and v]


def parse(html):
    page = Page()
    page.feed(html)
    return page


def links(html):
    return parse(html).urls


def test_home_page_says_what_this_is_and_where_to_go(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "cookie consent banner" in page
    for path in ("/docs", "/openapi.json", "/healthz"):
        assert path in links(page)
    # The config page is linked, now that it exists.
    assert "/admin/" in links(page)
    assert "Not built yet" not in page
    # Outside demo mode there is no storefront to link.
    assert 'id="home-storefront"' not in page


def test_home_page_loads_only_our_own_files_and_no_script(client):
    response = client.get("/")
    page = parse(response.get_data(as_text=True))
    for url in page.urls:
        assert not urlsplit(url).netloc, url
    assert "script" not in page.tags
    assert not [a for a in page.attributes if a.startswith("on")]
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "style-src 'self'" in policy
    assert "script-src" not in policy
    [css] = [u for u in page.urls if u.endswith(".css")]
    with client.get(css) as stylesheet:
        assert stylesheet.status_code == 200


def test_home_page_in_demo_mode_links_the_storefront(make_app):
    app = make_app(DEMO=True, DEMO_STOREFRONT_PORT=5101)
    page = app.test_client().get("/", base_url="http://127.0.0.1:5100").text
    assert "http://127.0.0.1:5101/" in links(page)
    # Reached under another name, the link keeps that name.
    page = app.test_client().get("/", base_url="http://shop.test:5100").text
    assert "http://shop.test:5101/" in links(page)


def test_home_page_links_the_config_page_once_it_exists(make_app):
    app = make_app()
    app.add_url_rule("/admin/", "admin", lambda: "config page")
    page = app.test_client().get("/").text
    assert "/admin/" in links(page)
    assert "Not built yet" not in page


@pytest.mark.browser
def test_home_page_in_a_browser_asks_no_one_else(driver, service):
    driver.get(service.url + "/")
    wait_for(driver, "document.readyState === 'complete'")
    # Our stylesheet applied (the CSP let it through) ...
    assert driver.execute_script(
        "return getComputedStyle(document.body).maxWidth"
    ) not in ("", "none")
    # ... and every request the page made went to the service itself.
    urls = attempts(driver)
    assert urls and {host_of(u) for u in urls} == {"127.0.0.1"}, urls
    assert not [m for m in console(driver) if "Content Security Policy" in m]
