"""CPU of the node while it should cost nothing: deactivated, and active with no subscriber.

The installed node runs as the launch file starts it; a 100 Hz x 5 persons keypoints stream is
published for ``--seconds`` in each state and the node's own CPU time is read from /proc:

- active, markers subscribed (the reference: it lifts every message);
- active, nobody subscribed to any output (inputs skipped and counted);
- deactivated through ``<node>/change_state`` (no subscription: nothing is received).

    source scripts/env.sh && python bench/bench_node_idle.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import sys
import time

import _dds
import rclpy
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
from visualization_msgs.msg import MarkerArray

from pose_lifter.tools.sample_bag import openpose_sample_messages
from pose_lifter_msgs.msg import Skeleton2DArray

NAMESPACE = "/idle_bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    proc = _dds.start_node(NAMESPACE, _dds.LOSSLESS)
    rclpy.init()
    node = rclpy.create_node("idle_bench")
    publisher = node.create_publisher(
        Skeleton2DArray, f"{NAMESPACE}/keypoints_2d", _dds.LOSSLESS_QOS
    )
    received = [0]
    markers = node.create_subscription(
        MarkerArray,
        f"{NAMESPACE}/markers",
        lambda _: received.__setitem__(0, received[0] + 1),
        _dds.LOSSLESS_QOS,
        raw=True,
    )
    messages = openpose_sample_messages(5)

    def stream(seconds: float) -> tuple[float, int]:
        """Publish at 100 Hz; return the node's CPU ms per second, markers received, sent."""
        before, count = _dds.cpu_seconds(proc.pid), received[0]
        start = time.monotonic()
        sent = 0
        while time.monotonic() - start < seconds:
            msg = messages[sent % len(messages)]
            msg.header.stamp = node.get_clock().now().to_msg()
            publisher.publish(msg)
            sent += 1
            while (left := start + sent / 100.0 - time.monotonic()) > 0:
                rclpy.spin_once(node, timeout_sec=left)
        cpu_ms = 1e3 * (_dds.cpu_seconds(proc.pid) - before) / seconds
        return cpu_ms, received[0] - count, sent

    try:
        _dds.wait_for_graph(rclpy, node, publisher, markers, proc)
        stream(1.0)  # warm
        rows = [("active, markers subscribed", *stream(args.seconds))]
        node.destroy_subscription(markers)
        time.sleep(1.0)
        rows.append(("active, no output subscribed", *stream(args.seconds)))
        client = node.create_client(ChangeState, f"{NAMESPACE}/pose_lifter/change_state")
        client.wait_for_service(timeout_sec=10.0)
        future = client.call_async(
            ChangeState.Request(transition=Transition(id=Transition.TRANSITION_DEACTIVATE))
        )
        rclpy.spin_until_future_complete(node, future, timeout_sec=10.0)
        assert future.result() is not None and future.result().success, "deactivate failed"
        time.sleep(1.0)
        rows.append(("deactivated", *stream(args.seconds)))
        print(f"pose_lifter node CPU, 100 Hz x 5 persons published for {args.seconds:.0f} s each")
        print(
            f"{'state':<30} {'node CPU ms/s':>14} {'% of a core':>11} {'sent':>6} {'markers':>8}"
        )
        for name, cpu_ms, count, sent in rows:
            print(f"{name:<30} {cpu_ms:14.1f} {cpu_ms / 10:10.1f}% {sent:6d} {count:8d}")
        return 0
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        _dds.stop(proc)


if __name__ == "__main__":
    sys.exit(main())
