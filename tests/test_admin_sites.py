import getpass
import json

import pytest
from markupsafe import escape

from consent_server.domain.languages import TEXT_KEYS
from consent_server.domain.texts import DEFAULT_TEXTS
from consent_server.store import drafts, schema
from consent_server.store import sites as store_sites
from consent_server.store.engine import get_db
from tests.admin_helpers import AdminActions, make_user, rows

GERMAN_TITLE = DEFAULT_TEXTS["de"]["title"]


@pytest.fixture
def admin(client):
    return AdminActions(client)


@pytest.fixture
def editor(app, admin):
    make_user(app, "ed@shop.example", "editor")
    assert admin.login("ed@shop.example").status_code == 302
    return admin


def shown(text):
    # How the page writes a text: escaped.
    return str(escape(text))


def site_changes(engine):
    return [
        c
        for c in rows(engine, schema.account_changes)
        if c["action"].startswith("site.")
    ]


def working(app, site="demo"):
    with app.app_context():
        return drafts.working_document(get_db(), site)


def published(client, site="demo"):
    return client.get(f"/v1/sites/{site}/config").get_json()


def texts_data(doc, lang, based_on="1", **changes):
    # Every field of the texts form, as the browser sends it.
    texts = doc["languages"][lang]
    data = {key: texts[key] for key in TEXT_KEYS}
    for cat, parts in texts["categories"].items():
        for part, value in parts.items():
            data[f"categories_{cat}_{part}"] = value
    data.update(changes)
    data["based_on"] = based_on
    return data


def settings_data(doc, **changes):
    data = {
        "default_language": doc["default_language"],
        "policy_url": doc["policy_url"],
        "origins": "\n".join(doc["origins"]),
        "cookie_domain": doc["cookie_domain"] or "",
        "cookie_days": str(doc["cookie_days"]),
        "refusal_days": str(doc["refusal_days"]),
        "based_on": "1",
    }
    if doc["google_consent_mode"]:
        data["google_consent_mode"] = "y"
    if doc["gpc"]:
        data["gpc"] = "y"
    data.update(changes)
    return {f"settings-{k}": v for k, v in data.items()}


def theme_data(doc, **changes):
    data = {**doc["theme"], **changes}
    data["floating"] = "y" if data["floating"] else ""
    return {f"theme-{k}": v for k, v in data.items()}


def save_german_title(editor, app, title, based_on="1"):
    doc = working(app)
    return editor.post(
        "/admin/sites/demo/texts/de",
        texts_data(doc, "de", based_on=based_on, title=title),
    )


def test_sites_are_listed_with_their_revision_and_waiting_draft(app, editor):
    page = editor.client.get("/admin/sites/").text
    assert 'id="site-demo"' in page and "revision 1" in page
    assert "draft waiting" not in page

    assert save_german_title(editor, app, "Neu").status_code == 302

    page = editor.client.get("/admin/sites/").text
    assert "draft waiting" in page and "ed@shop.example" in page


def test_the_nav_and_home_page_lead_editors_to_the_sites(editor):
    home = editor.client.get("/admin/").text
    assert 'href="/admin/sites/"' in home and "not built yet" not in home
    assert ">Sites</a>" in home


