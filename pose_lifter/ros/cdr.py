"""Serialized CDR of the node's outputs and input, straight from and to numpy (no rosidl objects).

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

The keypoints input is read the same way (:func:`keypoints2d_from_cdr`, a subscription with
``raw=True``): rclpy would build 15 ``Keypoint2D`` objects per person only for the node to
turn them into arrays.
"""

from __future__ import annotations

import functools
import importlib
import struct

import numpy as np
from builtin_interfaces.msg import Time
from std_msgs.msg import Header

from pose_lifter.ros.conversions import Keypoints2D, Skeletons2D
from pose_lifter.runtime.errors import PoseInputError
from pose_lifter.runtime.joints import NUM_JOINTS

ENCAPSULATION = b"\x00\x01\x00\x00"  # CDR, little endian
#: Encapsulation ids (first two bytes) of plain CDR: big and little endian.
PLAIN_CDR = {b"\x00\x00": ">", b"\x00\x01": "<"}
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


#: The layouts :func:`keypoints2d_from_cdr` reads (checked against the installed types).
INPUT_LAYOUTS = {
    "pose_lifter_msgs/Skeleton2DArray": (
        ("header", "std_msgs/Header"),
        ("image_width", "uint32"),
        ("image_height", "uint32"),
        ("source_format", "string"),
        ("skeletons", "sequence<pose_lifter_msgs/Skeleton2D>"),
    ),
    "pose_lifter_msgs/Skeleton2D": (
        ("id", "string"),
        ("score", "float"),
        ("keypoints", "pose_lifter_msgs/Keypoint2D[15]"),
    ),
    "pose_lifter_msgs/Keypoint2D": (("x", "float"), ("y", "float"), ("confidence", "float")),
    "std_msgs/Header": (("stamp", "builtin_interfaces/Time"), ("frame_id", "string")),
    "builtin_interfaces/Time": (("sec", "int32"), ("nanosec", "uint32")),
}


def layout_mismatch(layouts: dict[str, tuple]) -> str | None:
    """Name the first installed type whose fields differ from ``layouts``' (None: all agree)."""
    for type_name, layout in layouts.items():
        if fields(type_name) != layout:
            return f"{type_name} is not the layout the codec knows ({fields(type_name)})"
    return None


def inputs_unsupported() -> str | None:
    """Why the keypoints decoder cannot read this installation's input, or None when it can."""
    return layout_mismatch(INPUT_LAYOUTS)


def outputs_unsupported() -> str | None:
    """Why the encoders cannot write this installation's outputs, or None when they can."""
    from rclpy.serialization import serialize_message

    sample = Header(stamp=Time(sec=1, nanosec=2), frame_id="x")
    if serialize_message(sample) != ENCAPSULATION + header_bytes(1, 2, "x"):
        return "this rmw does not serialize as plain little-endian CDR"
    mismatch = layout_mismatch(
        {
            "pose_lifter_msgs/Skeleton3D": SKELETON3D_FIELDS,
            "pose_lifter_msgs/Keypoint3D": KEYPOINT3D_FIELDS,
            "geometry_msgs/Point": XYZ_FIELDS,
            "geometry_msgs/Vector3": XYZ_FIELDS,
        }
    )
    if mismatch:
        return mismatch
    try:
        marker_defaults()
    except RuntimeError as error:
        return str(error)
    return None


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
    ("uncertainty_coverage", "float"),
)
#: Keypoint3D's wire layout (checked likewise, with the nested types below).
KEYPOINT3D_FIELDS = (
    ("position", "geometry_msgs/Point"),
    ("confidence", "float"),
    ("velocity", "geometry_msgs/Vector3"),
    ("uncertainty_radius", "float"),
)
#: The nested types' layouts: three float64 each.
XYZ_FIELDS = (("x", "double"), ("y", "double"), ("z", "double"))
#: One Keypoint3D in an array: Point (3 float64), confidence (float32), padding to 8, Vector3
#: (3 float64), uncertainty radius (float32), padding to 8.
_KEYPOINT = np.dtype(
    [
        ("position", "<f8", (3,)),
        ("confidence", "<f4"),
        ("pad", "<u4"),
        ("velocity", "<f8", (3,)),
        ("radius", "<f4"),
        ("pad2", "<u4"),
    ]
)


