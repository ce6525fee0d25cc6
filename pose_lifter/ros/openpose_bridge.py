"""``openpose_bridge``: publish an OpenPose ``--write_json`` directory as Skeleton2DArray.

Modes (parameter ``mode``): ``once`` plays the directory's files in frame order and exits;
``loop`` plays them forever; ``watch`` publishes each *new* file that appears after start (files
already present are skipped), for a live ``openpose --write_json DIR`` run. One file is
published per tick at ``rate_hz`` on ``keypoints_2d`` (relative, remappable; reliable QoS), stamped
with the publish time and ``frame_id``. OpenPose BODY_25's first 15 joints are the pose_lifter
layout; an undetected joint (0, 0, 0) has confidence 0. Person ids: ``op<person_id>`` when
OpenPose tracked the person, else empty; score: mean confidence of the detected joints.
A file that cannot be read is skipped with a warning.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import numpy as np
import rclpy
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header

from pose_lifter.ros.process import run_node
from pose_lifter.ros.conversions import skeleton2d_array
from pose_lifter.runtime.errors import OpenPoseJsonError
from pose_lifter.runtime.openpose_json import OpenPoseFrame, list_openpose_json, read_openpose_json
from pose_lifter_msgs.msg import Skeleton2DArray

SAMPLE_DIRECTORY = Path(str(resources.files("pose_lifter") / "sample_data" / "openpose_json"))
MODES = ("once", "loop", "watch")
SOURCE_FORMATS = ("openpose_body25",)


class Playlist:
    """Which ``*.json`` file to publish next (natural frame order).

    Args:
        directory: an OpenPose ``--write_json`` directory.
        mode: ``once``, ``loop`` or ``watch`` (see the module docstring).

    Raises:
        OpenPoseJsonError: not a directory, or no files in ``once``/``loop`` mode.
    """

    def __init__(self, directory: str | Path, mode: str):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.directory, self.mode = Path(directory), mode
        files = list_openpose_json(self.directory)
        if mode != "watch" and not files:
            raise OpenPoseJsonError(f"{self.directory}: no *.json files")
        self._files = files
        self._index = 0
        self._seen = set(files) if mode == "watch" else set()
        self.finished = False

    def next_path(self) -> Path | None:
        """Return the next file to publish, or None.

        The next file to publish, or None (nothing new yet in ``watch``; end in ``once``, which
        also sets :attr:`finished`).
        """
        if self.mode == "watch":
            new = [path for path in list_openpose_json(self.directory) if path not in self._seen]
            if not new:
                return None
            self._seen.add(new[0])
            return new[0]
        if self._index >= len(self._files):
            if self.mode == "once":
                self.finished = True
                return None
            self._index = 0
        path = self._files[self._index]
        self._index += 1
        return path


def frame_to_msg(
    frame: OpenPoseFrame, header: Header, image_size: tuple[int, int], source_format: str
) -> Skeleton2DArray:
    """Build the Skeleton2DArray of one OpenPose frame.

    A Skeleton2DArray of one OpenPose frame (see the module docstring for ids and scores).
    """
    keypoints = frame.keypoints_2d.astype(np.float64)
    confidence = keypoints[..., 2]
    detected = confidence > 0
    scores = np.where(
        detected.any(axis=1),
        (confidence * detected).sum(axis=1) / np.maximum(detected.sum(axis=1), 1),
        0.0,
    )
    ids = [f"op{pid}" if pid >= 0 else "" for pid in frame.person_ids.tolist()]
    return skeleton2d_array(
        header, keypoints[..., :2], confidence, scores, ids, image_size, source_format
    )


class OpenPoseBridge(Node):
    """Timer-driven publisher of a :class:`Playlist`; sets :attr:`done` at the end of ``once``."""

    def __init__(self, **kwargs):
        super().__init__("openpose_bridge", **kwargs)
        self.declare_parameter(
            "directory",
            "",
            ParameterDescriptor(
                description="OpenPose --write_json directory; "
                "empty = the bundled 20-frame sample.",
                read_only=True,
            ),
        )
        self.declare_parameter(
            "mode",
            "loop",
            ParameterDescriptor(
                description="once | loop | watch (publish new files only).",
                additional_constraints=f"one of {list(MODES)}",
                read_only=True,
            ),
        )
        self.declare_parameter(
            "rate_hz",
            10.0,
            ParameterDescriptor(
                description="Files published per second.",
                read_only=True,
                floating_point_range=[FloatingPointRange(from_value=0.1, to_value=1000.0)],
            ),
        )
        self.declare_parameter(
            "frame_id",
            "camera_optical_frame",
            ParameterDescriptor(
                description="header.frame_id: the camera optical frame of the images.",
                read_only=True,
            ),
        )
        for name, default in (("image_width", 1280), ("image_height", 720)):
            self.declare_parameter(
                name,
                default,
                ParameterDescriptor(
                    description=f"Source image {name.split('_')[1]} in pixels (0 = unknown).",
                    read_only=True,
                    integer_range=[IntegerRange(from_value=0, to_value=100000, step=1)],
                ),
            )
        self.declare_parameter(
            "source_format",
            "openpose_body25",
            ParameterDescriptor(
                description="Keypoint layout of the JSON files.",
                additional_constraints=f"one of {list(SOURCE_FORMATS)}",
                read_only=True,
            ),
        )
        self.declare_parameter(
            "wait_for_subscriber",
            True,
            ParameterDescriptor(
                description="Start playing only once keypoints_2d has a subscriber.",
                read_only=True,
            ),
        )
        value = lambda name: self.get_parameter(name).value  # noqa: E731
        if value("source_format") not in SOURCE_FORMATS:
            raise ValueError(f"source_format must be one of {SOURCE_FORMATS}")
        self.playlist = Playlist(value("directory") or SAMPLE_DIRECTORY, value("mode"))
        self.frame_id = value("frame_id")
        self.image_size = (value("image_width"), value("image_height"))
        self.source_format = value("source_format")
        self.wait_for_subscriber = value("wait_for_subscriber")
        self.done = False
        self.published = 0
        self._publisher = self.create_publisher(
            Skeleton2DArray,
            "keypoints_2d",
            QoSProfile(
                history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE
            ),
        )
        self.create_timer(1.0 / value("rate_hz"), self._tick)
        self.get_logger().info(
            f"playing {self.playlist.directory} ({self.playlist.mode}) at "
            f"{value('rate_hz')} Hz as frame {self.frame_id!r}"
        )

    def _tick(self) -> None:
        if self.done or (
            self.wait_for_subscriber and self._publisher.get_subscription_count() == 0
        ):
            return
        path = self.playlist.next_path()
        if path is None:
            self.done = self.playlist.finished
            return
        try:
            frame = read_openpose_json(path)
        except OpenPoseJsonError as error:
            self.get_logger().warning(f"skipped {error}")
            return
        # The bridge is a source (OpenPose JSON has no timestamps): stamp at publication.
        header = Header(stamp=self.get_clock().now().to_msg(), frame_id=self.frame_id)
        self._publisher.publish(frame_to_msg(frame, header, self.image_size, self.source_format))
        self.published += 1


def _play(node: OpenPoseBridge) -> None:
    """Spin until the playlist is done (or shutdown), then let the last messages get out."""
    while rclpy.ok() and not node.done:
        rclpy.spin_once(node, timeout_sec=0.1)
    # Let reliable delivery of the last messages finish before leaving the graph.
    for _ in range(5):
        rclpy.spin_once(node, timeout_sec=0.1)
    node.get_logger().info(f"published {node.published} messages")


def main(args: list[str] | None = None) -> int:
    """Entry point of ``openpose_bridge``; returns the process exit status."""
    errors = (OpenPoseJsonError, ValueError)
    return run_node(OpenPoseBridge, "openpose_bridge", errors, _play, args)


if __name__ == "__main__":
    sys.exit(main())
