"""A page in a language the script does not carry fetches its texts.

The script (cached up to 300 s) carries config revision R; after an edit of
the texts published without asking again, a page in another language must
still show R's texts, since the event records config revision R: the log's
texts_hash must name the texts the visitor saw.
"""

import pytest

from consent_server.domain.languages import texts_hash
from consent_server.store import sites as store_sites
from consent_server.store.engine import get_db
from tests.browser import (
    NOTICE,
    action,
    api_calls,
    attempts,
    click,
    log_rows,
    open_page,
    publish,
    settle,
    text_of,
    wait_for_layer,
    wait_for_rows,
)

pytestmark = pytest.mark.browser


def test_recorded_texts_are_the_texts_shown(service, storefront, driver):
    # An English page first: the browser caches the script (revision R).
    open_page(driver, storefront.page())
    wait_for_layer(driver, "notice")
    with service.app.app_context():
        current = store_sites.current_config(get_db(), "demo")
    languages = {k: v.model_dump() for k, v in current.languages.items()}
    languages["de"]["title"] = "Neuer Titel nach der Bearbeitung"
    publish(service, ask_again=False, languages=languages)  # revision R+1

    # A German page: same cached script, German texts fetched (current ones).
    open_page(driver, storefront.page(lang="de"))
    wait_for_layer(driver, "notice")
    shown_title = text_of(driver, f"{NOTICE} h2")
    click(driver, action(NOTICE, "accept-all"))
    wait_for_rows(service, 1)
    [row] = log_rows(service)
    with service.app.app_context():
        recorded = store_sites.SqlConsentStore(get_db()).config(
            "demo", row["config_revision"]
        )
    assert recorded.languages["de"].title == shown_title, (
        f"the event records config revision {row['config_revision']} (title"
        f" {recorded.languages['de'].title!r}) but the visitor saw {shown_title!r}"
    )
    assert row["texts_hash"] == texts_hash(recorded, "de")


def test_a_returning_visitor_fetches_no_texts(service, storefront, driver):
    # A German page in an English browser: the German texts are fetched for
    # the banner, but once the visitor has chosen nothing more is asked.
    open_page(driver, storefront.page(lang="de"))
    wait_for_layer(driver, "notice")
    assert text_of(driver, action(NOTICE, "accept-all")) == "Alle akzeptieren"
    click(driver, action(NOTICE, "accept-all"))
    wait_for_rows(service, 1)
    attempts(driver)
    open_page(driver, storefront.page(lang="de"))
    settle()
    assert api_calls(attempts(driver), service) == []
    assert [u for u in attempts(driver) if "/texts/" in u] == []
