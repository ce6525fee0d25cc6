"""Load table of the pose_lifter node through DDS.

Load table of the pose_lifter node through DDS: keypoints->markers latency at 30, 100 and 500 Hz
with 1, 5 and 10 persons, then the maximum sustained rate.

The node runs once, as a subprocess started like the launch file (``--params-file
config/pose_lifter.yaml``) with lossless input QoS (reliable, depth 1000: no message is
hidden by a best-effort drop; any loss shows as ``recv < sent``). Each cell publishes
open-loop at the rate for ``--seconds``, every message stamped with its publish time; the
latency is ``receive time - header.stamp`` of the node's MarkerArray (the stamp is read from
the raw CDR bytes, so this process does not deserialize markers). ``trend`` = median latency
of the last quarter minus the first quarter (a growing backlog makes it grow with time);
``node cpu/msg`` = the node's own CPU time per message (less sensitive to other load than
wall-clock latency). The max-rate row publishes closed-loop (at most ``--window`` messages
in flight) for ``--max-rate-seconds``.

Baselines in the same run: two do-nothing rclpy relays (``bench/_relay.py``: same input and
output message types and sizes, outputs prepared at start) in their own processes get the same
100 Hz x 5 persons stream, alternating with the node (``--compare-rounds`` rounds of
``--seconds`` each): ``bytes`` reads the input raw and publishes serialized bytes, as the node
does (the floor the node is held to, goal <= 1.25x), ``messages`` deserializes the input and
publishes rclpy messages (what a plain rclpy node pays). Both ratios are printed.

    source scripts/env.sh && python bench/bench_node_load.py [--seconds 3] [--persons 1,5,10]
    source scripts/env.sh && python bench/bench_node_load.py --compare-only
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import subprocess
from pathlib import Path

import _dds
import numpy as np
import rclpy
from visualization_msgs.msg import MarkerArray

from pose_lifter.tools.sample_bag import openpose_sample_messages
from pose_lifter_msgs.msg import Skeleton2DArray

NAMESPACE = "/load_bench"
RELAY_NAMESPACE = "/relay_bench"
RELAY = Path(__file__).with_name("_relay.py")
#: The relays the node is compared with: bytes (the floor, as the node reads and writes) and
#: messages (rclpy messages in and out).
RELAYS = ("bytes", "messages")
GOAL = "goal: 100 Hz x 5 persons p50 <= 2 ms, p99 <= 10 ms; >= 500 msg/s sustained, no backlog"


class Bench:
    def __init__(self, node, publisher):
        self.node, self.publisher = node, publisher
        self.received: dict[int, int] = {}  # stamp ns -> receive ns

    def on_markers(self, data: bytes) -> None:
        self.received[_dds.header_stamp_ns(data, 8)] = time.time_ns()

    def publish(self, msg) -> int:
        now = time.time_ns()
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(now, 1_000_000_000)
        self.publisher.publish(msg)
        return now

    def drain(self, stamps: list[int], seconds: float = 60.0, idle: float = 2.0) -> None:
        """Spin until every message is answered, lost, or time is up.

        Spin until every message in ``stamps`` is answered, nothing arrived for ``idle`` seconds
        (lost), or ``seconds`` passed: the next cell starts with the node idle.
        """
        deadline = time.monotonic() + seconds
        last, count = time.monotonic(), len(self.received)
        while time.monotonic() < deadline and not all(s in self.received for s in stamps):
            rclpy.spin_once(self.node, timeout_sec=0.02)
            if len(self.received) != count:
                last, count = time.monotonic(), len(self.received)
            elif time.monotonic() - last > idle:
                break
        end = time.monotonic() + 0.2
        while time.monotonic() < end:
            rclpy.spin_once(self.node, timeout_sec=0.02)

    def open_loop(self, messages, rate: float, seconds: float) -> tuple[list[int], float]:
        period_ns = int(1e9 / rate)
        stamps: list[int] = []
        start = time.monotonic_ns()
        next_ns = start
        while time.monotonic_ns() - start < seconds * 1e9:
            now = time.monotonic_ns()
            if now >= next_ns:
                stamps.append(self.publish(messages[len(stamps) % len(messages)]))
                next_ns += period_ns
                continue
            rclpy.spin_once(self.node, timeout_sec=max(0.0, (next_ns - time.monotonic_ns()) / 1e9))
        achieved = len(stamps) / ((time.monotonic_ns() - start) / 1e9)
        self.drain(stamps)
        return stamps, achieved

    def closed_loop(self, messages, window: int, seconds: float) -> tuple[list[int], float]:
        stamps: list[int] = []
        start = time.monotonic()
        answered = 0  # outputs come in input order: count the answered prefix
        while time.monotonic() - start < seconds:
            while answered < len(stamps) and stamps[answered] in self.received:
                answered += 1
            if len(stamps) - answered < window:
                stamps.append(self.publish(messages[len(stamps) % len(messages)]))
            else:
                rclpy.spin_once(self.node, timeout_sec=0.001)
        self.drain(stamps)
        return stamps, len(stamps) / (time.monotonic() - start)


def summarize(bench: Bench, stamps: list[int]) -> dict:
    latencies = np.array([(bench.received[s] - s) / 1e6 for s in stamps if s in bench.received])
    row = dict(sent=len(stamps), recv=len(latencies))
    if len(latencies):
        quarter = max(1, len(latencies) // 4)
        row.update(
            p50=np.percentile(latencies, 50),
            p95=np.percentile(latencies, 95),
            p99=np.percentile(latencies, 99),
            max=latencies.max(),
            trend=np.median(latencies[-quarter:]) - np.median(latencies[:quarter]),
        )
    return row


def fmt(row: dict, key: str, spec: str = "8.2f") -> str:
    return format(row[key], spec) if key in row else format("-", ">" + spec.split(".")[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="30,100,500", help="Hz, comma separated")
    parser.add_argument("--persons", default="1,5,10", help="persons per message, comma separated")
    parser.add_argument("--seconds", type=float, default=3.0, help="publishing time per cell")
    parser.add_argument("--max-rate-seconds", type=float, default=5.0)
    parser.add_argument("--max-rate-persons", type=int, default=5)
    parser.add_argument("--window", type=int, default=20, help="max-rate: messages in flight")
    parser.add_argument("--compare-rounds", type=int, default=3, help="node/relay alternations")
    parser.add_argument("--compare-only", action="store_true", help="only node vs relay")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    persons_list = [int(p) for p in args.persons.split(",")]

    proc = _dds.start_node(NAMESPACE, _dds.LOSSLESS)
    relay_procs = {
        kind: subprocess.Popen(
            [sys.executable, str(RELAY), f"{RELAY_NAMESPACE}_{kind}", "5", kind],
            env=dict(os.environ),
        )
        for kind in RELAYS
    }
    rclpy.init()
    node = rclpy.create_node("load_bench")
    qos = _dds.LOSSLESS_QOS

    def connect(namespace: str, target) -> Bench:
        publisher = node.create_publisher(Skeleton2DArray, f"{namespace}/keypoints_2d", qos)
        bench = Bench(node, publisher)
        subscription = node.create_subscription(
            MarkerArray, f"{namespace}/markers", bench.on_markers, qos, raw=True
        )
        _dds.wait_for_graph(rclpy, node, publisher, subscription, target)
        stamps, _ = bench.open_loop(openpose_sample_messages(2), 50.0, 1.0)  # warm
        if not any(s in bench.received for s in stamps):
            raise RuntimeError(f"{namespace} does not answer")
        return bench

    try:
        try:
            targets = {"node": (connect(NAMESPACE, proc), proc.pid)}
            for kind, relay_proc in relay_procs.items():
                relay = connect(f"{RELAY_NAMESPACE}_{kind}", relay_proc)
                targets[f"relay {kind}"] = (relay, relay_proc.pid)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
        bench = targets["node"][0]
        compare(targets, args)
        if args.compare_only:
            return 0
        print(
            f"pose_lifter node load, {os.cpu_count()} CPU(s), load average "
            f"{os.getloadavg()[0]:.1f}; node pid {proc.pid}, input QoS reliable depth 1000"
        )
        header = (
            f"{'rate Hz':>8} {'persons':>7} {'achieved':>8} {'sent':>6} {'recv':>6} "
            f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'trend ms':>8} "
            f"{'node cpu/msg ms':>15}"
        )
        print(header)
        print("-" * len(header))
        for persons in persons_list:
            messages = openpose_sample_messages(persons)
            for rate in rates:
                cpu = _dds.cpu_seconds(proc.pid)
                stamps, achieved = bench.open_loop(messages, rate, args.seconds)
                cpu = (_dds.cpu_seconds(proc.pid) - cpu) / max(1, len(stamps)) * 1e3
                row = summarize(bench, stamps)
                print(
                    f"{rate:8.0f} {persons:7d} {achieved:8.0f} {row['sent']:6d} {row['recv']:6d} "
                    f"{fmt(row, 'p50')} {fmt(row, 'p95')} {fmt(row, 'p99')} {fmt(row, 'max')} "
                    f"{fmt(row, 'trend', '+8.2f')} {cpu:15.2f}",
                    flush=True,
                )
        messages = openpose_sample_messages(args.max_rate_persons)
        cpu = _dds.cpu_seconds(proc.pid)
        stamps, rate = bench.closed_loop(messages, args.window, args.max_rate_seconds)
        cpu = (_dds.cpu_seconds(proc.pid) - cpu) / max(1, len(stamps)) * 1e3
        row = summarize(bench, stamps)
        print(
            f"{'max':>8} {args.max_rate_persons:7d} {rate:8.0f} {row['sent']:6d} {row['recv']:6d} "
            f"{fmt(row, 'p50')} {fmt(row, 'p95')} {fmt(row, 'p99')} {fmt(row, 'max')} "
            f"{fmt(row, 'trend', '+8.2f')} {cpu:15.2f}"
        )
        print(
            f"max sustained: {rate:.0f} msg/s, {row['sent'] - row['recv']} unanswered "
            f"({args.max_rate_persons} persons, {args.window} in flight); node RSS "
            f"{_dds.rss_kb(proc.pid) / 1024:.0f} MiB"
        )
        print(GOAL + " (wall-clock numbers include this process and any other load on the CPU)")
        return 0
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        _dds.stop(proc)
        for relay_proc in relay_procs.values():
            _dds.stop(relay_proc)


def compare(targets: dict[str, tuple[Bench, int]], args) -> None:
    """Alternate the node and the relays on the same 100 Hz x 5 persons stream; print ratios."""
    messages = openpose_sample_messages(5)
    stamps: dict[str, list[int]] = {name: [] for name in targets}
    cpu = {name: 0.0 for name in targets}
    for _ in range(args.compare_rounds):
        for name, (target, pid) in targets.items():
            before = _dds.cpu_seconds(pid)
            sent, _ = target.open_loop(messages, 100.0, args.seconds)
            cpu[name] += _dds.cpu_seconds(pid) - before
            stamps[name] += sent
    rows = {name: summarize(targets[name][0], stamps[name]) for name in targets}
    print(
        f"node vs do-nothing relays, 100 Hz x 5 persons, {args.compare_rounds} alternating rounds "
        f"of {args.seconds:.0f} s, {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'':>15} {'sent':>6} {'recv':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'cpu/msg ms':>10}"
    )
    for name, row in rows.items():
        per_message = cpu[name] / max(1, len(stamps[name])) * 1e3
        print(
            f"{name:>15} {row['sent']:6d} {row['recv']:6d} {fmt(row, 'p50')} {fmt(row, 'p95')} "
            f"{fmt(row, 'p99')} {per_message:10.2f}"
        )
    node = rows["node"]
    for kind in RELAYS:
        relay = rows[f"relay {kind}"]
        if "p50" in node and "p50" in relay:
            goal = " (the floor: goal p50 <= 1.25x)" if kind == "bytes" else ""
            print(
                f"node / relay {kind}: p50 {node['p50'] / relay['p50']:.2f}x, "
                f"p99 {node['p99'] / relay['p99']:.2f}x{goal}",
                flush=True,
            )
    if "p99" in node:
        print(f"node p99 {node['p99']:.1f} ms (goal <= 10 ms)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
