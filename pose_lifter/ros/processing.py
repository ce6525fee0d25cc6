"""The per-message step: one input message in, its 2D people, lifted outputs and drop reason out.

:class:`MessageProcessor` is what the node runs for every message it receives and what the
offline replay runs for every message of a bag: the node (:mod:`pose_lifter.ros.node`) is a
driver around it (executor, image worker thread, publishers, logging), replay
(:mod:`pose_lifter.tools.replay`) is another (bag in, bag out). Neither adds processing or drop
accounting of its own, so what replay measures is what the node does.

Per message:

- ``pose_lifter_msgs/Skeleton2DArray`` -> :meth:`MessageProcessor.process_keypoints`: the
  :class:`~pose_lifter.ros.pipeline.LiftingPipeline` (validate, lift, place, track, smooth,
  build the messages).
- ``sensor_msgs/Image`` or ``CompressedImage`` -> :meth:`MessageProcessor.process_image`: the
  :class:`~pose_lifter.ros.image_input.ImageDetectionStage` (decode, detect) and then the same
  pipeline on the detections, in-process.
- ``sensor_msgs/CameraInfo`` -> :meth:`MessageProcessor.set_camera_info`.
- a depth ``sensor_msgs/Image`` / compressedDepth ``CompressedImage`` (``depth.enabled``) ->
  :meth:`MessageProcessor.set_depth`: kept for pairing with the next inputs by stamp.

Nothing raises: every failure is a counted drop with its reason in the result
(:data:`pose_lifter.ros.diagnostics.DROP_REASONS`).

Thread safety: every method may be called from any thread. The pipeline's state (camera,
tracks, filters, counters) is guarded by one lock; decoding and detection run outside it.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

from pose_lifter.ros.diagnostics import CameraLink, DropCounters, StatusMonitor, Thresholds
from pose_lifter.ros.image_input import ImageDetectionStage, image_drop_reason
from pose_lifter.ros.parameters import Settings
from pose_lifter.ros.pipeline import LiftingPipeline, PipelineOutput, TransformLookup
from pose_lifter.runtime.depth_image import depth_from_compressed, depth_from_image_fields
from pose_lifter.runtime.detection import Detections, DetectorError, ImageDecodeError
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.runtime.ordering import InOrder
from pose_lifter.ros.conversions import Keypoints2D
from pose_lifter_msgs.msg import Skeleton2DArray


@dataclass(frozen=True)
class _Waiting:
    """A message waiting for its ``target_frame`` transform: when it came, its header, its lift.

    ``sequence``: its arrival number; ``keypoints_msg``: its 2D people (for a discarded one).
    """

    arrived_s: float
    header: Header
    lift: Callable[[], "StepResult"]
    sequence: int
    keypoints_msg: object = None


@dataclass(frozen=True)
class StepResult:
    """What one input message produced.

    Attributes:
        keypoints_msg: the 2D people: the input itself (keypoints input) or the detector's
            ``Skeleton2DArray`` (image input; published on ``keypoints_2d``); None when the image
            could not be decoded or the detector failed.
        output: the 3D skeletons, markers and TF frames; None when the message was dropped.
        drop_reason: why the whole message was dropped (None when ``output`` is set; persons
            dropped inside a message are only counted).
        detail: the error behind ``drop_reason``, for the log ("" when there is none).
        rgb: the decoded ``(H, W, 3)`` uint8 image (image input; for the debug image).
        detections: the detector's people as arrays (image input).
        sequence: the input's arrival number (:meth:`MessageProcessor.publish_in_order`).
    """

    keypoints_msg: Skeleton2DArray | Keypoints2D | None
    output: PipelineOutput | None
    drop_reason: str | None = None
    detail: str = ""
    rgb: np.ndarray | None = None
    detections: Detections | None = None
    sequence: int = -1


class MessageProcessor:
    """The per-message step of the node and of replay (no ROS graph needed).

    Args:
        settings: see :class:`~pose_lifter.ros.parameters.Settings`.
        lifter: a loaded lifter; None = load one from ``settings``.
        transform_lookup: used when ``settings.target_frame`` is set.
        with_images: build the image stage (detector loaded now); None = when
            ``settings.input_mode`` is ``image``.
        id_prefix: track-id prefix when ``settings.tracking_id_prefix`` is empty.
        wait_for_transforms: a message whose ``target_frame`` transform is not there yet waits
            (the node: /tf may still bring it); False: it is dropped at once as
            ``tf_unavailable`` (offline replay, whose buffer holds the whole bag's /tf).

    Raises:
        PoseLifterError: unreadable model, or (DetectorError) a detector that cannot be loaded.
    """

    def __init__(
        self,
        settings: Settings,
        lifter: PoseLifter | None = None,
        transform_lookup: TransformLookup | None = None,
        with_images: bool | None = None,
        id_prefix: str = "",
        wait_for_transforms: bool = True,
    ):
        self._lock = threading.Lock()
        self._wait_for_transforms = wait_for_transforms
        self.pipeline = LiftingPipeline(settings, lifter, transform_lookup, id_prefix)
        self.monitor = StatusMonitor(time.monotonic(), _thresholds(settings))
        self._waiting: collections.deque[_Waiting] = collections.deque()  # for their TF
        self._ready: list[StepResult] = []  # pushed out of a full queue, for poll_waiting
        self._order: InOrder[StepResult] = InOrder()
        self.image_stage: ImageDetectionStage | None = None
        if settings.input_mode == "image" if with_images is None else with_images:
            self.image_stage = ImageDetectionStage(settings)
            self.image_stage.load()  # at start-up, not with the first image

    @property
    def settings(self) -> Settings:
        return self.pipeline.settings

    @property
    def counters(self) -> DropCounters:
        """Return the totals since start (:meth:`diagnostics` reads them consistently)."""
        return self.pipeline.counters

    def configure(self, settings: Settings) -> None:
        """Apply changed settings from the next message on."""
        with self._lock:
            self.pipeline.configure(settings)
            self.monitor.thresholds = _thresholds(settings)
        if self.image_stage is not None:
            self.image_stage.configure(settings)

    def close(self) -> None:
        """Release the detector."""
        if self.image_stage is not None:
            self.image_stage.close()

    def count_drop(self, reason: str) -> None:
        """Count a drop that happened outside the step (e.g. a failed publish)."""
        with self._lock:
            self.pipeline.counters.drop(reason)

    def count_message_drop(self, reason: str) -> None:
        """Count an input message dropped before the step (e.g. unconvertible), as an input."""
        with self._lock:
            self.pipeline.counters.messages_in += 1
            self.pipeline.counters.drop(reason)

    # -- inputs -------------------------------------------------------------------------------
    def set_camera_info(self, msg: CameraInfo) -> bool:
        """Use ``msg``'s intrinsics from now on; False (counted) when it is malformed."""
        with self._lock:
            return self.pipeline.set_camera_info(msg)

    def set_depth(self, msg: Image | CompressedImage) -> bool:
        """Keep a depth image for pairing; False (counted ``bad_depth_image``) when undecodable.

        ``sensor_msgs/Image`` 16UC1 (mm) / 32FC1 (m), or a compressedDepth ``CompressedImage``
        (:mod:`pose_lifter.runtime.depth_image`). Decoded here, outside the lock.
        """
        with self._lock:
            self.pipeline.counters.depth_images_in += 1
        try:
            if isinstance(msg, CompressedImage):
                depth_m = depth_from_compressed(msg.format, msg.data)
            else:
                depth_m = depth_from_image_fields(
                    msg.height, msg.width, msg.encoding, msg.step, msg.data, msg.is_bigendian
                )
        except ImageDecodeError:
            self.count_drop("bad_depth_image")
            return False
        with self._lock:
            self.pipeline.set_depth(msg.header, depth_m)
        return True

    def input_received(self, stamp_age_s: float) -> None:
        """Note an input's arrival (node only; ``stamp_age_s`` = receipt time - its stamp)."""
        with self._lock:
            self.monitor.input_received(time.monotonic(), stamp_age_s)

    def process_keypoints(self, msg: Skeleton2DArray | Keypoints2D) -> StepResult | None:
        """Lift one ``Skeleton2DArray`` (or its arrays); None while it waits for its transform.

        With ``target_frame`` set, a message whose transform is not available yet waits in a
        bounded queue (``tf_queue_size``) for up to ``tf_timeout_s``; :meth:`poll_waiting`
        returns it once lifted (or counted ``tf_unavailable``). Messages leave the queue in
        arrival order, and a new message queues behind waiting ones; publishing the results
        through :meth:`publish_in_order` keeps that order whatever thread finishes them.
        """
        sequence = self._order.take()
        if self._needs_wait(msg.header):
            lift = lambda: self._lift_keypoints(msg, sequence)  # noqa: E731
            return self._wait_for_transform(msg.header, lift, sequence, msg)
        return self._lift_keypoints(msg, sequence)

    def publish_in_order(self, result: StepResult, emit: Callable[[StepResult], None]) -> None:
        """Hand ``result`` to ``emit`` once the results of every earlier input have been.

        The node publishes every result through this, so its outputs leave in the order their
        inputs arrived (stamp order per input), whichever thread finished them: a message that
        waited for its transform goes out before a newer image the detector thread lifted
        meanwhile. ``emit`` runs under one lock, never on two threads at once.
        """
        self._order.finish(result.sequence, result, emit)

    def discard_pending(self) -> list[StepResult]:
        """Drop every message waiting for its transform and every unpublished result.

        Deactivation calls this: nothing taken before it is published after a later
        activation. Each is counted ``deactivated`` and returned as an empty result, to be
        passed to :meth:`publish_in_order` like any other (so later inputs are not held back).
        """
        with self._lock:
            waiting, self._waiting = list(self._waiting), collections.deque()
            ready, self._ready = self._ready, []
            for _ in waiting + ready:
                self.pipeline.counters.drop("deactivated")
        discarded = [
            StepResult(w.keypoints_msg, None, "deactivated", sequence=w.sequence) for w in waiting
        ]
        discarded += [
            dataclasses.replace(r, output=None, drop_reason="deactivated", detail="")
            for r in ready
        ]
        return discarded

    def _needs_wait(self, header: Header) -> bool:
        target, lookup = self.settings.target_frame, self.pipeline.transform_lookup
        if not target or target == header.frame_id or lookup is None:
            return False
        if not self._wait_for_transforms:
            return False
        with self._lock:
            if self._waiting:
                return True
        return lookup(target, header.frame_id, header.stamp) is None

    def _wait_for_transform(
        self, header: Header, lift: Callable[[], StepResult], sequence: int, keypoints_msg
    ) -> None:
        """Queue ``lift`` until ``header``'s transform arrives; the oldest leaves when full."""
        with self._lock:
            self._waiting.append(
                _Waiting(time.monotonic(), header, lift, sequence, keypoints_msg)
            )
            overflow = len(self._waiting) > self.settings.tf_queue_size
            oldest = self._waiting.popleft() if overflow else None
        if oldest is not None:  # lifted now: out in target_frame if it arrived, else counted
            result = oldest.lift()
            with self._lock:
                self._ready.append(result)
        return None

    def poll_waiting(self) -> list[StepResult]:
        """Lift the waiting messages whose transform arrived; drop the expired ones (counted).

        Also returns the messages pushed out of a full queue since the last call. The node
        calls this from a timer. The lookup runs outside the lock; a message is taken off the
        queue only if it is still the oldest one then (another thread may have pushed it out
        of a full queue meanwhile: it is then in the next call's results, never twice).
        """
        with self._lock:
            results, self._ready = self._ready, []
        target, lookup = self.settings.target_frame, self.pipeline.transform_lookup
        while True:
            with self._lock:
                if not self._waiting:
                    break
                waiting = self._waiting[0]
            header = waiting.header
            ready = lookup is not None and (
                lookup(target, header.frame_id, header.stamp) is not None
            )
            expired = time.monotonic() - waiting.arrived_s > self.settings.tf_timeout_s
            if not ready and not expired:
                break
            with self._lock:
                taken = bool(self._waiting) and self._waiting[0] is waiting
                if taken:
                    self._waiting.popleft()
            if taken:  # an expired message meets the pipeline's check: tf_unavailable
                results.append(waiting.lift())
        return results

    @property
    def waiting(self) -> int:
        """How many messages (keypoints or detected images) wait for their transform."""
        return len(self._waiting)

    def _lift_keypoints(self, msg: Skeleton2DArray | Keypoints2D, sequence: int) -> StepResult:
        started = time.perf_counter()
        with self._lock:
            try:
                output = self.pipeline.process(msg)
            except Exception as error:  # noqa: BLE001 - no input may stop the step; counted
                self.pipeline.counters.drop("internal_error")
                return StepResult(msg, None, "internal_error", repr(error), sequence=sequence)
            self.monitor.processed(time.perf_counter() - started, output is not None)
            reason = self.pipeline.drop_reason if output is None else None
            return StepResult(msg, output, reason, sequence=sequence)

    def process_image(self, msg: Image | CompressedImage) -> StepResult | None:
        """Detect the people of one image and lift them (counted in ``images_in``).

        None while the detections wait for their ``target_frame`` transform (as
        :meth:`process_keypoints`; :meth:`poll_waiting` returns them with the 2D people).
        """
        started = time.perf_counter()
        with self._lock:
            self.pipeline.counters.images_in += 1
        result = self._process_image(msg, self._order.take())
        if result is not None:
            with self._lock:
                self.monitor.processed(time.perf_counter() - started, result.output is not None)
        return result

    def _process_image(self, msg: Image | CompressedImage, sequence: int) -> StepResult | None:
        if self.image_stage is None:
            self.count_drop("internal_error")
            return StepResult(
                None, None, "internal_error", "image input is not configured", sequence=sequence
            )
        try:
            if isinstance(msg, CompressedImage):
                stage = self.image_stage.process_compressed(msg)
            else:
                stage = self.image_stage.process_image(msg)
        except ImageDecodeError as error:
            reason, detail = image_drop_reason(error), str(error)
        except DetectorError as error:
            reason, detail = "detector_error", str(error)
        except Exception as error:  # noqa: BLE001 - no image may stop the step; counted
            reason, detail = "internal_error", repr(error)
        else:
            header = stage.keypoints_msg.header
            if self._needs_wait(header):
                lift = lambda: self._timed_lift(stage, sequence)  # noqa: E731
                return self._wait_for_transform(header, lift, sequence, stage.keypoints_msg)
            return self._lift_detections(stage, sequence)
        self.count_drop(reason)
        return StepResult(None, None, reason, detail, sequence=sequence)

    def count_skipped(self) -> None:
        """Count an input not processed because no output had a subscriber (node only)."""
        with self._lock:
            self.pipeline.counters.skipped_unsubscribed += 1

    def count_image_drop(self, reason: str) -> None:
        """Count an image dropped before the step (node only).

        ``frame_dropped_busy``: a newer one replaced it; ``deactivated``: it waited for the
        detector at a deactivation.
        """
        with self._lock:
            self.pipeline.counters.images_in += 1
            self.pipeline.counters.drop(reason)

    def _timed_lift(self, stage, sequence: int) -> StepResult:
        """Lift detections that waited for their transform (the latency counts the lift)."""
        started = time.perf_counter()
        result = self._lift_detections(stage, sequence)
        with self._lock:
            self.monitor.processed(time.perf_counter() - started, result.output is not None)
        return result

    def _lift_detections(self, stage, sequence: int) -> StepResult:
        detections = stage.detections
        msg = stage.keypoints_msg
        with self._lock:
            try:
                output = self.pipeline.process_arrays(
                    detections.keypoints_2d,
                    detections.confidence,
                    detections.scores,
                    msg.header,
                    (msg.image_width, msg.image_height),
                )
            except Exception as error:  # noqa: BLE001 - counted like the keypoints input
                self.pipeline.counters.drop("internal_error")
                return StepResult(
                    msg, None, "internal_error", repr(error), stage.rgb, detections, sequence
                )
            reason = self.pipeline.drop_reason if output is None else None
        if output is not None:  # the 2D people carry the track ids of their 3D lifts
            ids = output.people.ids
            for index, person_id in zip(output.source_indices, ids):
                msg.skeletons[index].id = person_id
            output = output.with_source_ids(list(ids))
        return StepResult(msg, output, reason, "", stage.rgb, detections, sequence)

    # -- reporting ----------------------------------------------------------------------------
    def diagnostics(
        self,
        header: Header,
        name: str,
        details: dict[str, str],
        expecting_input: bool = False,
        detector_alive: bool = True,
        links: dict[str, CameraLink] | None = None,
    ) -> DiagnosticArray:
        """Build the ``/diagnostics`` report (see :meth:`StatusMonitor.report`)."""
        with self._lock:
            return self.monitor.report(
                header,
                name,
                self.pipeline.counters,
                details,
                time.monotonic(),
                expecting_input,
                detector_alive,
                links,
            )


def _thresholds(settings: Settings) -> Thresholds:
    return Thresholds(settings.diagnostics_warn_drop_rate, settings.diagnostics_error_after_s)
