"""Findings of an attacking review of the config page: each test is a way in
or a way to break it that a user or an attacker would notice."""

import json

import pytest

from consent_server.store import schema
from tests.admin_helpers import AdminActions, draft_seen, make_user, rows
from tests.test_admin_sites import save_german_title, texts_data, working


@pytest.fixture
def admin(client):
    return AdminActions(client)


@pytest.fixture
def editor(app, admin):
    make_user(app, "ed@shop.example", "editor")
    assert admin.login("ed@shop.example").status_code == 302
    return admin


def break_the_draft(engine, **changes):
    # As if a rule had been added since the draft was saved.
    with engine.begin() as conn:
        row = conn.execute(schema.site_drafts.select()).one()
        document = json.loads(row.document)
        document.update(changes)
        conn.execute(schema.site_drafts.update().values(document=json.dumps(document)))


@pytest.mark.parametrize(
    "path",
    [
        "/admin/sites/demo/",
        "/admin/sites/demo/texts/de",
        "/admin/sites/demo/preview",
        "/admin/sites/demo/preview/frame",
        "/admin/sites/demo/preview/consent.js",
        "/admin/sites/demo/history",
        "/admin/sites/demo/embed",
        "/admin/sites/",
    ],
)
def test_a_draft_that_no_longer_passes_the_checks_still_shows_its_pages(
    app, editor, engine, path
):
    save_german_title(editor, app, "Neu")
    break_the_draft(engine, cookie_days=999)
    response = editor.client.get(path)
    assert response.status_code < 500, path


def test_a_huge_text_is_refused_at_the_field(app, editor, engine):
    response = save_german_title(editor, app, "x" * 1_000_000)
    assert response.status_code == 400
    assert rows(engine, schema.site_drafts) == []


def test_a_service_with_ten_thousand_cookies_is_refused_at_the_field(
    app, editor, engine
):
    data = {
        "service-new-name": "Many",
        "service-new-category": "analytics",
        "service-new-cookies": "\n".join(f"c{i}" for i in range(10_000)),
    }
    response = editor.post("/admin/sites/demo/services/", data)
    assert response.status_code == 400
    assert "Many" not in [s["name"] for s in working(app)["services"]]


def test_a_policy_address_that_is_a_script_is_refused(app, editor):
    from tests.test_admin_sites import settings_data

    doc = working(app)
    for url in ("javascript:alert(1)", "JavaScript://x.example/%0aalert(1)"):
        response = editor.post(
            "/admin/sites/demo/settings", settings_data(doc, policy_url=url)
        )
        assert response.status_code == 400, url


def test_a_csrf_token_of_another_session_is_refused(app, client, editor, engine):
    other = AdminActions(app.test_client())
    make_user(app, "ed2@shop.example", "editor")
    other.login("ed2@shop.example")
    theirs = other.token("/admin/sites/demo/")
    response = editor.client.post(
        "/admin/sites/demo/publish", data={"csrf_token": theirs}
    )
    assert response.status_code == 400
    response = editor.client.post(
        "/admin/sites/demo/discard", data={"csrf_token": theirs}
    )
    assert response.status_code == 400


def _other_editor_removes_the_first_service(app):
    other = AdminActions(app.test_client())
    make_user(app, "ed2@shop.example", "editor")
    other.login("ed2@shop.example")
    assert other.post("/admin/sites/demo/services/0/remove", {}).status_code == 302


def test_removing_a_service_from_a_page_shown_before_another_editor_removed_one(
    app, editor
):
    # The page showed YouTube as service number 4 (index 3)...
    page = editor.client.get("/admin/sites/demo/").text
    names = [s["name"] for s in working(app)["services"]]
    assert names[3] == "YouTube"
    # The page's forms say which service they were shown for.
    assert 'name="name" value="YouTube"' in page
    assert 'name="service-3-was" value="YouTube"' in page
    _other_editor_removes_the_first_service(app)
    # ... and its Remove button is pressed after the other editor's change.
    editor.post(
        "/admin/sites/demo/services/3/remove", {"name": "YouTube"}, "/admin/sites/demo/"
    )
    left = [s["name"] for s in working(app)["services"]]
    assert "Shop settings" in left, "another service was removed than the one asked"


