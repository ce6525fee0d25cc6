"""RViz markers for 3D skeletons (visualization_msgs/MarkerArray from numpy).

Per person: a SPHERE_LIST of the joints (namespace ``joints``), a LINE_LIST of the bones
(``bones``) and a TEXT_VIEW_FACING label with the id (``ids``); marker ids are the person's index
in the message. Every array starts with a DELETEALL so markers of persons that left vanish.
Colours are RGBA in [0, 1], the person's (:func:`pose_lifter.runtime.colours.colour_for_id`);
joints with confidence 0 (missing in the input, position predicted) and their bones are drawn
with alpha :data:`WEAK_ALPHA`.
"""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point, Pose, Vector3
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from pose_lifter.runtime.colours import colour_for_id
from pose_lifter.runtime.joints import BONE_ENDPOINTS, MIDHIP, NOSE

WEAK_ALPHA = 0.3
#: Label distance above the nose along the midhip->nose direction, in label heights.
LABEL_OFFSET = 1.5


def delete_all(header: Header) -> Marker:
    """Return a DELETEALL marker (clears every marker of the receiving display)."""
    return Marker(header=header, action=Marker.DELETEALL)


def skeleton_markers(
    header: Header,
    ids: list[str],
    joints_m: np.ndarray,
    confidence: np.ndarray,
    joint_diameter_m: float,
    bone_width_m: float,
    text_height_m: float,
    lifetime_s: float,
) -> MarkerArray:
    """DELETEALL + 3 markers per person.

    Args:
        header: stamp and frame of ``joints_m`` (copied into every marker).
        ids: P person ids. joints_m: ``(P, 15, 3)`` finite positions, metres.
        confidence: ``(P, 15)``; 0 marks a weak (predicted) joint.
        joint_diameter_m, bone_width_m, text_height_m: marker sizes (m).
        lifetime_s: marker lifetime (s); 0 = until deleted.
    """
    lifetime = Duration(sec=int(lifetime_s), nanosec=int(round((lifetime_s % 1.0) * 1e9)))
    markers = [delete_all(header)]
    joints_m = np.asarray(joints_m, dtype=np.float64)
    for index, (person_id, joints, conf) in enumerate(zip(ids, joints_m, np.asarray(confidence))):
        r, g, b = colour_for_id(person_id)
        alphas = np.where(conf > 0, 1.0, WEAK_ALPHA).tolist()
        colours = [ColorRGBA(r=r, g=g, b=b, a=a) for a in alphas]
        points = [Point(x=x, y=y, z=z) for x, y, z in joints.tolist()]
        common = dict(header=header, id=index, action=Marker.ADD, lifetime=lifetime)
        markers.append(
            Marker(
                ns="joints",
                type=Marker.SPHERE_LIST,
                points=points,
                colors=colours,
                scale=Vector3(x=joint_diameter_m, y=joint_diameter_m, z=joint_diameter_m),
                color=ColorRGBA(r=r, g=g, b=b, a=1.0),
                **common,
            )
        )
        markers.append(
            Marker(
                ns="bones",
                type=Marker.LINE_LIST,
                points=[points[i] for i in BONE_ENDPOINTS],
                colors=[colours[i] for i in BONE_ENDPOINTS],
                scale=Vector3(x=bone_width_m),
                color=ColorRGBA(r=r, g=g, b=b, a=1.0),
                **common,
            )
        )
        up = joints[NOSE] - joints[MIDHIP]
        up = up / max(float(np.linalg.norm(up)), 1e-9)
        label = joints[NOSE] + LABEL_OFFSET * text_height_m * up
        x, y, z = label.tolist()
        markers.append(
            Marker(
                ns="ids",
                type=Marker.TEXT_VIEW_FACING,
                text=person_id,
                pose=Pose(position=Point(x=x, y=y, z=z)),
                scale=Vector3(z=text_height_m),
                color=ColorRGBA(r=r, g=g, b=b, a=1.0),
                **common,
            )
        )
    return MarkerArray(markers=markers)
