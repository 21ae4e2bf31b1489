"""The real page in headless Chromium (Debian's `chromium`, driven by Playwright through
executable_path; `.ci/run` installs both): upload a face, analyze it, see the plots, the boxes, the
map galleries and the flow's Sankey, pick the other face, open the Model tab; a bad file leaves a
message and the page working."""

import shutil
from pathlib import Path

import cv2
import pytest

from demo.app import build_app, load_analyzer
from demo.examples import EXAMPLES, compose

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 180_000  # the 2 cores are shared with training runs


@pytest.fixture(scope="module")
def page_url():
    app = build_app(load_analyzer())
    app.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        yield app.local_url
    finally:
        app.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -r requirements-dev.txt")
    if not shutil.which("chromium") and not Path(CHROMIUM).is_file():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, page_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(page_url)
    page.get_by_role("button", name="Analyze", exact=True).wait_for()
    yield page
    page.close()


def upload(page, path: Path) -> None:
    page.locator("input[type=file]").first.set_input_files(str(path))
    page.locator("img[alt]").first.wait_for()  # the preview of the uploaded photo


def test_analyze_a_photo_in_the_browser(page, tmp_path):
    photo = tmp_path / "two_faces.png"
    cv2.imwrite(str(photo), cv2.cvtColor(compose(EXAMPLES[1][1]), cv2.COLOR_RGB2BGR))
    upload(page, photo)
    page.get_by_role("button", name="Analyze", exact=True).click()
    page.get_by_text("Found 2 faces").wait_for()
    page.locator(".js-plotly-plot .main-svg").nth(1).wait_for()
    assert page.locator(".js-plotly-plot").count() >= 2  # AU bars and the circumplex
    assert page.locator(".js-plotly-plot .bars path").count() >= 14  # one bar per AU
    assert page.get_by_text("Smiling", exact=True).count() >= 1  # the attribute table
    page.get_by_text("two_faces", exact=True).nth(1).wait_for()  # JSON and CSV downloads, named after it
    # the explanation, chained after the numbers: the map galleries, the faithfulness line, the Sankey
    page.locator(".map-gallery img").first.wait_for()
    assert page.locator(".map-gallery").count() == 5  # four parts, then valence and arousal
    assert page.locator(".map-gallery img").count() >= 2 * 26  # every target over crop and photo
    page.locator(".flow-sankey .sankey-node").first.wait_for()
    assert page.locator(".flow-sankey .sankey-link").count() >= 14  # parts -> AU branches -> V-A
    page.locator(".faithfulness-status", has_text="Faithfulness").first.wait_for()
    page.screenshot(path=str(tmp_path / "analyze.png"), full_page=True)
    assert (tmp_path / "analyze.png").stat().st_size > 10_000
    page.get_by_label("Face 2").check()
    page.get_by_text("showing face 2").wait_for()
    page.get_by_role("tab", name="Model").click()
    page.get_by_text("Which weights run").wait_for()
    assert page.get_by_text("sha256 of model.safetensors").count() == 1


def test_a_bad_file_shows_a_message_and_the_page_keeps_working(page, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    page.locator("input[type=file]").first.set_input_files(str(bad))
    page.get_by_role("button", name="Analyze", exact=True).click()
    page.get_by_text("broken.png is not an image").wait_for()
    photo = tmp_path / "one_face.png"
    cv2.imwrite(str(photo), cv2.cvtColor(compose(EXAMPLES[0][1]), cv2.COLOR_RGB2BGR))
    page.reload()
    page.get_by_role("button", name="Analyze", exact=True).wait_for()
    upload(page, photo)
    page.get_by_role("button", name="Analyze", exact=True).click()
    page.get_by_text("Found 1 face").wait_for()