def test_an_auditor_sees_no_sites_and_cannot_edit_any(app, admin, engine):
    make_user(app, "audit@shop.example", "auditor")
    admin.login("audit@shop.example")
    assert 'href="/admin/sites/"' not in admin.client.get("/admin/").text

    for path in ("/admin/sites/", "/admin/sites/demo/", "/admin/sites/demo/history"):
        response = admin.client.get(path)
        assert response.status_code == 403, path
        assert "Your role (auditor) cannot do this" in response.text
    posts = (
        ("/admin/sites/", {"site": "mine", "policy_url": "https://a.example/p"}),
        ("/admin/sites/demo/texts/de", {"title": "Hacked"}),
        ("/admin/sites/demo/theme", {"theme-accent": "#000000"}),
        ("/admin/sites/demo/settings", {"settings-cookie_days": "30"}),
        ("/admin/sites/demo/categories", {}),
        ("/admin/sites/demo/services/", {"service-new-name": "Hotjar"}),
        ("/admin/sites/demo/services/0/remove", {}),
        ("/admin/sites/demo/languages/", {"language-language": "de"}),
        ("/admin/sites/demo/languages/it/remove", {}),
        ("/admin/sites/demo/publish", {}),
        ("/admin/sites/demo/discard", {}),
        ("/admin/sites/demo/history/1/restore", {}),
    )
    for path, data in posts:
        assert admin.post(path, data).status_code == 403, path
    assert rows(engine, schema.site_drafts) == []
    assert len(rows(engine, schema.site_revisions)) == 1
    assert len(rows(engine, schema.sites)) == 1


