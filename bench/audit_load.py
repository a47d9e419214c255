"""Audit API figures on a big consent log (default 1,000,000 events).

Fills a fresh database with well-chained events (straight into the tables,
as the log would hold them after months of traffic), then measures through
the real Flask application:

- one visitor's history, ``GET /v1/audit/consents/<id>``: p50 and p99;
- a filtered page, ``GET /v1/audit/events?site=…&method=…&limit=100``, from
  the start and from a cursor half-way: p50 and p99;
- the full CSV export, ``format=csv``, in a fresh process: rows per second
  and that process's peak memory (max RSS);
- a full ``verify`` of the hash chain: seconds and events per second.

Run from the project root with the package installed::

    python bench/audit_load.py                                  # SQLite
    python bench/audit_load.py --database-url postgresql://USER:PASS@HOST/DB
    python bench/audit_load.py --events 100000                  # quicker

On PostgreSQL the consent-server tables are dropped first: use a database
of its own.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consent_server import create_app  # noqa: E402
from consent_server.cli import init_database  # noqa: E402
from consent_server.store import accounts, schema  # noqa: E402
from consent_server.store import engine as store_engine  # noqa: E402
from consent_server.store import log as store_log  # noqa: E402
from tests.helpers import fill_log  # noqa: E402

KEY = "audit-bench-key-0123456789"


def make_app(url: str):  # type: ignore[no-untyped-def]
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": KEY,
            "RATELIMIT_ENABLED": False,
        }
    )


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {statistics.median(ms):7.2f} ms   p99 {p99:7.2f} ms   (n={len(ms)})"


def timed(client, path: str, headers: dict[str, str], n: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for i in range(n):
        url = path(i) if callable(path) else path
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(
                f"{url} answered {response.status_code}: {response.data[:200]!r}"
            )
    return samples


def export_child(url: str, token: str) -> None:
    """Run in a fresh process: stream the whole CSV export, print figures."""
    app = make_app(url)
    client = app.test_client()
    start = time.perf_counter()
    response = client.get(
        "/v1/audit/events?format=csv",
        buffered=False,
        headers={"Authorization": f"Bearer {token}"},
    )
    lines = size = 0
    for chunk in response.response:
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
        size += len(chunk)
    response.close()
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            # Less the header line and the end line.
            {"rows": lines - 2, "bytes": size, "seconds": elapsed, "peak_mb": peak_mb}
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--export-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(*args.export_child)
        return 0

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{tmp.name}/audit.sqlite"
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    if backend == "postgresql":
        engine = store_engine.make_engine(url)
        schema.metadata.drop_all(engine)
        engine.dispose()
    app = make_app(url)
    with app.app_context():
        init_database()
        token = accounts.create_token(store_engine.get_db(), "bench", "audit")
    engine = app.extensions["consent_db"]

    start = time.perf_counter()
    fill_log(engine, args.events, sites=("demo", "shop"), chunk=10_000)
    print(
        f"backend {backend}: filled {args.events:,} events in "
        f"{time.perf_counter() - start:.1f} s"
    )

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    visitors = args.events // 3
    rng = random.Random(7)

    def history(_: int) -> str:
        visitor = uuid.UUID(int=rng.randrange(1, visitors) + (1 << 64))
        return f"/v1/audit/consents/{visitor}"

    timed(client, history, headers, 20)  # warm-up
    print(
        "one visitor's history     ", percentiles(timed(client, history, headers, 500))
    )
    page = "/v1/audit/events?site=shop&method=withdraw&limit=100"
    print("filtered page, first      ", percentiles(timed(client, page, headers, 200)))
    deep = f"{page}&cursor={args.events // 2}"
    print("filtered page, half-way   ", percentiles(timed(client, deep, headers, 200)))
    # Worst case: a filter no event matches reads the whole log to say so.
    rare = "/v1/audit/events?category=advertising&method=custom&limit=100"
    print("filter matching nothing   ", percentiles(timed(client, rare, headers, 20)))

    child = subprocess.run(
        [sys.executable, __file__, "--export-child", url, token],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"full CSV export            {figures['rows']:,} rows, "
        f"{figures['bytes'] / 1e6:.0f} MB in {figures['seconds']:.1f} s: "
        f"{figures['rows'] / figures['seconds']:,.0f} rows/s, "
        f"peak memory {figures['peak_mb']:.0f} MB (whole process)"
    )

    start = time.perf_counter()
    with engine.connect() as conn:
        report = store_log.verify_chain(conn)
    elapsed = time.perf_counter() - start
    print(
        f"full verify                {report.events:,} events in {elapsed:.1f} s: "
        f"{report.events / elapsed:,.0f} events/s, ok={report.ok}"
    )
    engine.dispose()
    tmp.cleanup()
    return 0 if report.ok and figures["rows"] == args.events else 1


if __name__ == "__main__":
    sys.exit(main())
