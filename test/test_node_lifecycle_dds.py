"""The node as a robot team operates it, over real DDS: lifecycle, idle without subscribers, QoS.

- Lifecycle through the standard ``<node>/change_state`` and ``<node>/get_state`` services:
  configure, activate (outputs flow), deactivate (they stop), activate (they resume), cleanup,
  a changed configure-time parameter, configure again.
- No subscriber to any output: inputs are skipped and counted (``skipped_unsubscribed``).
- QoS: the image input connects to a BEST_EFFORT (sensor-data) and to a RELIABLE camera, and a
  ``qos_overrides.<topic>.subscription.reliability`` parameter sets a subscription's QoS.
"""

from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray
from lifecycle_msgs.msg import State, Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rcl_interfaces.msg import Parameter as ParameterMsg
from rcl_interfaces.msg import ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage
from visualization_msgs.msg import MarkerArray

from pose_lifter.runtime.model_files import shipped_model_path
from pose_lifter.tools.bag_io import BagReader
from pose_lifter.tools.sample_bag import SAMPLE_BAG, openpose_sample_messages
from pose_lifter_msgs.msg import Skeleton2DArray, Skeleton3DArray
from ros_helpers import CONFIG, RELIABLE_QOS, call_service, ros_process


def node_args(namespace: str, *parameters: str) -> list[str]:
    """``--ros-args`` of the installed node: the shipped params file, a namespace, ``-p`` each."""
    args = ["--params-file", str(CONFIG), "-r", f"__ns:={namespace}"]
    for parameter in parameters:
        args += ["-p", parameter]
    return args


def state_of(ros, node, name: str) -> int:
    return call_service(
        ros, node, GetState, f"{name}/get_state", GetState.Request()
    ).current_state.id


def change(ros, node, name: str, transition: int) -> bool:
    request = ChangeState.Request(transition=Transition(id=transition))
    return call_service(ros, node, ChangeState, f"{name}/change_state", request, 30.0).success


def set_string(ros, node, name: str, parameter: str, value: str):
    request = SetParameters.Request(
        parameters=[
            ParameterMsg(
                name=parameter,
                value=ParameterValue(type=ParameterType.PARAMETER_STRING, string_value=value),
            )
        ]
    )
    return call_service(ros, node, SetParameters, f"{name}/set_parameters", request).results[0]


class Outputs:
    """Keypoints publisher and output collectors of a node in ``namespace``."""

    def __init__(self, ros, namespace: str):
        self.ros, self.node = ros, ros.node()
        self.keypoints = self.node.create_publisher(
            Skeleton2DArray, f"{namespace}/keypoints_2d", RELIABLE_QOS
        )
        self.skeletons: list = []
        self.status: dict[str, str] = {}
        self.subscription = self.node.create_subscription(
            Skeleton3DArray, f"{namespace}/skeletons_3d", self.skeletons.append, RELIABLE_QOS
        )
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_status, 10)
        self._status_name = f"{namespace}/pose_lifter: lifting"
        self.messages = openpose_sample_messages(frame_id="cam", first_sec=500)

    def _on_status(self, array) -> None:
        for status in array.status:
            if status.name == self._status_name:
                self.status = {kv.key: kv.value for kv in status.values}

    def lifted(self, count: int = 3, timeout: float = 5.0) -> int:
        """Publish ``count`` messages, return how many skeleton arrays came back."""
        self.skeletons.clear()
        for msg in self.messages[:count]:
            self.keypoints.publish(msg)
            self.ros.spin_until(lambda: False, 0.05)
        self.ros.spin_until(lambda: len(self.skeletons) >= count, timeout)
        return len(self.skeletons)


