"""Screenshots for the README, taken from the real pages, so that they stay true.

Starts ``consent-server demo`` on free loopback ports over a fresh SQLite
file, logs in to the config page with the demo editor account it prints,
and photographs the pages an editor uses and the banner a visitor sees, in
headless Chromium (Debian's ``chromium`` and ``chromium-driver``). Run from
the project root, with the package and selenium installed::

    python tools/screenshots.py            # writes images/*.png
    python tools/screenshots.py --out /tmp/shots

Every page is checked before it is photographed (the element that proves it
is the right page must be there), so a page that broke fails the run instead
of leaving a stale picture in the README.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DESKTOP = (1280, 860)
PHONE = (390, 844)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_demo(directory: Path) -> tuple[subprocess.Popen[str], str, str, str]:
    """The demo, its service and storefront URLs, and the editor's password."""
    port, shop = free_port(), free_port()
    env = {
        **os.environ,
        "CONSENT_DATABASE_URL": f"sqlite:///{directory / 'demo.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "consent_server",
            "demo",
            "--port",
            str(port),
            "--storefront-port",
            str(shop),
        ],  # fmt: skip
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    password = None
    deadline = time.monotonic() + 60
    while password is None and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise SystemExit("the demo stopped before it printed its accounts")
        found = re.search(r"editor: email \S+\s+password (\S+)", line)
        password = found and found.group(1)
    if password is None:
        raise SystemExit("the demo printed no editor password")
    service = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(service + "/healthz", timeout=2)
            break
        except OSError:
            time.sleep(0.1)
    return process, service, f"http://127.0.0.1:{shop}", password


def browser(profile: Path) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def shoot(
    driver: WebDriver,
    out: Path,
    name: str,
    url: str,
    proof: str,
    size: tuple[int, int] = DESKTOP,
    then: Callable[[WebDriver], None] | None = None,
    tall: int = 0,
) -> None:
    """Open ``url`` at ``size``, wait for the CSS selector ``proof``, save a PNG.

    With ``tall``, the picture shows the page down to that many pixels (or
    its end), not just the first screen.
    """
    width, height = size
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.set_window_size(width, height)
    driver.get(url)
    wait = WebDriverWait(driver, 10)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, proof))
    if then is not None:
        then(driver)
    if tall:
        page = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": min(page, tall), "deviceScaleFactor": 1,
             "mobile": False},
        )  # fmt: skip
    time.sleep(0.3)  # let the banner's entrance settle
    driver.save_screenshot(str(out / f"{name}.png"))
    print(f"{out / name}.png  {url}")


def log_in(driver: WebDriver, service: str, email: str, password: str) -> None:
    driver.set_window_size(*DESKTOP)
    driver.get(service + "/admin/login")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "whoami"))


def open_preferences(driver: WebDriver) -> None:
    driver.find_element(
        By.CSS_SELECTOR, '#consent-banner [data-consent-action="customize"]'
    ).click()
    WebDriverWait(driver, 10).until(
        lambda d: d.find_elements(
            By.CSS_SELECTOR, '#consent-banner [data-consent-layer="preferences"]'
        )
    )


# What the demo's visitors choose before the pictures are taken, so that the
# insight page has something to show: real clicks on the real banner.
VISITS = ("accept-all",) * 5 + ("reject-all",) * 3 + ("custom",) * 2


def visit(driver: WebDriver, shop: str, action: str) -> None:
    """One new visitor on the storefront who makes one choice."""
    driver.delete_all_cookies()
    driver.get(shop + "/")
    wait = WebDriverWait(driver, 10)
    banner = '#consent-banner [data-consent-action="{}"]'
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, banner.format("customize")))
    if action == "custom":
        open_preferences(driver)
        driver.find_element(
            By.CSS_SELECTOR, '#consent-banner [data-consent-category="analytics"]'
        ).click()
        action = "save"
    driver.find_element(By.CSS_SELECTOR, banner.format(action)).click()
    wait.until(lambda d: d.get_cookie("cs_consent"))


GERMAN_TITLE = "Ihre Wahl, Ihre Daten"


def edit_german_title(driver: WebDriver, admin: str) -> None:
    """What an editor does first: a new German title, saved to the draft."""
    driver.get(admin + "/sites/demo/texts/de")
    title = driver.find_element(By.NAME, "title")
    title.clear()
    title.send_keys(GERMAN_TITLE)
    driver.find_element(By.ID, "save-texts").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "flash"))


def publish(driver: WebDriver) -> None:
    driver.find_element(By.ID, "publish").click()
    # The page is replaced as the publish lands: an element read from the
    # old one is stale, which only means "not yet".
    WebDriverWait(
        driver, 10, ignored_exceptions=(StaleElementReferenceException,)
    ).until(
        lambda d: (
            "revision" in d.find_element(By.ID, "published").text
            and not d.find_elements(By.ID, "publish")
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "images")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        process, service, shop, password = start_demo(Path(tmp))
        driver = browser(Path(tmp) / "profile")
        try:
            notice = '#consent-banner [data-consent-layer="notice"]'
            shoot(driver, args.out, "banner", shop + "/", notice)
            shoot(driver, args.out, "banner-preferences", shop + "/", notice,
                  then=open_preferences)  # fmt: skip
            for action in VISITS:
                visit(driver, shop, action)
            log_in(driver, service, "editor@demo.test", password)
            admin = service + "/admin"
            edit_german_title(driver, admin)
            shoot(driver, args.out, "admin-site", admin + "/sites/demo/", "#pending",
                  tall=1800)  # fmt: skip
            shoot(driver, args.out, "admin-preview",
                  admin + "/sites/demo/preview?lang=de&layer=notice&width=phone",
                  "#preview-frame", tall=1100)  # fmt: skip
            driver.get(admin + "/sites/demo/")
            publish(driver)
            shoot(driver, args.out, "admin-history", admin + "/sites/demo/history",
                  "main", tall=1100)  # fmt: skip
            shoot(driver, args.out, "admin-embed", admin + "/sites/demo/embed",
                  "#cookie-table", tall=1600)  # fmt: skip
            shoot(driver, args.out, "admin-insight", admin + "/insight/?site=demo",
                  "svg.chart", tall=1500)  # fmt: skip
            # What a new German visitor now sees on a phone: the published
            # title. (Last: clearing the cookies logs the editor out too.)
            driver.get(shop + "/")
            driver.delete_all_cookies()
            # A new visitor: nothing cached either (this browser keeps the
            # banner files it loaded above for their max-age of 5 minutes).
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            shoot(driver, args.out, "banner-phone-de", shop + "/?lang=de", notice,
                  PHONE)  # fmt: skip
            title = driver.find_element(By.CSS_SELECTOR, "#consent-banner h2").text
            if title != GERMAN_TITLE:
                raise SystemExit(f"the storefront shows {title!r}, not the new title")
        finally:
            driver.quit()
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
