"""The ``pose_lifter`` ROS 2 node: a thin wrapper that feeds :class:`LiftingPipeline`.

Topics (relative names, remappable):
- in  ``keypoints_2d`` (pose_lifter_msgs/Skeleton2DArray), ``camera_info``
  (sensor_msgs/CameraInfo, optional): sensor-data QoS by default (``qos.*`` parameters).
- out ``skeletons_3d`` (pose_lifter_msgs/Skeleton3DArray), ``markers``
  (visualization_msgs/MarkerArray): reliable, depth ``qos.output_depth``;
  ``/tf`` (tf2_msgs/TFMessage, when ``publish_tf`` and tf2_msgs is installed);
  ``/diagnostics`` (diagnostic_msgs/DiagnosticArray, every ``diagnostics_period_s``).

Parameters: :mod:`pose_lifter.parameters` (all settable from ``config/pose_lifter.yaml``).
Run: ``ros2 run pose_lifter pose_lifter_node --ros-args --params-file config/pose_lifter.yaml``
(or ``python -m pose_lifter.node ...``).
"""
from __future__ import annotations

import sys

import rclpy
import torch
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.duration import Duration
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from pose_lifter.diagnostics import diagnostic_array
from pose_lifter.errors import PoseLifterError
from pose_lifter.lifter import PoseLifter
from pose_lifter.parameters import (FIELDS, Settings, declare_parameters, settings_from_values,
                                    validate_value)
from pose_lifter.pipeline import LiftingPipeline
from pose_lifter.weights import default_model_path
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
        return "target_frame needs tf2_ros, which is not installed (publishing in the camera frame)"
    if name == "publish_tf" and value and TFMessage is None:
        return "publish_tf needs tf2_msgs, which is not installed"
    return None


class PoseLifterNode(Node):
    """Subscribes to 2D skeletons (+ camera_info), publishes 3D skeletons, markers, TF, and
    diagnostics. ``kwargs`` go to :class:`rclpy.node.Node` (context, cli_args, ...).

    Raises:
        ValueError, ParameterException: invalid parameters. PoseLifterError: unreadable model.
        RuntimeError: ``device: cuda`` without a GPU and ``allow_cpu_fallback: false``.
    """

    def __init__(self, **kwargs):
        super().__init__("pose_lifter", **kwargs)
        settings = self._disable_unavailable(declare_parameters(self))
        if settings.cpu_threads:
            torch.set_num_threads(settings.cpu_threads)
        lifter = PoseLifter(settings.model_path or None, settings.device,
                            fallback_to_cpu=settings.allow_cpu_fallback)
        self._model = settings.model_path or str(default_model_path())
        if settings.device.startswith("cuda") and lifter.device.type != "cuda":
            self.get_logger().warning(f"device {settings.device!r} requested but torch sees no "
                                      "CUDA GPU; lifting on the CPU (allow_cpu_fallback: true)")
        self.get_logger().info(f"lifting on {lifter.device} (device: {settings.device}); "
                               f"model {self._model}")
        lookup = None
        if tf2_ros is not None:
            self._tf_buffer = tf2_ros.Buffer()
            self._tf_listener = tf2_ros.TransformListener(self._tf_buffer, self)
            lookup = self._lookup_transform
        self.pipeline = LiftingPipeline(settings, lifter, lookup)

        reliability = (ReliabilityPolicy.BEST_EFFORT if settings.qos_input_reliability == "best_effort"
                       else ReliabilityPolicy.RELIABLE)
        input_qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=settings.qos_input_depth,
                               reliability=reliability, durability=DurabilityPolicy.VOLATILE)
        output_qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=settings.qos_output_depth,
                                reliability=ReliabilityPolicy.RELIABLE)
        self._skeletons_pub = self.create_publisher(Skeleton3DArray, "skeletons_3d", output_qos)
        self._markers_pub = self.create_publisher(MarkerArray, "markers", output_qos)
        self._tf_pub = self.create_publisher(TFMessage, "/tf", 100) if TFMessage else None
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.create_subscription(Skeleton2DArray, "keypoints_2d", self._on_keypoints, input_qos)
        self.create_subscription(CameraInfo, "camera_info", self._on_camera_info, input_qos)
        self.create_timer(settings.diagnostics_period_s, self._publish_diagnostics)
        self.add_on_set_parameters_callback(self._check_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)

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

    def _lookup_transform(self, target: str, source: str, stamp):
        try:
            return self._tf_buffer.lookup_transform(
                target, source, Time.from_msg(stamp),
                Duration(seconds=self.pipeline.settings.tf_timeout_s))
        except tf2_ros.TransformException as error:
            self.get_logger().warning(f"no transform {source} -> {target}: {error}",
                                      throttle_duration_sec=5.0)
            return None

    def _on_keypoints(self, msg: Skeleton2DArray) -> None:
        try:
            out = self.pipeline.process(msg)
        except Exception as error:  # noqa: BLE001 - no input may kill the node; counted
            self.pipeline.counters.drop("internal_error")
            self.get_logger().error(f"dropped a keypoints_2d message: {error!r}",
                                    throttle_duration_sec=5.0)
            return
        if out is None:
            return
        self._skeletons_pub.publish(out.skeletons)
        self._markers_pub.publish(out.markers)
        if out.transforms and self._tf_pub is not None:
            self._tf_pub.publish(TFMessage(transforms=out.transforms))

    def _on_camera_info(self, msg: CameraInfo) -> None:
        if not self.pipeline.set_camera_info(msg):
            self.get_logger().warning("ignored a camera_info with non-finite K or focal <= 0",
                                      throttle_duration_sec=5.0)

    def _publish_diagnostics(self) -> None:
        k = self.pipeline.camera_matrix
        details = {
            "device": str(self.pipeline.lifter.device),
            "model": self._model,
            "camera_info": (f"fx={k[0, 0]:.1f} fy={k[1, 1]:.1f} (metric placement)" if k is not None
                            else "none yet (SCALE_NORMALIZED poses)"),
            "target_frame": self.pipeline.settings.target_frame or "(input frame)",
        }
        header = Header(stamp=self.get_clock().now().to_msg())
        self._diagnostics_pub.publish(diagnostic_array(
            header, f"{self.get_fully_qualified_name()}: lifting", self.pipeline.counters, details))

    def _check_parameters(self, params: list[Parameter]) -> SetParametersResult:
        for param in params:
            if param.name in FIELDS:
                reason = (validate_value(param.name, param.value)
                          or unavailable_feature(param.name, param.value))
                if reason:
                    return SetParametersResult(successful=False, reason=reason)
        return SetParametersResult(successful=True)

    def _apply_parameters(self, params: list[Parameter]) -> None:
        changes = {param.name: param.value for param in params if param.name in FIELDS}
        if changes:
            self.pipeline.configure(settings_from_values(changes, self.pipeline.settings))


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
