"""LatestOnlyWorker: only the newest waiting item is handled, replaced ones are counted."""

from __future__ import annotations

import threading

from pose_lifter.ros.latest_worker import LatestOnlyWorker


def test_newest_item_replaces_a_waiting_one():
    started, release, handled = threading.Event(), threading.Event(), []

    def handler(item):
        handled.append(item)
        started.set()
        release.wait(5.0)

    worker = LatestOnlyWorker(handler, "test_worker")
    assert worker.submit(1) is False
    assert started.wait(5.0)  # 1 is being handled: 2 and 3 wait, 3 replaces 2
    assert worker.submit(2) is False
    assert worker.submit(3) is True
    assert worker.replaced == 1
    started.clear()
    release.set()
    assert started.wait(5.0)
    assert worker.stop(5.0) == 0 and not worker.alive
    assert handled == [1, 3]


def test_errors_go_to_on_error_and_the_worker_goes_on():
    errors, done = [], threading.Event()

    def handler(item):
        if item == "bad":
            raise ValueError(item)
        done.set()

    worker = LatestOnlyWorker(handler, "test_worker", lambda item, e: errors.append((item, e)))
    worker.submit("bad")
    worker.submit("good")  # may replace "bad" if the thread has not taken it yet
    assert done.wait(5.0)
    worker.stop(5.0)
    assert not worker.alive
    assert all(item == "bad" and isinstance(e, ValueError) for item, e in errors)
    assert len(errors) + worker.replaced == 1


def test_stop_drops_the_waiting_item_and_ends_the_thread():
    release, handled = threading.Event(), []

    def handler(item):
        handled.append(item)
        release.wait(5.0)

    worker = LatestOnlyWorker(handler, "test_worker")
    worker.submit("first")
    while not handled:
        threading.Event().wait(0.005)
    worker.submit("waiting")
    assert worker.stop(0.0) == 1  # still handling "first"; "waiting" is dropped (counted)
    assert worker.alive
    release.set()
    assert worker.stop(5.0) == 0
    assert not worker.alive and handled == ["first"]
