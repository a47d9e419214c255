"""The one way out of the config page's scan browser: a forward proxy on
loopback that lets through only what the scan may reach.

Failing requests through the DevTools protocol (:mod:`.token`) stops what
the protocol shows, and that is not everything a page can make a browser
open: a WebSocket, a preconnect, a WebRTC relay, a service worker's fetch.
So the server's browser is started with this proxy as its only route
(``--proxy-server``, loopback included) and with WebRTC kept to it, and
every connection it opens comes through here, where

- a plain http request goes on only when ``reaches`` allows its address
  (the site's allowed origins, this service's banner paths);
- a tunnel (https, and WebSockets, which browsers always tunnel) only to
  a host and port that ``tunnels`` allows;
- either only to addresses outside loopback, private, link-local and other
  non-public networks, unless the operator allowed those networks
  (``CONSENT_SCAN_NETWORKS``) or the address is this service's own
  configured one. The host is looked up once, here, and the connection
  made to the address that was checked: a name that answers with another
  address the second time (DNS rebinding) gains nothing.

Each refused connection's ``host:port`` is kept in ``refused`` with why,
so that the report can say what was held back.
"""

from __future__ import annotations

import contextlib
import ipaddress
import selectors
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .crawl import Chromium

CONNECT_SECONDS = 10
IDLE_SECONDS = 30
MAX_HEAD = 64 * 1024
HEAD_SECONDS = 10  # to send a head: a client that dribbles it is dropped
MAX_CONNECTIONS = 64  # at once; a browser opens far fewer to one proxy
MAX_REFUSED = 1000
HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"proxy-authorization",
    b"te",
    b"trailer",
    b"upgrade",
}
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Refused(Exception):
    """The proxy does not open a connection to ``where`` (``host:port``);
    the message says why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where


# Allowed: a network (any port) or one address's one port.
Allowance = tuple[Network, int | None]
# Addresses that is_global calls public but that carry, or may route to, an
# IPv4 address inside them (NAT64, 6to4, Teredo, IPv4-compatible), or are
# old or special-purpose: refused unless allowed by name.
EMBEDDING = tuple(
    ipaddress.ip_network(n)
    for n in (
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "2002::/16",
        "2001::/32",
        "::/96",
        "fec0::/10",
        "192.0.0.0/24",
    )
)


def networks(values: list[str]) -> tuple[Allowance, ...]:
    """What ``values`` allow: networks (``10.0.0.0/8``, ``fd00::/8``), or one
    address's port (``10.1.2.3:8080``, ``[::1]:5080``). Loopback only by its
    port: the server's own local services (the scan's chromedriver and
    DevTools among them) must not be opened by a network.

    :raise ValueError: naming the first value that is not one of those.
    """
    found: list[Allowance] = []
    for value in values:
        text, port = str(value), None
        try:
            if text.startswith("[") and "]" in text:
                inside, _, rest = text[1:].partition("]")
                text = inside
                if rest:
                    port = _port(rest)
            elif text.count(":") == 1:
                text, _, rest = text.partition(":")
                port = _port(":" + rest)
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a network such as 10.0.0.0/8, nor an"
                " address and port such as 10.1.2.3:8080"
            ) from None
        if network.is_loopback and (port is None or network.num_addresses != 1):
            raise ValueError(
                f"{value!r}: loopback is allowed by address and port only, such"
                " as 127.0.0.1:5080"
            )
        found.append((network, port))
    return tuple(found)


def _port(text: str) -> int:
    if not text.startswith(":") or not text[1:].isdigit() or text[1:2] == "0":
        raise ValueError(text)
    port = int(text[1:])
    if not 0 < port < 65536:
        raise ValueError(text)
    return port


def where(host: str, port: int) -> str:
    """``host:port`` as a URL writes it (``[::1]:443``)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _plain(address: Address) -> Address:
    # ::ffff:127.0.0.1 is 127.0.0.1 to the network stack, and so here.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def own_addresses() -> frozenset[Address]:
    """This machine's own addresses, loopback aside: through one of them a
    connection reaches the server's local services as surely as through
    127.0.0.1, whatever network the address is on (Linux: /proc/net)."""
    found: set[Address] = set()
    last = ""
    for line in _lines("/proc/net/fib_trie"):
        text = line.strip()
        if text.startswith(("|--", "+--")):
            last = text[3:].strip().split("/")[0]
        elif "host LOCAL" in text and last:
            with contextlib.suppress(ValueError):
                found.add(ipaddress.ip_address(last))
    for line in _lines("/proc/net/if_inet6"):
        with contextlib.suppress(ValueError, IndexError):
            found.add(ipaddress.IPv6Address(int(line.split()[0], 16)))
    return frozenset(a for a in found if not a.is_loopback)


