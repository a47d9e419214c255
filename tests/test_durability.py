import http.client
import json
import sys
import threading
import time
import urllib.request

import sqlalchemy as sa

from consent_server.store import engine as store_engine
from consent_server.store import log as store_log
from consent_server.store import schema, tree
from tests.servers import LOG_KEY, cli, free_port, kill, start, wait_until_up


def post_consent(base, origin):
    body = {
        "site": "demo",
        "choices": {"preferences": True, "analytics": False, "advertising": True},
        "method": "custom",
        "revision": 1,
        "language": "fr",
    }
    request = urllib.request.Request(
        base + "/v1/consent",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Origin": origin},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.load(response)["id"]


def initialised(url, tmp_path):
    """The server's environment, on a database made ready with ``init``."""
    env = {
        "CONSENT_DATABASE_URL": url,
        "CONSENT_SECRET_KEY": "durability-key-0123456789",
        "CONSENT_LOG_KEY": LOG_KEY,
        "CONSENT_RATELIMIT_ENABLED": "false",
        "CONSENT_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    assert cli(["init"], env).returncode == 0
    return env


def gunicorn(port, env):
    return start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "consent_server:create_app()",
        ],  # fmt: skip
        env,
    )


def assert_all_kept(url, acknowledged):
    """Every acknowledged consent is in the log and its tree, and both verify."""
    engine = store_engine.make_engine(url)
    try:
        with engine.connect() as conn:
            stored = set(
                conn.execute(sa.select(schema.consent_events.c.consent_id)).scalars()
            )
        assert set(acknowledged) <= stored
        with engine.connect() as conn:
            assert store_log.verify_chain(conn).ok
            # The Merkle tree too: each event joined it in its own commit, so
            # a kill during a batch leaves the tree whole and every
            # acknowledged event in it.
            report = tree.verify_tree(conn)
            assert report.ok, report.problem
            c = schema.consent_events.c
            outside = conn.execute(
                sa.select(sa.func.count()).where(c.leaf_index.is_(None))
            ).scalar()
            assert outside == 0
    finally:
        engine.dispose()


def test_sigkill_right_after_201_loses_no_acknowledged_row(tmp_path):
    url = f"sqlite:///{tmp_path / 'consent.sqlite'}"
    env = initialised(url, tmp_path)
    port = free_port()
    server = gunicorn(port, env)
    base = f"http://127.0.0.1:{port}"
    acknowledged, lock, enough = [], threading.Lock(), threading.Event()

    def visitor():
        while not enough.is_set():
            try:
                consent_id = post_consent(base, f"http://127.0.0.1:{port}")
            except (OSError, http.client.HTTPException):
                return  # the server is gone, perhaps in the middle of an answer
            with lock:
                acknowledged.append(consent_id)
                if len(acknowledged) >= 150:
                    # Kill at once, with other requests still in flight.
                    kill(server)
                    enough.set()

    try:
        wait_until_up(base + "/healthz", server)
        threads = [threading.Thread(target=visitor) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        kill(server)

    assert len(acknowledged) >= 150
    assert_all_kept(url, acknowledged)


def test_three_sigkills_under_load_lose_no_acknowledged_consent(database_url, tmp_path):
    env = initialised(database_url, tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    acknowledged, lock = [], threading.Lock()

    def visitor(stop):
        while not stop.is_set():
            try:
                consent_id = post_consent(base, base)
            except (OSError, http.client.HTTPException):
                # The server is gone or coming back (an answer cut off before
                # its body never told the visitor its id): keep trying.
                continue
            with lock:
                acknowledged.append(consent_id)

    for _ in range(3):
        # Six visitors keep posting; the server is killed in the middle of it.
        server = gunicorn(port, env)
        stop = threading.Event()
        try:
            wait_until_up(base + "/healthz", server)
            threads = [threading.Thread(target=visitor, args=(stop,)) for _ in range(6)]
            for t in threads:
                t.start()
            before = len(acknowledged)
            # Killed once 60 more are acknowledged (or after 60 s on a slow
            # machine), with the visitors' requests still in flight.
            deadline = time.monotonic() + 60
            while len(acknowledged) < before + 60 and time.monotonic() < deadline:
                time.sleep(0.01)
            kill(server)
        finally:
            stop.set()
            kill(server)
        for t in threads:
            t.join(timeout=30)
        assert len(acknowledged) >= before + 10, "the load never got going"

    # After the last restart the service records again, and nothing
    # acknowledged before any of the kills is missing.
    server = gunicorn(port, env)
    try:
        wait_until_up(base + "/healthz", server)
        acknowledged.append(post_consent(base, base))
    finally:
        kill(server)
    assert_all_kept(database_url, acknowledged)
