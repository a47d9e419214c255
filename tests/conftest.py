import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from consent_server import create_app
from consent_server.cli import init_database
from consent_server.store import engine as store_engine
from consent_server.store import schema

pytest_plugins = ["tests.browser"]
SECRET = "test-secret-key-0123456789abcdef"
POSTGRES_URL = os.environ.get("CONSENT_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI") == "true"
ROOT = Path(__file__).resolve().parent.parent

# The developer's own settings must not reach the apps under test, nor the
# servers and commands the tests start: drop every CONSENT_* variable for the
# whole run but the suite's own (CONSENT_TEST_*, read above).
for _name in [n for n in os.environ if n.startswith("CONSENT_")]:
    if not _name.startswith("CONSENT_TEST_"):
        del os.environ[_name]

# What tools keep in the checkout anyway: not the tests' doing.
TOOL_LITTER = ("__pycache__/", ".pytest_cache/", "node_modules/", ".egg-info/")


def _files_beside_the_checkout():
    """Untracked and ignored files in the checkout, or None outside git."""
    try:
        out = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "-z",
                "--ignored",
                "--untracked-files=all",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except FileNotFoundError:
        return None
    if out.returncode != 0:
        return None
    entries = [e[3:] for e in out.stdout.split("\0") if e[:2] in ("??", "!!")]
    return {e for e in entries if not any(part in e for part in TOOL_LITTER)}


@pytest.fixture(scope="session", autouse=True)
def leave_no_trace(tmp_path_factory):
    # Anything that builds an app without its own instance folder (the command
    # line, gunicorn, a bare create_app()) gets a temporary one, never the
    # checkout's instance/ with the developer's config.py and demo key.
    before = _files_beside_the_checkout()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CONSENT_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance")))
        yield
    after = _files_beside_the_checkout()
    if before is not None and after is not None and after - before:
        pytest.fail(
            "the tests wrote into the checkout (or something else did while they"
            " ran): " + ", ".join(sorted(after - before))
        )


def _postgres_url():
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI=true but CONSENT_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL: set CONSENT_TEST_POSTGRES_URL to run these")
    engine = store_engine.make_engine(POSTGRES_URL)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    # Start every test from an empty database.
    schema.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return POSTGRES_URL


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'consent.sqlite'}"
    return _postgres_url()


@pytest.fixture
def make_app(database_url, tmp_path):
    made = []

    def make(**config):
        settings = {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET,
            "RATELIMIT_ENABLED": False,
        }
        settings.update(config)
        instance = tmp_path / f"instance-{len(made)}"
        app = create_app(settings, instance_path=str(instance))
        made.append(app)
        with app.app_context():
            init_database()
        return app

    yield make
    for app in made:
        app.extensions["consent_db"].dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def engine(app):
    return app.extensions["consent_db"]


ORIGIN = "http://127.0.0.1:8000"


class ConsentActions:
    def __init__(self, client):
        self._client = client

    def body(self, **changes):
        body = {
            "site": "demo",
            "choices": {"preferences": False, "analytics": True, "advertising": False},
            "method": "custom",
            "revision": 1,
            "language": "en",
            "url": ORIGIN
            + "/products/tea-towel?utm_source=news&email=a@b.example#reviews",
        }
        body.update(changes)
        return body

    def post(self, body=None, origin=ORIGIN, headers=None, **changes):
        all_headers = {"Origin": origin} if origin else {}
        all_headers.update(headers or {})
        return self._client.post(
            "/v1/consent",
            json=self.body(**changes) if body is None else body,
            headers=all_headers,
        )

    def verify(self, token, **extra):
        return self._client.post("/v1/consent/verify", json={"token": token, **extra})


@pytest.fixture
def consent(client):
    return ConsentActions(client)
