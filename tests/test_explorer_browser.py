"""The explorer in a real browser: headless Chromium opens the page, a slider is moved with the
keyboard and a class button clicked, and the picture the page shows is the library's own
traversal and intervention for those settings. Skipped where Chromium is not installed,
except under CI (the environment variable CI set), where that is a failure."""

import base64
import io
import os

import numpy as np
import pytest
import torch
from PIL import Image

from pyro_ccvae.analysis.manipulate import intervene, traverse
from pyro_ccvae.explorer.controls import TRAVERSAL_STEPS

from .browser import chromium, data_url_pixels, missing_browser, screenshot, serving, wait_until_idle
from .test_explorer import as_pixels

why_not = missing_browser()
if why_not and os.environ.get("CI"):
    pytest.fail(f"the browser test must run in CI, but {why_not}", pytrace=False)
pytestmark = pytest.mark.skipif(why_not is not None, reason=why_not or "")


@pytest.fixture(scope="module")
def page(explorer):
    with serving(explorer) as url, chromium(1300, 900) as driver:
        driver.get(url)
        wait_until_idle(driver)
        yield driver, url


def shown(driver) -> tuple[np.ndarray, str]:
    edited = driver.find_element("id", "edited")
    return data_url_pixels(edited.get_attribute("src")).astype(np.float64), edited.get_attribute("data-request")


def test_moving_a_slider_shows_the_librarys_traversal_point(page, explorer):
    from selenium.webdriver.common.keys import Keys

    driver, _ = page
    before, request = shown(driver)
    assert '"source":"test:0"' in request and '"settings":{}' in request
    x = explorer.image("test:0").unsqueeze(0)
    with torch.no_grad():
        assert np.abs(before - as_pixels(explorer.model.reconstruct(x)[0])).max() <= 1

    slider = driver.find_element("css selector", 'input[type="range"][data-label="Smiling"]')
    slider.send_keys(Keys.END)  # the keyboard moves the thumb to the far y=1 side
    wait_until_idle(driver)
    after, request = shown(driver)
    assert slider.get_attribute("value") == str(TRAVERSAL_STEPS - 1)
    assert f'"Smiling":{TRAVERSAL_STEPS - 1}' in request
    expected = traverse(explorer.model, x, ["Smiling"], steps=TRAVERSAL_STEPS)[0, -1]
    assert np.abs(after - as_pixels(expected)).max() <= 1
    assert np.abs(after - before).max() > 1  # the picture changed

    for _ in range(10):
        slider.send_keys(Keys.ARROW_LEFT)
    wait_until_idle(driver)
    after, request = shown(driver)
    position = TRAVERSAL_STEPS - 11
    assert f'"Smiling":{position}' in request
    expected = traverse(explorer.model, x, ["Smiling"], steps=TRAVERSAL_STEPS)[0, position]
    assert np.abs(after - as_pixels(expected)).max() <= 1


def test_clicking_a_class_shows_the_librarys_intervention(page, explorer):
    driver, _ = page
    driver.find_element("id", "reset-all").click()
    wait_until_idle(driver)
    driver.find_element("css selector", '.control[data-label="Hair"] button[data-value="2"]').click()
    wait_until_idle(driver)
    after, request = shown(driver)
    assert request.endswith('"settings":{"Hair":2}}')
    expected = intervene(explorer.model, explorer.image("test:0").unsqueeze(0), {"Hair": 2}, use_mean=True)[0]
    assert np.abs(after - as_pixels(expected)).max() <= 1
    belief = driver.find_element("css selector", '.control[data-label="Hair"] .belief .text').text
    assert belief.startswith("q: ") and "%" in belief


def test_the_page_loads_nothing_from_elsewhere_and_downloads_what_it_shows(page):
    driver, url = page
    resources = driver.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert resources and all(name.startswith((url, "data:")) for name in resources), resources
    snapshot = driver.execute_script("return window.explorer.snapshot().toDataURL('image/png')")
    picture = Image.open(io.BytesIO(base64.b64decode(snapshot.split(",", 1)[1])))
    assert picture.width >= 480 and picture.height > 3 * 48  # rows of 3x pictures with captions
    errors = driver.find_element("id", "status").text
    assert errors == "", errors


def test_a_screenshot_of_the_page(page, explorer, tmp_path):
    driver, url = page
    screenshot(driver, url, tmp_path / "explorer.png", "test:1", {"Smiling": 90, "Hair": 3}, diversity="Age")
    picture = Image.open(tmp_path / "explorer.png")
    assert picture.width >= 1000 and picture.height >= 800
    caption = driver.find_element("id", "variance-caption").text
    assert caption.startswith("per-pixel variance of Age=")
