"""Visiting a storefront in headless Chromium, as a new visitor would, three times.

Each visit starts Chromium on a fresh profile (its own ``--user-data-dir``),
so nothing of an earlier visit's choice is carried over. What a visit records:
every request attempt to another host, from Chrome's performance log (a
request that fails, or is blocked, still shows there); every cookie the
browser holds (first or third party, through the DevTools protocol);
the page's local and session storage keys; and, on the first visit, the
page's same-origin links and the consent script it embeds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urldefrag, urlsplit

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

Phase = Literal["before", "rejected", "accepted"]
PHASES: tuple[Phase, ...] = ("before", "rejected", "accepted")
PHASE_TEXT = {
    "before": "before a choice",
    "rejected": "after Reject all",
    "accepted": "after Accept all",
}
ACTIONS = {"rejected": "reject-all", "accepted": "accept-all"}
NOTICE = '#consent-banner [data-consent-layer="notice"]'

# How long a page may take to load, to show the banner and to record a choice.
PAGE_SECONDS = 30
BANNER_SECONDS = 8
RECORD_SECONDS = 10
# A page has settled when no request started or ended for this long; a page
# that never settles (a beacon every second) is taken as it is after the bound.
QUIET_SECONDS = 0.5
SETTLE_BOUND_SECONDS = 6

# What one visit keeps at most, so that a page made to flood the scan (a
# thousand cookies, a request per millisecond) cannot grow its report, or
# the server's memory, without bound: of each kind (distinct addresses,
# cookies, storage keys), and the length of each address and name.
MAX_PER_VISIT = 1000
MAX_URL = 2048
MAX_NAME = 256
MAX_STARTED = 20_000  # requests the log keeps between two readings of it

EMBED = re.compile(
    r"^(https?://[^?#]+?)/s/([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)/consent\.js(?:[?#]|$)"
)


class ScanError(Exception):
    """The scan cannot run: Selenium, Chromium or chromedriver is missing or
    failed to start, or the start page cannot be loaded."""


@dataclasses.dataclass(frozen=True)
class Chromium:
    """Where Chromium and chromedriver are, and more switches for Chromium."""

    binary: str = "/usr/bin/chromium"
    driver: str = "/usr/bin/chromedriver"
    arguments: tuple[str, ...] = ()
    # Profile preferences the browser starts with (name, value).
    preferences: tuple[tuple[str, Any], ...] = ()

    def check(self) -> None:
        """Stop with one line when something the scan needs is not installed.

        :raise ScanError: naming what is missing and how to get it.
        """
        try:
            import selenium  # noqa: F401
        except ImportError:
            raise ScanError(
                "the scan needs Selenium: pip install 'consent-server[scan]'"
            ) from None
        for path, name, package in (
            (self.binary, "Chromium", "chromium"),
            (self.driver, "chromedriver", "chromium-driver"),
        ):
            if not Path(path).is_file():
                raise ScanError(
                    f"{name} is not at {path}: install it (Debian: apt-get install"
                    f" {package}) or name it with --{name.lower()}"
                )

    def start(self, profile: str) -> WebDriver:
        """Start headless Chromium on the profile folder ``profile``."""
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = _leashed(self.binary, profile)
        for argument in (
            "--headless=new",
            # Chromium's sandbox cannot run as root; as any other user, it
            # keeps a renderer bug of a scanned page inside the renderer.
            *(("--no-sandbox",) if os.geteuid() == 0 else ()),
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            # Chromium's own traffic (updates, sync, safe browsing) is not the
            # storefront's, and a scan sends no traffic it does not need.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
            # What a page could tell a scan from a visitor by: the automation
            # flag, and "HeadlessChrome" in the user agent.
            "--disable-blink-features=AutomationControlled",
            # A page's script gets a bounded heap, and the pages of a visit
            # a bounded number of processes.
            "--js-flags=--max-old-space-size=512",
            "--renderer-process-limit=4",
            f"--user-agent={_user_agent(self.binary)}",
            # A cross-site iframe runs in a process of its own, whose requests
            # Chrome's performance log does not show: a tag's frame (a video,
            # an ad) would go unseen. This throwaway browser holds nothing
            # that site isolation would protect (the scan token, if any, is
            # added outside the page), so the frames share the page's process.
            "--disable-site-isolation-trials",
            # Last, Chromium's own fetching of its page hints and models,
            # which the switches above leave on.
            "--disable-features=IsolateOrigins,site-per-process,"
            "OptimizationGuideModelDownloading,OptimizationHintsFetching,"
            "OptimizationTargetPrediction,OptimizationHints",
            f"--user-data-dir={profile}",
            *self.arguments,
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        # chromedriver turns the popup blocker off: a page may then open a
        # hundred windows at once.
        options.add_experimental_option(
            "excludeSwitches", ["enable-automation", "disable-popup-blocking"]
        )
        options.add_experimental_option(
            "prefs",
            {
                # Nothing a page offers is saved, and never outside the profile.
                "download.default_directory": str(Path(profile) / "downloads"),
                "download.prompt_for_download": False,
                "download_restrictions": 3,
                **dict(self.preferences),
            },
        )
        try:
            # chromedriver, and the Chromium it starts, in a process group of
            # their own: the watchdog of a visit stops them all at once. Both
            # die with the process that started them, too.
            service = Service(
                _leashed(self.driver, profile),
                popen_kw={"start_new_session": True},
            )
            driver = webdriver.Chrome(service=service, options=options)
        except WebDriverException as exc:
            first = (exc.msg or str(exc)).strip().splitlines()[:1]
            raise ScanError(f"Chromium did not start: {' '.join(first)}") from None
        try:
            driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "deny"})
        except WebDriverException as exc:
            driver.quit()
            raise ScanError(
                f"the scan's browser cannot be prepared: {exc.msg}"
            ) from None
        driver.set_page_load_timeout(PAGE_SECONDS)
        driver.set_script_timeout(PAGE_SECONDS)
        return driver


# Runs a program so that the kernel kills it (SIGKILL) when the process, or
# the thread, that started it ends, however it ends (Linux's
# PR_SET_PDEATHSIG, which an exec keeps; elsewhere it just runs it). A shell
# script, so that no path in its first line can hold a space.
LEASH = """#!/bin/sh
exec {python} -c '
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)
except (OSError, AttributeError):
    pass
