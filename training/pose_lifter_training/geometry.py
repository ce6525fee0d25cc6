"""Differentiable pose geometry in torch, for training.

Frames: normalised poses as in :mod:`pose_lifter.runtime.normalization` (root-centred, unit mean
joint distance from the root, x right, y down), 3D poses add z forward. Batched ``(B, 15, C)``.
"""

from __future__ import annotations

import torch

from pose_lifter.runtime.joints import (
    BONES,
    FLIP_PERMUTATION,
    LHIP,
    LSHOULDER,
    MIDHIP,
    NECK,
    NOSE,
    RHIP,
    RSHOULDER,
)


def normalize_2d(
    keypoints_2d: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Torch twin of :func:`~pose_lifter.runtime.normalization.normalize_2d` for ``(B, 15, 2)``.

    The root is MidHip (callers must keep MidHip present when they pass a mask with a missing
    root, or accept its 0). Returns ``(normalised, root (B, 2), scale (B,))``.
    """
    if mask is None:
        mask = torch.ones(
            keypoints_2d.shape[:2], dtype=keypoints_2d.dtype, device=keypoints_2d.device
        )
    mask = mask.to(keypoints_2d.dtype)
    root = root_2d(keypoints_2d, mask)
    centred = (keypoints_2d - root.unsqueeze(1)) * mask.unsqueeze(-1)
    not_root = mask.clone()
    not_root[:, MIDHIP] = 0
    distance = centred.norm(dim=-1)
    scale = (distance * not_root).sum(1) / not_root.sum(1).clamp(min=1)
    scale = scale.clamp(min=1e-6)
    return centred / scale[:, None, None], root, scale


def root_2d(keypoints_2d: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Return the 2D root ``(B, 2)`` with the runtime's fallbacks.

    Root ``(B, 2)``: MidHip, else the hip midpoint, else the centroid of present joints (the same
    fallbacks as :func:`pose_lifter.runtime.normalization.root_2d`).
    """
    has_root = mask[:, MIDHIP] > 0
    has_hips = (mask[:, RHIP] > 0) & (mask[:, LHIP] > 0)
    hips = 0.5 * (keypoints_2d[:, RHIP] + keypoints_2d[:, LHIP])
    centroid = (keypoints_2d * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
    fallback = torch.where(has_hips.unsqueeze(-1), hips, centroid)
    return torch.where(has_root.unsqueeze(-1), keypoints_2d[:, MIDHIP], fallback)


def rotation_matrices(
    azimuth: torch.Tensor, elevation: torch.Tensor | None = None
) -> torch.Tensor:
    """Return ``(B, 3, 3)`` rotations by azimuth, then elevation.

    ``(B, 3, 3)``: rotate by ``azimuth`` about the vertical (y) axis, then by ``elevation`` about
    the camera's x axis (tilting the view up or down). Angles in radians, ``(B,)``.
    """
    c, s = torch.cos(azimuth), torch.sin(azimuth)
    zero, one = torch.zeros_like(azimuth), torch.ones_like(azimuth)
    r_y = torch.stack(
        [
            torch.stack([c, zero, s], -1),
            torch.stack([zero, one, zero], -1),
            torch.stack([-s, zero, c], -1),
        ],
        -2,
    )
    if elevation is None:
        return r_y
    ce, se = torch.cos(elevation), torch.sin(elevation)
    r_x = torch.stack(
        [
            torch.stack([one, zero, zero], -1),
            torch.stack([zero, ce, -se], -1),
            torch.stack([zero, se, ce], -1),
        ],
        -2,
    )
    return r_x @ r_y


def rotate(joints_3d: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """Apply ``(B, 3, 3)`` rotations to ``(B, J, 3)`` poses about the origin (the root)."""
    return joints_3d @ rotation.transpose(1, 2)


def heuristic_sin_beta(joints_3d: torch.Tensor) -> torch.Tensor:
    """Return sin(beta) between the face and shoulder vectors, ``(B,)``.

    sin(beta) between the face vector f = Nose - Neck and the shoulder vector s = RShoulder -
    LShoulder in the zx-plane: ``(f_z s_x - f_x s_z) / (|f| |s|)``, ``(B,)``.

    In the camera optical frame (x right, y down, z forward) real poses give sin(beta) > 0
    (checked on CMU ground truth, see the tests). The seed report writes s = LShoulder -
    RShoulder for a frame whose z points towards the viewer; flipping z flips the sign, so this
    is the same constraint (Kudo et al.'s code uses RShoulder - LShoulder in this frame).
    """
    f = joints_3d[:, NOSE] - joints_3d[:, NECK]
    s = joints_3d[:, RSHOULDER] - joints_3d[:, LSHOULDER]
    numerator = f[:, 2] * s[:, 0] - f[:, 0] * s[:, 2]
    return numerator / (f.norm(dim=-1) * s.norm(dim=-1)).clamp(min=1e-6)


def bone_lengths(joints_3d: torch.Tensor) -> torch.Tensor:
    """``(B, 14)`` lengths of :data:`pose_lifter.runtime.joints.BONES`."""
    parents = torch.tensor([p for p, _ in BONES], device=joints_3d.device)
    children = torch.tensor([c for _, c in BONES], device=joints_3d.device)
    return (joints_3d[:, children] - joints_3d[:, parents]).norm(dim=-1)


def flip_left_right(poses: torch.Tensor) -> torch.Tensor:
    """Mirror ``(..., 15, C)`` poses: x -> -x and left/right joints swapped."""
    flipped = poses[..., list(FLIP_PERMUTATION), :].clone()
    flipped[..., 0] = -flipped[..., 0]
    return flipped
