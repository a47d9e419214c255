"""Audit figures on a consent log of a million events, against the targets of issue 10.

Builds the log fast, straight into the tables in big batches (not through
HTTP), with the hash the log itself computes for every row
(``domain.chain.row_hash``) and every index in place, so ``verify-log``
passes on it: about three events per visitor (later ones continue the
visitor's history), spread over many days, mostly on the ``demo`` site. Then,
in the same run:

- one visitor's history, ``GET /v1/audit/consents/<id>`` for random
  visitors, through the application's test client: p50 and p99;
- a filtered audit page, ``GET /v1/audit/events?site=demo&since=…&limit=100``
  from random days: p50 and p99;
- ``GET /v1/audit/stats`` over one month and over the whole range: seconds;
- a full CSV export, ``consent-server export --format csv`` in a process of
  its own (its output read by ``tail``, which checks the end line): rows per
  second and that process's peak resident memory;
- a full ``consent-server verify-log``: events per second.

Both commands' seconds include the program's start-up (imports and the
application), shown beside them as the time of ``consent-server --help``.

Beside the export and the verify it measures a baseline in the same run:
reading every row of the log through the database driver alone, with
nothing done to them. That is how fast any export or verify could be here,
and the ratio says how much of it our code takes.

Run it from the project root with the package installed::

    python bench/log.py                                   # SQLite, 1,000,000
    python bench/log.py --events 100000                   # quicker
    python bench/log.py --database-url postgresql://USER:PASS@HOST/DB

SQLite is a fresh file in a temporary directory. On PostgreSQL the
consent-server tables are dropped first: use a database of its own.
It exits 1 if a target does not hold or the log does not verify.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from consent_server import create_app  # noqa: E402
from consent_server.cli import init_database  # noqa: E402
from consent_server.domain.chain import row_hash  # noqa: E402
from consent_server.domain.demo_site import demo_config  # noqa: E402
from consent_server.store import accounts, schema, sites, tree  # noqa: E402
from consent_server.store import engine as store_engine  # noqa: E402
from consent_server.store.schema import consent_events, log_head  # noqa: E402

KEY = "log-bench-secret-key-0123456789abcdef"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
BATCH = 20_000
POLL = 0.05
LANGUAGES = ("en", "en", "en", "de", "fr", "es", "it")
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like"
    " Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
)
# Choices by method: (preferences, analytics, advertising).
FIRST_METHODS = ("accept_all", "accept_all", "reject_all", "reject_all", "custom")
LATER_METHODS = ("custom", "withdraw", "accept_all", "reject_all")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, metavar="N")
    parser.add_argument(
        "--database-url", help="database to fill (default: a fresh SQLite file)"
    )
    parser.add_argument(
        "--days", type=int, default=120, help="days the events span (120)"
    )
    parser.add_argument(
        "--samples", type=int, default=500, help="requests per latency figure (500)"
    )
    args = parser.parse_args(argv)
    if args.events < 1000 or args.days < 31 or args.samples < 10:
        parser.error("need --events >= 1000, --days >= 31, --samples >= 10")
    return args


# -- building the log ---------------------------------------------------------


@dataclass
class Visitor:
    consent_id: str
    latest: str
    events: int
    language: str
    agent: str
    ip: str


def choices(method: str, rng: random.Random) -> tuple[bool, bool, bool]:
    if method == "accept_all":
        return True, True, True
    if method in ("reject_all", "withdraw"):
        return False, False, False
    return rng.random() < 0.5, rng.random() < 0.7, rng.random() < 0.3


def events(count: int, days: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """The rows of a well-chained log, oldest first, without ``prev_hash``/``hash``.

    A third of the events are a new visitor's first choice; the rest continue
    one of the visitors still open (each makes three choices in all), so a
    history's events lie hours or days apart among everybody else's.
    """
    rng = random.Random(seed)
    step = dt.timedelta(days=days) / count
    open_visitors: list[Visitor] = []
    for seq in range(1, count + 1):
        when = START + step * (seq - 1) + dt.timedelta(microseconds=rng.randrange(1000))
        if not open_visitors or rng.random() < 1 / 3 or len(open_visitors) < 50:
            visitor = Visitor(
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "",
                0,
                rng.choice(LANGUAGES),
                rng.choice(AGENTS),
                f"198.51.{rng.randrange(256)}.0",
            )
            method, continues = rng.choice(FIRST_METHODS), None
        else:
            index = rng.randrange(len(open_visitors))
            visitor = open_visitors[index]
            method, continues = rng.choice(LATER_METHODS), visitor.latest
            if visitor.events == 2:
                open_visitors[index] = open_visitors[-1]
                open_visitors.pop()
        event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if visitor.events == 0:
            open_visitors.append(visitor)
        visitor.latest = event_id
        visitor.events += 1
        preferences, analytics, advertising = choices(method, rng)
        yield {
            "seq": seq,
            "event_id": event_id,
            "consent_id": visitor.consent_id,
            "site": "demo" if seq % 4 else "shop",
            "consent_revision": 1,
            "config_revision": 1,
            "authentication": True,
            "security": True,
            "preferences": preferences,
            "analytics": analytics,
            "advertising": advertising,
            "method": method,
            "gpc": rng.random() < 0.1,
            "language": visitor.language,
            "texts_hash": "5f" * 32,
            "origin": "https://shop.example",
            "path": f"/products/{rng.randrange(500)}",
            "ip": visitor.ip,
            "user_agent": visitor.agent,
            "recorded_at": when,
            "continues": continues,
            # As recorded now: the hash of the config document shown (see
            # prepare), so every entry is of version 2.
            "config_hash": SHOWN.get("demo" if seq % 4 else "shop"),
        }


def fill(engine: Engine, count: int, days: int) -> list[str]:
    """Insert ``count`` chained events in batches; returns the visitors' ids."""
    prev = "0" * 64
    batch: list[dict[str, Any]] = []
    visitors: list[str] = []
    tree_size, edge = 0, None
    for row in events(count, days):
        row["prev_hash"] = prev
        row["hash"] = prev = row_hash(row)
        if row["continues"] is None:
            visitors.append(row["consent_id"])
        batch.append(row)
        if len(batch) == BATCH or row["seq"] == count:
            with engine.begin() as conn:
                # The events join the Merkle tree as an append's do, so the
                # export and verify-log see the log a server would have.
                tree_size, edge = tree.integrate(conn, tree_size, batch, edge)
                conn.execute(consent_events.insert(), batch)
                conn.execute(
                    log_head.update()
                    .where(log_head.c.id == 1)
                    .values(seq=row["seq"], hash=prev, tree_size=tree_size,
                            tree_edge=edge)
                )  # fmt: skip
            batch = []
    return visitors


