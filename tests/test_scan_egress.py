"""The config page's scan proxy: the only way out of the server's browser, which
connects only where the scan may reach, to addresses checked before use.

Driven with plain sockets, as a browser speaks to a proxy, against servers
of the test's on loopback that note every connection they get.
"""

import ipaddress
import os
import socket
import socketserver
import threading

import pytest

from consent_server.scan import egress
from consent_server.scan.egress import Policy, networks, proxy

# Any loopback port, as no setting can allow (networks() refuses it): these
# tests' servers are on ports of their own.
LOOPBACK = ((ipaddress.ip_network("127.0.0.0/8"), None),)


class _Upstream(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(3)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = self.request.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        self.server.heard.append(data)
        if data.startswith(b"TUNNEL"):
            self.request.sendall(b"tunnel ok")
            return
        # Keeps the connection open after answering, as a keep-alive server
        # would: the proxy must end it for the browser all the same.
        self.request.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
        )


def serving(handler):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.heard = []
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


@pytest.fixture
def upstream():
    server = serving(_Upstream)
    yield server.server_address[1], server.heard
    server.shutdown()
    server.server_close()


class _NotHttp(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.recv(65536)
        self.request.sendall(b"not http at all")


def test_an_upstream_that_does_not_speak_http_is_a_502():
    server = serving(_NotHttp)
    try:
        with proxy(policy()) as way:
            answer = ask(way, get(server.server_address[1], "/ok"))
    finally:
        server.shutdown()
        server.server_close()
    assert answer.startswith(b"HTTP/1.1 502")


def only_ok(url):
    return url.split("?")[0].endswith("/ok")


def policy(**given):
    values = {
        "reaches": only_ok,
        "tunnels": lambda host, port: host == "localhost",
        "allowed_networks": LOOPBACK,
    }
    values.update(given)
    return Policy(**values)


def ask(way, message):
    """Send ``message`` to the proxy; everything it answers until it closes."""
    with socket.create_connection(way.server.server_address, timeout=5) as sock:
        sock.sendall(message)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def get(port, path, host="localhost", extra=b""):
    return (
        f"GET http://{host}:{port}{path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Proxy-Connection: keep-alive\r\n\r\n"
    ).encode() + extra


def test_a_request_the_scan_may_send_goes_through_and_its_connection_ends(upstream):
    port, heard = upstream
    with proxy(policy()) as way:
        answer = ask(way, get(port, "/ok?x=1"))
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert answer.endswith(b"\r\n\r\nok")
    assert b"Connection: close" in answer and b"keep-alive" not in answer
    [request] = heard
    assert request.startswith(b"GET /ok?x=1 HTTP/1.1\r\n")
    assert b"Connection: close" in request
    assert b"Proxy-Connection" not in request
    assert way.refused == {}


def test_the_host_header_names_the_host_that_was_checked(upstream):
    port, heard = upstream
    request = get(port, "/ok").replace(
        f"Host: localhost:{port}".encode(), b"Host: internal.example"
    )
    with proxy(policy()) as way:
        assert ask(way, request).startswith(b"HTTP/1.1 200")
    [sent] = heard
    assert f"\r\nHost: localhost:{port}\r\n".encode() in sent
    assert b"internal.example" not in sent


def test_a_request_to_an_address_the_scan_may_not_reach_is_refused_unsent(upstream):
    port, heard = upstream
    with proxy(policy()) as way:
        answer = ask(way, get(port, "/admin/"))
    assert answer.startswith(b"HTTP/1.1 403")
    assert heard == []
    assert list(way.refused) == [f"localhost:{port}"]


def test_a_second_request_on_the_same_connection_is_never_sent(upstream):
    # After the first answer, the proxy reads nothing more from the browser:
    # a second request there would be to a host nobody checked.
    port, heard = upstream
    with proxy(policy()) as way:
        answer = ask(way, get(port, "/ok", extra=get(port, "/secret")))
    assert answer.count(b"HTTP/1.1") == 1
    assert len(heard) == 1 and b"/secret" not in heard[0]


def test_loopback_and_private_networks_are_refused_unless_allowed(upstream):
    port, heard = upstream
    with proxy(policy(allowed_networks=())) as way:
        answer = ask(way, get(port, "/ok"))
    assert answer.startswith(b"HTTP/1.1 403")
    assert heard == []
    assert "127.0.0.1 is on a network" in way.refused[f"localhost:{port}"]


def test_the_configured_service_address_may_be_anywhere(upstream):
    port, heard = upstream
    trusted = frozenset({("localhost", port)})
    with proxy(policy(allowed_networks=(), trusted=trusted)) as way:
        answer = ask(way, get(port, "/ok"))
    assert answer.startswith(b"HTTP/1.1 200")
    assert len(heard) == 1


def test_tunnels_go_only_to_the_hosts_the_scan_may_reach(upstream):
    port, heard = upstream
    with proxy(policy()) as way:
        opened = ask(
            way, f"CONNECT localhost:{port} HTTP/1.1\r\n\r\nTUNNEL\r\n\r\n".encode()
        )
        refused = ask(
            way, f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\nTUNNEL\r\n\r\n".encode()
        )
    assert opened.startswith(b"HTTP/1.1 200") and opened.endswith(b"tunnel ok")
    assert refused.startswith(b"HTTP/1.1 403")
    assert heard == [b"TUNNEL\r\n\r\n"]
    assert list(way.refused) == [f"127.0.0.1:{port}"]


@pytest.mark.parametrize(
    "message",
    (
        b"nonsense\r\n\r\n",
        b"GET ftp://localhost/ok HTTP/1.1\r\n\r\n",
        b"GET http://user@localhost/ok HTTP/1.1\r\n\r\n",
        b"CONNECT localhost:notaport HTTP/1.1\r\n\r\n",
        b"GET http://localhost/ok HTTP/1.1\r\nContent-Length: x\r\n\r\n",
    ),
)
def test_what_is_not_a_proxy_request_is_refused(upstream, message):
    port, heard = upstream
    with proxy(policy()) as way:
        answer = ask(way, message)
    assert answer.startswith(b"HTTP/1.1 400")
    assert heard == []


@pytest.mark.parametrize(
    "header",
    (
        b"X-One: a\nContent-Length: 5",  # a bare LF: two lines to some readers
        b"X-One: a\rX-Two: b",
        b"Content-Length: 0\r\nContent-Length: 5",  # which one is meant
        b"Content-Length : 5",  # a space before the colon
        b"X-Folded: a\r\n continued",  # an obsolete folded line
        b"No colon here",
    ),
)
def test_a_head_that_reads_two_ways_is_refused_unsent(upstream, header):
    port, heard = upstream
    request = get(port, "/ok").replace(b"\r\n\r\n", b"\r\n" + header + b"\r\n\r\n")
    with proxy(policy()) as way:
        answer = ask(way, request)
    assert answer.startswith(b"HTTP/1.1 400")
    assert heard == []


def test_a_chunked_body_is_refused_unsent(upstream):
    port, heard = upstream
    request = get(port, "/ok").replace(
        b"\r\n\r\n", b"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    with proxy(policy()) as way:
        answer = ask(way, request)
    assert answer.startswith(b"HTTP/1.1 411")
    assert heard == []


@pytest.mark.parametrize(
    ("address", "allowed"),
    (
        ("127.0.0.1", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # a cloud's metadata service
        ("100.64.0.1", False),
        ("fd00::1", False),
        ("fe80::1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        # IPv6 forms that carry an IPv4 address, or may route to one.
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("64:ff9b:1::a00:5", False),
        ("2002:a00:5::1", False),  # 6to4 of 10.0.0.5
        ("2001:0:a00:5::1", False),  # Teredo
        ("::a00:5", False),  # IPv4-compatible
        ("fec0::1", False),  # site-local
        ("192.0.0.8", False),
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
    ),
)
def test_which_addresses_a_scan_may_reach(address, allowed):
    assert (
        policy(allowed_networks=()).address_allowed(ipaddress.ip_address(address))
        is allowed
    )


def test_an_allowed_network_opens_only_itself():
    allowed = policy(allowed_networks=networks(["10.1.0.0/16"]))
    assert allowed.address_allowed(ipaddress.ip_address("10.1.2.3"), 8080)
    assert not allowed.address_allowed(ipaddress.ip_address("10.2.0.1"), 8080)


def test_loopback_is_allowed_by_address_and_port_only():
    # A network would open the server's own local services, the scan's
    # chromedriver and DevTools ports among them.
    allowed = policy(allowed_networks=networks(["127.0.0.1:5080", "[::1]:5080"]))
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert allowed.address_allowed(ipaddress.ip_address(address), 5080)
        assert not allowed.address_allowed(ipaddress.ip_address(address), 9515)
    for value in ("127.0.0.0/8", "::1", "127.0.0.1", "127.0.0.0/8:5080"):
        with pytest.raises(ValueError, match="loopback is allowed by address and port"):
            networks([value])
    one = policy(allowed_networks=networks(["10.1.2.3:8080"]))
    assert one.address_allowed(ipaddress.ip_address("10.1.2.3"), 8080)
    assert not one.address_allowed(ipaddress.ip_address("10.1.2.3"), 22)


def test_this_machines_own_addresses_open_only_port_by_port():
    # Through its own public address as through 127.0.0.1, a connection
    # reaches the server's local services: a network allowing it does not.
    mine = ipaddress.ip_address("93.184.215.14")
    own = frozenset({mine})
    for allowed in ((), networks(["93.184.0.0/16"])):
        refusing = policy(allowed_networks=allowed, own=own)
        assert not refusing.address_allowed(mine, 443)
        assert "this server's own address" in refusing.why_not(mine)
    one = policy(allowed_networks=networks(["93.184.215.14:8080"]), own=own)
    assert one.address_allowed(mine, 8080)
    assert not one.address_allowed(mine, 9515)


def test_the_machines_own_addresses_are_found():
    found = egress.own_addresses()
    assert not [a for a in found if a.is_loopback]
    interfaces = [n for n in os.listdir("/sys/class/net") if n != "lo"]
    assert found or not interfaces
    # Each one is this machine's: a socket can be bound to it.
    for address in found:
        if address.is_link_local:
            continue  # needs its interface named
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((str(address), 0))
    # A server listening on every address is refused through this one.
    listening = socket.create_server(("0.0.0.0", 0))
    try:
        port = listening.getsockname()[1]
        for address in (a for a in found if a.version == 4):
            with pytest.raises(egress.Refused, match="this server's own address"):
                policy(allowed_networks=()).connect(str(address), port)
    finally:
        listening.close()


def test_a_name_with_any_address_the_scan_may_not_reach_is_refused(monkeypatch):
    # One public and one private address: the browser's next lookup could
    # pick either (DNS rebinding), so neither is used.
    tried = []

    def lookup(host, port, type=0):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port)),
        ]

    monkeypatch.setattr(egress.socket, "getaddrinfo", lookup)
    monkeypatch.setattr(egress.socket.socket, "connect", lambda s, a: tried.append(a))
    with pytest.raises(egress.Refused, match="10.0.0.1 is on a network"):
        policy(allowed_networks=()).connect("shop.example", 443)
    assert tried == []


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch):
    answers = iter(["93.184.215.14", "127.0.0.1"])  # a second lookup would differ
    tried = []

    def lookup(host, port, type=0):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(egress.socket, "getaddrinfo", lookup)
    monkeypatch.setattr(egress.socket.socket, "connect", lambda s, a: tried.append(a))
    policy(allowed_networks=()).connect("shop.example", 443).close()
    assert tried == [("93.184.215.14", 443)]


@pytest.mark.parametrize(
    "value",
    ("10.0.0.0/33", "shop.example", "", "10.1.2.3:0", "10.1.2.3:99999", "[fd00::1]:x"),
)
def test_a_network_that_is_not_one_is_named(value):
    with pytest.raises(ValueError, match="is not a network"):
        networks([value])
