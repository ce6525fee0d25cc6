"""Skeletons as Plotly lines, shared by the HTML report and the 3D viewer (no plotly import)."""

from __future__ import annotations

import numpy as np

from pose_lifter.runtime.joints import bone_segments


def bone_lines(points: np.ndarray) -> list[list]:
    """Per axis, the bones of one ``(15, D)`` pose as one None-separated Plotly line."""
    segments = bone_segments(np.asarray(points, dtype=np.float64))
    return [
        [value for start, end in segments[:, :, axis].tolist() for value in (start, end, None)]
        for axis in range(segments.shape[-1])
    ]