os.execv(sys.argv[1], sys.argv[1:])
' {binary} "$@"
"""


def _leashed(binary: str, profile: str) -> str:
    """A program in ``profile`` that runs ``binary`` on a :data:`LEASH`: so
    chromedriver dies with the server process that started it, and Chromium
    with chromedriver, and a server killed mid-scan (a restart, a deploy)
    leaves no browser running on. Where the profile's folder cannot hold a
    program (a noexec mount) or there is no /bin/sh, ``binary`` itself."""
    path = Path(profile) / f"{Path(binary).name}-leashed"
    if not Path("/bin/sh").exists():
        return binary
    path.write_text(
        LEASH.format(python=shlex.quote(sys.executable), binary=shlex.quote(binary))
    )
    path.chmod(0o700)
    return str(path) if os.access(path, os.X_OK) else binary


@functools.cache
def _user_agent(binary: str) -> str:
    """The user agent of a desktop Chrome of the same major version."""
    try:
        said = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, subprocess.SubprocessError):
        said = ""
    found = re.search(r"(\d+)\.\d+\.\d+\.\d+", said)
    major = found.group(1) if found else "130"
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
        f" Chrome/{major}.0.0.0 Safari/537.36"
    )


@dataclasses.dataclass(frozen=True)
class Request:
    """One request attempt to another host, and what started it."""

    url: str
    host: str
    kind: str  # Chrome's resource type: Script, Image, XHR, Fetch, ...
    started_by: str  # "the page's markup, line 12", "https://x/tag.js", ...
    element: str = ""  # the start tag of the element that loads it, if found


@dataclasses.dataclass(frozen=True)
class Cookie:
    """A cookie the browser held at the end of a visit."""

    name: str
    domain: str
    first_party: bool
    days: float | None  # None: a session cookie
    set_by: str = ""  # "an inline script of https://shop/, line 12", ...


@dataclasses.dataclass(frozen=True)
class Embed:
    """The consent service and site a page's consent script names."""

    service: str  # https://consent.example
    site: str


