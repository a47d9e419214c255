"""The hot paths under wrk, each as a ratio to a hello-world Flask app.

Starts gunicorn with the production settings (``deploy/gunicorn.conf.py``,
rate limits off) twice on loopback ports: once a hello-world Flask app, once
consent-server on a fresh database, and runs ``wrk -t2 -c16`` against the
hello world, then ``GET /s/demo/consent.js`` (gzip), its 304, ``GET
/v1/sites/demo/config`` and ``POST /v1/consent/verify``, then the hello world
again. Each target's requests per second are printed with p50 and p99 and
the ratio to the mean of the two baseline runs (this machine is shared and
noisy: only ratios from one run mean much)::

    python bench/hot_paths.py
    python bench/hot_paths.py --seconds 5 --database-url postgresql://USER:PASS@HOST/DB
    python bench/hot_paths.py --root /path/to/another/checkout   # compare code

``--layers`` prints instead what each layer costs per request in-process
(Flask's test client, no network): the same paths with rate limits on and
off, beside a hello-world app, and the pieces (a pool checkout, JSON
encoding, the after-request hooks) timed alone.

On PostgreSQL the consent-server tables are dropped first: use a database of
its own.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.consent_load import (  # noqa: E402
    HOST,
    ORIGIN,
    free_port,
    prepare_database,
    stop,
)
from tests.servers import wait_until_up  # noqa: E402

HELLO = """
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
"""
VERIFY_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"token": "%s"}'
"""
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run (10)")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the checkout whose code is served"
    )
    parser.add_argument("--layers", action="store_true", help="in-process costs")
    return parser.parse_args(argv)


def wrk(url: str, seconds: int, *extra: str) -> tuple[float, float, float]:
    """Requests per second, p50 and p99 in milliseconds."""
    done = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", *extra, url],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError(f"errors from {url}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        found = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M)
        assert found, out
        return float(found.group(1)) * UNITS[found.group(2)]

    return rate, pct("50"), pct("99")


def serve(app: str, env: dict[str, str], cwd: str, log: Path) -> tuple[int, object]:
    port = free_port()
    settings = str(ROOT / "deploy" / "gunicorn.conf.py")
    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", settings,
             "-b", f"{HOST}:{port}", app],
            env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    return port, server


def a_token(port: int) -> str:
    base = f"http://{HOST}:{port}"
    with urllib.request.urlopen(f"{base}/v1/sites/demo/config", timeout=5) as r:
        config = json.load(r)
    body = {
        "site": "demo",
        "choices": {c: True for c in config["categories"]},
        "method": "accept_all",
        "revision": config["consent_revision"],
        "language": "en",
    }
    request = urllib.request.Request(
        f"{base}/v1/consent",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Origin": ORIGIN},
    )
    with urllib.request.urlopen(request, timeout=5) as r:
        token: str = json.load(r)["token"]
    return token


def an_etag(port: int) -> str:
    request = urllib.request.Request(
        f"http://{HOST}:{port}/s/demo/consent.js",
        headers={"Accept-Encoding": "gzip"},
    )
    with urllib.request.urlopen(request, timeout=5) as r:
        return str(r.headers["ETag"])


def http(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="consent-hot-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'consent.sqlite'}"
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(args.root.resolve()),
            CONSENT_DATABASE_URL=url,
            CONSENT_SECRET_KEY=secrets.token_urlsafe(32),
            CONSENT_RATELIMIT_ENABLED="false",
            CONSENT_INSTANCE_PATH=str(Path(tmp) / "instance"),
        )
        prepare_database(url, env)
        Path(tmp, "hello.py").write_text(HELLO)
        log = Path(tmp) / "gunicorn.log"
        hello_port, hello = serve("hello:app", env, tmp, log)
        port, server = serve("consent_server:create_app()", env, tmp, log)
        try:
            wait_until_up(f"http://{HOST}:{hello_port}/", hello, 30)  # type: ignore[arg-type]
            wait_until_up(f"http://{HOST}:{port}/healthz", server, 30)  # type: ignore[arg-type]
            lua = Path(tmp) / "verify.lua"
            lua.write_text(VERIFY_LUA % a_token(port))
            gzip = ("-H", "Accept-Encoding: gzip")
            base = f"http://{HOST}:{port}"
            targets = [
                ("consent.js", f"{base}/s/demo/consent.js", gzip),
                ("consent.js 304", f"{base}/s/demo/consent.js",
                 (*gzip, "-H", f"If-None-Match: {an_etag(port)}")),
                ("config JSON", f"{base}/v1/sites/demo/config", ()),
                ("verify", f"{base}/v1/consent/verify", ("-s", str(lua))),
            ]  # fmt: skip
            hello_url = f"http://{HOST}:{hello_port}/"
            wrk(hello_url, 2)  # warm up both servers' workers
            for _name, target, extra in targets:
                wrk(target, 2, *extra)
            first = wrk(hello_url, args.seconds)
            found = [(n, wrk(t, args.seconds, *e)) for n, t, e in targets]
            last = wrk(hello_url, args.seconds)
        except BaseException:
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            stop(server)  # type: ignore[arg-type]
            stop(hello)  # type: ignore[arg-type]
    baseline = (first[0] + last[0]) / 2
    print(f"backend {url.split(':', 1)[0]}, code from {args.root}, "
          f"wrk -t2 -c16 -d{args.seconds}s, deploy/gunicorn.conf.py")  # fmt: skip
    print(f"{'target':16}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}")
    for name, (rate, p50, p99) in [
        ("hello (before)", first), ("hello (after)", last), *found
    ]:  # fmt: skip
        print(f"{name:16}{rate:9.0f}{p50:9.2f}{p99:9.2f}{rate / baseline:8.2f}")
    return 0


