"""Markup in a config text or URL stays text on the storefront.

Every text an editor can write, and the privacy policy address, is filled
with a different payload from a small corpus; the banner shows each one
literally and none of them runs. A static check keeps the script away from
the APIs that would parse markup or code.
"""

import re
from pathlib import Path

import pytest

from consent_server.domain.texts import DEFAULT_TEXTS
from tests.browser import (
    NOTICE,
    PREFERENCES,
    action,
    click,
    open_page,
    publish,
    text_of,
    wait_for_layer,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CORPUS = (
    "<img src=x onerror=\"window.pwned='{n}'\">",
    "\"><script>window.pwned='{n}'</script>",
    "<svg onload=\"window.pwned='{n}'\"></svg>",
    "<iframe srcdoc=\"<script>parent.pwned='{n}'</script>\"></iframe>",
    "javascript:window.pwned='{n}'",
    "{{{{constructor.constructor('window.pwned=\\'{n}\\'')()}}}}",
    "<a href=\"javascript:window.pwned='{n}'\">x</a>",
    "</style><style>*{{display:none}}</style>",
)
TOP_LEVEL = (
    "title", "description", "accept_all", "reject_all", "customize",
    "save", "preferences_title", "policy_link", "always_on", "close",
)  # fmt: skip


def hostile_texts():
    """Every top-level and category text of the English banner, each a payload."""
    texts, n = {}, 0

    def payload():
        nonlocal n
        n += 1
        return f"T{n} " + CORPUS[n % len(CORPUS)].format(n=n)

    for key in TOP_LEVEL:
        texts[key] = payload()
    texts["categories"] = {
        category: {"label": payload(), "description": payload()}
        for category in DEFAULT_TEXTS["en"]["categories"]
    }
    return texts


def test_markup_in_every_text_stays_literal(driver, storefront, service):
    texts = hostile_texts()
    publish(
        service,
        ask_again=False,
        languages={"en": texts},
        policy_url="https://shop.example/privacy?q=<script>window.pwned='url'</script>",
    )
    open_page(driver, storefront.page())
    wait_for_layer(driver, "notice")

    assert text_of(driver, f"{NOTICE} h2") == texts["title"]
    assert text_of(driver, action(NOTICE, "accept-all")) == texts["accept_all"]
    click(driver, action(NOTICE, "customize"))
    wait_for_layer(driver, "preferences")
    shown = driver.execute_script(
        "return document.querySelector('#consent-banner').textContent"
    )
    for key in TOP_LEVEL:
        if key != "close":  # the close button's text is its aria-label
            assert texts[key] in shown, key
    close = driver.execute_script(
        "return document.querySelector('#consent-banner .cs-x')"
        ".getAttribute('aria-label')"
    )
    assert close == texts["close"]
    for category in texts["categories"].values():
        assert category["label"] in shown and category["description"] in shown
    assert text_of(driver, f"{PREFERENCES} h2") == texts["preferences_title"]

    # Nothing ran, and the banner holds only the elements it builds itself.
    assert driver.execute_script("return window.pwned === undefined")
    tags = driver.execute_script(
        "return [...new Set([...document.querySelectorAll('#consent-banner *')]"
        ".map((e) => e.tagName.toLowerCase()))]"
    )
    assert set(tags) <= {"div", "h2", "p", "a", "button", "label", "input", "span"}
    href = driver.execute_script(
        "return document.querySelector('#consent-banner a').href"
    )
    assert href.startswith("https://shop.example/privacy?q=")


def test_the_script_never_parses_markup_or_code():
    source = (ROOT / "static" / "consent.js").read_text()
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S)
    for api in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                "eval(", "new Function", "setTimeout('", "setTimeout(\""):  # fmt: skip
        assert api not in code, api
    built = (ROOT / "static" / "consent.min.js").read_text()
    for api in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval("):
        assert api not in built, api
