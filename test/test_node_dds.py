"""The pose_lifter node on a real DDS graph (real rclpy, real model, no mocks).

One node runs as a subprocess started exactly as launch/pose_lifter.launch.py starts it
(``--ros-args --params-file config/pose_lifter.yaml`` plus ``-p``/``-r`` overrides); the others
run in-process on the harness executor (faster). Each node has its own namespace so their
relative topics do not meet.
"""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import Parameter as ParameterMsg
from rcl_interfaces.msg import ParameterType, ParameterValue
from rcl_interfaces.srv import GetParameters, SetParameters
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from ros_helpers import RELIABLE_QOS
from pose_lifter.tools.sample_bag import openpose_sample_messages
from pose_lifter.runtime.joints import MIDHIP
from pose_lifter.runtime.lifter import cuda_available
from pose_lifter.ros.parameters import FIELDS, load_params_file
from pose_lifter.runtime.placement import CHAIN_TO_STATURE, chain_length
from pose_lifter.ros.conversions import skeleton2d_array
from pose_lifter_msgs.msg import Skeleton2DArray, Skeleton3D, Skeleton3DArray
from ros_helpers import CONFIG, REPO, call_service, ros_process

SUB_NS = "/sub"
SUB_OVERRIDES = {"qos.input_depth": 50, "diagnostics_period_s": 0.2, "markers.lifetime_s": 2.0}


def sample_messages(frame_id="camera_optical_frame", first_sec=1000):
    return openpose_sample_messages(frame_id=frame_id, first_sec=first_sec, nanosec=123)


def _p(value):
    """Return the ``-p name:=value`` text of a Python value."""
    return str(value).lower() if isinstance(value, bool) else str(value)


@pytest.fixture(scope="module")
def subprocess_node(ros_domain_id):
    args = ["--params-file", str(CONFIG), "-r", f"__ns:={SUB_NS}"]
    for name, value in SUB_OVERRIDES.items():
        args += ["-p", f"{name}:={_p(value)}"]
    with ros_process("pose_lifter_node", args) as proc:
        yield proc


class Io:
    """Publisher to a node's keypoints_2d/camera_info and collectors of its outputs."""

    def __init__(self, ros, namespace):
        self.ros, self.node = ros, ros.node()
        publish = self.node.create_publisher
        self.keypoints = publish(Skeleton2DArray, f"{namespace}/keypoints_2d", RELIABLE_QOS)
        self.camera_info = publish(CameraInfo, f"{namespace}/camera_info", RELIABLE_QOS)
        self.skeleton_sub, self.skeletons = ros.collector(
            Skeleton3DArray, f"{namespace}/skeletons_3d", self.node
        )
        self.marker_sub, self.markers = ros.collector(
            MarkerArray, f"{namespace}/markers", self.node
        )
        self.diagnostics: list = []
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self.diagnostics.append, 10)

    def connect(self, timeout=20.0):
        """Wait until the node receives what we publish.

        Wait until the node receives what we publish: discovery on our side is not enough (the
        node's subscription may not have matched our publisher yet), so publish an empty probe
        message until the node answers it, then forget the probe's outputs.
        """
        self.ros.wait_for_subscribers(self.keypoints, 1, timeout)
        self.ros.wait_for_publishers(self.skeleton_sub, 1, timeout)
        self.ros.wait_for_publishers(self.marker_sub, 1, timeout)
        probe = Skeleton2DArray(header=Header(stamp=Time(sec=1), frame_id="probe"))
        answered = lambda: any(a.header.frame_id == "probe" for a in self.skeletons)  # noqa: E731
        deadline = time.monotonic() + timeout
        while not answered():
            assert time.monotonic() < deadline, "the node never answered the probe message"
            self.keypoints.publish(probe)
            self.ros.spin_until(answered, 0.2)
        self.ros.spin_until(lambda: False, 0.5)  # let answers to earlier probes arrive too
        self.skeletons.clear()
        self.markers.clear()

    def send(self, messages, spacing_s=0.02):
        for msg in messages:
            self.keypoints.publish(msg)
            self.ros.spin_until(lambda: False, spacing_s)

    def status(self, name):
        for array in reversed(self.diagnostics):
            for status in array.status:
                if status.name == name:
                    return {kv.key: kv.value for kv in status.values}
        return None


