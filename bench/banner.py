"""Our banner against vanilla-cookieconsent 3.1 and klaro 0.7 in Chromium.

The same storefront page (``bench/peers/page.html``) is loaded in headless
Debian Chromium with, in turn, our banner (``/s/demo/consent.js`` from the
real application, on the demo site), vanilla-cookieconsent and klaro, each set
up alike (``bench/peers/*.js``: the same five categories, English texts, a
first layer with Accept all, Reject all and Customize). The page comes from
one loopback server, our script from the consent service on a second, the
peers' files from a static server on a third, all over HTTP/1.1 with gzip at
level 9 (as the service compresses ours), the browser's cache off.

For each banner it measures the gzipped bytes of every request the page makes
besides the page itself (Chrome's performance log: ``Network.loadingFinished``
``encodedDataLength`` less the response headers), the time from navigation
start until the banner's first layer is visible (a script added to every
document before the page's own polls on each mutation and each frame), the
main thread's long tasks and the layout shift (``PerformanceObserver``).
Runs are interleaved (ours, vanilla, klaro, ours, ...) after one warm-up load
each; times are medians.

The peers are installed by the script itself on first use into the ignored
``bench/.peers/`` with npm (node and npm needed). Run from the project root::

    python bench/banner.py             # 5 runs of each
    python bench/banner.py --runs 9
"""

from __future__ import annotations

import argparse
import gzip
import json
import mimetypes
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service as DriverService  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402
from werkzeug.wrappers import Request, Response  # noqa: E402

from consent_server import create_app  # noqa: E402
from consent_server.cli import init_database  # noqa: E402
from consent_server.domain.note import Signer  # noqa: E402
from tests.browser import CHROMEDRIVER, chrome_options  # noqa: E402

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
INSTALL = HERE / ".peers"
PACKAGES = ("vanilla-cookieconsent@3.1", "klaro@0.7")
MODULES = INSTALL / "node_modules"
# What each page's <head> carries for its banner, as each project documents
# its embed. {service} and {peers} are the two servers' addresses.
EMBEDS = {
    "none": "",
    "ours": '<script src="{service}/s/demo/consent.js"></script>',
    "vanilla": (
        '<link rel="stylesheet" href="{peers}/vanilla/cookieconsent.css">\n'
        '  <script defer src="{peers}/vanilla/cookieconsent.umd.js"></script>\n'
        '  <script defer src="{peers}/config/vanilla.js"></script>'
    ),
    "klaro": (
        '<script defer src="{peers}/config/klaro.js"></script>\n'
        '  <script defer data-config="klaroConfig" src="{peers}/klaro/klaro.js">'
        "</script>"
    ),
}
# The first layer of each banner, the element that must become visible.
# The bare page ("none") has none: its time is that of its load event.
NOTICES: dict[str, str | None] = {
    "none": None,
    "ours": '#consent-banner [data-consent-layer="notice"]',
    "vanilla": "#cc-main .cm",
    "klaro": ".klaro .cookie-notice",
}
# Where the static server finds the peers' files.
FOLDERS = {
    "vanilla": MODULES / "vanilla-cookieconsent" / "dist",
    "klaro": MODULES / "klaro" / "dist",
    "config": PEERS,
}
# Main-thread CPU time (thread ticks, so a busy machine does not inflate it)
# by kind, from Chrome's Performance.getMetrics.
CPU = {
    "tasks": "TaskDuration",
    "script": "ScriptDuration",
    "layout": "LayoutDuration",
    "style": "RecalcStyleDuration",
}
LONG_TASK_MS = 50
# With --slow-body, where the late part of the page begins.
SLOW_FROM = b"<main>"
TARGET_BYTES = 0.45
TARGET_TIME = 0.6
TIMEOUT = 15.0
# Long tasks and layout shifts may come after the banner shows; wait this long
# after the load event before reading them.
SETTLE = 0.5

