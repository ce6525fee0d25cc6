"""Inference: 2D keypoints (pixels) -> root-relative 3D poses, batched, on CPU or GPU."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pose_lifter.joints import MIDHIP, NUM_JOINTS
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


#: Largest |difference| (normalised units) accepted between the ONNX Runtime and torch outputs.
ONNX_TOLERANCE = 1e-4


class PoseLifter:
    """Loads a lifter once and lifts batches of 2D poses.

    Args:
        model_path: safetensors weights; None = the shipped default model.
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
        min_joint_confidence: joints at or below this confidence count as missing.
        min_joints: poses with fewer present joints are not lifted (``valid`` False).
        backend: ``auto`` (ONNX Runtime on the CPU when importable and numerically equal to
            torch, else torch), ``torch`` or ``onnxruntime`` (CPU only). ONNX Runtime is 2-3x
            faster than eager torch for the small batches of a robot's camera (bench/bench_lifter.py).
        num_threads: ONNX Runtime intra-op threads (0 = torch's current thread count).
    """

    def __init__(self, model_path: str | Path | None = None, device: str = "auto",
                 min_joint_confidence: float = 0.0, min_joints: int = 8,
                 fallback_to_cpu: bool = True, backend: str = "auto", num_threads: int = 0):
        if backend not in ("auto", "torch", "onnxruntime"):
            raise ValueError(f"backend must be auto, torch or onnxruntime, got {backend!r}")
        self.device = resolve_device(device, fallback_to_cpu)
        self.model, self.metadata = load_lifter(model_path, self.device)
        self.min_joint_confidence = float(min_joint_confidence)
        self.min_joints = int(min_joints)
        self._onnx = None
        if self.device.type == "cpu" and backend != "torch":
            self._onnx = self._load_onnx(num_threads or torch.get_num_threads(), required=backend == "onnxruntime")
        elif backend == "onnxruntime":
            raise ValueError("backend onnxruntime runs on the CPU only; use device cpu or backend torch")
        self.backend = "onnxruntime" if self._onnx is not None else "torch"

    def _load_onnx(self, num_threads: int, required: bool):
        """An ONNX Runtime session of the model, checked against torch; None when unavailable
        (and not ``required``)."""
        try:
            from pose_lifter.onnx_backend import OnnxLifterSession, export_onnx_bytes
            session = OnnxLifterSession(export_onnx_bytes(self.model), num_threads)
            keypoints = np.random.default_rng(0).normal(size=(16, NUM_JOINTS, 2)).astype(np.float32)
            mask = np.ones((16, NUM_JOINTS), bool)
            mask[::3, ::4] = False
            with torch.inference_mode():
                expected = self.model(torch.from_numpy(keypoints), torch.from_numpy(mask)).numpy()
            difference = float(np.abs(session(keypoints, mask) - expected).max())
            if difference > ONNX_TOLERANCE:
                raise RuntimeError(f"ONNX Runtime output differs from torch by {difference:.2e}")
            return session
        except Exception as error:  # missing onnx/onnxruntime, export failure, mismatch
            if required:
                raise
            LOGGER.warning("ONNX Runtime backend unavailable (%s); using torch", error)
            return None

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
            keypoints, mask = normalized.keypoints[valid], normalized.mask[valid]
            if self._onnx is not None:
                joints_3d[valid] = self._onnx(keypoints, mask)
            else:
                joints_3d[valid] = self.model(torch.from_numpy(keypoints).to(self.device),
                                              torch.from_numpy(mask).to(self.device)).float().cpu().numpy()
        # Re-root at MidHip (the normalisation falls back to the hips or the centroid when
        # MidHip is missing; the model then predicts MidHip's position).
        root_offset = joints_3d[:, MIDHIP].copy()
        joints_3d -= root_offset[:, None, :]
        root_px = normalized.root + root_offset[:, :2] * normalized.scale[:, None]
        return LiftResult(joints_3d, normalized.mask, valid, root_px, normalized.scale)