def assert_markers_finite(array: MarkerArray):
    for marker in array.markers:
        values = [v for p in marker.points for v in (p.x, p.y, p.z)]
        values += [marker.pose.position.x, marker.pose.position.y, marker.pose.position.z]
        values += [v for c in marker.colors for v in (c.r, c.g, c.b, c.a)]
        assert all(math.isfinite(v) for v in values), marker


def test_subprocess_node_honours_yaml_and_overrides(ros, subprocess_node):
    expected = {
        name: getattr(load_params_file(CONFIG), spec.name) for name, spec in FIELDS.items()
    }
    expected.update(SUB_OVERRIDES)
    response = call_service(
        ros,
        ros.node(),
        GetParameters,
        f"{SUB_NS}/pose_lifter/get_parameters",
        GetParameters.Request(names=list(expected)),
        timeout=30.0,
    )
    got = {}
    for name, value in zip(expected, response.values):
        got[name] = {
            ParameterType.PARAMETER_BOOL: value.bool_value,
            ParameterType.PARAMETER_INTEGER: value.integer_value,
            ParameterType.PARAMETER_DOUBLE: value.double_value,
            ParameterType.PARAMETER_STRING: value.string_value,
        }[value.type]
    assert got == expected, subprocess_node.log()


def test_subprocess_node_lifts_sample_stream(ros, subprocess_node):
    io = Io(ros, SUB_NS)
    io.connect()
    messages = sample_messages()
    empty = Skeleton2DArray(header=Header(stamp=Time(sec=5000), frame_id="camera_optical_frame"))
    io.send([*messages, empty])
    ros.spin_until_count(io.skeletons, len(messages) + 1, 20.0)
    ros.spin_until_count(io.markers, len(messages) + 1, 20.0)
    for sent, skeletons, markers in zip([*messages, empty], io.skeletons, io.markers):
        assert skeletons.header == sent.header, subprocess_node.log()
        assert all(m.header == sent.header for m in markers.markers)
        assert Marker.DELETEALL not in {m.action for m in markers.markers}  # never others'
        assert {m.ns.split("/")[0] for m in markers.markers} == {"sub_pose_lifter_p"}
        assert_markers_finite(markers)
    ids = {tuple(s.id for s in array.skeletons) for array in io.skeletons[:-1]}
    assert len(ids) == 1 and len(next(iter(ids))) == 2, ids  # stable over the sequence
    assert all(
        s.scale_source == Skeleton3D.SCALE_NORMALIZED for a in io.skeletons for s in a.skeletons
    )
    spheres = next(m for m in io.markers[0].markers if m.action == Marker.ADD)
    assert spheres.scale.x == load_params_file(CONFIG).markers_joint_diameter_m  # from the YAML
    assert spheres.lifetime.sec == 2  # from the -p override
    last = io.markers[-1].markers  # the two people shown before are deleted, nothing added
    assert io.skeletons[-1].skeletons == [] and {m.action for m in last} == {Marker.DELETE}
    assert sorted({m.id for m in last}) == [0, 1]


def _set(ros, node_name, name, value, type_, field):
    request = SetParameters.Request(
        parameters=[ParameterMsg(name=name, value=ParameterValue(type=type_, **{field: value}))]
    )
    response = call_service(ros, ros.node(), SetParameters, f"{node_name}/set_parameters", request)
    return response.results[0]