def test_lifecycle_transitions_stop_and_resume_outputs(ros):
    name = "/managed/pose_lifter"
    args = node_args(
        "/managed",
        "autostart:=false",
        "qos.input_reliability:=reliable",
        "diagnostics_period_s:=0.2",
    )
    with ros_process("pose_lifter_node", args) as proc:
        client = ros.node()
        assert state_of(ros, client, name) == State.PRIMARY_STATE_UNCONFIGURED, proc.log()
        io = Outputs(ros, "/managed")
        assert change(ros, client, name, Transition.TRANSITION_CONFIGURE), proc.log()
        assert state_of(ros, client, name) == State.PRIMARY_STATE_INACTIVE
        assert io.keypoints.get_subscription_count() == 0  # no input while inactive
        assert change(ros, client, name, Transition.TRANSITION_ACTIVATE)
        ros.wait_for_subscribers(io.keypoints, 1, 20.0)
        ros.wait_for_publishers(io.subscription, 1, 20.0)
        ros.spin_until(lambda: False, 0.5)
        assert io.lifted() == 3, proc.log()
        assert ros.spin_until(
            lambda: io.status.get("model", "").endswith("default.safetensors"), 5.0
        )

        assert change(ros, client, name, Transition.TRANSITION_DEACTIVATE)
        assert state_of(ros, client, name) == State.PRIMARY_STATE_INACTIVE
        assert ros.spin_until(lambda: io.keypoints.get_subscription_count() == 0, 10.0)
        assert io.lifted(timeout=1.0) == 0
        assert change(ros, client, name, Transition.TRANSITION_ACTIVATE)
        ros.wait_for_subscribers(io.keypoints, 1, 20.0)
        ros.spin_until(lambda: False, 0.5)
        assert io.lifted() == 3

        # a configure-time parameter: refused while configured, taken after cleanup
        refused = set_string(ros, client, name, "model_path", "seed")
        assert not refused.successful and "applied on configure" in refused.reason
        assert change(ros, client, name, Transition.TRANSITION_DEACTIVATE)
        assert change(ros, client, name, Transition.TRANSITION_CLEANUP)
        assert state_of(ros, client, name) == State.PRIMARY_STATE_UNCONFIGURED
        taken = set_string(ros, client, name, "model_path", str(shipped_model_path("seed")))
        assert taken.successful, taken.reason
        assert change(ros, client, name, Transition.TRANSITION_CONFIGURE), proc.log()
        assert change(ros, client, name, Transition.TRANSITION_ACTIVATE)
        ros.wait_for_subscribers(io.keypoints, 1, 20.0)
        ros.spin_until(lambda: False, 0.5)
        assert io.lifted() == 3
        assert ros.spin_until(lambda: io.status.get("model", "").endswith("seed.safetensors"), 5.0)
        assert proc.process.poll() is None, proc.log()


def test_inputs_without_output_subscribers_are_skipped_and_counted(ros):
    args = node_args("/idle", "diagnostics_period_s:=0.2", "qos.input_reliability:=reliable")
    with ros_process("pose_lifter_node", args) as proc:
        io = Outputs(ros, "/idle")
        io.node.destroy_subscription(io.subscription)  # nobody listens to any output
        ros.wait_for_subscribers(io.keypoints, 1, 20.0)
        assert ros.spin_until(lambda: bool(io.status), 10.0), proc.log()
        for msg in io.messages[:5]:
            io.keypoints.publish(msg)
            ros.spin_until(lambda: False, 0.05)
        assert ros.spin_until(lambda: io.status.get("skipped_unsubscribed") == "5", 5.0), io.status
        assert io.status["messages_in"] == "0"  # nothing was lifted


def _camera_images() -> list:
    with BagReader(SAMPLE_BAG) as reader:
        return [m.to_rclpy() for m in reader.messages() if m.msgtype.endswith("CompressedImage")]


