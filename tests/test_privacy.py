import ipaddress
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from consent_server.domain import privacy
from consent_server.store import accounts
from consent_server.store.engine import get_db
from tests import fuzzing
from tests.conftest import ORIGIN, SECRET

# The addresses a request came from, as the app trusts them (one proxy in
# front, whose own address is REMOTE_ADDR), and the page a visitor was on.
PROXY_IP = "192.0.2.201"
VISITOR_V4 = "198.51.100.77"
VISITOR_V6 = "2001:db8:85a3:1234:5678:8a2e:370:7334"
AUDITOR_IP = "203.0.113.58"
PAGE = "/products/tea-towel"
QUERY = "utm_source=newsletter&email=visitor%40mail.example&gclid=Cj0KCQ-x1"
FRAGMENT = "reviews-by-visitor"


@pytest.fixture
def service(tmp_path):
    app = fuzzing.sqlite_app(
        tmp_path,
        PROXY_COUNT=1,
        RATELIMIT_ENABLED=True,
        RATELIMIT_CONSENT="4 per minute",
    )
    yield app
    app.extensions["consent_db"].dispose()


def through_proxy(client_ip):
    return {
        "environ_base": {"REMOTE_ADDR": PROXY_IP},
        "headers": {"X-Forwarded-For": client_ip, "Origin": ORIGIN},
    }


def exercise(app):
    # Everything a storefront, its visitors' browsers, its backend and an
    # auditor do; returns every secret value that went over the wire.
    client = app.test_client()
    body = {
        "site": "demo",
        "choices": {"preferences": False, "analytics": True, "advertising": False},
        "method": "custom",
        "revision": 1,
        "language": "en",
        "url": f"{ORIGIN}{PAGE}?{QUERY}#{FRAGMENT}",
    }
    tokens = []
    for ip in (VISITOR_V4, VISITOR_V6):
        first = client.post("/v1/consent", json=body, **through_proxy(ip))
        assert first.status_code == 201
        tokens.append(first.get_json()["token"])
        changed = client.post(
            "/v1/consent",
            json={
                **body,
                "method": "reject_all",
                "choices": dict.fromkeys(body["choices"], False),
                "previous": tokens[-1],
            },
            **through_proxy(ip),
        )
        assert changed.status_code == 201
        tokens.append(changed.get_json()["token"])
    # Flooding from one address: refused, and the refusals are not where the
    # address is kept either.
    for _ in range(3):
        limited = client.post("/v1/consent", json=body, **through_proxy(VISITOR_V4))
    assert limited.status_code == 429
    # A backend checking tokens (genuine, superseded and bent ones).
    for token in (*tokens, tokens[0][:-3] + "abc"):
        answer = client.post("/v1/consent/verify", json={"token": token})
        assert answer.status_code == 200
    # The public config, asked for with a query string of its own.
    assert client.get(f"/v1/sites/demo/config?{QUERY}").status_code == 200
    assert client.get(f"/s/demo/consent.js?{QUERY}").status_code == 200

    with app.app_context():
        bearer = accounts.create_token(get_db(), "privacy-auditor", "audit")
    wrong = "cst_" + "w" * 43
    auditor = {
        "environ_base": {"REMOTE_ADDR": PROXY_IP},
        "headers": {"X-Forwarded-For": AUDITOR_IP},
    }
    consent_id = client.post(
        "/v1/consent/verify", json={"token": tokens[-1]}
    ).get_json()["id"]
    for path in (
        "/v1/audit/events?site=demo",
        "/v1/audit/events?format=csv",
        "/v1/audit/events?format=ndjson",
        f"/v1/audit/consents/{consent_id}",
        "/v1/audit/verify",
        "/v1/audit/stats",
    ):
        for token, status in ((bearer, 200), (wrong, 401)):
            headers = {**auditor["headers"], "Authorization": f"Bearer {token}"}
            response = client.get(
                path, environ_base=auditor["environ_base"], headers=headers
            )
            assert response.status_code == status, path
    return tokens, bearer, wrong


def ip_spellings(address):
    ip = ipaddress.ip_address(address)
    return {address, str(ip), getattr(ip, "exploded", address)}


def database_text(engine):
    # Every column of every row of every table that exists, as text.
    lines = []
    with engine.connect() as conn:
        for name in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{name}"')):
                lines.append(f"{name}: " + " | ".join(map(str, row)))
    return "\n".join(lines)


def database_bytes(engine):
    # The file itself (and its journal), free pages included.
    path = Path(engine.url.database)
    return b"".join(
        p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
    )


def test_nothing_personal_or_secret_is_stored_or_logged(service, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    tokens, bearer, wrong = exercise(service)
    engine = service.extensions["consent_db"]
    stored = database_text(engine)
    raw = database_bytes(engine)
    out, err = capfd.readouterr()
    logged = "\n".join((caplog.text, out, err))

    # What must be there, so that the search below looks at real data: the
    # truncated addresses and the page's path.
    assert "198.51.100.0" in stored
    assert "2001:db8:85a3::" in stored
    assert "203.0.113.0" in stored
    assert PAGE in stored

    needles = {
        **{
            f"full IP {s}": s
            for a in (PROXY_IP, VISITOR_V4, VISITOR_V6)
            for s in ip_spellings(a)
        },
        **{f"auditor IP {s}": s for s in ip_spellings(AUDITOR_IP)},
        "the page's query string": "utm_source",
        "an e-mail address in the query": "mail.example",
        "the page's fragment": FRAGMENT,
        "the click id": "Cj0KCQ",
        "the secret key": SECRET,
        "the bearer token": bearer,
        "a wrong bearer token": wrong,
        **{f"consent token {i}": t for i, t in enumerate(tokens)},
        **{
            f"consent token {i}'s signature": t.rsplit(".", 1)[1]
            for i, t in enumerate(tokens)
        },
    }
    found = [
        f"{what} in {where}"
        for what, needle in needles.items()
        for where, haystack in (
            ("a table", stored),
            ("the database file", raw.decode("latin-1")),
            ("the log output", logged),
        )
        if needle in haystack
    ]
    assert found == []


@pytest.mark.parametrize(
    "address",
    (
        "198.51.100.77",
        "0.0.0.0",
        "255.255.255.255",
        "10.0.0.1",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3.04",
        "1.2.3",
        "1.2.3.4.5",
        " 1.2.3.4",
        "1.2.3.4\n",
        "\u0661.2.3.4",
        "1.2.3.4/24",
        "",
        None,
        VISITOR_V6,
        "::ffff:198.51.100.77",
    ),
)
def test_an_address_is_cut_as_ipaddress_cuts_it(address):
    # IPv4 is cut by its text; the answer is the one ipaddress gives.
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        expected = ""
    else:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        prefix = 24 if ip.version == 4 else 48
        network = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
        expected = str(network.network_address)
    assert privacy.truncate_ip(address) == expected
