"""The trainer's SynthFACS pool: the same faces and labels as rendering on the fly, a cache that
never serves faces of an older renderer, and label-preserving flips; the autocast choice."""

import numpy as np
import pytest
import torch

from fatauva.synthfacs import SynthFACSDataset
from fatauva.template import to_tensor
from train.config import TrainConfig
from train.datasets.synthpool import render_pool
from train.train import autocast_dtype

SIZE = 48


def test_a_pool_holds_the_faces_and_labels_of_the_split(tmp_path):
    pool = render_pool("val", 5, SIZE, workers=2, cache_dir=tmp_path, progress=False)
    pool.flip = False
    live = SynthFACSDataset("val", 5, SIZE)
    for i in range(5):
        a, b = pool[i], live[i]
        torch.testing.assert_close(a["image"], b["image"])
        for key in ("attributes", "aus", "va"):
            torch.testing.assert_close(a[key], b[key])
    np.testing.assert_array_equal(pool.labels("aus"), np.stack([live[i]["aus"].numpy() for i in range(5)]))


def test_a_cached_pool_is_reused_only_while_the_renderer_draws_the_same_faces(tmp_path):
    render_pool("val", 3, SIZE, workers=1, cache_dir=tmp_path, progress=False)
    (path,) = tmp_path.glob("*.npz")
    with np.load(path) as f:
        kept = dict(f)
    kept["images"][1] = 0  # a face only the cache has: served if and only if the cache is trusted
    np.savez(path, **kept)
    assert render_pool("val", 3, SIZE, workers=1, cache_dir=tmp_path).images[1].max() == 0
    kept["fingerprint"] = np.array("an older renderer")
    np.savez(path, **kept)
    assert render_pool("val", 3, SIZE, workers=1, cache_dir=tmp_path).images[1].max() > 0


def test_a_changed_label_rule_is_not_served_from_the_cache(tmp_path, monkeypatch):
    import importlib

    # The package exports a function named render, so the module is fetched by its full name.
    render_module = importlib.import_module("fatauva.synthfacs.render")
    first = render_pool("val", 4, SIZE, workers=1, cache_dir=tmp_path, progress=False)
    real = render_module.attribute_vector
    monkeypatch.setattr(render_module, "attribute_vector", lambda params: 1 - real(params))  # a new rule
    again = render_pool("val", 4, SIZE, workers=1, cache_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(again.labels("attributes"), 1 - first.labels("attributes"))
    np.testing.assert_array_equal(again.images, first.images)


def test_ranks_of_a_data_parallel_run_render_their_share_and_share_one_cache(tmp_path, monkeypatch):
    import threading

    import train.datasets.synthpool as synthpool

    whole = render_pool("val", 7, SIZE, workers=1, progress=False)
    rendered = []
    real_range = synthpool._render_range
    monkeypatch.setattr(
        synthpool, "_render_range", lambda *a: rendered.append(a[3:5]) or real_range(*a)
    )  # records (first, stop) of every share
    barrier, pools = threading.Barrier(2), {}

    def rank(r):
        pools[r] = render_pool(
            "val",
            7,
            SIZE,
            workers=1,
            cache_dir=tmp_path,
            progress=False,
            rank=r,
            world=2,
            barrier=barrier.wait,
        )

    threads = [threading.Thread(target=rank, args=(r,)) for r in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(rendered) == [(0, 3), (3, 7)]
    assert [p.name for p in tmp_path.iterdir()] == ["synthfacs_val_emotion_48px_7.npz"]  # parts removed
    for pool in pools.values():
        np.testing.assert_array_equal(pool.images, whole.images)
        for task in ("attributes", "aus", "va"):
            np.testing.assert_array_equal(pool.labels(task), whole.labels(task))
    rendered.clear()
    render_pool("val", 7, SIZE, workers=1, cache_dir=tmp_path, progress=False)
    assert rendered == []  # the joined cache serves a later single-process run


def test_rendering_in_this_process_leaves_its_torch_threads_alone(tmp_path):
    # A pool rendered without workers once left the trainer on one thread for the whole run.
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        render_pool("val", 2, SIZE, workers=1, progress=False)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_a_rank_without_a_barrier_is_refused():
    with pytest.raises(ValueError, match="rank 1 of 2 processes needs"):
        render_pool("val", 4, SIZE, rank=1, world=2)


def test_flips_mirror_the_image_and_keep_the_labels():
    pool = render_pool("val", 1, SIZE, workers=1, progress=False)
    plain = to_tensor(pool.images[0])[0]
    mirrored = to_tensor(np.ascontiguousarray(pool.images[0][:, ::-1]))[0]
    assert not torch.equal(plain, mirrored)
    torch.manual_seed(0)
    items = [pool[0] for _ in range(40)]
    flips = [torch.equal(it["image"], mirrored) for it in items]
    assert all(f or torch.equal(it["image"], plain) for f, it in zip(flips, items, strict=True))
    assert 5 < sum(flips) < 35
    assert all(torch.equal(it["aus"], items[0]["aus"]) for it in items)


def test_render_pool_rejects_an_empty_pool():
    with pytest.raises(ValueError, match="at least one face"):
        render_pool("val", 0, SIZE)


def test_precision_auto_picks_bf16_only_on_a_cpu_that_has_it():
    cpu = torch.device("cpu")
    native = torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert autocast_dtype("auto", cpu) == (torch.bfloat16 if native else None)
    assert autocast_dtype("auto", torch.device("cuda")) == torch.float16
    assert autocast_dtype("fp32", cpu) is None and autocast_dtype("bf16", cpu) == torch.bfloat16
    with pytest.raises(ValueError, match="CUDA"):
        autocast_dtype("fp16", cpu)
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(precision="fp8")
