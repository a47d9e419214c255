"""Giving the scan's requests to the consent service, and only those, its token;
and, for a scan run by the server, sending nothing outside the shop's origins.

The banner's own requests (recording a choice, verifying a token) must say
that they come from a scan, so that the consent service keeps them apart
from visitors' consents. The token must not reach any other host, nor the
page's scripts: it is added to the request on its way out, by the browser,
through the DevTools protocol's ``Fetch`` domain, which pauses only the
requests whose address matches a pattern (the consent service's origin) and
lets us continue them with one more header.

The config page's scan drives a browser on the server: the same interception
pauses every request, and fails those to hosts outside what it may reach
(the site's allowed origins and the consent service), before anything is
sent. Chrome's performance log still shows each of them, which is what the
report is made from: the storefront's tags are counted, never contacted.

The interception is the browser's, not one page's: a popup the page opens,
a worker it starts, and their requests pass through it too. Selenium's own
``execute_cdp_cmd`` cannot receive the ``Fetch.requestPaused`` events, so
this opens a second DevTools connection, to the browser, with the
``websocket-client`` library that Selenium itself depends on.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .crawl import MAX_URL, ScanError, origin_of

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

HEADER = "Authorization"
MAX_BLOCKED = 10_000
CONNECT_SECONDS = 10


def _browser_socket(driver: WebDriver) -> str:
    address = driver.capabilities.get("goog:chromeOptions", {}).get("debuggerAddress")
    if not address:
        raise ScanError("this chromedriver does not say where Chromium's DevTools are")
    url = f"http://{address}/json/version"
    with urllib.request.urlopen(url, timeout=CONNECT_SECONDS) as answer:
        found = json.loads(answer.read()).get("webSocketDebuggerUrl")
    if not found:
        raise ScanError("Chromium does not say where its DevTools connection is")
    return str(found)


# The longest address the config page's scan lets its browser send: a page
# making megabyte addresses by the hundred would weigh on the server.
MAX_SENT_URL = 16 * 1024


def carry_token(driver: WebDriver, service: str, token: str) -> Callable[[], None]:
    """Add ``Authorization: Bearer TOKEN`` to every request the browser sends
    to the origin of ``service`` from now on; return what stops it."""
    return intercept(driver, service, token)


def intercept(
    driver: WebDriver,
    service: str | None,
    token: str | None,
    reaches: Callable[[str], bool] | None = None,
    blocked: list[str] | None = None,
) -> Callable[[], None]:
    """From now on, add the bearer ``token`` to the browser's requests to the
    origin of ``service``; and, given ``reaches``, fail every request to an
    address it refuses (each one's address is added to ``blocked``). Return
    what stops it.
    """
    import websocket  # a dependency of Selenium's

    origin = origin_of(service) if service else None
    if reaches is not None:
        patterns = [{"urlPattern": "*", "requestStage": "Request"}]
    elif origin and token:
        patterns = [{"urlPattern": f"{origin}/*", "requestStage": "Request"}]
    else:
        return lambda: None
    try:
        socket = websocket.create_connection(
            _browser_socket(driver), timeout=CONNECT_SECONDS, suppress_origin=True
        )
    except (websocket.WebSocketException, OSError, ValueError) as exc:
        raise ScanError(f"the scan's browser cannot be prepared: {exc}") from None
    lock = threading.Lock()
    ids = iter(range(1, 1 << 62))

    def send(method: str, params: dict[str, Any]) -> int:
        with lock:
            number = next(ids)
            socket.send(json.dumps({"id": number, "method": method, "params": params}))
            return number

    enabled = send("Fetch.enable", {"patterns": patterns})
    # The first page must not load before the interception is in place.
    try:
        while json.loads(socket.recv()).get("id") != enabled:
            pass
    except (websocket.WebSocketException, OSError, ValueError) as exc:
        socket.close()
        raise ScanError(f"the scan's browser cannot be prepared: {exc}") from None
    socket.settimeout(None)

    def paused(params: dict[str, Any]) -> None:
        request = params["request"]
        url = request["url"]
        if reaches is not None and (len(url) > MAX_SENT_URL or not reaches(url)):
            # Counted up to a bound: a page that makes a million requests
            # must not grow the server's memory by as many addresses.
            if blocked is not None and len(blocked) < MAX_BLOCKED:
                blocked.append(url[:MAX_URL])
            send(
                "Fetch.failRequest",
                {"requestId": params["requestId"], "errorReason": "BlockedByClient"},
            )
            return
        continued: dict[str, Any] = {"requestId": params["requestId"]}
        # The pattern may be wider than the origin: this makes sure of it.
        if token and origin and origin_of(url) == origin:
            headers = [
                {"name": k, "value": v}
                for k, v in request.get("headers", {}).items()
                if k.lower() != HEADER.lower()
            ]
            headers.append({"name": HEADER, "value": f"Bearer {token}"})
            continued["headers"] = headers
        send("Fetch.continueRequest", continued)

    def listen() -> None:
        while True:
            try:
                message = json.loads(socket.recv())
            except (websocket.WebSocketException, OSError, ValueError):
                return  # closed: the visit is over
            if message.get("method") == "Fetch.requestPaused":
                try:
                    paused(message["params"])
                except (websocket.WebSocketException, OSError):
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()

    def stop() -> None:
        socket.close()
        listener.join(timeout=5)

    return stop
