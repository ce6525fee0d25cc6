"""Counters of every input seen, lifted and dropped (by reason): pure Python, no ROS.

The per-frame people step (:mod:`pose_lifter.runtime.people_step`) counts every person it
drops here; the node and replay add the message-level drops, and ``/diagnostics``
(:mod:`pose_lifter.ros.diagnostics`) reports them.

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
- ``no_image_size`` (message): ROS4HRI's normalised skeletons before a CameraInfo with the
  image size arrived.
- ``bad_camera_info`` (CameraInfo message): non-finite K or non-positive focal length.
- ``bad_depth_image`` (depth message): a depth image that cannot be decoded (not 16UC1/32FC1,
  wrong size or step, corrupt compressedDepth).
- ``internal_error`` (message): an unexpected exception while processing (logged).
- ``deactivated`` (message): taken before the node was deactivated but not yet published (an
  image waiting for the detector, a message waiting for its transform, a finished result):
  dropped, never published after a later activation with its old stamp.

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

#: The reasons counted per person (the others of :data:`DROP_REASONS` count whole messages).
PERSON_REASONS: tuple[str, ...] = (
    "nonfinite_confidence",
    "nonfinite_keypoint",
    "huge_keypoint",
    "too_many_persons",
    "too_few_joints",
    "nonfinite_output",
    "degenerate_pose",
)


DROP_REASONS: tuple[str, ...] = (
    "malformed_message",
    *PERSON_REASONS,
    "tf_unavailable",
    "no_image_size",
    "bad_camera_info",
    "bad_depth_image",
    "internal_error",
    "deactivated",
    "frame_dropped_busy",
    "bad_image_encoding",
    "corrupt_image",
    "detector_error",
)


#: The reasons that refuse a side input (CameraInfo, depth image), not a lifted input.
SIDE_INPUT_REASONS = ("bad_camera_info", "bad_depth_image")

#: Drop rates reported: ``name -> (unit of the drops, their reasons, the counter divided by)``.
RATE_UNITS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "message_drop_rate": (
        "input messages",
        tuple(r for r in DROP_REASONS if r not in (*PERSON_REASONS, *SIDE_INPUT_REASONS)),
        "inputs",
    ),
    "person_drop_rate": ("persons", PERSON_REASONS, "persons_in"),
    "camera_info_drop_rate": ("camera_info messages", ("bad_camera_info",), "camera_infos_in"),
    "depth_drop_rate": ("depth images", ("bad_depth_image",), "depth_images_in"),
}

#: The RGB-D counters of :class:`DropCounters` (reported as they are named).
DEPTH_COUNTERS = ("depth_unpaired", "depth_mismatch", "depth_fallback", "persons_depth")


class DropCounters:
    """Totals of messages and persons seen, lifted and dropped (by reason) since start."""

    def __init__(self):
        self.messages_in = 0
        self.images_in = 0
        self.persons_in = 0
        self.persons_out = 0
        self.camera_infos_in = 0  # CameraInfo messages received (accepted or refused)
        self.depth_images_in = 0  # depth images received (decoded or refused)
        self.skipped_unsubscribed = 0  # inputs not processed: no output had a subscriber
        self.camera_info_mismatch = 0  # inputs whose frame/size differ from the CameraInfo's
        self.distortion_kept = 0  # joints the lens model could not undistort (kept as measured)
        # depth (depth.enabled): not drops, the persons are placed from the stature prior
        self.depth_unpaired = 0  # inputs with no depth image within depth.slop_s
        self.depth_mismatch = 0  # inputs whose paired depth image has another frame or size
        self.depth_fallback = 0  # persons with too few consistent depth joints
        self.persons_depth = 0  # persons placed from depth (SCALE_DEPTH)
        self.dropped: Counter[str] = Counter({reason: 0 for reason in DROP_REASONS})

    def drop(self, reason: str, count: int = 1) -> None:
        """Count ``count`` drops for ``reason`` (one of :data:`DROP_REASONS`)."""
        if reason not in self.dropped:
            raise KeyError(f"unknown drop reason {reason!r}")
        self.dropped[reason] += count

    @property
    def inputs(self) -> int:
        """Input messages received: keypoints messages lifted or dropped, and images."""
        return self.images_in or self.messages_in
