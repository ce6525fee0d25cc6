import numpy as np
import pytest

from pose_lifter.runtime.camera import (
    back_project,
    rotate_about_vertical,
    rotation_about_vertical,
    validate_intrinsics,
)
from pose_lifter.runtime.errors import CameraError, PoseInputError

K = np.array([[800.0, 0, 320], [0, 810.0, 240], [0, 0, 1]])


def test_back_project_hand_computed():
    # x = (520 - 320) / 800 * 4 = 1.0, y = (138.75 - 240) / 810 * 4 = -0.5
    assert np.allclose(back_project([520.0, 138.75], 4.0, K), [1.0, -0.5, 4.0])


def test_back_project_then_pinhole_projection_is_the_identity():
    points = np.random.default_rng(0).uniform([-1, -1, 2], [1, 1, 8], size=(10, 15, 3))
    pixels = (points / points[..., 2:]) @ K.T
    assert np.allclose(back_project(pixels[..., :2], points[..., 2], K), points)


def test_camera_info_k_layout_accepted():
    assert np.allclose(back_project([320.0, 240.0], 1.0, K.ravel()), [0.0, 0.0, 1.0])


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((2, 2)),
        np.diag([0.0, 1, 1]),
        np.full((3, 3), np.nan),
        np.diag([1e-300, 1e-300, 1]),
        np.diag([2e6, 2e6, 1]),
        [[800, 0, 1e9], [0, 800, 240], [0, 0, 1]],
    ],
)
def test_bad_intrinsics(bad):
    with pytest.raises(CameraError):
        validate_intrinsics(bad)
    with pytest.raises(CameraError):
        back_project([0.0, 0.0], 1.0, bad)


def test_pixels_of_the_wrong_shape_rejected():
    with pytest.raises(PoseInputError, match="last dimension"):
        back_project([0.0, 0.0, 1.0], 1.0, K)


def test_rotation_convention_and_orthogonality():
    r = rotation_about_vertical(np.pi / 2)
    assert np.allclose(r @ [0, 0, 1], [1, 0, 0])  # forward turns to the right
    assert np.allclose(r @ [0, 1, 0], [0, 1, 0])  # vertical axis fixed
    rs = rotation_about_vertical(np.linspace(-3, 3, 7))
    assert np.allclose(rs @ rs.transpose(0, 2, 1), np.eye(3))
    assert np.allclose(np.linalg.det(rs), 1)


def test_rotate_about_centre_keeps_centre_and_lengths():
    points = np.random.default_rng(1).normal(size=(3, 15, 3))
    centre = points[:, 8]
    rotated = rotate_about_vertical(points, np.array([0.3, 1.0, -2.0])[:, None].squeeze(1), centre)
    assert np.allclose(rotated[:, 8], centre)
    assert np.allclose(
        np.linalg.norm(rotated - centre[:, None], axis=2),
        np.linalg.norm(points - centre[:, None], axis=2),
    )
