"""Helpers and fixtures for tests of the pose_lifter node and bridge on a real DDS graph.

Builds on test/conftest.py (``ros`` harness, per-session ROS_DOMAIN_ID). conftest.py makes the
fixtures available to every test module.

- :func:`ros_process`: start an installed executable, ``<prefix>/lib/pose_lifter/<name>
  --ros-args ...``, exactly where ``ros2 run`` and launch_ros find it (the ament index), in this
  session's domain; stopped (SIGINT, then kill) on exit; its log is attached to assertion
  messages through :meth:`RosProcess.log`.
- ``CONFIG``: the installed parameters file (``share/pose_lifter/config/pose_lifter.yaml``).
- ``lifter_node`` fixture: a factory of in-process :class:`PoseLifterNode` spun by the harness
  executor (same context as the test's own nodes), destroyed at teardown.
- :func:`call_service`: a blocking service call spun on the harness executor.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
from ament_index_python.packages import get_package_share_directory
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

from pose_lifter.entry_points import installed_executable

REPO = Path(__file__).resolve().parents[1]
#: QoS the tests use on their own publishers and subscriptions.
RELIABLE_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST, depth=50, reliability=ReliabilityPolicy.RELIABLE
)
SHARE = Path(get_package_share_directory("pose_lifter"))
CONFIG = SHARE / "config" / "pose_lifter.yaml"


class RosProcess:
    """A running installed ROS 2 executable with its combined output in a temp file."""

    def __init__(self, executable: str, ros_args: list[str], arguments: list[str] = ()):
        self._log = tempfile.NamedTemporaryFile("w+", prefix=f"{executable}-", suffix=".log")
        self.command = [installed_executable(executable), *arguments, "--ros-args", *ros_args]
        self.process = subprocess.Popen(
            self.command,
            cwd=tempfile.gettempdir(),
            env=dict(os.environ),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        """Command line and everything it printed so far."""
        self._log.flush()
        return " ".join(self.command) + "\n" + Path(self._log.name).read_text(errors="replace")

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


@contextlib.contextmanager
def ros_process(executable: str, ros_args: list[str], arguments: list[str] = ()):
    """Context manager: installed ``executable *arguments --ros-args *ros_args`` in the block."""
    proc = RosProcess(executable, ros_args, arguments)
    try:
        yield proc
    finally:
        proc.stop()


def call_service(
    ros, node, srv_type, name: str, request, timeout: float = 10.0, attempts: int = 3
):
    """Call service ``name`` from ``node`` (on the harness executor) and return the response.

    A request sent right after discovery can lose its response (the server's reply writer has
    not matched this client's reader yet, a known DDS service race): each attempt waits
    ``timeout / attempts`` before the request is sent again.
    """
    client = node.create_client(srv_type, name)
    try:
        assert ros.spin_until(client.service_is_ready, timeout), f"service {name} not available"
        for _ in range(attempts):
            future = client.call_async(request)
            if ros.spin_until(future.done, timeout / attempts):
                return future.result()
            client.remove_pending_request(future)
        raise AssertionError(f"service {name} did not answer {attempts} requests in {timeout} s")
    finally:
        node.destroy_client(client)


@pytest.fixture
def lifter_node(ros):
    """Make in-process PoseLifterNodes with the installed parameters file.

    Factory ``lifter_node(namespace, *ros_args)`` -> an in-process PoseLifterNode started with
    ``--ros-args --params-file config/pose_lifter.yaml *ros_args`` in ``namespace``.
    """
    from pose_lifter.ros.node import PoseLifterNode

    created = []

    def make(namespace: str, *ros_args: str):
        node = PoseLifterNode(
            context=ros.context,
            namespace=namespace,
            cli_args=["--ros-args", "--params-file", str(CONFIG), *ros_args],
        )
        ros.executor.add_node(node)
        created.append(node)
        return node

    yield make
    for node in created:
        ros.executor.remove_node(node)
        node.destroy_node()
