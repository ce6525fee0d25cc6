"""Pinhole camera helpers in the camera optical frame (x right, y down, z forward, metres).

Pixels: ``u = fx * x / z + cx``, ``v = fy * y / z + cy`` (no distortion). The vertical axis of
a level camera is y; :func:`rotation_about_vertical` rotates about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pose_lifter.runtime.errors import CameraError, PoseInputError

#: Plausible focal lengths in pixels (a 1 px focal length or a 10^6 px one is a broken
#: calibration, not a camera); larger matrix entries are refused too.
MIN_FOCAL_PX = 1.0
MAX_FOCAL_PX = 1e6


def validate_intrinsics(camera_matrix: np.ndarray) -> np.ndarray:
    """Return ``K`` as a float64 ``(3, 3)`` array or raise :class:`CameraError`.

    Accepts a ``(3, 3)`` matrix or the 9-element row-major ``sensor_msgs/CameraInfo.k``.
    Refuses non-finite entries, focal lengths outside [:data:`MIN_FOCAL_PX`,
    :data:`MAX_FOCAL_PX`] and entries larger than :data:`MAX_FOCAL_PX` in magnitude.
    """
    k = np.asarray(camera_matrix, dtype=np.float64)
    if k.shape == (9,):
        k = k.reshape(3, 3)
    if k.shape != (3, 3):
        raise CameraError(f"camera matrix must be 3x3 (or 9 values), got shape {k.shape}")
    if not np.all(np.isfinite(k)):
        raise CameraError("camera matrix contains NaN or inf")
    if not (MIN_FOCAL_PX <= k[0, 0] <= MAX_FOCAL_PX and MIN_FOCAL_PX <= k[1, 1] <= MAX_FOCAL_PX):
        raise CameraError(
            f"focal lengths must be in [{MIN_FOCAL_PX:g}, {MAX_FOCAL_PX:g}] px, "
            f"got fx={k[0, 0]}, fy={k[1, 1]}"
        )
    if np.abs(k).max() > MAX_FOCAL_PX:
        raise CameraError(
            f"camera matrix entries must be within +-{MAX_FOCAL_PX:g}, got {k.ravel().tolist()}"
        )
    return k


#: CameraInfo distortion models :func:`undistort_pixels` handles (REP 104 names).
DISTORTION_MODELS = ("plumb_bob", "rational_polynomial", "equidistant")


def undistort_pixels(
    pixels: np.ndarray, camera_matrix: np.ndarray, distortion: np.ndarray, model: str
) -> np.ndarray:
    """Map distorted ``(..., 2)`` pixels to where an ideal pinhole camera ``K`` would see them.

    Args:
        pixels: image coordinates (x right, y down) as the camera delivered them.
        camera_matrix: ``K`` ``(3, 3)``; the result is in the same pixel frame.
        distortion: ``D`` of sensor_msgs/CameraInfo (plumb_bob: k1 k2 t1 t2 k3;
            rational_polynomial: 8 values; equidistant: k1..k4).
        model: one of :data:`DISTORTION_MODELS`.

    Raises:
        CameraError: an unsupported model or a D of the wrong length.
    """
    import cv2

    k, d = validate_intrinsics(camera_matrix), _coefficients(distortion, model)
    points = np.asarray(pixels, dtype=np.float64)
    # OpenCV on normalised coordinates (identity camera), K applied here with its skew
    flat = _normalized(points.reshape(-1, 2), k)[:, None, :]
    if model == "equidistant":
        out = cv2.fisheye.undistortPoints(flat, _IDENTITY, d, criteria=_UNDISTORT_CRITERIA)
    elif hasattr(cv2, "undistortPointsIter"):  # OpenCV 4 (the distros' python3-opencv)
        out = cv2.undistortPointsIter(flat, _IDENTITY, d, None, None, _UNDISTORT_CRITERIA)
    else:  # OpenCV 5 folded it into undistortPoints
        out = cv2.undistortPoints(flat, _IDENTITY, d, criteria=_UNDISTORT_CRITERIA)
    return _pixels(out.reshape(-1, 2), k).reshape(points.shape)


_IDENTITY = np.eye(3)


def _normalized(pixels: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``(N, 2)`` pixels -> normalised image coordinates (x = X/Z, y = Y/Z), skew included."""
    y = (pixels[:, 1] - k[1, 2]) / k[1, 1]
    x = (pixels[:, 0] - k[0, 2] - k[0, 1] * y) / k[0, 0]
    return np.stack([x, y], axis=-1)


