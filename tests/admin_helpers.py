"""What the config page tests share: making users, logging in, posting forms."""

import html
import re

import sqlalchemy as sa

from consent_server.store import accounts, schema
from consent_server.store.engine import get_db

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LINK = re.compile(r'id="one-time-link" readonly value="([^"]+)"')
TOKEN = re.compile(r'id="new-token" readonly value="([^"]+)"')
SEEN = re.compile(r'name="(?:[\w-]+-)?draft_seen"[^>]*value="([^"]*)"')
SITE_PATH = re.compile(r"/admin/sites/[a-z0-9-]+/")


def draft_seen(page):
    """The draft a site page's forms say they showed (its stamp)."""
    found = SEEN.search(page)
    return html.unescape(found.group(1)) if found else None


def make_user(app, email, role, password=PASSWORD):
    with app.app_context():
        return accounts.create_user(get_db(), email, password, role)


def csrf_of(page):
    found = CSRF.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def rows(engine, table):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def user_row(engine, email):
    with engine.connect() as conn:
        return (
            conn.execute(sa.select(schema.users).where(schema.users.c.email == email))
            .mappings()
            .first()
        )


class AdminActions:
    def __init__(self, client):
        self.client = client

    def token(self, path="/admin/login"):
        return csrf_of(self.client.get(path).text)

    def login(self, email, password=PASSWORD, **kwargs):
        token = self.token()
        return self.client.post(
            "/admin/login",
            data={"email": email, "password": password, "csrf_token": token},
            **kwargs,
        )

    def post(self, path, data=None, page="/admin/", **kwargs):
        data = dict(data or {})
        site = SITE_PATH.match(path)
        if site and "draft_seen" not in data:
            # A site page's form carries the draft that page showed: here the
            # draft as it is now, as if the page had just been loaded.
            seen = draft_seen(self.client.get(site.group(0)).text)
            if seen is not None:
                # Under the name of the form posted (a section's prefix).
                prefixes = {k.rsplit("-", 1)[0] + "-" for k in data if "-" in k}
                for prefix in prefixes | {""}:
                    data.setdefault(prefix + "draft_seen", seen)
        body = {"csrf_token": self.token(page), **data}
        return self.client.post(path, data=body, **kwargs)

    def logout(self):
        return self.post("/admin/logout")
