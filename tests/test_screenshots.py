"""The README's pictures come from tools/screenshots.py: it must still run and
take every picture the README shows (it checks each page before it shoots)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import CHROMEDRIVER, CHROMIUM, missing

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.browser


def test_the_script_takes_every_picture_the_readme_shows(tmp_path):
    for path, name in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromedriver")):
        if not Path(path).exists():
            missing(name, f"install it (Debian: apt-get install {name})")
    shown = set(
        re.findall(r"\]\(images/([\w-]+\.png)\)", (ROOT / "README.md").read_text())
    )
    assert len(shown) >= 6

    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "screenshots.py"),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    taken = {p.name for p in tmp_path.glob("*.png") if p.stat().st_size > 10_000}
    assert shown <= taken
    # What the repository holds is what the script makes: no stale extras.
    assert {p.name for p in (ROOT / "images").glob("*.png")} == taken