def skeleton3d_array_cdr(sec: int, nanosec: int, frame_id: str, people) -> bytes:
    """Serialize a ``pose_lifter_msgs/Skeleton3DArray`` of ``people`` (a ``LiftedPeople``).

    Its arrays: ``joints_m`` and ``velocity_mps`` ``(P, 15, 3)``, ``confidence`` and
    ``uncertainty_m`` ``(P, 15)``, ``scores`` ``(P,)``; its lists have P entries.
    """
    writer = CdrWriter()
    writer.header(sec, nanosec, frame_id)
    ids = people.ids
    writer.uint32(len(ids))
    keypoints = np.zeros((len(ids), 15), _KEYPOINT)
    keypoints["position"] = people.joints_m
    keypoints["confidence"] = people.confidence
    keypoints["velocity"] = people.velocity_mps
    keypoints["radius"] = people.uncertainty_m
    scores32 = np.asarray(people.scores, np.float32).tolist()
    body_frames = people.body_frames or [""] * len(ids)
    coverage = _F32.pack(float(people.coverage))
    for p, person_id in enumerate(ids):
        writer.string(person_id)
        writer.string(people.source_ids[p])
        writer.string(body_frames[p])
        writer.align(4)
        writer.buffer += _F32.pack(scores32[p])
        writer.block(keypoints[p].tobytes()[:-4], 8)  # no padding after the last radius
        writer.uint8(people.scale_sources[p])
        writer.align(4)
        writer.buffer += coverage
    return writer.getvalue()


# ------------------------------------------------------------------------- markers
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


#: Marker's fields the fast encoder writes itself, in wire order, up to ``colors``.
_MARKER_HEAD = (
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
)
#: Marker fields the fast encoder sets; the others are written as their defaults.
MARKER_SET_FIELDS = _MARKER_HEAD + ("text",)
_ZEROS = tuple(bytes(n) for n in range(8))
_THREE_I32 = struct.Struct("<3i")
_POSE = struct.Struct("<7d")


@functools.lru_cache(maxsize=1)
def marker_defaults() -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """Templates of Marker's default fields around ``text``: (before, after), by offset mod 8.

    The installed Marker must be :data:`_MARKER_HEAD`, then fields left at their defaults, then
    ``text``, then more defaults (Humble: none before ``text``; Jazzy and later: the texture
    and mesh-file fields). Fields at their default are written from a default message.

    Raises:
        RuntimeError: another layout (a new distro's Marker): the encoder must be updated.
    """
    names = [name for name, _ in fields("visualization_msgs/Marker")]
    head, rest = tuple(names[: len(_MARKER_HEAD)]), names[len(_MARKER_HEAD) :]
    if (
        head != _MARKER_HEAD
        or "text" not in rest
        or set(rest) & set(MARKER_SET_FIELDS) != {"text"}
    ):
        raise RuntimeError(
            f"visualization_msgs/Marker has a layout this encoder does not know: {names}"
        )
    split = rest.index("text")
    return tuple(
        _default_templates("visualization_msgs/Marker", tuple(run)) if run else (b"",) * 8
        for run in (rest[:split], rest[split + 1 :])
    )


