"""A page on a sibling subdomain plants consent cookies: none turns on a tag.

The shop is browsed as ``www.shop.test`` and the attacker's page as
``evil.shop.test`` (both mapped to 127.0.0.1 in Chromium). The attacker can
set a cookie for the whole ``shop.test`` domain, which the shop's pages then
see beside their own. Over plain http the page is not a secure context, so
the banner asks the server about each cookie; over https (a self-signed
certificate) it checks the public-key signature with WebCrypto and keeps its
own cookie under the ``__Host-`` prefix, which no other host can set.
"""

import datetime as dt
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from consent_server.tokens import sign_token
from tests.browser import (
    NOTICE,
    PREFERENCES,
    SECRET,
    action,
    attempts,
    click,
    network_events,
    open_page,
    payload_of,
    publish,
    ran,
    reload_page,
    serve,
    settle,
    shown_layer,
    storefront_app,
    toggle,
    trackers,
    wait_for_layer,
    wait_for_no_banner,
    wait_for_rows,
    with_payload,
)

pytestmark = pytest.mark.browser

ALL = {"preferences": True, "analytics": True, "advertising": True}
VERIFY = "/v1/consent/verify"


def self_signed(tmp_path):
    """A certificate for the shop's hosts and its key, as files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop.test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("shop.test"), x509.DNSName("*.shop.test")]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "shop.crt", tmp_path / "shop.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


@pytest.fixture(params=["http", "https"])
def shop(request, service, make_browser, tmp_path):
    """The shop on www.shop.test and the attacker on evil.shop.test, one browser."""
    https = request.param == "https"
    server = serve(
        storefront_app(service.url),
        host_name="www.shop.test",
        ssl_context=self_signed(tmp_path) if https else None,
    )
    port = server.url.rsplit(":", 1)[1]
    scheme = request.param
    publish(
        service,
        ask_again=False,
        origins=[f"{scheme}://www.shop.test:*", "http://127.0.0.1:*"],
    )
    driver = make_browser(arguments=["--ignore-certificate-errors"] if https else [])
    yield (
        driver,
        f"{scheme}://www.shop.test:{port}",
        f"{scheme}://evil.shop.test:{port}",
    )
    server.stop()


def plant(driver, evil, name, value):
    """From the attacker's page, set a cookie for every host under shop.test."""
    driver.get(f"{evil}/no-such-page")
    secure = "; Secure" if evil.startswith("https:") else ""
    driver.execute_script(
        f"document.cookie = arguments[0] + '=' + arguments[1] +"
        f" '; Domain=shop.test; Path=/; SameSite=Lax{secure}'",
        name,
        value,
    )


def verify_calls(events, service):
    """The verify requests (not their preflights) among network events."""
    return [
        e
        for e in events
        if e["request"]["method"] == "POST"
        and e["request"]["url"] == service.url + VERIFY
    ]


def attackers_token(choices, secret=SECRET):
    """A token we signed, but for the attacker (who chose on the shop)."""
    return sign_token(
        secret,
        consent_id="0b6f3c9e-54a4-4f0e-9d59-2f8ad2c3c0ff",
        site="demo",
        revision=1,
        choices=choices,
        expires_at=int(time.time()) + 86400,
        event_id="attackers-own-event",
    )


def forged_token():
    """What an attacker makes: a genuine-looking token that allows everything,
    its payload written by them (so neither signature matches)."""
    genuine = attackers_token(ALL, secret="not-our-secret-0123456789")
    return with_payload(genuine, payload_of(genuine))


def test_a_forged_cookie_from_a_sibling_turns_on_nothing(shop, service):
    driver, www, evil = shop
    plant(driver, evil, "cs_consent", forged_token())

    open_page(driver, f"{www}/shop")

    # The visitor is asked, and no tag runs.
    wait_for_layer(driver, "notice")
    settle()
    events = network_events(driver)
    urls = [e["request"]["url"] for e in events]
    assert trackers(urls) == []
    assert ran(driver) == []
    if www.startswith("http:"):
        # No WebCrypto on plain http: the server was asked, once.
        assert len(verify_calls(events, service)) == 1
        reload_page(driver)
        wait_for_layer(driver, "notice")
        settle()
        assert verify_calls(network_events(driver), service) == []
    else:
        # WebCrypto checked it; the server was not asked.
        assert verify_calls(events, service) == []
    assert ran(driver) == []


