"""2D person-keypoint detection from images (pure Python + numpy, no ROS imports).

Images are RGB ``(H, W, 3)`` uint8 arrays; keypoints are in that image's pixels (x right,
y down) in the 15-joint order of :mod:`pose_lifter.runtime.joints`.

- :mod:`.images`: ``sensor_msgs/Image`` / ``CompressedImage`` fields <-> RGB.
- :mod:`~pose_lifter.runtime.detection.base`: :class:`Detections`, the :class:`Detector` protocol,
  :func:`create_detector`.
- :mod:`.movenet`: the built-in MoveNet MultiPose detector (onnxruntime).
- :mod:`~pose_lifter.runtime.detection.blazepose`: optional single-person MediaPipe BlazePose.
- :mod:`~pose_lifter.runtime.detection.drawing`: skeleton overlay for a debug image.
"""

from pose_lifter.runtime.detection.base import BACKENDS, Detections, Detector, create_detector
from pose_lifter.runtime.detection.drawing import draw_skeletons
from pose_lifter.runtime.detection.errors import DetectorError, ImageDecodeError
from pose_lifter.runtime.detection.images import (
    SUPPORTED_ENCODINGS,
    decode_compressed,
    image_to_rgb,
    rgb_to_image_fields,
)

__all__ = [
    "BACKENDS",
    "Detections",
    "Detector",
    "DetectorError",
    "ImageDecodeError",
    "SUPPORTED_ENCODINGS",
    "create_detector",
    "decode_compressed",
    "draw_skeletons",
    "image_to_rgb",
    "rgb_to_image_fields",
]
