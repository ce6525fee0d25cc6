"""Pairing of messages by stamp: a small buffer of the newest items, nearest stamp wins."""

from __future__ import annotations

import collections
from typing import Any


class StampBuffer:
    """The ``size`` newest ``(stamp_ns, item)`` pairs; :meth:`nearest` within a slop.

    Items may arrive out of stamp order; the oldest *arrival* leaves first when full.
    """

    def __init__(self, size: int):
        self._items: collections.deque = collections.deque(maxlen=max(int(size), 1))

    def add(self, stamp_ns: int, item: Any) -> None:
        """Keep ``item`` with its stamp (nanoseconds)."""
        self._items.append((int(stamp_ns), item))

    def nearest(self, stamp_ns: int, slop_ns: int) -> Any | None:
        """Return the item whose stamp is nearest ``stamp_ns`` and within ``slop_ns``, or None."""
        best, best_gap = None, slop_ns + 1
        for stamp, item in self._items:
            gap = abs(stamp - int(stamp_ns))
            if gap < best_gap:
                best, best_gap = item, gap
        return best

    def resize(self, size: int) -> None:
        """Keep at most ``size`` items from now on (the newest)."""
        self._items = collections.deque(self._items, maxlen=max(int(size), 1))

    def __len__(self) -> int:
        return len(self._items)
