"""Where a lifted person is and how sure we are: centre, box and position covariance (numpy).

For ``vision_msgs/Detection3D`` consumers (navigation, costmaps): one centre, an axis-aligned
box around the joints and a position covariance that says where the metric scale came from.
The scale error is a distance error along the camera ray (an error in assumed stature is the
same relative error in distance; depth is measured), so the covariance is elongated along the
ray: ``sigma_ray = relative * distance``, ``sigma_lateral = LATERAL_SIGMA_M``, rotated into the
output frame.

Relative distance errors (1 sigma), from this package's measurements (README, doc/rgbd.md):
placement from depth p90 2.1% -> 0.02; the stature prior 10% median with a 1.7 m prior for
1.5-1.9 m people -> 0.12; without a CameraInfo the distance is unknown -> :data:`UNKNOWN_SIGMA_M`.
"""

from __future__ import annotations

import numpy as np

#: ``Skeleton3D.scale_source`` values (pose_lifter_msgs): normalised, stature prior, depth.
SCALE_NORMALIZED, SCALE_ASSUMED_HEIGHT, SCALE_DEPTH = 0, 1, 2
#: Relative distance error (1 sigma) per scale source.
RELATIVE_DISTANCE_SIGMA = {SCALE_ASSUMED_HEIGHT: 0.12, SCALE_DEPTH: 0.02}
#: Sigma (m) of the distance when nothing measured it (SCALE_NORMALIZED).
UNKNOWN_SIGMA_M = 100.0
#: Sigma (m) across the ray: the body centre's spread around the joints' mean.
LATERAL_SIGMA_M = 0.05
#: Orientation variance (rad^2) of the body frame: about 20 degrees (1 sigma).
ORIENTATION_VARIANCE = 0.12


def body_centre(joints_m: np.ndarray) -> np.ndarray:
    """Return the mean of the 15 joints ``(P, 3)`` of ``(P, 15, 3)`` poses."""
    return np.asarray(joints_m, np.float64).mean(axis=1)


def bounding_boxes(joints_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned boxes around the joints: ``(centres (P, 3), sizes (P, 3))`` in their frame."""
    joints = np.asarray(joints_m, np.float64)
    low, high = joints.min(axis=1), joints.max(axis=1)
    return 0.5 * (low + high), high - low


def position_covariance(
    centre_camera_m: np.ndarray, scale_sources, rotation: np.ndarray | None = None
) -> np.ndarray:
    """Position covariances ``(P, 3, 3)`` (m^2) of the body centres.

    Args:
        centre_camera_m: ``(P, 3)`` centres in the camera optical frame (the ray from the
            camera through each).
        scale_sources: ``(P,)`` ``Skeleton3D.scale_source`` values.
        rotation: ``(3, 3)`` camera -> output frame rotation (None: the camera frame).
    """
    centres = np.asarray(centre_camera_m, np.float64).reshape(-1, 3)
    sources = np.broadcast_to(np.asarray(scale_sources), (len(centres),))
    distance = np.linalg.norm(centres, axis=1)
    ray = centres / np.maximum(distance, 1e-9)[:, None]
    relative = np.array([RELATIVE_DISTANCE_SIGMA.get(int(s), np.nan) for s in sources])
    sigma_ray = np.where(np.isnan(relative), UNKNOWN_SIGMA_M, relative * distance)
    along = np.einsum("pi,pj->pij", ray, ray)
    covariance = sigma_ray[:, None, None] ** 2 * along + LATERAL_SIGMA_M**2 * (np.eye(3) - along)
    if rotation is not None:
        r = np.asarray(rotation, np.float64)
        covariance = r @ covariance @ r.T
    return covariance