def test_saving_a_service_from_a_page_shown_before_another_editor_removed_one(
    app, editor
):
    _other_editor_removes_the_first_service(app)
    # The page showed YouTube at index 3; the editor renames it.
    response = editor.post(
        "/admin/sites/demo/services/3",
        {
            "service-3-was": "YouTube",
            "service-3-name": "YouTube Kids",
            "service-3-category": "advertising",
            "service-3-cookies": "YSC",
        },
    )
    left = [s["name"] for s in working(app)["services"]]
    assert "Shop settings" in left, "another service was overwritten"
    assert response.status_code in (302, 409)


def test_two_editors_saving_the_same_texts_page_do_not_silently_overwrite(app, editor):
    other = AdminActions(app.test_client())
    make_user(app, "ed2@shop.example", "editor")
    other.login("ed2@shop.example")
    # Both open the German texts page; what the second editor's page shows:
    page = other.client.get("/admin/sites/demo/texts/de").text
    shown_to_other = {**texts_data(working(app), "de"), "draft_seen": draft_seen(page)}
    # The first saves a new title ...
    assert save_german_title(editor, app, "Titel von Ed").status_code == 302
    # ... then the second saves a new description from the page shown before.
    response = other.post(
        "/admin/sites/demo/texts/de",
        {**shown_to_other, "description": "Neue Beschreibung"},
        "/admin/sites/demo/",
    )
    assert working(app)["languages"]["de"]["title"] == "Titel von Ed", (
        "the second save undid the first editor's title without a word"
    )
    assert response.status_code == 400
    assert "Not saved: ed@shop.example saved the draft at" in response.text
    # What the second editor typed is still on the page; saving it again,
    # now knowingly, replaces the first editor's version.
    assert "Neue Beschreibung" in response.text
    again = draft_seen(response.text)
    response = other.post(
        "/admin/sites/demo/texts/de",
        {**shown_to_other, "description": "Neue Beschreibung", "draft_seen": again},
    )
    assert response.status_code == 302
    assert working(app)["languages"]["de"]["description"] == "Neue Beschreibung"


XSS = '<img src=x onerror="alert(1)"><script>alert(1)</script>'


def test_markup_in_a_service_is_shown_literally_on_the_embed_and_preview_pages(
    app, editor
):
    data = {
        "service-new-name": "S <b>x</b>",
        "service-new-category": "analytics",
        "service-new-cookies": "_ok",
        "service-new-purpose": f"P {XSS}",
    }
    assert editor.post("/admin/sites/demo/services/", data).status_code == 302
    assert editor.post("/admin/sites/demo/publish", {}).status_code == 302
    for path in (
        "/admin/sites/demo/embed",
        "/admin/sites/demo/history",
        "/admin/sites/demo/preview/frame",
        "/admin/sites/demo/",
    ):
        page = editor.client.get(path).text
        assert "<script>alert" not in page and '<img src=x onerror="' not in page
        assert "<b>x</b>" not in page, path


def test_a_draft_broken_by_a_new_rule_says_which_part_to_correct(app, editor, engine):
    save_german_title(editor, app, "Neu")
    break_the_draft(engine, cookie_days=999)

    response = save_german_title(editor, app, "Neu 2")

    assert response.status_code == 400
    page = response.text
    # Not "Title: must be a whole number", which the editor cannot act on:
    assert "days a choice is kept" in page and "Addresses and settings" in page
    assert working(app)["languages"]["de"]["title"] == "Neu"


def test_publishing_says_when_returning_visitors_see_it(app, editor, client):
    # The banner script may be kept by a browser for five minutes, so an
    # editor who checks at once in the same browser sees the old banner.
    assert "max-age=300" in client.get("/s/demo/consent.js").headers["Cache-Control"]
    save_german_title(editor, app, "Neu")
    page = editor.post(
        "/admin/sites/demo/publish", {"publish-ask_again": "y"}, follow_redirects=True
    ).text
    assert "Every visitor is asked again" in page and "within five minutes" in page


@pytest.mark.parametrize("page", ["preview", "embed"])
def test_the_preview_and_embed_pages_lead_back_to_the_site(editor, page):
    # Without it the editor, done previewing, had only the menu's Sites.
    text = editor.client.get(f"/admin/sites/demo/{page}").text
    assert 'href="/admin/sites/demo/"' in text