@dataclasses.dataclass
class Visit:
    """What one visit of one page saw."""

    page: str
    phase: Phase
    banner: bool = False
    recorded: bool = False
    requests: list[Request] = dataclasses.field(default_factory=list)
    cookies: list[Cookie] = dataclasses.field(default_factory=list)
    local_storage: list[str] = dataclasses.field(default_factory=list)
    session_storage: list[str] = dataclasses.field(default_factory=list)
    links: list[str] = dataclasses.field(default_factory=list)
    embed: Embed | None = None  # the first of embeds
    embeds: list[Embed] = dataclasses.field(default_factory=list)
    problem: str = ""
    unreachable: str = ""  # why the page could not be scanned at all
    cut: int = 0  # what was seen past the bounds and not kept
    stopped: bool = False  # the browser was killed at the scan's time bound


def host_of(url: str) -> str:
    """The host of an address, lower-case ("" when it has none)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an address, as the browser compares them:
    lower case, with no user part, and no port when it is the scheme's own
    (``https://shop.example:443`` is ``https://shop.example``)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # not a port: the address as written, never a match
        return f"{scheme}://{parts.netloc}".lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class NetworkLog:
    """Chrome's performance log, read as it grows: the requests a page tried."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver
        self.started: list[dict[str, Any]] = []
        self.dropped = 0  # requests past MAX_STARTED, counted only
        self.pending: set[str] = set()
        self.urls: dict[str, str] = {}
        # Cookie names, and the address whose answer set each (Set-Cookie).
        self.set_by: dict[str, str] = {}

    def read(self) -> int:
        """Take in what the log gained; return how many network events that was."""
        seen = 0
        entries: list[dict[str, Any]] = self.driver.get_log("performance")  # type: ignore[no-untyped-call]
        for entry in entries:
            message = json.loads(entry["message"])["message"]
            method, params = message.get("method", ""), message.get("params", {})
            if method == "Network.requestWillBeSent":
                seen += 1
                url = str(params.get("request", {}).get("url", ""))[:MAX_URL]
                if params.get("type") == "Preflight":
                    pass
                elif len(self.started) < MAX_STARTED:
                    self.started.append(_slim(params, url))
                else:
                    self.dropped += 1
                self.pending.add(params.get("requestId", ""))
                if len(self.urls) < MAX_STARTED:
                    self.urls[params.get("requestId", "")] = url
            elif method == "Network.responseReceivedExtraInfo":
                self._set_cookies(params)
            elif method in ("Network.loadingFinished", "Network.loadingFailed"):
                seen += 1
                self.pending.discard(params.get("requestId", ""))
            elif method == "Network.webSocketCreated":
                # A socket opened to a tracker is a request to it all the same.
                seen += 1
                if len(self.started) >= MAX_STARTED:
                    self.dropped += 1
                    continue
                self.started.append(
                    _slim(
                        {"type": "WebSocket", "initiator": params.get("initiator")},
                        str(params.get("url", ""))[:MAX_URL],
                    )
                )
        return seen

    def _set_cookies(self, params: dict[str, Any]) -> None:
        headers = params.get("headers") or {}
        url = self.urls.get(params.get("requestId", ""), "")
        for key, value in headers.items():
            if key.lower() != "set-cookie":
                continue
            for line in str(value).split("\n"):
                name = line.split("=", 1)[0].strip()[:MAX_NAME]
                if name and url and len(self.set_by) < MAX_PER_VISIT:
                    self.set_by.setdefault(name, f"the answer from {url[:MAX_URL]}")

    def settle(self, deadline: float) -> None:
        """Wait until no request started or ended for a moment, within a bound."""
        bound = min(deadline, time.monotonic() + SETTLE_BOUND_SECONDS)
        quiet_since = time.monotonic()
        while time.monotonic() < bound:
            if self.read():
                quiet_since = time.monotonic()
            elif not self.pending and time.monotonic() - quiet_since >= QUIET_SECONDS:
                return
            time.sleep(0.1)

    def take(self) -> list[dict[str, Any]]:
        """The requests started since the last call (and forget the count of
        those past the bound)."""
        taken, self.started, self.dropped = self.started, [], 0
        return taken


