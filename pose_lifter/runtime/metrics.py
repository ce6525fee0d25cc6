"""3D pose accuracy metrics (pure numpy). Inputs ``(N, J, 3)``; errors in the units of ``target``.

- N-MPJPE (Rhodin et al. 2018): root-align both poses, scale the prediction by the least-squares
  factor ``s = <Y, X> / <X, X>``, mean joint distance.
- PA-MPJPE: per-pose similarity Procrustes (rotation without reflection, scale, translation).
- Depth flips: poses whose depth-mirrored prediction fits the target better than the prediction.
- Bone-length CV: how much one person's bones change length over time (needs no ground truth).
"""

from __future__ import annotations

import numpy as np

from pose_lifter.runtime.errors import PoseInputError
from pose_lifter.runtime.joints import BONES, ROOT


def _check_pair(predicted: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    predicted = np.asarray(predicted, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if predicted.shape != target.shape or predicted.ndim != 3 or predicted.shape[-1] != 3:
        raise PoseInputError(
            f"predicted and target must both be (N, J, 3); "
            f"got {predicted.shape} and {target.shape}"
        )
    if not (np.all(np.isfinite(predicted)) and np.all(np.isfinite(target))):
        raise PoseInputError("predicted or target contains NaN or inf")
    return predicted, target


def root_align(poses: np.ndarray, root: int = ROOT) -> np.ndarray:
    """Subtract the root joint: ``(N, J, 3)`` -> ``(N, J, 3)``."""
    return poses - poses[:, root : root + 1]


def scale_align(predicted: np.ndarray, target: np.ndarray, root: int = ROOT) -> np.ndarray:
    """Root-align both poses and scale the prediction by least squares.

    Root-align both and scale ``predicted`` by the least-squares factor; returns it aligned to the
    root-aligned target.
    """
    predicted, target = _check_pair(predicted, target)
    p, t = root_align(predicted, root), root_align(target, root)
    scale = np.sum(p * t, axis=(1, 2)) / np.maximum(np.sum(p * p, axis=(1, 2)), 1e-12)
    return p * scale[:, None, None]


def per_joint_error_n(predicted: np.ndarray, target: np.ndarray, root: int = ROOT) -> np.ndarray:
    """Per-joint errors ``(N, J)`` after root and least-squares scale alignment."""
    aligned = scale_align(predicted, target, root)
    return np.linalg.norm(aligned - root_align(np.asarray(target, np.float64), root), axis=2)


def n_mpjpe(predicted: np.ndarray, target: np.ndarray, root: int = ROOT) -> float:
    """Mean per-joint error after root and least-squares scale alignment."""
    return float(per_joint_error_n(predicted, target, root).mean())


def procrustes_align(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Similarity-align each predicted pose to its target (no reflection). ``(N, J, 3)``."""
    predicted, target = _check_pair(predicted, target)
    mu_p = predicted.mean(axis=1, keepdims=True)
    mu_t = target.mean(axis=1, keepdims=True)
    p, t = predicted - mu_p, target - mu_t
    covariance = np.einsum("nji,njk->nik", p, t)  # (N, 3, 3) = P^T T
    u, sigma, vt = np.linalg.svd(covariance)
    # Forbid reflections: flip the last singular direction where det(U V^T) < 0.
    sign = np.sign(np.linalg.det(np.einsum("nij,njk->nik", u, vt)))
    sign[sign == 0] = 1.0
    d = np.ones_like(sigma)
    d[:, -1] = sign
    rotation = np.einsum("nij,nj,njk->nik", u, d, vt)  # maps p (row vectors) onto t
    norm_p = np.maximum(np.sum(p * p, axis=(1, 2)), 1e-12)
    scale = np.sum(sigma * d, axis=1) / norm_p
    return scale[:, None, None] * np.einsum("nji,nik->njk", p, rotation) + mu_t


def pa_mpjpe(predicted: np.ndarray, target: np.ndarray) -> float:
    """Mean per-joint error after per-pose similarity Procrustes alignment (no reflection)."""
    aligned = procrustes_align(predicted, target)
    return float(np.linalg.norm(aligned - np.asarray(target, np.float64), axis=2).mean())


def depth_flipped(predicted: np.ndarray, target: np.ndarray, root: int = ROOT) -> np.ndarray:
    """Tell which predictions are depth-mirrored.

    ``(N,)`` bool: the depth-mirrored prediction (z -> -z about the root) has a lower N-MPJPE than
    the prediction itself.
    """
    mirrored = np.array(predicted, dtype=np.float64, copy=True)
    mirrored[..., 2] = 2 * mirrored[:, root : root + 1, 2] - mirrored[..., 2]
    error = per_joint_error_n(predicted, target, root).mean(axis=1)
    error_mirrored = per_joint_error_n(mirrored, target, root).mean(axis=1)
    return error_mirrored < error


_PARENTS = np.array([parent for parent, _ in BONES])
_CHILDREN = np.array([child for _, child in BONES])


def bone_length_cv(track: np.ndarray) -> float:
    """Mean over the bones of one track's bone-length coefficient of variation.

    ``track`` ``(T, 15, 3)``: one person's joints over time (any length unit). Each bone's
    length over the ``T`` frames, standard deviation over mean; 0 for a rigid skeleton.
    """
    track = np.asarray(track, dtype=np.float64)
    lengths = np.linalg.norm(track[:, _CHILDREN] - track[:, _PARENTS], axis=2)
    return float(np.mean(lengths.std(axis=0) / np.maximum(lengths.mean(axis=0), 1e-12)))
