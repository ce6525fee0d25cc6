"""The lifted people as ``vision_msgs/Detection3DArray`` (optional: only with vision_msgs).

One ``Detection3D`` per person, the same header as ``skeletons_3d``: ``id`` = the person's
``Skeleton3D.id``; ``results[0].hypothesis`` = class ``"person"`` with the person's score;
``results[0].pose`` = the body centre (mean of the joints) oriented as the person's REP 155 body
frame (x forward, y left, z up), with a covariance from where the metric scale came from
(:mod:`pose_lifter.runtime.person_boxes`); ``bbox`` = the axis-aligned box around the joints in
the output frame. vision_msgs is released for Humble, Jazzy and Kilted (declared in
package.xml); without it :data:`VISION_MSGS` is None and the output is off.
"""

from __future__ import annotations

import numpy as np
from geometry_msgs.msg import Point, Pose, PoseWithCovariance, Quaternion, Vector3
from std_msgs.msg import Header

from pose_lifter.runtime.body_frames import body_axes, matrix_to_quaternion
from pose_lifter.runtime.person_boxes import (
    ORIENTATION_VARIANCE,
    body_centre,
    bounding_boxes,
    position_covariance,
)

try:  # released in rosdistro, not on the wheel registries: optional at run time
    import vision_msgs.msg as VISION_MSGS
except ImportError:
    VISION_MSGS = None

#: ``results[0].hypothesis.class_id`` of every detection.
PERSON_CLASS = "person"


def detection3d_array(
    header: Header,
    ids: list[str],
    joints_m: np.ndarray,
    scores: np.ndarray,
    scale_sources,
    centre_camera_m: np.ndarray,
    rotation: np.ndarray | None = None,
):
    """Build the ``vision_msgs/Detection3DArray`` of P lifted people.

    Args:
        header: the skeletons' header (stamp, output frame).
        ids: P track ids. joints_m: ``(P, 15, 3)`` metres in the output frame.
        scores: ``(P,)`` person scores. scale_sources: ``(P,)`` or one ``Skeleton3D.scale_source``.
        centre_camera_m: ``(P, 3)`` the body centres in the camera optical frame.
        rotation: ``(3, 3)`` camera -> output frame rotation (None: the same frame).

    Raises:
        RuntimeError: vision_msgs is not installed.
    """
    if VISION_MSGS is None:
        raise RuntimeError("vision_msgs is not installed")
    joints = np.asarray(joints_m, np.float64).reshape(-1, 15, 3)
    centres = body_centre(joints)
    box_centres, box_sizes = bounding_boxes(joints)
    quaternions = matrix_to_quaternion(body_axes(joints))
    covariances = position_covariance(centre_camera_m, scale_sources, rotation)
    detections = []
    for p, person_id in enumerate(ids):
        covariance = np.zeros((6, 6))
        covariance[:3, :3] = covariances[p]
        covariance[3:, 3:] = ORIENTATION_VARIANCE * np.eye(3)
        qx, qy, qz, qw = quaternions[p].tolist()
        orientation = Quaternion(x=qx, y=qy, z=qz, w=qw)
        hypothesis = VISION_MSGS.ObjectHypothesisWithPose(
            hypothesis=VISION_MSGS.ObjectHypothesis(class_id=PERSON_CLASS, score=float(scores[p])),
            pose=PoseWithCovariance(
                pose=Pose(position=Point(**_xyz(centres[p])), orientation=orientation),
                covariance=covariance.ravel().tolist(),
            ),
        )
        box = VISION_MSGS.BoundingBox3D(
            center=Pose(position=Point(**_xyz(box_centres[p]))),
            size=Vector3(**_xyz(box_sizes[p])),
        )
        detections.append(
            VISION_MSGS.Detection3D(header=header, results=[hypothesis], bbox=box, id=person_id)
        )
    return VISION_MSGS.Detection3DArray(header=header, detections=detections)


def _xyz(values: np.ndarray) -> dict[str, float]:
    x, y, z = np.asarray(values, np.float64).tolist()
    return {"x": x, "y": y, "z": z}