def per_request(call: object, n: int) -> float:
    """Microseconds per call of ``call()``, best of three rounds."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            call()  # type: ignore[operator]
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e6


def layers(args: argparse.Namespace) -> int:
    from flask import Flask, jsonify

    from consent_server import create_app
    from consent_server.cli import init_database
    from consent_server.web import cors, headers

    n = 2000
    with tempfile.TemporaryDirectory(prefix="consent-layers-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'consent.sqlite'}"
        apps = {}
        for limits in (False, True):
            app = create_app(
                {"TESTING": True, "DATABASE_URL": url, "RATELIMIT_ENABLED": limits,
                 "SECRET_KEY": secrets.token_urlsafe(32),
                 "RATELIMIT_VERIFY": "1000000 per minute"},
                instance_path=str(Path(tmp) / f"i{limits}"),
            )  # fmt: skip
            with app.app_context():
                init_database()
            apps[limits] = app
        hello = Flask("hello")
        hello.get("/")(lambda: "Hello, World!")
        client = apps[False].test_client()
        token = client.post(
            "/v1/consent",
            json={"site": "demo", "method": "reject_all", "revision": 1,
                  "language": "en", "choices": {"preferences": False,
                  "analytics": False, "advertising": False}},
            headers={"Origin": ORIGIN},
        ).get_json()["token"]  # fmt: skip
        etag = client.get("/s/demo/consent.js").headers["ETag"]
        paths = {
            "consent.js": ("get", "/s/demo/consent.js", {}),
            "consent.js 304": ("get", "/s/demo/consent.js",
                               {"headers": {"If-None-Match": etag}}),
            "config JSON": ("get", "/v1/sites/demo/config", {}),
            "verify": ("post", "/v1/consent/verify", {"json": {"token": token}}),
        }  # fmt: skip
        hello_client = hello.test_client()
        hello_us = per_request(lambda: hello_client.get("/"), n)
        print(f"in-process, best of 3 x {n}; hello world: {hello_us:.0f} us")
        print(f"{'path':16}{'limits off':>12}{'limits on':>12}{'x hello':>9}")
        for name, (method, path, options) in paths.items():
            costs = []
            for limits in (False, True):
                c = apps[limits].test_client()
                call = getattr(c, method)
                costs.append(per_request(lambda: call(path, **options), n))  # noqa: B023
            print(f"{name:16}{costs[0]:10.0f}us{costs[1]:10.0f}us"
                  f"{costs[0] / hello_us:9.1f}")  # fmt: skip
        app = apps[False]
        engine = app.extensions["consent_db"]
        config = client.get("/v1/sites/demo/config").get_json()
        with app.test_request_context("/s/demo/consent.js"):
            response = app.response_class("x")
            parts = {
                "pool checkout + return": lambda: engine.connect().close(),
                "jsonify(config)": lambda: jsonify(config).get_data(),
                "security headers hook": lambda: headers._fill(response),
                "CORS hook": lambda: cors._apply(response),
            }
            for name, call in parts.items():
                print(f"{name:24}{per_request(call, n):8.1f} us")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return layers(args) if args.layers else http(args)


if __name__ == "__main__":
    sys.exit(main())
