import os
import shutil
import site
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.servers import free_port, kill, start, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
# What building the wheel reads; copied so that the build litters a temporary
# folder (build/, *.egg-info), not the checkout.
SOURCES = (
    "setup.cfg",
    "pyproject.toml",
    "README.md",
    "consent_server",
    "static",
    "templates",
)


def run(args, **kwargs):
    # Show what went wrong: pip's and the app's own output, not just an exit code.
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=300, **kwargs
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(str(a) for a in args)} exited with {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}",
            pytrace=False,
        )
    return result


def site_folders():
    """Where this interpreter's packages are: a virtual environment's or not."""
    folders = site.getsitepackages()
    if site.ENABLE_USER_SITE:
        folders.append(site.getusersitepackages())
    return [f for f in folders if os.path.isdir(f)]


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    # A plain, non-editable install into a fresh virtual environment, with no
    # download: the wheel is built by this interpreter's setuptools and wheel
    # (pinned in requirements.lock), and the new environment finds the
    # dependencies in this interpreter's site-packages through a .pth file.
    # (--system-site-packages would not do: from inside a virtual environment
    # it reaches the base Python, not this environment.)
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path_factory.mktemp("wheels")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--no-cache-dir", "--wheel-dir", wheels, source])  # fmt: skip
    (wheel,) = wheels.glob("consent_server-*.whl")

    path = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", path])
    python = path / "bin" / "python"
    purelib = run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    # Plain paths, appended after the new environment's own site-packages: the
    # install wins over the checkout, and this environment's .pth files (the
    # editable install's among them) are not run.
    (Path(purelib) / "consent-test-dependencies.pth").write_text(
        "".join(f"{folder}\n" for folder in site_folders())
    )
    run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--no-cache-dir",
            wheel,
        ]
    )
    return path


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("CONSENT_")}


def test_installed_package_carries_static_and_templates(venv, tmp_path):
    code = (
        "import consent_server as c; a = c.create_app({'DEMO': True});"
        "print(c.__file__); print(a.static_folder); print(a.template_folder)"
    )
    out = run([venv / "bin" / "python", "-c", code], cwd=tmp_path, env=clean_env())
    module, static, templates = out.stdout.split()
    assert module.startswith(str(venv)), "the checkout was imported, not the install"
    assert static.startswith(str(venv)) and templates.startswith(str(venv))
    assert os.path.isfile(os.path.join(static, "consent.min.js"))
    assert os.listdir(templates)


def test_demo_runs_on_the_embedded_default_after_install(venv, tmp_path):
    port, shop_port = free_port(), free_port()
    server = start(
        [venv / "bin" / "consent-server", "demo", "--port", str(port),
         "--storefront-port", str(shop_port)],
        env={"CONSENT_INSTANCE_PATH": None}, cwd=tmp_path,
    )  # fmt: skip
    service = f"http://127.0.0.1:{port}"
    shop = f"http://127.0.0.1:{shop_port}"
    try:
        wait_until_up(service + "/healthz", server)
        with urllib.request.urlopen(shop + "/") as page:
            html = page.read().decode()
        assert "Linen &amp; Loom" in html
        # The banner first, with the nonce of the page's policy.
        assert f'<script src="{service}/s/demo/consent.js" nonce="' in html
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