def _pixels(normalized: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_normalized`."""
    x, y = normalized[:, 0], normalized[:, 1]
    return np.stack([k[0, 0] * x + k[0, 1] * y + k[0, 2], k[1, 1] * y + k[1, 2]], axis=-1)


#: Iterations of the undistortion solver (OpenCV's default of 5 leaves pixels of error at the
#: corners of strongly distorted lenses).
_UNDISTORT_CRITERIA = (3, 50, 1e-9)  # cv2.TERM_CRITERIA_COUNT | EPS, 50 steps, 1e-9
#: Largest error (px) of undistorting then distorting again that a CameraInfo may show.
MAX_ROUND_TRIP_PX = 0.5


def _coefficients(distortion: np.ndarray, model: str) -> np.ndarray:
    """``D`` as float64 for ``model``, or raise :class:`CameraError`."""
    d = np.asarray(distortion, dtype=np.float64).reshape(-1)
    if model == "equidistant":
        if len(d) < 4:
            raise CameraError(f"equidistant distortion needs 4 coefficients, got {len(d)}")
        return d[:4]
    if model in ("plumb_bob", "rational_polynomial"):
        if len(d) not in (4, 5, 8, 12, 14):
            raise CameraError(
                f"{model} distortion has 4, 5, 8, 12 or 14 coefficients, got {len(d)}"
            )
        return d
    raise CameraError(f"unsupported distortion model {model!r} (supported: {DISTORTION_MODELS})")


def distort_pixels(
    pixels: np.ndarray, camera_matrix: np.ndarray, distortion: np.ndarray, model: str
) -> np.ndarray:
    """Distort ideal ``(..., 2)`` pixels to where the real camera shows them.

    The inverse of :func:`undistort_pixels`.
    """
    import cv2

    k, d = validate_intrinsics(camera_matrix), _coefficients(distortion, model)
    points = np.asarray(pixels, dtype=np.float64)
    ideal = _normalized(points.reshape(-1, 2), k)
    if model == "equidistant":
        out = cv2.fisheye.distortPoints(ideal[:, None, :].copy(), _IDENTITY, d)
    else:
        rays = np.c_[ideal, np.ones(len(ideal))][:, None, :]
        out, _ = cv2.projectPoints(rays, np.zeros(3), np.zeros(3), _IDENTITY, d)
    return _pixels(out.reshape(-1, 2), k).reshape(points.shape)


def undistort_pixels_checked(
    pixels: np.ndarray, camera_matrix: np.ndarray, distortion: np.ndarray, model: str
) -> tuple[np.ndarray, np.ndarray]:
    """Undistort ``(..., 2)`` pixels; keep those the lens model cannot undo as they are.

    Returns ``(pixels (..., 2), undone (...) bool)``: where ``undone`` is False (the solver gave
    NaN, or its answer does not distort back to the pixel within :data:`MAX_ROUND_TRIP_PX`,
    e.g. far outside the image of a strong lens) the input pixel is returned unchanged.
    """
    points = np.asarray(pixels, dtype=np.float64)
    with np.errstate(all="ignore"):
        undistorted = undistort_pixels(points, camera_matrix, distortion, model)
        back = distort_pixels(
            np.nan_to_num(undistorted, nan=0.0, posinf=0.0, neginf=0.0),
            camera_matrix,
            distortion,
            model,
        )
        error = np.linalg.norm(back - points, axis=-1)
    undone = np.isfinite(undistorted).all(axis=-1) & (error <= MAX_ROUND_TRIP_PX)
    return np.where(undone[..., None], undistorted, points), undone


def check_distortion(
    camera_matrix: np.ndarray,
    distortion: np.ndarray,
    model: str,
    image_size: tuple[int, int] = (0, 0),
) -> None:
    """Refuse a distortion that cannot be undone over the image.

    Undistorts a 9 x 9 grid of pixels spanning the image (``(width, height)``; unknown (0):
    twice the principal point) and distorts the result again: every pixel must come back
    within :data:`MAX_ROUND_TRIP_PX`. Absurd coefficients (e.g. plumb_bob k1 = 2.3e7) make
    the solver diverge or land on another solution of the polynomial, so keypoints would be
    moved to wrong places (or NaN); such a CameraInfo is refused instead.

    Raises:
        CameraError: an unsupported model, a D of the wrong length, or no round trip.
    """
    k = validate_intrinsics(camera_matrix)
    width, height = image_size
    if not (width > 0 and height > 0):
        width, height = max(2 * k[0, 2], 2.0), max(2 * k[1, 2], 2.0)
    u, v = np.meshgrid(np.linspace(0, width - 1, 9), np.linspace(0, height - 1, 9))
    grid = np.stack([u.ravel(), v.ravel()], axis=-1)
    with np.errstate(all="ignore"):
        back = distort_pixels(undistort_pixels(grid, k, distortion, model), k, distortion, model)
        error = np.linalg.norm(back - grid, axis=-1)
    worst = int(np.argmax(np.where(np.isfinite(error), error, np.inf)))
    if not np.isfinite(error[worst]) or error[worst] > MAX_ROUND_TRIP_PX:
        raise CameraError(
            f"{model} distortion {np.asarray(distortion).tolist()} cannot be undone over the "
            f"image: pixel ({grid[worst, 0]:.0f}, {grid[worst, 1]:.0f}) comes back "
            f"{error[worst]:.3g} px away"
        )


def back_project(pixels: np.ndarray, depth_m: np.ndarray, camera_matrix: np.ndarray) -> np.ndarray:
    """Lift ``(..., 2)`` pixels at ``depth_m`` (``(...)``, metres along z) to ``(..., 3)``."""
    k = validate_intrinsics(camera_matrix)
    pixels = np.asarray(pixels, dtype=np.float64)
    if pixels.shape[-1] != 2:
        raise PoseInputError(f"pixels must have a last dimension of 2, got {pixels.shape}")
    depth = np.broadcast_to(np.asarray(depth_m, dtype=np.float64), pixels.shape[:-1])
    y = (pixels[..., 1] - k[1, 2]) / k[1, 1]
    x = (pixels[..., 0] - k[0, 2] - k[0, 1] * y) / k[0, 0]
    return np.stack([x * depth, y * depth, depth], axis=-1)


def rotation_about_vertical(angle_rad: np.ndarray | float) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` about the camera's y axis (vertical, pointing down).

    A positive angle turns +z (forward) towards +x (right): ``x' = x cos a + z sin a``,
    ``z' = -x sin a + z cos a``, ``y' = y`` (Kudo et al.'s convention).
    """
    angle = np.asarray(angle_rad, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(angle), np.ones_like(angle)
    return np.stack(
        [np.stack([c, zero, s], -1), np.stack([zero, one, zero], -1), np.stack([-s, zero, c], -1)],
        -2,
    )


def rotate_about_vertical(
    points_3d: np.ndarray, angle_rad: np.ndarray | float, centre: np.ndarray | None = None
) -> np.ndarray:
    """Rotate ``(..., J, 3)`` points about the vertical axis through ``centre`` (default origin).

    ``angle_rad`` broadcasts against the leading dimensions (one angle per pose).
    """
    points = np.asarray(points_3d, dtype=np.float64)
    rotation = rotation_about_vertical(angle_rad)
    offset = np.zeros(3) if centre is None else np.asarray(centre, dtype=np.float64)[..., None, :]
    return np.einsum("...ij,...nj->...ni", rotation, points - offset) + offset


@dataclass(frozen=True)
class Camera:
    """A camera's intrinsics, lens model and what they belong to (from a CameraInfo).

    Attributes:
        matrix: ``K`` ``(3, 3)`` (``P``'s left 3x3 for a rectified stream).
        distortion: ``D`` (empty or all zero: none; always empty for a rectified stream).
        model: the lens model's name (:data:`DISTORTION_MODELS`, REP 104).
        frame_id: the camera's optical frame ("" = unknown, matches any input).
        size: ``(width, height)`` pixels (``(0, 0)`` = unknown, matches any).
    """

    matrix: np.ndarray
    distortion: np.ndarray = field(default_factory=lambda: np.zeros(0))
    model: str = "plumb_bob"
    frame_id: str = ""
    size: tuple[int, int] = (0, 0)

    def matches(self, frame_id: str, size: tuple[int, int]) -> bool:
        """Whether this camera describes an input from ``frame_id`` of ``size`` pixels."""
        frames_agree = not self.frame_id or not frame_id or self.frame_id == frame_id
        sizes_agree = 0 in self.size or 0 in size or tuple(self.size) == tuple(size)
        return frames_agree and sizes_agree

    @property
    def distorted(self) -> bool:
        return bool(np.any(self.distortion))

    @property
    def focal_px(self) -> float:
        """Return the geometric mean of fx and fy (pixels)."""
        return float(np.sqrt(self.matrix[0, 0] * self.matrix[1, 1]))
