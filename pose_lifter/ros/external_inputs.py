"""Other 2D sources as the node's Skeleton2DArray: yolo_ros detections and ROS4HRI bodies.

Both are lifted exactly as ``input_mode: keypoints`` lifts a ``Skeleton2DArray`` (the same
per-message step); the conversions here only map their joints to the 15 and keep their ids.

- **yolo_ros** (``yolo_msgs/DetectionArray`` of a YOLO pose model, github.com/mgonzs13/yolo_ros):
  each ``Detection`` holds COCO-17 keypoints in pixels, ``KeyPoint2D.id`` 1-based (yolo_ros's
  ``parse_keypoints`` writes ``kp_id + 1``) and only those above its threshold;
  ``Detection.id`` is empty, or the track id (``str(int(track_id))``) after yolo_ros's tracking
  node. Absent keypoints get confidence 0; COCO-17 -> 15 as the MoveNet path maps it
  (:data:`pose_lifter.runtime.joints.SOURCE_FORMATS`); ``Skeleton2D.id`` = the detection's id,
  so ``Skeleton3D.source_id`` is it (the index when empty).
- **ROS4HRI** (``hri_msgs``, REP 155): ``/humans/bodies/tracked`` (``IdsList``) lists the bodies
  seen in a frame; ``/humans/bodies/<id>/skeleton2d`` (``Skeleton2D``) holds each body's 18
  OpenPose COCO-18 points in normalised image coordinates ([0, 1], origin top-left) with a
  confidence. One ``Skeleton2DArray`` per ``IdsList``: the skeletons of its listed bodies
  stamped within ``hri.slop_s`` of it (:mod:`pose_lifter.ros.hri_input`), in pixels of the image
  size (the CameraInfo's), ``Skeleton2D.id`` = the body id.

The conversions themselves are array functions (:mod:`pose_lifter.runtime.external_2d`), tested
without the message packages.

The message packages are optional: the node imports them only for these input modes
(:func:`import_input_messages`).
"""

from __future__ import annotations

import importlib

import numpy as np
from std_msgs.msg import Header

from pose_lifter.ros.conversions import skeleton2d_array
from pose_lifter.runtime.external_2d import COCO18_POINTS, hri_people, yolo_people
from pose_lifter_msgs.msg import Skeleton2DArray

#: input_mode -> (message package, what to build when it is missing).
INPUT_PACKAGES = {
    "yolo": (
        "yolo_msgs",
        "yolo_msgs (github.com/mgonzs13/yolo_ros: put yolo_ros in your workspace's src and "
        "colcon build --packages-select yolo_msgs)",
    ),
    "hri": (
        "hri_msgs",
        "hri_msgs (ROS4HRI: apt install ros-<distro>-hri-msgs, or github.com/ros4hri/hri_msgs "
        "in your workspace and colcon build)",
    ),
}


def import_input_messages(input_mode: str):
    """Return the ``<package>.msg`` module of an external input mode.

    Raises:
        ImportError: with the package and how to build it, when it is not installed.
    """
    package, how = INPUT_PACKAGES[input_mode]
    try:
        return importlib.import_module(f"{package}.msg")
    except ImportError as error:
        raise ImportError(f"input_mode {input_mode} needs {how}: {error}") from error


def yolo_skeletons(msg) -> Skeleton2DArray:
    """Return the persons of a ``yolo_msgs/DetectionArray`` as a Skeleton2DArray (15 joints)."""
    detections = list(msg.detections)
    keypoints, confidence = yolo_people(
        [
            [(k.id, k.point.x, k.point.y, k.score) for k in detection.keypoints.data]
            for detection in detections
        ]
    )
    return skeleton2d_array(
        msg.header,
        keypoints,
        confidence,
        np.array([d.score for d in detections], np.float64),
        [d.id for d in detections],
        (0, 0),
        "coco17",
    )


def hri_skeletons(
    header: Header, bodies: list[tuple[str, object]], image_size: tuple[int, int]
) -> Skeleton2DArray:
    """ROS4HRI bodies ``(body id, hri_msgs/Skeleton2D)`` as a Skeleton2DArray in pixels.

    ``image_size`` ``(width, height)`` scales the normalised points to pixels.
    """
    points = np.array(
        [[(p.x, p.y, p.c) for p in skeleton.skeleton] for _, skeleton in bodies], np.float64
    ).reshape(len(bodies), COCO18_POINTS, 3)
    keypoints, confidence = hri_people(points, image_size)
    return skeleton2d_array(
        header,
        keypoints,
        confidence,
        np.ones(len(bodies)),
        [body_id for body_id, _ in bodies],
        image_size,
        "openpose_coco18",
    )