def test_the_sites_pages_need_a_login(client):
    for path in ("/admin/sites/", "/admin/sites/demo/", "/admin/sites/demo/texts/de"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == "/admin/login"


def test_german_title_is_a_draft_until_published_then_served(app, editor, engine):
    response = save_german_title(editor, app, "Cookies? Ihre Wahl.")
    assert response.status_code == 302

    # Visitors still see the published title; the page shows the draft's.
    assert published(editor.client)["languages"]["de"]["title"] == GERMAN_TITLE
    page = editor.client.get("/admin/sites/demo/").text
    assert shown(f"German title: '{GERMAN_TITLE}' → 'Cookies? Ihre Wahl.'") in (page)
    assert rows(engine, schema.site_drafts)[0]["updated_by"] == "ed@shop.example"

    response = editor.post("/admin/sites/demo/publish", {})
    assert response.status_code == 302
    assert "Published revision 2." in editor.client.get("/admin/sites/demo/").text

    config = published(editor.client)
    assert config["revision"] == 2 and config["consent_revision"] == 1
    assert config["languages"]["de"]["title"] == "Cookies? Ihre Wahl."
    served = editor.client.get("/s/demo/texts/de.json").get_json()
    assert "Cookies? Ihre Wahl." in json.dumps(served, ensure_ascii=False)
    assert rows(engine, schema.site_drafts) == []
    assert rows(engine, schema.site_revisions)[-1]["published_by"] == "ed@shop.example"


def test_texts_show_which_are_still_the_shipped_default(app, editor):
    page = editor.client.get("/admin/sites/demo/texts/de").text
    assert 'id="title-default"' in page and 'id="save-default"' in page
    # The Global Privacy Control notice is one of the texts too.
    assert 'id="gpc_honoured-default"' in page
    assert str(escape(DEFAULT_TEXTS["de"]["gpc_honoured"])) in page

    save_german_title(editor, app, "Eigener Titel")

    page = editor.client.get("/admin/sites/demo/texts/de").text
    assert 'id="title-default"' not in page and 'id="save-default"' in page
    site = editor.client.get("/admin/sites/demo/").text
    assert "1 of" in site and "still the shipped default" in site


def test_a_text_left_empty_falls_back_to_the_shipped_one(app, editor):
    save_german_title(editor, app, "Eigener Titel")
    assert working(app)["languages"]["de"]["title"] == "Eigener Titel"

    assert save_german_title(editor, app, "  ").status_code == 302

    assert working(app)["languages"]["de"]["title"] == GERMAN_TITLE
    page = editor.client.get("/admin/sites/demo/texts/de").text
    assert 'id="title-default"' in page


def test_ask_every_visitor_again_makes_old_consent_an_old_revision(
    app, editor, consent
):
    token = consent.post().get_json()["token"]
    save_german_title(editor, app, "Erste Änderung")
    editor.post("/admin/sites/demo/publish", {})
    # Without the box, a returning visitor's consent still holds.
    assert consent.verify(token).get_json()["valid"] is True

    save_german_title(editor, app, "Zweite Änderung", based_on="2")
    editor.post("/admin/sites/demo/publish", {"publish-ask_again": "y"})

    config = published(editor.client)
    assert config["revision"] == 3 and config["consent_revision"] == 2
    answer = consent.verify(token).get_json()
    assert answer["valid"] is False and answer["reason"] == "old_revision"
    history = editor.client.get("/admin/sites/demo/history").text
    assert "every visitor is asked again" in history


def test_the_second_editor_to_publish_is_warned_of_what_the_first_changed(
    app, client, make_app
):
    first, second = AdminActions(client), AdminActions(app.test_client())
    make_user(app, "anna@shop.example", "editor")
    make_user(app, "ben@shop.example", "editor")
    first.login("anna@shop.example")
    second.login("ben@shop.example")
    # Ben opens the German texts while revision 1 is published.
    bens_view = working(app)

    save_german_title(first, app, "Annas Titel")
    first.post("/admin/sites/demo/publish", {})
    assert published(client)["revision"] == 2

    # Ben saves the texts he sees, made on revision 1.
    data = texts_data(bens_view, "de", based_on="1", save="Bens Auswahl")
    assert second.post("/admin/sites/demo/texts/de", data).status_code == 302
    assert "stale-note" in second.client.get("/admin/sites/demo/").text

    response = second.post("/admin/sites/demo/publish", {})

    assert response.status_code == 409
    page = response.text
    assert "anna@shop.example" in page and 'id="stale-warning"' in page
    meanwhile = page[page.index('id="meanwhile"') : page.index('id="yours"')]
    assert shown(f"German title: '{GERMAN_TITLE}' → 'Annas Titel'") in meanwhile
    assert published(client)["revision"] == 2  # nothing went through

    # Ben confirms: now it is published, by him.
    response = second.post(
        "/admin/sites/demo/publish", {"publish-confirmed": "2"}, page="/admin/"
    )
    assert response.status_code == 302
    config = published(client)
    assert config["revision"] == 3
    assert config["languages"]["de"]["save"] == "Bens Auswahl"


def test_a_confirmation_for_an_older_revision_warns_again(
    app, editor, runner, tmp_path
):
    save_german_title(editor, app, "Mein Titel")
    doc = working(app, "demo")
    with app.app_context():
        doc = store_sites.current_config(get_db(), "demo").model_dump(mode="json")
    path = tmp_path / "demo.json"
    doc["cookie_days"] = 30
    path.write_text(json.dumps(doc))
    assert runner.invoke(args=["sites", "import", str(path)]).exit_code == 0

    response = editor.post("/admin/sites/demo/publish", {"publish-confirmed": "1"})
    assert response.status_code == 409
    assert "days a choice is kept: 180 → 30" in response.text


def test_the_warning_offers_to_discard_the_draft(app, editor, runner, tmp_path):
    save_german_title(editor, app, "Mein Titel")
    with app.app_context():
        doc = store_sites.current_config(get_db(), "demo").model_dump(mode="json")
    doc["cookie_days"] = 30
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(doc))
    runner.invoke(args=["sites", "import", str(path), "--by", "ops team"])

    page = editor.post("/admin/sites/demo/publish", {}).text
    assert "ops team" in page and 'id="discard"' in page
    assert editor.post("/admin/sites/demo/discard", {}).status_code == 302
    assert working(app)["languages"]["de"]["title"] == GERMAN_TITLE
    assert working(app)["cookie_days"] == 30


def test_restoring_an_old_revision_makes_a_draft_with_its_contents(app, editor):
    first = working(app)
    save_german_title(editor, app, "Neuer Titel")
    editor.post("/admin/sites/demo/publish", {})
    history = editor.client.get("/admin/sites/demo/history").text
    assert "Restore revision 1 as the draft" in history
    assert "Restore revision 2" not in history  # the newest is what is published

    response = editor.post("/admin/sites/demo/history/1/restore", {})

    assert response.status_code == 302
    assert working(app) == first
    assert published(editor.client)["languages"]["de"]["title"] == "Neuer Titel"
    page = editor.client.get("/admin/sites/demo/").text
    assert shown(f"German title: 'Neuer Titel' → '{GERMAN_TITLE}'") in page
    editor.post("/admin/sites/demo/publish", {})
    assert published(editor.client)["languages"]["de"]["title"] == GERMAN_TITLE
    assert editor.post("/admin/sites/demo/history/9/restore", {}).status_code == 404