def _slim(params: dict[str, Any], url: str) -> dict[str, Any]:
    """What is kept of a request the log showed: its address (cut to
    :data:`MAX_URL`), its kind and the first script frame that started it;
    not its headers, body or whole stack, which a page can make huge."""
    initiator = params.get("initiator") or {}
    kept: dict[str, Any] = {
        key: initiator[key] for key in ("type", "url", "lineNumber") if key in initiator
    }
    if isinstance(kept.get("url"), str):
        kept["url"] = kept["url"][:MAX_URL]
    stack = initiator.get("stack")
    while stack:
        frames = [f for f in stack.get("callFrames", []) if f.get("url")]
        if frames:
            frame = frames[0]
            kept["stack"] = {
                "callFrames": [
                    {
                        "url": str(frame["url"])[:MAX_URL],
                        "lineNumber": frame.get("lineNumber", 0),
                    }
                ]
            }
            break
        stack = stack.get("parent")
    return {
        "request": {"url": url},
        "type": params.get("type") or "",
        "initiator": kept,
    }


def _started_by(params: dict[str, Any]) -> str:
    initiator = params.get("initiator") or {}
    kind = initiator.get("type")
    if kind == "parser":
        line = initiator.get("lineNumber")
        where = f", line {line + 1}" if isinstance(line, int) else ""
        return f"the markup of {initiator.get('url', 'the page')}{where}"
    stack = initiator.get("stack")
    while stack:
        for frame in stack.get("callFrames", []):
            url = frame.get("url", "")
            line = frame.get("lineNumber", 0) + 1
            if url:
                return f"the script {url} (line {line})"
        stack = stack.get("parent")
    if kind == "script":
        return "a script on the page"
    if params.get("type") == "Document":
        return "the page itself"
    return "the browser (a style sheet, a redirect or a preload)"


ELEMENTS = """
const wanted = new Set(arguments[0]);
const found = {};
for (const el of document.querySelectorAll('[src], [href], [data-src], [data-href]')) {
  for (const attr of ['src', 'href', 'data-src', 'data-href']) {
    const value = el.getAttribute(attr);
    if (!value) continue;
    let url;
    try { url = new URL(value, document.baseURI).href; } catch (e) { continue; }
    if (wanted.has(url) && !(url in found)) {
      const tag = el.outerHTML;
      const end = tag.indexOf('>');
      found[url] = (end < 0 ? tag : tag.slice(0, end + 1)).slice(0, 300);
    }
  }
}
return found;
"""
STORAGE = f"""
const keys = (s) => {{ try {{ return Object.keys(s); }} catch (e) {{ return []; }} }};
const some = (k) => [
  k.slice(0, {MAX_PER_VISIT}).map((n) => n.slice(0, {MAX_NAME})), k.length];
return [some(keys(window.localStorage)), some(keys(window.sessionStorage))];
"""
LINKS = (
    "return Array.from(document.querySelectorAll('a[href]'), (a) => a.href)"
    ".slice(0, 5000);"
)
SCRIPTS = "return Array.from(document.scripts, (s) => s.src).filter(Boolean);"
LOADED = "return document.readyState === 'complete'"
BANNER = f"""
const notice = document.querySelector('{NOTICE}');
return !!(notice && !notice.hidden && notice.getClientRects().length);
"""
RECORDED = "return !!(window.Consent && window.Consent.get())"
# Which script writes each cookie: a stack trace per document.cookie write,
# kept where the scan can read it. Reading and writing work as before.
COOKIE_WRITES = """
(() => {
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  if (!cookie || !cookie.set) return;
  const writes = [];
  Object.defineProperty(window, '__consentScanCookieWrites', {value: writes});
  Object.defineProperty(Document.prototype, 'cookie', {
    configurable: true,
    enumerable: cookie.enumerable,
    get() { return cookie.get.call(this); },
    set(value) {
      if (writes.length < 500) {
        writes.push([String(value).split('=')[0].trim(), String(new Error().stack)]);
      }
      cookie.set.call(this, value);
    },
  });
})();
"""
# The page can touch this list too: only well-formed, bounded entries count.
READ_COOKIE_WRITES = f"""
const w = window.__consentScanCookieWrites;
if (!Array.isArray(w)) return [];
return w.slice(0, {MAX_PER_VISIT})
  .filter((x) => Array.isArray(x) && x.length === 2)
  .map((x) => [String(x[0]).slice(0, {MAX_NAME}), String(x[1]).slice(0, 4000)]);
"""
FRAME = re.compile(r"(https?://[^\s()]+):(\d+):\d+")
NAVIGATION = """
const n = performance.getEntriesByType('navigation')[0];
return [location.href, (n && n.responseStatus) || 0];
"""


