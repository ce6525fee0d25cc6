"""Bag replay: real rosbag2 bags replayed offline and live.

Bag replay: real rosbag2 bags (sqlite3 and mcap, written with rosbags), replayed offline through
the node's processing code path and live against a running node (subprocess, real DDS).

The ground-truth bag: 20 frames at 10 Hz of the CMU mocap test split (walking_1, camera 0, two
persons = the same walker 1 s apart), 2D = the projected joints, the sample's K as CameraInfo,
3D ground truth on /ground_truth/joints_3d
(:func:`pose_lifter.tools.sample_bag.cmu_ground_truth_messages`).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ros_helpers import CONFIG, REPO, ros_process
from pose_lifter.tools.bag_io import BagReader, typestore, write_bag
from pose_lifter.tools.cli import main
from pose_lifter.ros.parameters import load_params_file
from pose_lifter.ros.detections import VISION_MSGS
from pose_lifter.ros.pipeline import LiftingPipeline
from pose_lifter.tools.replay import replay_live, replay_offline, select_topics, BagError
from pose_lifter.tools.sample_bag import (
    CAMERA_INFO_TOPIC,
    GROUND_TRUTH_TOPIC,
    IMAGE_TOPIC,
    KEYPOINTS_TOPIC,
    RGBD_SAMPLE_BAG,
    SAMPLE_BAG,
    VTEST_VIDEO,
    cmu_ground_truth_messages,
    record_sample,
)

CMU = REPO / "training" / "data" / "cmu_mocap_15j.npz"
FRAMES = 20
OUT_SKELETONS, OUT_MARKERS, OUT_KEYPOINTS = (
    "/pose_lifter/skeletons_3d",
    "/pose_lifter/markers",
    "/pose_lifter/keypoints_2d",
)


@pytest.fixture(scope="module")
def gt_data():
    messages, truth = cmu_ground_truth_messages(CMU, count=FRAMES)
    return messages, truth


@pytest.fixture(scope="module")
def gt_bags(tmp_path_factory, gt_data):
    """Return the ground-truth bag in both storages."""
    root = tmp_path_factory.mktemp("bags")
    return {
        storage: write_bag(root / f"cmu_{storage}", gt_data[0], storage)
        for storage in ("sqlite3", "mcap")
    }


def read_all(path):
    with BagReader(path) as reader:
        topics = reader.topics()
        messages = [(m.topic, m.timestamp_ns, m.to_rclpy()) for m in reader.messages()]
    return topics, messages


def installed_hash(msgtype: str) -> str:
    """RIHS01 of a pose_lifter_msgs type as rosidl generated it for this build."""
    name = msgtype.split("/")[-1]
    path = (
        REPO
        / "install"
        / "pose_lifter_msgs"
        / "share"
        / "pose_lifter_msgs"
        / "msg"
        / f"{name}.json"
    )
    return json.loads(path.read_text())["type_hashes"][0]["hash_string"]


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_offline_replay_writes_outputs_and_ground_truth_metrics(tmp_path, gt_bags, storage):
    bag = gt_bags[storage]
    result = replay_offline(bag, out_bag=tmp_path / "out", report_dir=tmp_path / "report")
    assert BagReader(result.out_bag).storage == storage  # default: the input's storage
    topics, messages = read_all(result.out_bag)
    counts = {name: info.count for name, info in topics.items()}
    detections = {"/pose_lifter/detections_3d": FRAMES} if VISION_MSGS is not None else {}
    assert counts == {
        KEYPOINTS_TOPIC: FRAMES,
        "/camera_info": FRAMES,
        GROUND_TRUTH_TOPIC: FRAMES,
        OUT_SKELETONS: FRAMES,
        OUT_MARKERS: FRAMES,
        **detections,  # vision_msgs installed: the Detection3DArray of every output
    }
    # custom types are registered with their full definition and rosidl's type hash
    for name in (OUT_SKELETONS, KEYPOINTS_TOPIC):
        info = topics[name]
        assert (
            "pose_lifter_msgs/Skeleton" in info.msgdef and "MSG: pose_lifter_msgs/" in info.msgdef
        )
        assert info.digest == installed_hash(info.msgtype)
    assert topics[OUT_MARKERS].msgtype == "visualization_msgs/msg/MarkerArray"
    inputs = [msg for topic, _, msg in messages if topic == KEYPOINTS_TOPIC]
    outputs = [(t, msg) for topic, t, msg in messages if topic == OUT_SKELETONS]
    input_times = [t for topic, t, _ in messages if topic == KEYPOINTS_TOPIC]
    assert len(inputs) == len(outputs) == FRAMES
    for source, source_time, (time_ns, out) in zip(inputs, input_times, outputs):
        assert out.header == source.header  # stamp and camera frame copied
        assert len(out.skeletons) == 2 and all(s.scale_source == 1 for s in out.skeletons)
        assert time_ns > source_time  # written at receive time + processing time
    for topic, _, msg in messages:
        if topic == OUT_MARKERS:
            adds = [m for m in msg.markers if m.action == 0]
            assert len(adds) == 3 * 2  # 3 per person (and DELETEs of the slots after them)

    # exactly the node's code path: a LiftingPipeline fed the same messages gives the same poses
    # (and ids named as the default node /pose_lifter names them)
    pipeline = LiftingPipeline(load_params_file(CONFIG), id_prefix="pose_lifter_p")
    expected = []
    for topic, _, msg in messages:
        if topic == "/camera_info":
            pipeline.set_camera_info(msg)
        elif topic == KEYPOINTS_TOPIC:
            expected.append(pipeline.process(msg).skeletons)
    assert [o for _, o in outputs] == expected

    summary = result.summary
    truth = summary["ground_truth"]
    assert truth["frames"] == FRAMES and truth["matched"] == 2 * FRAMES and truth["missed"] == 0
    for key in ("n_mpjpe_mm", "pa_mpjpe_mm"):
        assert math.isfinite(truth[key]) and 0 < truth[key] < truth["flat_baseline"][key], truth
    assert summary["frames"] == FRAMES and summary["persons_3d"] == 2 * FRAMES
    assert summary["unique_ids"] == 2 and summary["id_switches"] == 0
    assert summary["latency_ms"]["count"] == FRAMES and summary["latency_ms"]["p50"] > 0
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["summary"]["ground_truth"] == truth and len(report["frames"]) == FRAMES
    html = (tmp_path / "report" / "report.html").read_text()
    assert "plotly" in html.lower() and '"n_mpjpe_mm"' in html.replace("&quot;", '"')


def test_side_npz_ground_truth_matches_topic(tmp_path, gt_data, gt_bags):
    messages, truth = gt_data
    bag = write_bag(
        tmp_path / "no_gt", [m for m in messages if m[0] != GROUND_TRUTH_TOPIC], "mcap"
    )
    np.savez(tmp_path / "gt.npz", joints_3d=truth)
    by_index = replay_offline(bag, ground_truth=tmp_path / "gt.npz").summary["ground_truth"]
    with_topic = replay_offline(gt_bags["mcap"]).summary["ground_truth"]
    assert by_index == with_topic and by_index["matched"] == 2 * FRAMES
    # aligned by stamp: only the frames whose stamps are given are evaluated
    stamps = [
        m[1].header.stamp.sec * 10**9 + m[1].header.stamp.nanosec
        for m in messages
        if m[0] == KEYPOINTS_TOPIC
    ]
    np.savez(
        tmp_path / "gt5.npz", joints_3d=truth[:5, 0], stamps_ns=np.array(stamps[:5], np.int64)
    )
    partial = replay_offline(bag, ground_truth=tmp_path / "gt5.npz").summary["ground_truth"]
    assert (
        partial["frames"] == 5 and partial["matched"] == 5 and math.isfinite(partial["n_mpjpe_mm"])
    )
    np.savez(tmp_path / "short.npz", joints_3d=truth[:3])
    with pytest.raises(BagError, match="3 ground-truth rows for 20"):
        replay_offline(bag, ground_truth=tmp_path / "short.npz")


def test_image_bag_offline_runs_detector_and_lifter(tmp_path):
    result = replay_offline(
        SAMPLE_BAG,
        out_bag=tmp_path / "out",
        storage="sqlite3",
        max_frames=4,
        report_dir=tmp_path / "report",
    )
    topics, messages = read_all(result.out_bag)
    counts = {name: info.count for name, info in topics.items()}
    assert counts[IMAGE_TOPIC] == 4 and counts[OUT_KEYPOINTS] == 4 and counts[OUT_SKELETONS] == 4
    images = [msg for topic, _, msg in messages if topic == IMAGE_TOPIC]
    keypoints = [msg for topic, _, msg in messages if topic == OUT_KEYPOINTS]
    skeletons = [msg for topic, _, msg in messages if topic == OUT_SKELETONS]
    for image, kp, sk in zip(images, keypoints, skeletons):
        assert kp.header == image.header == sk.header
        assert (kp.image_width, kp.image_height) == (640, 480) and kp.source_format == "coco17"
    assert sum(len(s.skeletons) for s in skeletons) >= 4  # people are found in the street scene
    assert result.summary["persons_3d"] == sum(len(s.skeletons) for s in skeletons)
    html = (tmp_path / "report" / "report.html").read_text().replace("\\u002f", "/")
    assert html.count('"source":"data:image/jpeg;base64,') == 1 + 4  # first frame + 4 frames


def test_sample_bag_is_small_documented_and_reproducible(tmp_path):
    size = sum(f.stat().st_size for f in SAMPLE_BAG.iterdir())
    assert size < 2_000_000
    topics, messages = read_all(SAMPLE_BAG)
    assert topics[IMAGE_TOPIC].count == 30 and topics[CAMERA_INFO_TOPIC].count == 30
    first_image = next(msg for topic, _, msg in messages if topic == IMAGE_TOPIC)
    assert first_image.format == "jpeg" and first_image.header.frame_id == "camera_optical_frame"
    if not VTEST_VIDEO.exists():
        pytest.skip(f"{VTEST_VIDEO} missing (apt-get install opencv-doc) to check reproducibility")
    record_sample(tmp_path / "again", count=3)
    _, again = read_all(tmp_path / "again")
    assert [(t, n, m) for t, n, m in again] == [(t, n, m) for t, n, m in messages[:6]]


def test_topic_selection_and_errors(tmp_path, gt_bags, capsys):
    types = {
        "/a": "sensor_msgs/msg/CompressedImage",
        "/b": "pose_lifter_msgs/msg/Skeleton2DArray",
        "/ci": "sensor_msgs/msg/CameraInfo",
        "/gt/joints_3d": "pose_lifter_msgs/msg/Skeleton3DArray",
    }
    with pytest.raises(BagError, match="several input topics"):
        select_topics(types)
    selection = select_topics(types, ["/b"])
    assert (selection.inputs, selection.camera_info, selection.ground_truth) == (
        ["/b"],
        ["/ci"],
        ["/gt/joints_3d"],
    )
    with pytest.raises(BagError, match="not in the bag"):
        select_topics(types, ["/nope"])
    assert main(["replay", str(tmp_path / "missing")]) == 2
    assert "not a rosbag2 directory" in capsys.readouterr().err
    (tmp_path / "out").mkdir()
    assert (
        main(["replay", str(gt_bags["mcap"]), "--out", str(tmp_path / "out"), "--overwrite"]) == 2
    )
    assert "not a rosbag2 directory; not overwriting" in capsys.readouterr().err


def test_cli_replay_and_view_bag(tmp_path, gt_bags, capsys):
    out = tmp_path / "out"
    assert (
        main(
            [
                "replay",
                str(gt_bags["sqlite3"]),
                "--out",
                str(out),
                "--storage",
                "mcap",
                "--report",
                str(tmp_path / "report"),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "replayed 20 frames of /keypoints_2d" in printed and "N-MPJPE" in printed
    assert f"output bag: {out.resolve()}" in printed and "report.html" in printed
    assert BagReader(out).storage == "mcap"
    assert main(["view", str(out), "--output", str(tmp_path / "view.html")]) == 0
    html = (tmp_path / "view.html").read_text().replace("\\u002f", "/")
    assert "/pose_lifter/skeletons_3d t=" in html and "scatter3d" in html
    # a bag without 3D skeletons is lifted offline for viewing
    assert (
        main(
            [
                "view",
                str(gt_bags["mcap"]),
                "--output",
                str(tmp_path / "v2.html"),
                "--max-frames",
                "3",
            ]
        )
        == 0
    )


def test_rosbags_typestore_round_trip():
    """rclpy -> rosbags -> rclpy through CDR: the typestore the bags are written with."""
    from rclpy.serialization import deserialize_message, serialize_message

    from pose_lifter.tools.bag_io import rclpy_type, type_name

    store = typestore()
    messages, _ = cmu_ground_truth_messages(CMU, count=1)
    for _, msg, _ in messages:
        obj = store.deserialize_cdr(serialize_message(msg), type_name(msg))
        data = bytes(store.serialize_cdr(obj, obj.__msgtype__))
        assert deserialize_message(data, rclpy_type(obj.__msgtype__)) == msg
    assert "pose_lifter_msgs/msg/Skeleton3DArray" in typestore().fielddefs


# ------------------------------------------------------------------------------------ live
LIVE_NS = "/replay_live"


@pytest.fixture(scope="module")
def live_node(ros_domain_id):
    args = [
        "--params-file",
        str(CONFIG),
        "-r",
        f"__ns:={LIVE_NS}",
        "-p",
        "qos.input_depth:=50",
        "-p",
        "diagnostics_period_s:=0.2",
        "-p",
        "use_sim_time:=true",
    ]
    with ros_process("pose_lifter_node", args) as proc:
        yield proc


def test_live_replay_against_running_node(tmp_path, gt_bags, gt_data, live_node):
    bag = gt_bags["mcap"]
    result = replay_live(
        bag, rate=4.0, node_ns=LIVE_NS, wait_s=60.0, drain_s=10.0, report_dir=tmp_path
    )
    s = result.summary
    assert s["published"] == FRAMES, live_node.log()
    assert s["received"] == FRAMES and s["dropped"] == 0, (s, live_node.log())
    lat = s["end_to_end_latency_ms"]
    assert lat["count"] == FRAMES and 0 < lat["p50"] <= lat["p95"] <= lat["p99"] < 2000, lat
    assert s["markers_received"] == FRAMES
    # original timing / 4: 20 frames at 10 Hz take ~0.475 s
    assert 0.4 < s["publish_duration_s"] < 3.0, s
    # use_sim_time honoured: the node's diagnostics are stamped with the bag's /clock
    stamps = [m[1].header.stamp.sec * 10**9 + m[1].header.stamp.nanosec for m in gt_data[0]]
    diag = s["node_diagnostics"]
    # (sim time stops with the bag: the last report may predate the last message)
    assert diag is not None and int(diag["values"]["messages_in"]) >= FRAMES // 2, s
    assert min(stamps) - 10**9 <= diag["stamp_ns"] <= max(stamps) + 10**9, (diag, min(stamps))
    assert json.loads((tmp_path / "live_report.json").read_text())["summary"]["received"] == FRAMES


def test_live_replay_cli_as_fast_as_possible(tmp_path, gt_bags, live_node, capsys):
    assert (
        main(
            [
                "replay",
                str(gt_bags["sqlite3"]),
                "--live",
                "--rate",
                "0",
                "--node-ns",
                LIVE_NS,
                "--wait",
                "60",
                "--report",
                str(tmp_path),
            ]
        )
        == 0
    ), live_node.log()
    printed = capsys.readouterr().out
    assert "published 20 input messages at rate max" in printed and "p95" in printed, printed
    summary = json.loads((tmp_path / "live_report.json").read_text())["summary"]
    assert summary["published"] == FRAMES
    assert summary["received"] + summary["dropped"] == FRAMES and summary["received"] > 0


def test_live_replay_without_node_fails_clearly(gt_bags):
    with pytest.raises(BagError, match="no pose_lifter node answered"):
        replay_live(gt_bags["mcap"], node_ns="/nobody_here", wait_s=1.0, clock=False)


def test_live_replay_of_images_against_image_node(tmp_path):
    args = [
        "--params-file",
        str(CONFIG),
        "-r",
        "__ns:=/replay_images",
        "-p",
        "input_mode:=image",
        "-p",
        "image.transport:=compressed",
        "-p",
        "qos.input_reliability:=reliable",
    ]
    with ros_process("pose_lifter_node", args) as node:
        result = replay_live(
            SAMPLE_BAG,
            rate=1.0,
            node_ns="/replay_images",
            wait_s=60.0,
            drain_s=10.0,
            max_frames=6,
            clock=False,
        )
        s = result.summary
        assert s["published"] == 6, node.log()
        assert s["published_topics"][IMAGE_TOPIC] == "/replay_images/image/compressed"
        # the detector keeps up with 10 Hz on this machine; every image gives 3D skeletons
        assert s["received"] + s["dropped"] == 6 and s["received"] >= 4, (s, node.log())
        assert s["end_to_end_latency_ms"]["p50"] > 0


def test_live_replay_of_the_rgbd_bag_feeds_the_depth_topic(tmp_path):
    args = ["--params-file", str(CONFIG), "-r", "__ns:=/replay_rgbd"]
    args += ["-p", "depth.enabled:=true", "-p", "depth.transport:=compressedDepth"]
    args += ["-p", "qos.depth_reliability:=reliable"]  # lossless from the first frame
    args += ["-p", "qos.input_reliability:=reliable"]
    with ros_process("pose_lifter_node", args) as node:
        result = replay_live(
            RGBD_SAMPLE_BAG,
            rate=1.0,
            node_ns="/replay_rgbd",
            wait_s=60.0,
            drain_s=10.0,
            clock=False,
        )
        s = result.summary
        log = node.log()
    depth_topic = "/camera/aligned_depth_to_color/image_raw/compressedDepth"
    assert s["published_topics"][depth_topic] == "/replay_rgbd/depth/compressedDepth"
    assert s["published"] == 4 and s["received"] == 4, (s, log)
    assert s["persons_by_scale_source"].get("depth", 0) >= 3, (s, log)
