"""Counters of every dropped input, by reason, and their diagnostic_msgs report.

Reasons (:data:`DROP_REASONS`), counted per person unless marked per message:
- ``malformed_message`` (message): arrays of the wrong shape (e.g. not 15 keypoints).
- ``nonfinite_confidence``: NaN/inf confidence or score.
- ``nonfinite_keypoint``: NaN/inf coordinates at a present joint.
- ``huge_keypoint``: a present joint farther than ``MAX_ABS_PIXEL`` from the image origin.
- ``too_many_persons``: beyond ``max_persons`` in one message (lowest scores dropped).
- ``too_few_joints``: fewer than ``min_joints`` present joints (or no 2D spread).
- ``nonfinite_output``: the lifter produced NaN/inf.
- ``degenerate_pose``: no usable metric scale (zero-length bone chain).
- ``tf_unavailable`` (message): no transform to ``target_frame`` in time.
- ``bad_camera_info`` (CameraInfo message): non-finite K or non-positive focal length.
- ``internal_error`` (message): an unexpected exception while processing (logged).

Image input (``input_mode: image``), per image message:
- ``frame_dropped_busy``: a newer image arrived while the detector was busy and replaced this
  one before it was processed (only the newest pending image is kept).
- ``bad_image_encoding``: an encoding/format the detector cannot take (16UC1, mono16, bayer,
  compressedDepth, ...).
- ``corrupt_image``: an image that cannot be decoded (wrong size or step, truncated data,
  corrupt JPEG/PNG).
- ``detector_error``: the detector could not be loaded or failed on an image (logged).
"""

from __future__ import annotations

from collections import Counter

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from std_msgs.msg import Header

DROP_REASONS: tuple[str, ...] = (
    "malformed_message",
    "nonfinite_confidence",
    "nonfinite_keypoint",
    "huge_keypoint",
    "too_many_persons",
    "too_few_joints",
    "nonfinite_output",
    "degenerate_pose",
    "tf_unavailable",
    "bad_camera_info",
    "internal_error",
    "frame_dropped_busy",
    "bad_image_encoding",
    "corrupt_image",
    "detector_error",
)


class DropCounters:
    """Totals of messages and persons seen, lifted and dropped (by reason) since start."""

    def __init__(self):
        self.messages_in = 0
        self.images_in = 0
        self.persons_in = 0
        self.persons_out = 0
        self.skipped_unsubscribed = 0  # inputs not processed: no output had a subscriber
        self.dropped: Counter[str] = Counter({reason: 0 for reason in DROP_REASONS})
        self._reported_drops = 0

    def drop(self, reason: str, count: int = 1) -> None:
        """Count ``count`` drops for ``reason`` (one of :data:`DROP_REASONS`)."""
        if reason not in self.dropped:
            raise KeyError(f"unknown drop reason {reason!r}")
        self.dropped[reason] += count

    def new_drops(self) -> int:
        """Drop since the previous call (for the report's level)."""
        total = sum(self.dropped.values())
        new, self._reported_drops = total - self._reported_drops, total
        return new


def diagnostic_array(
    header: Header, name: str, counters: DropCounters, details: dict[str, str]
) -> DiagnosticArray:
    """One DiagnosticStatus: WARN when anything was dropped since the previous report, else OK.

    Values: ``messages_in`` (2D skeleton messages lifted: keypoints_2d messages or processed
    images), ``images_in`` (image messages received), ``persons_in``, ``persons_out``,
    ``dropped.<reason>`` (totals since start) and ``details`` (e.g. device, model, camera_info).
    """
    new = counters.new_drops()
    level = DiagnosticStatus.WARN if new else DiagnosticStatus.OK
    message = f"{new} input(s) dropped since last report" if new else "ok"
    values = [
        KeyValue(key="messages_in", value=str(counters.messages_in)),
        KeyValue(key="images_in", value=str(counters.images_in)),
        KeyValue(key="persons_in", value=str(counters.persons_in)),
        KeyValue(key="persons_out", value=str(counters.persons_out)),
        KeyValue(key="skipped_unsubscribed", value=str(counters.skipped_unsubscribed)),
    ]
    values += [
        KeyValue(key=f"dropped.{reason}", value=str(count))
        for reason, count in counters.dropped.items()
    ]
    values += [KeyValue(key=key, value=value) for key, value in details.items()]
    status = DiagnosticStatus(
        level=level, name=name, message=message, hardware_id="pose_lifter", values=values
    )
    return DiagnosticArray(header=header, status=[status])