def _wait(driver: WebDriver, script: str, seconds: float) -> bool:
    from selenium.common.exceptions import JavascriptException

    end = time.monotonic() + seconds
    while True:
        try:
            if driver.execute_script(script):
                return True
        except JavascriptException:
            pass  # the document went away under us (a reload)
        if time.monotonic() > end:
            return False
        time.sleep(0.05)


def _writer(stack: str, page: str) -> str:
    """Who wrote a cookie, from the stack trace of the write."""
    match = FRAME.search(stack)
    if match is None:
        return "a script on the page"
    url, line = match.group(1)[:MAX_URL], match.group(2)[:10]
    if urldefrag(url).url == urldefrag(page).url:
        return f"an inline script of {url}, line {line}"
    return f"the script {url} (line {line})"


def _cookies(driver: WebDriver, page_host: str, set_by: dict[str, str]) -> list[Cookie]:
    from selenium.common.exceptions import WebDriverException

    try:
        found = driver.execute_cdp_cmd("Storage.getCookies", {})["cookies"]
    except WebDriverException:
        found = driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    now = time.time()
    cookies = []
    for c in found[:MAX_PER_VISIT]:
        domain = str(c.get("domain", "")).lower().lstrip(".")[:MAX_NAME]
        first = page_host == domain or page_host.endswith("." + domain)
        days = None if c.get("session") else round((c["expires"] - now) / 86400, 1)
        name = str(c["name"])[:MAX_NAME]
        cookies.append(Cookie(name, domain, first, days, set_by.get(name, "")))
    return sorted(cookies, key=lambda c: (c.domain, c.name))


def _requests(
    driver: WebDriver, started: list[dict[str, Any]], page_host: str
) -> list[Request]:
    elsewhere = [
        p
        for p in started
        if p["request"]["url"].startswith(("http:", "https:", "ws:", "wss:"))
        and host_of(p["request"]["url"]) not in ("", page_host)
    ]
    urls = sorted({p["request"]["url"] for p in elsewhere})[:MAX_PER_VISIT]
    elements: dict[str, str] = driver.execute_script(ELEMENTS, urls) if urls else {}
    made: list[Request] = []
    seen: set[str] = set()
    for p in elsewhere:
        url = p["request"]["url"]
        if url in seen or len(seen) >= MAX_PER_VISIT:
            continue
        seen.add(url)
        made.append(
            Request(
                url if len(url) <= MAX_URL else url[:MAX_URL] + "…",
                host_of(url),
                p.get("type", ""),
                _started_by(p),
                elements.get(url, ""),
            )
        )
    return made


def _embeds(driver: WebDriver) -> list[Embed]:
    """The consent scripts the page embeds, in document order, each once."""
    found: list[Embed] = []
    for src in driver.execute_script(SCRIPTS):
        match = EMBED.match(src)
        embed = Embed(match.group(1), match.group(2)) if match else None
        if embed is not None and embed not in found and len(found) < 10:
            found.append(embed)
    return found


def _same_origin_links(driver: WebDriver, page: str) -> list[str]:
    origin = origin_of(page)
    links = []
    for href in driver.execute_script(LINKS):
        url = urldefrag(str(href)).url
        same_origin = url.startswith(("http:", "https:")) and origin_of(url) == origin
        if same_origin and not _is_file(url) and url not in links:
            links.append(url)
    return links


# Links to files rather than pages: a scan has nothing to learn from them.
FILES = re.compile(
    r"\.(?:pdf|zip|gz|jpe?g|png|gif|webp|svg|mp4|webm|mp3|csv|xlsx?|docx?)$", re.I
)