def test_a_sibling_cannot_undo_a_refusal(shop, service):
    driver, www, evil = shop
    open_page(driver, f"{www}/shop")
    click(driver, action(NOTICE, "reject-all"))
    wait_for_rows(service, 1)
    wait_for_no_banner(driver)
    own = {c["name"] for c in driver.get_cookies() if "cs_consent" in c["name"]}
    # On https the cookie is the host's alone.
    assert own == ({"cs_consent"} if www.startswith("http:") else {"__Host-cs_consent"})

    # The attacker plants a forged cookie, and a genuine one that allows
    # everything (their own, from accepting all on the shop themselves), with
    # a longer path so that the browser lists them first.
    theirs = attackers_token(ALL)
    plant(driver, evil, "cs_consent", forged_token())
    driver.get(f"{evil}/no-such-page")
    driver.execute_script(
        "document.cookie = 'cs_consent=' + arguments[0] +"
        " '; Domain=shop.test; Path=/shop; SameSite=Lax'",
        theirs,
    )
    # A __Host- cookie cannot be set for the domain at all.
    if www.startswith("https:"):
        plant(driver, evil, "__Host-cs_consent", theirs)

    open_page(driver, f"{www}/shop")

    # The visitor's own refusal still applies: no banner, no tag.
    settle()
    assert shown_layer(driver) is None
    assert trackers(attempts(driver)) == []
    assert ran(driver) == []
    assert driver.execute_script("return Consent.get().choices") == {
        "preferences": False,
        "analytics": False,
        "advertising": False,
    }


def test_a_shared_cookie_domain_carries_consent_to_sibling_hosts(shop, service):
    driver, www, _ = shop
    scheme = www.split(":", 1)[0]
    publish(
        service,
        ask_again=False,
        cookie_domain="shop.test",
        origins=[f"{scheme}://www.shop.test:*", f"{scheme}://checkout.shop.test:*"],
    )
    open_page(driver, f"{www}/shop")
    click(driver, action(NOTICE, "accept-all"))
    wait_for_rows(service, 1)
    wait_for_no_banner(driver)
    [cookie] = [c for c in driver.get_cookies() if "cs_consent" in c["name"]]
    assert (cookie["name"], cookie["domain"]) == ("cs_consent", ".shop.test")
    assert cookie["secure"] is (scheme == "https")

    # Another of the shop's hosts sees the same consent: no banner, tags run.
    open_page(driver, www.replace("//www.", "//checkout.") + "/shop")
    settle()
    assert shown_layer(driver) is None
    assert set(ran(driver)) == {"analytics", "advertising", "preferences",
                                "analytics+advertising"}  # fmt: skip


@pytest.mark.parametrize("shop", ["https"], indirect=True)
def test_on_https_a_siblings_genuine_token_does_not_answer_for_the_visitor(shop):
    # On https without cookie_domain the visitor's cookie is __Host-: a plain
    # cs_consent can only come from another host, so it is not even read.
    driver, www, evil = shop
    plant(driver, evil, "cs_consent", attackers_token(ALL))
    open_page(driver, f"{www}/shop")
    wait_for_layer(driver, "notice")
    settle()
    assert ran(driver) == []
    assert trackers(attempts(driver)) == []


def test_a_sibling_cannot_swap_the_visitors_categories(shop, service):
    # The visitor allowed analytics only; the attacker plants a genuine token
    # allowing advertising only, listed first (a longer path).
    driver, www, evil = shop
    open_page(driver, f"{www}/shop")
    click(driver, action(NOTICE, "customize"))
    wait_for_layer(driver, "preferences")
    toggle(driver, "analytics")
    click(driver, action(PREFERENCES, "save"))
    [own] = wait_for_rows(service, 1)
    wait_for_no_banner(driver)
    driver.get(f"{evil}/no-such-page")
    driver.execute_script(
        "document.cookie = 'cs_consent=' + arguments[0] +"
        " '; Domain=shop.test; Path=/shop; SameSite=Lax' + arguments[1]",
        attackers_token({**ALL, "preferences": False, "analytics": False}),
        "; Secure" if evil.startswith("https:") else "",
    )
    open_page(driver, f"{www}/shop")
    settle()
    # Where the attacker's cookie is seen beside the visitor's, only what both
    # allow applies: nothing of advertising (nor, here, of analytics).
    assert "advertising" not in ran(driver)
    assert driver.execute_script("return Consent.allowed('advertising')") is False
    # The next choice is never written into the attacker's history.
    click(driver, "a[data-consent-open]")
    wait_for_layer(driver, "preferences")
    click(driver, action(PREFERENCES, "reject-all"))
    rows = wait_for_rows(service, 2)
    assert rows[1]["consent_id"] != "0b6f3c9e-54a4-4f0e-9d59-2f8ad2c3c0ff"
    assert own["consent_id"]  # the visitor's own history is kept as it was
