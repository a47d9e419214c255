import os
import subprocess
import sys
from pathlib import Path

from consent_server import create_app
from tests.servers import LOG_KEY

ROOT = Path(__file__).resolve().parent.parent


def outside_the_checkout(path):
    return not Path(path).resolve().is_relative_to(ROOT)


def test_apps_under_test_have_their_own_instance_folder(app, tmp_path):
    assert Path(app.instance_path).is_relative_to(tmp_path)


def test_the_developers_settings_do_not_reach_the_tests():
    leaked = [
        name
        for name in os.environ
        if name.startswith("CONSENT_")
        and not name.startswith("CONSENT_TEST_")
        and name != "CONSENT_INSTANCE_PATH"
    ]
    assert leaked == []
    assert outside_the_checkout(os.environ["CONSENT_INSTANCE_PATH"])


def test_an_app_built_without_an_instance_folder_stays_out_of_the_checkout():
    app = create_app({"DEMO": True, "DATABASE_URL": "sqlite://"})
    assert outside_the_checkout(app.instance_path)
    assert not (Path(app.instance_path) / "config.py").exists()
    assert (Path(app.instance_path) / "demo-secret.key").exists()


def test_processes_the_tests_start_stay_out_of_the_checkout():
    # Servers and commands inherit this environment (tests/servers.py).
    code = (
        "import consent_server as c; print(c.create_app({'DEMO': True}).instance_path)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert outside_the_checkout(result.stdout.strip()), result.stdout


def test_every_way_of_starting_uses_one_instance_folder(tmp_path):
    # `python -m consent_server` inside a checkout imports the checkout's code,
    # `consent-server` the installed one; both must find the same database.
    code = "import consent_server as c; print(c.create_app().instance_path)"
    env = {k: v for k, v in os.environ.items() if k != "CONSENT_INSTANCE_PATH"}
    # A key and a database of its own, so that nothing is written in that
    # folder (a virtual environment may live inside the checkout).
    env["CONSENT_SECRET_KEY"] = "isolation-test-key-0123456789"
    env["CONSENT_LOG_KEY"] = LOG_KEY
    env["CONSENT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.sqlite'}"
    found = {
        subprocess.run(
            [sys.executable, "-c", code], cwd=cwd, env=env,
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        for cwd in (ROOT, tmp_path)
    }  # fmt: skip
    assert found == {str(Path(sys.prefix) / "var" / "consent_server-instance")}
