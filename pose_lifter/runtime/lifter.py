"""Inference: 2D keypoints (pixels) -> root-relative 3D poses, batched, on CPU or GPU.

On the CPU the lifter runs on ONNX Runtime from the shipped ``.onnx`` file and never imports
torch; torch is imported only for ``device: cuda`` (or a GPU found by ``auto``) and for the
``torch`` backend.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_lifter.runtime.errors import ModelLoadError
from pose_lifter.runtime.joints import MIDHIP, NUM_JOINTS
from pose_lifter.runtime.model_files import default_model_path, onnx_path_for, weights_path_for
from pose_lifter.runtime.normalization import Normalized2D, normalize_2d, normalize_valid_2d
from pose_lifter.runtime.onnx_backend import load_onnx_lifter
from pose_lifter.runtime.track_history import PastFrames

LOGGER = logging.getLogger(__name__)
#: Device nodes of the NVIDIA driver: ``auto`` imports torch to look for a GPU only when one
#: of them exists (keeps a CPU-only robot free of torch's start-up time and memory).
_NVIDIA_DEVICE_FILES = (Path("/dev/nvidiactl"), Path("/proc/driver/nvidia/gpus"))


def torch_installed() -> bool:
    """Whether torch can be imported (without importing it)."""
    return importlib.util.find_spec("torch") is not None


def cuda_available() -> bool:
    """Whether torch is installed and sees a CUDA GPU (imports torch when installed)."""
    if not torch_installed():
        return False
    import torch

    return torch.cuda.is_available()


def resolve_device(device: str, fallback_to_cpu: bool = True) -> str:
    """Map ``auto|cpu|cuda[:N]`` to the device lifting runs on (``cpu`` or ``cuda[:N]``).

    ``auto`` picks CUDA when an NVIDIA driver is present and torch sees a GPU. ``cuda`` without
    a GPU (or without torch) falls back to the CPU with a warning, or raises
    :class:`RuntimeError` when ``fallback_to_cpu`` is False.
    """
    if device == "auto":
        if any(path.exists() for path in _NVIDIA_DEVICE_FILES) and cuda_available():
            return "cuda"
        return "cpu"
    if device.startswith("cuda"):
        if cuda_available():
            return device
        reason = (
            "torch sees no CUDA GPU"
            if torch_installed()
            else "torch is not installed (pip install torch)"
        )
        if not fallback_to_cpu:
            raise RuntimeError(f"device {device!r} requested but {reason}")
        LOGGER.warning("device %r requested but %s; using the CPU", device, reason)
        return "cpu"
    if device != "cpu":
        raise ValueError(f"device must be auto, cpu or cuda[:N], got {device!r}")
    return "cpu"


@dataclass(frozen=True)
class LiftResult:
    """Output of :meth:`PoseLifter.lift` for N poses.

    Attributes:
        joints_3d: ``(N, 15, 3)`` float32, root-relative, in normalised units (the 2D scale):
            x right, y down, z forward (camera optical frame axes). Multiply by ``scale`` for
            pixel-like units; see :mod:`pose_lifter.runtime.placement` for metres.
        mask: ``(N, 15)`` bool, joints present in the input (others are predicted).
        valid: ``(N,)`` bool, poses with enough joints to lift (invalid ones are all zeros).
        root_px: ``(N, 2)`` root position in pixels. scale_px: ``(N,)`` 2D scale in pixels.
        sigma: ``(N, 15)`` float32, each joint's predicted error (standard deviation per axis
            of an isotropic Gaussian, normalised units), or None for a lifter without an
            uncertainty head.
    """

    joints_3d: np.ndarray
    mask: np.ndarray
    valid: np.ndarray
    root_px: np.ndarray
    scale_px: np.ndarray
    sigma: np.ndarray | None = None


class PoseLifter:
    """Loads a lifter once and lifts batches of 2D poses.

    Args:
        model_path: ``.safetensors`` or ``.onnx`` path of a lifter; None = the shipped default.
            The CPU runtime reads the ``.onnx`` file of the same stem (see
            :mod:`pose_lifter.runtime.model_files`); torch reads the ``.safetensors`` file.
        device: ``auto``, ``cpu`` or ``cuda[:N]`` (see :func:`resolve_device`).
        min_joint_confidence: joints at or below this confidence count as missing.
        min_joints: poses with fewer present joints are not lifted (``valid`` False).
        backend: ``auto`` (ONNX Runtime on the CPU, torch on a GPU), ``onnxruntime`` (CPU
            only) or ``torch``. ONNX Runtime is 2-4x faster than eager torch for the small
            batches of a robot's camera (bench/bench_lifter.py).
        num_threads: intra-op threads of the CPU backend (ONNX Runtime, or torch's
            process-wide setting with the torch backend); 0 = the library's default.

    Raises:
        ModelLoadError: a missing or unreadable model file (no ONNX file for the CPU runtime,
            or no torch for a model that has none).
        RuntimeError: ``cuda`` unavailable and ``fallback_to_cpu`` False.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        device: str = "auto",
        min_joint_confidence: float = 0.0,
        min_joints: int = 8,
        fallback_to_cpu: bool = True,
        backend: str = "auto",
        num_threads: int = 0,
    ):
        if backend not in ("auto", "torch", "onnxruntime"):
            raise ValueError(f"backend must be auto, torch or onnxruntime, got {backend!r}")
        self.device = resolve_device(device, fallback_to_cpu)
        if backend == "onnxruntime" and self.device != "cpu":
            raise ValueError(
                "backend onnxruntime runs on the CPU only; " "use device cpu or backend torch"
            )
        self.model_path = Path(model_path) if model_path else default_model_path()
        self.min_joint_confidence = float(min_joint_confidence)
        self.min_joints = int(min_joints)
        use_onnx = self.device == "cpu" and backend != "torch"
        if (
            use_onnx
            and backend == "auto"
            and not onnx_path_for(self.model_path).is_file()
            and torch_installed()
        ):
            LOGGER.warning(
                "no ONNX file %s; lifting with torch (slower: export one with "
                "`pose-lifter-train export`)",
                onnx_path_for(self.model_path),
            )
            use_onnx = False
        self._onnx = self._torch_model = None
        if use_onnx:
            self._onnx = load_onnx_lifter(self.model_path, num_threads or 1)
            self.metadata = self._onnx.metadata
        else:
            self._torch_model, self.metadata = self._load_torch(num_threads)
        self.backend = "onnxruntime" if self._onnx is not None else "torch"
        config = json.loads(self.metadata.get("config", "{}"))
        #: Whether the lifter predicts each joint's error (``LiftResult.sigma``).
        self.predicts_uncertainty = bool(config.get("predict_uncertainty", False))
        #: Frames the lifter reads per person: 1, or the current one and ``window - 1`` of its
        #: track's past (a temporal lifter; see :meth:`lift`'s ``past``).
        self.window = int(config.get("window", 1))

    def _load_torch(self, num_threads: int):
        if not torch_installed():
            raise ModelLoadError(
                f"the torch backend needs torch (pip install torch) to read "
                f"{weights_path_for(self.model_path)}"
            )
        import torch

        from pose_lifter.runtime.weights import load_lifter

        if num_threads:
            torch.set_num_threads(num_threads)
        self._torch = torch
        return load_lifter(weights_path_for(self.model_path), self.device)

    def _forward(
        self, keypoints: np.ndarray, mask: np.ndarray, age_s: np.ndarray | None
    ) -> np.ndarray:
        if self._onnx is not None:
            return self._onnx(keypoints, mask, age_s)
        torch = self._torch
        inputs = [keypoints, mask] if age_s is None else [keypoints, mask, age_s]
        with torch.inference_mode():
            return (
                self._torch_model(
                    *(torch.from_numpy(np.asarray(a, np.float32)).to(self.device) for a in inputs)
                )
                .float()
                .cpu()
                .numpy()
            )

    def _windows(
        self, normalized: Normalized2D, past: PastFrames | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Build the temporal lifter's input: current + past frames, current normalisation."""
        count, window = len(normalized.scale), self.window
        keypoints = np.zeros((count, window, NUM_JOINTS, 2), np.float32)
        mask = np.zeros((count, window, NUM_JOINTS), np.float32)
        age = np.zeros((count, window), np.float32)
        keypoints[:, 0], mask[:, 0] = normalized.keypoints, normalized.mask
        if past is not None and window > 1:
            frames = min(window - 1, past.present.shape[1])
            present = past.present[:, :frames] & normalized.mask.any(axis=1)[:, None, None]
            relative = (
                past.keypoints_px[:, :frames] - normalized.root[:, None, None]
            ) / normalized.scale[:, None, None, None]
            keypoints[:, 1 : frames + 1] = np.where(present[..., None], relative, 0.0)
            mask[:, 1 : frames + 1] = present
            age[:, 1 : frames + 1] = np.where(present.any(axis=2), past.age_s[:, :frames], 0.0)
        return keypoints, mask, age

    def lift(
        self,
        keypoints_2d: np.ndarray,
        confidence: np.ndarray | None = None,
        validated: bool = False,
        past: PastFrames | None = None,
    ) -> LiftResult:
        """Lift ``(N, 15, 2|3)`` pixel keypoints (optional ``(N, 15)`` confidence) in one pass.

        ``validated``: the caller already checked the input as
        :func:`~pose_lifter.runtime.normalization.validate_keypoints_2d` does (``(N, 15, 2)``
        and ``(N, 15)`` float64, finite where present), so it is not checked again.
        ``past``: each person's earlier frames (its track's, :mod:`~pose_lifter.runtime.
        track_history`), read by a temporal lifter (:attr:`window` > 1) and ignored by a
        single-frame one; None = no history (a new track).

        Raises:
            PoseInputError: wrong shapes or NaN/inf at a present joint.
        """
        return self.lift_normalized(self.normalize(keypoints_2d, confidence, validated), past)

    def normalize(
        self,
        keypoints_2d: np.ndarray,
        confidence: np.ndarray | None = None,
        validated: bool = False,
    ) -> Normalized2D:
        """Normalise pixel keypoints as :meth:`lift` does.

        Joints at or below :attr:`min_joint_confidence` are missing; see
        :func:`~pose_lifter.runtime.normalization.normalize_2d`.
        """
        if validated:
            return normalize_valid_2d(keypoints_2d, confidence, self.min_joint_confidence)
        return normalize_2d(keypoints_2d, confidence, self.min_joint_confidence)

    def lift_normalized(
        self, normalized: Normalized2D, past: PastFrames | None = None
    ) -> LiftResult:
        """Lift poses :meth:`normalize` returned (``past``: as :meth:`lift`'s)."""
        valid = normalized.mask.sum(axis=1) >= self.min_joints
        joints_3d = np.zeros(normalized.keypoints.shape[:2] + (3,), np.float32)
        sigma = None
        if self.predicts_uncertainty:
            sigma = np.ones(normalized.keypoints.shape[:2], np.float32)
        if valid.any():
            if self.window > 1:
                keypoints, mask, age = self._windows(normalized, past)
                output = self._forward(keypoints[valid], mask[valid], age[valid])
            else:
                keypoints, mask = normalized.keypoints[valid], normalized.mask[valid]
                output = self._forward(keypoints, mask, None)
            joints_3d[valid] = output[..., :3]
            if sigma is not None:
                sigma[valid] = np.exp(output[..., 3])
        # Re-root at MidHip (the normalisation falls back to the hips or the centroid when
        # MidHip is missing; the model then predicts MidHip's position).
        root_offset = joints_3d[:, MIDHIP].copy()
        joints_3d -= root_offset[:, None, :]
        root_px = normalized.root + root_offset[:, :2] * normalized.scale[:, None]
        return LiftResult(joints_3d, normalized.mask, valid, root_px, normalized.scale, sigma)
