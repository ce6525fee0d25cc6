"""A subscription whose reliability follows its publishers (the node's ``auto`` QoS).

A RELIABLE subscription never matches a BEST_EFFORT publisher, and a BEST_EFFORT subscription
loses fragments of large messages (images, depth images) that a reliable publisher would have
re-sent. ``auto`` takes the best of both: reliable while every publisher of the topic is
reliable, best effort as soon as one is best effort (or none is there yet), re-checked by
:meth:`FollowingSubscription.adapt` (the node calls it every second). A
``qos_overrides.<topic>.subscription.reliability`` parameter other than ``auto`` fixes it.
"""

from __future__ import annotations

from typing import Callable

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSPolicyKind,
    QoSProfile,
    ReliabilityPolicy,
)

try:  # Iron and later
    from rclpy.event_handler import SubscriptionEventCallbacks
except ImportError:  # Humble
    from rclpy.qos_event import SubscriptionEventCallbacks
from rclpy.qos_overriding_options import QoSOverridingOptions


def keep_last_qos(depth: int, reliability: str) -> QoSProfile:
    """Return a volatile keep-last QoS of ``depth`` (``reliability``: reliable|best_effort)."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=(
            ReliabilityPolicy.BEST_EFFORT
            if reliability == "best_effort"
            else ReliabilityPolicy.RELIABLE
        ),
        durability=DurabilityPolicy.VOLATILE,
    )


def publishers_reliability(node: Node, topic: str) -> str:
    """``reliable`` when every publisher of ``topic`` is reliable, else ``best_effort``."""
    publishers = node.get_publishers_info_by_topic(topic)
    reliable = [p.qos_profile.reliability == ReliabilityPolicy.RELIABLE for p in publishers]
    return "reliable" if reliable and all(reliable) else "best_effort"


class FollowingSubscription:
    """One subscription of ``msg_type`` on the resolved ``topic`` (see the module docstring).

    Args:
        reliability: ``auto``, ``reliable`` or ``best_effort`` (the node's ``qos.*`` setting).
        depth: keep-last history depth.
    """

    def __init__(
        self,
        node: Node,
        msg_type: type,
        topic: str,
        callback: Callable,
        depth: int,
        reliability: str,
    ):
        self.node, self.msg_type, self.topic = node, msg_type, topic
        self.callback, self.depth, self.setting = callback, depth, reliability
        self.subscription = None
        self.reliability = ""
        #: Samples the middleware reported lost on this topic since start (message_lost events:
        #: fragments of a best-effort sample that never all arrived), across re-subscriptions.
        self.samples_lost = 0
        self._override = f"qos_overrides.{topic}.subscription.reliability"
        if not node.has_parameter(self._override):
            node.declare_parameter(
                self._override,
                "auto",
                ParameterDescriptor(
                    description=f"reliability of the subscription {topic}: reliable or "
                    "best_effort; auto = the node's qos setting",
                    read_only=True,
                ),
            )

    @property
    def follows_publishers(self) -> bool:
        """Whether :meth:`adapt` may change the reliability (auto, no override)."""
        return self.setting == "auto" and self._fixed() is None

    def _fixed(self) -> str | None:
        value = self.node.get_parameter(self._override).value
        return None if value == "auto" else value

    def subscribe(self) -> None:
        """Create the subscription with the reliability wanted now."""
        policies = [QoSPolicyKind.HISTORY, QoSPolicyKind.DEPTH]
        reliability = self._fixed()
        if reliability is not None:
            policies.append(QoSPolicyKind.RELIABILITY)
        elif self.setting == "auto":
            reliability = publishers_reliability(self.node, self.topic)
        else:
            reliability = self.setting
        qos = keep_last_qos(self.depth, reliability)
        self.subscription = self.node.create_subscription(
            self.msg_type,
            self.topic,
            self.callback,
            qos,
            qos_overriding_options=QoSOverridingOptions(policies),
            event_callbacks=SubscriptionEventCallbacks(message_lost=self._on_lost),
        )
        self.reliability = qos.reliability.name.lower()

    def _on_lost(self, info) -> None:
        self.samples_lost += max(int(info.total_count_change), 0)

    @property
    def publishers(self) -> int:
        """Return how many publishers the topic has in the graph now."""
        return self.node.count_publishers(self.topic)

    def adapt(self) -> bool:
        """Re-subscribe if the publishers' reliability changed; return whether it did."""
        if self.subscription is None or not self.follows_publishers:
            return False
        if publishers_reliability(self.node, self.topic) == self.reliability:
            return False
        self.destroy()
        self.subscribe()
        return True

    def destroy(self) -> None:
        """Destroy the subscription (``subscribe`` makes a new one)."""
        if self.subscription is not None:
            self.node.destroy_subscription(self.subscription)
            self.subscription = None
