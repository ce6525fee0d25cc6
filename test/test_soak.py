"""Short soak runs: thousands of messages through the pipeline and the node.

Short soak runs (``make test``): thousands of messages through the lifting code path and the node;
memory stays flat and every message is answered (no backlog).

The 100,000-message variant with printed numbers is ``bench/bench_soak.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header

from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.ros.parameters import load_params_file
from pose_lifter.tools.sample_bag import openpose_sample_stream
from pose_lifter.ros.pipeline import LiftingPipeline
from pose_lifter_msgs.msg import Skeleton2DArray, Skeleton3DArray
from ros_helpers import CONFIG, ros_process

MAX_RSS_GROWTH = 0.05


def rss_kb(pid="self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def test_pipeline_soak_3000_messages_flat_memory():
    settings = load_params_file(CONFIG).replace(smoothing_enabled=True)
    pipeline = LiftingPipeline(settings, PoseLifter(device="cpu"))
    messages = openpose_sample_stream()
    for _ in range(300):  # warm-up: allocator pools, onnxruntime arenas
        pipeline.process(next(messages))
    start_rss, start = rss_kb(), time.perf_counter()
    answered = 0
    for _ in range(3000):
        out = pipeline.process(next(messages))
        answered += out is not None and len(out.skeletons.skeletons) == 3
    elapsed, end_rss = time.perf_counter() - start, rss_kb()
    growth = (end_rss - start_rss) / start_rss
    print(
        f"\npipeline soak: 3000 msgs x 3 persons in {elapsed:.1f} s ({3000 / elapsed:.0f} msg/s), "
        f"RSS {start_rss / 1024:.0f} -> {end_rss / 1024:.0f} MiB ({100 * growth:+.2f} %)"
    )
    assert answered == 3000
    assert growth < MAX_RSS_GROWTH
    bound = settings.max_persons * (settings.tracking_max_missed + 1)
    step = pipeline.step
    assert len(step.tracker.active_ids) <= bound
    assert len(step.smoother._filters) <= len(step.tracker.active_ids)
    assert len(step.temporal._filters) <= len(step.tracker.active_ids)
    assert len(step.history._tracks) <= len(step.tracker.active_ids)
    assert sum(pipeline.counters.dropped.values()) == 0


def test_node_soak_over_dds_every_message_answered(ros, ros_domain_id):
    namespace, total, window = "/soak", 1000, 20
    args = [
        "--params-file",
        str(CONFIG),
        "-r",
        f"__ns:={namespace}",
        "-p",
        "qos.input_reliability:=reliable",
        "-p",
        "qos.input_depth:=1000",
        "-p",
        "qos.output_depth:=1000",
    ]
    qos = QoSProfile(
        history=HistoryPolicy.KEEP_LAST, depth=1000, reliability=ReliabilityPolicy.RELIABLE
    )
    with ros_process("pose_lifter_node", args) as proc:
        node = ros.node()
        publisher = node.create_publisher(Skeleton2DArray, f"{namespace}/keypoints_2d", qos)
        outputs: list = []
        received: set = set()

        def on_output(msg):
            key = (msg.header.stamp.sec, msg.header.stamp.nanosec)
            outputs.append(key)
            received.add(key)

        sub = node.create_subscription(
            Skeleton3DArray, f"{namespace}/skeletons_3d", on_output, qos
        )
        ros.wait_for_subscribers(publisher, 1, 30.0)
        ros.wait_for_publishers(sub, 1, 30.0)
        messages = openpose_sample_stream()
        warm = Skeleton2DArray(header=Header(frame_id="camera_optical_frame"))
        assert ros.spin_until(
            lambda: outputs or publisher.publish(warm), 30.0, step=0.1
        ), proc.log()
        sent: list = []

        def run(count):
            """Publish ``count`` messages, at most ``window`` unanswered at any time."""
            answered, target = len(sent), len(sent) + count
            deadline = time.monotonic() + 120.0
            while answered < target and time.monotonic() < deadline:
                while answered < len(sent) and sent[answered] in received:
                    answered += 1
                if len(sent) < target and len(sent) - answered < window:
                    msg = next(messages)
                    publisher.publish(msg)
                    sent.append((msg.header.stamp.sec, msg.header.stamp.nanosec))
                else:
                    ros.executor.spin_once(timeout_sec=0.001)
            assert answered == target, (answered, target, proc.log()[-2000:])

        run(200)  # warm-up
        start_rss, start = rss_kb(proc.process.pid), time.perf_counter()
        run(total)
        elapsed, end_rss = time.perf_counter() - start, rss_kb(proc.process.pid)
        growth = (end_rss - start_rss) / start_rss
        answered = [s for s in outputs if s in set(sent)]
        assert len(sent) == 200 + total
        print(
            f"\nnode soak over DDS: {len(sent)} msgs, {len(answered)} answered, "
            f"{total / elapsed:.0f} msg/s, node RSS {start_rss / 1024:.0f} -> "
            f"{end_rss / 1024:.0f} MiB ({100 * growth:+.2f} %)"
        )
        assert proc.process.poll() is None, proc.log()
        assert answered == sent, "every message answered, in order (no backlog, no loss)"
        assert growth < MAX_RSS_GROWTH, proc.log()[-2000:]
