"""Metric placement of lifted poses from an aligned depth image (pure numpy, no ROS).

The lifter's pose is root-relative in normalised units ``u`` (x, y = the normalised 2D input,
weak perspective), and weak perspective ties the metres per unit ``k`` to the root depth ``Z``:
``k = Z * scale_px / f``. So the root depth is the only unknown, and every present joint ``j``
whose depth the sensor measured gives one estimate of it:

    measured_j + surface_j = Z + k * u_j.z = Z * (1 + scale_px * u_j.z / f)

where ``surface_j`` (:data:`SURFACE_DEPTH_M`) is how far the joint centre lies behind the skin
the sensor sees. The fit (:func:`place_with_depth`), per person:

1. sample a ``window_px`` square around each present joint and take the median of its valid
   pixels (finite, within ``[min_depth_m, max_depth_m]``);
2. a first root depth: the median of the per-joint estimates;
3. re-sample keeping only the pixels within ``band`` of the depth expected at each joint, which
   removes what lies in front (an arm across the body, another person) and the background
   behind; ``band`` grows with the sensor noise at that distance;
4. the final root depth: the median of the estimates that agree within ``tolerance`` of the
   median (the *consistent* joints); fewer than ``min_joints`` of them = no depth for this
   person (the caller falls back to the stature prior).

Then the pose is placed as with the stature prior, ``joints = back_project(root_px, Z) + k u``,
and optionally (``refine``) each consistent joint is moved along its pixel ray to its measured
depth. Frames: camera optical frame (x right, y down, z forward), metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pose_lifter.runtime.camera import back_project, validate_intrinsics
from pose_lifter.runtime.joints import NUM_JOINTS

#: How far each joint centre lies behind the body surface facing the camera (metres): about
#: half the body's depth there (adult anthropometry: torso ~0.22 m deep, thigh ~0.15 m, upper
#: arm ~0.09 m, ...). Order: the 15 joints.
SURFACE_DEPTH_M = np.array(
    [0.02, 0.06, 0.05, 0.04, 0.03, 0.05, 0.04, 0.03, 0.10, 0.08, 0.05, 0.04, 0.08, 0.05, 0.04]
)


@dataclass(frozen=True)
class DepthSettings:
    """How depth is sampled and trusted.

    Attributes:
        window_px: side of the square sampled around each keypoint (pixels, odd).
        min_depth_m, max_depth_m: the sensor's valid range; other pixels are holes.
        min_joints: consistent joints needed to place a person from depth.
        tolerance_m: a joint's root-depth estimate agrees when within this of the median (plus
            3 x the sensor noise at that distance, :attr:`noise_at_1m_m` x Z^2).
        noise_at_1m_m: the sensor's depth noise (1 sigma, metres) at 1 m; grows with Z^2.
        refine: move consistent joints along their pixel ray to their measured depth.
        self_margin_units: how much nearer (lifted z, normalised units; about 0.1 m on an
            adult) a bone over a joint must be to hide it (:func:`self_occluded`).
        prior_height_m: the stature the prior's root depth was computed for.
        min_height_m, max_height_m: statures a person may have (with ``prior_root_depth_m``).
    """

    window_px: int = 9
    min_depth_m: float = 0.2
    max_depth_m: float = 10.0
    min_joints: int = 2
    tolerance_m: float = 0.3
    noise_at_1m_m: float = 0.01
    refine: bool = False
    self_margin_units: float = 0.25
    prior_height_m: float = 1.7
    min_height_m: float = 1.0
    max_height_m: float = 2.3


@dataclass(frozen=True)
class DepthPlacement:
    """Result of :func:`place_with_depth` for N persons.

    Attributes:
        joints_m: ``(N, 15, 3)`` metres, camera optical frame; rows of persons not placed from
            depth are NaN.
        placed: ``(N,)`` bool, placed from depth.
        consistent: ``(N, 15)`` bool, joints whose measured depth agreed with the fit.
        root_depth_m: ``(N,)`` fitted root depth (NaN when not placed).
    """

    joints_m: np.ndarray
    placed: np.ndarray
    consistent: np.ndarray
    root_depth_m: np.ndarray


def window_medians(
    depth_m: np.ndarray,
    pixels: np.ndarray,
    present: np.ndarray,
    window_px: int,
    low_m: np.ndarray,
    high_m: np.ndarray,
) -> np.ndarray:
    """Median depth of the valid pixels around each keypoint, NaN where there is none.

    Args:
        depth_m: ``(H, W)`` metres (NaN = hole).
        pixels: ``(N, J, 2)`` keypoints (pixels). present: ``(N, J)`` which to sample.
        window_px: side of the square window (pixels).
        low_m, high_m: ``(N, J)`` (or broadcastable) accepted depth range per keypoint.

    Returns:
        ``(N, J)`` float64 medians.
    """
    height, width = depth_m.shape
    half = max(int(window_px) // 2, 0)
    offsets = np.arange(-half, half + 1)
    centre = np.rint(np.nan_to_num(pixels, nan=-1e9)).astype(np.int64)
    cols = centre[..., 0, None, None] + offsets[None, :]  # (N, J, 1, w)
    rows = centre[..., 1, None, None] + offsets[:, None]  # (N, J, w, 1)
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    values = depth_m[np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)].astype(np.float64)
    low = np.broadcast_to(low_m, present.shape)[..., None, None]
    high = np.broadcast_to(high_m, present.shape)[..., None, None]
    valid = inside & np.isfinite(values) & (values >= low) & (values <= high)
    valid &= present[..., None, None]
    return nan_median(np.where(valid, values, np.nan).reshape(*present.shape, -1))


def place_with_depth(
    joints_units: np.ndarray,
    root_px: np.ndarray,
    scale_px: np.ndarray,
    keypoints_px: np.ndarray,
    present: np.ndarray,
    depth_m: np.ndarray,
    camera_matrix: np.ndarray,
    settings: DepthSettings = DepthSettings(),
    prior_root_depth_m: np.ndarray | None = None,
    sample_px: np.ndarray | None = None,
) -> DepthPlacement:
    """Place N lifted poses from an aligned depth image (see the module docstring).

    Args:
        joints_units: ``(N, 15, 3)`` root-relative lifted poses (normalised units).
        root_px: ``(N, 2)`` root pixels. scale_px: ``(N,)`` 2D scales (pixels).
        keypoints_px: ``(N, 15, 2)`` undistorted keypoints (pixels). present: ``(N, 15)``.
        depth_m: ``(H, W)`` metres aligned to the keypoints' camera (NaN = hole).
        camera_matrix: ``(3, 3)`` intrinsics of that camera.
        settings: see :class:`DepthSettings`.
        prior_root_depth_m: ``(N,)`` the stature prior's root depth for ``prior_height_m``;
            per-joint estimates that would make the person shorter than
            ``settings.min_height_m`` or taller than ``settings.max_height_m`` are not this
            person (an occluder in front, the background behind). None = no such check.
        sample_px: ``(N, 15, 2)`` where the keypoints are in the depth image, when that differs
            from ``keypoints_px`` (a distorted camera: raw pixels there, undistorted here).
    """
    k_matrix = validate_intrinsics(camera_matrix)
    focal = float(np.sqrt(k_matrix[0, 0] * k_matrix[1, 1]))
    units = np.asarray(joints_units, np.float64).reshape(-1, NUM_JOINTS, 3)
    count = len(units)
    scale_px = np.asarray(scale_px, np.float64).reshape(count)
    present = np.asarray(present, bool).reshape(count, NUM_JOINTS)
    keypoints_px = np.asarray(keypoints_px, np.float64).reshape(count, NUM_JOINTS, 2)
    depth_m = np.asarray(depth_m, np.float32)
    sample_px = keypoints_px if sample_px is None else np.asarray(sample_px, np.float64)
    # measured + surface = Z * gain, per joint
    gain = 1.0 + scale_px[:, None] * units[..., 2] / focal
    usable = present & (gain > 0.2)
    s = settings
    covered_by = covering_persons(sample_px, present, scale_px)  # (N, 15, N)
    usable &= ~self_occluded(sample_px, present, scale_px, units[..., 2], s.self_margin_units)
    free = usable & ~covered_by.any(axis=2)
    low, high = s.min_depth_m, s.max_depth_m
    if prior_root_depth_m is not None:  # depth is proportional to the implied stature
        prior = np.asarray(prior_root_depth_m, np.float64).reshape(count, 1)
        known = np.isfinite(prior)
        per_metre = np.where(known, prior, np.nan) * gain / s.prior_height_m
        low = np.where(known, np.maximum(per_metre * s.min_height_m - SURFACE_DEPTH_M, low), low)
        high = np.where(known, np.minimum(per_metre * s.max_height_m, high), high)
    first = window_medians(depth_m, sample_px, usable, s.window_px, low, high)
    # who is in front: from the joints nobody else covers; a person with none left is ordered
    # by the stature prior (else by all its joints, which may see the occluder)
    order = _robust_root(first, gain, free, None, s)
    if prior_root_depth_m is not None:
        order = np.where(np.isfinite(order), order, prior[:, 0])
    order = np.where(np.isfinite(order), order, _robust_root(first, gain, usable, None, s))
    # a joint inside another person's silhouette is used only when that person is behind
    nearer = order[None, :] < order[:, None] - 0.1  # [p, q]: q in front of p
    nearer |= ~np.isfinite(order)[None, :] & np.isfinite(order)[:, None]
    hidden = (covered_by & nearer[:, None, :]).any(axis=2)
    usable &= ~hidden
    root_first = _robust_root(first, gain, usable, None, s)
    expected = root_first[:, None] * gain - SURFACE_DEPTH_M
    band = 0.25 + 3.0 * s.noise_at_1m_m * root_first[:, None] ** 2
    second = window_medians(
        depth_m,
        sample_px,
        usable & np.isfinite(expected),
        s.window_px,
        np.maximum(expected - band, low),
        np.minimum(expected + band, high),
    )
    consistent = np.zeros((count, NUM_JOINTS), bool)
    root = _robust_root(second, gain, usable, consistent, s)
    placed = np.isfinite(root) & (consistent.sum(axis=1) >= s.min_joints)
    root = np.where(placed, root, np.nan)
    consistent &= placed[:, None]
    safe_root = np.where(placed, root, 1.0)
    k = safe_root * scale_px / focal
    origin = back_project(np.asarray(root_px, np.float64).reshape(count, 2), safe_root, k_matrix)
    joints = origin[:, None, :] + k[:, None, None] * units
    if s.refine and consistent.any():
        measured = second + SURFACE_DEPTH_M
        on_ray = back_project(keypoints_px, np.where(consistent, measured, 1.0), k_matrix)
        joints = np.where(consistent[..., None], on_ray, joints)
    joints = np.where(placed[:, None, None], joints, np.nan)
    return DepthPlacement(joints, placed, consistent, root)


#: Capsule radius of each bone relative to a body's 2D scale (the mean joint distance from the
#: root is about 0.45 m on an adult): (joint a, joint b, radius / scale), with 30% margin.
_SILHOUETTE_BONES = tuple(
    (a, b, 1.3 * radius_m / 0.45)
    for a, b, radius_m in (
        (1, 8, 0.13),
        (2, 5, 0.06),
        (9, 12, 0.09),
        (1, 2, 0.06),
        (1, 5, 0.06),
        (2, 3, 0.045),
        (3, 4, 0.035),
        (5, 6, 0.045),
        (6, 7, 0.035),
        (9, 10, 0.075),
        (10, 11, 0.05),
        (12, 13, 0.075),
        (13, 14, 0.05),
        (0, 1, 0.1),
    )
)


def self_occluded(
    keypoints_px: np.ndarray,
    present: np.ndarray,
    scale_px: np.ndarray,
    depth_units: np.ndarray,
    margin_units: float,
) -> np.ndarray:
    """``(N, 15)`` bool: a joint hidden behind the person's own body, by the lifted depths.

    A joint is hidden when it lies inside the 2D capsule of one of the person's own bones that
    does not end at it (:data:`_SILHOUETTE_BONES`) and the lifted pose puts that bone, where it
    passes over the joint, more than ``margin_units`` nearer the camera (``depth_units``
    ``(N, 15)``: the lifted z, normalised units): an arm across the body, the far shoulder of a
    person seen from the side, a hand behind the back.
    """
    hidden = np.zeros(present.shape, bool)
    for a, b, relative_radius in _SILHOUETTE_BONES:
        both = present[:, a] & present[:, b]
        if not both.any():
            continue
        start, end = keypoints_px[:, a, None, :], keypoints_px[:, b, None, :]  # (N, 1, 2)
        segment = end - start
        length2 = (segment**2).sum(-1)
        t = ((keypoints_px - start) * segment).sum(-1) / np.where(length2 > 0, length2, 1.0)
        t = np.clip(t, 0.0, 1.0)
        closest = start + t[..., None] * segment
        inside = (
            np.linalg.norm(keypoints_px - closest, axis=-1) <= relative_radius * scale_px[:, None]
        )
        bone_depth = depth_units[:, a, None] + t * (
            depth_units[:, b, None] - depth_units[:, a, None]
        )
        nearer = bone_depth < depth_units - margin_units
        cover = inside & nearer & both[:, None] & present
        cover[:, [a, b]] = False  # a bone does not hide its own ends
        hidden |= cover
    return hidden


def covering_persons(
    keypoints_px: np.ndarray, present: np.ndarray, scale_px: np.ndarray
) -> np.ndarray:
    """``(N, 15, N)`` bool: joint j of person p lies inside person q's 2D silhouette (q != p).

    The silhouette is the union of capsules around q's present 2D bones, with human radii in
    proportion to q's 2D scale (:data:`_SILHOUETTE_BONES`).
    """
    count = len(keypoints_px)
    covered = np.zeros((count, NUM_JOINTS, count), bool)
    for q in range(count):
        for a, b, relative_radius in _SILHOUETTE_BONES:
            if not (present[q, a] and present[q, b]):
                continue
            start, end = keypoints_px[q, a], keypoints_px[q, b]
            segment = end - start
            length2 = float(segment @ segment)
            t = ((keypoints_px - start) @ segment) / length2 if length2 > 0 else 0.0
            closest = start + np.clip(t, 0.0, 1.0)[..., None] * segment
            distance = np.linalg.norm(keypoints_px - closest, axis=-1)
            covered[:, :, q] |= distance <= relative_radius * scale_px[q]
        covered[q, :, q] = False
    return covered & present[:, :, None]


def _robust_root(
    medians: np.ndarray,
    gain: np.ndarray,
    usable: np.ndarray,
    consistent_out: np.ndarray | None,
    settings: DepthSettings,
) -> np.ndarray:
    """Root depth ``(N,)`` from per-joint medians: median, then median of the agreeing ones."""
    estimates = np.where(usable, (medians + SURFACE_DEPTH_M) / np.where(usable, gain, 1.0), np.nan)
    centre = nan_median(estimates)[:, None]
    tolerance = settings.tolerance_m + 3.0 * settings.noise_at_1m_m * centre**2 / 5.0
    with np.errstate(invalid="ignore"):
        agree = np.isfinite(estimates) & (np.abs(estimates - centre) <= tolerance)
    if consistent_out is not None:
        consistent_out[:] = agree
    return nan_median(np.where(agree, estimates, np.nan))


def nan_median(values: np.ndarray) -> np.ndarray:
    """Median over the last axis ignoring NaN (NaN where all are NaN), as ``np.nanmedian``.

    Sort-based: NaN sorts last, so the middle of the first ``count`` values is the median; much
    faster than ``np.nanmedian`` on many short rows (it goes through masked arrays).
    """
    ordered = np.sort(values, axis=-1)
    count = np.isfinite(ordered).sum(axis=-1)
    low = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0)[..., None], -1)[..., 0]
    high = np.take_along_axis(ordered, np.maximum(count // 2, 0)[..., None], -1)[..., 0]
    return np.where(count > 0, 0.5 * (low + high), np.nan)
