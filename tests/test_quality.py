import os
import subprocess
import sys
from importlib.metadata import version

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def require_locked(name):
    # A newer ruff or mypy finds new things to complain about: the checks only
    # mean something with the version requirements.lock pins.
    with open(os.path.join(ROOT, "requirements.lock")) as lock:
        pins = dict(line.strip().split("==") for line in lock if "==" in line)
    if version(name) != pins[name]:
        why = (
            f"{name} {version(name)} is installed but requirements.lock pins"
            f" {pins[name]}: install with the README's test command"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {why}")
        pytest.skip(why)


def test_package_passes_mypy_strict(tmp_path):
    require_locked("mypy")
    result = run("mypy", "--cache-dir", str(tmp_path / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_passes_ruff():
    require_locked("ruff")
    result = run(
        "ruff", "check", "--no-cache", "consent_server", "tests", "bench", "tools"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    result = run(
        "ruff",
        "format",
        "--no-cache",
        "--check",
        "consent_server",
        "tests",
        "bench",
        "tools",
    )
    assert result.returncode == 0, result.stdout + result.stderr
