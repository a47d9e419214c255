"""What the config page tests share: making users, logging in, posting forms."""

import re

import sqlalchemy as sa

from consent_server.store import accounts, schema
from consent_server.store.engine import get_db

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LINK = re.compile(r'id="one-time-link" readonly value="([^"]+)"')
TOKEN = re.compile(r'id="new-token" readonly value="([^"]+)"')


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
        body = {"csrf_token": self.token(page), **(data or {})}
        return self.client.post(path, data=body, **kwargs)

    def logout(self):
        return self.post("/admin/logout")
