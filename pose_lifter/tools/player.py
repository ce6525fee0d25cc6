"""Play a bag's camera into a running pose_lifter node, in a loop, as a live camera would.

``pose-lifter play [BAG] [--rate R] [--once] [--node-ns NS]``: the bag's input topic (images,
compressed images or Skeleton2DArray) and its CameraInfo go to the node's input topics (as
``pose-lifter replay --live`` maps them: ``image/compressed``, ``camera_info``, ...) with their
original timing, every header restamped with the player's clock (so a viewer shows them as
now), again and again. The default bag is the bundled camera sample (``vtest_bag``, 30 JPEG
frames of pedestrians). ``demo.launch.py`` starts it for ``input_mode:=image``.
"""

from __future__ import annotations

import time
from pathlib import Path

from pose_lifter.tools.bag_io import BagReader, rclpy_type
from pose_lifter.tools.replay import node_input_topic, select_topics


def load_messages(bag: Path) -> list[tuple[str, str, int, object]]:
    """``(bag topic, node topic, receive time ns, rclpy message)`` of the bag's inputs."""
    with BagReader(bag) as reader:
        selection = select_topics({n: i.msgtype for n, i in reader.topics().items()})
        wanted = selection.inputs + selection.camera_info
        return [
            (item.topic, selection.types[item.topic], item.timestamp_ns, item.to_rclpy())
            for item in reader.messages(wanted)
        ]


def play(bag: Path, rate: float = 1.0, loop: bool = True, node_ns: str = "/", args=None) -> int:
    """Publish the bag (see the module docstring) until stopped (Ctrl-C) or, once, to its end."""
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

    messages = load_messages(bag)
    rclpy.init(args=args)
    node = rclpy.create_node("pose_lifter_player")
    qos = QoSProfile(
        history=HistoryPolicy.KEEP_LAST, depth=5, reliability=ReliabilityPolicy.RELIABLE
    )
    publishers = {}
    for topic, msgtype, _, _ in messages:
        if topic not in publishers:
            target = node_input_topic(msgtype, node_ns) or topic
            if node_ns in ("", "/"):  # relative: a namespace remap of the player applies
                target = target.lstrip("/")
            publishers[topic] = node.create_publisher(rclpy_type(msgtype), target, qos)
    topics = sorted(p.topic_name for p in publishers.values())
    node.get_logger().info(
        f"playing {bag} ({len(messages)} messages) into {topics}" + (" in a loop" if loop else "")
    )
    try:
        while rclpy.ok():
            started, first = time.monotonic(), messages[0][2]
            for topic, _, receive_ns, msg in messages:
                due = started + (receive_ns - first) * 1e-9 / rate
                while rclpy.ok() and time.monotonic() < due:
                    rclpy.spin_once(node, timeout_sec=min(0.05, max(due - time.monotonic(), 0)))
                msg.header.stamp = node.get_clock().now().to_msg()
                publishers[topic].publish(msg)
            if not loop:
                break
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