# Added to every document before its own scripts run: records when the
# banner's first layer is first visible, the long tasks and the layout shifts.
PROBE = """
(() => {
  const probe = window.__bench = {
    visible: null, longtasks: [], cls: 0, dcl: null, fetched: 0, fcp: null};
  const selector = %s;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) probe.longtasks.push([e.startTime, e.duration]);
  }).observe({type: 'longtask', buffered: true});
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (!e.hadRecentInput) probe.cls += e.value;
  }).observe({type: 'layout-shift', buffered: true});
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.name === 'first-contentful-paint') probe.fcp = e.startTime;
    }
  }).observe({type: 'paint', buffered: true});
  document.addEventListener('DOMContentLoaded', () => {
    probe.dcl = performance.now();
  });
  const shown = () => {
    // The bare page has no banner: its "visible" is its load event.
    if (selector === null) return document.readyState === 'complete';
    const el = document.querySelector(selector);
    if (!el || !el.getClientRects().length) return false;
    const style = getComputedStyle(el);
    return style.visibility !== 'hidden' && parseFloat(style.opacity) > 0;
  };
  const check = () => {
    if (probe.visible === null && shown()) {
      probe.visible = performance.now();
      // When the last of the banner's files had arrived.
      for (const e of performance.getEntriesByType('resource')) {
        probe.fetched = Math.max(probe.fetched, e.responseEnd);
      }
    }
    return probe.visible !== null;
  };
  const watcher = new MutationObserver(() => { if (check()) watcher.disconnect(); });
  watcher.observe(document, {childList: true, subtree: true, attributes: true});
  const frame = () => { if (!check()) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
})();
"""


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def serve(app: Callable[..., Any]) -> tuple[str, Callable[[], None]]:
    """Serve a WSGI app from a thread on a free loopback port; (port, stop)."""
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return str(server.server_port), stop


def gzipped(request: Request, body: bytes, mimetype: str) -> Response:
    """``body``, gzipped at level 9 when the client takes it (as ours is)."""
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-cache"
    if request.accept_encodings["gzip"] > 0:
        response.set_data(gzip.compress(body, 9, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept-Encoding"
    return response


def peers_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    """The peers' files: /vanilla/..., /klaro/..., /config/... (their set-ups)."""
    request = Request(environ)
    _, folder, name = (request.path.split("/", 2) + ["", ""])[:3]
    base = FOLDERS.get(folder)
    path = (base / name).resolve() if base and name else None
    if base is None or path is None or path.parent != base.resolve():
        return Response("not found", 404)(environ, start_response)
    if not path.is_file():
        return Response("not found", 404)(environ, start_response)
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return gzipped(request, path.read_bytes(), mimetype)(environ, start_response)


def slow_page(head: bytes, rest: bytes, delay: float) -> Iterator[bytes]:
    """The page gzipped in two parts, the second ``delay`` seconds later."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    yield packer.compress(head) + packer.flush(zlib.Z_SYNC_FLUSH)
    time.sleep(delay)
    yield packer.compress(rest) + packer.flush()


def storefront_app(
    service: str, peers: str, slow_body_ms: int = 0
) -> Callable[[dict[str, Any], Callable[..., Any]], Any]:
    """The storefront page, /NAME with NAME's banner in its <head>.

    With ``slow_body_ms``, the page up to its header comes at once and the
    rest that much later, as from a shop that sends its <head> before it has
    rendered the page.
    """
    template = (PEERS / "page.html").read_text(encoding="utf-8")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        embed = EMBEDS.get(request.path.strip("/"))
        if embed is None:
            return Response("", 204)(environ, start_response)
        page = template.replace("{banner}", embed.format(service=service, peers=peers))
        if slow_body_ms:
            head, rest = page.encode().split(SLOW_FROM, 1)
            response = Response(
                slow_page(head, SLOW_FROM + rest, slow_body_ms / 1000),
                mimetype="text/html",
            )
            response.headers["Content-Encoding"] = "gzip"
        else:
            response = gzipped(request, page.encode(), "text/html")
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)

    return app


def install_peers() -> None:
    """Install the peers with npm into bench/.peers/, once."""
    if all(folder.is_dir() for folder in FOLDERS.values()):
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is needed to install the peers (Debian: apt-get install npm)")
    INSTALL.mkdir(exist_ok=True)
    (INSTALL / "package.json").write_text('{"private": true}\n')
    print(f"installing {', '.join(PACKAGES)} into {INSTALL}", flush=True)
    subprocess.run(
        [npm, "install", "--prefix", str(INSTALL), "--no-audit", "--no-fund",
         "--ignore-scripts", "--no-save", *PACKAGES],
        check=True,
    )  # fmt: skip


@dataclass
class Load:
    """What one page load of one banner cost."""

    visible_ms: float
    dcl_ms: float
    fcp_ms: float
    fetched_ms: float
    body_bytes: int
    wire_bytes: int
    requests: list[tuple[str, int]]
    longtasks: list[tuple[float, float]]
    cls: float
    cpu: dict[str, float]


@dataclass
class Banner:
    name: str
    loads: list[Load] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(load, attribute) for load in self.loads)


def network(driver: webdriver.Chrome, page: str) -> tuple[int, int, list[Any]]:
    """(gzipped body bytes, bytes on the wire, [(url, body bytes)]) of every
    request the page made besides itself, from the performance log."""
    urls: dict[str, str] = {}
    headers: dict[str, int] = {}
    finished: dict[str, int] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif message["method"] == "Network.responseReceived":
            headers[params["requestId"]] = int(params["response"]["encodedDataLength"])
        elif message["method"] == "Network.loadingFinished":
            finished[params["requestId"]] = int(params["encodedDataLength"])
    requests = [
        (urls[rid], total - headers.get(rid, 0), total)
        for rid, total in finished.items()
        if rid in urls
        and urls[rid] != page
        and urls[rid].startswith("http")
        and not urls[rid].endswith("/favicon.ico")
    ]
    return (
        sum(body for _, body, _ in requests),
        sum(wire for _, _, wire in requests),
        [(url, body) for url, body, _ in requests],
    )


def cpu_metrics(driver: webdriver.Chrome) -> dict[str, float]:
    """The renderer's main-thread CPU ms so far, by kind (Performance.getMetrics)."""
    metrics = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    found = {m["name"]: float(m["value"]) * 1000 for m in metrics}
    return {kind: found.get(name, 0.0) for kind, name in CPU.items()}


def load_once(driver: webdriver.Chrome, url: str, selector: str | None) -> Load:
    """Load the page fresh and read what the probe and the log saw."""
    driver.get("about:blank")
    before = cpu_metrics(driver)
    driver.get_log("performance")
    driver.delete_all_cookies()
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    script = driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": PROBE % json.dumps(selector)},
    )
    try:
        driver.get(url)
        deadline = time.monotonic() + TIMEOUT
        while not driver.execute_script("return window.__bench.visible !== null"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url}: {selector} never became visible")
            time.sleep(0.05)
        time.sleep(SETTLE)
        probe = driver.execute_script("return window.__bench")
        after = cpu_metrics(driver)
    finally:
        driver.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument",
            {"identifier": script["identifier"]},
        )
    body, wire, requests = network(driver, url)
    return Load(
        visible_ms=float(probe["visible"]),
        dcl_ms=float(probe["dcl"] or 0.0),
        fcp_ms=float(probe["fcp"] or 0.0),
        fetched_ms=float(probe["fetched"]),
        body_bytes=body,
        wire_bytes=wire,
        requests=requests,
        longtasks=[(float(start), float(d)) for start, d in probe["longtasks"]],
        cls=float(probe["cls"]),
        cpu={kind: after[kind] - before[kind] for kind in CPU},
    )


