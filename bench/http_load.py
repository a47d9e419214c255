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

Run from the project root with the package installed::

    python bench/http_load.py                          # a fresh SQLite file
    python bench/http_load.py --database-url postgresql://USER:PASS@HOST/DB

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

from tests.servers import wait_until_up  # noqa: E402

HOST = "127.0.0.1"
SITE = "demo"
SETTINGS = ROOT / "deploy" / "gunicorn.conf.py"
STARTUP_TIMEOUT = 60.0
# What the issue asks of each target, as a ratio to the baseline.
TARGETS = {
    "consent.js": 0.85,
    "consent.js 304": 0.9,
    "verify": 0.6,
}
SQLITE_TARGETS = {"POST /v1/consent": 0.5}

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
    checked: int
    bad: int
    socket_errors: int
    socket_kinds: str
    first_bad: str


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="CONSENT_DATABASE_URL to benchmark (default: a fresh SQLite file)",
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
    return args


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
    return Figures(
        name=name,
        rps=float(rps[1]),
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        non_2xx_3xx=int(non[1]) if non else 0,
        checked=int(checked[1]) if checked else 0,
        bad=int(checked[2]) if checked else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        socket_kinds=sockets[0] if sockets else "",
        first_bad=first[1] if first else "",
    )


def wrk(
    args: argparse.Namespace,
    port: int,
    target: Target,
    tmp: Path,
    seconds: int,
    check: bool,
) -> Figures:
    """Run wrk against one target for ``seconds`` and read its figures."""
    name = re.sub(r"[^a-z0-9]+", "-", target.name.lower())
    script = tmp / f"{name}{'-check' if check else ''}.lua"
    script.write_text(lua_script(target, check))
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--latency",
        f"--timeout={args.timeout}s",
        "-s",
        str(script),
        f"http://{HOST}:{port}{target.path}",
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 or done.stderr:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return parse_wrk(target.name, done.stdout)


def measure(args: argparse.Namespace, port: int, target: Target, tmp: Path) -> Figures:
    """A checked warm-up run, then the measured run with wrk's plain loop.

    Checking each answer in Lua makes wrk hand every header and body to the
    script, which costs the client about a tenth to a quarter of the
    baseline's requests per second on this machine (and so would flatter
    every ratio); the measured run only sends, and counts what wrk counts.
    """
    checked = wrk(args, port, target, tmp, args.warmup, check=True)
    measured = wrk(args, port, target, tmp, args.seconds, check=False)
    figures = dataclasses.replace(
        measured,
        checked=checked.checked,
        bad=checked.bad,
        first_bad=checked.first_bad,
        socket_errors=checked.socket_errors + measured.socket_errors,
    )
    print(
        f"  {target.name:<20} {figures.rps:9.1f} req/s  "
        f"p50 {figures.p50_ms:7.2f} ms  p99 {figures.p99_ms:7.2f} ms  "
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
        return measure(args, server.port, Target("hello-world", "/", 200), tmp)
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


def service(args: argparse.Namespace, env: dict[str, str], tmp: Path) -> list[Figures]:
    server = Server("consent_server:create_app()", env, tmp / "consent.log")
    try:
        server.wait("/healthz")
        measured = [measure(args, server.port, t, tmp) for t in targets(server.port)]
    except BaseException:
        server.stop()
        server.show_log()
        raise
    finally:
        server.stop()
    if any(broken(f) for f in measured):
        server.show_log()
    return measured


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


def table(backend: str, before: Figures, after: Figures, rows: list[Figures]) -> None:
    base = (before.rps + after.rps) / 2
    targets = dict(TARGETS, **(SQLITE_TARGETS if backend == "sqlite" else {}))
    print()
    print(
        "| target | requests/s | p50 ms | p99 ms | non-2xx/3xx | bad in warm-up "
        "| socket errors | ratio | issue 10 target |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    named = [("hello-world before", before), *((f.name, f) for f in rows)]
    named.append(("hello-world after", after))
    for name, f in named:
        ratio = f.rps / base
        wanted = targets.get(name)
        goal = (
            ""
            if wanted is None
            else f"≥ {wanted:.2f}× " + ("met" if ratio >= wanted else "not met")
        )
        print(
            f"| {name} | {f.rps:.1f} | {f.p50_ms:.2f} | {f.p99_ms:.2f} "
            f"| {f.non_2xx_3xx} | {f.bad} | {f.socket_errors} | {ratio:.2f}× | {goal} |"
        )
    drift = (after.rps - before.rps) / before.rps
    print(
        f"\nbaseline: mean {base:.1f} req/s of hello-world before and after; "
        f"drift {drift:+.1%} over the run"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="consent-http-bench-") as name:
        tmp = Path(name)
        url = args.database_url or f"sqlite:///{tmp / 'consent.sqlite'}"
        backend = backend_name(url)
        env = dict(os.environ)
        env.update(
            CONSENT_DATABASE_URL=url,
            CONSENT_SECRET_KEY=secrets.token_urlsafe(32),
            CONSENT_RATELIMIT_ENABLED="false",
            CONSENT_INSTANCE_PATH=str(tmp / "instance"),
        )
        print(
            f"backend {backend}; gunicorn -c deploy/gunicorn.conf.py with only the "
            "bind overridden (a free loopback port); rate limits off "
            "(CONSENT_RATELIMIT_ENABLED=false)"
        )
        print(
            f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s --latency "
            f"--timeout {args.timeout}s "
            f"after {args.warmup} s of warm-up that checks every answer, "
            "one target at a time"
        )
        prepare_database(url, env)
        started = time.monotonic()
        before = baseline(args, env, tmp)
        rows = service(args, env, tmp)
        chain_ok = verify_log(env)
        after = baseline(args, env, tmp)
        table(backend, before, after, rows)
        print(f"({time.monotonic() - started:.0f} s)")
    failed = any(broken(f) for f in (before, after, *rows))
    return 0 if chain_ok and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
