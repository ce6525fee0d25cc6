"""The live node and offline replay give the same outputs and drop counters, message by message.

Both drive one per-message step (:class:`pose_lifter.ros.processing.MessageProcessor`). The
same mixed stream goes to the installed node over DDS (one message at a time, so no frame is
replaced while the detector is busy) and, as a bag written with rosbags, through
``replay_offline``: valid keypoints messages and ones with malformed persons, good and bad
CameraInfo; JPEG images, corrupt and unsupported ones. Every output must be equal field by
field, every drop counter identical.
"""

from __future__ import annotations

import math

from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import CameraInfo, CompressedImage
from visualization_msgs.msg import MarkerArray

from ros_helpers import CONFIG, REPO, RELIABLE_QOS, ros_process
from pose_lifter.ros.diagnostics import DROP_REASONS
from pose_lifter.tools.bag_io import BagReader, write_bag
from pose_lifter.tools.replay import replay_offline, stamp_ns
from pose_lifter.tools.sample_bag import SAMPLE_BAG, cmu_ground_truth_messages
from pose_lifter_msgs.msg import Skeleton2DArray, Skeleton3DArray

CMU = REPO / "training" / "data" / "cmu_mocap_15j.npz"
OUT = "/pose_lifter"  # replay's output namespace
COUNTERS = ("messages_in", "images_in", "persons_in", "persons_out")


def output_stamp(msg) -> int:
    """Stamp of an output (a MarkerArray's: its first marker's, a stale slot's DELETE)."""
    return stamp_ns(msg.markers[0].header if isinstance(msg, MarkerArray) else msg.header)


def _restamped(msg, offset_ns: int):
    copy = type(msg)()
    copy.header.frame_id = msg.header.frame_id
    total = stamp_ns(msg.header) + offset_ns
    copy.header.stamp.sec, copy.header.stamp.nanosec = divmod(total, 1_000_000_000)
    return copy


def keypoints_stream() -> list[tuple[str, object]]:
    """``(role, message)``: valid CMU frames, malformed ones and CameraInfo, in order."""
    messages, _ = cmu_ground_truth_messages(CMU, count=12)
    frames = [msg for topic, msg, _ in messages if topic.endswith("keypoints_2d")]
    info = next(msg for topic, msg, _ in messages if topic.endswith("camera_info"))
    bad_info = CameraInfo(header=info.header, k=[0.0] * 9)

    def variant(frame, offset_ns, edit):
        msg = _restamped(frame, offset_ns)
        msg.image_width, msg.image_height = frame.image_width, frame.image_height
        msg.skeletons = [
            type(s)(id=s.id, score=s.score, keypoints=list(s.keypoints)) for s in frame.skeletons
        ]
        edit(msg)
        return msg

    def nan_confidence(msg):
        keypoint = msg.skeletons[0].keypoints[3]
        msg.skeletons[0].keypoints[3] = type(keypoint)(
            x=keypoint.x, y=keypoint.y, confidence=math.nan
        )

    def huge_keypoint(msg):
        keypoint = msg.skeletons[1].keypoints[4]
        msg.skeletons[1].keypoints[4] = type(keypoint)(x=1e7, y=keypoint.y, confidence=0.9)

    def few_joints(msg):
        points = msg.skeletons[0].keypoints
        msg.skeletons[0].keypoints = [
            type(k)(x=k.x, y=k.y, confidence=0.0 if i > 2 else 0.9) for i, k in enumerate(points)
        ]

    def empty(msg):
        msg.skeletons = []

    stream = [("keypoints", frame) for frame in frames[:3]]  # no CameraInfo yet
    stream += [("camera_info", bad_info), ("camera_info", info)]
    stream += [("keypoints", frame) for frame in frames[3:6]]
    for index, edit in enumerate((nan_confidence, huge_keypoint, few_joints, empty)):
        stream.append(("keypoints", variant(frames[6], 1_000_000 * (index + 1), edit)))
    stream += [("keypoints", frame) for frame in frames[6:]]
    return stream


