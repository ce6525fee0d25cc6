"""openpose_bridge: playlist logic (pure) and the executable publishing over real DDS."""

from __future__ import annotations

import shutil

import pytest

from ros_helpers import RELIABLE_QOS
from pose_lifter.runtime.errors import OpenPoseJsonError
from pose_lifter.ros.openpose_bridge import SAMPLE_DIRECTORY, Playlist
from pose_lifter_msgs.msg import Skeleton2DArray
from ros_helpers import ros_process

FILES = sorted(SAMPLE_DIRECTORY.glob("*.json"))


def test_playlist_once_and_loop():
    once = Playlist(SAMPLE_DIRECTORY, "once")
    played = [once.next_path() for _ in range(len(FILES))]
    assert [p.name for p in played] == [p.name for p in FILES] and not once.finished
    assert once.next_path() is None and once.finished
    loop = Playlist(SAMPLE_DIRECTORY, "loop")
    assert [loop.next_path() for _ in range(len(FILES) + 2)][-2:] == FILES[:2]


def test_playlist_watch_publishes_only_new_files(tmp_path):
    shutil.copy(FILES[0], tmp_path / "f_0_keypoints.json")
    watch = Playlist(tmp_path, "watch")
    assert watch.next_path() is None
    for index in (2, 10):  # natural order: 2 before 10
        shutil.copy(FILES[index], tmp_path / f"f_{index}_keypoints.json")
    names = [watch.next_path().name, watch.next_path().name]
    assert names == ["f_2_keypoints.json", "f_10_keypoints.json"]
    assert watch.next_path() is None and not watch.finished


def test_playlist_refuses_empty_directory(tmp_path):
    with pytest.raises(OpenPoseJsonError):
        Playlist(tmp_path, "once")


def test_bridge_publishes_the_sample_once(ros):
    node = ros.node()
    _, received = ros.collector(Skeleton2DArray, "/bridge_test/keypoints_2d", node, RELIABLE_QOS)
    args = [
        "-r",
        "__ns:=/bridge_test",
        "-p",
        "mode:=once",
        "-p",
        "rate_hz:=50.0",
        "-p",
        "frame_id:=test_cam_optical",
        "-p",
        "image_width:=640",
        "-p",
        "image_height:=480",
    ]
    with ros_process("openpose_bridge", args) as proc:
        assert ros.spin_until(lambda: len(received) >= len(FILES), 30.0), proc.log()
        assert proc.wait(10) == 0, proc.log()
    assert len(received) == len(FILES)
    stamps = [m.header.stamp.sec + 1e-9 * m.header.stamp.nanosec for m in received]
    assert stamps == sorted(stamps) and stamps[0] > 0
    for msg in received:
        assert msg.header.frame_id == "test_cam_optical"
        assert (msg.image_width, msg.image_height, msg.source_format) == (
            640,
            480,
            "openpose_body25",
        )
        assert len(msg.skeletons) == 2
        assert all(0.0 < s.score <= 1.0 for s in msg.skeletons)
