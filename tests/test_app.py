import os
import stat
from pathlib import Path

import pytest

from consent_server import create_app
from consent_server.domain.note import Signer
from tests.servers import LOG_KEY


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    for name in ("CONSENT_SECRET_KEY", "CONSENT_DEMO", "CONSENT_LOG_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONSENT_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("CONSENT_LOG_KEY", LOG_KEY)
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite'}"}


def test_refuses_to_start_without_a_secret_key(no_env):
    with pytest.raises(RuntimeError, match="CONSENT_SECRET_KEY is not set"):
        create_app(no_env)


def test_refuses_to_start_without_a_log_signing_key(no_env, monkeypatch):
    # Made beside the database, a key would let whoever writes the database
    # sign a log of their own making: the service needs one set.
    monkeypatch.delenv("CONSENT_LOG_KEY")
    config = {**no_env, "SECRET_KEY": "a-key-0123456789abcdef"}
    with pytest.raises(RuntimeError, match="CONSENT_LOG_KEY: is not set") as refused:
        create_app(config)
    assert "consent-server keygen --out FILE" in str(refused.value)
    instance = Path(os.environ["CONSENT_INSTANCE_PATH"])
    assert not (instance / "log-signing.key").exists()
    # A key an earlier version made there is named, to be moved and set.
    (instance / "log-signing.key").write_text(
        Signer.generate("shop.example/log").key + "\n"
    )
    with pytest.raises(RuntimeError, match="move .*log-signing.key there"):
        create_app(config)
    # The demo and the commands that sign nothing still start.
    assert create_app({**config, "DEMO": True})
    assert create_app(config, require_secret=False)


def test_refuses_a_short_secret_key(no_env):
    with pytest.raises(RuntimeError, match="shorter than 16"):
        create_app({**no_env, "SECRET_KEY": "new-key-0123456789abcdef,short"})


def test_takes_the_key_from_the_environment(no_env, monkeypatch):
    monkeypatch.setenv(
        "CONSENT_SECRET_KEY", "env-key-0123456789abcdef, old-key-0123456789abc"
    )
    app = create_app(no_env)
    assert app.config["CONSENT_KEYS"] == [
        "env-key-0123456789abcdef",
        "old-key-0123456789abc",
    ]
    assert app.secret_key == "env-key-0123456789abcdef"


def test_demo_makes_and_keeps_its_own_key(no_env):
    first = create_app({**no_env, "DEMO": True})
    again = create_app({**no_env, "DEMO": True})
    assert len(first.config["CONSENT_KEYS"][0]) >= 32
    assert first.config["CONSENT_KEYS"] == again.config["CONSENT_KEYS"]


def test_demo_key_file_is_private_from_its_first_byte(no_env, tmp_path, monkeypatch):
    # Under the widest umask, and with any chmod after the fact made to do
    # nothing, the key file must still be readable by its owner only.
    monkeypatch.setattr(Path, "chmod", lambda self, mode: None)
    old = os.umask(0)
    try:
        app = create_app(
            {**no_env, "DEMO": True}, instance_path=str(tmp_path / "private")
        )
    finally:
        os.umask(old)
    folder = tmp_path / "private"
    key = folder / "demo-secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text() == app.config["CONSENT_KEYS"][0]
    assert sorted(p.name for p in folder.iterdir() if "demo-secret" in p.name) == [
        "demo-secret.key"
    ]


@pytest.mark.parametrize(
    "url", ("nonsense", "postgres://consent:s3cret@db/consent", "postgresql://x:y")
)
def test_refuses_a_database_url_it_cannot_use(no_env, url):
    with pytest.raises(RuntimeError, match="cannot open the database") as raised:
        create_app({**no_env, "DEMO": True, "DATABASE_URL": url})
    assert "s3cret" not in str(raised.value)


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    (
        ("DATABASE_URL", 123, "CONSENT_DATABASE_URL: 123 is not a database URL"),
        ("PROXY_COUNT", "abc", "CONSENT_PROXY_COUNT: must be a whole number"),
        ("RATELIMIT_CONSENT", "2 per minuet", "CONSENT_RATELIMIT_CONSENT: '2 per"),
        ("RATELIMIT_VERIFY", "bogus", "CONSENT_RATELIMIT_VERIFY: 'bogus' is not"),
        ("RATELIMIT_STORAGE_URI", "bogus://", "CONSENT_RATELIMIT_STORAGE_URI: "),
    ),
)
def test_refuses_a_setting_it_cannot_use(no_env, setting, value, message):
    # A typo in a limit used to switch rate limiting off without a word.
    with pytest.raises(RuntimeError) as caught:
        create_app({**no_env, "DEMO": True, setting: value})
    assert str(caught.value).startswith(message)


def test_refuses_a_relative_instance_folder(no_env, monkeypatch):
    monkeypatch.setenv("CONSENT_INSTANCE_PATH", "relative/folder")
    with pytest.raises(RuntimeError, match="CONSENT_INSTANCE_PATH: must be an abs"):
        create_app({**no_env, "DEMO": True})
