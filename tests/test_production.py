# The production setup the README documents (deploy/gunicorn.conf.py behind
# deploy/nginx.conf) against clients that are idle or slow: real gunicorn,
# real nginx, raw sockets.
import os
import shutil
import signal
import socket
import threading
import time
import urllib.request

import pytest

from consent_server.store import accounts
from consent_server.store import engine as store_engine
from tests.helpers import fill_log
from tests.servers import (
    LOG_KEY,
    cli,
    free_port,
    kill,
    slow_get,
    slow_socket,
    start_gunicorn,
    start_nginx,
    wait_until_up,
)

EVENTS = 20_000
RATE = 500_000  # bytes per second: 20 s for the export, 5 worker timeouts
# Shorter than the documented 30 s so that a slow read outlasts it quickly:
# the export must not depend on being faster than the worker timeout.
SHORT_TIMEOUT = ("--timeout", "4")


@pytest.fixture
def service(tmp_path):
    url = f"sqlite:///{tmp_path / 'consent.sqlite'}"
    env = {
        "CONSENT_DATABASE_URL": url,
        "CONSENT_SECRET_KEY": "production-key-0123456789",
        "CONSENT_LOG_KEY": LOG_KEY,
        "CONSENT_RATELIMIT_ENABLED": "false",
        "CONSENT_INSTANCE_PATH": str(tmp_path / "instance"),
        "CONSENT_PROXY_COUNT": "1",
    }
    assert cli(["init"], env).returncode == 0
    return env, url


@pytest.fixture
def exportable(service):
    env, url = service
    engine = store_engine.make_engine(url)
    try:
        fill_log(engine, EVENTS)
        with engine.connect() as conn:
            token = accounts.create_token(conn, "auditor", "audit")
            conn.commit()
    finally:
        engine.dispose()
    return env, {"Authorization": f"Bearer {token}"}


@pytest.fixture
def gunicorn(request):
    servers = []

    def run(env, *extra):
        port = free_port()
        server = start_gunicorn(port, env, *extra)
        servers.append(server)
        wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
        return port, server

    yield run
    for server in servers:
        kill(server)


def body_of(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    if b"transfer-encoding: chunked" in head.lower():
        body = dechunk(body)
    return body.decode()


def dechunk(data):
    out, pos = bytearray(), 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            return bytes(out)  # cut inside a chunk header
        size = int(data[pos:end].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += data[end + 2 : end + 2 + size]
        pos = end + 2 + size + 2


def last_line(text):
    return text.rstrip("\n").rsplit("\n", 1)[-1]


def test_idle_sockets_do_not_stop_the_service(service, gunicorn):
    env, _ = service
    port, _ = gunicorn(env)
    # Step: open more silent connections than the documented setup has
    # worker processes, and say nothing on them.
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
    try:
        time.sleep(0.5)
        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert r.status == 200
        assert time.monotonic() - started < 2
    finally:
        for sock in idle:
            sock.close()


@pytest.mark.skipif(
    not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"))
    and os.environ.get("CI") != "true",
    reason="nginx is not installed",
)
def test_a_slow_reader_behind_nginx_gets_the_whole_export(
    exportable, gunicorn, tmp_path
):
    env, auth = exportable
    port, _ = gunicorn(
        env, *SHORT_TIMEOUT, "--access-logfile", str(tmp_path / "access")
    )
    (tmp_path / "nginx").mkdir()
    nginx, https_port = start_nginx(tmp_path / "nginx", port)
    gunicorn_done_at = []

    def watch(received):
        # Step: note how far the reader was when gunicorn logged the export
        # as finished, i.e. its thread was free again.
        if not gunicorn_done_at and "format=csv" in (tmp_path / "access").read_text():
            gunicorn_done_at.append(received)

    try:
        sock = slow_socket(https_port, tls=True)
        started = time.monotonic()
        with sock:
            raw = slow_get(
                sock, "/v1/audit/events?format=csv", auth, RATE, on_progress=watch
            )
        took = time.monotonic() - started
    finally:
        kill(nginx)
    text = body_of(raw)
    assert took > 2 * int(SHORT_TIMEOUT[1])  # the read outlasted the timeout
    assert text.count("\n") == EVENTS + 2
    assert last_line(text).startswith(f"#end rows={EVENTS} hash=")
    # nginx took the whole answer while the reader had read little of it.
    assert gunicorn_done_at and gunicorn_done_at[0] < len(raw) / 2


def test_a_slow_reader_straight_from_gunicorn_gets_the_whole_export(
    exportable, gunicorn
):
    env, auth = exportable
    port, _ = gunicorn(env, *SHORT_TIMEOUT)
    started = time.monotonic()
    with slow_socket(port) as sock:
        raw = slow_get(sock, "/v1/audit/events?format=csv", auth, RATE)
    text = body_of(raw)
    assert time.monotonic() - started > 2 * int(SHORT_TIMEOUT[1])
    assert last_line(text).startswith(f"#end rows={EVENTS} hash=")
    assert text.count("\n") == EVENTS + 2


def test_an_export_cut_by_a_killed_server_visibly_lacks_its_end_line(
    exportable, gunicorn
):
    env, auth = exportable
    port, server = gunicorn(env)
    killed = threading.Event()

    def kill_midway(received):
        # Step: the whole server dies part-way, as when a machine goes down.
        if received > 300_000 and not killed.is_set():
            killed.set()
            os.killpg(server.pid, signal.SIGKILL)

    with slow_socket(port) as sock:
        raw = slow_get(
            sock,
            "/v1/audit/events?format=ndjson",
            auth,
            2_000_000,
            on_progress=kill_midway,
        )
    assert killed.is_set()
    text = body_of(raw)
    assert 0 < text.count("\n") < EVENTS
    assert '"end"' not in last_line(text) and "#end" not in text
