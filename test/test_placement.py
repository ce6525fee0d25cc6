"""Metric placement (pure numpy): the math on exact poses, and the real model on CMU test poses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pose_lifter.runtime.joints import MIDHIP
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.runtime.placement import (
    CHAIN_TO_STATURE,
    apply_rigid_transform,
    chain_length,
    metres_per_unit,
    place_with_camera,
    place_without_camera,
    quaternion_to_matrix,
)

CMU = Path(__file__).resolve().parents[1] / "training" / "data" / "cmu_mocap_15j.npz"


@pytest.fixture(scope="module")
def cmu():
    data = np.load(CMU)
    return {
        key: data[f"test_{key}"].astype(np.float64) for key in ("keypoints_2d", "joints_3d", "K")
    }


def cmu_subject_height(joints_3d: np.ndarray) -> float:
    """Return the stature prior matching CMU's (small, single-template) skeleton."""
    return float(np.median(chain_length(joints_3d))) / CHAIN_TO_STATURE


def test_cmu_chain_matches_its_documented_stature(cmu):
    # training/data/README.md: ankle-to-nose ~1.33 m, stature ~1.5 m.
    assert 1.45 < cmu_subject_height(cmu["joints_3d"]) < 1.65


def test_placement_math_recovers_depth_from_true_3d_shape(cmu):
    """With the true 3D shape (in 2D-scale units) the only error left is weak perspective."""
    joints, kp, K = cmu["joints_3d"][::10], cmu["keypoints_2d"][::10], cmu["K"][::10]
    root_px = kp[:, MIDHIP]
    scale_px = np.linalg.norm(kp - root_px[:, None], axis=2).sum(1) / 14
    relative = joints - joints[:, MIDHIP : MIDHIP + 1]
    units = relative / (np.linalg.norm(relative[..., :2], axis=2).sum(1) / 14)[:, None, None]
    height = cmu_subject_height(cmu["joints_3d"])
    depth = np.array(
        [
            place_with_camera(
                units[i : i + 1], root_px[i : i + 1], scale_px[i : i + 1], K[i], height
            )[0, MIDHIP, 2]
            for i in range(len(units))
        ]
    )
    error = np.abs(depth - joints[:, MIDHIP, 2]) / joints[:, MIDHIP, 2]
    assert np.median(error) < 0.03


def test_metric_placement_of_lifted_cmu_poses_within_a_few_percent(cmu):
    """The shipped model + the true stature: root depth on all CMU test poses.

    The measured figures: ``-s`` prints them; doc/node.md quotes them.
    """
    lifter = PoseLifter(device="cpu")
    result = lifter.lift(cmu["keypoints_2d"])
    assert result.valid.all()
    height = cmu_subject_height(cmu["joints_3d"])
    depth = np.empty(len(result.joints_3d))
    for K in np.unique(cmu["K"], axis=0):  # one call per camera
        rows = np.all(cmu["K"] == K, axis=(1, 2))
        depth[rows] = place_with_camera(
            result.joints_3d[rows], result.root_px[rows], result.scale_px[rows], K, height
        )[:, MIDHIP, 2]
    truth = cmu["joints_3d"][:, MIDHIP, 2]
    error = np.abs(depth - truth) / truth
    print(
        f"\nroot depth relative error on {len(error)} CMU test poses: median "
        f"{np.median(error):.3f}, p75 {np.percentile(error, 75):.3f}, "
        f"p90 {np.percentile(error, 90):.3f}"
    )
    assert np.median(error) < 0.035  # each pose lifted as a track's first frame
    assert np.percentile(error, 75) < 0.07


def test_root_back_projects_to_root_pixel(cmu):
    lifter = PoseLifter(device="cpu")
    kp, K = cmu["keypoints_2d"][:5], cmu["K"][0]
    result = lifter.lift(kp)
    placed = place_with_camera(result.joints_3d, result.root_px, result.scale_px, K, 1.7)
    root = placed[:, MIDHIP]
    u = K[0, 0] * root[:, 0] / root[:, 2] + K[0, 2]
    v = K[1, 1] * root[:, 1] / root[:, 2] + K[1, 2]
    np.testing.assert_allclose(np.stack([u, v], 1), result.root_px, atol=1e-6)


def test_without_camera_scaled_to_height_at_distance(cmu):
    lifter = PoseLifter(device="cpu")
    result = lifter.lift(cmu["keypoints_2d"][:20])
    placed = place_without_camera(
        result.joints_3d, result.root_px, result.scale_px, 1.8, 4.0, (1280, 720)
    )
    np.testing.assert_allclose(placed[:, MIDHIP, 2], 4.0)
    np.testing.assert_allclose(chain_length(placed), 1.8 * CHAIN_TO_STATURE, rtol=1e-9)
    centred = place_without_camera(
        result.joints_3d, result.root_px, result.scale_px, 1.8, 4.0, None
    )
    np.testing.assert_allclose(centred[:, MIDHIP, :2], 0.0)


def test_degenerate_pose_gives_nan_not_garbage():
    flat = np.zeros((1, 15, 3))
    assert np.isnan(metres_per_unit(flat, 1.7)).all()
    assert np.isnan(
        place_with_camera(flat, np.zeros((1, 2)), np.ones(1), np.diag([500.0, 500.0, 1.0]), 1.7)
    ).all()


def test_rigid_transform():
    quarter_turn_z = (0.0, 0.0, np.sin(np.pi / 4), np.cos(np.pi / 4))
    np.testing.assert_allclose(
        quaternion_to_matrix(quarter_turn_z) @ [1, 0, 0], [0, 1, 0], atol=1e-12
    )
    np.testing.assert_allclose(
        apply_rigid_transform([[1.0, 0, 0]], quarter_turn_z, [0, 0, 2]), [[0, 1, 2]], atol=1e-12
    )