def test_invalid_runtime_parameter_change_rejected_with_reason(ros, subprocess_node):
    node = f"{SUB_NS}/pose_lifter"
    double, string = ParameterType.PARAMETER_DOUBLE, ParameterType.PARAMETER_STRING
    for name, value, type_, field in (
        ("subject_height_m", 9.0, double, "double_value"),
        ("target_frame", "bad frame", string, "string_value"),
        ("device", "cpu", string, "string_value"),
    ):
        result = _set(ros, node, name, value, type_, field)
        assert not result.successful and result.reason, (name, result)
    assert _set(ros, node, "subject_height_m", 1.65, double, "double_value").successful
    response = call_service(
        ros,
        ros.node(),
        GetParameters,
        f"{node}/get_parameters",
        GetParameters.Request(names=["subject_height_m", "target_frame"]),
    )
    assert (response.values[0].double_value, response.values[1].string_value) == (1.65, "")


def test_malformed_message_counted_on_diagnostics_and_stream_continues(ros, subprocess_node):
    io = Io(ros, SUB_NS)
    io.connect()
    good = sample_messages(first_sec=2000)[:4]
    bad = copy.deepcopy(good[1])
    bad.header.stamp.sec = 2500
    bad.skeletons[0].keypoints[2].x = float("nan")  # present joint
    io.send([good[0], bad, good[2], good[3]])
    ros.spin_until_count(io.skeletons, 4, 20.0)
    assert [a.header.stamp.sec for a in io.skeletons] == [2000, 2500, 2002, 2003]
    assert len(io.skeletons[1].skeletons) == 1  # the valid person of the bad message
    name = f"{SUB_NS}/pose_lifter: lifting"
    counted = (
        lambda: (io.status(name) or {}).get("dropped.nonfinite_keypoint", "0") != "0"
    )  # noqa: E731
    assert ros.spin_until(counted, 10.0), (io.diagnostics[-1:], subprocess_node.log())


def test_metric_placement_over_dds_within_10_percent(ros, lifter_node):
    data = np.load(REPO / "training" / "data" / "cmu_mocap_15j.npz")
    keypoints, joints, ks = data["test_keypoints_2d"], data["test_joints_3d"], data["test_K"]
    cameras, counts = np.unique(ks.reshape(len(ks), 9), axis=0, return_counts=True)
    rows = np.flatnonzero(np.all(ks.reshape(len(ks), 9) == cameras[counts.argmax()], axis=1))[:30]
    height = float(np.median(chain_length(joints))) / CHAIN_TO_STATURE  # CMU's small skeleton
    lifter_node("/metric", "-p", f"subject_height_m:={height}")
    io = Io(ros, "/metric")
    io.connect()
    info = CameraInfo(
        header=Header(frame_id="cmu_cam"),
        width=1280,
        height=720,
        k=cameras[counts.argmax()].astype(float).tolist(),
    )

    def batch(sec, indices):
        return skeleton2d_array(
            Header(stamp=Time(sec=sec), frame_id="cmu_cam"),
            keypoints[indices],
            np.ones((len(indices), 15)),
            np.ones(len(indices)),
            [""] * len(indices),
            (1280, 720),
            "cmu",
        )

    def calibrated():
        io.camera_info.publish(info)
        io.keypoints.publish(batch(1, rows[:1]))
        ros.spin_until(lambda: False, 0.05)
        return any(
            s.scale_source == Skeleton3D.SCALE_ASSUMED_HEIGHT
            for a in io.skeletons
            for s in a.skeletons
        )

    assert ros.spin_until(calibrated, 15.0)
    io.skeletons.clear()
    batches = [
        rows[i : i + 5] for i in range(0, len(rows), 5)
    ]  # 5 persons per message, one pass each
    io.send([batch(100 + b, indices) for b, indices in enumerate(batches)])
    ros.spin_until(
        lambda: sum(a.header.stamp.sec >= 100 for a in io.skeletons) >= len(batches), 15.0
    )
    depth = np.array(
        [
            s.keypoints[MIDHIP].position.z
            for a in io.skeletons
            if a.header.stamp.sec >= 100
            for s in a.skeletons
        ]
    )
    truth = joints[np.concatenate(batches), MIDHIP, 2]
    error = np.abs(depth - truth) / truth
    print(
        f"\nDDS metric placement, {len(error)} CMU poses: median {np.median(error):.3f}, "
        f"p90 {np.percentile(error, 90):.3f}"
    )
    assert np.median(error) < 0.03  # the figure printed above: doc/node.md
    assert all(a.header.frame_id == "cmu_cam" for a in io.skeletons)


