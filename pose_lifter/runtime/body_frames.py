"""Per-person TF frames as REP 155 defines them (pure numpy, no ROS).

REP 155 (human body frames): ``body_<id>`` sits at the body's root with **x forward** (out of the
chest), **y to the person's left** and **z up** (along the spine). Here the root is MidHip and
the axes come from the torso:

- z: MidHip -> Neck (the spine);
- y: the person's left, ``(LShoulder - RShoulder) + (LHip - RHip)``, made orthogonal to z;
- x = y x z (right-handed: forward, out of the chest).

A torso too degenerate to give two axes (spine or left/right vector shorter than
:data:`MIN_AXIS_M`, or parallel) keeps the parent frame's orientation (identity).

:class:`FramePool` names the frames from a pool: a person gets the lowest free slot and gives it
back when its track ends, so the number of frame names a TF listener ever sees is the largest
number of people tracked at once (track ids are never reused; frame names are).
"""

from __future__ import annotations

import numpy as np

from pose_lifter.runtime.joints import LHIP, LSHOULDER, MIDHIP, NECK, RHIP, RSHOULDER

#: Axis vectors shorter than this (metres, after orthogonalising) give no orientation.
MIN_AXIS_M = 1e-6


def body_axes(joints_m: np.ndarray) -> np.ndarray:
    """Orientation of each person's ``body`` frame in the joints' frame.

    Args:
        joints_m: ``(P, 15, 3)`` joint positions (metres, any right-handed frame).

    Returns:
        ``(P, 3, 3)`` rotation matrices whose columns are the body's x (forward), y (left) and
        z (up) axes expressed in the joints' frame; identity for a degenerate torso.
    """
    joints = np.asarray(joints_m, dtype=np.float64).reshape(-1, 15, 3)
    up = joints[:, NECK] - joints[:, MIDHIP]
    left = (joints[:, LSHOULDER] - joints[:, RSHOULDER]) + (joints[:, LHIP] - joints[:, RHIP])
    up_norm = np.linalg.norm(up, axis=1, keepdims=True)
    z = up / np.where(up_norm > MIN_AXIS_M, up_norm, 1.0)
    left = left - (left * z).sum(axis=1, keepdims=True) * z
    left_norm = np.linalg.norm(left, axis=1, keepdims=True)
    y = left / np.where(left_norm > MIN_AXIS_M, left_norm, 1.0)
    x = np.cross(y, z)
    axes = np.stack([x, y, z], axis=2)
    usable = (up_norm[:, 0] > MIN_AXIS_M) & (left_norm[:, 0] > MIN_AXIS_M)
    usable &= np.isfinite(axes).all(axis=(1, 2))
    axes[~usable] = np.eye(3)
    return axes


def matrix_to_quaternion(rotation: np.ndarray) -> np.ndarray:
    """Return the unit quaternions ``(..., 4)`` ``(x, y, z, w)``, w >= 0, of ``(..., 3, 3)``."""
    r = np.asarray(rotation, dtype=np.float64)
    # Shepperd's method: pick the largest of w, x, y, z to divide by (numerically stable).
    trace = r[..., 0, 0] + r[..., 1, 1] + r[..., 2, 2]
    candidates = np.stack(
        [
            1 + trace,
            1 + r[..., 0, 0] - r[..., 1, 1] - r[..., 2, 2],
            1 - r[..., 0, 0] + r[..., 1, 1] - r[..., 2, 2],
            1 - r[..., 0, 0] - r[..., 1, 1] + r[..., 2, 2],
        ],
        axis=-1,
    )
    best = np.argmax(candidates, axis=-1)
    s = np.sqrt(np.maximum(np.take_along_axis(candidates, best[..., None], -1)[..., 0], 1e-12))
    half = 0.5 / s
    w_first = np.stack(
        [
            0.5 * s,
            (r[..., 2, 1] - r[..., 1, 2]) * half,
            (r[..., 0, 2] - r[..., 2, 0]) * half,
            (r[..., 1, 0] - r[..., 0, 1]) * half,
        ],
        -1,
    )
    x_first = np.stack(
        [
            (r[..., 2, 1] - r[..., 1, 2]) * half,
            0.5 * s,
            (r[..., 0, 1] + r[..., 1, 0]) * half,
            (r[..., 0, 2] + r[..., 2, 0]) * half,
        ],
        -1,
    )
    y_first = np.stack(
        [
            (r[..., 0, 2] - r[..., 2, 0]) * half,
            (r[..., 0, 1] + r[..., 1, 0]) * half,
            0.5 * s,
            (r[..., 1, 2] + r[..., 2, 1]) * half,
        ],
        -1,
    )
    z_first = np.stack(
        [
            (r[..., 1, 0] - r[..., 0, 1]) * half,
            (r[..., 0, 2] + r[..., 2, 0]) * half,
            (r[..., 1, 2] + r[..., 2, 1]) * half,
            0.5 * s,
        ],
        -1,
    )
    wxyz = np.choose(best[..., None], [w_first, x_first, y_first, z_first])
    wxyz *= np.where(wxyz[..., :1] < 0, -1.0, 1.0)
    xyzw = np.concatenate([wxyz[..., 1:], wxyz[..., :1]], axis=-1)
    return xyzw / np.linalg.norm(xyzw, axis=-1, keepdims=True)


class FramePool:
    """Frame names for tracked people from a pool: ``<prefix><slot>``, slots 1, 2, ...

    A track keeps its slot while it is kept by the tracker; a new track takes the lowest free
    slot, so names are reused and at most (people tracked at once) names ever exist.
    """

    def __init__(self, prefix: str):
        self.prefix = prefix
        self._slots: dict[str, int] = {}

    def names(self, track_ids: list[str], active_ids: set[str]) -> list[str]:
        """Frame name of each of ``track_ids``; slots of tracks not in ``active_ids`` are freed."""
        self._slots = {t: s for t, s in self._slots.items() if t in active_ids}
        used = set(self._slots.values())
        for track_id in track_ids:
            if track_id not in self._slots:
                slot = next(k for k in range(1, len(used) + 2) if k not in used)
                self._slots[track_id] = slot
                used.add(slot)
        return [f"{self.prefix}{self._slots[t]}" for t in track_ids]

    @property
    def size(self) -> int:
        """How many slots are held."""
        return len(self._slots)
