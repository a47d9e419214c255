"""Load test: how many ``POST /v1/consent`` a real gunicorn server records per second.

The script prepares a database with ``consent-server init`` (on PostgreSQL it
first drops the consent-server tables, so runs start from the same state),
starts ``gunicorn -w W "consent_server:create_app()"`` on a loopback port with
rate limiting off, and sends N recording requests from C threads, each thread
reusing its own HTTP connection where the server allows it (gunicorn's sync
worker closes it after each response, so the client reconnects). Every request
must be answered 201. It prints throughput and latency percentiles, then runs
``consent-server verify-log`` to check that the log's hash chain is still
intact after the concurrent writes. It exits 1 if any request failed or the
chain is broken.

Run it from the project root, with the package installed::

    python bench/consent_load.py                       # fresh SQLite file
    python bench/consent_load.py --database-url postgresql://USER:PASS@HOST/DB
    python bench/consent_load.py --requests 5000 --concurrency 16 --workers 4

gunicorn also reads ``GUNICORN_CMD_ARGS``: with
``GUNICORN_CMD_ARGS="--worker-class gthread --threads 8"`` the workers are
threaded as in production (deploy/gunicorn.conf.py), and the consents that a
process's threads record at the same time share one commit. On PostgreSQL
the script prints how many rows each commit wrote (``rows/commit``).

The PostgreSQL database must exist already; its consent-server tables are
dropped and recreated, so never point it at a database whose data you need.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consent_server.domain.note import Signer  # noqa: E402
from tests.servers import wait_until_up  # noqa: E402

HOST = "127.0.0.1"
ORIGIN = "http://127.0.0.1:8000"
SITE = "demo"
WARMUP = 50
STARTUP_TIMEOUT = 30.0
SHOW_ERRORS = 5


@dataclass
class Results:
    """What the load threads found, shared under a lock."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    reconnects: int = 0
    error_samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)

    def failed(self, what: str) -> None:
        with self.lock:
            self.errors += 1
            if len(self.error_samples) < SHOW_ERRORS:
                self.error_samples.append(what)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="CONSENT_DATABASE_URL to benchmark (default: a fresh SQLite file)",
    )
    parser.add_argument("--requests", type=int, default=2000, metavar="N")
    parser.add_argument("--concurrency", type=int, default=8, metavar="C")
    parser.add_argument("--workers", type=int, default=2, metavar="W")
    parser.add_argument("--port", type=int, help="default: a free port")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1 or args.workers < 1:
        parser.error("--requests, --concurrency and --workers must be at least 1")
    return args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def backend_name(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0]


def prepare_database(url: str, env: dict[str, str]) -> None:
    """Start from empty tables on PostgreSQL, then run ``consent-server init``."""
    if backend_name(url) == "postgresql":
        import sqlalchemy as sa

        from consent_server.store import engine as store_engine
        from consent_server.store import schema

        engine = store_engine.make_engine(url)
        schema.metadata.drop_all(engine)
        # Without its tables the schema's recorded revision would only stop
        # ``init`` from making them again.
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
    subprocess.run(["consent-server", "init"], env=env, check=True)


def site_config(port: int) -> dict[str, Any]:
    url = f"http://{HOST}:{port}/v1/sites/{SITE}/config"
    with urllib.request.urlopen(url, timeout=5) as response:
        config: dict[str, Any] = json.load(response)
        return config


def make_body(i: int, config: dict[str, Any]) -> bytes:
    """A custom choice over the shown categories, varying with ``i``."""
    choices = {c: bool((i >> n) & 1) for n, c in enumerate(config["categories"])}
    body = {
        "site": SITE,
        "choices": choices,
        "method": "custom",
        "revision": config["consent_revision"],
        "language": "en",
        "url": f"{ORIGIN}/product?id={i % 100}",
    }
    return json.dumps(body).encode()


class Client:
    """One thread's connection; reopened when the server has closed it."""

    HEADERS = {"Content-Type": "application/json", "Origin": ORIGIN}

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)

    def post(self, body: bytes, results: Results | None) -> tuple[int, bytes]:
        # http.client reconnects by itself after a "Connection: close" answer.
        # A reused connection may still have been closed by the server while
        # idle; only then is a retry safe, as the request never reached it.
        reused = self.conn.sock is not None
        try:
            return self._post(body)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.conn.close()
            if not reused:
                raise
            if results is not None:
                with results.lock:
                    results.reconnects += 1
            return self._post(body)

    def _post(self, body: bytes) -> tuple[int, bytes]:
        self.conn.request("POST", "/v1/consent", body=body, headers=self.HEADERS)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


