"""A message whose target_frame transform is late waits (bounded, non-blocking), not dropped."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Quaternion, Transform, TransformStamped, Vector3

from pose_lifter.ros.parameters import Settings
from pose_lifter.ros.processing import MessageProcessor
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.tools.sample_bag import openpose_sample_messages
from sensor_msgs.msg import CompressedImage
from std_msgs.msg import Header

IMAGES = Path(__file__).resolve().parents[1] / "pose_lifter" / "sample_data" / "images"

SHIFT = TransformStamped(
    transform=Transform(translation=Vector3(x=1.0, y=2.0, z=3.0), rotation=Quaternion(w=1.0))
)


class LateTransform:
    """A tf lookup (the node's: never waits) that has the transform only from ``after_s`` on."""

    def __init__(self, after_s: float):
        self.available_from = time.monotonic() + after_s
        self.calls = 0

    def __call__(self, target, source, stamp):
        self.calls += 1
        return SHIFT if time.monotonic() >= self.available_from else None


def photo_msg(name: str, sec: int) -> CompressedImage:
    return CompressedImage(
        header=Header(stamp=Time(sec=sec), frame_id="cam"),
        format="jpeg",
        data=(IMAGES / name).read_bytes(),
    )


def processor(lookup, **settings) -> MessageProcessor:
    base = Settings().replace(**{"target_frame": "map", "tf_timeout_s": 0.5, **settings})
    return MessageProcessor(base, PoseLifter(device="cpu"), lookup)


def poll_until(step: MessageProcessor, count: int, timeout_s: float) -> list:
    results, deadline = [], time.monotonic() + timeout_s
    while len(results) < count and time.monotonic() < deadline:
        results += step.poll_waiting()
        time.sleep(0.005)
    return results


def test_transform_100_ms_late_the_message_still_comes_out():
    lookup = LateTransform(after_s=1e9)
    step = processor(lookup)  # loads the lifter: the 100 ms start after it
    lookup.available_from = time.monotonic() + 0.1
    messages = openpose_sample_messages(frame_id="cam")[:3]
    started = time.monotonic()
    assert all(step.process_keypoints(msg) is None for msg in messages)  # queued, not dropped
    assert time.monotonic() - started < 0.05  # and nothing waited inside the call
    assert step.waiting == 3
    results = poll_until(step, 3, 2.0)
    assert [r.keypoints_msg for r in results] == messages  # in arrival order
    assert all(
        r.output is not None and r.output.skeletons.header.frame_id == "map" for r in results
    )
    assert step.counters.dropped["tf_unavailable"] == 0 and step.waiting == 0
    # later messages see the transform at once
    assert step.process_keypoints(messages[0]).output is not None


def test_transform_that_never_comes_times_out_counted_and_the_queue_is_bounded():
    step = processor(LateTransform(after_s=1e9), tf_timeout_s=0.1, tf_queue_size=2)
    messages = openpose_sample_messages(frame_id="cam")[:3]
    for msg in messages:
        assert step.process_keypoints(msg) is None
    assert step.waiting == 2 and step.counters.dropped["tf_unavailable"] == 1  # oldest pushed out
    results = poll_until(step, 3, 2.0)  # the pushed-out one comes back too (its 2D kept)
    assert [r.keypoints_msg for r in results] == messages
    assert [r.drop_reason for r in results] == ["tf_unavailable"] * 3
    assert step.counters.dropped["tf_unavailable"] == 3 and step.counters.messages_in == 3


def test_image_mode_detections_wait_for_a_late_transform_too():
    settings = Settings().replace(
        target_frame="map", tf_timeout_s=0.5, input_mode="image", detector_backend="movenet"
    )
    lookup = LateTransform(after_s=1e9)
    step = MessageProcessor(settings, PoseLifter(device="cpu"), lookup)  # loads the detector
    images = [photo_msg("vtest_frame600.jpg", sec) for sec in (1, 2)]
    assert all(step.process_image(msg) is None for msg in images)  # detected, then queued
    assert step.waiting == 2 and step.counters.images_in == 2
    lookup.available_from = time.monotonic() + 0.1  # the transform comes 100 ms later
    results = poll_until(step, 2, 2.0)
    assert [r.keypoints_msg.header.stamp for r in results] == [m.header.stamp for m in images]
    assert all(r.detections is not None and r.output is not None for r in results)
    assert all(r.output.skeletons.header.frame_id == "map" for r in results)
    assert all(len(r.output.skeletons.skeletons) > 0 for r in results)
    # the 2D people carry the track ids of their lifts, as without the wait
    ids_2d = [s.id for s in results[0].keypoints_msg.skeletons if s.id]
    assert ids_2d and set(ids_2d) >= {s.id for s in results[0].output.skeletons.skeletons}
    assert step.counters.dropped["tf_unavailable"] == 0


def test_no_queue_without_target_frame():
    lookup = LateTransform(after_s=1e9)
    step = MessageProcessor(Settings(), PoseLifter(device="cpu"), lookup)
    assert step.process_keypoints(openpose_sample_messages()[0]).output is not None
    assert lookup.calls == 0


class PushDuringLookup:
    """A lookup that lets another input push the oldest message out while it is asked.

    The first time ``poll_waiting`` asks about the oldest message, another input (the image
    worker's, in the node) pushes that message out of the full queue: the interleaving of the
    detector thread with the TF poll timer, replayed in one thread.
    """

    def __init__(self, push):
        self.push, self.pushed, self.polling = push, False, False

    def __call__(self, target, source, stamp):
        if self.polling and not self.pushed:
            self.pushed = True
            self.push()  # C arrives: the queue is full, so A leaves it (lifted now)
        return SHIFT if self.polling else None


def test_a_message_pushed_out_during_the_poll_is_published_once_and_none_is_lost():
    a, b, c = openpose_sample_messages(frame_id="cam")[:3]
    step = processor(None, tf_queue_size=2)
    lookup = PushDuringLookup(lambda: step.process_keypoints(c))
    step.pipeline.transform_lookup = lookup
    assert step.process_keypoints(a) is None and step.process_keypoints(b) is None
    lookup.polling = True
    results = step.poll_waiting() + step.poll_waiting()
    assert lookup.pushed
    out = [r.keypoints_msg for r in results]
    assert sorted(map(id, out)) == sorted(map(id, (a, b, c)))  # each once: A not twice, B kept
    assert all(r.output is not None for r in results)
    assert step.waiting == 0 and step.counters.messages_in == 3
    # published as the node publishes them: in arrival order, though A came back last
    published = []
    for result in results:
        step.publish_in_order(result, lambda r: published.append(r.keypoints_msg))
    assert [id(m) for m in published] == [id(a), id(b), id(c)]


def test_a_newer_input_lifted_while_an_older_one_is_lifted_goes_out_after_it():
    """A newer input lifted at once still waits for the older one being lifted.

    The poll has taken X off the queue and lifts it; meanwhile Y (the detector thread's, in
    the node) finds the queue empty, its transform there, and is lifted at once: Y's outputs
    still wait for X's.
    """
    x, y = openpose_sample_messages(frame_id="cam")[:2]
    step = processor(LateTransform(after_s=1e9))
    published = []

    def publish(result):
        step.publish_in_order(result, lambda r: published.append(r.keypoints_msg))

    assert step.process_keypoints(x) is None  # X waits for its transform
    step.pipeline.transform_lookup = lambda target, source, stamp: SHIFT  # it arrives
    waiting = step._waiting[0]

    def lift_x_while_y_arrives():
        result_y = step.process_keypoints(y)  # the queue is empty now: Y is lifted at once
        assert result_y is not None and result_y.output is not None
        publish(result_y)
        assert published == []  # held back for X
        return original()

    original = waiting.lift
    step._waiting[0] = dataclasses.replace(waiting, lift=lift_x_while_y_arrives)
    for result in step.poll_waiting():
        publish(result)
    assert [id(m) for m in published] == [id(x), id(y)]


def test_deactivation_drops_what_waits_and_nothing_old_comes_out_later():
    a, b, c = openpose_sample_messages(frame_id="cam")[:3]
    step = processor(LateTransform(after_s=1e9), tf_queue_size=1)
    assert step.process_keypoints(a) is None and step.process_keypoints(b) is None  # A ready
    discarded = step.discard_pending()
    assert [r.drop_reason for r in discarded] == ["deactivated", "deactivated"]
    assert step.counters.dropped["deactivated"] == 2 and step.waiting == 0
    published = []
    for result in discarded:
        step.publish_in_order(result, published.append)
    assert step.poll_waiting() == []  # nothing old left for a later activation
    step.pipeline.transform_lookup = lambda target, source, stamp: SHIFT
    new = step.process_keypoints(c)
    step.publish_in_order(new, published.append)
    assert [r.output is not None for r in published] == [False, False, True]
