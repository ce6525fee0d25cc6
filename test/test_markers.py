"""RViz markers from numpy skeletons (no ROS graph).

Every test runs on both builders: the rclpy MarkerArray and the CDR the node publishes
(deserialized by rclpy).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from rclpy.serialization import deserialize_message
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from pose_lifter.runtime.joints import BONES
from pose_lifter.ros.markers import (
    WEAK_ALPHA,
    MarkerStyle,
    skeleton_markers,
    skeleton_markers_cdr,
)
from pose_lifter.runtime.colours import PALETTE, colour_for_id

HEADER = Header(stamp=Time(sec=12, nanosec=345), frame_id="cam_optical")


@pytest.fixture(params=["messages", "cdr"])
def build(request):
    """Build a MarkerArray with one of the two builders (messages, or CDR read back)."""

    def cdr(ids, joints, confidence, style, previous_count=0):
        stamp = (HEADER.stamp.sec, HEADER.stamp.nanosec)
        data = skeleton_markers_cdr(
            stamp, HEADER.frame_id, ids, joints, confidence, style, previous_count
        )
        return deserialize_message(data, MarkerArray)

    def messages(ids, joints, confidence, style, previous_count=0):
        return skeleton_markers(HEADER, ids, joints, confidence, style, previous_count)

    return messages if request.param == "messages" else cdr


def _style(lifetime_s=0.5, namespace="pose_lifter"):
    return MarkerStyle(namespace, 0.06, 0.03, 0.15, lifetime_s)


def _markers(build, ids, confidence=None, lifetime_s=0.5):
    rng = np.random.default_rng(1)
    joints = rng.normal(0, 0.5, (len(ids), 15, 3)) + [0, 0, 3]
    confidence = np.ones((len(ids), 15)) if confidence is None else confidence
    return joints, build(ids, joints, confidence, _style(lifetime_s))


def test_three_markers_per_person_in_the_nodes_namespaces(build):
    joints, array = _markers(build, ["p1", "p2"])
    markers = array.markers
    stale, drawn = markers[:3], markers[3:]
    assert [(m.ns, m.id, m.action) for m in stale] == [
        ("pose_lifter/joints", 2, Marker.DELETE),
        ("pose_lifter/bones", 2, Marker.DELETE),
        ("pose_lifter/ids", 2, Marker.DELETE),
    ]  # the first slot after the last person: an array always carries the header
    per_person = [
        ("pose_lifter/joints", Marker.SPHERE_LIST),
        ("pose_lifter/bones", Marker.LINE_LIST),
        ("pose_lifter/ids", Marker.TEXT_VIEW_FACING),
    ]
    assert [(m.ns, m.type, m.id, m.action) for m in drawn] == [
        (ns, kind, person, Marker.ADD) for person in (0, 1) for ns, kind in per_person
    ]
    spheres, lines, text = drawn[:3]
    assert len(spheres.points) == 15 and len(lines.points) == 2 * len(BONES)
    assert text.text == "p1"
    assert [p.x for p in spheres.points] == joints[0, :, 0].tolist()
    for marker in markers:
        assert marker.header.frame_id == "cam_optical" and marker.header.stamp == HEADER.stamp
    assert (lines.lifetime.sec, lines.lifetime.nanosec) == (0, 500_000_000)


def test_persons_who_left_are_deleted_and_other_namespaces_never_touched(build):
    joints = np.zeros((1, 15, 3)) + [0, 0, 3]
    array = build(["a"], joints, np.ones((1, 15)), _style(namespace="cam2"), 3)
    deleted = {(m.ns, m.id) for m in array.markers if m.action == Marker.DELETE}
    assert deleted == {(f"cam2/{k}", slot) for k in ("joints", "bones", "ids") for slot in (1, 2)}
    assert {m.ns.split("/")[0] for m in array.markers} == {"cam2"}
    assert Marker.DELETEALL not in {m.action for m in array.markers}


def test_no_persons_gives_only_the_stale_deletes(build):
    _, array = _markers(build, [])
    assert {m.action for m in array.markers} == {Marker.DELETE} and len(array.markers) == 3


def test_colours_in_unit_range_stable_and_weak_joints_faded(build):
    confidence = np.ones((1, 15))
    confidence[0, 4] = 0.0
    _, array = _markers(build, ["p7"], confidence)
    spheres, lines, text = array.markers[3:]
    for marker in (spheres, lines, text):
        for c in [marker.color, *marker.colors]:
            assert all(0.0 <= v <= 1.0 for v in (c.r, c.g, c.b, c.a))
    assert spheres.colors[4].a == np.float32(WEAK_ALPHA) and spheres.colors[3].a == 1.0
    rgb = (spheres.color.r, spheres.color.g, spheres.color.b)
    assert np.float32(rgb).tolist() == np.float32(colour_for_id("p7")).tolist()
    assert colour_for_id("p7") == colour_for_id("p7") and colour_for_id("p7") in PALETTE
    assert len({colour_for_id(f"p{i}") for i in range(1, 30)}) > 4


def test_markers_are_finite(build):
    _, array = _markers(build, ["a", "b", "c"])
    for marker in array.markers:
        values = [v for p in marker.points for v in (p.x, p.y, p.z)]
        values += [
            marker.pose.position.x,
            marker.pose.position.y,
            marker.pose.position.z,
            marker.scale.x,
            marker.scale.y,
            marker.scale.z,
        ]
        assert all(math.isfinite(v) for v in values)
