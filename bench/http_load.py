"""HTTP figures: the storefront endpoints under wrk, as ratios to hello-world Flask.

Starts gunicorn on a loopback port with the production settings
(``deploy/gunicorn.conf.py``, only ``bind`` overridden; rate limits off with
``CONSENT_RATELIMIT_ENABLED=false``) and loads it with Debian's ``wrk``
(``wrk -t2 -c16 -d10s --latency --timeout 30s``, a Lua script per target
for the method, headers and body; the timeout is gunicorn's, so a slow answer
counts in the latencies instead of being dropped by wrk after its default
2 s). Before each measured run a 2 s warm-up checks every answer in Lua
(status, and the header or body below); wrk itself counts only statuses of
400 and above. The targets:

- ``GET /s/demo/consent.js`` with ``Accept-Encoding: gzip``: every answer
  must be a 200 in gzip;
- the same with ``If-None-Match`` and the ETag of a first request: 304;
- ``GET /v1/sites/demo/config``: 200;
- ``POST /v1/consent``, a valid choice for the demo site with an allowed
  ``Origin`` (no ``previous``, so each request is a new visitor): 201;
- ``POST /v1/consent/verify`` with a token the server issued: 200 and
  ``"valid": true``.

The baseline is ``bench/hello_app.py`` (one view answering "Hello, World!")
under the same gunicorn settings, measured before and after the targets; each
target's requests per second is given as a ratio to the mean of the two, and
the two baseline rows show how far the machine drifted meanwhile. After the
run ``consent-server verify-log`` must pass. It exits 1 if any answer was not
the one expected, wrk had socket errors, or the log does not verify; missing
one of the speed targets of issue 10 is shown in the table, not an error.

With a PostgreSQL URL the same run is made on SQLite (a fresh file) and then
on PostgreSQL, each backend with its own baseline before and after. On
PostgreSQL ``POST /v1/consent`` is also measured on two app servers at once
(two gunicorn masters with the same settings on two ports, one wrk per port
at the same time with half the connections each, their requests per second
summed): several app servers writing one log, as production runs it. Its
target is to be no slower than SQLite with one server, both as ratios to
their own baselines.

Run from the project root with the package installed::

    python bench/http_load.py                          # SQLite
    python bench/http_load.py --database-url postgresql://USER:PASS@HOST/DB
    python bench/http_load.py --only POST --seconds 5  # some targets, shorter
    python bench/http_load.py --root /path/to/another/checkout   # other code
    python bench/http_load.py --layers                 # in-process cost per layer

On PostgreSQL the consent-server tables are dropped first: use a database of
its own. (The file is not called ``http.py``: a script's folder comes first on
``sys.path``, and the standard library's ``http`` would be shadowed.)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consent_server.domain.note import Signer  # noqa: E402
from tests.servers import wait_until_up  # noqa: E402

HOST = "127.0.0.1"
SITE = "demo"
# The demo site accepts consent from loopback origins on any port.
LAYERS_ORIGIN = "http://127.0.0.1:8000"
SETTINGS = ROOT / "deploy" / "gunicorn.conf.py"
STARTUP_TIMEOUT = 60.0
# What the issue asks of each target, as a ratio to the baseline.
TARGETS = {
    "consent.js": 0.85,
    "consent.js 304": 0.9,
    "verify": 0.6,
}
SQLITE_TARGETS = {"POST /v1/consent": 0.5}
POST = "POST /v1/consent"
TWO_SERVERS = "POST /v1/consent, 2 servers"
BACKENDS = ("sqlite", "postgresql")

# Checks every answer and counts those that are not what the target expects;
# wrk itself only counts statuses of 400 and above. The totals of all threads
# are printed at the end as one line the script reads.
LUA_CHECK = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  seen, bad, first = 0, 0, ""
end

local function header(headers, name)
  for key, value in pairs(headers) do
    if key:lower() == name then return value end
  end
  return nil
end

function response(status, headers, body)
  seen = seen + 1
  local ok = status == expect_status
  if ok and expect_header then
    ok = header(headers, expect_header[1]) == expect_header[2]
  end
  if ok and expect_body then
    ok = body ~= nil and body:find(expect_body) ~= nil
  end
  if not ok then
    bad = bad + 1
    if first == "" then
      first = status .. " " .. (body or ""):sub(1, 300):gsub("\n", " ")
    end
  end
end

function done(summary, latency, requests)
  local seen_all, bad_all, first_all = 0, 0, ""
  for _, thread in ipairs(threads) do
    seen_all = seen_all + thread:get("seen")
    bad_all = bad_all + thread:get("bad")
    if first_all == "" then first_all = thread:get("first") end
  end
  io.write(string.format("checked %d bad %d\n", seen_all, bad_all))
  if first_all ~= "" then io.write("first bad: " .. first_all .. "\n") end
end
"""


