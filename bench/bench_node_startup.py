"""Node start-up time and memory: the lean CPU runtime beside the torch backend, same run.

    source scripts/env.sh && python bench/bench_node_startup.py [--runs 3]

Starts the installed ``pose_lifter_node`` (``--params-file`` the installed YAML) with
``lifter_backend: auto`` (ONNX Runtime from the shipped ``.onnx`` file, torch never imported)
and with ``lifter_backend: torch`` (eager torch from the safetensors file, as every start did
before the ONNX file shipped), alternating. Start-up = process start until the node answers
a parameter service call; RSS = the process's resident memory then (``/proc/<pid>/status``).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import time
from pathlib import Path

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_DOMAIN_ID", str(random.SystemRandom().randint(1, 101)))

import rclpy  # noqa: E402
from ament_index_python.packages import get_package_share_directory  # noqa: E402
from rcl_interfaces.srv import GetParameters  # noqa: E402

from pose_lifter.entry_points import installed_executable  # noqa: E402

CONFIG = Path(get_package_share_directory("pose_lifter")) / "config" / "pose_lifter.yaml"


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def start_once(node, backend: str, index: int) -> tuple[float, float, bool]:
    """Start the node once; return (start-up s, RSS MiB, torch mapped)."""
    namespace = f"/startup_{backend}_{index}"
    command = [
        installed_executable("pose_lifter_node"),
        "--ros-args",
        "--params-file",
        str(CONFIG),
        "-r",
        f"__ns:={namespace}",
        "-p",
        f"lifter_backend:={backend}",
    ]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    client = node.create_client(GetParameters, f"{namespace}/pose_lifter/get_parameters")
    try:
        while not client.wait_for_service(timeout_sec=0.05):
            if process.poll() is not None or time.perf_counter() - start > 120:
                raise RuntimeError(f"node ({backend}) did not come up")
        future = client.call_async(GetParameters.Request(names=["lifter_backend"]))
        rclpy.spin_until_future_complete(node, future, timeout_sec=30)
        elapsed = time.perf_counter() - start
        memory = rss_mib(process.pid)
        torch_mapped = "libtorch" in Path(f"/proc/{process.pid}/maps").read_text()
        return elapsed, memory, torch_mapped
    finally:
        node.destroy_client(client)
        process.terminate()
        process.wait(10)


def main() -> int:
    """Print start-up time and RSS per backend (median, min, max over the runs)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rclpy.init()
    node = rclpy.create_node("startup_bench")
    results: dict[str, list[tuple[float, float, bool]]] = {"auto": [], "torch": []}
    for index in range(args.runs):
        for backend in results:
            results[backend].append(start_once(node, backend, index))
    print(f"{os.cpu_count()} CPU cores, {args.runs} runs each, load {os.getloadavg()[0]:.1f}")
    print(
        f"{'lifter_backend':>15} {'start-up s (median, min-max)':>30} "
        f"{'RSS MiB (median, min-max)':>28} {'libtorch mapped':>16}"
    )
    for backend, runs in results.items():
        seconds, memory, torch_mapped = zip(*runs)
        print(
            f"{backend:>15} {statistics.median(seconds):>12.2f} ({min(seconds):.2f}-"
            f"{max(seconds):.2f}) {statistics.median(memory):>14.0f} ({min(memory):.0f}-"
            f"{max(memory):.0f}) {str(any(torch_mapped)):>16}"
        )
    node.destroy_node()
    rclpy.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