def image_stream() -> list[tuple[str, object]]:
    """``(role, message)``: the sample bag's JPEG frames with corrupt and unsupported ones."""
    with BagReader(SAMPLE_BAG) as reader:
        items = [item.to_rclpy() for item in reader.messages()]
    images = [msg for msg in items if isinstance(msg, CompressedImage)][:3]
    info = next(msg for msg in items if isinstance(msg, CameraInfo))

    def variant(image, offset_ns, fmt, data):
        msg = _restamped(image, offset_ns)
        msg.format, msg.data = fmt, data
        return msg

    jpeg = bytes(images[0].data)
    stream = [("camera_info", info), ("image", images[0])]
    stream += [
        ("image", variant(images[0], 1_000_000, "jpeg", jpeg[: len(jpeg) // 3])),  # truncated
        ("image", variant(images[0], 2_000_000, "16UC1; compressedDepth png", jpeg)),
        ("image", variant(images[0], 3_000_000, "jpeg", b"")),
        ("image", variant(images[0], 4_000_000, "png", b"\x89PNG\r\n\x1a\n" + jpeg[:64])),
    ]
    stream += [("image", msg) for msg in images[1:]]
    return stream


def replay(tmp_path, stream, input_topic: str, node_name: str):
    """Offline replay of ``stream`` standing in for ``node_name``: outputs by stamp, counters."""
    topics = {"keypoints": input_topic, "image": input_topic, "camera_info": "/camera_info"}
    bag = write_bag(
        tmp_path / "in",
        [(topics[role], msg, 1_000_000 * (i + 1)) for i, (role, msg) in enumerate(stream)],
        "sqlite3",
    )
    result = replay_offline(
        bag, out_bag=tmp_path / "out", params_file=CONFIG, html=False, node_name=node_name
    )
    names = ("skeletons_3d", "markers") + (
        ("keypoints_2d",) if input_topic.endswith("compressed") else ()
    )
    outputs: dict[str, dict[int, object]] = {name: {} for name in names}
    with BagReader(result.out_bag) as reader:
        for item in reader.messages():
            name = item.topic.rsplit("/", 1)[-1]
            if item.topic.startswith(OUT + "/") and name in outputs:
                msg = item.to_rclpy()
                outputs[name][output_stamp(msg)] = msg
    counters = result.summary["counters"]
    expected = {key: counters[key] for key in COUNTERS}
    expected.update({reason: counters["dropped"].get(reason, 0) for reason in DROP_REASONS})
    return outputs, expected


def run_node(
    ros,
    stream,
    namespace: str,
    node_args: list[str],
    input_type,
    input_topic: str,
    expected_outputs: dict[str, dict[int, object]],
):
    """Publish ``stream`` to the installed node one message at a time; outputs and counters."""
    harness = ros.node()
    inputs = harness.create_publisher(input_type, f"{namespace}/{input_topic}", RELIABLE_QOS)
    infos = harness.create_publisher(CameraInfo, f"{namespace}/camera_info", RELIABLE_QOS)
    kinds = {"skeletons_3d": Skeleton3DArray, "markers": MarkerArray}
    if input_type is CompressedImage:
        kinds["keypoints_2d"] = Skeleton2DArray
    received: dict[str, dict[int, object]] = {name: {} for name in kinds}
    subscriptions = [
        harness.create_subscription(
            kind,
            f"{namespace}/{name}",
            lambda msg, name=name: received[name].__setitem__(output_stamp(msg), msg),
            RELIABLE_QOS,
        )
        for name, kind in kinds.items()
    ]
    status: dict[str, str] = {}

    def on_diagnostics(array: DiagnosticArray) -> None:
        for entry in array.status:
            if entry.name == f"{namespace}/pose_lifter: lifting":
                status.clear()
                status.update({kv.key: kv.value for kv in entry.values})

    harness.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 10)
    args = [
        "-r",
        f"__ns:={namespace}",
        "--params-file",
        str(CONFIG),
        "-p",
        "qos.input_reliability:=reliable",
        *node_args,
    ]
    with ros_process("pose_lifter_node", args) as node:
        for publisher in (inputs, infos):
            ros.wait_for_subscribers(publisher, timeout=30.0)
        for sub in subscriptions:
            ros.wait_for_publishers(sub, timeout=30.0)
        ros.spin_until(lambda: bool(status), 10.0)
        for role, msg in stream:
            stamp = stamp_ns(msg.header)
            if role == "camera_info":
                infos.publish(msg)
                ros.spin_until(lambda: False, 0.3)  # let it land before the next input
                continue
            inputs.publish(msg)
            if stamp in expected_outputs["skeletons_3d"]:
                assert ros.spin_until(lambda: stamp in received["skeletons_3d"], 20.0), node.log()
                ros.spin_until(lambda: stamp in received["markers"], 2.0)
            else:
                ros.spin_until(lambda: stamp in received["skeletons_3d"], 0.5)
        inputs_sent = sum(role != "camera_info" for role, _ in stream)
        counted = "images_in" if input_type is CompressedImage else "messages_in"
        assert ros.spin_until(lambda: int(status.get(counted, -1)) >= inputs_sent, 15.0), (
            status,
            node.log(),
        )
        ros.spin_until(lambda: False, 1.2)  # one more report: nothing may still be in flight
        assert node.process.poll() is None, node.log()
    counters = {key: int(status[key]) for key in COUNTERS}
    counters.update({reason: int(status[f"dropped.{reason}"]) for reason in DROP_REASONS})
    return received, counters


def _ids(msg) -> list:
    return [(s.id, getattr(s, "source_id", None)) for s in getattr(msg, "skeletons", [])]


def assert_equal(replayed, live, replayed_counters, live_counters):
    assert live_counters == replayed_counters
    for name, by_stamp in replayed.items():
        assert sorted(live[name]) == sorted(by_stamp), name
        for stamp, msg in by_stamp.items():
            assert live[name][stamp] == msg, (name, stamp, _ids(live[name][stamp]), _ids(msg))


def test_keypoints_stream_node_equals_replay(ros, tmp_path):
    stream = keypoints_stream()
    replayed, replayed_counters = replay(
        tmp_path, stream, "/keypoints_2d", "/equal_keypoints/pose_lifter"
    )
    # the stream exercises drops of whole messages and of single persons, and real outputs
    assert replayed_counters["bad_camera_info"] == 1
    for reason in ("nonfinite_confidence", "huge_keypoint", "too_few_joints"):
        assert replayed_counters[reason] == 1, reason
    assert len(replayed["skeletons_3d"]) == len(stream) - 2  # every keypoints message
    ids = {s.id for m in replayed["skeletons_3d"].values() for s in m.skeletons}
    assert ids and all(i.startswith("equal_keypoints_pose_lifter_p") for i in ids)  # the node's
    scale_sources = {
        s.scale_source for m in replayed["skeletons_3d"].values() for s in m.skeletons
    }
    assert scale_sources == {0, 1}  # before and after the CameraInfo
    live, live_counters = run_node(
        ros, stream, "/equal_keypoints", [], Skeleton2DArray, "keypoints_2d", replayed
    )
    assert_equal(replayed, live, replayed_counters, live_counters)


def test_image_stream_node_equals_replay(ros, tmp_path):
    stream = image_stream()
    replayed, replayed_counters = replay(
        tmp_path, stream, "/camera/image_raw/compressed", "/equal_images/pose_lifter"
    )
    assert replayed_counters["corrupt_image"] == 3 and replayed_counters["bad_image_encoding"] == 1
    assert len(replayed["skeletons_3d"]) == len(replayed["keypoints_2d"]) == 3
    assert sum(len(m.skeletons) for m in replayed["skeletons_3d"].values()) >= 3
    for stamp, people_2d in replayed["keypoints_2d"].items():  # 2D and 3D share track ids
        lifted = replayed["skeletons_3d"][stamp].skeletons
        assert {s.id for s in people_2d.skeletons if s.id} == {s.id for s in lifted}
        assert all(s.source_id == s.id for s in lifted)
    live, live_counters = run_node(
        ros,
        stream,
        "/equal_images",
        ["-p", "input_mode:=image", "-p", "image.transport:=compressed"],
        CompressedImage,
        "image/compressed",
        replayed,
    )
    assert_equal(replayed, live, replayed_counters, live_counters)
