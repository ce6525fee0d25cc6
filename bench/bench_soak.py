"""Soak: many messages through the pipeline and the node; RSS and backlog.

Soak: up to 100,000 messages through the lifting code path (in-process LiftingPipeline) and/or the
node over DDS at its maximum rate; prints RSS start/end/growth, throughput and backlog.

Bounded: stops after ``--messages`` or ``--seconds``, whichever comes first. RSS "start" is
taken after ``--warm-up`` messages (allocator pools, onnxruntime arenas, DDS buffers). The DDS
run is closed-loop (at most ``--window`` unanswered messages, lossless reliable QoS): backlog =
messages still unanswered at the end, and the latency trend (last minus first 10 %) shows a
queue that grows over time.

    source scripts/env.sh && python bench/bench_soak.py [--mode pipeline|dds|both] \
        [--messages 100000]
"""

from __future__ import annotations

import argparse
import sys
import time

import _dds
import numpy as np
import rclpy
from visualization_msgs.msg import MarkerArray

from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.ros.parameters import load_params_file
from pose_lifter.tools.sample_bag import openpose_sample_stream
from pose_lifter.ros.pipeline import LiftingPipeline
from pose_lifter_msgs.msg import Skeleton2DArray

NAMESPACE = "/soak_bench"


def report(name, count, elapsed, rss_start, rss_end, extra=""):
    growth = 100.0 * (rss_end - rss_start) / rss_start
    verdict = "PASS" if growth < 5.0 else "FAIL"
    print(
        f"{name}: {count} messages in {elapsed:.1f} s = {count / elapsed:.0f} msg/s; RSS "
        f"{rss_start / 1024:.1f} -> {rss_end / 1024:.1f} MiB ({growth:+.2f} %, goal < 5 %: "
        f"{verdict}){extra}",
        flush=True,
    )


def run_pipeline(args) -> None:
    settings = load_params_file(_dds.CONFIG).replace(smoothing_enabled=True)
    pipeline = LiftingPipeline(settings, PoseLifter(device="cpu"))
    messages = openpose_sample_stream(args.persons)
    for _ in range(args.warm_up):
        pipeline.process(next(messages))
    rss_start, start = _dds.rss_kb(), time.perf_counter()
    count = answered = 0
    checkpoint = max(1, args.messages // 10)
    while count < args.messages and time.perf_counter() - start < args.seconds:
        out = pipeline.process(next(messages))
        answered += out is not None
        count += 1
        if count % checkpoint == 0:
            print(
                f"  pipeline {count:7d} msgs, {time.perf_counter() - start:6.1f} s, "
                f"RSS {_dds.rss_kb() / 1024:.1f} MiB, tracks {len(pipeline.step.active_ids)}",
                flush=True,
            )
    report(
        "pipeline (in-process)",
        count,
        time.perf_counter() - start,
        rss_start,
        _dds.rss_kb(),
        f"; answered {answered}/{count}; drops {sum(pipeline.counters.dropped.values())}",
    )


def run_dds(args) -> None:
    proc = _dds.start_node(NAMESPACE, _dds.LOSSLESS)
    rclpy.init()
    node = rclpy.create_node("soak_bench")
    qos = _dds.LOSSLESS_QOS
    publisher = node.create_publisher(Skeleton2DArray, f"{NAMESPACE}/keypoints_2d", qos)
    received: dict[int, int] = {}
    subscription = node.create_subscription(
        MarkerArray,
        f"{NAMESPACE}/markers",
        lambda data: received.__setitem__(_dds.header_stamp_ns(data, 8), time.monotonic_ns()),
        qos,
        raw=True,
    )
    try:
        _dds.wait_for_graph(rclpy, node, publisher, subscription, proc)
        messages = openpose_sample_stream(args.persons)
        sent: list[int] = []  # stamp ns
        published: list[int] = []  # monotonic ns
        answered = 0

        def pump(target: int, deadline: float) -> int:
            nonlocal answered
            while time.monotonic() < deadline:
                while answered < len(sent) and sent[answered] in received:
                    answered += 1
                if answered >= target:
                    break
                if len(sent) < target and len(sent) - answered < args.window:
                    msg = next(messages)
                    now = time.time_ns()  # unique stamps: the publish time
                    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(now, 1_000_000_000)
                    publisher.publish(msg)
                    sent.append(now)
                    published.append(time.monotonic_ns())
                else:
                    rclpy.spin_once(node, timeout_sec=0.001)
            return answered

        # warm-up: the first messages may be lost to one-sided discovery; repeat until answered
        while not received and proc.poll() is None:
            pump(len(sent) + 1, time.monotonic() + 1.0)
        sent.clear()
        published.clear()
        answered = 0
        pump(args.warm_up, time.monotonic() + 120)
        rss_start, start = _dds.rss_kb(proc.pid), time.perf_counter()
        first, target = len(sent), len(sent) + args.messages
        checkpoint = max(1, args.messages // 10)
        deadline = time.monotonic() + args.seconds
        next_print = first + checkpoint
        while answered < target and time.monotonic() < deadline:
            pump(min(target, next_print), deadline)
            if answered >= next_print:
                print(
                    f"  dds {answered - first:7d} msgs, {time.perf_counter() - start:6.1f} s, "
                    f"node RSS {_dds.rss_kb(proc.pid) / 1024:.1f} MiB",
                    flush=True,
                )
                next_print += checkpoint
        elapsed = time.perf_counter() - start
        count = answered - first
        # backlog: what is still unanswered after 5 s more
        end = time.monotonic() + 5.0
        while time.monotonic() < end and not all(s in received for s in sent[first:]):
            rclpy.spin_once(node, timeout_sec=0.01)
        unanswered = sum(1 for s in sent[first:] if s not in received)
        latency = np.array(
            [
                (received[s] - p) / 1e6
                for s, p in zip(sent[first:], published[first:])
                if s in received
            ]
        )
        tenth = max(1, len(latency) // 10)
        report(
            "node over DDS (max rate, closed loop)",
            count,
            elapsed,
            rss_start,
            _dds.rss_kb(proc.pid),
            f"; sent {len(sent) - first}, unanswered after 5 s: {unanswered}; latency p50 "
            f"{np.median(latency):.1f} ms, trend "
            f"{np.median(latency[-tenth:]) - np.median(latency[:tenth]):+.2f} ms "
            f"({args.window} in flight); node alive: {proc.poll() is None}",
        )
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        _dds.stop(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("pipeline", "dds", "both"), default="both")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=600.0, help="time limit per mode")
    parser.add_argument("--persons", type=int, default=3)
    parser.add_argument("--warm-up", type=int, default=1000)
    parser.add_argument("--window", type=int, default=20, help="dds: messages in flight")
    args = parser.parse_args()
    print(
        f"soak: {args.messages} messages x {args.persons} persons (limit {args.seconds:.0f} s "
        f"per mode), warm-up {args.warm_up}"
    )
    if args.mode in ("pipeline", "both"):
        run_pipeline(args)
    if args.mode in ("dds", "both"):
        run_dds(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