def test_image_input_connects_to_best_effort_and_reliable_cameras(ros):
    images = _camera_images()[:2]
    args = node_args("/cam", "input_mode:=image", "image.transport:=compressed")
    with ros_process("pose_lifter_node", args) as proc:
        node = ros.node()
        markers: list = []
        sub = node.create_subscription(MarkerArray, "/cam/markers", markers.append, RELIABLE_QOS)
        ros.wait_for_publishers(sub, 1, 30.0)
        for reliability in (ReliabilityPolicy.BEST_EFFORT, ReliabilityPolicy.RELIABLE):
            qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=5, reliability=reliability)
            camera = node.create_publisher(CompressedImage, "/cam/image/compressed", qos)
            # the node follows the camera's QoS within ~1 s (qos.image_reliability: auto)
            assert ros.spin_until(lambda: camera.get_subscription_count() > 0, 10.0), proc.log()
            ros.spin_until(lambda: False, 1.5)
            infos = node.get_subscriptions_info_by_topic("/cam/image/compressed")
            assert [i.qos_profile.reliability for i in infos] == [reliability], proc.log()
            markers.clear()
            for image in images * 3:
                camera.publish(image)
                ros.spin_until(lambda: False, 0.2)
            assert ros.spin_until(lambda: len(markers) >= 2, 10.0), (reliability, proc.log())
            node.destroy_publisher(camera)
            ros.spin_until(lambda: False, 0.3)


def test_qos_overrides_set_a_subscription_reliability(ros):
    args = node_args("/ov", "qos_overrides./ov/keypoints_2d.subscription.reliability:=reliable")
    with ros_process("pose_lifter_node", args) as proc:
        node = ros.node()
        assert ros.spin_until(
            lambda: node.get_subscriptions_info_by_topic("/ov/keypoints_2d"), 20.0
        ), proc.log()
        infos = node.get_subscriptions_info_by_topic("/ov/keypoints_2d")
        # the params file says best_effort (qos.input_reliability); the override wins
        assert [i.qos_profile.reliability for i in infos] == [ReliabilityPolicy.RELIABLE]
        assert ros.spin_until(
            lambda: node.get_subscriptions_info_by_topic("/ov/camera_info"), 20.0
        )
        camera_infos = node.get_subscriptions_info_by_topic("/ov/camera_info")
        assert [i.qos_profile.reliability for i in camera_infos] == [ReliabilityPolicy.BEST_EFFORT]


def test_diagnostics_levels_over_dds(ros):
    args = node_args(
        "/diag",
        "diagnostics_period_s:=0.2",
        "diagnostics_error_after_s:=1.0",
        "qos.input_reliability:=reliable",
    )
    with ros_process("pose_lifter_node", args) as proc:
        io = Outputs(ros, "/diag")
        levels: list[tuple[int, str]] = []

        def on_status(array) -> None:
            for status in array.status:
                if status.name == "/diag/pose_lifter: lifting":
                    levels.append((int.from_bytes(status.level, "little"), status.message))

        io.node.create_subscription(DiagnosticArray, "/diagnostics", on_status, 10)
        ros.wait_for_subscribers(io.keypoints, 1, 20.0)
        ros.wait_for_publishers(io.subscription, 1, 20.0)
        # subscribed and silent: ERROR after diagnostics_error_after_s
        assert ros.spin_until(lambda: levels and levels[-1][0] == 2, 10.0), (levels, proc.log())
        assert levels[-1][1].startswith("no input for")
        # a steady stream of good messages: OK, with rates and latency reported
        for msg in io.messages * 2:
            io.keypoints.publish(msg)
            ros.spin_until(lambda: False, 0.05)
        assert levels[-1][0] == 0, levels[-3:]
        assert float(io.status["input_rate_hz"]) > 0 and io.status["latency_ms_p50"] != "nan"
        # every person unusable (too few joints): WARN
        broken = [type(m)(header=m.header, skeletons=m.skeletons) for m in io.messages[:4]]
        for msg in broken:
            for skeleton in msg.skeletons:
                for keypoint in skeleton.keypoints[3:]:
                    keypoint.confidence = 0.0
        seen = len(levels)
        for msg in broken * 2:
            io.keypoints.publish(msg)
            ros.spin_until(lambda: False, 0.05)
        assert any(level == 1 for level, _ in levels[seen:]), levels[seen:]
        assert proc.process.poll() is None