def _is_file(url: str) -> bool:
    return bool(FILES.search(urlsplit(url).path))


def _record(visit: Visit, driver: WebDriver, log: NetworkLog, page_host: str) -> None:
    dropped = log.dropped
    started = log.take()
    visit.requests = _requests(driver, started, page_host)
    set_by = dict(log.set_by)
    page = str(driver.execute_script("return location.href"))
    for name, stack in driver.execute_script(READ_COOKIE_WRITES):
        set_by.setdefault(str(name), _writer(str(stack), page))
    visit.cookies = _cookies(driver, page_host, set_by)
    (local, locals_), (session, sessions) = driver.execute_script(STORAGE)
    visit.local_storage = sorted(str(k) for k in local)
    visit.session_storage = sorted(str(k) for k in session)
    visit.cut = (
        dropped
        + max(0, len({p["request"]["url"] for p in started}) - MAX_PER_VISIT)
        + max(0, int(locals_) - len(local))
        + max(0, int(sessions) - len(session))
    )


class Watchdog:
    """Stops a visit's browser at the scan's time bound, from another thread.

    A page can hold every WebDriver command (a synchronous request whose
    answer comes a byte at a time), and the crawl checks its bound only
    between commands: so, at ``deadline``, chromedriver and every Chromium
    process are killed (they share a process group), the command under way
    fails and the visit ends.
    """

    def __init__(self, driver: WebDriver, deadline: float) -> None:
        self.fired = False
        self._group = driver.service.process.pid  # its session's leader
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self.kill)
        self._timer.daemon = True
        self._timer.start()

    def kill(self) -> None:
        """Kill the browser now."""
        self.fired = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._group, signal.SIGKILL)

    def cancel(self) -> None:
        """The visit is over: nothing to kill."""
        self._timer.cancel()


def visit_page(
    chromium: Chromium,
    page: str,
    phase: Phase,
    deadline: float,
    prepare: Callable[[WebDriver], Callable[[], None]] | None = None,
) -> Visit:
    """Visit ``page`` in a fresh profile: as it is (``before``), or choosing
    Reject all or Accept all on the banner and then loading it again.

    ``prepare`` is called on the new browser before the page loads; what it
    returns is called when the visit ends. At ``deadline`` the browser is
    killed, whatever the page does, and the visit ends ``stopped``.
    """
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.common.by import By

    visit = Visit(page, phase)
    page_host = host_of(page)
    # A killed browser may leave its profile half written.
    with tempfile.TemporaryDirectory(
        prefix="consent-scan-", ignore_cleanup_errors=True
    ) as profile:
        driver = chromium.start(profile)
        watchdog = Watchdog(driver, deadline)
        finish: Callable[[], None] | None = None
        try:
            finish = prepare(driver) if prepare else None
            driver.execute_cdp_cmd(
                "Page.addScriptToEvaluateOnNewDocument", {"source": COOKIE_WRITES}
            )
            log = NetworkLog(driver)
            try:
                driver.get(page)
            except TimeoutException:
                visit.problem = f"the page did not load within {PAGE_SECONDS} s"
            _wait(driver, LOADED, PAGE_SECONDS)
            href, status = driver.execute_script(NAVIGATION)
            if str(href).startswith("chrome-error:"):
                visit.unreachable = "it could not be loaded (a network error)"
            elif status >= 400:
                visit.unreachable = f"it answered HTTP {status}"
            if visit.unreachable:
                return visit
            visit.banner = _wait(driver, BANNER, BANNER_SECONDS)
            log.settle(deadline)
            if phase == "before":
                visit.embeds = _embeds(driver)
                visit.embed = visit.embeds[0] if visit.embeds else None
                # Links are followed from where the page ended up, if that is
                # still the same host (http to https, say).
                here = str(href) if host_of(str(href)) == page_host else page
                visit.links = _same_origin_links(driver, here)
                _record(visit, driver, log, page_host)
                return visit
            if not visit.banner:
                visit.problem = "the banner did not show, so no choice could be made"
                return visit
            # What loaded before the choice is the first visit's business.
            log.take()
            button = f'{NOTICE} [data-consent-action="{ACTIONS[phase]}"]'
            driver.find_element(By.CSS_SELECTOR, button).click()
            visit.recorded = _wait(driver, RECORDED, RECORD_SECONDS)
            if not visit.recorded:
                visit.problem = "the choice was not recorded by the consent service"
            log.settle(deadline)
            # The next page view, with the choice in place.
            driver.get(page)
            _wait(driver, LOADED, PAGE_SECONDS)
            log.settle(deadline)
            _record(visit, driver, log, page_host)
            return visit
        except Exception as exc:
            # Killed at the bound, the browser's connection fails in any of
            # the ways an HTTP client can.
            if watchdog.fired:
                return visit
            if not isinstance(exc, WebDriverException):
                raise
            first = (exc.msg or str(exc)).strip().splitlines()[:1]
            visit.problem = f"the browser failed: {' '.join(first)}"
            return visit
        finally:
            watchdog.cancel()
            visit.stopped = watchdog.fired
            # The browser goes first: until it has, the page could still
            # send requests that ``finish`` would no longer see.
            if watchdog.fired:
                with contextlib.suppress(Exception):  # dead already
                    driver.quit()
            else:
                driver.quit()
            if finish is not None:
                finish()


