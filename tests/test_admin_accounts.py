import datetime as dt
import json

import pytest

from consent_server.cli import demo_accounts
from consent_server.domain.note import Verifier
from consent_server.store import schema
from consent_server.web.settings import BadSetting
from tests.admin_helpers import (
    LINK,
    PASSWORD,
    TOKEN,
    AdminActions,
    csrf_of,
    make_user,
    rows,
    user_row,
)


@pytest.fixture
def admin(client):
    return AdminActions(client)


@pytest.fixture
def boss(app, admin):
    # An admin, logged in.
    make_user(app, "boss@shop.example", "admin")
    assert admin.login("boss@shop.example").status_code == 302
    return admin


def test_login_shows_who_you_are_and_your_role(app, admin):
    make_user(app, "Ed@Shop.example", "editor")

    response = admin.login(" ed@shop.EXAMPLE ")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    home = admin.client.get("/admin/").text
    assert "ed@shop.example" in home and 'id="role">editor<' in home
    assert 'href="/admin/sites/"' in home and 'href="/admin/insight/"' in home
    # An editor is not offered what only admins may do.
    assert "/admin/users/" not in home and "/admin/tokens/" not in home


def test_admin_home_links_users_tokens_and_changes(boss):
    home = boss.client.get("/admin/").text
    for path in ("/admin/users/", "/admin/tokens/", "/admin/changes/"):
        assert f'href="{path}"' in home


def test_the_front_page_links_the_config_page(client):
    assert 'href="/admin/"' in client.get("/").text


@pytest.mark.parametrize(
    ("email", "password"),
    (
        ("ed@shop.example", "wrong password here"),
        ("nobody@shop.example", PASSWORD),
        ("disabled@shop.example", PASSWORD),
    ),
    ids=["wrong-password", "unknown-email", "disabled"],
)
def test_a_failed_login_says_only_wrong_email_or_password(app, admin, email, password):
    make_user(app, "ed@shop.example", "editor")
    make_user(app, "disabled@shop.example", "editor")
    with app.app_context():
        from consent_server.store import users
        from consent_server.store.changes import COMMAND_LINE
        from consent_server.store.engine import get_db

        uid = user_row(app.extensions["consent_db"], "disabled@shop.example")["id"]
        users.set_disabled(get_db(), COMMAND_LINE, uid, True)

    response = admin.login(email, password)

    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert 'aria-invalid="true"' in response.text
    # Not logged in.
    assert admin.client.get("/admin/").headers["Location"] == "/admin/login"


def test_an_empty_login_form_says_what_is_missing_at_each_field(admin):
    response = admin.login("", "")
    assert response.status_code == 200
    assert 'id="email-error"><p>Enter your email address.</p>' in response.text
    assert 'id="password-error"><p>Enter your password.</p>' in response.text


