"""Results handed out in the order their inputs arrived, whichever thread finishes them (no ROS).

Every input gets the next sequence number when it arrives; its result may be finished by
another thread and later than a newer input's (an image detected on a worker thread, a message
that waited for its transform). :class:`InOrder` holds each finished result until every older
one has been handed out, then hands them out oldest first, under one lock, so a consumer (the
node's publishers) sees time go forward only.

Every sequence number taken must be finished exactly once (a dropped input with an empty
result), or the results after it wait for ever.
"""

from __future__ import annotations

import itertools
import threading
from typing import Callable, Generic, TypeVar

Result = TypeVar("Result")


class InOrder(Generic[Result]):
    """Sequence numbers for inputs; their results handed to ``emit`` in that order."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._next = 0
        self._finished: dict[int, Result] = {}

    def take(self) -> int:
        """Return the next input's sequence number (thread-safe)."""
        return next(self._counter)

    def finish(self, sequence: int, result: Result, emit: Callable[[Result], None]) -> None:
        """Hand ``result`` of input ``sequence`` out once every older one has been.

        ``emit`` is called (under this object's lock, so two threads never interleave) for this
        result and every newer one finished before it, in order.
        """
        with self._lock:
            if sequence < self._next or sequence in self._finished:
                raise ValueError(f"input {sequence} finished twice")
            self._finished[sequence] = result
            while self._next in self._finished:
                emit(self._finished.pop(self._next))
                self._next += 1

    @property
    def waiting(self) -> int:
        """Finished results held back for an older one."""
        with self._lock:
            return len(self._finished)
