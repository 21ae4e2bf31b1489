"""What a Face Lab user waits for after letting go of a slider (the tab's work is demo.facelab): the
default face with AU12 at 5, the light and identity changed each round so no render is a repeat:

- facelab_numbers_ms: the first step, render the posed head and the aligned face, predict, draw the
  AU bars and the circumplex with the truth (demo.facelab.lab_view);
- facelab_maps_ms: the second step, 14 AU and 2 V-A maps on the default layer, the part responses, the
  pointing game and the 20 tiles (demo.facelab.maps_view);
- facelab_update_ms: the two together, the time until the whole tab has moved (bar: well under 1000).
"""

import statistics
import time
from dataclasses import replace

from demo.facelab import LabSettings, lab_view, maps_view
from demo.serving import load_analyzer

ROUNDS = 9


def measure() -> dict[str, float]:
    analyzer = load_analyzer()
    base = LabSettings()
    base = replace(base, aus={**base.aus, 12: 5.0})
    maps_view(analyzer, lab_view(analyzer, base).face)  # warm-up: explain/'s imports, first allocations
    numbers, maps = [], []
    for i in range(ROUNDS):
        settings = replace(base, light_azimuth=40.0 * i, identity=base.identity + 1 + i)
        start = time.perf_counter()
        view = lab_view(analyzer, settings)
        middle = time.perf_counter()
        maps_view(analyzer, view.face)
        numbers.append(middle - start)
        maps.append(time.perf_counter() - middle)
    total = [a + b for a, b in zip(numbers, maps, strict=True)]
    return {
        "facelab_numbers_ms": statistics.median(numbers) * 1e3,
        "facelab_maps_ms": statistics.median(maps) * 1e3,
        "facelab_update_ms": statistics.median(total) * 1e3,
    }