@pytest.mark.skipif(not cuda_available(), reason="no CUDA GPU visible: GPU path not exercised")
def test_gpu_path(ros, lifter_node):
    node = lifter_node("/gpu", "-p", "device:=cuda", "-p", "allow_cpu_fallback:=false")
    assert node.processor.pipeline.lifter.device.startswith("cuda")
    io = Io(ros, "/gpu")
    io.connect()
    io.send(sample_messages()[:3])
    ros.spin_until_count(io.skeletons, 3, 15.0)
    assert all(len(a.skeletons) == 2 for a in io.skeletons)


@pytest.mark.skipif(cuda_available(), reason="a GPU is visible")
def test_cuda_without_gpu_falls_back_or_refuses(ros, lifter_node):
    fallback = lifter_node("/fallback", "-p", "device:=cuda")
    assert fallback.processor.pipeline.lifter.device == "cpu"
    with pytest.raises(RuntimeError, match="no CUDA GPU|torch is not installed"):
        lifter_node("/refuse", "-p", "device:=cuda", "-p", "allow_cpu_fallback:=false")


def test_tf_features_need_tf2(ros, lifter_node):
    from pose_lifter.ros import node as node_module

    node = lifter_node("/tf_check", "-p", "publish_tf:=true", "-p", "target_frame:=map")
    expected = {
        "publish_tf": node_module.TFMessage is not None,
        "target_frame": "map" if node_module.tf2_ros is not None else "",
    }
    assert {name: node.get_parameter(name).value for name in expected} == expected
    if node_module.tf2_ros is None:
        (result,) = node.set_parameters([Parameter("target_frame", value="world")])
        assert not result.successful and "tf2_ros" in result.reason


@pytest.mark.parametrize("unknown", ["output", "input", "reference"])
def test_the_codecs_fallbacks_lift_the_same_as_the_fast_path(
    ros, lifter_node, monkeypatch, unknown
):
    """A layout the codec does not know, or the reference path: rclpy messages, the same lift.

    A message layout the encoders or the decoder do not know (a future distro), or
    ``serialize_outputs: false``: the node falls back to rclpy messages and lifts the same.
    """
    from pose_lifter.ros import cdr

    fast = lifter_node(f"/fast_{unknown}")
    if unknown == "output":
        monkeypatch.setattr(cdr, "KEYPOINT3D_FIELDS", cdr.KEYPOINT3D_FIELDS[:2])
    elif unknown == "input":
        layouts = dict(cdr.INPUT_LAYOUTS)
        layouts["pose_lifter_msgs/Keypoint2D"] = (("x", "float"), ("y", "float"))
        monkeypatch.setattr(cdr, "INPUT_LAYOUTS", layouts)
    args = ("-p", "serialize_outputs:=false") if unknown == "reference" else ()
    slow = lifter_node(f"/slow_{unknown}", *args)
    assert fast.processor.settings.serialize_outputs
    assert slow.processor.settings.serialize_outputs == (unknown == "input")

    def raw(node) -> list[bool]:
        return [s.raw for s in node._inputs if s.topic_name.endswith("keypoints_2d")]

    assert raw(fast) == [True] and raw(slow) == [False]  # every fallback reads rclpy messages
    outputs = {}
    for name in (f"/fast_{unknown}", f"/slow_{unknown}"):
        io = Io(ros, name)
        io.connect()
        io.send(sample_messages()[:3])
        assert ros.spin_until_count(io.skeletons, 3, 15.0)
        outputs[name] = [
            [[(k.position.x, k.velocity.z, k.uncertainty_radius) for k in s.keypoints]
             for s in a.skeletons]
            for a in io.skeletons[:3]
        ]
    assert outputs[f"/fast_{unknown}"] == outputs[f"/slow_{unknown}"]
