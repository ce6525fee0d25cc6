"""Metric placement of lifted poses in the camera optical frame (pure numpy, no ROS).

The lifter returns root-relative poses in *normalised units*: one unit is the 2D scale
``scale_px`` (mean pixel distance of the present joints from the root), and x, y of present
joints equal the normalised 2D input (weak perspective). This module turns them into metres:

1. **Metres per unit** ``k`` from a body-height prior: the bone chain
   nose-neck-midhip-hip-knee-ankle (hip/knee/ankle averaged over both sides) is measured on the
   lifted 3D pose (in units) and compared with ``subject_height_m * CHAIN_TO_STATURE``.
2. **Depth** of the root from the weak-perspective relation ``scale_px = f * k / Z``:
   ``Z = f * k / scale_px`` with ``f`` the geometric mean of fx and fy (pixels).
3. **Root position** = back-projection of the root pixel at depth ``Z``; joints =
   ``root + k * joints_units``.

Without intrinsics (:func:`place_without_camera`) the pose is scaled the same way but put at a
fixed distance; its lateral offset keeps the pixel offset from the image centre at the person's
own scale. Frames: camera optical frame (x right, y down, z forward), metres.
"""

from __future__ import annotations

import numpy as np

from pose_lifter.runtime.camera import back_project, validate_intrinsics
from pose_lifter.runtime.errors import PoseInputError
from pose_lifter.runtime.joints import LANKLE, LHIP, LKNEE, MIDHIP, NECK, NOSE, RANKLE, RHIP, RKNEE

#: Length of the bone chain nose-neck-midhip-hip-knee-ankle as a fraction of stature, for an
#: adult of average build (anthropometric segment proportions, Drillis & Contini / Winter:
#: nose-neck 0.11 H, neck-midhip 0.31 H, midhip-hip 0.05 H, thigh 0.245 H, shin 0.245 H).
CHAIN_TO_STATURE = 0.95

#: Chains shorter than this (normalised units) cannot give a scale (degenerate pose).
MIN_CHAIN_UNITS = 1e-3


#: The chain's bones (start joint, end joint) and weights: legs averaged over both sides.
_CHAIN_BONES = (
    (NOSE, NECK, 1.0),
    (NECK, MIDHIP, 1.0),
    (MIDHIP, RHIP, 0.5),
    (RHIP, RKNEE, 0.5),
    (RKNEE, RANKLE, 0.5),
    (MIDHIP, LHIP, 0.5),
    (LHIP, LKNEE, 0.5),
    (LKNEE, LANKLE, 0.5),
)
_CHAIN_STARTS, _CHAIN_ENDS, _CHAIN_WEIGHTS = (np.array(column) for column in zip(*_CHAIN_BONES))


def chain_length(poses: np.ndarray) -> np.ndarray:
    """Nose-neck-midhip-hip-knee-ankle chain length, legs averaged over sides.

    Args:
        poses: ``(..., 15, 3)`` (or ``(..., 15, 2)``) joint positions in any length unit.

    Returns:
        ``(...)`` chain lengths in the same unit.
    """
    poses = np.asarray(poses, dtype=np.float64)
    bones = poses[..., _CHAIN_STARTS, :] - poses[..., _CHAIN_ENDS, :]
    return np.sqrt((bones * bones).sum(axis=-1)) @ _CHAIN_WEIGHTS


def metres_per_unit(joints_units: np.ndarray, subject_height_m: float) -> np.ndarray:
    """Metres per normalised unit ``k`` ``(N,)`` from the height prior.

    Args:
        joints_units: ``(N, 15, 3)`` lifted poses, root-relative, normalised units.
        subject_height_m: assumed stature in metres (> 0).

    Returns:
        ``(N,)`` float64; NaN where the chain is degenerate (shorter than
        :data:`MIN_CHAIN_UNITS` or non-finite), so callers can drop those poses.
    """
    if not subject_height_m > 0:
        raise PoseInputError(f"subject_height_m must be > 0, got {subject_height_m}")
    chain = chain_length(joints_units)
    usable = np.isfinite(chain) & (chain > MIN_CHAIN_UNITS)
    return np.where(
        usable, subject_height_m * CHAIN_TO_STATURE / np.where(usable, chain, 1.0), np.nan
    )


