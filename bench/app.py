"""What a user of the app waits for, on a 640x480 photo with one face (a SynthFACS render from
demo.examples, so no data is needed):

- predict_ms: detect + align + forward (demo.photo.analyze_photo, as the app and the CLI run it),
  split into predict_detect_ms (fatauva.faces.detect_faces with 68-point landmarks at the app's
  min_face of 40 px, i.e. HOG on the photo upsampled x2) and the rest; detect_x1_ms is the same
  detector at min_face=80 (no upsampling), the cost if faces under 80 px were given up;
- app_analyze_ms: one `/analyze` call through gradio_client against the app served in this
  process (upload, queue, analysis, JSON back), maps requested;
- app_concurrent16_s: 16 `/analyze` calls at once (all must succeed), and app_peak_rss_mb, the
  process's peak resident memory after them.
"""

import resource
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import torch

from demo.app import build_app, load_analyzer
from demo.examples import EXAMPLES, compose
from demo.photo import analyze_photo, min_face_for
from fatauva.faces import detect_faces

ROUNDS = 15
API_ROUNDS = 10
CONCURRENT = 16


def _median_ms(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _api(photo: Path) -> dict[str, float]:
    from gradio_client import Client, handle_file

    app = build_app(load_analyzer())
    app.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        client = Client(app.local_url, verbose=False)
        call = lambda: client.predict(handle_file(str(photo)), True, api_name="/analyze")  # noqa: E731
        assert len(call()["faces"]) == 1  # warm-up, and the photo is what it claims
        analyze_ms = _median_ms(call, API_ROUNDS)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
            results = [f.result() for f in [pool.submit(call) for _ in range(CONCURRENT)]]
        concurrent_s = time.perf_counter() - start
        if not all(len(r["faces"]) == 1 for r in results):
            raise RuntimeError("a concurrent /analyze call did not return the photo's one face")
    finally:
        app.close()
    return {
        "app_analyze_ms": analyze_ms,
        "app_concurrent16_s": concurrent_s,
        "app_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure() -> dict[str, float]:
    torch.set_num_threads(min(2, torch.get_num_threads()))
    image = compose(EXAMPLES[0][1])
    analyzer = load_analyzer()
    min_face = min_face_for(*image.shape[:2])
    assert len(analyze_photo(analyzer, image).faces) == 1  # warm-up (loads the detector)
    predict_ms = _median_ms(lambda: analyze_photo(analyzer, image), ROUNDS)
    detect_ms = _median_ms(lambda: detect_faces(image, min_face=min_face), ROUNDS)
    detect_x1_ms = _median_ms(lambda: detect_faces(image, min_face=80), ROUNDS)
    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "one_face.png"
        cv2.imwrite(str(photo), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        api = _api(photo)
    return {
        "predict_ms": predict_ms,
        "predict_detect_ms": detect_ms,
        "predict_rest_ms": predict_ms - detect_ms,
        "detect_x1_ms": detect_x1_ms,
        **api,
    }