def _lines(path: str) -> list[str]:
    try:
        with open(path, encoding="ascii", errors="replace") as file:
            return file.readlines()
    except OSError:
        return []


@dataclass(frozen=True)
class Policy:
    """What the proxy lets through."""

    reaches: Callable[[str], bool]  # a plain http request's whole address
    tunnels: Callable[[str, int], bool]  # a tunnel's host and port
    allowed_networks: tuple[Allowance, ...] = ()
    # Host and port of this service as the operator configured it: its
    # address is the operator's choice, private or not.
    trusted: frozenset[tuple[str, int]] = frozenset()
    # This machine's addresses: like loopback, open only port by port.
    own: frozenset[Address] = field(default_factory=own_addresses)

    def address_allowed(self, address: Address, port: int | None = None) -> bool:
        """Whether a connection may go to ``address`` (on ``port``): a public
        one, or one the operator allowed; this machine's own addresses only
        on a port allowed by name."""
        address = _plain(address)
        own = address in self.own
        for network, only in self.allowed_networks:
            if address in network and only in (None, port):
                if own and only is None:
                    continue  # a network does not open this server's ports
                return True
        if own:
            return False
        if any(address in n for n in EMBEDDING if n.version == address.version):
            return False
        return address.is_global and not address.is_multicast

    def why_not(self, address: Address) -> str:
        """Why a connection to ``address`` is refused, for the report."""
        if _plain(address) in self.own:
            return (
                f"{address} is this server's own address (the operator may"
                " allow one port of it: CONSENT_SCAN_NETWORKS)"
            )
        return (
            f"{address} is on a network this server's scans may not reach"
            " (the operator may allow it: CONSENT_SCAN_NETWORKS)"
        )

    def connect(self, host: str, port: int) -> socket.socket:
        """A connection to ``host``, on an address checked first.

        :raise Refused: when no address of ``host`` may be reached.
        """
        place = where(host, port)
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise Refused(place, f"cannot be looked up: {exc}") from None
        trusted = (host.lower(), port) in self.trusted
        addresses = [
            ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found
        ]
        if not trusted:
            # One address of a name that is not allowed, and none of its
            # addresses is used: the browser cannot pick.
            wrong = [a for a in addresses if not self.address_allowed(a, port)]
            if wrong:
                raise Refused(place, self.why_not(wrong[0]))
        error: OSError | None = None
        for family, kind, proto, _, address in found:
            sock = socket.socket(family, kind, proto)
            sock.settimeout(CONNECT_SECONDS)
            try:
                sock.connect(address)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            sock.settimeout(IDLE_SECONDS)
            return sock
        raise Refused(place, f"cannot be reached: {error}")


def _authority(text: str, default: int) -> tuple[str, int]:
    """Host and port of ``host:port`` or ``[v6]:port``.

    :raise ValueError: for anything else.
    """
    parts = urlsplit(f"//{text}")
    host, port = parts.hostname, parts.port
    if not host or parts.username is not None or parts.path or parts.query:
        raise ValueError(text)
    return host, port or default


