"""Soak: minutes of mixed loopback load on the production gunicorn settings.

Starts gunicorn with ``deploy/gunicorn.conf.py`` (gthread workers) on a
loopback port, over a fresh SQLite file or the PostgreSQL database given,
with rate limits off. Client threads then mix what a shop's traffic does:
fetching the banner script (and revalidating it: a 304), recording a choice
(continuing the visitor's history with ``previous``), verifying the token,
and an auditor reading a page of events and one visitor's history. Each
thread is a stream of visitors who make a few choices each (three unless
``--choices-per-visitor`` says otherwise) and then leave: a thread that kept
one visitor for ten minutes would give them thousands of choices, and every
read of that history (answered whole, in one response) would be bigger than
the last, so the worker's memory would grow with the load itself. Every
10 s it samples the resident memory of gunicorn and all its workers
(``/proc``) and prints a line. At the end: requests, errors, and whether
memory stayed flat (the last sample within 10 % of the first one taken after
the warm-up minute). Exits 1 on any error or on memory growth.

Run from the project root, with the package installed::

    python bench/soak.py                  # ten minutes on SQLite
    python bench/soak.py --seconds 120
    python bench/soak.py --database-url postgresql://consent:consent@127.0.0.1/consent_bench

On PostgreSQL the consent-server tables are dropped first: use a database of
its own.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consent_server.domain.note import Signer  # noqa: E402
from tests.servers import wait_until_up  # noqa: E402

CHOICES = (
    ("accept_all", {"preferences": True, "analytics": True, "advertising": True}),
    ("reject_all", {"preferences": False, "analytics": False, "advertising": False}),
    ("custom", {"preferences": True, "analytics": False, "advertising": False}),
)
SAMPLE_SECONDS = 10
WARMUP_SECONDS = 60
FLAT = 0.10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    """Resident memory of a process and all its children, in KiB."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        pids.extend(int(c) for c in children.split())
    return total


class Client:
    """One visitor-and-auditor mix on its own kept-alive connection."""

    def __init__(self, port: int, bearer: str, choices_per_visitor: int) -> None:
        self.port = port
        self.bearer = bearer
        self.choices_per_visitor = choices_per_visitor
        self.made = 0
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.token: str | None = None
        self.etag: str | None = None

    def request(
        self, method: str, path: str, body: object = None, headers: dict | None = None
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, data, headers)
                response = self.connection.getresponse()
                return response.status, response.read(), response
            except (http.client.HTTPException, OSError):
                # A kept-alive connection the server closed: open a new one once.
                self.connection.close()
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=30
                )
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def step(self) -> list[tuple[str, int]]:
        """One round of the mix: what was asked and the status it got."""
        done = []
        headers = {"Accept-Encoding": "gzip", "Accept-Language": "de-DE,de;q=0.9"}
        if self.etag:
            headers["If-None-Match"] = self.etag
        status, _, response = self.request("GET", "/s/demo/consent.js", None, headers)
        done.append(("script", status))
        self.etag = response.getheader("ETag") or self.etag  # revalidate: a 304
        if self.made == self.choices_per_visitor:
            # This visitor is done; the next one comes without a token.
            self.token, self.made = None, 0
        method, choices = random.choice(CHOICES)
        shop = f"http://127.0.0.1:{self.port}"
        body = {"site": "demo", "method": method, "choices": choices,
                "revision": 1, "language": "de", "previous": self.token,
                "url": f"{shop}/products/{random.randint(1, 50)}"}  # fmt: skip
        origin = {"Origin": shop}
        status, answer, _ = self.request("POST", "/v1/consent", body, origin)
        done.append(("record", status))
        if status == 201:
            recorded = json.loads(answer)
            self.token = recorded["token"]
            self.made += 1
            status, *_ = self.request(
                "POST", "/v1/consent/verify", {"token": self.token}
            )
            done.append(("verify", status))
            if random.random() < 0.2:
                auth = {"Authorization": f"Bearer {self.bearer}"}
                status, *_ = self.request(
                    "GET", "/v1/audit/events?limit=100", None, auth
                )
                done.append(("audit", status))
                status, *_ = self.request(
                    "GET", f"/v1/audit/consents/{recorded['id']}", None, auth
                )
                done.append(("history", status))
        return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url")
    parser.add_argument(
        "--choices-per-visitor", type=int, default=3, metavar="N",
        help="choices one visitor records before the next visitor comes (default 3)",
    )  # fmt: skip
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/soak.sqlite"
        port = free_port()
        env = {
            **os.environ,
            "CONSENT_DATABASE_URL": url,
            "CONSENT_SECRET_KEY": "soak-key-0123456789abcdef",
            "CONSENT_LOG_KEY": Signer.generate("bench.consent-server.example/log").key,
            "CONSENT_RATELIMIT_ENABLED": "false",
            "CONSENT_INSTANCE_PATH": f"{tmp}/instance",
        }
        if url.startswith("postgresql"):
            from consent_server.store import engine as store_engine
            from consent_server.store import schema

            engine = store_engine.make_engine(url)
            schema.metadata.drop_all(engine)
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            engine.dispose()
        cli = [sys.executable, "-m", "consent_server"]
        subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)
        bearer = subprocess.run(
            [*cli, "create-token", "soak", "--scope", "audit"],
            env=env, check=True, capture_output=True, text=True,
        ).stdout.split()[-1]  # fmt: skip
        settings = str(ROOT / "deploy" / "gunicorn.conf.py")
        with open(f"{tmp}/gunicorn.log", "w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", settings,
                 "-b", f"127.0.0.1:{port}", "consent_server:create_app()"],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
                failed = soak(args, port, bearer, server)
            finally:
                server.terminate()
                server.wait(timeout=30)
        if failed:
            # What the server said about its errors, before the file is gone.
            errors = [
                line
                for line in Path(f"{tmp}/gunicorn.log").read_text().splitlines()
                if "[INFO]" not in line
            ]
            print("gunicorn's log, without its [INFO] lines:", *errors[-60:], sep="\n")
        return failed


