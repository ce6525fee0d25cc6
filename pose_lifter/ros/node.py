"""The ``pose_lifter`` ROS 2 node: a thin driver of the per-message step (MessageProcessor).

Topics (relative names, remappable):
- ``input_mode: keypoints`` (default): in ``keypoints_2d`` (pose_lifter_msgs/Skeleton2DArray).
- ``input_mode: image``: in ``image`` (sensor_msgs/Image: rgb8, bgr8, mono8, rgba8, bgra8) or,
  with ``image.transport: compressed``, ``<image>/compressed`` (sensor_msgs/CompressedImage,
  JPEG/PNG; ``<image>`` = the resolved, remapped image topic, as image_transport names it);
  out ``keypoints_2d`` (the detected 2D skeletons, for OpenPose-style consumers) and, with
  ``image.publish_debug``, ``debug_image`` (sensor_msgs/Image rgb8, skeletons drawn). The
  detector runs on a worker thread that takes only the newest image: an image that arrives
  while another one waits is replaced (counted as ``frame_dropped_busy``); the detections are
  lifted in-process (no DDS hop). Undecodable images are logged and counted, never fatal.
- in ``camera_info`` (sensor_msgs/CameraInfo, optional). keypoints_2d and camera_info use
  sensor-data QoS, the image topic reliable QoS by default (``qos.*`` parameters).
- out ``skeletons_3d`` (pose_lifter_msgs/Skeleton3DArray), ``markers``
  (visualization_msgs/MarkerArray): reliable, depth ``qos.output_depth``;
  ``/tf`` (tf2_msgs/TFMessage, when ``publish_tf`` and tf2_msgs is installed);
  ``/diagnostics`` (diagnostic_msgs/DiagnosticArray, every ``diagnostics_period_s``).
Everything published carries the input's header stamp (and its frame_id, or target_frame).

Parameters: :mod:`pose_lifter.ros.parameters` (all settable from ``config/pose_lifter.yaml``).
Run: ``ros2 run pose_lifter pose_lifter_node --ros-args --params-file config/pose_lifter.yaml``
(or ``python -m pose_lifter.ros.node ...``).
"""

from __future__ import annotations

import sys

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.duration import Duration
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from pose_lifter.ros.conversions import image_msg_from_rgb
from pose_lifter.ros.image_input import onnx_providers
from pose_lifter.ros.latest_worker import LatestOnlyWorker
from pose_lifter.runtime.detection import draw_skeletons
from pose_lifter.runtime.errors import PoseLifterError
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.ros.parameters import (
    FIELDS,
    Settings,
    declare_parameters,
    settings_from_values,
    validate_value,
)
from pose_lifter.ros.processing import MessageProcessor, StepResult
from pose_lifter_msgs.msg import Skeleton2DArray, Skeleton3DArray

try:  # not published as PyPI wheels; present on a full ROS 2 install
    import tf2_ros
except ImportError:
    tf2_ros = None
try:
    from tf2_msgs.msg import TFMessage
except ImportError:
    TFMessage = None


def unavailable_feature(name: str, value) -> str | None:
    """Why parameter ``name`` cannot take ``value`` in this installation, or None."""
    if name == "target_frame" and value and tf2_ros is None:
        return (
            "target_frame needs tf2_ros, which is not installed (publishing in the camera frame)"
        )
    if name == "publish_tf" and value and TFMessage is None:
        return "publish_tf needs tf2_msgs, which is not installed"
    return None