def _head(sock: socket.socket) -> tuple[bytes, bytes]:
    """A message's head (up to its blank line) and what came after it.

    :raise ValueError: when the head is too long or too slow, or the peer
        stopped first.
    """
    data = b""
    deadline = time.monotonic() + HEAD_SECONDS
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_HEAD:
            raise ValueError("head too long")
        if time.monotonic() > deadline:
            raise ValueError("head too slow")
        chunk = sock.recv(65536)
        if not chunk:
            raise ValueError("closed")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


# A header's name: an http token (RFC 9110, section 5.6.2).
TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")


def _well_formed(headers: list[bytes], names: list[bytes]) -> bool:
    """Whether header lines read only one way: each ``name: value`` on a
    line of its own (no bare CR or LF, no folding, no space before the
    colon), and at most one ``Content-Length``."""
    for line, name in zip(headers, names, strict=True):
        if b"\n" in line or b"\r" in line or b":" not in line:
            return False
        if not name or not set(name) <= TOKEN:
            return False
    return names.count(b"content-length") <= 1


def _without_hop_by_hop(lines: list[bytes]) -> list[bytes]:
    return [
        line
        for line in lines
        if line.split(b":", 1)[0].strip().lower() not in HOP_BY_HOP
    ]


def _pipe(one: socket.socket, other: socket.socket) -> None:
    """Copy bytes both ways until either side closes or both are idle."""
    with selectors.DefaultSelector() as selector:
        selector.register(one, selectors.EVENT_READ, other)
        selector.register(other, selectors.EVENT_READ, one)
        while True:
            ready = selector.select(IDLE_SECONDS)
            if not ready:
                return
            for key, _ in ready:
                source: socket.socket = key.fileobj  # type: ignore[assignment]
                data = source.recv(65536)
                if not data:
                    return
                key.data.sendall(data)


def _relay(source: socket.socket, client: socket.socket) -> None:
    """Copy one way until ``source`` closes or is idle."""
    while data := source.recv(65536):
        client.sendall(data)