def worker(
    port: int,
    bodies: list[bytes],
    results: Results,
    start: threading.Barrier,
) -> None:
    client = Client(port)
    start.wait()
    try:
        for body in bodies:
            began = time.perf_counter()
            try:
                status, answer = client.post(body, results)
            except (OSError, http.client.HTTPException) as exc:
                client.close()
                results.failed(f"{type(exc).__name__}: {exc}")
                continue
            if status == 201:
                results.ok(time.perf_counter() - began)
            else:
                results.failed(f"{status}: {answer.decode(errors='replace')[:500]}")
    finally:
        client.close()


def run_load(
    port: int, config: dict[str, Any], requests: int, concurrency: int
) -> tuple[Results, float]:
    """Send ``requests`` bodies from ``concurrency`` threads; return the wall time."""
    bodies = [make_body(i, config) for i in range(requests)]
    shares = [bodies[t::concurrency] for t in range(concurrency)]
    results = Results()
    start = threading.Barrier(concurrency + 1)
    threads = [
        threading.Thread(target=worker, args=(port, share, results, start))
        for share in shares
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - began


def warm_up(port: int, config: dict[str, Any]) -> None:
    client = Client(port)
    try:
        for i in range(WARMUP):
            status, answer = client.post(make_body(i, config), None)
            if status != 201:
                raise RuntimeError(
                    f"warm-up request answered {status}: {answer[:500]!r}"
                )
    finally:
        client.close()


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list, in milliseconds."""
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1] * 1000


def report(
    args: argparse.Namespace, url: str, results: Results, elapsed: float
) -> None:
    ordered = sorted(results.latencies)
    rows = [
        ("backend", backend_name(url)),
        ("requests", args.requests),
        ("concurrency", args.concurrency),
        ("workers", args.workers),
        ("elapsed s", f"{elapsed:.2f}"),
        ("requests/s", f"{len(ordered) / elapsed:.1f}"),
        ("p50 ms", f"{percentile(ordered, 50):.1f}"),
        ("p95 ms", f"{percentile(ordered, 95):.1f}"),
        ("p99 ms", f"{percentile(ordered, 99):.1f}"),
        ("errors", results.errors),
        ("reconnects", results.reconnects),
    ]
    for name, value in rows:
        print(f"{name:<12} {value}")
    for sample in results.error_samples:
        print(f"  error: {sample}")


def rows_per_commit(url: str) -> str:
    """How many rows each commit wrote on average: on PostgreSQL every row
    names the transaction that wrote it (``xmin``); SQLite keeps no such
    trace."""
    if backend_name(url) != "postgresql":
        return "n/a (PostgreSQL only)"
    import sqlalchemy as sa

    from consent_server.store import engine as store_engine

    engine = store_engine.make_engine(url)
    try:
        with engine.connect() as conn:
            rows, commits = conn.execute(
                sa.text(
                    "SELECT count(*), count(DISTINCT xmin::text) FROM consent_events"
                )
            ).one()
    finally:
        engine.dispose()
    return f"{rows / max(commits, 1):.2f} ({rows} rows in {commits} commits)"


def verify_log(env: dict[str, str]) -> bool:
    done = subprocess.run(
        ["consent-server", "verify-log"], env=env, capture_output=True, text=True
    )
    print(f"verify-log   {(done.stdout + done.stderr).strip()}")
    return done.returncode == 0


def stop(server: subprocess.Popen[bytes]) -> None:
    """End gunicorn's whole process group: the arbiter and its workers."""
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    except ProcessLookupError:
        pass


def show_log(path: Path, lines: int = 40) -> None:
    tail = path.read_text(errors="replace").splitlines()[-lines:]
    print(f"--- gunicorn log (last {lines} lines) ---", file=sys.stderr)
    print("\n".join(tail), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="consent-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'consent.sqlite'}"
        port = args.port or free_port()
        env = dict(os.environ)
        env.update(
            CONSENT_DATABASE_URL=url,
            CONSENT_SECRET_KEY=secrets.token_urlsafe(32),
            CONSENT_LOG_KEY=Signer.generate("bench.consent-server.example/log").key,
            CONSENT_RATELIMIT_ENABLED="false",
        )
        prepare_database(url, env)

        server_log = Path(tmp) / "gunicorn.log"
        with server_log.open("wb") as log_file:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-w",
                    str(args.workers),
                    "-b",
                    f"{HOST}:{port}",
                    "consent_server:create_app()",
                ],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                wait_until_up(f"http://{HOST}:{port}/healthz", server, STARTUP_TIMEOUT)
                config = site_config(port)
                warm_up(port, config)
                results, elapsed = run_load(
                    port, config, args.requests, args.concurrency
                )
            except BaseException:
                show_log(server_log)
                raise
            finally:
                stop(server)

        report(args, url, results, elapsed)
        print(f"rows/commit  {rows_per_commit(url)}")
        if results.errors:
            show_log(server_log)
        chain_ok = verify_log(env)
    return 0 if chain_ok and not results.errors else 1


if __name__ == "__main__":
    sys.exit(main())
