"""Live (demo.live, demo.live_tab): the function the webcam stream calls, on a recorded SynthFACS
sequence: the annotated frame, the panel, a bounded V-A trail, the chosen branch's map; a frame with
no face; the followed box against a whole-frame search; the stream's wiring in the app."""

import gradio as gr
import numpy as np
import pytest

from demo import live
from demo.app import build_app, load_analyzer
from demo.live import LiveModel, LiveState, box_iou, search, shrink, step, synthfacs_frames
from demo.live_tab import LIVE_SECONDS, STREAM_EVERY, handler
from fatauva import topology
from fatauva.faces import align_face
from fatauva.template import to_tensor

FRAMES = 30


@pytest.fixture(scope="module")
def analyzer():
    return load_analyzer()


@pytest.fixture(scope="module")
def model(analyzer):
    return LiveModel.of(analyzer)


@pytest.fixture(scope="module")
def frames():
    return list(synthfacs_frames(FRAMES))


@pytest.fixture(scope="module")
def followed(model, frames):
    """Every frame of the sequence through `step`, one viewer: [(LiveUpdate, trail length)]."""
    state = LiveState()
    return [(step(model, frame, state, "AU12"), len(state.trail)) for frame in frames]


def test_stream_function_returns_the_annotated_frame_the_panel_and_a_status(model, frames):
    on_frame = handler(model)
    shown, panel, message, state = on_frame(frames[0], "AU12", "LayerCAM", None)
    assert shown.shape == frames[0].shape and shown.dtype == np.uint8
    assert panel.shape == (*live.PANEL, 3)
    box = state.face
    inside = (slice(round(box.y0), round(box.y1)), slice(round(box.x0), round(box.x1)))
    assert np.abs(shown[inside].astype(int) - frames[0][inside]).mean() > 5  # the map is drawn over the face
    assert np.array_equal(shown[-20:, :20], frames[0][-20:, :20])  # far from the face the frame is untouched
    assert message.startswith("Found a face") and "AU12" in message
    _, _, message, state = on_frame(frames[1], "AU12", "LayerCAM", state)
    assert message.startswith("Following a face") and "updates/s" in message
    assert len(state.trail) == 2


def test_the_trail_keeps_only_the_last_points(followed):
    lengths = [n for _, n in followed]
    assert lengths[: live.TRAIL] == list(range(1, live.TRAIL + 1))
    assert lengths[live.TRAIL :] == [live.TRAIL] * (FRAMES - live.TRAIL)


def test_the_readings_are_probabilities_and_the_va_point_is_in_the_circle(followed):
    for update, _ in followed:
        reading = update.reading
        assert set(reading.aus) == set(topology.AUS)
        assert all(0.0 <= p <= 1.0 for p in reading.aus.values())
        assert -1.0 <= reading.valence <= 1.0 and -1.0 <= reading.arousal <= 1.0
        assert reading.value == reading.aus[12]  # the chosen target's value is its P(present)


@pytest.mark.parametrize("target", ["AU12", "Smiling", "valence"])
def test_the_map_is_the_chosen_branch_map_of_the_trainable_model(analyzer, model, frames, target):
    from explain.cam import BRANCH, batched_cams
    from explain.targets import target as find_target

    update = step(model, frames[3], LiveState(), target, "LayerCAM")
    crop = align_face(shrink(frames[3]), update.face.landmarks, model.input_size)
    trainable = analyzer.loaded.model.eval()
    expected = batched_cams(trainable, to_tensor(crop), (find_target(target),), "LayerCAM", BRANCH)
    assert update.reading.heat.shape == (model.input_size, model.input_size)
    assert np.allclose(update.reading.heat, expected.maps[target][0], atol=1e-4)
    assert update.reading.heat.max() == pytest.approx(1.0, abs=1e-6)


def test_another_target_draws_another_map(model, frames):
    au12, brows = (step(model, frames[3], LiveState(), t).reading.heat for t in ("AU12", "AU01"))
    assert np.abs(au12 - brows).mean() > 0.05


def test_a_frame_without_a_face_says_so_and_the_face_is_found_again(model, frames):
    on_frame = handler(model)
    *_, state = on_frame(frames[0], "AU12", "LayerCAM", None)
    empty = np.full((480, 640, 3), 128, np.uint8)
    shown, panel, message, state = on_frame(empty, "AU12", "LayerCAM", state)
    assert message.startswith("No face in view") and "120 px" in message
    assert np.array_equal(shown, empty)
    assert (panel == 255).mean() > 0.9  # a blank panel with the message, no stale bars
    assert state.face is None and len(state.trail) == 0
    _, _, message, state = on_frame(frames[1], "AU12", "LayerCAM", state)
    assert message.startswith("Found a face") and state.face is not None


def test_following_stays_close_to_detecting_every_frame(followed, frames):
    ious = [
        box_iou(update.face, search(shrink(frame)))
        for (update, _), frame in zip(followed, frames, strict=True)
    ]
    # Both boxes lie on the detector's grid of HOG cells (about 20 px here), so they can differ by a cell.
    assert np.mean(ious) >= 0.8 and min(ious) >= 0.6
    searches = sum(update.searched for update, _ in followed)
    assert searches <= FRAMES // live.REDETECT_EVERY + 1  # followed in between, not searched every frame


def test_a_large_frame_is_shrunk_before_the_work(model, frames):
    big = np.repeat(np.repeat(frames[0], 2, axis=0), 2, axis=1)  # 1280x960
    update = step(model, big, LiveState())
    assert update.frame.shape == (480, 640, 3)
    assert update.face is not None and update.face.x1 <= 640


def test_the_handler_waits_for_a_frame_and_refuses_an_unknown_target(model, frames):
    on_frame = handler(model)
    shown, panel, message, state = on_frame(None, "AU12", "LayerCAM", None)
    assert message == "Waiting for the webcam…" and isinstance(state, LiveState)
    with pytest.raises(gr.Error, match="Unknown target 'AU99'"):
        on_frame(frames[0], "AU99", "LayerCAM", None)
    with pytest.raises(gr.Error, match="Unknown CAM method"):
        on_frame(frames[0], "AU12", "NoCAM", None)


def test_the_app_streams_the_webcam_one_viewer_at_a_time(analyzer):
    app = build_app(analyzer)
    streams = [fn for fn in app.fns.values() if fn.connection == "stream"]
    assert len(streams) == 1
    stream = streams[0]
    assert stream.concurrency_limit == 1 and stream.time_limit == LIVE_SECONDS
    assert stream.stream_every == STREAM_EVERY
    played = [
        fn for fn in app.fns.values() if fn.concurrency_id == stream.concurrency_id and fn is not stream
    ]
    assert len(played) == 1  # the recorded sequence shares the one viewer's slot