def keep_last_qos(depth: int, reliability: str) -> QoSProfile:
    """Return a volatile keep-last QoS of ``depth`` (``reliability``: reliable|best_effort)."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=(
            ReliabilityPolicy.BEST_EFFORT
            if reliability == "best_effort"
            else ReliabilityPolicy.RELIABLE
        ),
        durability=DurabilityPolicy.VOLATILE,
    )


class PoseLifterNode(Node):
    """Lift 2D skeletons or images to 3D skeletons, markers, TF and diagnostics.

    A thin driver of :class:`~pose_lifter.ros.processing.MessageProcessor` (the per-message
    step offline replay runs too): subscriptions hand it messages, publishers send what it
    returns, an image worker thread keeps the detector off the executor. ``kwargs`` go to
    :class:`rclpy.node.Node` (context, cli_args, ...).

    Raises:
        ValueError, ParameterException: invalid parameters. PoseLifterError: unreadable model,
            or (DetectorError) a detector backend that cannot be loaded.
        RuntimeError: ``device: cuda`` without a GPU, or ``detector.execution_provider: cuda``
            without onnxruntime's CUDA provider, and ``allow_cpu_fallback: false``.
    """

    def __init__(self, **kwargs):
        super().__init__("pose_lifter", **kwargs)
        settings = self._disable_unavailable(declare_parameters(self))
        self._worker: LatestOnlyWorker | None = None
        self._configure(settings)
        self._activate(settings)
        # One callback that validates, then applies (Humble has no post-set callback).
        self.add_on_set_parameters_callback(self._on_set_parameters)

    # -- set-up --------------------------------------------------------------------------------
    def _configure(self, settings: Settings) -> None:
        """Load the lifter (and the detector in image mode) and build the per-message step."""
        lifter = PoseLifter(
            settings.model_path or None,
            settings.device,
            fallback_to_cpu=settings.allow_cpu_fallback,
            backend=settings.lifter_backend,
            num_threads=settings.cpu_threads,
        )
        self._model = str(lifter.model_path)
        if settings.device.startswith("cuda") and lifter.device == "cpu":
            self.get_logger().warning(
                f"device {settings.device!r} requested but no CUDA GPU is "
                "usable; lifting on the CPU (allow_cpu_fallback: true)"
            )
        self.get_logger().info(
            f"lifting on {lifter.device} with {lifter.backend} "
            f"(device: {settings.device}); model {self._model}"
        )
        lookup = None
        if tf2_ros is not None:
            self._tf_buffer = tf2_ros.Buffer()
            self._tf_listener = tf2_ros.TransformListener(self._tf_buffer, self)
            lookup = self._lookup_transform
        if settings.input_mode == "image":
            self._check_detector_provider(settings)
        self.processor = MessageProcessor(settings, lifter, lookup)

    def _activate(self, settings: Settings) -> None:
        """Create the publishers, the subscriptions, the image worker and the timer."""
        input_qos = keep_last_qos(settings.qos_input_depth, settings.qos_input_reliability)
        output_qos = keep_last_qos(settings.qos_output_depth, "reliable")
        self._skeletons_pub = self.create_publisher(Skeleton3DArray, "skeletons_3d", output_qos)
        self._markers_pub = self.create_publisher(MarkerArray, "markers", output_qos)
        self._tf_pub = self.create_publisher(TFMessage, "/tf", 100) if TFMessage else None
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        if settings.input_mode == "image":
            self._activate_image_input(settings, output_qos)
        else:
            self.create_subscription(
                Skeleton2DArray, "keypoints_2d", self._on_keypoints, input_qos
            )
        self.create_subscription(CameraInfo, "camera_info", self._on_camera_info, input_qos)
        self.create_timer(settings.diagnostics_period_s, self._publish_diagnostics)

    def _activate_image_input(self, settings: Settings, output_qos: QoSProfile) -> None:
        self._keypoints_pub = self.create_publisher(Skeleton2DArray, "keypoints_2d", output_qos)
        self._debug_pub = self.create_publisher(Image, "debug_image", output_qos)
        image_qos = keep_last_qos(settings.qos_input_depth, settings.qos_image_reliability)
        if settings.image_transport == "compressed":
            topic = self.resolve_topic_name("image") + "/compressed"
            self.create_subscription(CompressedImage, topic, self._on_image, image_qos)
        else:
            topic = self.resolve_topic_name("image")
            self.create_subscription(Image, "image", self._on_image, image_qos)
        self._worker = LatestOnlyWorker(
            self._process_image, "pose_lifter_detector", self._on_worker_error
        )
        self.get_logger().info(
            f"detecting people in {topic} ({settings.image_transport}) "
            f"with {self.processor.image_stage.describe()}"
        )

    def _disable_unavailable(self, settings: Settings) -> Settings:
        """Reset features this installation lacks (tf2) to off, with an error in the log."""
        for name in ("target_frame", "publish_tf"):
            reason = unavailable_feature(name, self.get_parameter(name).value)
            if reason:
                self.get_logger().error(f"{name} ignored: {reason}")
                default = FIELDS[name].default
                self.set_parameters([Parameter(name, value=default)])
                settings = settings_from_values({name: default}, settings)
        return settings

    def _check_detector_provider(self, settings: Settings) -> None:
        """Refuse (or warn about) a CUDA detector without onnxruntime's CUDA provider."""
        if (
            settings.detector_backend != "movenet"
            or settings.detector_execution_provider != "cuda"
        ):
            return
        if not onnx_providers("cuda")[1]:
            reason = (
                "detector.execution_provider is cuda but this onnxruntime has no "
                "CUDAExecutionProvider (install onnxruntime-gpu)"
            )
            if not settings.allow_cpu_fallback:
                raise RuntimeError(reason)
            self.get_logger().warning(f"{reason}; detecting on the CPU")

    def destroy_node(self):
        """Stop the image worker (after its current image), then destroy the node."""
        if self._worker is not None:
            self._worker.stop()
        if getattr(self, "processor", None) is not None:
            self.processor.close()
        return super().destroy_node()

    # -- inputs --------------------------------------------------------------------------------
    def _on_keypoints(self, msg: Skeleton2DArray) -> None:
        self._publish(self.processor.process_keypoints(msg))

    def _on_image(self, msg) -> None:
        """Executor thread: hand the image to the worker (never waits for the detector)."""
        if self._worker.submit(msg):
            self.processor.count_replaced_image()

    def _process_image(self, msg) -> None:
        """Worker thread: the step on one image, then publish its 2D and 3D outputs."""
        result = self.processor.process_image(msg)
        if result.keypoints_msg is not None:
            self._keypoints_pub.publish(result.keypoints_msg)
        self._publish(result)
        if (
            result.rgb is not None
            and self.processor.settings.image_publish_debug
            and self._debug_pub.get_subscription_count() > 0
        ):
            detections = result.detections
            drawn = draw_skeletons(result.rgb, detections.keypoints_2d, detections.confidence)
            self._debug_pub.publish(image_msg_from_rgb(result.keypoints_msg.header, drawn))

    def _on_worker_error(self, msg, error: Exception) -> None:
        if not self.context.ok():  # shutting down (Ctrl-C): publishing failed, quietly
            return
        self.processor.count_drop("internal_error")
        self.get_logger().error(f"dropped an image: {error!r}", throttle_duration_sec=5.0)

    def _on_camera_info(self, msg: CameraInfo) -> None:
        if not self.processor.set_camera_info(msg):
            self.get_logger().warning(
                "ignored a camera_info with non-finite K or focal <= 0", throttle_duration_sec=5.0
            )

    def _lookup_transform(self, target: str, source: str, stamp):
        try:
            return self._tf_buffer.lookup_transform(
                target,
                source,
                Time.from_msg(stamp),
                Duration(seconds=self.processor.settings.tf_timeout_s),
            )
        except tf2_ros.TransformException as error:
            self.get_logger().warning(
                f"no transform {source} -> {target}: {error}", throttle_duration_sec=5.0
            )
            return None

    # -- outputs -------------------------------------------------------------------------------
    def _publish(self, result: StepResult) -> None:
        out = result.output
        if out is not None:
            self._skeletons_pub.publish(out.skeletons)
            self._markers_pub.publish(out.markers)
            if out.transforms and self._tf_pub is not None:
                self._tf_pub.publish(TFMessage(transforms=out.transforms))
        elif result.detail:
            self._log_drop(result)

    def _log_drop(self, result: StepResult) -> None:
        """Log a dropped message with its error (one call site per reason: throttled apart)."""
        logger, reason = self.get_logger(), result.drop_reason
        if reason == "bad_image_encoding":
            logger.error(
                f"refused an image ({reason}): {result.detail}", throttle_duration_sec=5.0
            )
        elif reason == "corrupt_image":
            logger.error(
                f"dropped an image ({reason}): {result.detail}", throttle_duration_sec=5.0
            )
        elif reason == "detector_error":
            logger.error(
                f"detector failed on an image: {result.detail}", throttle_duration_sec=5.0
            )
        else:
            logger.error(
                f"dropped a message ({reason}): {result.detail}", throttle_duration_sec=5.0
            )

    def _publish_diagnostics(self) -> None:
        settings = self.processor.settings
        k = self.processor.pipeline.camera_matrix
        details = {
            "device": str(self.processor.pipeline.lifter.device),
            "model": self._model,
            "camera_info": (
                f"fx={k[0, 0]:.1f} fy={k[1, 1]:.1f} (metric placement)"
                if k is not None
                else "none yet (SCALE_NORMALIZED poses)"
            ),
            "target_frame": settings.target_frame or "(input frame)",
            "input_mode": settings.input_mode,
        }
        if self.processor.image_stage is not None:
            details["detector"] = self.processor.image_stage.describe()
        # A status report, not derived data: stamped with the node clock (sim time when used).
        header = Header(stamp=self.get_clock().now().to_msg())
        name = f"{self.get_fully_qualified_name()}: lifting"
        self._diagnostics_pub.publish(self.processor.diagnostics(header, name, details))

    def _on_set_parameters(self, params: list[Parameter]) -> SetParametersResult:
        """Refuse the whole change if any value is invalid; else apply it to the step."""
        for param in params:
            if param.name in FIELDS:
                reason = validate_value(param.name, param.value) or unavailable_feature(
                    param.name, param.value
                )
                if reason:
                    return SetParametersResult(successful=False, reason=reason)
        changes = {param.name: param.value for param in params if param.name in FIELDS}
        if changes:
            self.processor.configure(settings_from_values(changes, self.processor.settings))
        return SetParametersResult(successful=True)


def main(args: list[str] | None = None) -> int:
    """Entry point of ``pose_lifter_node``; returns the process exit status."""
    rclpy.init(args=args)
    try:
        node = PoseLifterNode()
    except (PoseLifterError, RuntimeError, ValueError, ParameterException) as error:
        rclpy.logging.get_logger("pose_lifter").fatal(f"cannot start: {error}")
        rclpy.try_shutdown()
        return 1
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