def test_every_change_is_recorded_for_the_account(app, editor, engine):
    save_german_title(editor, app, "Neuer Titel")
    editor.post("/admin/sites/demo/publish", {"publish-ask_again": "y"})
    editor.post("/admin/sites/demo/history/1/restore", {})
    editor.post("/admin/sites/demo/discard", {})

    changes = site_changes(engine)
    assert [(c["actor"], c["action"], c["target"]) for c in changes] == [
        ("ed@shop.example", "site.draft_save", "demo"),
        ("ed@shop.example", "site.publish", "demo"),
        ("ed@shop.example", "site.restore", "demo"),
        ("ed@shop.example", "site.draft_discard", "demo"),
    ]
    assert json.loads(changes[1]["detail"]) == {"ask_again": True, "revision": 2}


XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def test_markup_in_every_text_is_shown_literally_on_the_admin_pages(app, editor):
    doc = working(app)
    data = texts_data(doc, "en")
    for n, key in enumerate(k for k in data if k != "based_on"):
        data[key] = f"T{n} {XSS}" + (" {service}" if key == "placeholder" else "")
    assert editor.post("/admin/sites/demo/texts/en", data).status_code == 302
    service = {"service-new-name": f"S {XSS}", "service-new-category": "analytics"}
    assert editor.post("/admin/sites/demo/services/", service).status_code == 302
    editor.post("/admin/sites/demo/publish", {})

    for path in (
        "/admin/sites/demo/texts/en",
        "/admin/sites/demo/",
        "/admin/sites/demo/history",
    ):
        page = editor.client.get(path).text
        assert "<script>alert" not in page and '<img src=x onerror="' not in page
        assert shown(XSS) in page, path
    config = published(editor.client)
    assert config["languages"]["en"]["title"] == f"T0 {XSS}"


def test_a_missing_or_wrong_csrf_token_is_refused_and_saves_nothing(
    app, editor, engine
):
    data = texts_data(working(app), "de", title="Ohne Token")
    for token in (None, "wrong-token"):
        body = dict(data)
        if token:
            body["csrf_token"] = token
        response = editor.client.post("/admin/sites/demo/texts/de", data=body)
        assert response.status_code == 400
        assert "security token is missing, wrong or expired" in response.text
    response = editor.client.post("/admin/sites/demo/publish", data={})
    assert response.status_code == 400
    assert rows(engine, schema.site_drafts) == []
    assert site_changes(engine) == []


