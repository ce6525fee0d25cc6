"""The per-frame people step with the shipped lifter: tracks, history, velocity, uncertainty."""

from __future__ import annotations

import numpy as np
import pytest

from pathlib import Path
from typing import NamedTuple

from pose_lifter.runtime.camera import Camera
from pose_lifter.runtime.joints import NUM_JOINTS, ROOT
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.runtime.people_step import PeopleStep, StepSettings
from pose_lifter.runtime.temporal import TemporalSettings

SEQUENCES = Path(__file__).resolve().parents[1] / "training" / "data" / "motion_sequences_60hz.npz"


class Walk(NamedTuple):
    """A person walking, seen at 30 Hz by a camera 5 m away (camera optical frame, pixels)."""

    joints_cam: np.ndarray
    pixels: np.ndarray
    visible: np.ndarray
    camera_matrix: np.ndarray
    image_size: tuple[int, int]
    stamps_s: np.ndarray


@pytest.fixture(scope="module")
def lifter() -> PoseLifter:
    return PoseLifter(device="cpu")


@pytest.fixture(scope="module")
def walk() -> Walk:
    """Return the first CMU test walking sequence (every 2nd 60 Hz row), from its side."""
    with np.load(SEQUENCES) as data:
        walking = np.flatnonzero(
            (data["sequence_action"] == "walking") & (data["sequence_split"] == "test")
        )[0]
        world = data["joints_world"][data["sequence_index"] == walking][::2].astype(float)
    centre = world[:, ROOT].mean(axis=0)
    camera = centre + np.array([0.0, 0.3, 5.0])  # world y up; looking along -z
    rotation = np.array([[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])
    joints_cam = (world - camera) @ rotation.T
    matrix = np.array([[900.0, 0.0, 640.0], [0.0, 900.0, 360.0], [0.0, 0.0, 1.0]])
    pixels = joints_cam[..., :2] / joints_cam[..., 2:] * 900.0 + matrix[:2, 2]
    visible = (pixels >= 0).all(-1) & (pixels < [1280, 720]).all(-1)
    return Walk(joints_cam, pixels, visible, matrix, (1280, 720), np.arange(len(world)) / 30.0)


def run(step: PeopleStep, view, keypoints: np.ndarray, visible: np.ndarray):
    camera = Camera(view.camera_matrix, size=view.image_size)
    frames = []
    for t in range(len(keypoints)):
        frames.append(
            step.step(
                keypoints[t][None],
                visible[t][None].astype(float),
                np.ones(1),
                float(view.stamps_s[t]),
                view.image_size,
                camera,
            )
        )
    return frames


def test_one_walking_person_keeps_one_id_and_moves_at_the_true_speed(lifter, walk):
    rng = np.random.default_rng(0)
    noisy = walk.pixels + rng.normal(0.0, 3.0, walk.pixels.shape)
    frames = run(PeopleStep(lifter), walk, noisy, walk.visible)
    assert walk.visible.all() and all(len(frame.ids) == 1 for frame in frames)
    assert len({frame.ids[0] for frame in frames}) == 1
    velocity = np.array([frame.velocity_mps[0] for frame in frames])
    assert np.isfinite(velocity).all() and (velocity[0] == 0).all()
    true_speed = np.linalg.norm(np.diff(walk.joints_cam[:, ROOT], axis=0), axis=1) * 30.0
    speed = np.linalg.norm(velocity[:, ROOT], axis=1)
    # the stature prior scales distances (and speeds) by the person's true/assumed height
    joints = np.array([frame.joints_m[0] for frame in frames])
    size = np.linalg.norm(joints[:, 1] - joints[:, ROOT], axis=1).mean()
    true_size = np.linalg.norm(walk.joints_cam[:, 1] - walk.joints_cam[:, ROOT], axis=1).mean()
    ratio = np.median(speed[10:]) / np.median(true_speed[10:]) * true_size / size
    assert 0.7 < ratio < 1.4, ratio


def test_the_temporal_stage_makes_the_skeleton_steadier_and_keeps_its_bones(lifter, walk):
    rng = np.random.default_rng(1)
    noisy = walk.pixels + rng.normal(0.0, 5.0, walk.pixels.shape)
    settings = StepSettings()
    off = StepSettings(temporal=TemporalSettings(enabled=False))
    results = {}
    for name, chosen in (("on", settings), ("off", off)):
        frames = run(PeopleStep(lifter, chosen), walk, noisy, walk.visible)
        joints = np.array([frame.joints_m[0] for frame in frames])
        relative = joints - joints[:, ROOT : ROOT + 1]
        acceleration = np.linalg.norm(np.diff(relative, 2, axis=0), axis=2).mean()
        bones = np.linalg.norm(relative[:, 3] - relative[:, 2], axis=1)  # right upper arm
        results[name] = acceleration, bones.std() / bones.mean()
    assert results["on"][0] < 0.5 * results["off"][0]
    assert results["on"][1] < 0.5 * results["off"][1]


def test_every_joint_has_an_uncertainty_radius_at_the_stated_coverage(lifter, walk):
    frames = run(PeopleStep(lifter), walk, walk.pixels, walk.visible)
    radius = np.array([frame.uncertainty_m[0] for frame in frames])
    assert lifter.predicts_uncertainty
    assert (radius > 0.0).all() and (radius < 1.0).all()
    assert frames[0].coverage == StepSettings().uncertainty_coverage
    # a hidden joint is less certain than when it is seen
    hidden = walk.visible.copy()
    hidden[:, 4] = False  # the right wrist
    unseen = run(PeopleStep(lifter), walk, walk.pixels, hidden)
    assert np.median([f.uncertainty_m[0, 4] for f in unseen]) > np.median(radius[:, 4])


def test_a_track_switch_does_not_carry_one_persons_past_into_another(lifter, walk):
    """Two people far apart: each is tracked on its own, neither's output leaks."""
    shifted = walk.pixels + np.array([-300.0, 0.0])
    both = np.stack([walk.pixels, shifted], axis=1)
    visible = np.stack([walk.visible, walk.visible], axis=1)
    camera = Camera(walk.camera_matrix, size=walk.image_size)
    step, alone_step = PeopleStep(lifter), PeopleStep(lifter)
    for t in range(40):
        pair = step.step(both[t], visible[t].astype(float), np.ones(2), t / 30.0, (0, 0), camera)
        alone = alone_step.step(
            walk.pixels[t][None], walk.visible[t][None].astype(float), np.ones(1), t / 30.0,
            (0, 0), camera,
        )
    assert len(set(pair.ids)) == 2
    first = pair.joints_m[list(pair.sources).index(0)]
    np.testing.assert_allclose(first, alone.joints_m[0], atol=1e-6)


def test_malformed_people_are_counted_and_the_rest_lifted(lifter, walk):
    step = PeopleStep(lifter)
    keypoints = np.stack([walk.pixels[0], walk.pixels[0] + 200.0, walk.pixels[0]])
    keypoints[1, 3] = np.nan
    confidence = np.ones((3, NUM_JOINTS))
    confidence[2, :10] = 0.0  # too few joints
    frame = step.step(keypoints, confidence, np.ones(3), 0.0, (0, 0), None)
    assert list(frame.sources) == [0]
    assert step.counters.dropped["nonfinite_keypoint"] == 1
    assert step.counters.dropped["too_few_joints"] == 1
    assert not frame.placed


def test_the_radius_scales_are_the_models_calibration_interpolated(lifter):
    import json

    from pose_lifter.runtime.people_step import RADIUS_SCALES_KEY, _chi3_radius

    step = PeopleStep(lifter)
    scales = {float(k): v for k, v in json.loads(lifter.metadata[RADIUS_SCALES_KEY]).items()}
    assert step.radius_scale(0.9) == pytest.approx(scales[0.9])
    between = step.radius_scale(0.875)
    assert scales[0.85] < between < scales[0.9]
    assert step.radius_scale(0.999) == pytest.approx(_chi3_radius(0.999))  # beyond: Gaussian
    assert all(a < b for a, b in zip(list(scales.values()), list(scales.values())[1:]))
