"""Offline replay with target_frame: the bag's /tf and /tf_static place the outputs.

A bag of OpenPose sample keypoints in the camera frame ``cam``, a static ``base -> cam`` (a
quarter turn about z, 1 m up) and a robot driving ``map -> base`` 4 m along x between 9 s and
13 s, its /tf published every 0.5 s as it happens (bag time = stamp) and each keypoints message
recorded 10 ms after its stamp. Replayed with ``target_frame: map``, every output joint must
equal the camera-frame output (the same bag replayed without target_frame) moved by the
hand-computed transform at the message's stamp; a message stamped after the recorded motion is
dropped as tf_unavailable; a transform that arrives later than ``tf_timeout_s`` after the
message is not used (as the node); an unusable transform in the bag is skipped, not fatal; a
bag whose transforms never reach the target frame is refused with one error naming the
frames.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from builtin_interfaces.msg import Time

from pose_lifter.runtime.transform_buffer import RigidTransform
from pose_lifter.tools.bag_io import BagWriter
from pose_lifter.tools.bag_transforms import TF_TYPE, tf_message_cdr
from pose_lifter.tools.replay import BagError, load_settings, replay_offline
from pose_lifter.tools.sample_bag import openpose_sample_messages

from ros_helpers import CONFIG

S = 1_000_000_000
STAMPS_S = (10.25, 11.5, 12.0, 20.0)  # the last one after the recorded motion
TF_STAMPS_S = np.arange(9.0, 13.01, 0.5)  # map -> base: x = stamp - 9 s
QUARTER_TURN_Z = (0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4))


def keypoint_messages() -> list:
    messages = openpose_sample_messages(frame_id="cam")[: len(STAMPS_S)]
    for msg, stamp_s in zip(messages, STAMPS_S):
        msg.header.stamp = Time(sec=int(stamp_s), nanosec=round((stamp_s % 1) * S))
    return messages


def write(path, with_tf: bool, tf_delay_s: float = 0.0, bad_transform: bool = False):
    """Write the bag; /tf received ``tf_delay_s`` after its stamps, maybe one unusable sample."""
    records = []
    if with_tf:
        static = [("base", "cam", 0, RigidTransform(QUARTER_TURN_Z, (0.0, 0.0, 1.0)))]
        records.append((1, "/tf_static", tf_message_cdr(static)))
        for stamp_s in TF_STAMPS_S:
            stamp = round(stamp_s * S)
            moving = [("map", "base", stamp, RigidTransform(translation_m=(stamp_s - 9, 0, 0)))]
            records.append((stamp + round(tf_delay_s * S), "/tf", tf_message_cdr(moving)))
        if bad_transform:  # a zero quaternion: tf2 ignores it
            bad = [("map", "base", 10 * S + 1, RigidTransform((0.0, 0.0, 0.0, 0.0)))]
            records.append((10 * S + 2, "/tf", tf_message_cdr(bad)))
    messages = keypoint_messages()
    with BagWriter(path, "sqlite3") as writer:
        for msg in messages:
            records.append((round(stamp_s_of(msg) * S) + S // 100, "/keypoints_2d", msg))
        for time_ns, topic, data in sorted(records, key=lambda r: r[0]):
            if topic == "/keypoints_2d":
                writer.write(topic, data, time_ns)
            else:
                writer.write_raw(topic, TF_TYPE, time_ns, data)
    return path


def stamp_s_of(msg) -> float:
    return msg.header.stamp.sec + msg.header.stamp.nanosec / S


def joints(msg) -> np.ndarray:
    return np.array(
        [[(k.position.x, k.position.y, k.position.z) for k in s.keypoints] for s in msg.skeletons]
    )


def map_from_cam(stamp_s: float, points: np.ndarray) -> np.ndarray:
    """Move camera-frame points into map by hand.

    cam -> base is a quarter turn about z ((x, y, z) -> (-y, x, z)) and 1 m up; base -> map
    moves with the robot, x = stamp - 9 s (4 m in 4 s).
    """
    turned = np.stack([-points[..., 1], points[..., 0], points[..., 2] + 1.0], axis=-1)
    return turned + np.array([stamp_s - 9.0, 0.0, 0.0])


def test_replay_places_outputs_in_target_frame_from_the_bags_tf(tmp_path):
    camera = replay_offline(write(tmp_path / "plain", with_tf=False), html=False)
    settings = load_settings(CONFIG).replace(target_frame="map")
    placed = replay_offline(write(tmp_path / "tf", with_tf=True), settings=settings, html=False)
    assert placed.summary["counters"]["dropped"] == {"tf_unavailable": 1}
    kept = [r for r in placed.records if not r.dropped]
    assert [r.stamp_ns for r in kept] == [round(s * S) for s in STAMPS_S[:3]]
    assert placed.records[-1].dropped  # 20 s: the motion was recorded until 13 s only
    reference = {r.stamp_ns: r for r in camera.records}
    for record in kept:
        expected = map_from_cam(record.stamp_ns / S, reference[record.stamp_ns].joints_3d)
        assert record.ids == reference[record.stamp_ns].ids
        assert np.abs(record.joints_3d - expected).max() < 1e-9


def test_a_transform_later_than_the_nodes_wait_is_not_used(tmp_path):
    """/tf arriving 1 s after its stamps: the node waits 0.5 s and drops; replay does too."""
    settings = load_settings(CONFIG).replace(target_frame="map", tf_timeout_s=0.5)
    late = write(tmp_path / "late", with_tf=True, tf_delay_s=1.0)
    result = replay_offline(late, settings=settings, html=False)
    assert result.summary["counters"]["dropped"] == {"tf_unavailable": 4}
    patient = replay_offline(late, settings=settings.replace(tf_timeout_s=1.5), html=False)
    assert patient.summary["counters"]["dropped"] == {"tf_unavailable": 1}  # only 20 s


def test_an_unusable_transform_is_skipped_and_the_replay_goes_on(tmp_path):
    settings = load_settings(CONFIG).replace(target_frame="map")
    bag = write(tmp_path / "bad", with_tf=True, bad_transform=True)
    result = replay_offline(bag, settings=settings, html=False)
    assert result.summary["transforms_skipped"] == 1
    assert result.summary["counters"]["dropped"] == {"tf_unavailable": 1}


def test_replay_writes_map_frame_outputs_and_the_tf_topics(tmp_path):
    settings = load_settings(CONFIG).replace(target_frame="map")
    result = replay_offline(
        write(tmp_path / "tf", with_tf=True),
        out_bag=tmp_path / "out",
        settings=settings,
        html=False,
    )
    from pose_lifter.tools.bag_io import BagReader

    with BagReader(result.out_bag) as reader:
        topics = reader.topics()
        frames = {
            m.to_rclpy().header.frame_id for m in reader.messages(["/pose_lifter/skeletons_3d"])
        }
    assert {"/tf", "/tf_static"} <= set(topics) and frames == {"map"}


def test_a_bag_without_the_transform_is_refused_naming_the_frames(tmp_path):
    settings = load_settings(CONFIG).replace(target_frame="world")
    with pytest.raises(BagError, match=r"'world'.*'cam'.*\['base', 'cam', 'map'\]"):
        replay_offline(write(tmp_path / "tf", with_tf=True), settings=settings, html=False)
    with pytest.raises(BagError, match=r"'world'.*'cam'.*none"):
        replay_offline(write(tmp_path / "plain", with_tf=False), settings=settings, html=False)


def test_the_cli_sets_target_frame_and_says_which_frames_are_missing(tmp_path, capsys):
    from pose_lifter.tools.cli import main

    bag = write(tmp_path / "tf", with_tf=True)
    assert (
        main(["replay", str(bag), "--out", str(tmp_path / "out"), "-p", "target_frame:=map"]) == 0
    )
    assert "1 frames dropped" in capsys.readouterr().out
    assert main(["replay", str(bag), "-p", "target_frame:=world"]) == 2
    assert "'world'" in capsys.readouterr().err
    assert main(["replay", str(bag), "-p", "target_frame=map"]) == 2
    assert "NAME:=VALUE" in capsys.readouterr().err
