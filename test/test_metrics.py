import numpy as np
import pytest

from pose_lifter.runtime import metrics
from pose_lifter.runtime.camera import rotation_about_vertical
from pose_lifter.runtime.errors import PoseInputError


def _poses(n=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 15, 3))


def test_zero_error_for_identical():
    p = _poses()
    assert metrics.n_mpjpe(p, p) == pytest.approx(0, abs=1e-9)
    assert metrics.pa_mpjpe(p, p) == pytest.approx(0, abs=1e-9)


def test_n_mpjpe_is_scale_and_translation_invariant():
    target = _poses()
    assert metrics.n_mpjpe(target * 0.01 + 5.0, target) == pytest.approx(0, abs=1e-9)


def test_n_mpjpe_hand_computed():
    target = np.zeros((1, 15, 3))
    predicted = np.zeros((1, 15, 3))
    target[0, 0] = (1.0, 0, 0)
    predicted[0, 0] = (0.0, 1.0, 0)  # orthogonal: least-squares scale 0 -> error 1 on joint 0
    assert metrics.n_mpjpe(predicted, target) == pytest.approx(1 / 15)


def test_pa_mpjpe_removes_rotation_but_not_reflection():
    target = _poses(3, 1)
    rotated = np.einsum("ij,nkj->nki", rotation_about_vertical(0.7), target) * 2 + 1
    assert metrics.pa_mpjpe(rotated, target) == pytest.approx(0, abs=1e-9)
    mirrored = target.copy()
    mirrored[..., 2] *= -1
    assert metrics.pa_mpjpe(mirrored, target) > 0.1


def test_depth_flip_detection():
    target = _poses(4, 2)
    target[..., 2] *= 3  # strong depth so the mirror is clearly worse
    mirrored = target.copy()
    mirrored[..., 2] *= -1
    assert not metrics.depth_flipped(target, target).any()
    assert metrics.depth_flipped(mirrored, target).all()


def test_shape_and_nan_errors():
    with pytest.raises(PoseInputError):
        metrics.n_mpjpe(np.zeros((2, 15, 3)), np.zeros((2, 15, 2)))
    bad = np.zeros((1, 15, 3))
    bad[0, 0, 0] = np.nan
    with pytest.raises(PoseInputError):
        metrics.pa_mpjpe(bad, np.zeros((1, 15, 3)))
