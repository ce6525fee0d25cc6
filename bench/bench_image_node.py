"""Image -> markers FPS and latency of the pose_lifter node (input_mode image) through DDS.

Starts the node as a subprocess exactly as the launch file does (``--params-file
config/pose_lifter.yaml -p input_mode:=image``, own namespace), publishes a 640x480 bgr8 photo
(5 pedestrians) as sensor_msgs/Image stamped with the publish time and measures, per MarkerArray
the node publishes, ``receive time - header.stamp`` (the node copies the image stamp). Modes,
each bounded by ``--seconds`` and ``--max-frames``:

- ``rate``: open loop at ``--rate`` Hz (a camera); images arriving while the detector is busy
  replace the waiting one (``frame_dropped_busy``, read from /diagnostics).
- ``max``: closed loop, the next image as soon as the previous one's markers arrive: the
  highest sustainable image->markers rate without drops.

Also prints the in-process stage times (decode + detect, lift) without DDS.

    source scripts/env.sh && python bench/bench_image_node.py [--rate 30] [--seconds 5]
        [--input-size 256] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_DOMAIN_ID", str(random.SystemRandom().randint(1, 101)))

from _dds import cpu_seconds  # noqa: E402
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import Header  # noqa: E402
from visualization_msgs.msg import MarkerArray  # noqa: E402

from pose_lifter.ros.conversions import image_msg_from_rgb  # noqa: E402
from pose_lifter.entry_points import installed_executable  # noqa: E402
from pose_lifter.ros.parameters import Settings  # noqa: E402
from pose_lifter.ros.processing import MessageProcessor  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
IMAGE = REPO / "pose_lifter" / "sample_data" / "images" / "vtest_frame600.jpg"
NAMESPACE = "/image_bench"
STATUS = f"{NAMESPACE}/pose_lifter: lifting"


def in_process(rgb: np.ndarray, settings: Settings, seconds: float) -> None:
    """Time the node's per-message step without DDS: image -> detections, then -> 3D."""
    processor = MessageProcessor(settings, with_images=True)
    stage = processor.image_stage
    msg = image_msg_from_rgb(Header(frame_id="camera"), rgb, "bgr8")
    detect_ms, total_ms = [], []
    deadline = time.perf_counter() + seconds
    for i in range(1000):
        t0 = time.perf_counter()
        stage.process_image(msg)  # detection alone, for the split below
        t1 = time.perf_counter()
        result = processor.process_image(msg)
        t2 = time.perf_counter()
        if i >= 3:  # warm-up
            detect_ms.append(1e3 * (t1 - t0))
            total_ms.append(1e3 * (t2 - t1))
        if t2 > deadline:
            break
    total = np.asarray(total_ms)
    lift_ms = total - np.asarray(detect_ms)
    print(
        f"in-process ({len(total)} frames, {len(result.detections)} persons): bgr8->detections "
        f"p50 {np.median(detect_ms):.1f} ms, lift p50 {np.median(lift_ms):.1f} ms, "
        f"total p50 {np.median(total):.1f} ms p95 {np.percentile(total, 95):.1f} ms "
        f"= {1e3 / total.mean():.1f} FPS"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=30.0, help="open-loop publish rate (Hz)")
    parser.add_argument("--seconds", type=float, default=5.0, help="per mode")
    parser.add_argument("--max-frames", type=int, default=600, help="per mode")
    parser.add_argument("--input-size", type=int, default=256, help="detector.input_size")
    parser.add_argument("--threads", type=int, default=1, help="detector.num_threads")
    parser.add_argument("--tiles", type=int, default=1, help="detector.tiles (max_persons 6/tile)")
    parser.add_argument("--modes", nargs="+", default=["rate", "max"], choices=["rate", "max"])
    parser.add_argument(
        "--qos",
        default="reliable",
        choices=["best_effort", "reliable"],
        help="qos.image_reliability of the node's image subscription",
    )
    args = parser.parse_args()

    bgr = cv2.imread(str(IMAGE), cv2.IMREAD_COLOR)
    rgb = np.ascontiguousarray(bgr[..., ::-1])
    print(
        f"image {IMAGE.name} {rgb.shape[1]}x{rgb.shape[0]} bgr8, detector input "
        f"{args.input_size}, tiles {args.tiles}, {args.threads} onnxruntime thread(s), "
        f"{os.cpu_count()} CPU cores, "
        f"node image QoS {args.qos}, load average {os.getloadavg()[0]:.1f}"
    )
    in_process(
        rgb,
        Settings(
            detector_input_size=args.input_size,
            detector_num_threads=args.threads,
            detector_tiles=args.tiles,
            detector_max_persons=6 * args.tiles,
        ),
        min(args.seconds, 3.0),
    )

    node_proc = subprocess.Popen(
        [
            installed_executable("pose_lifter_node"),
            "--ros-args",
            "--params-file",
            str(REPO / "config" / "pose_lifter.yaml"),
            "-r",
            f"__ns:={NAMESPACE}",
            "-p",
            "input_mode:=image",
            "-p",
            "diagnostics_period_s:=0.2",
            "-p",
            f"detector.input_size:={args.input_size}",
            "-p",
            f"detector.num_threads:={args.threads}",
            "-p",
            f"detector.tiles:={args.tiles}",
            "-p",
            f"detector.max_persons:={6 * args.tiles}",
            "-p",
            f"qos.image_reliability:={args.qos}",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    rclpy.init()
    node = rclpy.create_node("image_bench")
    latencies: dict[int, float] = {}  # stamp ns -> ms
    counters: dict[str, int] = {}

    def on_markers(msg: MarkerArray) -> None:
        stamp = msg.markers[0].header.stamp
        key = stamp.sec * 10**9 + stamp.nanosec
        latencies[key] = (time.time_ns() - key) / 1e6

    def on_diagnostics(msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name == STATUS:
                counters.update(
                    {
                        kv.key: int(kv.value)
                        for kv in status.values
                        if kv.key in ("images_in", "messages_in") or kv.key.startswith("dropped.")
                    }
                )

    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    publisher = node.create_publisher(Image, f"{NAMESPACE}/image", qos)
    subscription = node.create_subscription(MarkerArray, f"{NAMESPACE}/markers", on_markers, qos)
    node.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 10)
    template = image_msg_from_rgb(Header(frame_id="camera_optical_frame"), rgb, "bgr8")

    def publish() -> int:
        template.header.stamp = node.get_clock().now().to_msg()
        publisher.publish(template)
        return template.header.stamp.sec * 10**9 + template.header.stamp.nanosec

    def settle(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.02)

    try:
        deadline = time.monotonic() + 60.0
        while publisher.get_subscription_count() == 0 or subscription.get_publisher_count() == 0:
            if time.monotonic() > deadline or node_proc.poll() is not None:
                print("node did not come up", file=sys.stderr)
                return 1
            rclpy.spin_once(node, timeout_sec=0.05)
        for _ in range(5):  # warm-up (and make sure the node's reader has matched)
            key = publish()
            end = time.monotonic() + 2.0
            while key not in latencies and time.monotonic() < end:
                rclpy.spin_once(node, timeout_sec=0.02)
        settle(0.5)
        print(
            "sent: images published; in: received by the node (images_in); busy: replaced while "
            "the detector was busy (frame_dropped_busy); out: MarkerArrays received; node cpu: "
            "the node's CPU ms per output; bench cpu: this process's CPU ms per image sent"
        )
        print(
            f"{'mode':>12} {'sent':>5} {'in':>5} {'busy':>5} {'out':>5} {'out FPS':>8} "
            f"{'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'node cpu':>9} {'bench cpu':>9}"
        )
        for mode in args.modes:
            latencies.clear()
            before = dict(counters)
            sent: list[int] = []
            cpu_node, cpu_self = cpu_seconds(node_proc.pid), cpu_seconds()
            start = time.monotonic()
            next_publish = start
            while time.monotonic() - start < args.seconds and len(sent) < args.max_frames:
                if mode == "rate":
                    if time.monotonic() >= next_publish:
                        sent.append(publish())
                        next_publish += 1.0 / args.rate
                    rclpy.spin_once(node, timeout_sec=max(0.0, next_publish - time.monotonic()))
                else:  # a lost image (not delivered, no output) ends its wait after 1 s
                    sent.append(publish())
                    end = time.monotonic() + 1.0
                    while sent[-1] not in latencies and time.monotonic() < end:
                        rclpy.spin_once(node, timeout_sec=0.01)
            elapsed = time.monotonic() - start
            cpu_node = cpu_seconds(node_proc.pid) - cpu_node
            cpu_self = cpu_seconds() - cpu_self
            settle(1.0)  # drain outputs, get a diagnostics report
            values = np.array([latencies[k] for k in sent if k in latencies])
            busy = counters.get("dropped.frame_dropped_busy", 0) - before.get(
                "dropped.frame_dropped_busy", 0
            )
            received = counters.get("images_in", 0) - before.get("images_in", 0)
            label = f"{args.rate:.0f} Hz" if mode == "rate" else "closed loop"
            if len(values) == 0:
                print(f"{label:>12} {len(sent):>5} {received:>5} {busy:>5} {0:>5}  no output")
                continue
            print(
                f"{label:>12} {len(sent):>5} {received:>5} {busy:>5} {len(values):>5} "
                f"{len(values) / elapsed:>8.1f} {np.percentile(values, 50):>7.1f} "
                f"{np.percentile(values, 95):>7.1f} {values.max():>7.1f} "
                f"{1e3 * cpu_node / len(values):>9.1f} {1e3 * cpu_self / len(sent):>9.1f}"
            )
        drops = {k: v for k, v in counters.items() if k.startswith("dropped.") and v}
        print(f"node drop counters (totals): {drops}")
        return 0
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        node_proc.terminate()
        node_proc.wait(10)


if __name__ == "__main__":
    sys.exit(main())