def write_marker(
    writer: CdrWriter,
    head: bytes,
    marker_id: int,
    marker_type: int,
    action: int,
    position: tuple[float, float, float] = (0.0, 0.0, 0.0),
    style: bytes = bytes(48),
    points_m: bytes = b"",
    colours: bytes = b"",
    text: bytes = b"\x01\x00\x00\x00\x00",
) -> None:
    """Append one ``visualization_msgs/Marker`` (orientation identity, not frame locked).

    Pre-packed values, shared across markers: ``head`` = :func:`header_bytes` + padding to 4 +
    the namespace's :func:`string_bytes` (a marker starts 4-aligned, so this padding is fixed);
    ``style`` = scale ``<3d`` + colour ``<4f`` + lifetime ``<iI``; ``points_m`` N x ``<3d`` and
    ``colours`` N x ``<4f`` (the same N, or none); ``text`` = :func:`string_bytes`.
    """
    before_text, after_text = marker_defaults()
    buffer = writer.buffer
    buffer += _ZEROS[-len(buffer) % 4]  # payload offset = len - 4: the same modulo 4
    buffer += head
    buffer += _ZEROS[-len(buffer) % 4]
    buffer += _THREE_I32.pack(marker_id, marker_type, action)
    buffer += _ZEROS[-(len(buffer) - 4) % 8]
    x, y, z = position
    buffer += _POSE.pack(x, y, z, 0.0, 0.0, 0.0, 1.0)
    buffer += style  # 8-aligned here, 48 bytes: frame_locked lands 8-aligned
    buffer += b"\x00\x00\x00\x00"  # frame_locked false, padding to the points count
    buffer += _U32.pack(len(points_m) // 24)
    buffer += points_m  # 8-aligned: 56 + 48 + 4 + 4 bytes after the pose
    buffer += _U32.pack(len(colours) // 16)
    buffer += colours
    buffer += before_text[(len(buffer) - 4) % 8]
    buffer += _ZEROS[-len(buffer) % 4]
    buffer += text
    buffer += after_text[(len(buffer) - 4) % 8]


def marker_head(header: bytes, namespace: str) -> bytes:
    """Return :func:`write_marker`'s ``head``: a header and a namespace."""
    return header + _ZEROS[-len(header) % 4] + string_bytes(namespace)


def string_bytes(value: str) -> bytes:
    """Return a CDR string (length, bytes, NUL) to append at a 4-aligned offset."""
    data = value.encode("utf-8")
    return _U32.pack(len(data) + 1) + data + b"\x00"


def header_bytes(sec: int, nanosec: int, frame_id: str) -> bytes:
    """Return a ``std_msgs/Header`` to append at a 4-aligned offset."""
    return _I32.pack(sec) + _U32.pack(nanosec) + string_bytes(frame_id)


# ------------------------------------------------------------------------- keypoints input
class CdrFormatError(PoseInputError):
    """Bytes that are not a plain-CDR message of the expected type."""


class _Reader:
    """Read plain CDR fields from ``data`` (bounds checked; alignment from the payload start)."""

    __slots__ = ("data", "offset", "order")

    def __init__(self, data: bytes):
        if len(data) < 4 or data[:2] not in PLAIN_CDR:
            raise CdrFormatError("not plain CDR (encapsulation %r)" % bytes(data[:4]))
        self.data, self.offset, self.order = data, 4, PLAIN_CDR[data[:2]]

    def take(self, size: int, alignment: int = 1) -> int:
        """Skip to ``alignment`` and reserve ``size`` bytes; return where they start."""
        start = self.offset + (-(self.offset - 4) % alignment)
        if size < 0 or start + size > len(self.data):
            raise CdrFormatError(f"truncated at byte {start} (needs {size} of {len(self.data)})")
        self.offset = start + size
        return start

    def uint32(self) -> int:
        return struct.unpack_from(self.order + "I", self.data, self.take(4, 4))[0]

    def int32(self) -> int:
        return struct.unpack_from(self.order + "i", self.data, self.take(4, 4))[0]

    def string(self) -> str:
        length = self.uint32()
        start = self.take(length)
        if length == 0 or self.data[start + length - 1] != 0:
            raise CdrFormatError(f"string at byte {start} is not NUL-terminated")
        try:
            return bytes(self.data[start : start + length - 1]).decode("utf-8")
        except UnicodeDecodeError as error:
            raise CdrFormatError(f"string at byte {start} is not UTF-8: {error}") from None


#: One Skeleton2D after its id: score, then 15 Keypoint2D (x, y, confidence), all float32.
_PERSON_FLOATS = 1 + 3 * NUM_JOINTS


def keypoints2d_from_cdr(data: bytes) -> Keypoints2D:
    """Decode a serialized ``pose_lifter_msgs/Skeleton2DArray`` into arrays.

    Args:
        data: the message as plain CDR (what a ``raw=True`` subscription hands over).

    Returns:
        The header, image size and people (float64 arrays; values as sent, NaN included).

    Every ROS 2 rmw of Humble to Kilted (Fast DDS, Cyclone DDS, Connext, Zenoh) sends ROS
    messages as plain CDR; anything else is refused rather than handed to a C deserializer
    (rclpy's can crash the process on corrupt bytes).

    Raises:
        CdrFormatError: not plain CDR, truncated, or a string that is not NUL-terminated UTF-8.
    """
    reader = _Reader(data)
    sec, nanosec = reader.int32(), reader.uint32()
    header = Header(stamp=Time(sec=sec, nanosec=nanosec), frame_id=reader.string())
    width, height = reader.uint32(), reader.uint32()
    reader.string()  # source_format
    count = reader.uint32()
    if count * (4 + 4 * _PERSON_FLOATS) > len(data):
        raise CdrFormatError(f"{count} skeletons cannot fit in {len(data)} bytes")
    ids, starts = [], []
    for _ in range(count):
        ids.append(reader.string())
        starts.append(reader.take(4 * _PERSON_FLOATS, 4))
    words = np.frombuffer(data, np.dtype(reader.order + "f4"), (len(data) - 4) // 4, 4)
    rows = (np.asarray(starts, np.intp)[:, None] - 4) // 4 + np.arange(_PERSON_FLOATS)
    values = words[rows.reshape(count, _PERSON_FLOATS)].astype(np.float64)
    keypoints = values[:, 1:].reshape(count, NUM_JOINTS, 3)
    people = Skeletons2D(keypoints[..., :2], keypoints[..., 2], values[:, 0], ids)
    return Keypoints2D(header, int(width), int(height), people)
