import copy

import pytest

from consent_server.domain.demo_site import demo_config
from consent_server.domain.diff import describe
from consent_server.store.drafts import checked


@pytest.fixture
def before():
    return checked(demo_config())


def changed(doc, change):
    after = copy.deepcopy(doc)
    change(after)
    return after


@pytest.mark.parametrize(
    ("change", "line"),
    (
        (
            lambda d: d["languages"]["de"].update(title="B"),
            "German title: 'Ihre Privatsphäre, Ihre Wahl' → 'B'",
        ),
        (
            lambda d: d["languages"]["fr"]["categories"]["analytics"].update(
                label="Mesure"
            ),
            "French analytics label: 'Mesure d’audience' → 'Mesure'",
        ),
        (
            lambda d: d["services"].append(
                {"name": "Hotjar", "category": "analytics", "cookies": ["_hj*"]}
            ),
            "service added: Hotjar",
        ),
        (lambda d: d["services"].pop(0), "service removed: Google Analytics"),
        (
            lambda d: d["services"][0].update(hosts=["www.googletagmanager.com"]),
            "service Google Analytics hosts: www.googletagmanager.com,"
            " *.google-analytics.com → www.googletagmanager.com",
        ),
        (
            lambda d: d["categories"].remove("analytics"),
            "categories: analytics removed",
        ),
        (
            lambda d: d["theme"].update(accent="#aa0000"),
            "button and link colour: #1a56db → #aa0000",
        ),
        (lambda d: d.update(refusal_days=30), "days a refusal is kept: 182 → 30"),
        (lambda d: d.update(gpc=False), "Global Privacy Control honoured: on → off"),
        (
            lambda d: d["origins"].append("https://shop.example"),
            "allowed origins: https://shop.example added",
        ),
        (
            lambda d: d.update(cookie_domain="shop.example"),
            "cookie domain: none → shop.example",
        ),
        (lambda d: d["languages"].pop("it"), "language removed: Italian"),
    ),
)
def test_each_change_reads_as_one_line(before, change, line):
    assert describe(before, changed(before, change)) == [line]


def test_nothing_changed_is_no_line_and_a_bump_is_said(before):
    assert describe(before, copy.deepcopy(before)) == []
    assert describe(before, before, consent_bumped=True) == [
        "every visitor is asked again"
    ]
    assert describe(None, before) == ["first revision"]
