"""One address floods a real gunicorn; everybody else is still served.

The flooder connects from 127.0.0.2, the visitors from 127.0.0.1 (any
127.0.0.0/8 address is loopback), so the limits count them apart as they
would two clients on the internet.
"""

import http.client
import json
import sys
import threading

from tests.servers import LOG_KEY, cli, free_port, kill, start, wait_until_up

BODY = {
    "site": "demo",
    "choices": {"preferences": False, "analytics": True, "advertising": False},
    "method": "custom",
    "revision": 1,
    "language": "en",
}


def post(port, path, body, source):
    """POST JSON from the source address; the status, headers and JSON answer."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(source, 0)
    )
    try:
        connection.request(
            "POST",
            path,
            json.dumps(body),
            {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{port}"},
        )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()


def test_a_flooding_address_is_limited_and_others_still_get_their_201s(tmp_path):
    env = {
        "CONSENT_DATABASE_URL": f"sqlite:///{tmp_path / 'consent.sqlite'}",
        "CONSENT_SECRET_KEY": "flood-key-0123456789",
        "CONSENT_LOG_KEY": LOG_KEY,
        "CONSENT_INSTANCE_PATH": str(tmp_path / "instance"),
        "CONSENT_RATELIMIT_CONSENT": "30 per minute",
        "CONSENT_RATELIMIT_VERIFY": "30 per minute",
    }
    assert cli(["init"], env).returncode == 0
    port = free_port()
    # One process, so that its in-memory limit store sees every request.
    server = start(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread",
         "--threads", "8", "-b", f"127.0.0.1:{port}", "consent_server:create_app()"],
        env,
    )  # fmt: skip
    flooded = []

    def flood(path, body):
        # Twice the limit and more: the rest are all refused.
        for _ in range(80):
            flooded.append((path, *post(port, path, body, "127.0.0.2")))

    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
        status, _, recorded = post(port, "/v1/consent", BODY, "127.0.0.1")
        assert status == 201
        floods = [
            threading.Thread(target=flood, args=("/v1/consent", BODY)),
            threading.Thread(
                target=flood, args=("/v1/consent/verify", {"token": recorded["token"]})
            ),
        ]
        for thread in floods:
            thread.start()
        # Meanwhile a visitor records, and a backend verifies, as usual.
        mine = [post(port, "/v1/consent", BODY, "127.0.0.1") for _ in range(20)]
        checks = [
            post(port, "/v1/consent/verify", {"token": recorded["token"]}, "127.0.0.1")
            for _ in range(20)
        ]
    finally:
        for thread in floods:
            thread.join(timeout=30)
        kill(server)

    assert [status for status, _, _ in mine] == [201] * 20
    assert [answer["valid"] for _, _, answer in checks] == [True] * 20
    for path in ("/v1/consent", "/v1/consent/verify"):
        answers = [(s, h, a) for p, s, h, a in flooded if p == path]
        limited = [(h, a) for s, h, a in answers if s == 429]
        assert len(answers) == 80 and len(limited) >= 50
        for headers, answer in limited:
            assert int(headers["Retry-After"]) > 0
            assert answer["error"]["code"] == "too_many_requests"
