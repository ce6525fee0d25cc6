"""Inference: 2D keypoints (pixels) -> root-relative 3D poses, batched, on CPU or GPU."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pose_lifter.joints import MIDHIP
from pose_lifter.normalization import normalize_2d
from pose_lifter.weights import load_lifter

LOGGER = logging.getLogger(__name__)


def resolve_device(device: str, fallback_to_cpu: bool = True) -> torch.device:
    """Map ``auto|cpu|cuda[:N]`` to a torch device.

    ``auto`` picks CUDA when torch sees a GPU. ``cuda`` without a GPU falls back to CPU with a
    warning, or raises :class:`RuntimeError` when ``fallback_to_cpu`` is False.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        if not fallback_to_cpu:
            raise RuntimeError(f"device {device!r} requested but torch sees no CUDA GPU")
        LOGGER.warning("device %r requested but torch sees no CUDA GPU; using the CPU", device)
        return torch.device("cpu")
    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"device must be auto, cpu or cuda[:N], got {device!r}")
    return torch.device(device)


@dataclass(frozen=True)
class LiftResult:
    """Output of :meth:`PoseLifter.lift` for N poses.

    Attributes:
        joints_3d: ``(N, 15, 3)`` float32, root-relative, in normalised units (the 2D scale):
            x right, y down, z forward (camera optical frame axes). Multiply by ``scale`` for
            pixel-like units; see :mod:`pose_lifter.placement` for metres.
        mask: ``(N, 15)`` bool, joints present in the input (others are predicted).
        valid: ``(N,)`` bool, poses with enough joints to lift (invalid ones are all zeros).
        root_px: ``(N, 2)`` root position in pixels. scale_px: ``(N,)`` 2D scale in pixels.
    """

    joints_3d: np.ndarray
    mask: np.ndarray
    valid: np.ndarray
    root_px: np.ndarray
    scale_px: np.ndarray


class PoseLifter:
    """Loads a lifter once and lifts batches of 2D poses.

    Args:
        model_path: safetensors weights; None = the shipped default model.
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
        min_joint_confidence: joints at or below this confidence count as missing.
        min_joints: poses with fewer present joints are not lifted (``valid`` False).
    """

    def __init__(self, model_path: str | Path | None = None, device: str = "auto",
                 min_joint_confidence: float = 0.0, min_joints: int = 8,
                 fallback_to_cpu: bool = True):
        self.device = resolve_device(device, fallback_to_cpu)
        self.model, self.metadata = load_lifter(model_path, self.device)
        self.min_joint_confidence = float(min_joint_confidence)
        self.min_joints = int(min_joints)

    @torch.inference_mode()
    def lift(self, keypoints_2d: np.ndarray, confidence: np.ndarray | None = None) -> LiftResult:
        """Lift ``(N, 15, 2|3)`` pixel keypoints (optional ``(N, 15)`` confidence) in one pass.

        Raises:
            PoseInputError: wrong shapes or NaN/inf at a present joint.
        """
        normalized = normalize_2d(keypoints_2d, confidence, self.min_joint_confidence)
        valid = normalized.mask.sum(axis=1) >= self.min_joints
        joints_3d = np.zeros(normalized.keypoints.shape[:2] + (3,), np.float32)
        if valid.any():
            keypoints = torch.from_numpy(normalized.keypoints[valid]).to(self.device)
            mask = torch.from_numpy(normalized.mask[valid]).to(self.device)
            joints_3d[valid] = self.model(keypoints, mask).float().cpu().numpy()
        # Re-root at MidHip (the normalisation falls back to the hips or the centroid when
        # MidHip is missing; the model then predicts MidHip's position).
        root_offset = joints_3d[:, MIDHIP].copy()
        joints_3d -= root_offset[:, None, :]
        root_px = normalized.root + root_offset[:, :2] * normalized.scale[:, None]
        return LiftResult(joints_3d, normalized.mask, valid, root_px, normalized.scale)
