"""Serialized CDR of the node's outputs, built straight from numpy (no rosidl message objects).

rclpy publishes ``bytes`` as an already serialized message (``Publisher.publish``, Humble and
later). Building a ``Skeleton3DArray`` or ``MarkerArray`` as rclpy objects first costs more than
everything else the node does per message (each ``Skeleton3D`` constructs 15 ``Keypoint3D`` and
15 ``Point``); the encoders here write the bytes ``rclpy.serialization.serialize_message`` would
write for the same message (tested equal on random inputs, ``test/test_cdr.py``).

Format: the ROS 2 default, plain CDR little endian (encapsulation ``00 01 00 00``), every
primitive aligned to its size from the start of the payload, strings as ``uint32`` length
(with the NUL) + bytes + NUL, sequences as ``uint32`` count + elements. The field order of each
type is read from the installed message classes (``get_fields_and_field_types``): a field the
encoders do not set is written from a default-constructed message (:func:`write_value`, generic
and slow), so distro differences (Marker's texture and mesh fields arrived after Humble) are
followed, not assumed.
"""

from __future__ import annotations

import functools
import importlib
import struct

import numpy as np

ENCAPSULATION = b"\x00\x01\x00\x00"  # CDR, little endian
_I32, _U32, _F32, _F64 = (struct.Struct(f) for f in ("<i", "<I", "<f", "<d"))
_PRIMITIVES = {
    "boolean": ("<?", 1),
    "octet": ("<B", 1),
    "char": ("<b", 1),
    "uint8": ("<B", 1),
    "int8": ("<b", 1),
    "uint16": ("<H", 2),
    "int16": ("<h", 2),
    "uint32": ("<I", 4),
    "int32": ("<i", 4),
    "uint64": ("<Q", 8),
    "int64": ("<q", 8),
    "float": ("<f", 4),
    "double": ("<d", 8),
}


class CdrWriter:
    """Append CDR fields to a buffer that starts with the encapsulation header."""

    __slots__ = ("buffer",)

    def __init__(self):
        self.buffer = bytearray(ENCAPSULATION)

    def align(self, size: int) -> None:
        padding = -(len(self.buffer) - 4) % size
        if padding:
            self.buffer += bytes(padding)

    def uint8(self, value: int) -> None:
        self.buffer.append(value)

    def int32(self, value: int) -> None:
        self.align(4)
        self.buffer += _I32.pack(value)

    def uint32(self, value: int) -> None:
        self.align(4)
        self.buffer += _U32.pack(value)

    def float32(self, value: float) -> None:
        self.align(4)
        self.buffer += _F32.pack(value)

    def float64(self, value: float) -> None:
        self.align(8)
        self.buffer += _F64.pack(value)

    def string(self, value: str) -> None:
        data = value.encode("utf-8")
        self.uint32(len(data) + 1)
        self.buffer += data
        self.buffer.append(0)

    def block(self, data: bytes, alignment: int) -> None:
        """Append ``data`` (already laid out) aligned to ``alignment``."""
        if data:
            self.align(alignment)
            self.buffer += data

    def header(self, sec: int, nanosec: int, frame_id: str) -> None:
        """Append a ``std_msgs/Header``."""
        self.int32(sec)
        self.uint32(nanosec)
        self.string(frame_id)

    def getvalue(self) -> bytes:
        return bytes(self.buffer)


