"""SynthFACS is faithful to its own masks: an AU, part or attribute changes pixels only where its
mask says it acts.

Tolerance: renders are compared with blur and JPEG off (both spread a change by design) and the
same texture seed (so sensor noise is identical); a pixel counts as changed when a channel moves
by more than 2/255; the mask may be dilated by 2 px for anti-aliasing and the bilinear pose warp.
"""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from fatauva.synthfacs import FaceParams, render
from fatauva.synthfacs.dataset import face_params
from fatauva.topology import AUS, au_key

SEEDS = tuple(range(6))
SIZE = 112


def clean(params: FaceParams) -> FaceParams:
    return replace(params, scene=replace(params.scene, blur=0.0, jpeg_quality=0))


def changed_outside(a, b, mask_keys) -> tuple[int, int]:
    """(changed pixels outside the dilated union of the masks of both renders, changed pixels)."""
    diff = np.abs(a.image.astype(int) - b.image.astype(int)).max(axis=2) > 2
    union = np.zeros(diff.shape, np.uint8)
    for face in (a, b):
        for key in mask_keys:
            union |= face.masks[key].astype(np.uint8)
    grown = cv2.dilate(union, np.ones((5, 5), np.uint8)).astype(bool)
    return int((diff & ~grown).sum()), int(diff.sum())


@pytest.mark.parametrize("au", AUS)
def test_switching_an_au_on_changes_pixels_only_inside_its_mask(au):
    for seed in SEEDS:
        base = clean(face_params("val", seed)).with_au(au, 0.0)
        off, on = render(base, SIZE), render(base.with_au(au, 5.0), SIZE)
        outside, total = changed_outside(off, on, [au_key(au)])
        assert outside == 0, f"AU{au} seed {seed}: {outside} of {total} changed pixels outside its mask"


@pytest.mark.parametrize("au", AUS)
def test_every_au_visibly_changes_its_region(au):
    base = FaceParams().with_au(au, 0.0)
    off, on = render(base, SIZE), render(base.with_au(au, 5.0), SIZE)
    diff = np.abs(off.image.astype(int) - on.image.astype(int)).max(axis=2) > 8
    assert diff.sum() >= 15, f"AU{au} at intensity 5 changes only {diff.sum()} pixels"
    region = on.masks[au_key(au)] | off.masks[au_key(au)]
    assert (diff & region).sum() == diff.sum()


TRAIT_CHANGES = {
    "eyebrows": [
        dict(brow_arch=0.0),
        dict(brow_arch=1.0),
        dict(brow_thickness=0.0),
        dict(brow_thickness=1.0),
    ],
    "eyes": [dict(glasses=0), dict(glasses=1), dict(glasses=2), dict(eye_openness=0.55)],
    "mouth": [
        dict(lip_upper=0.0, lip_lower=0.0),
        dict(lip_upper=1.0, lip_lower=1.0),
        dict(lip_colour=(0.4, 0.1, 0.15)),
    ],
    "face": [
        dict(male=True),
        dict(male=False),
        dict(age=75.0),
        dict(age=20.0),
        dict(beard=0.9),
        dict(beard=0.0),
        dict(asymmetry=0.0),
        dict(asymmetry=1.0),
        dict(blemish=0.9),
        dict(folds=1.0),
    ],
}


@pytest.mark.parametrize("part", sorted(TRAIT_CHANGES))
def test_changing_a_part_trait_changes_pixels_only_inside_the_part_mask(part):
    for seed in SEEDS:
        base = clean(face_params("val", seed))
        ref = render(base, SIZE)
        for change in TRAIT_CHANGES[part]:
            other = render(replace(base, traits=replace(base.traits, **change)), SIZE)
            outside, total = changed_outside(ref, other, [part])
            assert outside == 0, f"{part} {change} seed {seed}: {outside} of {total} pixels outside"


def test_masks_cover_every_au_and_part_and_lie_on_the_face():
    face = render(FaceParams(), SIZE)
    keys = [au_key(a) for a in AUS] + ["face", "eyebrows", "eyes", "mouth"]
    assert list(face.masks) == keys
    for key in keys:
        m = face.masks[key]
        assert m.dtype == bool and m.shape == (SIZE, SIZE)
        assert 20 < m.sum() < 0.7 * SIZE * SIZE, key
    assert (face.masks["AU12"] & face.masks["mouth"]).any()
    assert (face.masks["AU45"] & face.masks["eyes"]).sum() == face.masks["AU45"].sum()


def test_masks_follow_the_head_pose():
    base = FaceParams()
    turned = replace(base, scene=replace(base.scene, yaw=20.0, roll=10.0))
    a, b = render(base, SIZE), render(turned, SIZE)
    centre = [np.argwhere(f.masks["AU45"]).mean(0) for f in (a, b)]
    assert np.abs(centre[0] - centre[1]).max() > 3
