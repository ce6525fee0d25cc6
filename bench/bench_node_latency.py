"""Keypoints -> markers latency of the pose_lifter node through DDS.

Starts the node as a subprocess exactly as the launch file does (``--params-file
config/pose_lifter.yaml``, own namespace), publishes Skeleton2DArray messages with 5 persons at
100 Hz, each stamped with the publish time, and measures ``receive time - header.stamp`` of the
MarkerArray the node publishes for it (the node copies the input stamp). Bounded: at most
``--seconds`` of publishing and ``--max-messages`` messages.

    source scripts/env.sh && python bench/bench_node_latency.py [--rate 100] [--persons 5] \
        [--seconds 5]
"""

from __future__ import annotations

import argparse
import sys
import time

import _dds  # noqa: F401 - sets ROS_DOMAIN_ID / discovery range before rclpy
import numpy as np
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from _dds import start_node, stop, wait_for_graph
from pose_lifter.ros.conversions import skeleton2d_array
from pose_lifter.tools.sample_bag import openpose_sample_frames
from pose_lifter_msgs.msg import Skeleton2DArray

NAMESPACE = "/latency_bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="messages per second")
    parser.add_argument("--persons", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0, help="publishing duration")
    parser.add_argument("--max-messages", type=int, default=1000)
    args = parser.parse_args()

    node_proc = start_node(NAMESPACE)
    rclpy.init()
    node = rclpy.create_node("latency_bench")
    latencies_ms: list[float] = []

    def on_markers(msg: MarkerArray) -> None:
        stamp = msg.markers[0].header.stamp
        latencies_ms.append((time.time_ns() - (stamp.sec * 10**9 + stamp.nanosec)) / 1e6)

    qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    publisher = node.create_publisher(Skeleton2DArray, f"{NAMESPACE}/keypoints_2d", qos)
    subscription = node.create_subscription(MarkerArray, f"{NAMESPACE}/markers", on_markers, qos)
    try:
        try:
            wait_for_graph(rclpy, node, publisher, subscription, node_proc)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
        frames = openpose_sample_frames(args.persons)
        confidence_ones = np.ones(args.persons)
        period = 1.0 / args.rate
        sent = 0
        start = time.monotonic()
        next_publish = start
        while time.monotonic() - start < args.seconds and sent < args.max_messages:
            now = time.monotonic()
            if now >= next_publish:
                kp = frames[sent % len(frames)]
                header = Header(
                    stamp=node.get_clock().now().to_msg(), frame_id="camera_optical_frame"
                )
                publisher.publish(
                    skeleton2d_array(
                        header,
                        kp[..., :2],
                        kp[..., 2],
                        confidence_ones,
                        [""] * args.persons,
                        (1280, 720),
                        "openpose_body25",
                    )
                )
                sent += 1
                next_publish += period
            rclpy.spin_once(node, timeout_sec=max(0.0, next_publish - time.monotonic()))
        achieved = sent / (time.monotonic() - start)
        drain = time.monotonic() + 2.0
        while len(latencies_ms) < sent and time.monotonic() < drain:
            rclpy.spin_once(node, timeout_sec=0.05)
        values = np.asarray(latencies_ms)
        print(
            f"sent {sent} messages x {args.persons} persons at {args.rate:.0f} Hz "
            f"(achieved {achieved:.0f} Hz), received {len(values)} MarkerArrays"
        )
        if len(values):
            print(
                f"keypoints->markers latency: p50 {np.percentile(values, 50):.2f} ms, "
                f"p90 {np.percentile(values, 90):.2f} ms, p99 {np.percentile(values, 99):.2f} ms, "
                f"max {values.max():.2f} ms"
            )
        return 0
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        stop(node_proc)


if __name__ == "__main__":
    sys.exit(main())