def prepare(url: str) -> tuple[Flask, str]:
    """An empty, initialised database and an audit token for it."""
    if url.startswith("postgresql"):
        engine = store_engine.make_engine(url)
        schema.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": KEY,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        init_database()
        token = accounts.create_token(store_engine.get_db(), "log bench", "audit")
        # The config documents the events were shown, as a server records
        # them: verify-log checks each against the events' config_hash.
        for site in ("demo", "shop"):
            config = {**demo_config(), "site": site}
            published = sites.publish(
                store_engine.get_db(), config, published_by="bench"
            )
            SHOWN[site] = published.document_hash
    return app, token


# The hash of each site's published config document (revision 1).
SHOWN: dict[str, str | None] = {}


# -- measuring ----------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def latencies(
    client: FlaskClient, token: str, paths: Callable[[int], str], n: int
) -> list[float]:
    """Seconds per GET of ``paths(i)``; every answer must be 200."""
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    for i in range(n):
        path = paths(i)
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.text}")
    return samples


def command_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(CONSENT_DATABASE_URL=url, CONSENT_SECRET_KEY=KEY)
    return env


def export_csv(url: str) -> tuple[float, float, str]:
    """Run ``consent-server export --format csv``: seconds, peak RSS in MB, end line.

    ``tail`` reads the output (as fast as it comes) and keeps the end line.
    """
    command = [sys.executable, "-m", "consent_server", "export", "--format", "csv"]
    start = time.perf_counter()
    export = subprocess.Popen(command, env=command_env(url), stdout=subprocess.PIPE)
    tail = subprocess.Popen(
        ["tail", "-n", "1"], stdin=export.stdout, stdout=subprocess.PIPE, text=True
    )
    assert export.stdout is not None
    export.stdout.close()  # tail holds the pipe now
    # Not ru_maxrss: it keeps this process's size from before the exec.
    # VmHWM is the peak of the exported program alone; it only grows, so
    # the last reading before the exit is the peak (within POLL).
    peak_kb = 0
    while True:
        pid, status = os.waitpid(export.pid, os.WNOHANG)
        if pid:
            break
        try:
            status_text = Path(f"/proc/{export.pid}/status").read_text()
        except OSError:
            continue
        for line in status_text.splitlines():
            if line.startswith("VmHWM:"):
                peak_kb = max(peak_kb, int(line.split()[1]))
        time.sleep(POLL)
    elapsed = time.perf_counter() - start
    export.returncode = os.waitstatus_to_exitcode(status)
    end_line, _ = tail.communicate()
    if export.returncode != 0:
        raise SystemExit(f"export exited {export.returncode}")
    return elapsed, peak_kb / 1024, end_line.strip()


