"""Two cameras, one RViz display: each node's markers live in its own namespaces, over DDS.

Two in-process nodes (``/cam1``, ``/cam2``) publish their markers on one topic, as two cameras
shown in one MarkerArray display. The display is replayed with RViz's marker semantics (ADD
replaces the marker of its ``(ns, id)``, DELETE removes it, DELETEALL removes everything): after
any interleaving it must show exactly each camera's current people.
"""

from __future__ import annotations

from builtin_interfaces.msg import Time
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from pose_lifter.tools.sample_bag import openpose_sample_frames, openpose_sample_msg
from test_node_dds import Io


class Display:
    """What an RViz MarkerArray display shows after the arrays it received."""

    def __init__(self):
        self.shown: dict[tuple[str, int], Marker] = {}

    def apply(self, array: MarkerArray) -> None:
        for marker in array.markers:
            if marker.action == Marker.DELETEALL:
                self.shown.clear()
            elif marker.action == Marker.DELETE:
                self.shown.pop((marker.ns, marker.id), None)
            else:
                self.shown[(marker.ns, marker.id)] = marker

    def people(self, node: str) -> set[str]:
        return {m.text for (ns, _), m in self.shown.items() if ns == f"{node}/ids"}


def test_two_nodes_share_one_marker_display(ros, lifter_node):
    people = openpose_sample_frames()[0]  # two people
    display, received = Display(), []
    ios = {}
    for camera in ("cam1", "cam2"):
        lifter_node(f"/{camera}", "-r", "markers:=/shared_markers")
        ios[camera] = Io(ros, f"/{camera}")
    node = ros.node()
    shared = node.create_subscription(
        MarkerArray, "/shared_markers", lambda a: (received.append(a), display.apply(a)), 50
    )
    for io in ios.values():
        io.marker_sub = shared  # the node's markers go to the shared topic (remapped)
        io.connect()
    ros.spin_until(lambda: False, 0.5)
    received.clear()
    display.shown.clear()  # the connection probes' (empty) arrays

    def send(camera: str, count: int, sec: int) -> None:
        header = Header(stamp=Time(sec=sec), frame_id=camera)
        before = len(received)
        ios[camera].keypoints.publish(openpose_sample_msg(header, people[:count]))
        assert ros.spin_until(lambda: len(received) > before, 10.0)

    send("cam1", 2, 10)
    send("cam2", 1, 11)
    assert display.people("cam1_pose_lifter_p") and display.people("cam2_pose_lifter_p")
    assert len(display.people("cam1_pose_lifter_p")) == 2  # cam2 did not wipe cam1
    send("cam1", 1, 12)  # one of cam1's people left
    send("cam2", 2, 13)
    send("cam2", 0, 14)  # cam2 sees nobody now
    assert len(display.people("cam1_pose_lifter_p")) == 1
    assert display.people("cam2_pose_lifter_p") == set()
    assert len(display.shown) == 3  # cam1's one person: joints, bones, label
    actions = {m.action for array in received for m in array.markers}
    assert Marker.DELETEALL not in actions