def test_pages_need_a_login(client):
    for path in ("/admin/", "/admin/users/", "/admin/tokens/", "/admin/changes/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/admin/login"


@pytest.mark.parametrize("role", ["editor", "auditor"])
def test_only_admins_manage_users_and_tokens(app, admin, engine, role):
    make_user(app, "someone@shop.example", role)
    admin.login("someone@shop.example")
    before = rows(engine, schema.users), rows(engine, schema.api_tokens)

    for path in ("/admin/users/", "/admin/tokens/", "/admin/changes/"):
        response = admin.client.get(path)
        assert response.status_code == 403, path
        assert f"Your role ({role}) cannot do this" in response.text
    posts = (
        ("/admin/users/", {"email": "new@shop.example", "role": "admin"}),
        ("/admin/users/1/role", {"role": "admin"}),
        ("/admin/users/1/disable", {}),
        ("/admin/users/1/reset", {}),
        ("/admin/tokens/", {"name": "mine", "scope": "audit"}),
        ("/admin/tokens/1/revoke", {}),
    )
    for path, data in posts:
        assert admin.post(path, data).status_code == 403, path

    assert (rows(engine, schema.users), rows(engine, schema.api_tokens)) == before


def test_an_auditor_is_told_the_page_edits_nothing_for_them(app, admin):
    make_user(app, "audit@shop.example", "auditor")
    admin.login("audit@shop.example")
    home = admin.client.get("/admin/").text
    assert "edits nothing" in home
    assert "Sites" not in home


@pytest.mark.parametrize(
    "token", [None, "", "forged-token"], ids=["missing", "empty", "wrong"]
)
def test_a_form_without_the_right_csrf_token_is_refused_and_saves_nothing(
    boss, engine, token
):
    before = rows(engine, schema.users), rows(engine, schema.account_changes)
    data = {"email": "new@shop.example", "role": "admin"}
    if token is not None:
        data["csrf_token"] = token

    response = boss.client.post("/admin/users/", data=data)

    assert response.status_code == 400
    assert "security token is missing, wrong or expired" in response.text
    assert "nothing was saved" in response.text
    assert (rows(engine, schema.users), rows(engine, schema.account_changes)) == before


def test_a_token_from_another_session_is_refused(app, client, engine):
    make_user(app, "boss@shop.example", "admin")
    other = app.test_client()
    foreign = csrf_of(other.get("/admin/login").text)

    response = client.post(
        "/admin/login",
        data={
            "email": "boss@shop.example",
            "password": PASSWORD,
            "csrf_token": foreign,
        },
    )

    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_logout_needs_a_post_with_its_token(boss):
    assert boss.client.get("/admin/logout").status_code == 405
    assert boss.client.post("/admin/logout").status_code == 400
    assert boss.client.get("/admin/").status_code == 200

    response = boss.logout()

    assert response.status_code == 302
    assert "You are logged out." in boss.client.get("/admin/login").text
    assert boss.client.get("/admin/").status_code == 302


def test_ten_wrong_passwords_then_429_with_retry_after(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    make_user(app, "ed@shop.example", "editor")
    admin = AdminActions(app.test_client())

    for _ in range(10):
        assert admin.login("ed@shop.example", "not the password!").status_code == 401
    # Even the right password waits now.
    response = admin.login("ed@shop.example")

    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60
    assert "Too many wrong passwords" in response.text


def test_wrong_passwords_count_per_account_from_any_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    make_user(app, "ed@shop.example", "editor")
    make_user(app, "other@shop.example", "editor")
    for n in range(10):
        client = AdminActions(app.test_client())
        address = {"REMOTE_ADDR": f"198.51.100.{n + 1}"}
        token = csrf_of(client.client.get("/admin/login", environ_base=address).text)
        response = client.client.post(
            "/admin/login",
            data={
                "email": "ed@shop.example",
                "password": "nope nope nope",
                "csrf_token": token,
            },
            environ_base=address,
        )
        assert response.status_code == 401

    fresh = AdminActions(app.test_client())
    address = {"REMOTE_ADDR": "203.0.113.9"}
    assert fresh.login("ed@shop.example", environ_base=address).status_code == 429
    # Another account from that address still logs in.
    assert fresh.login("other@shop.example", environ_base=address).status_code == 302


def test_right_passwords_do_not_count(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    make_user(app, "ed@shop.example", "editor")
    admin = AdminActions(app.test_client())
    for _ in range(12):
        assert admin.login("ed@shop.example").status_code == 302
        admin.logout()


def invite(boss, email="new@shop.example", role="editor"):
    response = boss.post(
        "/admin/users/", {"email": email, "role": role}, page="/admin/users/"
    )
    assert response.status_code == 200, response.text
    return LINK.search(response.text).group(1)


def test_an_invite_link_sets_the_password_once(app, boss, engine):
    link = invite(boss)
    assert link.startswith("http://localhost/admin/link/")
    path = link.removeprefix("http://localhost")
    # The invitee has no password yet: nothing logs them in.
    newcomer = AdminActions(app.test_client())
    assert newcomer.login("new@shop.example", "").status_code == 200
    page = newcomer.client.get(path)
    assert page.status_code == 200 and "new@shop.example" in page.text

    response = newcomer.post(
        path,
        {"password": "my own new password", "confirm": "my own new password"},
        page=path,
    )

    assert response.status_code == 302
    assert newcomer.login("new@shop.example", "my own new password").status_code == 302
    assert "new@shop.example" in newcomer.client.get("/admin/").text
    # Once only.
    again = AdminActions(app.test_client())
    assert again.client.get(path).status_code == 404
    assert "does not work" in again.client.get(path).text


def test_a_mistyped_password_on_the_link_page_is_shown_and_keeps_the_link(app, boss):
    path = invite(boss).removeprefix("http://localhost")
    newcomer = AdminActions(app.test_client())

    short = newcomer.post(path, {"password": "short", "confirm": "short"}, page=path)
    differ = newcomer.post(
        path,
        {"password": "long enough password", "confirm": "long enough passw0rd"},
        page=path,
    )

    assert "Use 12 to 1024 characters." in short.text
    assert "The two passwords are not the same." in differ.text
    assert newcomer.client.get(path).status_code == 200


def test_an_invite_link_expires(app, boss, engine):
    path = invite(boss).removeprefix("http://localhost")
    with engine.begin() as conn:
        links = rows(engine, schema.account_links)
        assert links[0]["expires_at"] - links[0]["created_at"] == dt.timedelta(days=7)
        conn.execute(
            schema.account_links.update().values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            )
        )
    newcomer = AdminActions(app.test_client())
    assert newcomer.client.get(path).status_code == 404
    assert newcomer.client.post(path, data={"password": "x" * 20}).status_code == 400
    assert user_row(engine, "new@shop.example")["password_hash"] == ""


def test_inviting_a_taken_or_bad_email_says_so_at_the_field(boss, engine):
    before = rows(engine, schema.users)
    for email, message in (
        ("boss@shop.example", "A user boss@shop.example already exists."),
        ("not-an-email", "Enter an email address"),
        ("", "Enter an email address."),
    ):
        response = boss.post(
            "/admin/users/", {"email": email, "role": "editor"}, page="/admin/users/"
        )
        assert response.status_code == 400
        assert 'id="email-error"' in response.text and message in response.text
    bad_role = boss.post(
        "/admin/users/",
        {"email": "x@shop.example", "role": "owner"},
        page="/admin/users/",
    )
    assert bad_role.status_code == 400 and "Not a valid choice" in bad_role.text
    assert rows(engine, schema.users) == before


def test_a_reset_link_sets_a_new_password_and_ends_old_sessions(app, boss, engine):
    uid = make_user(app, "ed@shop.example", "editor")
    ed = AdminActions(app.test_client())
    ed.login("ed@shop.example")
    response = boss.post(f"/admin/users/{uid}/reset", page="/admin/users/")
    assert "Password reset link for" in response.text
    path = LINK.search(response.text).group(1).removeprefix("http://localhost")
    # The old password works until the link is used.
    assert ed.client.get("/admin/").status_code == 200

    ed.post(
        path,
        {"password": "a brand new password", "confirm": "a brand new password"},
        page=path,
    )

    assert ed.client.get("/admin/").status_code == 302
    fresh = AdminActions(app.test_client())
    assert fresh.login("ed@shop.example").status_code == 401
    assert fresh.login("ed@shop.example", "a brand new password").status_code == 302


def test_a_new_link_replaces_the_old_one(app, boss):
    uid = make_user(app, "ed@shop.example", "editor")
    first = boss.post(f"/admin/users/{uid}/reset", page="/admin/users/")
    second = boss.post(f"/admin/users/{uid}/reset", page="/admin/users/")
    old = LINK.search(first.text).group(1).removeprefix("http://localhost")
    new = LINK.search(second.text).group(1).removeprefix("http://localhost")
    assert boss.client.get(old).status_code == 404
    assert boss.client.get(new).status_code == 200


def test_disabling_ends_the_session_and_the_login(app, boss, engine):
    uid = make_user(app, "ed@shop.example", "editor")
    ed = AdminActions(app.test_client())
    ed.login("ed@shop.example")
    assert ed.client.get("/admin/").status_code == 200

    response = boss.post(f"/admin/users/{uid}/disable", page="/admin/users/")

    assert response.status_code == 302
    assert "ed@shop.example is disabled." in boss.client.get("/admin/users/").text
    assert ed.client.get("/admin/").status_code == 302
    assert ed.login("ed@shop.example").status_code == 401
    # Enabled again, the account logs in anew; the old session stays ended.
    boss.post(f"/admin/users/{uid}/enable", page="/admin/users/")
    assert ed.login("ed@shop.example").status_code == 302


def test_a_role_change_applies_at_the_next_request(app, boss):
    uid = make_user(app, "ed@shop.example", "editor")
    ed = AdminActions(app.test_client())
    ed.login("ed@shop.example")
    assert ed.client.get("/admin/users/").status_code == 403

    boss.post(f"/admin/users/{uid}/role", {"role": "admin"}, page="/admin/users/")

    assert ed.client.get("/admin/users/").status_code == 200


@pytest.mark.parametrize("change", [("role", {"role": "editor"}), ("disable", {})])
def test_the_last_active_admin_cannot_demote_or_disable_themselves(
    boss, engine, change
):
    action, data = change
    uid = user_row(engine, "boss@shop.example")["id"]
    before = rows(engine, schema.users), rows(engine, schema.account_changes)

    response = boss.post(f"/admin/users/{uid}/{action}", data, page="/admin/users/")

    assert response.status_code == 400
    assert "boss@shop.example is the last active admin" in response.text
    assert f'id="user-{uid}-error"' in response.text
    assert (rows(engine, schema.users), rows(engine, schema.account_changes)) == before


def test_with_a_second_admin_the_first_may_step_down(app, boss, engine):
    make_user(app, "second@shop.example", "admin")
    uid = user_row(engine, "boss@shop.example")["id"]
    assert (
        boss.post(
            f"/admin/users/{uid}/role", {"role": "editor"}, page="/admin/users/"
        ).status_code
        == 302
    )
    assert user_row(engine, "boss@shop.example")["role"] == "editor"
    assert boss.client.get("/admin/users/").status_code == 403


def test_a_token_is_shown_once_works_and_can_be_revoked(boss, client, engine):
    response = boss.post(
        "/admin/tokens/",
        {"name": "privacy office", "scope": "audit"},
        page="/admin/tokens/",
    )
    assert response.status_code == 200
    token = TOKEN.search(response.text).group(1)
    assert token.startswith("cst_")
    audit = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/audit/verify", headers=audit).status_code == 200
    listing = boss.client.get("/admin/tokens/").text
    assert "privacy office" in listing and token not in listing
    token_id = rows(engine, schema.api_tokens)[0]["id"]

    revoked = boss.post(f"/admin/tokens/{token_id}/revoke", page="/admin/tokens/")

    assert revoked.status_code == 302
    assert f"Token {token_id} is revoked." in boss.client.get("/admin/tokens/").text
    assert client.get("/v1/audit/verify", headers=audit).status_code == 401


def test_the_token_list_shows_a_site_an_expiry_and_an_expired_token(
    boss, runner, engine
):
    scan = ["create-token", "ci scan", "--scope", "scan", "--site", "demo"]
    assert runner.invoke(args=[*scan, "--minutes", "60"]).exit_code == 0
    assert (
        runner.invoke(args=["create-token", "old", "--scope", "audit"]).exit_code == 0
    )
    listing = boss.client.get("/admin/tokens/").text
    [ends] = [
        t["expires_at"] for t in rows(engine, schema.api_tokens) if t["expires_at"]
    ]
    assert "(site demo)" in listing
    assert f"live until {ends:%Y-%m-%d %H:%M} UTC" in listing
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    with engine.begin() as conn:
        conn.execute(schema.api_tokens.update().values(expires_at=past))
    listing = boss.client.get("/admin/tokens/").text
    assert listing.count("expired ") == 2 and "live" not in listing.split("<tbody>")[1]


def test_a_token_needs_a_name_and_a_known_scope(boss, engine):
    for data, message in (
        ({"name": "", "scope": "audit"}, "Give the token a name."),
        ({"name": "x" * 101, "scope": "audit"}, "Use at most 100 characters."),
        ({"name": "ok", "scope": "owner"}, "Not a valid choice"),
    ):
        response = boss.post("/admin/tokens/", data, page="/admin/tokens/")
        assert response.status_code == 400 and message in response.text
    assert rows(engine, schema.api_tokens) == []


def test_text_from_users_is_shown_escaped(boss):
    name = '<script>alert("x")</script>'
    response = boss.post(
        "/admin/tokens/", {"name": name, "scope": "stats"}, page="/admin/tokens/"
    )
    assert name not in response.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in response.text
    invite(boss, email='<b>"x"</b>@shop.example')
    page = boss.client.get("/admin/users/").text
    assert "<b>" not in page and "&lt;b&gt;" in page
    assert "<script>" not in boss.client.get("/admin/changes/").text


def test_every_change_is_recorded_with_who_and_what(app, boss, engine, runner):
    runner.invoke(
        args=[
            "create-user",
            "cli@shop.example",
            "--role",
            "auditor",
            "--password",
            PASSWORD,
        ]
    )
    link = invite(boss, "new@shop.example", "editor")
    uid = user_row(engine, "new@shop.example")["id"]
    boss.post(f"/admin/users/{uid}/role", {"role": "auditor"}, page="/admin/users/")
    boss.post(f"/admin/users/{uid}/disable", page="/admin/users/")
    boss.post(f"/admin/users/{uid}/enable", page="/admin/users/")
    boss.post(f"/admin/users/{uid}/reset", page="/admin/users/")
    boss.post("/admin/tokens/", {"name": "t1", "scope": "audit"}, page="/admin/tokens/")
    boss.post("/admin/tokens/1/revoke", page="/admin/tokens/")
    del link

    recorded = [
        (r["actor"], r["action"], r["target"], json.loads(r["detail"]))
        for r in rows(engine, schema.account_changes)
    ]

    boss_email = "boss@shop.example"
    assert recorded == [
        ("(command line)", "user.create", boss_email, {"role": "admin"}),
        ("(command line)", "user.create", "cli@shop.example", {"role": "auditor"}),
        (boss_email, "user.create", "new@shop.example", {"role": "editor"}),
        (boss_email, "user.invite", "new@shop.example", {"days": 7}),
        (
            boss_email,
            "user.role",
            "new@shop.example",
            {"from": "editor", "to": "auditor"},
        ),
        (boss_email, "user.disable", "new@shop.example", {}),
        (boss_email, "user.enable", "new@shop.example", {}),
        (boss_email, "user.invite_link", "new@shop.example", {"days": 7}),
        (boss_email, "token.create", "t1", {"scope": "audit", "token_id": 1}),
        (boss_email, "token.revoke", "t1", {"token_id": 1}),
    ]
    assert all(r["at"].tzinfo is not None for r in rows(engine, schema.account_changes))
    page = boss.client.get("/admin/changes/").text
    assert page.index("token.revoke") < page.index("user.invite")
    assert "from: editor, to: auditor" in page


def test_setting_a_password_through_a_link_is_recorded_as_the_user(app, boss, engine):
    path = invite(boss).removeprefix("http://localhost")
    AdminActions(app.test_client()).post(
        path,
        {"password": "my own new password", "confirm": "my own new password"},
        page=path,
    )
    last = rows(engine, schema.account_changes)[-1]
    assert (last["actor"], last["action"], json.loads(last["detail"])) == (
        "new@shop.example",
        "user.password_set",
        {"via": "invite"},
    )


def session_cookie(response):
    cookies = [
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("cs_admin=")
    ]
    assert cookies, response.headers
    return cookies[-1]


def test_the_session_cookie_is_httponly_lax_and_secure_on_https(app, admin):
    make_user(app, "ed@shop.example", "editor")

    plain = session_cookie(admin.login("ed@shop.example"))
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Path=/admin/" in plain
    assert "Secure" not in plain

    secure_client = AdminActions(app.test_client())
    token = csrf_of(
        secure_client.client.get("/admin/login", base_url="https://localhost").text
    )
    response = secure_client.client.post(
        "/admin/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/admin/login"},
        data={"email": "ed@shop.example", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert "Secure" in session_cookie(response)


@pytest.mark.parametrize(("setting", "secure"), [(True, True), (False, False)])
def test_the_secure_flag_can_be_forced(make_app, setting, secure):
    app = make_app(SESSION_SECURE=setting)
    make_user(app, "ed@shop.example", "editor")
    cookie = session_cookie(AdminActions(app.test_client()).login("ed@shop.example"))
    assert ("Secure" in cookie) is secure


def test_a_bad_session_secure_setting_stops_the_start(make_app):
    with pytest.raises(BadSetting, match="CONSENT_SESSION_SECURE"):
        make_app(SESSION_SECURE="sometimes")


def test_admin_pages_load_only_our_own_files_and_are_not_cached(boss):
    response = boss.client.get("/admin/users/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy
    assert "unsafe" not in policy and "form-action 'self'" in policy
    assert response.headers["Cache-Control"] == "no-store"
    # Scripts, when a page has any, are files of ours: never inline code.
    assert "<script>" not in response.text


def test_the_demo_accounts_log_in_with_the_printed_passwords(app, engine):
    with app.app_context():
        first = demo_accounts()
        again = demo_accounts()
    assert [(e, r) for e, r, _ in first] == [
        ("editor@demo.test", "editor"),
        ("admin@demo.test", "admin"),
    ]
    admin = AdminActions(app.test_client())
    # Each start gives new passwords; the old ones stop working.
    assert admin.login("editor@demo.test", first[0][2]).status_code == 401
    assert admin.login("editor@demo.test", again[0][2]).status_code == 302
    assert "editor@demo.test" in admin.client.get("/admin/").text
    assert len(rows(engine, schema.users)) == 2


def test_demo_prints_how_to_log_in(monkeypatch, tmp_path):
    from click.testing import CliRunner

    import consent_server.cli as cli

    monkeypatch.setenv("CONSENT_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.sqlite'}")
    monkeypatch.setattr(cli, "run_simple", lambda *a, **k: None)
    monkeypatch.setattr(
        cli,
        "make_server",
        lambda *a, **k: type("S", (), {"serve_forever": lambda self: None})(),
    )

    result = CliRunner().invoke(cli.main, ["demo", "--port", "5300"])

    assert result.exit_code == 0, result.output
    assert "Config page: http://127.0.0.1:5300/admin/" in result.output
    assert "editor: email editor@demo.test  password " in result.output
    assert "admin: email admin@demo.test  password " in result.output
    # And the key a visitor's receipt is checked with.
    (line,) = [x for x in result.output.splitlines() if x.startswith("Log verifier")]
    key = line.rsplit(" ", 1)[1]
    assert Verifier.from_key(key).key == key
