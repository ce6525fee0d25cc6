"""The seed's 2D pose normalisation (Kudo et al. 2018), batched and missing-joint aware.

A pose is centred on its root (MidHip) and divided by the mean distance of the present joints
from the root, so poses of any image size and position look alike to the lifter. A joint whose
confidence is 0 (or below a threshold) is *missing*: it never enters the scale, its normalised
coordinates are set to 0 and its mask entry is False.

Shapes: ``keypoints_2d`` is ``(N, 15, 2)`` (pixels, x right, y down), ``mask`` is ``(N, 15)`` bool.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from pose_lifter.runtime.errors import PoseInputError
from pose_lifter.runtime.joints import LHIP, MIDHIP, NUM_JOINTS, RHIP

#: Poses whose joints all sit within this many pixels of the root have no usable scale.
MIN_SCALE_PX = 1e-6


class Normalized2D(NamedTuple):
    """Output of :func:`normalize_2d`.

    Attributes:
        keypoints: ``(N, 15, 2)`` float32, root-centred and divided by ``scale``; 0 where missing.
        mask: ``(N, 15)`` bool, True where the joint is present.
        root: ``(N, 2)`` float64 root position in input units (pixels).
        scale: ``(N,)`` float64 mean distance of present joints from the root, input units.
    """

    keypoints: np.ndarray
    mask: np.ndarray
    root: np.ndarray
    scale: np.ndarray


def validate_keypoints_2d(keypoints_2d: np.ndarray, confidence: np.ndarray | None = None):
    """Check shapes and finiteness; return ``(keypoints (N,15,2) float64, confidence (N,15))``.

    A single pose ``(15, 2)`` is promoted to ``(1, 15, 2)``; ``(N, 15, 3)`` is split into xy and
    confidence. Non-finite coordinates are allowed only where confidence is 0 (missing joint).

    Raises:
        PoseInputError: wrong shape, non-finite confidence, or NaN/inf at a present joint.
    """
    keypoints_2d = np.asarray(keypoints_2d, dtype=np.float64)
    if keypoints_2d.ndim == 2:
        keypoints_2d = keypoints_2d[None]
    if (
        keypoints_2d.ndim != 3
        or keypoints_2d.shape[1] != NUM_JOINTS
        or keypoints_2d.shape[2] not in (2, 3)
    ):
        raise PoseInputError(
            f"keypoints_2d must have shape (N, {NUM_JOINTS}, 2) or (N, {NUM_JOINTS}, 3), "
            f"got {keypoints_2d.shape}"
        )
    if keypoints_2d.shape[2] == 3:
        if confidence is not None:
            raise PoseInputError("confidence given twice: as a third channel and as an argument")
        confidence = keypoints_2d[:, :, 2]
        keypoints_2d = keypoints_2d[:, :, :2]
    if confidence is None:
        confidence = np.ones(keypoints_2d.shape[:2])
    confidence = np.asarray(confidence, dtype=np.float64)
    if confidence.ndim == 1:
        confidence = confidence[None]
    if confidence.shape != keypoints_2d.shape[:2]:
        raise PoseInputError(
            f"confidence must have shape {keypoints_2d.shape[:2]}, got {confidence.shape}"
        )
    if not np.all(np.isfinite(confidence)):
        raise PoseInputError("confidence contains NaN or inf")
    present = confidence > 0
    bad = present & ~np.all(np.isfinite(keypoints_2d), axis=2)
    if bad.any():
        pose, joint = np.argwhere(bad)[0]
        raise PoseInputError(
            f"keypoints_2d has NaN/inf at a present joint (pose {pose}, joint {joint}); "
            "set its confidence to 0 to mark it missing"
        )
    return keypoints_2d, confidence


def root_2d(keypoints_2d: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Root (MidHip) position ``(N, 2)``; falls back to the hip midpoint, then the centroid.

    Args:
        keypoints_2d: ``(N, 15, 2)``. mask: ``(N, 15)`` bool, True where present.
    """
    root = keypoints_2d[:, MIDHIP].copy()
    no_root = ~mask[:, MIDHIP]
    if no_root.any():
        hips = mask[:, RHIP] & mask[:, LHIP]
        use_hips = no_root & hips
        root[use_hips] = 0.5 * (keypoints_2d[use_hips, RHIP] + keypoints_2d[use_hips, LHIP])
        use_centroid = no_root & ~hips
        if use_centroid.any():
            weights = mask[use_centroid][..., None].astype(np.float64)
            total = np.maximum(weights.sum(axis=1), 1.0)
            points = np.where(weights > 0, keypoints_2d[use_centroid], 0.0)
            root[use_centroid] = points.sum(axis=1) / total
    return root


def normalize_2d(
    keypoints_2d: np.ndarray, confidence: np.ndarray | None = None, min_confidence: float = 0.0
) -> Normalized2D:
    """Centre each pose on its root and divide by the mean present-joint distance from it.

    Args:
        keypoints_2d: ``(N, 15, 2)`` or ``(N, 15, 3)`` (x, y[, confidence]) in pixels, or one
            pose ``(15, 2|3)``.
        confidence: optional ``(N, 15)``; a joint is present when confidence > ``min_confidence``
            (all present when omitted).
        min_confidence: joints at or below this confidence count as missing.

    Returns:
        :class:`Normalized2D`. Poses with fewer than 2 present joints or zero spread get scale 1,
        all-False mask and zero keypoints, so callers can drop them (see ``mask.any(axis=1)``).

    Raises:
        PoseInputError: see :func:`validate_keypoints_2d`.
    """
    keypoints, confidence = validate_keypoints_2d(keypoints_2d, confidence)
    return normalize_valid_2d(keypoints, confidence, min_confidence)


#: Joints whose distance from the root counts towards the scale (all but the root itself).
_NOT_ROOT = np.arange(NUM_JOINTS) != MIDHIP


def normalize_valid_2d(
    keypoints_2d: np.ndarray, confidence: np.ndarray, min_confidence: float = 0.0
) -> Normalized2D:
    """:func:`normalize_2d` of input :func:`validate_keypoints_2d` already accepted.

    ``keypoints_2d`` ``(N, 15, 2)`` and ``confidence`` ``(N, 15)`` float64, finite where present
    (the node's pipeline checks each message once and calls this).
    """
    mask = confidence > min_confidence
    root = root_2d(keypoints_2d, mask)
    centred = np.where(mask[..., None], keypoints_2d - root[:, None], 0.0)
    distance = np.hypot(centred[..., 0], centred[..., 1])
    counts = (mask & _NOT_ROOT).sum(axis=1)
    scale = distance.sum(axis=1) / np.maximum(counts, 1)
    degenerate = (counts < 1) | (scale <= MIN_SCALE_PX) | (mask.sum(axis=1) < 2)
    scale = np.where(degenerate, 1.0, scale)
    mask = mask & ~degenerate[:, None]
    normalized = np.where(mask[..., None], centred / scale[:, None, None], 0.0)
    return Normalized2D(normalized.astype(np.float32), mask, root, scale)
