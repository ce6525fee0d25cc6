"""A worker thread that handles only the newest item: the node's image detector runs on it.

An item submitted while another one is still waiting replaces it (the replaced one is counted
and handed to ``on_replaced``), so a slow handler always works on the newest camera frame and
the executor thread that submits never waits for it.
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

Item = TypeVar("Item")


class LatestOnlyWorker(Generic[Item]):
    """One thread calling ``handler`` on the newest submitted item.

    Args:
        handler: called on the worker thread, one item at a time. An exception it raises is
            passed to ``on_error`` (the worker goes on); without ``on_error`` it is re-raised on
            the worker thread (which then ends).
        name: the thread's name.
        on_error: ``on_error(item, error)``, called on the worker thread.

    The thread starts at construction and ends with :meth:`stop`.
    """

    def __init__(
        self,
        handler: Callable[[Item], None],
        name: str,
        on_error: Callable[[Item, Exception], None] | None = None,
    ):
        self._handler = handler
        self._on_error = on_error
        self._slot = threading.Condition()
        self._pending: list[Item] = []  # zero or one item
        self._stopping = False
        self._replaced = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def replaced(self) -> int:
        """How many submitted items a newer one replaced before the handler took them."""
        return self._replaced

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, item: Item) -> bool:
        """Hand ``item`` to the worker; True when it replaced a waiting item (never blocks)."""
        with self._slot:
            replaced = bool(self._pending)
            self._replaced += replaced
            self._pending[:] = [item]
            self._slot.notify()
        return replaced

    def stop(self, timeout_s: float = 10.0) -> int:
        """Drop the waiting item and let the current one finish; return how many were dropped.

        Waits up to ``timeout_s`` for the thread to end (:attr:`alive` says whether it did).
        """
        with self._slot:
            self._stopping = True
            dropped = len(self._pending)
            self._pending.clear()
            self._slot.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)
        return dropped

    def _run(self) -> None:
        while True:
            with self._slot:
                while not self._pending and not self._stopping:
                    self._slot.wait()
                if self._stopping:
                    return
                item = self._pending.pop()
            try:
                self._handler(item)
            except Exception as error:  # noqa: BLE001 - reported, the worker goes on
                if self._on_error is None:
                    raise
                self._on_error(item, error)
