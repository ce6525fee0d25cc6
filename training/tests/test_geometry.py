import math

import numpy as np
import pytest
import torch

from pose_lifter.runtime.camera import rotation_about_vertical
from pose_lifter.runtime.joints import MIDHIP
from pose_lifter.runtime.normalization import normalize_2d as normalize_np
from pose_lifter_training import geometry, losses


def test_heuristic_is_zero_on_real_poses_and_large_on_depth_mirrored(cmu_test):
    """The sign check the research notes ask for: ground-truth 3D in the optical frame."""
    joints = torch.from_numpy(cmu_test["joints_3d"]).double()
    joints = joints - joints[:, MIDHIP : MIDHIP + 1]
    sin_real = geometry.heuristic_sin_beta(joints)
    mirrored = joints.clone()
    mirrored[..., 2] *= -1
    sin_mirrored = geometry.heuristic_sin_beta(mirrored)
    assert (sin_real > 0).float().mean() > 0.97
    assert losses.heuristic(joints) < 0.01
    assert losses.heuristic(mirrored) > 0.2
    assert torch.allclose(sin_mirrored, -sin_real)


def test_heuristic_hand_computed_facing_camera():
    pose = torch.zeros(1, 15, 3)
    pose[0, 0] = torch.tensor([0.0, -0.2, -0.1])  # nose up and towards the camera
    pose[0, 2] = torch.tensor([-0.2, 0.0, 0.0])  # right shoulder on image left
    pose[0, 5] = torch.tensor([0.2, 0.0, 0.0])
    # f = (0, -.2, -.1), s = (-.4, 0, 0): f_z s_x - f_x s_z = 0.04 > 0
    expected = 0.04 / (math.hypot(0.2, 0.1) * 0.4)
    assert geometry.heuristic_sin_beta(pose).item() == pytest.approx(expected, rel=1e-5)


def test_rotation_matches_numpy_helper():
    angles = torch.tensor([0.3, -1.2, 2.5], dtype=torch.float64)
    assert np.allclose(
        geometry.rotation_matrices(angles).numpy(), rotation_about_vertical(angles.numpy())
    )
    r = geometry.rotation_matrices(angles, torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64))
    assert torch.allclose(r @ r.transpose(1, 2), torch.eye(3, dtype=torch.float64).expand(3, 3, 3))


def test_projection_of_rotated_pose_keeps_vertical_coordinate():
    pose = torch.randn(5, 15, 3, dtype=torch.float64)
    rotated = geometry.rotate(
        pose, geometry.rotation_matrices(torch.rand(5, dtype=torch.float64) * 6)
    )
    assert torch.allclose(rotated[..., 1], pose[..., 1])
    assert torch.allclose(rotated.norm(dim=-1), pose.norm(dim=-1))


def test_torch_normalisation_matches_numpy(cmu_test):
    keypoints = cmu_test["keypoints_2d"][:50].astype(np.float64)
    mask = np.ones((50, 15))
    mask[::3, 4] = 0
    mask[::7, MIDHIP] = 0
    expected = normalize_np(keypoints, mask)
    got, root, scale = geometry.normalize_2d(torch.from_numpy(keypoints), torch.from_numpy(mask))
    assert np.allclose(got.numpy(), expected.keypoints, atol=1e-5)
    assert np.allclose(root.numpy(), expected.root) and np.allclose(scale.numpy(), expected.scale)


def test_bone_symmetry_zero_on_mocap_and_flip_is_involution(cmu_test):
    joints = torch.from_numpy(cmu_test["joints_3d"][:100]).double()
    assert losses.bone_symmetry(joints) < 0.05  # only Neck-shoulder segments vary
    assert torch.equal(geometry.flip_left_right(geometry.flip_left_right(joints)), joints)