@pytest.mark.parametrize(
    ("path", "form", "changes", "field", "message"),
    (
        (
            "theme",
            "theme",
            {"accent": "blue"},
            "theme-accent",
            "Must be a colour such as #1a56db.",
        ),
        (
            "theme",
            "theme",
            {"accent": "#ffff00"},
            "theme-accent",
            "Must contrast at least 4.5:1 with the white button text (is 1.1:1).",
        ),
        (
            "theme",
            "theme",
            {"text": "#eeeeee"},
            "theme-text",
            "Must contrast at least 4.5:1 with the background colour",
        ),
        (
            "settings",
            "settings",
            {"policy_url": "ftp://shop.example/privacy"},
            "settings-policy_url",
            "Must be an http or https address.",
        ),
        (
            "settings",
            "settings",
            {"policy_url": ""},
            "settings-policy_url",
            "Must not be empty.",
        ),
        (
            "settings",
            "settings",
            {"origins": "https://shop.example\nshop.example"},
            "settings-origins",
            "Line 2: ",
        ),
        (
            "settings",
            "settings",
            {"origins": ""},
            "settings-origins",
            "Must list at least one origin.",
        ),
        (
            "settings",
            "settings",
            {"cookie_days": "0"},
            "settings-cookie_days",
            "Must be a whole number from 1 to 395.",
        ),
        (
            "settings",
            "settings",
            {"cookie_days": "400"},
            "settings-cookie_days",
            "Must be a whole number from 1 to 395.",
        ),
        (
            "settings",
            "settings",
            {"cookie_days": "half a year"},
            "settings-cookie_days",
            "Must be a whole number from 1 to 395.",
        ),
        (
            "settings",
            "settings",
            {"cookie_domain": "other.example"},
            "settings-cookie_domain",
            "Must be a domain that",
        ),
        (
            "services/",
            "service",
            {"name": "Hotjar", "cookies": "_hj*\nbad;name"},
            "service-new-cookies",
            "Cookie 2: Must be a cookie name",
        ),
        (
            "settings",
            "settings",
            {"refusal_days": "0"},
            "settings-refusal_days",
            "Must be a whole number from 1 to 395.",
        ),
        (
            "services/",
            "service",
            {"name": "Hotjar", "hosts": "static.hotjar.com\nhttps://hotjar.com/"},
            "service-new-hosts",
            "Host 2: Must be a lower-case host name",
        ),
        (
            "services/",
            "service",
            {"name": ""},
            "service-new-name",
            "Must not be empty.",
        ),
        (
            "services/",
            "service",
            {"name": "Google Analytics"},
            "service-new-name",
            "There is already a service named",
        ),
        (
            "services/0",
            "service0",
            {"name": "Google Analytics", "cookies": "a b*c*"},
            "service-0-cookies",
            "Cookie 2: ",
        ),
        (
            "texts/de",
            "texts",
            {"title": "x" * 201},
            "title",
            "Must be at most 200 characters.",
        ),
        (
            "texts/de",
            "texts",
            {"placeholder": "kein Platzhalter"},
            "placeholder",
            "Must contain {service}.",
        ),
    ),
)
def test_invalid_input_is_shown_at_the_field_and_saves_nothing(
    app, editor, engine, path, form, changes, field, message
):
    doc = working(app)
    if form == "theme":
        data = theme_data(doc, **changes)
    elif form == "settings":
        data = settings_data(doc, **changes)
    elif form == "service":
        data = {"service-new-category": "analytics", "service-new-cookies": ""}
        data.update({f"service-new-{k}": v for k, v in changes.items()})
    elif form == "service0":
        data = {"service-0-category": "analytics"}
        data.update({f"service-0-{k}": v for k, v in changes.items()})
    else:
        data = texts_data(doc, "de", **changes)

    response = editor.post(f"/admin/sites/demo/{path}", data)

    assert response.status_code == 400
    page = response.text
    error = page[page.index(f'id="{field}-error"') :][:400]
    assert shown(message) in error, error
    assert f'aria-describedby="{field}-hint {field}-error"' in page or (
        f'aria-describedby="{field}-error"' in page
    )
    assert rows(engine, schema.site_drafts) == []
    assert site_changes(engine) == []