def worst_longtasks(banner: Banner) -> tuple[int, float]:
    """(count, total ms) of the long tasks in the run that had the most."""
    return max((len(x.longtasks), sum(d for _, d in x.longtasks)) for x in banner.loads)


def report(banners: dict[str, Banner], runs: int, slow_body_ms: int = 0) -> bool:
    """Print the table and the verdicts; return whether every target holds.

    With the page's body late, ours must also be visible before it came: its
    median time before the median DOMContentLoaded.
    """
    ours, vanilla = banners["ours"], banners["vanilla"]
    fastest = min(
        (banners[name] for name in ("vanilla", "klaro")),
        key=lambda b: b.median("visible_ms"),
    )
    print(f"\n{runs} runs each, interleaved; times are medians from navigation start")
    print("(none: the page without a banner; its 'visible' is its load event)\n")
    print(
        f"{'banner':8s} {'gzipped B':>9s} {'wire B':>7s} {'files':>5s}"
        f" {'fetched':>8s} {'DCL':>6s} {'FCP':>6s} {'visible':>8s}"
        f" {'ratio':>5s} {'long tasks':>10s} {'long ms':>8s} {'CLS':>6s}"
    )
    for b in banners.values():
        last = b.loads[-1]
        count, total = worst_longtasks(b)
        print(
            f"{b.name:8s} {last.body_bytes:9d} {last.wire_bytes:7d}"
            f" {len(last.requests):5d} {b.median('fetched_ms'):8.1f}"
            f" {b.median('dcl_ms'):6.1f} {b.median('fcp_ms'):6.1f}"
            f" {b.median('visible_ms'):8.1f}"
            f" {b.median('visible_ms') / fastest.median('visible_ms'):5.2f}"
            f" {count:10d} {total:8.1f} {max(x.cls for x in b.loads):6.3f}"
        )
    print(
        "\nmain-thread CPU ms (medians; thread time, not inflated by a busy machine):"
    )
    print(f"{'banner':8s} " + " ".join(f"{kind:>7s}" for kind in CPU) + "  added")
    for b in banners.values():
        cpu = {k: statistics.median(x.cpu[k] for x in b.loads) for k in CPU}
        bare = statistics.median(x.cpu["tasks"] for x in banners["none"].loads)
        print(
            f"{b.name:8s} "
            + " ".join(f"{cpu[k]:7.1f}" for k in CPU)
            + f"  {cpu['tasks'] - bare:5.1f}"
        )
    print("\nfiles each banner loaded (gzipped body bytes):")
    for b in banners.values():
        for url, size in b.loads[-1].requests:
            print(f"  {b.name:8s} {size:7d}  {url}")
    print("\nevery run: visible ms [long tasks as start+duration ms]")
    for b in banners.values():
        for x in b.loads:
            tasks = " ".join(f"{s:.0f}+{d:.0f}" for s, d in x.longtasks)
            print(f"  {b.name:8s} {x.visible_ms:7.1f}  [{tasks}]")

    bytes_ratio = ours.loads[-1].body_bytes / vanilla.loads[-1].body_bytes
    time_ratio = ours.median("visible_ms") / fastest.median("visible_ms")
    longtasks, _ = worst_longtasks(ours)
    cls = max(x.cls for x in ours.loads)
    checks = (
        (f"bytes, ours / vanilla-cookieconsent: {bytes_ratio:.2f}"
         f" (target <= {TARGET_BYTES})", bytes_ratio <= TARGET_BYTES),
        (f"time to banner, ours / fastest peer ({fastest.name}): "
         f"{time_ratio:.2f} (target <= {TARGET_TIME})", time_ratio <= TARGET_TIME),
        (f"our long tasks: {longtasks} in the worst run (target 0)", longtasks == 0),
        (f"our layout shift: {cls:.3f} in the worst run (target 0)", cls == 0),
    )  # fmt: skip
    if slow_body_ms:
        visible, dcl = ours.median("visible_ms"), ours.median("dcl_ms")
        checks += (
            (f"ours visible before the late body: {visible:.1f} ms,"
             f" DOMContentLoaded {dcl:.1f} ms", visible < dcl),
        )  # fmt: skip
    runs_with = sum(1 for x in ours.loads if x.longtasks)
    bare_with = sum(1 for x in banners["none"].loads if x.longtasks)
    our_cpu = max(x.cpu["tasks"] for x in ours.loads)
    print(
        f"\nruns with a long task: ours {runs_with} of {runs},"
        f" the bare page {bare_with} of {runs}."
    )
    if longtasks and our_cpu < LONG_TASK_MS:
        print(
            f"All the main thread's tasks of our page took {our_cpu:.1f} ms of CPU"
            f" in the worst run, less than one long task ({LONG_TASK_MS} ms): the"
            " long tasks seen were most likely waits for the busy CPU."
        )
    print()
    for text, ok in checks:
        print(f"{'ok  ' if ok else 'MISS'} {text}")
    return all(ok for _, ok in checks)


