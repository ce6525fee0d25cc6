"""pose_lifter_msgs: every message type travels over real DDS intact.

Publishes each of the 6 message types from one rclpy node and receives it on another
(same process, real Fast DDS), plus one cross-process round trip, and checks the
constants. Values are chosen exactly representable in float32 so equality is exact.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point
from std_msgs.msg import Header

from pose_lifter_msgs.msg import (
    Keypoint2D,
    Keypoint3D,
    Skeleton2D,
    Skeleton2DArray,
    Skeleton3D,
    Skeleton3DArray,
)

JOINTS = {
    "NOSE": 0,
    "NECK": 1,
    "RSHOULDER": 2,
    "RELBOW": 3,
    "RWRIST": 4,
    "LSHOULDER": 5,
    "LELBOW": 6,
    "LWRIST": 7,
    "MIDHIP": 8,
    "RHIP": 9,
    "RKNEE": 10,
    "RANKLE": 11,
    "LHIP": 12,
    "LKNEE": 13,
    "LANKLE": 14,
}


# ------------------------------------------------------------------ builders
def kp2d(i: int, person: int = 0) -> Keypoint2D:
    # float32-exact values, distinct per joint and person
    return Keypoint2D(
        x=100.25 + 3.5 * i + 1000.0 * person,
        y=50.75 + 7.25 * i,
        confidence=0.0 if i == 14 else 0.5 + i / 64.0,
    )


def kp3d(i: int, person: int = 0) -> Keypoint3D:
    return Keypoint3D(
        position=Point(x=-0.123456789 + 0.1 * i + person, y=1.7 - 0.11 * i, z=3.0 + 1e-9 * i),
        confidence=0.0 if i == 0 else 0.25 + i / 32.0,
    )


def skel2d(person: int = 0) -> Skeleton2D:
    return Skeleton2D(
        id=f"person-{person}-ü",
        score=0.875 - person / 8.0,
        keypoints=[kp2d(i, person) for i in range(15)],
    )


def skel3d(person: int = 0) -> Skeleton3D:
    return Skeleton3D(
        id=f"track_{person}",
        score=0.625 + person / 16.0,
        keypoints=[kp3d(i, person) for i in range(15)],
        scale_source=Skeleton3D.SCALE_ASSUMED_HEIGHT if person else Skeleton3D.SCALE_DEPTH,
    )


def header(sec: int = 1_700_000_123, nanosec: int = 456_789_012) -> Header:
    return Header(stamp=Time(sec=sec, nanosec=nanosec), frame_id="camera_color_optical_frame")


def skel2d_array() -> Skeleton2DArray:
    return Skeleton2DArray(
        header=header(),
        image_width=1920,
        image_height=1080,
        source_format="openpose_body25",
        skeletons=[skel2d(0), skel2d(1), skel2d(2)],
    )


def skel3d_array() -> Skeleton3DArray:
    return Skeleton3DArray(header=header(nanosec=999_999_999), skeletons=[skel3d(0), skel3d(1)])


# ------------------------------------------------------------------ constants
@pytest.mark.parametrize("cls", [Skeleton2D, Skeleton3D])
def test_joint_constants(cls):
    for name, value in JOINTS.items():
        assert getattr(cls, name) == value, name
    assert cls.NUM_JOINTS == 15 == len(JOINTS)
    assert len(cls().keypoints) == cls.NUM_JOINTS


def test_scale_source_constants():
    assert (
        Skeleton3D.SCALE_NORMALIZED,
        Skeleton3D.SCALE_ASSUMED_HEIGHT,
        Skeleton3D.SCALE_DEPTH,
    ) == (0, 1, 2)
    assert Skeleton3D().scale_source == Skeleton3D.SCALE_NORMALIZED


def test_keypoints_array_is_fixed_size():
    # field checks are opt-in in rclpy messages (check_fields / ROS_PYTHON_CHECK_FIELDS=1)
    with pytest.raises((AssertionError, ValueError, TypeError)):
        Skeleton2D(keypoints=[Keypoint2D()] * 14, check_fields=True)
    with pytest.raises((AssertionError, ValueError, TypeError)):
        Skeleton3D(keypoints=[Keypoint3D()] * 16, check_fields=True)
    Skeleton3D(keypoints=[Keypoint3D()] * 15, check_fields=True)


# ------------------------------------------------------------------ DDS round trips
def test_keypoint2d_dds(ros):
    sent = [kp2d(i) for i in range(15)]
    got = ros.roundtrip(Keypoint2D, sent)
    assert got == sent
    assert (got[3].x, got[3].y, got[3].confidence) == (110.75, 72.5, 0.5 + 3 / 64.0)
    assert got[14].confidence == 0.0


def test_keypoint3d_dds(ros):
    sent = [kp3d(i) for i in range(15)]
    got = ros.roundtrip(Keypoint3D, sent)
    assert got == sent
    # float64 positions survive bit-exactly
    assert got[7].position.x == -0.123456789 + 0.1 * 7
    assert got[5].position.z == 3.0 + 5e-9


def test_skeleton2d_dds(ros):
    (got,) = ros.roundtrip(Skeleton2D, [skel2d(1)])
    assert got == skel2d(1)
    assert got.id == "person-1-ü"
    assert got.score == 0.75
    assert len(got.keypoints) == 15
    la = got.keypoints[Skeleton2D.LANKLE]
    assert (la.x, la.y, la.confidence) == (100.25 + 3.5 * 14 + 1000.0, 50.75 + 7.25 * 14, 0.0)


def test_skeleton3d_dds(ros):
    (got,) = ros.roundtrip(Skeleton3D, [skel3d(1)])
    assert got == skel3d(1)
    assert got.scale_source == Skeleton3D.SCALE_ASSUMED_HEIGHT
    assert got.keypoints[Skeleton3D.MIDHIP].position == kp3d(8, 1).position
    assert [k.confidence for k in got.keypoints][:2] == [0.0, 0.25 + 1 / 32.0]


def test_skeleton2d_array_dds(ros):
    sent = [
        skel2d_array(),
        Skeleton2DArray(
            header=header(sec=0, nanosec=1),
            image_width=640,
            image_height=480,
            source_format="coco17",
        ),
    ]
    got = ros.roundtrip(Skeleton2DArray, sent)
    assert got == sent
    first, empty = got
    assert (first.header.stamp.sec, first.header.stamp.nanosec) == (1_700_000_123, 456_789_012)
    assert first.header.frame_id == "camera_color_optical_frame"
    assert (first.image_width, first.image_height, first.source_format) == (
        1920,
        1080,
        "openpose_body25",
    )
    assert [s.id for s in first.skeletons] == ["person-0-ü", "person-1-ü", "person-2-ü"]
    assert first.skeletons[2].keypoints[Skeleton2D.NECK].x == 100.25 + 3.5 + 2000.0
    assert empty.skeletons == [] and empty.source_format == "coco17"


def test_skeleton3d_array_dds(ros):
    (got,) = ros.roundtrip(Skeleton3DArray, [skel3d_array()])
    assert got == skel3d_array()
    assert got.header.stamp.nanosec == 999_999_999
    assert got.header.frame_id == "camera_color_optical_frame"
    assert [s.scale_source for s in got.skeletons] == [
        Skeleton3D.SCALE_DEPTH,
        Skeleton3D.SCALE_ASSUMED_HEIGHT,
    ]
    assert got.skeletons[1].keypoints[Skeleton3D.RWRIST].position.y == 1.7 - 0.11 * 4


_PUBLISHER_SCRIPT = textwrap.dedent("""
    import sys, time, rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    sys.path.insert(0, sys.argv[2])
    import test_msgs_dds as t
    from pose_lifter_msgs.msg import Skeleton3DArray
    rclpy.init()
    node = rclpy.create_node("pl_test_remote_publisher")
    pub = node.create_publisher(Skeleton3DArray, sys.argv[1],
                                QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:   # keep publishing until the test kills us
        if pub.get_subscription_count() > 0:
            pub.publish(t.skel3d_array())
        time.sleep(0.05)
""")


def test_skeleton3d_array_cross_process(ros, ros_domain_id, tmp_path):
    """Publish from a separate Python process.

    A separate Python process (same venv, same env: domain id, LD_LIBRARY_PATH, PYTHONPATH of the
    install/ overlay) publishes; this process receives.
    """
    import os
    from pathlib import Path

    assert os.environ["ROS_DOMAIN_ID"] == str(ros_domain_id)
    topic = "/pl_test/cross_process_skeletons"
    sub, received = ros.collector(Skeleton3DArray, topic)
    proc = subprocess.Popen(
        [sys.executable, "-c", _PUBLISHER_SCRIPT, topic, str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ok = ros.spin_until(lambda: len(received) >= 1 or proc.poll() is not None, timeout=15.0)
        assert (
            ok and received
        ), f"no message from the publisher process; its output:\n{_output(proc)}"
    finally:
        proc.kill()
        proc.wait(timeout=5)
    assert received[0] == skel3d_array()


def _output(proc) -> str:
    if proc.poll() is None:
        proc.kill()
    return proc.communicate(timeout=5)[0]
