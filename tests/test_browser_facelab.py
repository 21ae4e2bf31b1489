"""The Face Lab in headless Chromium (issue 22's bar): drag the AU12 slider to 5 and the page shows
AU12's probability and valence rise, the truth beside them, and the branch maps with AU12's scored;
a preset sets its AUs. The app, the browser and the page come from tests/test_browser.py."""

import re

from tests import test_browser
from tests.test_facelab import AU12_RISE, VALENCE_RISE

# tests/test_browser.py's fixtures, under the names the tests ask for.
browser, page, page_url = test_browser.browser, test_browser.page, test_browser.page_url


def row_cells(page, name: str) -> list[str]:
    """The cells of the Face Lab numbers table's row for `name` ('AU12', 'valence')."""
    row = page.locator(".facelab-numbers tr", has=page.locator("td", has_text=re.compile(f"^{name}")))
    return [c.strip() for c in row.inner_text().split("\t")]


def drag_to_maximum(page, label: str) -> None:
    """Drag a slider's range from its left end past its right end, as a user would, and let go."""
    track = page.get_by_label(f"range slider for {label}")
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    middle = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, middle)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] + 10, middle, steps=10)
    page.mouse.up()


def test_moving_au12_raises_its_probability_and_valence_on_the_page(page, tmp_path):
    page.get_by_role("tab", name="Face Lab").click()
    page.locator(".facelab-maps img").first.wait_for()  # the default face's maps, made on page load
    before = row_cells(page, "AU12"), row_cells(page, "valence")
    assert before[0][2] == "0 (absent)"

    drag_to_maximum(page, "AU12 lip corner puller")
    page.locator(".facelab-numbers tr", has_text="AU12").filter(has_text="E (present)").wait_for()
    after = row_cells(page, "AU12"), row_cells(page, "valence")
    assert float(after[0][-1]) - float(before[0][-1]) > AU12_RISE
    assert float(after[1][-1]) - float(before[1][-1]) > VALENCE_RISE
    assert float(after[1][2]) > float(before[1][2])  # the truth's valence moved too

    # The maps follow the numbers: AU12, now present, is scored against its region.
    page.locator(".prose.facelab-pointing", has_text="AU12").wait_for()
    mouth = page.locator(".block.facelab-maps").nth(2)
    assert mouth.locator("img").count() == 9  # the mouth's response and its eight AUs
    assert re.search(r"AU12 · (hit ✓|miss ✗)", mouth.inner_text())
    for _ in range(6):  # galleries load their images as they scroll into view
        page.mouse.wheel(0, 600)
    page.screenshot(path=str(tmp_path / "facelab.png"), full_page=True)
    assert (tmp_path / "facelab.png").stat().st_size > 10_000

    page.locator(".block.facelab-preset").get_by_label("sadness").check()
    page.locator(".facelab-numbers tr", has_text="AU15").filter(has_text="D (present)").wait_for()
    assert row_cells(page, "AU12")[2] == "0 (absent)"
    assert page.get_by_label("number input for AU12 lip corner puller").input_value() == "0"
    page.get_by_text("The prototype leaves out AU25").wait_for()
