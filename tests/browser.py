"""Headless Chromium for the explorer's browser test and its screenshot: Debian's `chromium`
and `chromium-driver` (installed by .ci/run), driven by selenium, with nothing fetched from
the network (no driver download, no background connections).

    python -m tests.browser --run DIR --out docs/explorer.png    # the README's screenshot
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import os
import shutil
import tempfile
import threading

import numpy as np
from PIL import Image

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--hide-scrollbars", "--force-device-scale-factor=1")  # fmt: skip


def chromium_paths() -> tuple[str, str] | None:
    """(browser, driver) executables, or None when either is missing."""
    browser = next(filter(None, map(shutil.which, CHROMIUM)), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def missing_browser() -> str | None:
    """Why the browser test cannot run here (None: it can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if chromium_paths() is None:
        return "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
    return None


@contextlib.contextmanager
def chromium(width: int = 1480, height: int = 1000):
    """A selenium WebDriver on headless Chromium, closed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    with tempfile.TemporaryDirectory() as profile:
        for flag in (*FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"):
            options.add_argument(flag)
        os.environ.setdefault("SE_OFFLINE", "true")  # selenium must not look for drivers online
        session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
        try:
            yield session
        finally:
            session.quit()


def wait_until_idle(driver, timeout: float = 20.0) -> None:
    """Waits until the page has no request out and every picture on it has loaded."""
    from selenium.webdriver.support.ui import WebDriverWait

    idle = "return document.body.dataset.busy === '0' && [...document.images].every((i) => i.complete)"
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script(idle))


def data_url_pixels(url: str) -> np.ndarray:
    """The pixels uint8 [S, S, C] of a "data:image/png;base64,..." URL."""
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix), url[:40]
    image = Image.open(io.BytesIO(base64.b64decode(url[len(prefix) :])))
    pixels = np.asarray(image)
    return pixels[..., None] if pixels.ndim == 2 else pixels


@contextlib.contextmanager
def serving(explorer):
    """The explorer's server on a free loopback port, in a thread; yields its URL."""
    from pyro_ccvae.explorer import make_server

    server = make_server(explorer, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()


def screenshot(driver, url: str, path, source="test:0", settings: dict | None = None, diversity=None) -> None:
    """Opens the page on image `source`, moves the controls named in `settings` ({label:
    setting}, as the page sends them), shows the diversity of label `diversity` (default:
    the first), and saves a screenshot of the whole page to `path`."""
    driver.get(url)
    wait_until_idle(driver)
    driver.execute_script("window.explorer.choose(arguments[0])", source)
    for name, setting in (settings or {}).items():
        driver.execute_script("window.explorer.move(arguments[0], arguments[1])", name, setting)
    if diversity is not None:
        choice = "const s = document.getElementById('diversity-label'); s.value = arguments[0];"
        driver.execute_script(choice + "s.dispatchEvent(new Event('change'));", diversity)
    wait_until_idle(driver)
    width, height = driver.execute_script(
        "return [document.documentElement.clientWidth, document.documentElement.scrollHeight]"
    )
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)  # the whole page in view
    wait_until_idle(driver)
    driver.save_screenshot(str(path))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True)
    parser.add_argument("--out", default="docs/explorer.png")
    parser.add_argument("--source", default="test:0")
    parser.add_argument("--set", action="append", default=[], metavar="LABEL=SETTING",
                        help="a control to move, as the page sends it (a slider position, a class index, a value)")
    parser.add_argument("--diversity", default=None, metavar="LABEL", help="the diversity panel's label")
    args = parser.parse_args()
    from pyro_ccvae.explorer import Explorer

    settings = {name: (float(v) if "." in v else int(v)) for name, _, v in (s.partition("=") for s in args.set)}
    with serving(Explorer.from_run(args.run)) as url, chromium() as driver:
        screenshot(driver, url, args.out, args.source, settings, args.diversity)


if __name__ == "__main__":
    main()