def test_a_new_site_starts_as_a_draft_from_the_defaults(app, editor, engine):
    response = editor.post(
        "/admin/sites/",
        {
            "site": "tea-shop",
            "default_language": "de",
            "policy_url": "https://tea.example/datenschutz",
            "origin": "https://tea.example",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/sites/tea-shop/"
    assert editor.client.get("/v1/sites/tea-shop/config").status_code == 404
    listing = editor.client.get("/admin/sites/").text
    assert "not published yet" in listing

    doc = working(app, "tea-shop")
    assert list(doc["languages"]) == ["de"]
    assert doc["languages"]["de"]["title"] == GERMAN_TITLE
    assert doc["categories"] == ["preferences", "analytics", "advertising"]
    assert doc["google_consent_mode"] is False and doc["services"] == []

    editor.post("/admin/sites/tea-shop/publish", {})
    config = published(editor.client, "tea-shop")
    assert config["revision"] == 1
    assert working(app, "tea-shop")["origins"] == ["https://tea.example"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    (
        ({"site": "Tea Shop"}, "site", "Must be 1-63 lower-case letters"),
        ({"site": "demo"}, "site", "There is already a site"),
        ({"policy_url": "privacy"}, "policy_url", "Must be an http or https address."),
        ({"origin": "tea.example"}, "origin", "Must be"),
    ),
)
def test_a_new_site_with_bad_input_is_not_made(
    app, editor, engine, data, field, message
):
    body = {
        "site": "tea-shop",
        "default_language": "en",
        "policy_url": "https://tea.example/privacy",
        "origin": "https://tea.example",
        **data,
    }
    response = editor.post("/admin/sites/", body)
    assert response.status_code == 400
    error = response.text[response.text.index(f'id="{field}-error"') :][:300]
    assert message in error, error
    assert len(rows(engine, schema.sites)) == 1
    assert rows(engine, schema.site_drafts) == []


def test_discarding_a_never_published_site_removes_it(app, editor, engine):
    editor.post(
        "/admin/sites/",
        {"site": "gone", "default_language": "en", "policy_url": "https://g.example/p",
         "origin": "https://g.example"},
    )  # fmt: skip
    response = editor.post("/admin/sites/gone/discard", {})
    assert response.headers["Location"] == "/admin/sites/"
    assert [s["id"] for s in rows(engine, schema.sites)] == ["demo"]
    assert editor.client.get("/admin/sites/gone/").status_code == 404


def test_a_language_is_added_from_the_shipped_ones(app, editor):
    editor.post(
        "/admin/sites/",
        {"site": "shop", "default_language": "en", "policy_url": "https://s.example/p",
         "origin": "https://s.example"},
    )  # fmt: skip
    page = editor.client.get("/admin/sites/shop/").text
    assert '<option value="fr">French (fr)</option>' in page
    assert '<option value="en">' not in page.split('id="language-form"')[1]

    response = editor.post("/admin/sites/shop/languages/", {"language-language": "fr"})

    assert response.headers["Location"] == "/admin/sites/shop/texts/fr"
    assert working(app, "shop")["languages"]["fr"] == working(app)["languages"]["fr"]
    bad = editor.post("/admin/sites/shop/languages/", {"language-language": "xx"})
    assert bad.status_code == 400 and 'id="language-language-error"' in bad.text


def test_services_are_added_changed_and_removed(app, editor):
    response = editor.post(
        "/admin/sites/demo/services/",
        {
            "service-new-name": "Hotjar",
            "service-new-category": "analytics",
            "service-new-cookies": "_hjSession*\n_hjid",
            "service-new-hosts": "static.hotjar.com\n*.hotjar.io",
            "service-new-purpose": "Records how visitors use the pages.",
        },
    )
    assert response.status_code == 302
    services = working(app)["services"]
    assert services[-1] == {
        "name": "Hotjar",
        "category": "analytics",
        "cookies": ["_hjSession*", "_hjid"],
        "hosts": ["static.hotjar.com", "*.hotjar.io"],
        "purpose": "Records how visitors use the pages.",
    }
    index = len(services) - 1
    editor.post(
        f"/admin/sites/demo/services/{index}",
        {
            f"service-{index}-name": "Hotjar",
            f"service-{index}-category": "analytics",
            f"service-{index}-cookies": "_hjid",
            f"service-{index}-hosts": "static.hotjar.com",
        },
    )
    assert working(app)["services"][-1]["cookies"] == ["_hjid"]
    assert working(app)["services"][-1]["purpose"] is None
    editor.post("/admin/sites/demo/services/0/remove", {})
    names = [s["name"] for s in working(app)["services"]]
    assert "Google Analytics" not in names and "Hotjar" in names

    editor.post("/admin/sites/demo/publish", {})
    history = editor.client.get("/admin/sites/demo/history").text
    assert "service added: Hotjar" in history
    assert "service removed: Google Analytics" in history


def test_categories_settings_and_look_save_to_the_draft(app, editor):
    doc = working(app)
    editor.post(
        "/admin/sites/demo/categories",
        {"categories-preferences": "y", "categories-advertising": "y"},
    )
    editor.post(
        "/admin/sites/demo/settings",
        settings_data(
            doc, cookie_days="90", refusal_days="30", google_consent_mode="", gpc=""
        ),
    )
    editor.post("/admin/sites/demo/theme", theme_data(doc, accent="#aa0000"))

    doc = working(app)
    assert doc["categories"] == ["preferences", "advertising"]
    assert doc["cookie_days"] == 90 and doc["refusal_days"] == 30
    assert doc["google_consent_mode"] is False and doc["gpc"] is False
    assert doc["theme"]["accent"] == "#aa0000"
    page = editor.client.get("/admin/sites/demo/").text
    for line in (
        "categories: analytics removed",
        "button and link colour: #1a56db → #aa0000",
        "days a choice is kept: 180 → 90",
        "days a refusal is kept: 182 → 30",
        "Google Consent Mode: on → off",
    ):
        assert line in page, line


def test_imported_revisions_say_who_imported_them(app, editor, runner, tmp_path):
    with app.app_context():
        doc = store_sites.current_config(get_db(), "demo").model_dump(mode="json")
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(doc))
    assert runner.invoke(args=["sites", "import", str(path)]).exit_code == 0
    result = runner.invoke(args=["sites", "import", str(path), "--by", "Ops <team>"])
    assert result.exit_code == 0

    history = editor.client.get("/admin/sites/demo/history").text
    assert f"sites import (by {shown(getpass.getuser())})" in history
    assert "sites import (by Ops &lt;team&gt;)" in history
    assert "consent-server init" in history


def test_the_working_document_is_the_draft_or_else_the_published_one(app, editor):
    with app.app_context():
        conn = get_db()
        current = store_sites.current_config(conn, "demo")
        document = drafts.working_document(conn, "demo")
        assert "revision" not in document and "consent_revision" not in document
        assert document == current.model_dump(
            mode="json", exclude={"revision", "consent_revision"}
        )
    save_german_title(editor, app, "Entwurf")
    with app.app_context():
        assert (
            drafts.working_document(get_db(), "demo")["languages"]["de"]["title"]
            == "Entwurf"
        )
        with pytest.raises(drafts.UnknownSite):
            drafts.working_document(get_db(), "nowhere")


def test_publishing_with_no_draft_changes_nothing(app, editor, engine):
    response = editor.post("/admin/sites/demo/publish", {}, follow_redirects=True)
    assert "There is no draft to publish" in response.text
    assert len(rows(engine, schema.site_revisions)) == 1


def test_a_language_is_removed_but_never_the_default_one(app, editor):
    assert editor.post("/admin/sites/demo/languages/it/remove").status_code == 302
    assert "it" not in working(app)["languages"]
    page = editor.client.get("/admin/sites/demo/").text
    assert "language removed: Italian" in page

    editor.post("/admin/sites/demo/languages/en/remove")
    assert "en" in working(app)["languages"]
    page = editor.client.get("/admin/sites/demo/").text
    assert "English is the default language, so it stays." in page
    assert editor.post("/admin/sites/demo/languages/xx/remove").status_code == 404


def test_a_draft_that_no_longer_passes_the_checks_is_not_published(app, editor, engine):
    save_german_title(editor, app, "Neu")
    # As if a rule had been added since the draft was saved.
    with engine.begin() as conn:
        row = conn.execute(schema.site_drafts.select()).one()
        document = json.loads(row.document)
        document["cookie_days"] = 999
        conn.execute(schema.site_drafts.update().values(document=json.dumps(document)))

    response = editor.post("/admin/sites/demo/publish", {}, follow_redirects=True)

    assert response.status_code == 200
    assert "does not pass today" in response.text and "cookie_days" in response.text
    assert len(rows(engine, schema.site_revisions)) == 1
