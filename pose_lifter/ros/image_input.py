"""Image messages -> 2D skeletons: the detection stage of the per-message step.

:class:`ImageDetectionStage` turns one ``sensor_msgs/Image`` or ``sensor_msgs/CompressedImage``
into the ``Skeleton2DArray`` the node publishes on ``keypoints_2d`` plus the arrays the step
lifts in-process (:class:`~pose_lifter.ros.processing.MessageProcessor`, which the node and the
offline replay both run).

Conversion: raw images are checked here (encoding rgb8, bgr8, mono8, rgba8 or bgra8) and
converted by :func:`pose_lifter.runtime.detection.image_to_rgb` (size, step and data length
checked; numpy only, the same on every machine: cv_bridge is not needed); compressed JPEG/PNG with
:func:`pose_lifter.runtime.detection.decode_compressed` (which also refuses truncated JPEGs).

Thread safety: :meth:`ImageDetectionStage.configure` may be called from another thread while an
image is processed; the new settings apply from the next image. Processing itself is meant for
one thread at a time.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import numpy as np
from sensor_msgs.msg import CompressedImage, Image

from pose_lifter.ros.conversions import copy_header, skeleton2d_array
from pose_lifter.runtime.detection import (
    SUPPORTED_ENCODINGS,
    Detections,
    Detector,
    ImageDecodeError,
    create_detector,
    decode_compressed,
    image_to_rgb,
)
from pose_lifter.runtime.detection.images import CHANNELS
from pose_lifter.ros.parameters import Settings
from pose_lifter_msgs.msg import Skeleton2DArray

#: ``Skeleton2DArray.source_format`` of each backend (the detector's native layout).
SOURCE_FORMATS: dict[str, str] = {"movenet": "coco17", "blazepose": "blazepose33"}
#: Detector settings a loaded detector takes as attributes (no reload); others rebuild it.
_LIVE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "movenet": ("input_size", "person_threshold", "joint_threshold", "max_persons"),
    "blazepose": ("joint_threshold",),
}
_CUDA = "CUDAExecutionProvider"


class UnsupportedEncodingError(ImageDecodeError):
    """An image encoding or compressed format the detector cannot take.

    An image encoding or compressed format the detector cannot take (16UC1, mono16, bayer, yuv,
    compressedDepth, ...); counted as ``bad_image_encoding``.
    """


def image_drop_reason(error: ImageDecodeError) -> str:
    """Return the drop reason of an error raised by the stage.

    The :mod:`pose_lifter.ros.diagnostics` drop reason of an error raised by the stage:
    ``bad_image_encoding`` or ``corrupt_image``.
    """
    return "bad_image_encoding" if isinstance(error, UnsupportedEncodingError) else "corrupt_image"


@dataclass(frozen=True)
class ImageStageOutput:
    """What one image produces.

    Attributes:
        keypoints_msg: the detected people (15-joint order, pixels of the image), header copied
            from the image, ``image_width``/``image_height`` of the image, ``source_format``
            ``coco17`` (movenet) or ``blazepose33``; person ids empty (the lifter tracks ids).
        detections: the same people as float32 arrays.
        rgb: the decoded ``(H, W, 3)`` uint8 RGB image (for the debug image).
    """

    keypoints_msg: Skeleton2DArray
    detections: Detections
    rgb: np.ndarray


@functools.lru_cache(maxsize=None)
def onnx_providers(execution_provider: str) -> tuple[tuple[str, ...], bool]:
    """Return the onnxruntime providers for an execution provider value.

    ``(providers, cuda_available)`` for a ``detector.execution_provider`` value (auto, cpu, cuda):
    CUDA first when requested or auto and this onnxruntime build offers it.
    """
    import onnxruntime as ort

    cuda = _CUDA in ort.get_available_providers()
    if execution_provider == "cpu" or not cuda:
        return ("CPUExecutionProvider",), cuda
    return (_CUDA, "CPUExecutionProvider"), cuda


def detector_kwargs(settings: Settings) -> dict:
    """Return constructor arguments of the ``settings.detector_backend`` detector."""
    if settings.detector_backend == "blazepose":
        return dict(
            static_image_mode=False,
            min_detection_confidence=settings.detector_person_threshold,
            joint_threshold=settings.detector_joint_threshold,
        )
    return dict(
        input_size=settings.detector_input_size,
        person_threshold=settings.detector_person_threshold,
        joint_threshold=settings.detector_joint_threshold,
        max_persons=min(settings.detector_max_persons, 6 * settings.detector_tiles),
        num_threads=settings.detector_num_threads,
        tiles=settings.detector_tiles,
        providers=onnx_providers(settings.detector_execution_provider)[0],
    )


class ImageDetectionStage:
    """Image message -> :class:`ImageStageOutput` with the configured detector.

    Args:
        settings: uses ``detector.*`` (see :class:`pose_lifter.ros.parameters.Settings`).
        detector: an already built detector to use instead (its thresholds are still set
            from ``settings`` where it has them as attributes).

    The detector is created on the first image (or by :meth:`load`); creation errors raise
    :class:`~pose_lifter.runtime.detection.DetectorError`.
    """

    def __init__(self, settings: Settings, detector: Detector | None = None):
        self._lock = threading.Lock()
        self._settings = settings
        self._detector = detector
        self._built_key = None if detector is None else self._key(settings)

    # -- configuration ----------------------------------------------------------------------
    @property
    def source_format(self) -> str:
        return SOURCE_FORMATS[self._settings.detector_backend]

    def configure(self, settings: Settings) -> None:
        """Use ``settings`` from the next image on.

        Use ``settings`` from the next image on (thresholds, input size, max persons apply to the
        loaded detector; other detector changes rebuild it).
        """
        with self._lock:
            self._settings = settings

    def load(self) -> Detector:
        """Return the detector for the current settings, created (or rebuilt) if needed.

        Raises:
            DetectorError: the backend cannot be loaded (missing mediapipe, bad model, ...).
        """
        with self._lock:
            settings = self._settings
        key = self._key(settings)
        if self._detector is None or key != self._built_key:
            self.close()
            self._detector = create_detector(
                settings.detector_backend, **detector_kwargs(settings)
            )
            self._built_key = key
        kwargs = detector_kwargs(settings)
        for name in _LIVE_ATTRIBUTES[settings.detector_backend]:
            if hasattr(self._detector, name):
                setattr(self._detector, name, kwargs[name])
        return self._detector

    def describe(self) -> str:
        """One line for diagnostics: backend, input size, providers, threads (or not loaded)."""
        s = self._settings
        if self._detector is None:
            return f"{s.detector_backend} (not loaded yet)"
        if s.detector_backend == "blazepose":
            return "blazepose (mediapipe, CPU)"
        providers = getattr(self._detector, "providers", ["?"])
        return (
            f"movenet, input {s.detector_input_size}, {s.detector_tiles} tile(s), "
            f"{providers[0]}, {s.detector_num_threads} thread(s)"
        )

    def close(self) -> None:
        """Release the detector (it is re-created on the next image)."""
        detector, self._detector, self._built_key = self._detector, None, None
        if detector is not None and hasattr(detector, "close"):
            detector.close()

    @staticmethod
    def _key(settings: Settings) -> tuple:
        kwargs = detector_kwargs(settings)
        live = _LIVE_ATTRIBUTES[settings.detector_backend]
        return (
            settings.detector_backend,
            tuple(sorted((k, str(v)) for k, v in kwargs.items() if k not in live)),
        )

    # -- processing -------------------------------------------------------------------------
    def process_image(self, msg: Image) -> ImageStageOutput:
        """Detect the people of a raw image.

        Raises:
            ImageDecodeError: unsupported encoding (:class:`UnsupportedEncodingError`), or a
                size, step or data length that does not fit.
            DetectorError: the detector cannot be loaded or run.
        """
        rgb = self.image_to_rgb(msg)
        return self.process_rgb(rgb, msg.header)

    def process_compressed(self, msg: CompressedImage) -> ImageStageOutput:
        """Detect the people of a JPEG/PNG ``CompressedImage``.

        Raises:
            ImageDecodeError: not JPEG/PNG (:class:`UnsupportedEncodingError`), empty, truncated
                or corrupt data.
            DetectorError: the detector cannot be loaded or run.
        """
        fmt = msg.format.lower()
        if "compresseddepth" in fmt or not any(name in fmt for name in ("jpeg", "jpg", "png")):
            raise UnsupportedEncodingError(
                f"unsupported compressed image format {msg.format!r}; supported: jpeg, png "
                "(image_transport's compressed, not compressedDepth)"
            )
        return self.process_rgb(decode_compressed(msg.format, msg.data), msg.header)

    def process_rgb(self, rgb: np.ndarray, header) -> ImageStageOutput:
        """Detect the people of an RGB ``(H, W, 3)`` uint8 image taken at ``header``."""
        detector = self.load()
        detections = detector.detect(rgb)
        height, width = rgb.shape[:2]
        msg = skeleton2d_array(
            copy_header(header),
            detections.keypoints_2d,
            detections.confidence,
            detections.scores,
            [""] * len(detections),
            (width, height),
            self.source_format,
        )
        return ImageStageOutput(msg, detections, rgb)

    def image_to_rgb(self, msg: Image) -> np.ndarray:
        """RGB ``(H, W, 3)`` uint8 of a raw image (checked).

        Raises:
            ImageDecodeError: see :meth:`process_image`.
        """
        if msg.encoding not in CHANNELS:
            raise UnsupportedEncodingError(
                f"unsupported image encoding {msg.encoding!r} ({msg.width}x{msg.height}); "
                f"supported: {', '.join(SUPPORTED_ENCODINGS)}. Depth images (16UC1, 32FC1) "
                "cannot feed the person detector: subscribe the color image instead"
            )
        return image_to_rgb(
            msg.height, msg.width, msg.encoding, msg.step, msg.data, msg.is_bigendian
        )
