"""A do-nothing rclpy relay: the baseline of the node's keypoints->markers latency.

It subscribes to ``<namespace>/keypoints_2d`` (Skeleton2DArray) with the node's lossless QoS and,
per message, publishes a prebuilt Skeleton3DArray and MarkerArray of the same sizes as the
node's output for ``persons`` people (built once at start with the node's own builders), with
the input's stamp copied in. Same executor (rclpy.spin), same message types and sizes, no
lifting: the difference to the node is the node's per-message work.

    python bench/_relay.py NAMESPACE PERSONS
"""

from __future__ import annotations

import sys

import numpy as np
import rclpy
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from _dds import LOSSLESS_QOS
from pose_lifter.ros.conversions import skeleton3d_array
from pose_lifter.ros.markers import MarkerStyle, skeleton_markers
from pose_lifter.ros.parameters import load_params_file
from pose_lifter.ros.process import run_node
from pose_lifter_msgs.msg import Skeleton2DArray, Skeleton3DArray
from _dds import CONFIG


def main() -> int:
    namespace, persons = sys.argv[1], int(sys.argv[2])
    settings = load_params_file(CONFIG)
    header = Header(frame_id="camera_optical_frame")
    ids = [f"p{i + 1}" for i in range(persons)]
    joints = np.random.default_rng(0).normal([0.0, 0.0, 3.0], 0.3, (persons, 15, 3))
    confidence = np.ones((persons, 15))
    skeletons = skeleton3d_array(header, ids, joints, confidence, np.ones(persons), 1)
    style = MarkerStyle(
        "pose_lifter",
        settings.markers_joint_diameter_m,
        settings.markers_bone_width_m,
        settings.markers_text_height_m,
        settings.markers_lifetime_s,
    )
    markers = skeleton_markers(header, ids, joints, confidence, style)

    def make_node():
        node = rclpy.create_node("relay", namespace=namespace)
        skeletons_pub = node.create_publisher(Skeleton3DArray, "skeletons_3d", LOSSLESS_QOS)
        markers_pub = node.create_publisher(MarkerArray, "markers", LOSSLESS_QOS)

        def relay(msg: Skeleton2DArray) -> None:
            header.stamp = msg.header.stamp  # the header object every output message shares
            skeletons_pub.publish(skeletons)
            markers_pub.publish(markers)

        node.create_subscription(Skeleton2DArray, "keypoints_2d", relay, LOSSLESS_QOS)
        return node

    return run_node(make_node, "relay", args=[])


if __name__ == "__main__":
    sys.exit(main())
