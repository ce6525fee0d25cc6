"""A do-nothing rclpy relay: the baseline of the node's keypoints->markers latency.

It subscribes to ``<namespace>/keypoints_2d`` (Skeleton2DArray) with the node's lossless QoS and,
per message, publishes a Skeleton3DArray and a MarkerArray of the same sizes as the node's output
for ``persons`` people, with the input's stamp. Same executor (rclpy.spin), same message types
and sizes, no lifting: the difference to the node is the node's per-message work. Two kinds:

- ``bytes`` (the floor the node is held to): the input taken raw (``raw=True``, never
  deserialized) and the outputs published as serialized bytes prepared at start (the stamp
  patched in), exactly as the node reads and writes them;
- ``messages``: the input deserialized to an rclpy message and prebuilt rclpy messages
  published (rclpy serializes them per message): what a plain rclpy node pays.

    python bench/_relay.py NAMESPACE PERSONS bytes|messages
"""

from __future__ import annotations

import struct
import sys

import numpy as np
import rclpy
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from _dds import CONFIG, LOSSLESS_QOS
from pose_lifter.ros.conversions import LiftedPeople
from pose_lifter.ros.markers import MarkerStyle
from pose_lifter.ros.parameters import load_params_file
from pose_lifter.ros.pipeline import PipelineOutput
from pose_lifter.ros.process import run_node
from pose_lifter_msgs.msg import Skeleton2DArray, Skeleton3DArray

#: Where a serialized message's header stamp lies: after the 4-byte encapsulation header.
STAMP = struct.Struct("<iI")
STAMP_OFFSET = 4


def outputs(persons: int) -> PipelineOutput:
    """Build the node's output of ``persons`` people once, with the node's own builders."""
    settings = load_params_file(CONFIG)
    rng = np.random.default_rng(0)
    people = LiftedPeople(
        [f"p{i + 1}" for i in range(persons)],
        [str(i) for i in range(persons)],
        rng.normal([0.0, 0.0, 3.0], 0.3, (persons, 15, 3)),
        np.ones((persons, 15)),
        np.ones(persons),
        [1] * persons,
        None,
        np.zeros((persons, 15, 3)),
        np.full((persons, 15), 0.05),
        0.9,
    )
    style = MarkerStyle(
        "pose_lifter",
        settings.markers_joint_diameter_m,
        settings.markers_bone_width_m,
        settings.markers_text_height_m,
        settings.markers_lifetime_s,
    )
    centres = people.joints_m.mean(axis=1)
    return PipelineOutput((0, 0), "camera_optical_frame", people, style, 0, [], centres)


def main() -> int:
    namespace, persons, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    output = outputs(persons)

    def make_node():
        node = rclpy.create_node("relay", namespace=namespace)
        skeletons_pub = node.create_publisher(Skeleton3DArray, "skeletons_3d", LOSSLESS_QOS)
        markers_pub = node.create_publisher(MarkerArray, "markers", LOSSLESS_QOS)
        if kind == "bytes":
            skeletons = bytearray(output.skeletons_cdr)
            markers = bytearray(output.markers_cdr)

            def relay(data: bytes) -> None:
                stamp = data[STAMP_OFFSET : STAMP_OFFSET + STAMP.size]
                skeletons[STAMP_OFFSET : STAMP_OFFSET + STAMP.size] = stamp
                for at in marker_stamps:  # every marker carries the header
                    markers[at : at + STAMP.size] = stamp
                skeletons_pub.publish(bytes(skeletons))
                markers_pub.publish(bytes(markers))

            marker_stamps = stamp_offsets(bytes(markers))
            node.create_subscription(
                Skeleton2DArray, "keypoints_2d", relay, LOSSLESS_QOS, raw=True
            )
        else:
            header = Header(frame_id="camera_optical_frame")
            skeletons, markers = output.skeletons, output.markers
            skeletons.header = header
            for marker in markers.markers:
                marker.header = header

            def relay_messages(msg: Skeleton2DArray) -> None:
                header.stamp = msg.header.stamp  # the header object every output shares
                skeletons_pub.publish(skeletons)
                markers_pub.publish(markers)

            node.create_subscription(Skeleton2DArray, "keypoints_2d", relay_messages, LOSSLESS_QOS)
        return node

    return run_node(make_node, "relay", args=[])


def stamp_offsets(markers_cdr: bytes) -> list[int]:
    """Offsets of the (zero) stamps in the prepared MarkerArray: each marker's header."""
    offsets, start = [], STAMP_OFFSET + 4  # encapsulation, then the marker count
    zero_stamp_then_frame = STAMP.pack(0, 0) + struct.pack("<I", len("camera_optical_frame") + 1)
    while True:
        at = markers_cdr.find(zero_stamp_then_frame, start)
        if at < 0:
            return offsets
        offsets.append(at)
        start = at + 1


if __name__ == "__main__":
    sys.exit(main())
