"""Other detectors' 2D people as arrays of the 15 joints (pure numpy, no ROS).

The node's yolo_ros and ROS4HRI inputs (:mod:`pose_lifter.ros.external_inputs`) read their
messages into plain arrays and convert them here, so the conversions are tested without those
message packages:

- **yolo_ros** pose detections: COCO-17 keypoints with **1-based** ids (yolo_ros's
  ``parse_keypoints`` writes ``kp_id + 1``), only those above its threshold, in pixels;
- **ROS4HRI** ``Skeleton2D``: 18 OpenPose COCO-18 points in normalised image coordinates
  ([0, 1], origin top-left, x right, y down) with a confidence.

Both map to the 15 joints as :data:`pose_lifter.runtime.joints.SOURCE_FORMATS` says (a
midpoint takes the lower confidence of its two points; an absent point is missing).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from pose_lifter.runtime.joints import to_15_joints

#: COCO keypoints of a yolo_ros pose detection (ids 1..17).
COCO_KEYPOINTS = 17
#: Points of a ROS4HRI ``Skeleton2D`` (OpenPose COCO-18).
COCO18_POINTS = 18


def yolo_people(
    keypoints: Sequence[Sequence[tuple[int, float, float, float]]],
) -> tuple[np.ndarray, np.ndarray]:
    """Map yolo_ros people to the 15 joints: ``(keypoints_px (P, 15, 2), confidence (P, 15))``.

    ``keypoints``: per person, its ``(id, x_px, y_px, score)`` with 1-based COCO-17 ids; ids
    outside 1..17 are ignored; an id not given is missing (confidence 0).
    """
    coco = np.zeros((len(keypoints), COCO_KEYPOINTS, 3))
    for person, points in enumerate(keypoints):
        for keypoint_id, x, y, score in points:
            if 1 <= keypoint_id <= COCO_KEYPOINTS:
                coco[person, keypoint_id - 1] = (x, y, score)
    people = to_15_joints(coco, "coco17")
    return people[..., :2], people[..., 2]


def hri_people(
    points: np.ndarray, image_size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Map ROS4HRI bodies to the 15 joints: ``(keypoints_px (P, 15, 2), confidence (P, 15))``.

    ``points`` ``(P, 18, 3)``: each body's normalised ``(x, y, c)``; ``image_size``
    ``(width, height)`` in pixels scales them.
    """
    points = np.asarray(points, np.float64).reshape(-1, COCO18_POINTS, 3).copy()
    points[..., 0] *= image_size[0]
    points[..., 1] *= image_size[1]
    people = to_15_joints(points, "openpose_coco18")
    return people[..., :2], people[..., 2]