@dataclass(frozen=True)
class Target:
    """One thing wrk asks for, and what every answer must be."""

    name: str
    path: str
    status: int
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    header: tuple[str, str] | None = None
    body_pattern: str | None = None


@dataclass(frozen=True)
class Figures:
    """What wrk measured for one target."""

    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int
    requests: int
    checked: int
    bad: int
    socket_errors: int
    socket_kinds: str
    first_bad: str
    # CPU time of the app server's processes per request (all of them:
    # arbiter and workers), or 0.0 when not measured.
    cpu_ms: float = 0.0
    # Events per commit on PostgreSQL (warm-up and measured run), else 0.0.
    per_commit: float = 0.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL URL: run on SQLite and then on it (default: SQLite only)",
    )
    parser.add_argument(
        "--backends",
        help="comma-separated, of sqlite and postgresql (default: sqlite, and "
        "postgresql when --database-url names one)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="WORDS",
        help="only the targets whose name contains WORDS (repeatable)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="the checkout whose consent_server is served (default: this one)",
    )
    parser.add_argument(
        "--layers",
        action="store_true",
        help="instead: what each layer costs per request, in-process",
    )
    parser.add_argument("--seconds", type=int, default=10, help="per target (10)")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t (2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk -c (16)")
    parser.add_argument(
        "--timeout", type=int, default=30, help="wrk --timeout, seconds (30)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=2,
        help="seconds of checked, unmeasured load before each (2, at least 1)",
    )
    args = parser.parse_args(argv)
    if args.warmup < 1 or args.seconds < 1:
        parser.error("--warmup and --seconds must be at least 1")
    if args.database_url and backend_name(args.database_url) != "postgresql":
        parser.error(
            "--database-url must be a postgresql:// URL (SQLite is a fresh file)"
        )
    if args.backends is None:
        args.backends = ["sqlite"] + (["postgresql"] if args.database_url else [])
    else:
        args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
        unknown = set(args.backends) - set(BACKENDS)
        if unknown or not args.backends:
            parser.error(f"--backends takes {', '.join(BACKENDS)}")
        if "postgresql" in args.backends and not args.database_url:
            parser.error("postgresql needs --database-url")
    return args


def wanted(args: argparse.Namespace, name: str) -> bool:
    """Whether ``--only`` leaves the target of this name in."""
    return not args.only or any(w.lower() in name.lower() for w in args.only)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def backend_name(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0]


def prepare_database(url: str, env: dict[str, str]) -> None:
    """Start from empty tables on PostgreSQL, then run ``consent-server init``."""
    if backend_name(url) == "postgresql":
        from consent_server.store import engine as store_engine
        from consent_server.store import schema

        engine = store_engine.make_engine(url)
        schema.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        engine.dispose()
    subprocess.run(
        [sys.executable, "-m", "consent_server", "init"],
        env=env,
        check=True,
        capture_output=True,
    )


def lua_string(text: str) -> str:
    """A Lua long-bracket literal holding ``text`` as it is."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    # A long bracket drops a newline right after the opening; none is wanted.
    return f"[{'=' * level}[{text}]{'=' * level}]"


def lua_script(target: Target, check: bool) -> str:
    """wrk's request for ``target``; with ``check``, also the answer checks."""
    lines = [f"wrk.method = {lua_string(target.method)}"]
    for name, value in target.headers:
        lines.append(f"wrk.headers[ {lua_string(name)} ] = {lua_string(value)}")
    if target.body is not None:
        lines.append(f"wrk.body = {lua_string(target.body)}")
    if not check:
        return "\n".join(lines) + "\n"
    lines.append(f"expect_status = {target.status}")
    if target.header is not None:
        name, value = target.header
        lines.append(
            f"expect_header = {{{lua_string(name.lower())}, {lua_string(value)}}}"
        )
    if target.body_pattern is not None:
        lines.append(f"expect_body = {lua_string(target.body_pattern)}")
    return "\n".join(lines) + "\n" + LUA_CHECK


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(name: str, output: str) -> Figures:
    """Requests per second, p50, p99 and the error counts from wrk's output."""

    def latency(percent: str) -> float:
        found = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        if not found:
            raise ValueError(f"no {percent}% latency in wrk's output:\n{output}")
        return float(found[1]) * UNITS_MS[found[2]]

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    checked = re.search(r"^checked (\d+) bad (\d+)$", output, re.M)
    if not rps:
        raise ValueError(f"unexpected wrk output:\n{output}")
    non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    first = re.search(r"^first bad: (.*)$", output, re.M)
    total = re.search(r"^\s*(\d+) requests in ", output, re.M)
    return Figures(
        name=name,
        rps=float(rps[1]),
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        non_2xx_3xx=int(non[1]) if non else 0,
        requests=int(total[1]) if total else 0,
        checked=int(checked[1]) if checked else 0,
        bad=int(checked[2]) if checked else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        socket_kinds=sockets[0] if sockets else "",
        first_bad=first[1] if first else "",
    )


def wrk(
    args: argparse.Namespace,
    ports: list[int],
    target: Target,
    tmp: Path,
    seconds: int,
    check: bool,
) -> Figures:
    """Run wrk against one target for ``seconds`` and read its figures.

    With several ports, one wrk per port runs at the same time, the threads
    and connections shared out between them; their requests per second and
    counts are summed, and p50 and p99 are the worst of them.
    """
    name = re.sub(r"[^a-z0-9]+", "-", target.name.lower())
    script = tmp / f"{name}{'-check' if check else ''}.lua"
    script.write_text(lua_script(target, check))
    threads = max(1, args.threads // len(ports))
    connections = max(threads, args.connections // len(ports))
    commands = [
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            f"--timeout={args.timeout}s",
            "-s",
            str(script),
            f"http://{HOST}:{port}{target.path}",
        ]
        for port in ports
    ]
    running = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    found = []
    for command, process in zip(commands, running, strict=True):
        out, err = process.communicate()
        if process.returncode != 0 or err:
            raise RuntimeError(f"{' '.join(command)} failed:\n{out}{err}")
        found.append(parse_wrk(target.name, out))
    return summed(found)


def summed(runs: list[Figures]) -> Figures:
    """The figures of wrk runs made at the same time, as of one."""
    if len(runs) == 1:
        return runs[0]
    return Figures(
        name=runs[0].name,
        rps=sum(r.rps for r in runs),
        p50_ms=max(r.p50_ms for r in runs),
        p99_ms=max(r.p99_ms for r in runs),
        non_2xx_3xx=sum(r.non_2xx_3xx for r in runs),
        requests=sum(r.requests for r in runs),
        checked=sum(r.checked for r in runs),
        bad=sum(r.bad for r in runs),
        socket_errors=sum(r.socket_errors for r in runs),
        socket_kinds="; ".join(r.socket_kinds for r in runs if r.socket_errors),
        first_bad=next((r.first_bad for r in runs if r.first_bad), ""),
    )


def measure(
    args: argparse.Namespace, servers: list[Server], target: Target, tmp: Path
) -> Figures:
    """A checked warm-up run, then the measured run with wrk's plain loop.

    Checking each answer in Lua makes wrk hand every header and body to the
    script, which costs the client about a tenth to a quarter of the
    baseline's requests per second on this machine (and so would flatter
    every ratio); the measured run only sends, and counts what wrk counts.
    """
    ports = [s.port for s in servers]
    checked = wrk(args, ports, target, tmp, args.warmup, check=True)
    cpu_before = sum(s.cpu_seconds() for s in servers)
    measured = wrk(args, ports, target, tmp, args.seconds, check=False)
    cpu = sum(s.cpu_seconds() for s in servers) - cpu_before
    figures = dataclasses.replace(
        measured,
        cpu_ms=cpu * 1000 / max(measured.requests, 1),
        checked=checked.checked,
        bad=checked.bad,
        first_bad=checked.first_bad,
        socket_errors=checked.socket_errors + measured.socket_errors,
    )
    print(
        f"  {target.name:<28} {figures.rps:9.1f} req/s  "
        f"p50 {figures.p50_ms:7.2f} ms  p99 {figures.p99_ms:7.2f} ms  "
        f"server CPU {figures.cpu_ms:.3f} ms/req  "
        f"non-2xx/3xx {figures.non_2xx_3xx}; "
        f"warm-up: {figures.bad} of {figures.checked} answers not as expected",
        flush=True,
    )
    if figures.first_bad:
        print(f"    first bad answer: {figures.first_bad}")
    for run in (checked, measured):
        if run.socket_errors:
            print(f"    {run.socket_kinds}")
    return figures


class Server:
    """gunicorn with deploy/gunicorn.conf.py on a loopback port, in its own group."""

    def __init__(self, app: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    str(SETTINGS),
                    "-b",
                    f"{HOST}:{self.port}",
                    app,
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def cpu_seconds(self) -> float:
        """User and system CPU time used so far by the server's processes."""
        ticks = os.sysconf("SC_CLK_TCK")
        used = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:  # the process ended meanwhile
                continue
            # After the command's closing parenthesis: state, ppid, pgrp, ...
            fields = text[text.rindex(")") + 2 :].split()
            if int(fields[2]) == self.process.pid:
                used += int(fields[11]) + int(fields[12])
        return used / ticks

    def wait(self, path: str) -> None:
        try:
            wait_until_up(f"http://{HOST}:{self.port}{path}", self.process, 60.0)
        except RuntimeError:
            self.stop()
            self.show_log()
            raise

    def stop(self) -> None:
        """End gunicorn's whole process group: the arbiter and its workers."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass

    def show_log(self, lines: int = 40) -> None:
        tail = self.log.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- gunicorn log (last {lines} lines) ---", file=sys.stderr)
        print("\n".join(tail), file=sys.stderr)


def baseline(args: argparse.Namespace, env: dict[str, str], tmp: Path) -> Figures:
    """Hello-world Flask under the same gunicorn settings."""
    hello_env = dict(env)
    hello_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "bench"), env.get("PYTHONPATH")) if p
    )
    server = Server("hello_app:app", hello_env, tmp / "hello.log")
    try:
        server.wait("/")
        return measure(args, [server], Target("hello-world", "/", 200), tmp)
    finally:
        server.stop()


def fetch(
    port: int, path: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        f"http://{HOST}:{port}{path}", data=body, headers=headers
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, dict(response.headers), response.read()


def targets(port: int) -> list[Target]:
    """The storefront's requests, with an ETag and a token from the server."""
    script_headers = (
        ("Accept-Encoding", "gzip"),
        ("Accept-Language", "en-US,en;q=0.9"),
    )
    _, headers, _ = fetch(port, f"/s/{SITE}/consent.js", dict(script_headers))
    etag = headers["ETag"]
    _, _, answer = fetch(port, f"/v1/sites/{SITE}/config", {})
    config = json.loads(answer)
    origin = f"http://{HOST}:{port}"
    choice = json.dumps(
        {
            "site": SITE,
            "choices": {
                c: c == "analytics" for c in ("preferences", "analytics", "advertising")
            },
            "method": "custom",
            "revision": config["consent_revision"],
            "language": "en",
            "url": f"{origin}/products/42",
        }
    )
    post_headers = (("Content-Type", "application/json"), ("Origin", origin))
    status, _, answer = fetch(port, "/v1/consent", dict(post_headers), choice.encode())
    if status != 201:
        raise RuntimeError(f"recording a choice answered {status}: {answer[:300]!r}")
    token = json.loads(answer)["token"]
    return [
        Target(
            "consent.js",
            f"/s/{SITE}/consent.js",
            200,
            headers=script_headers,
            header=("Content-Encoding", "gzip"),
        ),
        Target(
            "consent.js 304",
            f"/s/{SITE}/consent.js",
            304,
            headers=(*script_headers, ("If-None-Match", etag)),
        ),
        Target("config JSON", f"/v1/sites/{SITE}/config", 200),
        Target(
            "POST /v1/consent",
            "/v1/consent",
            201,
            method="POST",
            headers=post_headers,
            body=choice,
        ),
        Target(
            "verify",
            "/v1/consent/verify",
            200,
            method="POST",
            headers=(("Content-Type", "application/json"),),
            body=json.dumps({"token": token}),
            body_pattern='"valid": ?true',
        ),
    ]


def service(
    args: argparse.Namespace, env: dict[str, str], tmp: Path, backend: str
) -> list[Figures]:
    """Every target on one app server; on PostgreSQL also POST on two."""
    server = Server("consent_server:create_app()", env, tmp / "consent.log")
    try:
        server.wait("/healthz")
        measured = [
            measure_counted(args, [server], t, tmp, env)
            for t in targets(server.port)
            if wanted(args, t.name)
        ]
    except BaseException:
        server.stop()
        server.show_log()
        raise
    finally:
        server.stop()
    if any(broken(f) for f in measured):
        server.show_log()
    if backend == "postgresql" and wanted(args, TWO_SERVERS):
        measured.append(two_servers(args, env, tmp))
    return measured


def measure_counted(
    args: argparse.Namespace,
    servers: list[Server],
    target: Target,
    tmp: Path,
    env: dict[str, str],
) -> Figures:
    """:func:`measure`; for a POST on PostgreSQL also the events per commit,
    from the transaction ids of the rows it wrote (``xmin``)."""
    url = env["CONSENT_DATABASE_URL"]
    if target.method != "POST" or target.status != 201:
        return measure(args, servers, target, tmp)
    if backend_name(url) != "postgresql":
        return measure(args, servers, target, tmp)
    from consent_server.store import engine as store_engine

    engine = store_engine.make_engine(url)
    try:
        with engine.connect() as conn:
            since = conn.exec_driver_sql(
                "SELECT coalesce(max(seq), 0) FROM consent_events"
            ).scalar_one()
        figures = measure(args, servers, target, tmp)
        with engine.connect() as conn:
            rows, commits = conn.exec_driver_sql(
                "SELECT count(*), count(DISTINCT xmin::text) FROM consent_events "
                "WHERE seq > %(since)s",
                {"since": since},
            ).one()
    finally:
        engine.dispose()
    per_commit = rows / max(commits, 1)
    print(f"    {rows} events in {commits} commits: {per_commit:.2f} per commit")
    return dataclasses.replace(figures, per_commit=per_commit)


def two_servers(args: argparse.Namespace, env: dict[str, str], tmp: Path) -> Figures:
    """POST /v1/consent on two app servers sharing one database, at once."""
    servers = [
        Server("consent_server:create_app()", env, tmp / f"consent-{n}.log")
        for n in (1, 2)
    ]
    try:
        for server in servers:
            server.wait("/healthz")
        post = next(t for t in targets(servers[0].port) if t.name == POST)
        figures = measure_counted(
            args, servers, dataclasses.replace(post, name=TWO_SERVERS), tmp, env
        )
    except BaseException:
        for server in servers:
            server.stop()
            server.show_log()
        raise
    finally:
        for server in servers:
            server.stop()
    if broken(figures):
        for server in servers:
            server.show_log()
    return figures


def broken(figures: Figures) -> bool:
    """Whether any answer was not the one expected, or never came."""
    return bool(figures.bad or figures.non_2xx_3xx or figures.socket_errors)


def verify_log(env: dict[str, str]) -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "consent_server", "verify-log"],
        env=env,
        capture_output=True,
        text=True,
    )
    print(f"verify-log: {(done.stdout + done.stderr).strip()}")
    return done.returncode == 0


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
    """What each layer costs per request, in-process: the targets through
    Flask's test client with rate limits off and on, beside a hello-world
    app, and the pieces timed alone (a pool checkout, JSON encoding, the
    after-request hooks). ``POST /v1/consent`` includes its commit's fsync."""
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
        choice = {"site": "demo", "method": "reject_all", "revision": 1,
                  "language": "en", "choices": {"preferences": False,
                  "analytics": False, "advertising": False}}  # fmt: skip
        token = client.post(
            "/v1/consent", json=choice, headers={"Origin": LAYERS_ORIGIN}
        ).get_json()["token"]
        etag = client.get("/s/demo/consent.js").headers["ETag"]
        paths = {
            "consent.js": ("get", "/s/demo/consent.js", {}),
            "consent.js 304": ("get", "/s/demo/consent.js",
                               {"headers": {"If-None-Match": etag}}),
            "config JSON": ("get", "/v1/sites/demo/config", {}),
            "verify": ("post", "/v1/consent/verify", {"json": {"token": token}}),
            POST: ("post", "/v1/consent", {"json": choice,
                   "headers": {"Origin": LAYERS_ORIGIN}}),
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


@dataclass
class Run:
    """One backend's figures: the baseline before and after, and the targets."""

    backend: str
    before: Figures
    after: Figures
    rows: list[Figures]
    chain_ok: bool

    @property
    def base(self) -> float:
        return (self.before.rps + self.after.rps) / 2

    def ratio(self, name: str) -> float | None:
        found = [f for f in self.rows if f.name == name]
        return found[0].rps / self.base if found else None


def table(run: Run, sqlite_post: float | None) -> None:
    """The backend's figures as a Markdown table, each with its issue 10 target."""
    goals: dict[str, float | None] = dict(TARGETS)
    if run.backend == "sqlite":
        goals.update(SQLITE_TARGETS)
    goals[TWO_SERVERS] = sqlite_post
    print(f"\n{run.backend}:\n")
    print(
        "| target | requests/s | p50 ms | p99 ms | server CPU ms/req | events/commit "
        "| non-2xx/3xx | bad in warm-up | socket errors | ratio | issue 10 target |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    named = [("hello-world before", run.before), *((f.name, f) for f in run.rows)]
    named.append(("hello-world after", run.after))
    for name, f in named:
        ratio = f.rps / run.base
        goal = ""
        if name == TWO_SERVERS:
            goal = (
                "≥ SQLite's, not measured"
                if sqlite_post is None
                else f"≥ SQLite's {sqlite_post:.2f}× "
                + ("met" if ratio >= sqlite_post else "not met")
            )
        elif (wanted_ratio := goals.get(name)) is not None:
            goal = f"≥ {wanted_ratio:.2f}× " + (
                "met" if ratio >= wanted_ratio else "not met"
            )
        print(
            f"| {name} | {f.rps:.1f} | {f.p50_ms:.2f} | {f.p99_ms:.2f} "
            f"| {f.cpu_ms:.3f} | {f'{f.per_commit:.2f}' if f.per_commit else ''} "
            f"| {f.non_2xx_3xx} | {f.bad} | {f.socket_errors} "
            f"| {ratio:.2f}× | {goal} |"
        )
    drift = (run.after.rps - run.before.rps) / run.before.rps
    print(
        f"\nbaseline: mean {run.base:.1f} req/s of hello-world before and after; "
        f"drift {drift:+.1%} over the run; verify-log "
        + ("ok" if run.chain_ok else "FAILED")
    )


def one_backend(args: argparse.Namespace, backend: str, tmp: Path) -> Run:
    """Prepare the backend's database, then baseline, targets, baseline."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'consent.sqlite'}"
    else:
        url = args.database_url
    env = dict(os.environ)
    env.update(
        CONSENT_DATABASE_URL=url,
        CONSENT_SECRET_KEY=secrets.token_urlsafe(32),
        CONSENT_LOG_KEY=Signer.generate("bench.consent-server.example/log").key,
        CONSENT_RATELIMIT_ENABLED="false",
        CONSENT_INSTANCE_PATH=str(tmp / f"instance-{backend}"),
        PYTHONPATH=os.pathsep.join(
            p for p in (str(args.root.resolve()), env.get("PYTHONPATH")) if p
        ),
    )
    print(f"\n{backend}:", flush=True)
    prepare_database(url, env)
    before = baseline(args, env, tmp)
    rows = service(args, env, tmp, backend)
    chain_ok = verify_log(env)
    after = baseline(args, env, tmp)
    return Run(backend, before, after, rows, chain_ok)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.layers:
        return layers(args)
    print(
        f"backends {', '.join(args.backends)}; code from {args.root}; gunicorn -c "
        "deploy/gunicorn.conf.py with only the bind overridden (a free loopback "
        "port); rate limits off (CONSENT_RATELIMIT_ENABLED=false)"
    )
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s --latency "
        f"--timeout {args.timeout}s "
        f"after {args.warmup} s of warm-up that checks every answer, "
        "one target at a time"
    )
    started = time.monotonic()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="consent-http-bench-") as name:
        for backend in args.backends:
            runs.append(one_backend(args, backend, Path(name)))
    sqlite_post = next((r.ratio(POST) for r in runs if r.backend == "sqlite"), None)
    for run in runs:
        table(run, sqlite_post)
    print(f"({time.monotonic() - started:.0f} s)")
    failed = any(broken(f) for run in runs for f in (run.before, run.after, *run.rows))
    return 0 if all(r.chain_ok for r in runs) and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
