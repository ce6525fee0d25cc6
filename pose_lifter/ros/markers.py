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
import struct
from typing import NamedTuple

import numpy as np
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point, Pose, Vector3
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from pose_lifter.ros import cdr
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


class MarkerStyle(NamedTuple):
    """How one node draws its people (the node's settings and namespace).

    Attributes:
        namespace: prefix of the three namespaces (the node's).
        joint_diameter_m, bone_width_m, text_height_m: marker sizes (m).
        lifetime_s: marker lifetime (s); 0 = until deleted.
    """

    namespace: str
    joint_diameter_m: float
    bone_width_m: float
    text_height_m: float
    lifetime_s: float


class _Layout(NamedTuple):
    """What both builders draw: per person its colours, weak joints and label position."""

    colours: list[tuple[float, float, float]]  # (P,) RGB of each person
    weak: np.ndarray  # (P, 15) bool: drawn with WEAK_ALPHA
    labels_m: list[list[float]]  # (P, 3) id label positions


def _layout(ids: list[str], joints_m: np.ndarray, confidence: np.ndarray, text_height_m: float):
    up = joints_m[:, NOSE] - joints_m[:, MIDHIP]
    up /= np.maximum(np.linalg.norm(up, axis=1, keepdims=True), 1e-9)
    labels = (joints_m[:, NOSE] + LABEL_OFFSET * text_height_m * up).tolist()
    return _Layout([colour_for_id(i) for i in ids], np.asarray(confidence) <= 0, labels)


def skeleton_markers(
    header: Header,
    ids: list[str],
    joints_m: np.ndarray,
    confidence: np.ndarray,
    style: MarkerStyle,
    previous_count: int = 0,
    points: list[list[Point]] | None = None,
) -> MarkerArray:
    """Build the MarkerArray: DELETEs of the slots left over, then 3 markers per person.

    Args:
        header: stamp and frame of ``joints_m`` (copied into every marker).
        ids: P person ids. joints_m: ``(P, 15, 3)`` finite positions, metres.
        confidence: ``(P, 15)``; 0 marks a weak (predicted) joint.
        style: namespace, sizes and lifetime.
        previous_count: persons of the previous array of this namespace (their slots beyond
            this array's persons are deleted).
        points: ``joints_m`` as Points, one list per person (e.g. a Skeleton3DArray's own,
            :func:`~pose_lifter.ros.conversions.skeleton_points`); built here when None.

    Colours, scales, the lifetime and the fields a marker leaves at their defaults are shared
    objects (one per value, across messages): treat the returned markers as read-only.
    :func:`skeleton_markers_cdr` serializes the same array without building it.
    """
    namespace = style.namespace
    lifetime = _duration(float(style.lifetime_s))
    markers = stale_deletes(header, namespace, len(ids), previous_count)
    joints_m = np.asarray(joints_m, dtype=np.float64).reshape(-1, 15, 3)
    people = joint_points(joints_m) if points is None else points
    sphere, line, text = _sizes(style)
    sphere, line, text = _scale(*sphere), _scale(*line), _scale(*text)
    joints_kind, bones_kind, ids_kind = (
        _prototype(f"{namespace}/{kind}", marker_type, Marker.ADD) for kind, marker_type in KINDS
    )
    layout = _layout(ids, joints_m, confidence, style.text_height_m)
    weak = layout.weak.tolist()
    for index, (person_id, points) in enumerate(zip(ids, people)):
        r, g, b = layout.colours[index]
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
        x, y, z = layout.labels_m[index]
        label = Pose(position=Point(x=x, y=y, z=z))
        markers.append(_marker(ids_kind, text=person_id, pose=label, scale=text, **common))
    return MarkerArray(markers=markers)


def _sizes(style: MarkerStyle) -> tuple[tuple[float, float, float], ...]:
    """Scales of the joints, bones and labels markers."""
    d = float(style.joint_diameter_m)
    return (d, d, d), (float(style.bone_width_m), 0.0, 0.0), (0.0, 0.0, float(style.text_height_m))


def skeleton_markers_cdr(
    stamp: tuple[int, int],
    frame_id: str,
    ids: list[str],
    joints_m: np.ndarray,
    confidence: np.ndarray,
    style: MarkerStyle,
    previous_count: int = 0,
) -> bytes:
    """Serialize the MarkerArray :func:`skeleton_markers` builds (the same bytes, no objects).

    ``stamp`` = ``(sec, nanosec)`` of the header; the other arguments as there.
    """
    joints_m = np.ascontiguousarray(joints_m, dtype=np.float64).reshape(-1, 15, 3)
    count = len(ids)
    header = cdr.header_bytes(stamp[0], stamp[1], frame_id)
    heads = [cdr.marker_head(header, f"{style.namespace}/{kind}") for kind, _ in KINDS]
    slots = range(count, max(previous_count, count + 1))
    writer = cdr.CdrWriter()
    writer.uint32(len(slots) * len(KINDS) + 3 * count)
    for slot in slots:
        for head, (_, marker_type) in zip(heads, KINDS):
            cdr.write_marker(writer, head, slot, marker_type, Marker.DELETE)
    if not count:
        return writer.getvalue()
    duration = _duration(float(style.lifetime_s))
    lifetime = struct.pack("<iI", duration.sec, duration.nanosec)
    sphere, line, text = (struct.pack("<3d", *size) for size in _sizes(style))
    layout = _layout(ids, joints_m, confidence, style.text_height_m)
    rgba = np.empty((count, 15, 4), np.float32)
    rgba[..., :3] = np.asarray(layout.colours, np.float32)[:, None, :]
    rgba[..., 3] = np.where(layout.weak, np.float32(WEAK_ALPHA), np.float32(1.0))
    bone_rgba, bone_points = rgba[:, BONE_ENDPOINTS], joints_m[:, BONE_ENDPOINTS]
    joints_head, bones_head, ids_head = heads
    write = cdr.write_marker
    for index, person_id in enumerate(ids):
        colour_lifetime = struct.pack("<4f", *layout.colours[index], 1.0) + lifetime
        write(
            writer,
            joints_head,
            index,
            Marker.SPHERE_LIST,
            Marker.ADD,
            style=sphere + colour_lifetime,
            points_m=joints_m[index].tobytes(),
            colours=rgba[index].tobytes(),
        )
        write(
            writer,
            bones_head,
            index,
            Marker.LINE_LIST,
            Marker.ADD,
            style=line + colour_lifetime,
            points_m=bone_points[index].tobytes(),
            colours=bone_rgba[index].tobytes(),
        )
        write(
            writer,
            ids_head,
            index,
            Marker.TEXT_VIEW_FACING,
            Marker.ADD,
            position=layout.labels_m[index],
            style=text + colour_lifetime,
            text=cdr.string_bytes(person_id),
        )
    return writer.getvalue()
