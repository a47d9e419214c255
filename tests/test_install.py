import os
import subprocess
import sys
import urllib.request

import pytest

from tests.servers import free_port, kill, start, wait_until_up

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    # A plain, non-editable install into a fresh virtual environment; the
    # dependencies come from this interpreter so no download is needed.
    path = tmp_path_factory.mktemp("venv")
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(path)], check=True
    )
    subprocess.run(
        [
            path / "bin" / "python",
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-cache-dir",
            ROOT,
        ],
        check=True,
        capture_output=True,
    )
    return path


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("CONSENT_")}


def test_installed_package_carries_static_and_templates(venv, tmp_path):
    code = (
        "import consent_server as c; a = c.create_app({'DEMO': True});"
        "print(c.__file__); print(a.static_folder); print(a.template_folder)"
    )
    out = subprocess.run(
        [venv / "bin" / "python", "-c", code],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    module, static, templates = out
    assert module.startswith(str(venv)), "the checkout was imported, not the install"
    assert static.startswith(str(venv)) and templates.startswith(str(venv))


def test_demo_runs_on_the_embedded_default_after_install(venv, tmp_path):
    port, shop_port = free_port(), free_port()
    server = start(
        [venv / "bin" / "consent-server", "demo", "--port", str(port),
         "--storefront-port", str(shop_port)],
        env={}, cwd=tmp_path,
    )  # fmt: skip
    service = f"http://127.0.0.1:{port}"
    shop = f"http://127.0.0.1:{shop_port}"
    try:
        wait_until_up(service + "/healthz", server)
        with urllib.request.urlopen(shop + "/") as page:
            html = page.read().decode()
        assert "Linen &amp; Loom" in html
        assert f'<script src="{service}/s/demo/consent.js">' in html
        with urllib.request.urlopen(shop + "/static/demo.css") as css:
            assert css.status == 200
        with urllib.request.urlopen(service + "/s/demo/consent.js") as script:
            assert b"__CONFIG__" not in script.read()
        with urllib.request.urlopen(service + "/v1/sites/demo/config") as config:
            assert b'"site":"demo"' in config.read().replace(b" ", b"")
    finally:
        kill(server)
    # The embedded default: a SQLite file in the install's instance folder.
    assert list(venv.glob("var/consent_server-instance/consent.sqlite"))
