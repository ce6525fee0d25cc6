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
- in ``depth`` (``depth.enabled``: sensor_msgs/Image 16UC1/32FC1 aligned to the colour camera,
  or with ``depth.transport: compressedDepth`` ``<depth>/compressedDepth``): paired with the
  inputs by stamp, people placed from it (SCALE_DEPTH).
- in ``camera_info`` (sensor_msgs/CameraInfo, optional). keypoints_2d and camera_info use
  sensor-data QoS, the image topic reliable QoS by default (``qos.*`` parameters).
- out ``skeletons_3d`` (pose_lifter_msgs/Skeleton3DArray), ``markers``
  (visualization_msgs/MarkerArray), ``detections_3d`` (vision_msgs/Detection3DArray, when
  vision_msgs is installed): reliable, depth ``qos.output_depth``;
  ``/tf`` (tf2_msgs/TFMessage, when ``publish_tf`` and tf2_msgs is installed);
  ``/diagnostics`` (diagnostic_msgs/DiagnosticArray, every ``diagnostics_period_s``).
Everything published carries the input's header stamp (and its frame_id, or target_frame).

Parameters: :mod:`pose_lifter.ros.parameters` (all settable from ``config/pose_lifter.yaml``).
Run: ``ros2 run pose_lifter pose_lifter_node --ros-args --params-file config/pose_lifter.yaml``
(or ``python -m pose_lifter.ros.node ...``).
"""

from __future__ import annotations

import functools
import sys

from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.exceptions import ParameterException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.lifecycle.publisher import LifecyclePublisher
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile
from rclpy.qos_overriding_options import QoSOverridingOptions
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from pose_lifter.ros import cdr
from pose_lifter.ros.conversions import Keypoints2D, image_msg_from_rgb, stamp_nanoseconds
from pose_lifter.ros.detections import VISION_MSGS
from pose_lifter.ros.diagnostics import CameraLink
from pose_lifter.ros.external_inputs import (
    INPUT_PACKAGES,
    hri_skeletons,
    import_input_messages,
    yolo_skeletons,
)
from pose_lifter.ros.hri_input import HriBodies
from pose_lifter.ros.following_qos import FollowingSubscription, keep_last_qos
from pose_lifter.ros.image_input import onnx_providers
from pose_lifter.ros.latest_worker import LatestOnlyWorker
from pose_lifter.runtime.detection import draw_skeletons
from pose_lifter.runtime.errors import PoseLifterError
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.ros.parameters import (
    FIELDS,
    Settings,
    applied_on_configure,
    declare_parameters,
    node_id_prefix,
    node_settings,
    settings_from_values,
    validate_value,
)
from pose_lifter.ros.process import run_node
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


#: Every subscription and publisher takes the standard ``qos_overrides.<topic>.<entity>.*``
#: parameters (history, depth, reliability), e.g. in the params file.
OVERRIDABLE = QoSOverridingOptions.with_default_policies()


class PoseLifterNode(LifecycleNode):
    """Lift 2D skeletons or images to 3D skeletons, markers, TF and diagnostics.

    A managed (lifecycle) node and a thin driver of
    :class:`~pose_lifter.ros.processing.MessageProcessor` (the per-message step offline replay
    runs too). configure: read the parameters, load the lifter (and the detector), create the
    publishers and the diagnostics timer; activate: subscribe (and start the image worker);
    deactivate: unsubscribe (no input is taken, no CPU spent); cleanup: free the models.
    ``autostart`` (default) runs configure + activate in the constructor. ``kwargs`` go to
    :class:`rclpy.node.Node` (context, cli_args, ...).

    Raises:
        ValueError, ParameterException: invalid parameters. PoseLifterError: unreadable model,
            or (DetectorError) a detector backend that cannot be loaded.
        RuntimeError: ``device: cuda`` without a GPU, or ``detector.execution_provider: cuda``
            without onnxruntime's CUDA provider, and ``allow_cpu_fallback: false``.
        (With ``autostart``; a lifecycle manager sees a failed configure transition instead.)
    """

    def __init__(self, **kwargs):
        # set before anything can raise: rclpy destroys a half-built node at context shutdown
        self.processor: MessageProcessor | None = None
        self._worker: LatestOnlyWorker | None = None
        self._active = False  # between activate and deactivate
        self._inputs: list = []
        self._outputs: list = []
        self._timers: list = []  # from configure to cleanup
        self._input_timers: list = []  # while active
        self._image_input: FollowingSubscription | None = None
        self._depth_input: FollowingSubscription | None = None
        self._tf_buffer = self._tf_listener = None  # from configure to cleanup, with target_frame
        self._hri: HriBodies | None = None  # input_mode hri, while active
        super().__init__("pose_lifter", **kwargs)
        settings = declare_parameters(self)
        self._configure_error: Exception | None = None
        # One callback that validates, then applies (Humble has no post-set callback).
        self.add_on_set_parameters_callback(self._on_set_parameters)
        if settings.autostart:
            if self.trigger_configure() != TransitionCallbackReturn.SUCCESS:
                raise self._configure_error or RuntimeError("configure failed")
            self.trigger_activate()

    # -- lifecycle transitions -----------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Read the parameters, load the models, create the publishers and the timer."""
        try:
            self._configure(self._disable_unavailable(node_settings(self)))
        except Exception as error:  # noqa: BLE001 - reported as a failed transition
            self._configure_error = error
            self.get_logger().error(f"configure failed: {error}")
            self._release()
            return TransitionCallbackReturn.FAILURE
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Subscribe to the inputs (and start the image worker), enable the publishers."""
        self._subscribe(self.processor.settings)
        self._active = True
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop taking input: unsubscribe and stop the image worker (models stay loaded).

        What was taken but not yet published (an image waiting for the detector, messages
        waiting for their transform, finished results) is dropped and counted
        ``deactivated``: a later activation never publishes old stamps.
        """
        self._active = False
        self._unsubscribe()
        for result in self.processor.discard_pending():
            self._publish(result)
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Free the models, publishers and timers (back to unconfigured)."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._unsubscribe()
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def destroy_node(self):
        """Stop the image worker (after its current image), free the models, destroy the node."""
        self._unsubscribe()
        self._release()
        return super().destroy_node()

    # -- set-up --------------------------------------------------------------------------------
    def _configure(self, settings: Settings) -> None:
        lifter = PoseLifter(
            settings.lifter_path,
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
        if tf2_ros is not None and settings.target_frame:
            self._tf_buffer = tf2_ros.Buffer()
            # Its /tf subscriptions are served by this node's executor (an rclpy node belongs
            # to one executor; spin_thread would hand the node to a second one). Lookups never
            # wait: a message whose transform is late waits in the step's queue instead.
            self._tf_listener = tf2_ros.TransformListener(self._tf_buffer, self)
            lookup = self._lookup_transform
        if settings.input_mode == "image":
            self._check_detector_provider(settings)
        self._input_messages = None
        if settings.input_mode in INPUT_PACKAGES:  # optional message packages: say what to build
            try:
                self._input_messages = import_input_messages(settings.input_mode)
            except ImportError as error:
                raise RuntimeError(str(error)) from error
        node_prefix = node_id_prefix(self.get_fully_qualified_name())
        self.processor = MessageProcessor(settings, lifter, lookup, id_prefix=node_prefix)
        # one profile object per entity: qos_overrides are applied to the profile in place
        output_qos = functools.partial(keep_last_qos, settings.qos_output_depth, "reliable")
        self._skeletons_pub = self._publisher(Skeleton3DArray, "skeletons_3d", output_qos())
        self._markers_pub = self._publisher(MarkerArray, "markers", output_qos())
        self._detections_pub = None
        if VISION_MSGS is not None:
            self._detections_pub = self._publisher(
                VISION_MSGS.Detection3DArray, "detections_3d", output_qos()
            )
        else:
            self.get_logger().info(
                "vision_msgs is not installed: detections_3d (vision_msgs/Detection3DArray) "
                "is off (install ros-<distro>-vision-msgs to publish it)",
                once=True,
            )
        tf_qos = keep_last_qos(100, "reliable")
        self._tf_pub = self._publisher(TFMessage, "/tf", tf_qos) if TFMessage else None
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._outputs.append(self._diagnostics_pub)
        if settings.input_mode == "image":
            self._keypoints_pub = self._publisher(Skeleton2DArray, "keypoints_2d", output_qos())
            self._debug_pub = self._publisher(Image, "debug_image", output_qos())
        self._timers.append(
            self.create_timer(settings.diagnostics_period_s, self._publish_diagnostics)
        )

    def _publisher(self, msg_type, topic: str, qos: QoSProfile):
        publisher = self.create_lifecycle_publisher(
            msg_type, topic, qos, qos_overriding_options=OVERRIDABLE
        )
        self._outputs.append(publisher)
        return publisher

    def _subscribe(self, settings: Settings) -> None:
        input_qos = functools.partial(  # one profile per entity (overrides apply in place)
            keep_last_qos, settings.qos_input_depth, settings.qos_input_reliability
        )
        if settings.target_frame:
            self._input_timers.append(self.create_timer(0.01, self._poll_tf))
        if settings.input_mode == "image":
            self._worker = LatestOnlyWorker(
                self._process_image, "pose_lifter_detector", self._on_worker_error
            )
            msg_type, topic = self._image_topic()
            self._image_input = FollowingSubscription(
                self,
                msg_type,
                topic,
                self._on_image,
                settings.qos_input_depth,
                settings.qos_image_reliability,
            )
            self._image_input.subscribe()
            self.get_logger().info(
                f"detecting people in {topic} ({settings.image_transport}, "
                f"{self._image_input.reliability}) with {self.processor.image_stage.describe()}"
            )
        elif settings.input_mode == "yolo":
            self._inputs.append(
                self.create_subscription(
                    self._input_messages.DetectionArray,
                    "detections",
                    self._on_yolo,
                    input_qos(),
                    qos_overriding_options=OVERRIDABLE,
                )
            )
        elif settings.input_mode == "hri":
            self._hri = HriBodies(
                self,
                self._input_messages,
                self._on_hri_frame,
                input_qos(),
                self._on_bad_body,
                settings.hri_slop_s,
                settings.hri_wait_s,
            )
        else:
            # the fast path reads the bytes into arrays (no Keypoint2D objects); the reference
            # path (serialize_outputs: false) is rclpy end to end, as is a layout the decoder
            # does not know
            raw = settings.serialize_outputs and self._input_decoder_ok()
            self._inputs.append(
                self.create_subscription(
                    Skeleton2DArray,
                    "keypoints_2d",
                    self._on_keypoints if raw else self._on_keypoints_message,
                    input_qos(),
                    qos_overriding_options=OVERRIDABLE,
                    raw=raw,
                )
            )
        self._inputs.append(
            self.create_subscription(
                CameraInfo,
                "camera_info",
                self._on_camera_info,
                input_qos(),
                qos_overriding_options=OVERRIDABLE,
            )
        )
        if settings.depth_enabled:
            topic = self.resolve_topic_name("depth")
            msg_type = Image
            if settings.depth_transport == "compressedDepth":
                msg_type, topic = CompressedImage, topic + "/compressedDepth"
            self._depth_input = FollowingSubscription(
                self,
                msg_type,
                topic,
                self._on_depth,
                settings.depth_buffer_size,
                settings.qos_depth_reliability,
            )
            self._depth_input.subscribe()
            self.get_logger().info(
                f"placing people from the depth images on {topic} "
                f"({self._depth_input.reliability})"
            )
        if any(f.follows_publishers for f in self._following()):
            self._input_timers.append(self.create_timer(1.0, self._adapt_qos))

    def _following(self) -> list[FollowingSubscription]:
        """Return the subscriptions whose reliability may follow their publishers."""
        return [f for f in (self._image_input, self._depth_input) if f is not None]

    def _adapt_qos(self) -> None:
        """Timer: re-subscribe where the publishers' reliability changed (qos auto)."""
        for following in self._following():
            if following.adapt():
                self.get_logger().info(
                    f"{following.topic}: publishers changed, now {following.reliability}"
                )

    def _image_topic(self) -> tuple[type, str]:
        """``(message type, resolved topic)`` of the image input (image_transport naming)."""
        topic = self.resolve_topic_name("image")
        if self.processor.settings.image_transport == "compressed":
            return CompressedImage, topic + "/compressed"
        return Image, topic

    def _unsubscribe(self) -> None:
        for subscription in self._inputs:
            self.destroy_subscription(subscription)
        for following in self._following():
            following.destroy()
        for timer in self._input_timers:
            self.destroy_timer(timer)
        self._inputs, self._input_timers = [], []
        self._image_input = self._depth_input = None
        if self._hri is not None:
            self._hri.destroy()
            self._hri = None
        if self._worker is not None:
            for _ in range(self._worker.stop()):  # the image waiting for the detector
                self.processor.count_image_drop("deactivated")
            self._worker = None

    def _release(self) -> None:
        for timer in self._timers:
            self.destroy_timer(timer)
        for publisher in self._outputs:
            if isinstance(publisher, LifecyclePublisher):
                self.destroy_lifecycle_publisher(publisher)
            else:
                self.destroy_publisher(publisher)
        self._timers, self._outputs = [], []
        if self._tf_listener is not None:  # its two subscriptions go with the configuration
            self._tf_listener.unregister()
            self._tf_listener = self._tf_buffer = None
        if self.processor is not None:
            self.processor.close()
            self.processor = None

    def _disable_unavailable(self, settings: Settings) -> Settings:
        """Reset features this installation lacks (tf2) to off, with an error in the log.

        ``serialize_outputs`` needs an rmw that writes plain little-endian CDR (Fast DDS and
        Cyclone DDS do) and the message layouts the encoders know: otherwise the node builds
        messages, and says so once.
        """
        for name in ("target_frame", "publish_tf"):
            reason = unavailable_feature(name, self.get_parameter(name).value)
            if reason:
                self.get_logger().error(f"{name} ignored: {reason}")
                settings = self._reset(name, FIELDS[name].default, settings)
        unsupported = cdr.outputs_unsupported() if settings.serialize_outputs else None
        if unsupported:
            self.get_logger().warning(
                f"serialize_outputs off: {unsupported}; outputs are built as messages (slower)"
            )
            settings = self._reset("serialize_outputs", False, settings)
        return settings

    def _reset(self, name: str, value, settings: Settings) -> Settings:
        self.set_parameters([Parameter(name, value=value)])
        return settings_from_values({name: value}, settings)

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

    # -- inputs --------------------------------------------------------------------------------
    def _subscribed(self) -> bool:
        """Whether any output has a subscriber (or ``always_process`` is set)."""
        if self.processor.settings.always_process:
            return True
        outputs = [self._skeletons_pub, self._markers_pub, self._detections_pub]
        if self.processor.settings.publish_tf:
            outputs.append(self._tf_pub)
        if self.processor.settings.input_mode == "image":
            outputs += [self._keypoints_pub, self._debug_pub]
        return any(p.get_subscription_count() > 0 for p in outputs if p is not None)

    def _received(self, header: Header) -> None:
        """Note the arrival of an input and its stamp age (node clock; any stamp, even < 0)."""
        age_ns = self.get_clock().now().nanoseconds - stamp_nanoseconds(header.stamp)
        self.processor.input_received(age_ns * 1e-9)

    def _on_keypoints(self, data: bytes) -> None:
        """keypoints_2d in, serialized: read straight into arrays and lifted."""
        try:
            msg = cdr.keypoints2d_from_cdr(data)
        except cdr.CdrFormatError as error:  # malformed bytes: counted, never fatal
            self.processor.count_message_drop("malformed_message")
            self.get_logger().error(
                f"dropped a keypoints_2d message: {error}", throttle_duration_sec=5.0
            )
            return
        self._received(msg.header)
        if not self._subscribed():
            self.processor.count_skipped()
            return
        self._lift_2d(msg)

    def _on_keypoints_message(self, msg: Skeleton2DArray) -> None:
        """keypoints_2d in as an rclpy message (the reference path)."""
        self._received(msg.header)
        if not self._subscribed():
            self.processor.count_skipped()
            return
        self._lift_2d(msg)

    def _input_decoder_ok(self) -> bool:
        unsupported = cdr.inputs_unsupported()
        if unsupported:
            self.get_logger().warning(
                f"keypoints_2d read as messages: {unsupported} (slower)", once=True
            )
        return unsupported is None

    def _lift_2d(self, msg: Skeleton2DArray | Keypoints2D) -> None:
        """Lift 2D people (any 2D input, converted) and publish the outputs."""
        result = self.processor.process_keypoints(msg)
        if result is not None:  # None: waiting for its target_frame transform
            self._publish(result)

    def _on_yolo(self, msg) -> None:
        """yolo_ros DetectionArray in: its persons lifted as a Skeleton2DArray."""
        self._received(msg.header)
        if not self._subscribed():
            self.processor.count_skipped()
            return
        try:
            people = yolo_skeletons(msg)
        except (PoseLifterError, ValueError, TypeError) as error:
            self.processor.count_message_drop("malformed_message")
            self.get_logger().error(
                f"dropped a yolo_msgs/DetectionArray: {error}", throttle_duration_sec=5.0
            )
            return
        self._lift_2d(people)

    def _on_hri_frame(self, header: Header, bodies: list) -> None:
        """Lift a ROS4HRI frame (its tracked bodies' latest skeletons) in one message."""
        self._received(header)
        if not self._subscribed():
            self.processor.count_skipped()
            return
        camera = self.processor.pipeline.camera
        if camera is None or 0 in camera.size:
            self.processor.count_message_drop("no_image_size")
            self.get_logger().warning(
                "ROS4HRI skeletons are normalised: waiting for a camera_info with the image "
                "size (dropped, counted no_image_size)",
                throttle_duration_sec=5.0,
            )
            return
        frame_id = bodies[0][1].header.frame_id if bodies else header.frame_id
        try:
            people = hri_skeletons(
                Header(stamp=header.stamp, frame_id=frame_id), bodies, camera.size
            )
        except (PoseLifterError, ValueError, TypeError) as error:
            self.processor.count_message_drop("malformed_message")
            self.get_logger().error(f"dropped a ROS4HRI frame: {error}", throttle_duration_sec=5.0)
            return
        self._lift_2d(people)

    def _on_bad_body(self, body_id: str, error: Exception) -> None:
        self.processor.count_message_drop("malformed_message")
        self.get_logger().error(
            f"ROS4HRI body id {body_id!r} names no topic: {error}", throttle_duration_sec=5.0
        )

    def _poll_tf(self) -> None:
        """Timer: publish the waiting messages whose transform arrived (or count them)."""
        for result in self.processor.poll_waiting():
            if result.drop_reason == "tf_unavailable":
                self.get_logger().warning(
                    f"no transform {result.keypoints_msg.header.frame_id} -> "
                    f"{self.processor.settings.target_frame} within tf_timeout_s: dropped",
                    throttle_duration_sec=5.0,
                )
            self._publish(result)

    def _on_image(self, msg) -> None:
        """Executor thread: hand the image to the worker (never waits for the detector)."""
        self._received(msg.header)
        if not self._subscribed():
            self.processor.count_skipped()
            return
        if self._worker.submit(msg):
            self.processor.count_image_drop("frame_dropped_busy")

    def _process_image(self, msg) -> None:
        """Worker thread: the step on one image, then publish its 2D and 3D outputs."""
        result = self.processor.process_image(msg)
        if result is not None:  # None: waiting for its target_frame transform
            self._publish(result)

    def _on_worker_error(self, msg, error: Exception) -> None:
        if not self.context.ok():  # shutting down (Ctrl-C): publishing failed, quietly
            return
        self.processor.count_drop("internal_error")
        self.get_logger().error(f"dropped an image: {error!r}", throttle_duration_sec=5.0)

    def _on_depth(self, msg) -> None:
        if not self.processor.set_depth(msg):
            self.get_logger().warning(
                "ignored a depth image that cannot be decoded (16UC1 mm, 32FC1 m or "
                "compressedDepth PNG expected)",
                throttle_duration_sec=5.0,
            )

    def _on_camera_info(self, msg: CameraInfo) -> None:
        if not self.processor.set_camera_info(msg):
            self.get_logger().warning(
                "ignored a camera_info with non-finite K or focal <= 0", throttle_duration_sec=5.0
            )

    def _lookup_transform(self, target: str, source: str, stamp):
        """Return the transform at ``stamp`` if the buffer has it now (never waits), else None."""
        try:
            return self._tf_buffer.lookup_transform(target, source, Time.from_msg(stamp))
        except (tf2_ros.TransformException, ValueError):
            return None

    # -- outputs -------------------------------------------------------------------------------
    def _publish(self, result: StepResult) -> None:
        """Publish one step's outputs once every earlier input's are out (arrival order)."""
        self.processor.publish_in_order(result, self._emit)

    def _emit(self, result: StepResult) -> None:
        """Publish one step's outputs (image input: its 2D people and debug image first)."""
        if not self._active and result.output is not None:  # finished after a deactivation
            self.processor.count_drop("deactivated")
            return
        if result.detections is not None:
            self._publish_image_outputs(result)
        out = result.output
        if out is not None:
            if self.processor.settings.serialize_outputs:
                self._skeletons_pub.publish(out.skeletons_cdr)
                self._markers_pub.publish(out.markers_cdr)
            else:
                self._skeletons_pub.publish(out.skeletons)
                self._markers_pub.publish(out.markers)
            if out.detections is not None and self._detections_pub is not None:
                self._detections_pub.publish(out.detections)
            if out.transforms and self._tf_pub is not None:
                self._tf_pub.publish(TFMessage(transforms=out.transforms))
        elif result.detail:
            self._log_drop(result)

    def _publish_image_outputs(self, result: StepResult) -> None:
        self._keypoints_pub.publish(result.keypoints_msg)
        if (
            result.rgb is not None
            and self.processor.settings.image_publish_debug
            and self._debug_pub.get_subscription_count() > 0
        ):
            detections = result.detections
            drawn = draw_skeletons(result.rgb, detections.keypoints_2d, detections.confidence)
            self._debug_pub.publish(image_msg_from_rgb(result.keypoints_msg.header, drawn))

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
        active = self._inputs != [] or self._following() != [] or self._hri is not None
        detector_alive = self._worker is None or self._worker.alive
        details["state"] = "active" if active else "inactive"
        links = {
            kind: CameraLink(f.topic, f.publishers, f.samples_lost, f.reliability)
            for kind, f in (("image", self._image_input), ("depth", self._depth_input))
            if f is not None
        }
        array = self.processor.diagnostics(
            header, name, details, active and self._subscribed(), detector_alive, links
        )
        self._diagnostics_pub.publish(array)

    def _on_set_parameters(self, params: list[Parameter]) -> SetParametersResult:
        """Refuse the whole change if any value is invalid; else apply it to the step.

        Parameters applied on configure (model, device, input mode, QoS, ...) change only while
        the node is unconfigured; the next configure uses them.
        """
        for param in params:
            if param.name in FIELDS:
                reason = validate_value(param.name, param.value) or unavailable_feature(
                    param.name, param.value
                )
                if (
                    not reason
                    and self.processor is not None
                    and applied_on_configure(param.name)
                    and param.value != self.get_parameter(param.name).value
                ):
                    reason = (
                        f"{param.name} is applied on configure: deactivate and clean up the "
                        "node (lifecycle), set it, then configure again"
                    )
                if reason:
                    return SetParametersResult(successful=False, reason=reason)
        changes = {param.name: param.value for param in params if param.name in FIELDS}
        if changes and self.processor is not None:
            self.processor.configure(settings_from_values(changes, self.processor.settings))
        return SetParametersResult(successful=True)


def main(args: list[str] | None = None) -> int:
    """Entry point of ``pose_lifter_node``; returns the process exit status."""
    errors = (PoseLifterError, RuntimeError, ValueError, ParameterException)
    return run_node(PoseLifterNode, "pose_lifter", errors, args=args)


if __name__ == "__main__":
    sys.exit(main())