def root_depth(
    metres_per_unit_k: np.ndarray, scale_px: np.ndarray, camera_matrix: np.ndarray
) -> np.ndarray:
    """Weak-perspective root depth ``Z = f * k / scale_px`` (metres), ``(N,)``.

    ``f = sqrt(fx * fy)`` in pixels; ``scale_px`` ``(N,)`` is the 2D scale of each pose.
    NaN where ``k`` is NaN or ``scale_px`` is not positive.
    """
    k = validate_intrinsics(camera_matrix)
    focal = np.sqrt(k[0, 0] * k[1, 1])
    scale_px = np.asarray(scale_px, dtype=np.float64)
    ok = scale_px > 0
    return np.where(
        ok, focal * np.asarray(metres_per_unit_k) / np.where(ok, scale_px, 1.0), np.nan
    )


def place_with_camera(
    joints_units: np.ndarray,
    root_px: np.ndarray,
    scale_px: np.ndarray,
    camera_matrix: np.ndarray,
    subject_height_m: float,
) -> np.ndarray:
    """Metric poses ``(N, 15, 3)`` in the camera optical frame (metres) from intrinsics.

    Args:
        joints_units: ``(N, 15, 3)`` root-relative lifted poses (normalised units).
        root_px: ``(N, 2)`` root pixel positions. scale_px: ``(N,)`` 2D scales (pixels).
        camera_matrix: ``(3, 3)`` intrinsics ``K`` (or the 9 values of CameraInfo.k).
        subject_height_m: stature prior in metres.

    Returns:
        ``(N, 15, 3)`` float64; rows of degenerate poses are NaN (check ``np.isfinite``).
    """
    k = metres_per_unit(joints_units, subject_height_m)
    depth = root_depth(k, scale_px, camera_matrix)
    safe_depth = np.where(np.isfinite(depth), depth, 1.0)
    root = back_project(np.asarray(root_px, dtype=np.float64), safe_depth, camera_matrix)
    root = np.where(np.isfinite(depth)[:, None], root, np.nan)
    return root[:, None, :] + k[:, None, None] * np.asarray(joints_units, dtype=np.float64)


def place_without_camera(
    joints_units: np.ndarray,
    root_px: np.ndarray,
    scale_px: np.ndarray,
    subject_height_m: float,
    distance_m: float,
    image_size: tuple[int, int] | None,
) -> np.ndarray:
    """Scaled poses ``(N, 15, 3)`` at ``distance_m`` in front of an uncalibrated camera.

    The pose is scaled to ``subject_height_m`` (as :func:`place_with_camera`) and its root put
    at depth ``distance_m``; x, y of the root are its pixel offset from the image centre times
    ``k / scale_px`` (the person's own metres per pixel), or 0 when ``image_size``
    ``(width, height)`` is unknown (None or zeros). The result is *not* a true metric position.
    """
    k = metres_per_unit(joints_units, subject_height_m)
    scale_px = np.asarray(scale_px, dtype=np.float64)
    root = np.zeros((len(k), 3))
    if image_size is not None and image_size[0] > 0 and image_size[1] > 0:
        centre = 0.5 * np.asarray(image_size, dtype=np.float64)
        metres_per_px = k / np.where(scale_px > 0, scale_px, np.nan)
        root[:, :2] = (np.asarray(root_px, dtype=np.float64) - centre) * metres_per_px[:, None]
    root[:, 2] = distance_m
    return root[:, None, :] + k[:, None, None] * np.asarray(joints_units, dtype=np.float64)


def quaternion_to_matrix(quaternion_xyzw: np.ndarray) -> np.ndarray:
    """Rotation matrix ``(3, 3)`` of a unit quaternion ``(x, y, z, w)`` (normalised here).

    Raises:
        PoseInputError: non-finite or zero-norm quaternion.
    """
    q = np.asarray(quaternion_xyzw, dtype=np.float64)
    norm = np.linalg.norm(q)
    if q.shape != (4,) or not np.isfinite(norm) or norm < 1e-12:
        raise PoseInputError(f"quaternion must be 4 finite values with non-zero norm, got {q}")
    x, y, z, w = q / norm
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def apply_rigid_transform(
    points: np.ndarray, quaternion_xyzw: np.ndarray, translation: np.ndarray
) -> np.ndarray:
    """Apply a rigid transform ``R p + t`` to ``(..., 3)`` points.

    ``R p + t`` for ``(..., 3)`` points: maps points given in a transform's child frame into its
    parent frame (the convention of ``geometry_msgs/TransformStamped`` from tf2 lookups).
    """
    rotation = quaternion_to_matrix(quaternion_xyzw)
    return np.asarray(points, dtype=np.float64) @ rotation.T + np.asarray(translation, np.float64)
