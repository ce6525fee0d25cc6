import numpy as np
import pytest

from pose_lifter.runtime.errors import PoseInputError
from pose_lifter.runtime.joints import LANKLE, MIDHIP, NOSE, RANKLE
from pose_lifter.runtime.normalization import normalize_2d


def _pose(seed=0, n=4):
    return np.random.default_rng(seed).uniform(50, 600, size=(n, 15, 2))


def test_hand_computed_case():
    pose = np.zeros((15, 2))
    pose[:, 0] = 10.0  # every joint 3 px right of the hip except the hip
    pose[MIDHIP] = (7.0, 0.0)
    out = normalize_2d(pose)
    assert out.scale[0] == pytest.approx(3.0)
    assert np.allclose(out.root[0], (7.0, 0.0))
    expected = np.tile([1.0, 0.0], (15, 1))
    expected[MIDHIP] = 0
    assert np.allclose(out.keypoints[0], expected)


def test_unit_mean_distance_and_root_at_origin():
    out = normalize_2d(_pose())
    assert np.allclose(out.keypoints[:, MIDHIP], 0)
    distances = np.linalg.norm(out.keypoints, axis=2)
    assert np.allclose(distances.sum(axis=1) / 14, 1.0, atol=1e-5)


def test_round_trip():
    poses = _pose(1)
    out = normalize_2d(poses)
    restored = out.keypoints * out.scale[:, None, None] + out.root[:, None, :]
    assert np.allclose(restored, poses, atol=1e-3)


def test_invariant_to_translation_and_scale():
    poses = _pose(2)
    a = normalize_2d(poses).keypoints
    b = normalize_2d(poses * 3.5 + 17.0).keypoints
    assert np.allclose(a, b, atol=1e-5)


def test_missing_joint_never_poisons_the_scale():
    poses = _pose(3)
    confidence = np.ones((4, 15))
    confidence[:, RANKLE] = 0
    garbage = poses.copy()
    garbage[:, RANKLE] = (np.nan, 1e9)
    with_garbage = normalize_2d(garbage, confidence)
    with_zero = poses.copy()
    with_zero[:, RANKLE] = 0
    clean = normalize_2d(with_zero, confidence)
    assert np.allclose(with_garbage.keypoints, clean.keypoints)
    assert np.allclose(with_garbage.scale, clean.scale)
    assert not with_garbage.mask[:, RANKLE].any() and np.all(
        with_garbage.keypoints[:, RANKLE] == 0
    )


def test_three_channel_input_and_threshold():
    poses = np.concatenate([_pose(4), np.full((4, 15, 1), 0.9)], axis=2)
    poses[0, LANKLE, 2] = 0.05
    out = normalize_2d(poses, min_confidence=0.1)
    assert not out.mask[0, LANKLE] and out.mask[1, LANKLE]


def test_missing_root_falls_back_to_hip_midpoint():
    poses = _pose(5, 1)
    confidence = np.ones((1, 15))
    confidence[0, MIDHIP] = 0
    out = normalize_2d(poses, confidence)
    assert np.allclose(out.root[0], 0.5 * (poses[0, 9] + poses[0, 12]))


def test_degenerate_poses_are_flagged_not_divided_by_zero():
    poses = np.full((2, 15, 2), 5.0)
    out = normalize_2d(poses)
    assert not out.mask.any() and np.all(np.isfinite(out.keypoints)) and np.all(out.scale == 1)
    lonely = np.zeros((1, 15))
    lonely[0, NOSE] = 1
    assert not normalize_2d(_pose(6, 1), lonely).mask.any()


@pytest.mark.parametrize("shape", [(15,), (4, 14, 2), (4, 15, 4), (2, 3, 15, 2)])
def test_wrong_shapes_raise(shape):
    with pytest.raises(PoseInputError, match="shape"):
        normalize_2d(np.zeros(shape))


def test_nan_at_present_joint_raises():
    poses = _pose(7)
    poses[2, 3, 1] = np.inf
    with pytest.raises(PoseInputError, match="pose 2, joint 3"):
        normalize_2d(poses)


def test_nan_confidence_raises():
    with pytest.raises(PoseInputError, match="confidence"):
        normalize_2d(_pose(8, 1), np.full((1, 15), np.nan))


def test_empty_batch():
    out = normalize_2d(np.zeros((0, 15, 2)))
    assert out.keypoints.shape == (0, 15, 2) and out.mask.shape == (0, 15)