def verify_log(url: str) -> tuple[float, str, int]:
    """Run ``consent-server verify-log``: seconds, what it printed, its exit code."""
    command = [sys.executable, "-m", "consent_server", "verify-log"]
    start = time.perf_counter()
    result = subprocess.run(
        command, env=command_env(url), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    return elapsed, (result.stdout + result.stderr).strip(), result.returncode


def start_up(url: str) -> float:
    """Seconds for ``consent-server --help``: what every command pays first."""
    command = [sys.executable, "-m", "consent_server", "--help"]
    start = time.perf_counter()
    subprocess.run(command, env=command_env(url), capture_output=True, check=True)
    return time.perf_counter() - start


def bare_read(engine: Engine) -> float:
    """Seconds to read every row of the log through the driver alone."""
    start = time.perf_counter()
    with engine.connect() as conn:
        cursor = conn.connection.cursor()
        cursor.execute("SELECT * FROM consent_events ORDER BY seq")
        while cursor.fetchmany(2000):
            pass
        cursor.close()
        conn.rollback()
    return time.perf_counter() - start


@dataclass
class Figure:
    name: str
    value: str
    target: str
    holds: bool | None


def table(figures: list[Figure]) -> str:
    rows = [("figure", "measured", "target", "holds")] + [
        (
            f.name,
            f.value,
            f.target,
            "-" if f.holds is None else ("yes" if f.holds else "NO"),
        )
        for f in figures
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = tempfile.TemporaryDirectory(prefix="consent-log-bench-")
    url = args.database_url or f"sqlite:///{tmp.name}/log.sqlite"
    backend = url.split(":", 1)[0].split("+", 1)[0]
    app, token = prepare(url)
    engine: Engine = app.extensions["consent_db"]

    start = time.perf_counter()
    visitors = fill(engine, args.events, args.days)
    filled = time.perf_counter() - start
    if backend == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE consent_events"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    print(
        f"{backend}: {args.events:,} events, {len(visitors):,} visitors over"
        f" {args.days} days, built in {filled:.1f} s"
        f" ({args.events / filled:,.0f} events/s)"
    )

    client = app.test_client()
    rng = random.Random(11)
    n = args.samples

    def history(_: int) -> str:
        return f"/v1/audit/consents/{rng.choice(visitors)}"

    def page(_: int) -> str:
        since = START + dt.timedelta(days=rng.randrange(args.days - 1))
        return f"/v1/audit/events?site=demo&since={since:%Y-%m-%d}&limit=100"

    latencies(client, token, history, 20)  # warm-up
    history_s = latencies(client, token, history, n)
    page_s = latencies(client, token, page, n)
    month_end = START + dt.timedelta(days=31)
    month = f"/v1/audit/stats?since={START:%Y-%m-%d}&until={month_end:%Y-%m-%d}"
    stats_month = latencies(client, token, lambda _: month, 3)
    stats_all = latencies(client, token, lambda _: "/v1/audit/stats", 3)
    print("history, audit page and stats measured; exporting")

    bare = bare_read(engine)
    started = start_up(url)
    export_s, export_mb, end_line = export_csv(url)
    verify_s, verify_line, verify_code = verify_log(url)
    bare_rate = args.events / bare
    export_rate = args.events / export_s
    verify_rate = args.events / verify_s
    complete = end_line.startswith(f"#end rows={args.events} ")
    # The chain's line first; the tree's after it, and the exit code for both.
    verified = verify_code == 0 and verify_line.startswith(f"ok: {args.events} events")

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.2f} ms"

    h50, h99 = statistics.median(history_s), percentile(history_s, 0.99)
    figures = [
        Figure("history p50", ms(h50), "", None),
        Figure("history p99", ms(h99), "<= 5 ms", h99 <= 0.005),
        Figure("audit page p50", ms(statistics.median(page_s)), "", None),
        Figure("audit page p99", ms(percentile(page_s, 0.99)), "", None),
        Figure("stats, one month", ms(statistics.median(stats_month)), "", None),
        Figure(f"stats, {args.days} days", ms(statistics.median(stats_all)), "", None),
        Figure("bare read (driver only)", f"{bare_rate:,.0f} rows/s", "", None),
        # Part of the export's and the verify's seconds below.
        Figure("command start-up", ms(started), "", None),
        Figure(
            "CSV export",
            f"{export_rate:,.0f} rows/s ({export_rate / bare_rate:.2f}x bare)",
            ">= 100,000 rows/s",
            export_rate >= 100_000,
        ),
        Figure(
            "CSV export peak RSS", f"{export_mb:.0f} MB", "< 150 MB", export_mb < 150
        ),
        Figure(
            "CSV export end line",
            "complete" if complete else end_line[:40],
            "complete",
            complete,
        ),
        Figure(
            "verify-log",
            f"{verify_rate:,.0f} events/s ({verify_rate / bare_rate:.2f}x bare)",
            ">= 200,000 events/s",
            verify_rate >= 200_000,
        ),
        Figure(
            "verify-log result", "ok" if verified else verify_line[:40], "ok", verified
        ),
    ]
    print()
    print(table(figures))
    engine.dispose()
    tmp.cleanup()
    return 0 if all(f.holds is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