# ------------------------------------------------------------------------- generic (slow path)
@functools.lru_cache(maxsize=None)
def message_class(type_name: str):
    """Return the rclpy class of ``pkg/Name`` (as ``get_fields_and_field_types`` names it)."""
    package, name = type_name.split("/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


def write_value(writer: CdrWriter, type_name: str, value) -> None:
    """Write one field of any rosidl type (recursively), as rclpy's serializer does."""
    if type_name in _PRIMITIVES:
        code, size = _PRIMITIVES[type_name]
        writer.align(size)
        writer.buffer += struct.pack(code, value)
    elif type_name.startswith("string"):
        writer.string(value)
    elif type_name.startswith("sequence<"):
        inner = type_name[len("sequence<") : -1].split(",")[0].strip()
        writer.uint32(len(value))
        for item in value:
            write_value(writer, inner, item)
    elif type_name.endswith("]"):
        inner = type_name[: type_name.index("[")]
        for item in value:
            write_value(writer, inner, item)
    else:
        for field, field_type in message_class(type_name).get_fields_and_field_types().items():
            write_value(writer, field_type, getattr(value, field))


@functools.lru_cache(maxsize=None)
def default_value(type_name: str, field: str):
    """Return the default of ``field`` of message ``type_name`` (a default message's)."""
    return getattr(message_class(type_name)(), field)


def fields(type_name: str) -> tuple[tuple[str, str], ...]:
    """``(field, type)`` of a message type, in wire order."""
    return tuple(message_class(type_name).get_fields_and_field_types().items())


# ------------------------------------------------------------------------- pose_lifter outputs
#: Skeleton3D's wire layout the fast encoder writes (checked against the installed type).
SKELETON3D_FIELDS = (
    ("id", "string"),
    ("source_id", "string"),
    ("body_frame", "string"),
    ("score", "float"),
    ("keypoints", "pose_lifter_msgs/Keypoint3D[15]"),
    ("scale_source", "uint8"),
)
#: One Keypoint3D in an array: Point (3 float64), confidence (float32), padding to 8.
_KEYPOINT = np.dtype([("position", "<f8", (3,)), ("confidence", "<f4"), ("pad", "<u4")])


def skeleton3d_array_cdr(
    sec: int,
    nanosec: int,
    frame_id: str,
    ids: list[str],
    source_ids: list[str],
    body_frames: list[str],
    scores: np.ndarray,
    joints_m: np.ndarray,
    confidence: np.ndarray,
    scale_sources: list[int],
) -> bytes:
    """Serialize a ``pose_lifter_msgs/Skeleton3DArray`` of P people from arrays.

    ``joints_m`` ``(P, 15, 3)`` float64, ``confidence`` ``(P, 15)``, ``scores`` ``(P,)``; the
    lists have P entries (``body_frames`` entries may be empty strings).
    """
    writer = CdrWriter()
    writer.header(sec, nanosec, frame_id)
    writer.uint32(len(ids))
    keypoints = np.zeros((len(ids), 15), _KEYPOINT)
    keypoints["position"] = joints_m
    keypoints["confidence"] = confidence
    scores32 = np.asarray(scores, np.float32).tolist()
    for p, person_id in enumerate(ids):
        writer.string(person_id)
        writer.string(source_ids[p])
        writer.string(body_frames[p])
        writer.align(4)
        writer.buffer += _F32.pack(scores32[p])
        writer.block(keypoints[p].tobytes()[:-4], 8)  # no padding after the last confidence
        writer.uint8(scale_sources[p])
    return writer.getvalue()


# ------------------------------------------------------------------------- markers
#: Marker fields the fast encoder sets; the others are written as their defaults.
MARKER_SET_FIELDS = (
    "header",
    "ns",
    "id",
    "type",
    "action",
    "pose",
    "scale",
    "color",
    "lifetime",
    "frame_locked",
    "points",
    "colors",
    "text",
)


def _default_templates(type_name: str, names: tuple[str, ...]) -> tuple[bytes, ...]:
    """Serialize the defaults of consecutive fields at each start offset mod 8."""
    templates = []
    for offset in range(8):
        writer = CdrWriter()
        writer.buffer += bytes(offset)
        start = len(writer.buffer)
        for name, field_type in fields(type_name):
            if name in names:
                write_value(writer, field_type, default_value(type_name, name))
        templates.append(bytes(writer.buffer[start:]))
    return tuple(templates)


@functools.lru_cache(maxsize=1)
def _marker_plan() -> tuple:
    """Marker's fields in wire order: set ones by name, runs of defaults as templates."""
    plan, defaults = [], []
    for name, _ in fields("visualization_msgs/Marker"):
        if name in MARKER_SET_FIELDS:
            if defaults:
                plan.append(_default_templates("visualization_msgs/Marker", tuple(defaults)))
                defaults = []
            plan.append(name)
        else:
            defaults.append(name)
    if defaults:
        plan.append(_default_templates("visualization_msgs/Marker", tuple(defaults)))
    return tuple(plan)


_IDENTITY_POSE_TAIL = struct.pack("<4d", 0.0, 0.0, 0.0, 1.0)


def write_marker(
    writer: CdrWriter,
    header: bytes,
    namespace: bytes,
    marker_id: int,
    marker_type: int,
    action: int,
    position: tuple[float, float, float] = (0.0, 0.0, 0.0),
    scale: bytes = bytes(24),
    colour: bytes = bytes(16),
    lifetime: bytes = bytes(8),
    points_m: bytes = b"",
    colours: bytes = b"",
    text: str = "",
) -> None:
    """Append one ``visualization_msgs/Marker`` (orientation identity, not frame locked).

    Pre-packed values (shared across markers): ``header`` = :func:`header_bytes`,
    ``namespace`` = :func:`string_bytes`, ``scale`` ``<3d``, ``colour`` ``<4f``, ``lifetime``
    ``<iI``; ``points_m`` N x ``<3d`` and ``colours`` N x ``<4f`` (the same N, or none).
    """
    buffer = writer.buffer
    for step in _marker_plan():
        if step.__class__ is tuple:  # a run of default fields
            buffer += step[(len(buffer) - 4) % 8]
        elif step == "header":
            writer.align(4)
            buffer += header
        elif step == "ns":
            writer.align(4)
            buffer += namespace
        elif step == "id":
            writer.align(4)
            buffer += struct.pack("<3i", marker_id, marker_type, action)
        elif step == "type" or step == "action":
            continue  # written with the id (three int32 in a row)
        elif step == "pose":
            writer.align(8)
            buffer += struct.pack("<3d", *position)
            buffer += _IDENTITY_POSE_TAIL
        elif step == "scale":
            writer.align(8)
            buffer += scale
        elif step == "color":
            writer.align(4)
            buffer += colour
        elif step == "lifetime":
            writer.align(4)
            buffer += lifetime
        elif step == "frame_locked":
            buffer.append(0)
        elif step == "points":
            writer.uint32(len(points_m) // 24)
            writer.block(points_m, 8)
        elif step == "colors":
            writer.uint32(len(colours) // 16)
            writer.block(colours, 4)
        else:  # text
            writer.string(text)


def string_bytes(value: str) -> bytes:
    """Return a CDR string (length, bytes, NUL) to append at a 4-aligned offset."""
    data = value.encode("utf-8")
    return _U32.pack(len(data) + 1) + data + b"\x00"


def header_bytes(sec: int, nanosec: int, frame_id: str) -> bytes:
    """Return a ``std_msgs/Header`` to append at a 4-aligned offset."""
    return _I32.pack(sec) + _U32.pack(nanosec) + string_bytes(frame_id)
