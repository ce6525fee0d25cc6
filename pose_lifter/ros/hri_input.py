"""ROS4HRI bodies in (REP 155): follow ``/humans/bodies/tracked`` and each body's skeleton2d.

:class:`HriBodies` keeps one subscription to ``/humans/bodies/<id>/skeleton2d`` per tracked body
(made when the id appears in ``/humans/bodies/tracked``, destroyed when it leaves) and calls
``on_frame(header, bodies)`` once per ``IdsList`` with the skeleton of each listed body stamped
within ``slop_s`` of the list (:mod:`pose_lifter.runtime.hri_frames`: a frame whose skeletons
come after its list waits up to ``wait_s`` for them; a body without one is left out, never lifted
from an old skeleton): one lifted message per frame, all bodies together (so markers and tracks
see the frame whole).
"""

from __future__ import annotations

import time
from typing import Callable

from rclpy.node import Node

from pose_lifter.ros.conversions import stamp_nanoseconds
from pose_lifter.runtime.hri_frames import FrameAssembler

#: REP 155 topics.
TRACKED_BODIES = "/humans/bodies/tracked"
BODY_SKELETON = "/humans/bodies/{}/skeleton2d"


class HriBodies:
    """The tracked ROS4HRI bodies of ``node`` (``messages``: the ``hri_msgs.msg`` module)."""

    def __init__(
        self,
        node: Node,
        messages,
        on_frame: Callable,
        qos,
        on_bad_id: Callable,
        slop_s: float = 0.01,
        wait_s: float = 0.1,
    ):
        self.node, self.messages, self.on_frame, self.qos = node, messages, on_frame, qos
        self.on_bad_id = on_bad_id
        self.frames = FrameAssembler(round(slop_s * 1e9), round(wait_s * 1e9))
        self.bodies: dict[str, object] = {}  # id -> its skeleton2d subscription
        self.tracked = node.create_subscription(
            messages.IdsList, TRACKED_BODIES, self._on_tracked, qos
        )
        self.timer = node.create_timer(max(wait_s / 2, 0.005), self._expire)

    def _on_tracked(self, msg) -> None:
        ids = list(dict.fromkeys(msg.ids))
        for body_id in [i for i in self.bodies if i not in ids]:
            subscription = self.bodies.pop(body_id)
            if subscription is not None:
                self.node.destroy_subscription(subscription)
        for body_id in ids:
            if body_id not in self.bodies:
                self._follow(body_id)
        self._emit(
            self.frames.frame(msg.header, stamp_nanoseconds(msg.header.stamp), ids, _now_ns())
        )

    def _expire(self) -> None:
        self._emit(self.frames.expire(_now_ns()))

    def _emit(self, frames) -> None:
        for frame in frames:
            self.on_frame(frame.header, frame.bodies)

    def _follow(self, body_id: str) -> None:
        def keep(skeleton, body_id=body_id):
            stamp = stamp_nanoseconds(skeleton.header.stamp)
            self._emit(self.frames.skeleton(body_id, stamp, skeleton))

        try:
            self.bodies[body_id] = self.node.create_subscription(
                self.messages.Skeleton2D, BODY_SKELETON.format(body_id), keep, self.qos
            )
        except Exception as error:  # noqa: BLE001 - an id that is no valid topic name
            self.bodies[body_id] = None  # not retried while it stays tracked
            self.on_bad_id(body_id, error)

    def destroy(self) -> None:
        for subscription in [self.tracked, *self.bodies.values()]:
            if subscription is not None:
                self.node.destroy_subscription(subscription)
        self.node.destroy_timer(self.timer)
        self.bodies = {}


def _now_ns() -> int:
    """Wall time for the wait (as ``tf_timeout_s``: the graph's delivery, not sim time)."""
    return time.monotonic_ns()
