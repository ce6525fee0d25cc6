"""ROS4HRI frames put together by stamp: a frame's tracked bodies with *their* skeletons (no ROS).

ROS4HRI publishes the bodies seen in a frame (``/humans/bodies/tracked``, an ``IdsList``) and
each body's 2D skeleton on its own topic, in no fixed order. A frame must be lifted with the
skeletons of its own time: not a body's latest skeleton whatever its stamp (an occluded body
would be re-published for ever under new stamps; when a frame's ``IdsList`` comes before its
skeletons, the previous frame's joints would go out with this frame's stamp).

:class:`FrameAssembler` keeps each body's recent skeletons by stamp. A frame (stamp ``T``, body
ids) takes, per body, the skeleton stamped nearest ``T`` within ``slop_ns``; a listed body with
none yet holds the frame back until it arrives or ``wait_ns`` has passed (then the frame goes
with the bodies it has: a body whose skeleton never came is left out, never lifted from an old
one). Frames leave in the order their ``IdsList`` came. Stamps and times in nanoseconds.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Skeleton = TypeVar("Skeleton")

#: Skeletons kept per body (the most recent).
KEPT_PER_BODY = 8


@dataclass
class _Pending(Generic[Skeleton]):
    stamp_ns: int
    ids: list[str]
    header: object
    arrived_ns: int
    found: dict[str, Skeleton] = field(default_factory=dict)


@dataclass(frozen=True)
class Frame(Generic[Skeleton]):
    """One frame to lift: the ``IdsList``'s header and ``(body id, skeleton)`` pairs."""

    header: object
    bodies: list[tuple[str, Skeleton]]


class FrameAssembler(Generic[Skeleton]):
    """Frames of ROS4HRI bodies with the skeletons of their stamps (module docstring)."""

    def __init__(self, slop_ns: int, wait_ns: int):
        self.slop_ns, self.wait_ns = int(slop_ns), int(wait_ns)
        self._skeletons: dict[str, collections.deque] = {}
        self._pending: collections.deque[_Pending] = collections.deque()

    def skeleton(self, body_id: str, stamp_ns: int, skeleton: Skeleton) -> list[Frame]:
        """Keep a body's skeleton; return the frames it completed (in order)."""
        kept = self._skeletons.setdefault(body_id, collections.deque(maxlen=KEPT_PER_BODY))
        kept.append((stamp_ns, skeleton))
        for pending in self._pending:
            if body_id in pending.ids and body_id not in pending.found:
                if abs(stamp_ns - pending.stamp_ns) <= self.slop_ns:
                    pending.found[body_id] = skeleton
        return self._release(now_ns=None)

    def frame(self, header, stamp_ns: int, ids: list[str], now_ns: int) -> list[Frame]:
        """Take a frame's ``IdsList``; return the frames now complete (this one, if it is)."""
        ids = list(dict.fromkeys(ids))
        for gone in set(self._skeletons) - set(ids) - self._pending_ids():
            del self._skeletons[gone]
        pending = _Pending(stamp_ns, ids, header, now_ns)
        for body_id in ids:
            match = self._nearest(body_id, stamp_ns)
            if match is not None:
                pending.found[body_id] = match
        self._pending.append(pending)
        return self._release(now_ns)

    def expire(self, now_ns: int) -> list[Frame]:
        """Release the frames held back longer than ``wait_ns``, with the bodies they have."""
        return self._release(now_ns)

    @property
    def waiting(self) -> int:
        """Frames held back for a skeleton."""
        return len(self._pending)

    def _pending_ids(self) -> set[str]:
        return {body_id for pending in self._pending for body_id in pending.ids}

    def _nearest(self, body_id: str, stamp_ns: int) -> Skeleton | None:
        best, best_gap = None, self.slop_ns
        for stamp, skeleton in self._skeletons.get(body_id, ()):
            gap = abs(stamp - stamp_ns)
            if gap <= best_gap:
                best, best_gap = skeleton, gap
        return best

    def _release(self, now_ns: int | None) -> list[Frame]:
        out = []
        while self._pending:
            head = self._pending[0]
            complete = len(head.found) == len(head.ids)
            expired = now_ns is not None and now_ns - head.arrived_ns >= self.wait_ns
            if not (complete or expired):
                break
            self._pending.popleft()
            bodies = [(i, head.found[i]) for i in head.ids if i in head.found]
            out.append(Frame(head.header, bodies))
        return out