def interleaved(names: Iterable[str], runs: int) -> list[str]:
    return [name for _ in range(runs) for name in names]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="loads of each (5)")
    parser.add_argument(
        "--slow-body",
        type=int,
        default=0,
        metavar="MS",
        help="send the page after its header MS ms late (0: all at once)",
    )
    args = parser.parse_args()
    install_peers()

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SECRET_KEY": "banner-bench-0123456789",
                "LOG_KEY": Signer.generate("bench.consent-server.example/log").key,
                "DATABASE_URL": f"sqlite:///{tmp}/banner.sqlite",
                "RATELIMIT_ENABLED": False,
            },
            instance_path=f"{tmp}/instance",
        )
        with app.app_context():
            init_database()
        service_port, stop_service = serve(app)
        peers_port, stop_peers = serve(peers_app)
        # The page is browsed as localhost, the banners come from 127.0.0.1:
        # another origin, as a shop's banner comes from another host.
        shop_port, stop_shop = serve(
            storefront_app(
                f"http://127.0.0.1:{service_port}",
                f"http://127.0.0.1:{peers_port}",
                args.slow_body,
            )
        )
        driver = webdriver.Chrome(
            service=DriverService(CHROMEDRIVER),
            options=chrome_options(Path(tmp) / "profile"),
        )
        try:
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
            driver.execute_cdp_cmd("Performance.enable", {"timeDomain": "threadTicks"})
            banners = {name: Banner(name) for name in EMBEDS}
            for name in EMBEDS:  # warm-up: servers, Chromium, disk
                load_once(driver, f"http://localhost:{shop_port}/{name}", NOTICES[name])
            for name in interleaved(EMBEDS, args.runs):
                load = load_once(
                    driver, f"http://localhost:{shop_port}/{name}", NOTICES[name]
                )
                banners[name].loads.append(load)
                print(
                    f"{name:8s} visible {load.visible_ms:7.1f} ms,"
                    f" {load.body_bytes} bytes", flush=True,
                )  # fmt: skip
        finally:
            driver.quit()
            stop_shop()
            stop_peers()
            stop_service()
            app.extensions["consent_db"].dispose()
    if args.slow_body:
        print(f"\nthe page after its header came {args.slow_body} ms late")
    return 0 if report(banners, args.runs, args.slow_body) else 1


if __name__ == "__main__":
    sys.exit(main())
