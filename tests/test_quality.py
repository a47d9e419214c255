import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_package_passes_mypy_strict():
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_passes_ruff():
    result = run("ruff", "check", "consent_server", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr
    result = run("ruff", "format", "--check", "consent_server", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr
