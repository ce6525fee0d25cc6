"""ROS4HRI bodies in (REP 155): follow ``/humans/bodies/tracked`` and each body's skeleton2d.

:class:`HriBodies` keeps one subscription to ``/humans/bodies/<id>/skeleton2d`` per tracked body
(made when the id appears in ``/humans/bodies/tracked``, destroyed when it leaves) and calls
``on_frame(header, bodies)`` once per ``IdsList`` with the latest skeleton of every listed body
that has one: one lifted message per frame, all bodies together (so markers and tracks see the
frame whole).
"""

from __future__ import annotations

from typing import Callable

from rclpy.node import Node

#: REP 155 topics.
TRACKED_BODIES = "/humans/bodies/tracked"
BODY_SKELETON = "/humans/bodies/{}/skeleton2d"


class HriBodies:
    """The tracked ROS4HRI bodies of ``node`` (``messages``: the ``hri_msgs.msg`` module)."""

    def __init__(self, node: Node, messages, on_frame: Callable, qos, on_bad_id: Callable):
        self.node, self.messages, self.on_frame, self.qos = node, messages, on_frame, qos
        self.on_bad_id = on_bad_id
        self.latest: dict[str, object] = {}
        self.bodies: dict[str, object] = {}  # id -> its skeleton2d subscription
        self.tracked = node.create_subscription(
            messages.IdsList, TRACKED_BODIES, self._on_tracked, qos
        )

    def _on_tracked(self, msg) -> None:
        ids = list(dict.fromkeys(msg.ids))
        for body_id in [i for i in self.bodies if i not in ids]:
            subscription = self.bodies.pop(body_id)
            if subscription is not None:
                self.node.destroy_subscription(subscription)
            self.latest.pop(body_id, None)
        for body_id in ids:
            if body_id not in self.bodies:
                self._follow(body_id)
        bodies = [(i, self.latest[i]) for i in ids if i in self.latest]
        self.on_frame(msg.header, bodies)

    def _follow(self, body_id: str) -> None:
        def keep(skeleton, body_id=body_id):
            self.latest[body_id] = skeleton

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
        self.bodies, self.latest = {}, {}