@dataclasses.dataclass(frozen=True)
class Progress:
    """How far a crawl got: pages done (all three visits, or skipped) of the
    pages known so far, and visits made."""

    pages_done: int
    pages_planned: int
    visits_done: int


@dataclasses.dataclass
class Crawl:
    """Every visit of a scan, in order, and why it stopped early if it did."""

    start: str
    visits: list[Visit]
    stopped: str = ""
    skipped: list[str] = dataclasses.field(default_factory=list)

    @property
    def pages(self) -> list[str]:
        """The pages visited, in order."""
        return list(dict.fromkeys(v.page for v in self.visits))

    @property
    def embed(self) -> Embed | None:
        """The consent script the first page that has one embeds."""
        return next((v.embed for v in self.visits if v.embed), None)


def crawl(
    start: str,
    chromium: Chromium,
    pages: int = 5,
    seconds: float = 600,
    prepare: Callable[[WebDriver, Embed | None], Callable[[], None]] | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> Crawl:
    """Visit the start page and up to ``pages`` same-origin pages its links
    lead to (breadth first), three times each, within ``seconds``.

    ``prepare(driver, embed)`` readies each new browser (see :func:`visit_page`);
    ``embed`` is what the page's first visit found, None on that visit.
    ``progress`` is told how far the crawl got after every visit.
    """
    chromium.check()
    deadline = time.monotonic() + seconds
    result = Crawl(start, [])
    queue, queued = [start], {start}
    done = visits = 0

    def tell() -> None:
        if progress is not None:
            progress(Progress(done, len(queued), visits))

    while queue:
        page = queue.pop(0)
        embed: Embed | None = None
        for phase in PHASES:
            if time.monotonic() > deadline:
                result.stopped = f"the scan stopped at its time bound ({seconds:g} s)"
                return result

            def ready(
                driver: WebDriver, embed: Embed | None = embed
            ) -> Callable[[], None]:
                return prepare(driver, embed) if prepare else (lambda: None)

            visit = visit_page(chromium, page, phase, deadline, ready)
            visits += 1
            if visit.stopped:
                # Half a visit says nothing sure: it is left out.
                result.stopped = (
                    f"the scan stopped at its time bound ({seconds:g} s) during"
                    f" a visit of {page} ({PHASE_TEXT[phase]})"
                )
                return result
            if visit.unreachable and page == start:
                raise ScanError(f"{start} cannot be scanned: {visit.unreachable}")
            if visit.unreachable:
                result.skipped.append(f"{page} ({visit.unreachable})")
                break
            result.visits.append(visit)
            if phase == "before":
                embed = visit.embed
                if page == start and visit.problem:
                    raise ScanError(f"{start}: {visit.problem}")
                for link in visit.links:
                    if link not in queued and len(queued) <= pages:
                        queued.add(link)
                        queue.append(link)
            if phase != PHASES[-1]:
                tell()
        done += 1
        tell()
    return result
