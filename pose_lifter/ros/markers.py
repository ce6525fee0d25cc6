"""RViz markers for 3D skeletons (visualization_msgs/MarkerArray from numpy).

Per person: a SPHERE_LIST of the joints (namespace ``<prefix>/joints``), a LINE_LIST of the
bones (``<prefix>/bones``) and a TEXT_VIEW_FACING label with the id (``<prefix>/ids``); marker
ids are the person's index in the message. ``prefix`` is the node's (its track-id prefix), so
several nodes (cameras) can share one RViz display: an array never clears other namespaces
(no DELETEALL), it starts with DELETEs of its own slots from the current person count up to the
previous one's (and always the first slot after the last person), so markers of persons that
left vanish and every array carries the header.
Colours are RGBA in [0, 1], the person's (:func:`pose_lifter.runtime.colours.colour_for_id`);
joints with confidence 0 (missing in the input, position predicted) and their bones are drawn
with alpha :data:`WEAK_ALPHA`.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point, Pose, Vector3
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from pose_lifter.ros.conversions import joint_points
from pose_lifter.runtime.colours import colour_for_id
from pose_lifter.runtime.joints import BONE_ENDPOINTS, MIDHIP, NOSE

WEAK_ALPHA = 0.3
#: Label distance above the nose along the midhip->nose direction, in label heights.
LABEL_OFFSET = 1.5


@functools.lru_cache(maxsize=256)
def _colour(r: float, g: float, b: float, a: float) -> ColorRGBA:
    """One shared ColorRGBA per colour (the palette has 8, each opaque or weak)."""
    return ColorRGBA(r=r, g=g, b=b, a=a)


@functools.lru_cache(maxsize=64)
def _scale(x: float, y: float = 0.0, z: float = 0.0) -> Vector3:
    return Vector3(x=x, y=y, z=z)


@functools.lru_cache(maxsize=16)
def _duration(seconds: float) -> Duration:
    return Duration(sec=int(seconds), nanosec=int(round((seconds % 1.0) * 1e9)))


#: The three marker kinds of a person: namespace suffix and type.
KINDS = (
    ("joints", Marker.SPHERE_LIST),
    ("bones", Marker.LINE_LIST),
    ("ids", Marker.TEXT_VIEW_FACING),
)


def stale_deletes(header: Header, namespace: str, count: int, previous_count: int) -> list:
    """DELETE markers of the slots ``count .. max(previous_count, count + 1) - 1`` of each kind."""
    return [
        _marker(
            _prototype(f"{namespace}/{kind}", marker_type, Marker.DELETE), header=header, id=slot
        )
        for slot in range(count, max(previous_count, count + 1))
        for kind, marker_type in KINDS
    ]


@functools.lru_cache(maxsize=64)
def _prototype(ns: str, marker_type: int, action: int) -> Marker:
    """Return a Marker of one kind, other fields at their defaults (copied, never published)."""
    return Marker(ns=ns, type=marker_type, action=action)


def _marker(prototype: Marker, **fields) -> Marker:
    """Shallow copy of ``prototype`` with ``fields`` set (a fraction of Marker()'s cost).

    Marker() builds every default sub-message (pose, texture, mesh file, ...) anew; the copy
    shares the prototype's, which are never modified.
    """
    marker = copy.copy(prototype)
    for name, value in fields.items():
        setattr(marker, name, value)
    return marker


def skeleton_markers(
    header: Header,
    ids: list[str],
    joints_m: np.ndarray,
    confidence: np.ndarray,
    joint_diameter_m: float,
    bone_width_m: float,
    text_height_m: float,
    lifetime_s: float,
    points: list[list[Point]] | None = None,
    namespace: str = "pose_lifter",
    previous_count: int = 0,
) -> MarkerArray:
    """Build the MarkerArray: DELETEs of the slots left over, then 3 markers per person.

    Args:
        header: stamp and frame of ``joints_m`` (copied into every marker).
        ids: P person ids. joints_m: ``(P, 15, 3)`` finite positions, metres.
        confidence: ``(P, 15)``; 0 marks a weak (predicted) joint.
        joint_diameter_m, bone_width_m, text_height_m: marker sizes (m).
        lifetime_s: marker lifetime (s); 0 = until deleted.
        points: ``joints_m`` as Points, one list per person (the pipeline passes the
            Skeleton3DArray's own, :func:`~pose_lifter.ros.conversions.skeleton_points`); built
            here when None.
        namespace: prefix of the three namespaces (the node's).
        previous_count: persons of the previous array of this namespace (their slots beyond
            this array's persons are deleted).

    Colours, scales, the lifetime and the fields a marker leaves at their defaults are shared
    objects (one per value, across messages): treat the returned markers as read-only.
    """
    lifetime = _duration(float(lifetime_s))
    markers = stale_deletes(header, namespace, len(ids), previous_count)
    joints_m = np.asarray(joints_m, dtype=np.float64).reshape(-1, 15, 3)
    people = joint_points(joints_m) if points is None else points
    sphere, line, text = (
        _scale(joint_diameter_m, joint_diameter_m, joint_diameter_m),
        _scale(bone_width_m),
        _scale(0.0, 0.0, text_height_m),
    )
    joints_kind, bones_kind, ids_kind = (
        _prototype(f"{namespace}/{kind}", marker_type, Marker.ADD) for kind, marker_type in KINDS
    )
    weak = (np.asarray(confidence) <= 0).tolist()
    up = joints_m[:, NOSE] - joints_m[:, MIDHIP]
    up /= np.maximum(np.linalg.norm(up, axis=1, keepdims=True), 1e-9)
    labels = (joints_m[:, NOSE] + LABEL_OFFSET * text_height_m * up).tolist()
    for index, (person_id, points) in enumerate(zip(ids, people)):
        r, g, b = colour_for_id(person_id)
        opaque, faint = _colour(r, g, b, 1.0), _colour(r, g, b, WEAK_ALPHA)
        colours = [faint if w else opaque for w in weak[index]]
        common = dict(header=header, id=index, lifetime=lifetime, color=opaque)
        markers.append(_marker(joints_kind, points=points, colors=colours, scale=sphere, **common))
        markers.append(
            _marker(
                bones_kind,
                points=[points[i] for i in BONE_ENDPOINTS],
                colors=[colours[i] for i in BONE_ENDPOINTS],
                scale=line,
                **common,
            )
        )
        x, y, z = labels[index]
        label = Pose(position=Point(x=x, y=y, z=z))
        markers.append(_marker(ids_kind, text=person_id, pose=label, scale=text, **common))
    return MarkerArray(markers=markers)
