"""Shared helpers of the DDS benchmarks (bench_node_latency, bench_node_load, bench_soak).

Import before rclpy is initialised: it keeps discovery on this host and picks a random
ROS_DOMAIN_ID (1-101; higher ids reach the ephemeral port range) unless one is set.
"""

from __future__ import annotations

import os
import random
import struct
import subprocess
import time
from pathlib import Path

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.pop("ROS_LOCALHOST_ONLY", None)
os.environ.setdefault("ROS_DOMAIN_ID", str(random.SystemRandom().randint(1, 101)))

from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402

from pose_lifter.entry_points import installed_executable  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config" / "pose_lifter.yaml"
#: Node overrides so that no input is silently dropped by QoS (reliable, deep queues).
LOSSLESS = {
    "qos.input_reliability": "reliable",
    "qos.input_depth": "1000",
    "qos.output_depth": "1000",
}
#: The benchmarks' own publishers and subscriptions: reliable and deep, like :data:`LOSSLESS`.
LOSSLESS_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST, depth=1000, reliability=ReliabilityPolicy.RELIABLE
)


def start_node(
    namespace: str, overrides: dict[str, str] | None = None, log_path: str | None = None
) -> subprocess.Popen:
    """Start the node as the launch file does, in ``namespace``.

    The node as the launch file starts it (``--params-file config/pose_lifter.yaml``) in
    ``namespace``, plus ``-p name:=value`` overrides.
    """
    command = [
        installed_executable("pose_lifter_node"),
        "--ros-args",
        "--params-file",
        str(CONFIG),
        "-r",
        f"__ns:={namespace}",
    ]
    for name, value in (overrides or {}).items():
        command += ["-p", f"{name}:={value}"]
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    return subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)


def wait_for_graph(
    rclpy, node, publisher, subscription, proc: subprocess.Popen, timeout: float = 60.0
) -> None:
    """Spin until ``publisher`` and ``subscription`` are matched with the node's endpoints."""
    deadline = time.monotonic() + timeout
    while publisher.get_subscription_count() == 0 or subscription.get_publisher_count() == 0:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("node did not come up")
        rclpy.spin_once(node, timeout_sec=0.05)


def header_stamp_ns(cdr: bytes, offset: int) -> int:
    """Read the builtin_interfaces/Time at ``offset`` of a CDR buffer (ns).

    The ``builtin_interfaces/Time`` at byte ``offset`` of a little-endian CDR buffer, in ns
    (MarkerArray: first marker's stamp at 8; a message starting with a Header: 4).
    """
    sec, nanosec = struct.unpack_from("<iI", cdr, offset)
    return sec * 1_000_000_000 + nanosec


def rss_kb(pid: int | str = "self") -> int:
    """Resident set size (kB) of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time (s) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