def soak(
    args: argparse.Namespace, port: int, bearer: str, server: subprocess.Popen
) -> int:
    counts: dict[str, int] = {}
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def run() -> None:
        client = Client(port, bearer, args.choices_per_visitor)
        while not stop.is_set():
            try:
                done = client.step()
            except OSError as exc:
                with lock:
                    errors.append(repr(exc))
                continue
            with lock:
                for name, status in done:
                    counts[name] = counts.get(name, 0) + 1
                    if status not in (200, 201, 304):
                        errors.append(f"{name}: {status}")

    threads = [threading.Thread(target=run) for _ in range(args.concurrency)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    samples: list[tuple[float, int]] = []
    print(f"{'seconds':>8} {'requests':>9} {'errors':>7} {'rss MiB':>8}")
    while (elapsed := time.monotonic() - start) < args.seconds:
        time.sleep(min(SAMPLE_SECONDS, args.seconds - elapsed))
        elapsed = time.monotonic() - start
        rss = rss_kib(server.pid)
        samples.append((elapsed, rss))
        with lock:
            total, failed = sum(counts.values()), len(errors)
        print(f"{elapsed:8.0f} {total:9d} {failed:7d} {rss / 1024:8.1f}", flush=True)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    warm = [rss for at, rss in samples if at >= min(WARMUP_SECONDS, args.seconds / 2)]
    base, last = warm[0], warm[-1]
    growth = (last - base) / base
    total = sum(counts.values())
    print(
        f"{total} requests in {args.seconds} s ({total / args.seconds:.0f}/s):"
        + "".join(f" {name} {n}" for name, n in sorted(counts.items()))
    )
    print(f"errors: {len(errors)}" + (f" (first: {errors[:3]})" if errors else ""))
    print(
        f"memory after warm-up {base / 1024:.1f} MiB, at the end {last / 1024:.1f} MiB:"
        f" {growth:+.1%} ({'flat' if abs(growth) <= FLAT else 'NOT flat'},"
        f" limit {FLAT:.0%})"
    )
    return 0 if not errors and abs(growth) <= FLAT else 1


if __name__ == "__main__":
    sys.exit(main())
