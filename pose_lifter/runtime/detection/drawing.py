"""Draw 2D skeletons on an RGB image (for a debug image topic)."""

from __future__ import annotations

import cv2
import numpy as np

from pose_lifter.runtime.colours import colour_for_index, to_uint8
from pose_lifter.runtime.joints import NUM_JOINTS, bone_segments


def draw_skeletons(
    rgb: np.ndarray, keypoints_2d: np.ndarray, confidence: np.ndarray, min_confidence: float = 0.0
) -> np.ndarray:
    """Return a copy of ``rgb`` with every person's 15-joint skeleton drawn on it.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB image.
        keypoints_2d: ``(P, 15, 2)`` (x, y) pixels, x right, y down.
        confidence: ``(P, 15)``; joints with confidence <= ``min_confidence`` are missing and
            neither they nor their bones are drawn.

    Returns:
        A new ``(H, W, 3)`` uint8 array; line width and joint radius scale with the image size.
    """
    keypoints_2d = np.asarray(keypoints_2d, np.float64).reshape(-1, NUM_JOINTS, 2)
    confidence = np.asarray(confidence, np.float64).reshape(-1, NUM_JOINTS)
    out = np.ascontiguousarray(rgb).copy()
    thickness = max(1, round(max(out.shape[:2]) / 320))
    for person, (points, conf) in enumerate(zip(keypoints_2d, confidence)):
        color = to_uint8(colour_for_index(person))
        present = (conf > min_confidence) & np.all(np.isfinite(points), axis=1)
        pixels = np.round(np.where(present[:, None], points, 0)).astype(int)
        drawn = bone_segments(present[:, None]).all(axis=(1, 2))
        for (start, end), draw in zip(bone_segments(pixels).tolist(), drawn):
            if draw:
                cv2.line(out, tuple(start), tuple(end), color, thickness, cv2.LINE_AA)
        for joint in np.flatnonzero(present):
            cv2.circle(out, tuple(pixels[joint]), thickness + 1, color, -1, cv2.LINE_AA)
    return out