# WebRTC sends UDP (STUN, TURN, media) past any proxy: the switch above and
# the profile's own settings, as a browser's privacy options set them, both
# keep it to the proxy (one of them would do; either alone stops the UDP).
WEBRTC_PROXIED_ONLY = (
    ("webrtc.ip_handling_policy", "disable_non_proxied_udp"),
    ("webrtc.multiple_routes_enabled", False),
    ("webrtc.nonproxied_udp_enabled", False),
)
REFUSE = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
BAD_GATEWAY = (
    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server
    request: socket.socket

    def handle(self) -> None:
        client = self.request
        client.settimeout(IDLE_SECONDS)
        try:
            head, rest = _head(client)
            method, target, _ = head.split(b"\r\n", 1)[0].decode("ascii").split(" ")
        except (ValueError, UnicodeDecodeError, OSError):
            with contextlib.suppress(OSError):
                client.sendall(BAD)
            return
        try:
            if method == "CONNECT":
                self._tunnel(client, target, rest)
            else:
                self._forward(client, head, rest, target)
        except Refused as exc:
            self.server.refuse(exc, client)
        except ValueError:  # the upstream's answer was not http
            with contextlib.suppress(OSError):
                client.sendall(BAD_GATEWAY)
        except OSError:
            return

    def _tunnel(self, client: socket.socket, target: str, rest: bytes) -> None:
        try:
            host, port = _authority(target, 443)
        except ValueError:
            client.sendall(BAD)
            return
        policy = self.server.policy
        if not policy.tunnels(host, port):
            raise Refused(where(host, port), "not a tunnel the scan may open")
        upstream = policy.connect(host, port)
        with upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            _pipe(client, upstream)

    def _forward(
        self, client: socket.socket, head: bytes, rest: bytes, target: str
    ) -> None:
        lines = head.split(b"\r\n")
        method = lines[0].split(b" ", 1)[0]
        try:
            parts = urlsplit(target)
            host, port = parts.hostname, parts.port or 80
        except ValueError:
            client.sendall(BAD)
            return
        if parts.scheme != "http" or not host or parts.username is not None:
            client.sendall(BAD)
            return
        headers = lines[1:]
        names = [h.split(b":", 1)[0].lower() for h in headers]
        if not _well_formed(headers, names):
            # What the upstream might read otherwise than this proxy did.
            client.sendall(BAD)
            return
        if b"transfer-encoding" in names:
            # Chromium sends a body of known length over http/1.1; reading
            # a chunked one to its end is not worth the code here.
            client.sendall(
                b"HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\n"
                b"Connection: close\r\n\r\n"
            )
            return
        if not self.server.policy.reaches(target):
            raise Refused(where(host, port), "not an address the scan may reach")
        length = 0
        for line, name in zip(headers, names, strict=True):
            if name == b"content-length":
                try:
                    length = int(line.split(b":", 1)[1])
                except ValueError:
                    client.sendall(BAD)
                    return
        upstream = self.server.policy.connect(host, port)
        with upstream:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            # The host that was checked, whatever Host the request named.
            request = [
                method + b" " + path.encode("ascii", "replace") + b" HTTP/1.1",
                b"Host: " + parts.netloc.encode("ascii", "replace"),
                *(
                    h
                    for h in _without_hop_by_hop(headers)
                    if h.split(b":", 1)[0].strip().lower() != b"host"
                ),
                b"Connection: close",
            ]
            upstream.sendall(b"\r\n".join(request) + b"\r\n\r\n")
            # The body, and nothing after it: a second request on the same
            # connection would be to a host nobody checked.
            body = rest[:length]
            while len(body) < length:
                chunk = client.recv(min(65536, length - len(body)))
                if not chunk:
                    return
                body += chunk
            upstream.sendall(body)
            answer, after = _head(upstream)
            answer_lines = answer.split(b"\r\n")
            client.sendall(
                b"\r\n".join(
                    [
                        answer_lines[0],
                        *_without_hop_by_hop(answer_lines[1:]),
                        b"Connection: close",
                    ]
                )
                + b"\r\n\r\n"
                + after
            )
            _relay(upstream, client)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, policy: Policy) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.policy = policy
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.refused: dict[str, str] = {}
        self.lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        # A bounded number of threads: past it, a connection is closed at once.
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def refuse(self, refused: Refused, client: socket.socket) -> None:
        with self.lock:
            if len(self.refused) < MAX_REFUSED:
                self.refused.setdefault(refused.where, str(refused))
        with contextlib.suppress(OSError):
            client.sendall(REFUSE)


@dataclass
class Egress:
    """A running proxy: the switches that send a browser through it, and
    where it refused to connect so far (``host:port``, and why)."""

    server: _Server
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def switches(self) -> tuple[str, ...]:
        """Chromium switches that leave the browser no other route."""
        port = self.server.server_address[1]
        return (
            f"--proxy-server=http://127.0.0.1:{port}",
            # Chromium sends loopback addresses past any proxy unless told.
            "--proxy-bypass-list=<-loopback>",
            # WebRTC over the proxy only: no UDP of its own (STUN, TURN).
            "--webrtc-ip-handling-policy=disable_non_proxied_udp",
            "--disable-quic",
        )

    def browser(self, chromium: Chromium) -> Chromium:
        """``chromium`` sent through this proxy (its switches come last, so
        that they win over any the operator set), WebRTC's own UDP off."""
        return replace(
            chromium,
            arguments=(*chromium.arguments, *self.switches),
            preferences=(*chromium.preferences, *WEBRTC_PROXIED_ONLY),
        )


@contextlib.contextmanager
def proxy(policy: Policy) -> Iterator[Egress]:
    """Run a proxy with ``policy`` on a free loopback port while inside."""
    server = _Server(policy)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},  # how long stopping it may take
        name="scan proxy",
        daemon=True,
    )
    thread.start()
    try:
        yield Egress(server, server.refused)
    finally:
        server.shutdown()
        server.server_close()
