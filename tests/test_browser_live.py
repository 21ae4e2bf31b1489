"""The Live tab in headless Chromium with a webcam (issue 22's first item): Chromium's fake camera
(`--use-file-for-fake-video-capture`) plays a recorded SynthFACS sequence, written as a y4m file at
test time from demo.live.synthfacs_frames, the sequence the tab's play button and bench.live use. The
page starts the stream, the annotated frame and the panel update several times, the status line says
a face was found or followed and at what rate; stopping the stream leaves the app working. The app
and the Playwright session come from tests/test_browser.py; the camera needs a Chromium of its own."""

import re
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import pytest

from demo.live import synthfacs_frames
from demo.live_tab import STREAM_EVERY
from tests import test_browser

# tests/test_browser.py's fixtures, under the names the tests ask for.
browser, page_url = test_browser.browser, test_browser.page_url

FRAMES = 40  # 4 s of the sequence at FPS; Chromium's fake camera loops the file
FPS = 10
UPDATES = 5  # changes of each output image the stream must make within UPDATE_WAIT_MS
UPDATE_WAIT_MS = 45_000  # the first frame imports explain/; the 2 cores are shared
PLAY_WAIT_MS = 25_000  # well under LIVE_SECONDS: a stream left running would hold Play for longer
STOPPED_MS = 2_000  # after Stop, at most the frame in flight may still update the outputs
OUTPUTS = ("Live", "Map over the aligned crop · valence-arousal trail · action units")


def write_y4m(path: Path, frames: Iterable[np.ndarray], fps: int = FPS) -> Path:
    """uint8 RGB frames of one size as a YUV4MPEG2 file with 4:2:0 chroma, the format Chromium's fake
    camera reads."""
    with path.open("wb") as out:
        for i, frame in enumerate(frames):
            if i == 0:
                height, width = frame.shape[:2]
                out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
            out.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


@pytest.fixture(scope="module")
def camera_browser(browser, tmp_path_factory):
    """A second Chromium, launched by test_browser's Playwright session, whose webcam is the recorded
    sequence (the fake-camera flags hold for the whole browser process)."""
    sequence = write_y4m(tmp_path_factory.mktemp("live") / "sequence.y4m", synthfacs_frames(FRAMES))
    camera = [
        "--use-fake-device-for-media-stream",  # a camera that is a file
        "--use-fake-ui-for-media-stream",  # the permission prompt accepted
        f"--use-file-for-fake-video-capture={sequence}",
    ]
    args = test_browser.ARGS + camera
    launched = browser.browser_type.launch(executable_path=test_browser.CHROMIUM, args=args)
    yield launched
    launched.close()


@pytest.fixture
def page(camera_browser, page_url):
    page = camera_browser.new_page(viewport={"width": 1400, "height": 1000}, permissions=["camera"])
    page.set_default_timeout(test_browser.TIMEOUT_MS)
    page.goto(page_url)
    page.get_by_role("tab", name="Live").wait_for()
    yield page
    page.close()


# Counts, per output image (found by its block label), how often its src changed since the first src
# it had. Polled by wait_for_function, which keeps the state on `window` between calls.
COUNT_CHANGES = """([labels, wanted]) => {
    const seen = (window.liveSeen ??= Object.fromEntries(labels.map(l => [l, {src: null, changes: 0}])));
    for (const label of document.querySelectorAll('[data-testid="block-label"]')) {
        const entry = seen[label.textContent.trim()];
        const src = label.closest('.block')?.querySelector('img')?.getAttribute('src');
        if (!entry || !src || src === entry.src) continue;
        if (entry.src !== null) entry.changes += 1;
        entry.src = src;
    }
    return labels.every(l => seen[l].changes >= wanted);
}"""
CHANGES = "() => Object.values(window.liveSeen).map(entry => entry.changes)"  # counted so far


def test_the_webcam_streams_through_the_live_tab(page, tmp_path):
    page.get_by_role("tab", name="Live").click()
    live = page.get_by_role("tabpanel")
    live.get_by_text("Click to Access Webcam").click()
    page.get_by_test_id("webcam-video").wait_for()
    record = live.get_by_role("button", name="capture photo")  # Gradio's label; it reads Record / Stop
    record.filter(has_text="Record").click()
    record.filter(has_text="Stop").wait_for()

    page.wait_for_function(COUNT_CHANGES, arg=[list(OUTPUTS), UPDATES], polling=50, timeout=UPDATE_WAIT_MS)
    line = page.locator(".prose.live-status").inner_text()  # set with the images, by the same update
    assert re.search(r"(Found|Following) a face \d+ px wide · map: AU12 on its branch", line), line
    assert (measured := re.search(r"([\d.]+) updates/s", line)), line
    rate = float(measured.group(1))
    assert 0 < rate < 1 / STREAM_EVERY + 5, line  # the camera sends a frame every STREAM_EVERY s at most
    page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
    assert (tmp_path / "live.png").stat().st_size > 10_000

    record.filter(has_text="Stop").click()
    record.filter(has_text="Record").wait_for()
    changes = page.evaluate(CHANGES)
    page.wait_for_timeout(STOPPED_MS)  # watching for updates that must not come: nothing to wait for
    assert all(after - before <= 1 for before, after in zip(changes, page.evaluate(CHANGES), strict=True))

    # The rest of the app answers: the Analyze tab analyses an example while the play button streams
    # the recorded sequence, both finding faces at the same time in the one server process (each
    # concurrent caller of fatauva.faces.detect_faces has its own dlib detector; one shared detector
    # crashed the server here). The play button's frames arriving also shows the stream's one slot is
    # free again, long before its time_limit (LIVE_SECONDS after Record) would have freed it.
    page.get_by_role("tab", name="Analyze").click()
    analyze = page.get_by_role("tabpanel")
    analyze.locator(".gallery-item").first.click()  # the one-face example
    analyze.get_by_role("button", name="Analyze", exact=True).click()
    page.get_by_role("tab", name="Live").click()
    page.evaluate("() => { window.liveSeen = undefined; }")  # count afresh
    page.get_by_role("tabpanel").get_by_role("button", name="Play a recorded sequence").click()
    page.wait_for_function(COUNT_CHANGES, arg=[list(OUTPUTS), 2], polling=50, timeout=PLAY_WAIT_MS)
    page.get_by_role("tab", name="Analyze").click()
    page.get_by_role("tabpanel").get_by_text("Found 1 face").wait_for()
