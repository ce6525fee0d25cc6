"""pytest harness for real rclpy over real DDS (no mocks).

Run inside the project environment (``make test``, or ``source scripts/env.sh`` then
``python -m pytest test``): rclpy comes from the ROS 2 PyPI wheels in .venv and
pose_lifter_msgs from the colcon ``install/`` overlay.

Isolation: every pytest session picks its own random ROS_DOMAIN_ID in 1-101 (put in
os.environ before rclpy is initialised, so subprocess nodes started by tests inherit it)
and keeps discovery and traffic on this host (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST).
Set POSE_LIFTER_TEST_DOMAIN_ID to force a specific domain.

Fixtures:
  ros_domain_id   (session) the domain id of this session
  rclpy_context   (session) an initialised, non-default rclpy Context (the default
                  context stays free for code under test that calls rclpy.init())
  ros             (function) a RosHarness: nodes + executor on rclpy_context, with
                  wait/spin helpers; everything it created is destroyed at teardown
"""

from __future__ import annotations

import os
import random
import time
from typing import Any, Callable, List, Optional

import pytest

# --- isolation: decided at import time, i.e. before anything can call rclpy.init() ----
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.pop("ROS_LOCALHOST_ONLY", None)  # deprecated; conflicts with the above
_DOMAIN_ID = int(
    os.environ.get("POSE_LIFTER_TEST_DOMAIN_ID") or random.SystemRandom().randint(1, 101)
)
os.environ["ROS_DOMAIN_ID"] = str(_DOMAIN_ID)

import rclpy  # noqa: E402
from rclpy.context import Context  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.node import Node  # noqa: E402

DEFAULT_TIMEOUT = 10.0

from ros_helpers import RELIABLE_QOS, lifter_node  # noqa: E402,F401 (fixture for all tests)
from skip_policy import unexpected_skips  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    """Fail the run on a skip that is not on the allow-list."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    unexpected = unexpected_skips(skipped)
    if unexpected:
        reporter.write_line(
            "skips not on the allow-list (test/skip_policy.py ALLOWED_SKIPS):", red=True
        )
        for line in unexpected:
            reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_report_header(config):
    return (
        f"ROS_DOMAIN_ID={_DOMAIN_ID} ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST "
        f"RMW_IMPLEMENTATION={os.environ.get('RMW_IMPLEMENTATION', '(default)')}"
    )


class RosHarness:
    """Nodes, an executor and wait helpers bound to one rclpy context."""

    def __init__(self, context: Context):
        self.context = context
        self.executor = SingleThreadedExecutor(context=context)
        self._nodes: List[Node] = []
        self._counter = 0

    # -- construction ----------------------------------------------------------------
    def node(self, name: Optional[str] = None, **kwargs: Any) -> Node:
        """Create a node on the harness context and add it to the executor."""
        self._counter += 1
        node = Node(
            name or f"test_node_{os.getpid()}_{self._counter}", context=self.context, **kwargs
        )
        self.executor.add_node(node)
        self._nodes.append(node)
        return node

    # -- spinning / waiting ----------------------------------------------------------
    def spin_until(
        self, predicate: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT, step: float = 0.02
    ) -> bool:
        """Spin the executor until predicate() is true; return False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            self.executor.spin_once(timeout_sec=step)

    def wait_for_subscribers(
        self, publisher, count: int = 1, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        """Block (spinning) until `publisher` has matched >= count subscriptions."""
        ok = self.spin_until(lambda: publisher.get_subscription_count() >= count, timeout)
        assert ok, (
            f"publisher on {publisher.topic_name!r} matched {publisher.get_subscription_count()} "
            f"subscriptions, wanted {count}, within {timeout:.1f} s (ROS_DOMAIN_ID={_DOMAIN_ID})"
        )

    def wait_for_publishers(
        self, subscription, count: int = 1, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        """Block (spinning) until `subscription` has matched >= count publishers."""
        ok = self.spin_until(lambda: subscription.get_publisher_count() >= count, timeout)
        assert ok, (
            f"subscription on {subscription.topic_name!r} matched "
            f"{subscription.get_publisher_count()} "
            f"publishers, wanted {count}, within {timeout:.1f} s (ROS_DOMAIN_ID={_DOMAIN_ID})"
        )

    def collector(self, msg_type, topic: str, node: Optional[Node] = None, qos=RELIABLE_QOS):
        """Subscribe to `topic`; returns (subscription, list that receives the messages)."""
        node = node or self.node()
        received: list = []
        sub = node.create_subscription(msg_type, topic, received.append, qos)
        return sub, received

    def spin_until_count(self, received: list, n: int, timeout: float = DEFAULT_TIMEOUT) -> list:
        """Spin until `received` holds >= n messages; assert on timeout."""
        ok = self.spin_until(lambda: len(received) >= n, timeout)
        assert ok, f"received {len(received)} of {n} messages within {timeout:.1f} s"
        return received

    def roundtrip(
        self,
        msg_type,
        messages: list,
        topic: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> list:
        """Publish `messages` from one node and receive them on another node over DDS.

        Waits for discovery in both directions before the first publish, so no message is
        lost to late matching; returns the received messages in arrival order.
        """
        self._counter += 1
        topic = topic or f"/pl_test/{msg_type.__name__.lower()}_{self._counter}"
        pub_node, sub_node = self.node(), self.node()
        sub, received = self.collector(msg_type, topic, node=sub_node)
        pub = pub_node.create_publisher(msg_type, topic, RELIABLE_QOS)
        self.wait_for_subscribers(pub, 1, timeout)
        self.wait_for_publishers(sub, 1, timeout)
        for m in messages:
            pub.publish(m)
        return self.spin_until_count(received, len(messages), timeout)

    def close(self) -> None:
        for node in self._nodes:
            try:
                self.executor.remove_node(node)
            except Exception:
                pass
            node.destroy_node()
        self._nodes.clear()
        self.executor.shutdown(timeout_sec=1.0)


@pytest.fixture(scope="session")
def ros_domain_id() -> int:
    return _DOMAIN_ID


@pytest.fixture(scope="session")
def rclpy_context(ros_domain_id):
    ctx = Context()
    rclpy.init(context=ctx, domain_id=ros_domain_id)
    try:
        yield ctx
    finally:
        ctx.try_shutdown()


@pytest.fixture
def ros(rclpy_context):
    harness = RosHarness(rclpy_context)
    try:
        yield harness
    finally:
        harness.close()
