"""A bag's ``/tf`` and ``/tf_static`` as a transform buffer, for offline replay with target_frame.

The live node looks transforms up in tf2; offline replay reads every ``tf2_msgs/TFMessage`` of
the bag into a :class:`~pose_lifter.runtime.transform_buffer.TransformBuffer` first (so a message
sees the transforms recorded after it, as the live node's wait queue lets it) and hands the
per-message step a lookup with tf2's signature. The messages are decoded with the ``rosbags``
typestore, so tf2_msgs need not be installed.
"""

from __future__ import annotations

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Quaternion, Transform, TransformStamped, Vector3
from std_msgs.msg import Header

from pose_lifter.ros.conversions import stamp_nanoseconds
from pose_lifter.runtime.transform_buffer import RigidTransform, TransformBuffer
from pose_lifter.tools.bag_io import BagError, BagReader, typestore

TF_TYPE = "tf2_msgs/msg/TFMessage"
#: Topic-name ending of static transforms (``/tf_static``, ``/robot1/tf_static``).
STATIC_SUFFIX = "tf_static"


def transform_topics(reader: BagReader) -> list[str]:
    """Return the bag's TFMessage topics."""
    return sorted(name for name, info in reader.topics().items() if info.msgtype == TF_TYPE)


def read_transforms(reader: BagReader) -> tuple[TransformBuffer, list[str]]:
    """Every transform of the bag's TFMessage topics (``*tf_static`` ones static).

    Each sample keeps the bag time it was received at (see
    :class:`BagTransformLookup`'s ``wait_s``). As tf2 does, a transform it cannot use (a frame
    missing, a rotation that is not one) or a TFMessage that cannot be decoded is skipped and
    the rest are kept; returns the buffer and what was skipped, one line each.
    """
    buffer, store, skipped = TransformBuffer(), typestore(), []
    for item in reader.messages(transform_topics(reader)):
        static = item.topic.rstrip("/").endswith(STATIC_SUFFIX)
        try:
            message = store.deserialize_cdr(item.data, TF_TYPE)
        except (ValueError, AssertionError, IndexError, KeyError, TypeError) as error:
            skipped.append(f"{item.topic} @ {item.timestamp_ns} ns: undecodable ({error})")
            continue
        for stamped in message.transforms:
            rotation, translation = stamped.transform.rotation, stamped.transform.translation
            try:
                buffer.set_transform(
                    stamped.header.frame_id,
                    stamped.child_frame_id,
                    RigidTransform(
                        (rotation.x, rotation.y, rotation.z, rotation.w),
                        (translation.x, translation.y, translation.z),
                    ),
                    stamped.header.stamp.sec * 1_000_000_000 + stamped.header.stamp.nanosec,
                    static,
                    item.timestamp_ns,
                )
            except ValueError as error:
                skipped.append(
                    f"{item.topic} @ {item.timestamp_ns} ns: {stamped.header.frame_id!r} -> "
                    f"{stamped.child_frame_id!r} skipped ({error})"
                )
    return buffer, skipped


class BagTransformLookup:
    """tf2-style lookup ``(target, source, stamp) -> TransformStamped | None`` on a buffer.

    ``wait_s``: as the node, which waits up to ``tf_timeout_s`` for a late transform, a lookup
    for the message being replayed (bag time :attr:`now_ns`, set by the caller) uses only the
    transforms received by ``now_ns + wait_s``; None: the bag's whole ``/tf`` (a message the
    node would have dropped for a transform that came later is then lifted).
    """

    def __init__(self, buffer: TransformBuffer, wait_s: float | None = None):
        self.buffer = buffer
        self.wait_ns = None if wait_s is None else round(wait_s * 1e9)
        #: The bag time of the message being replayed.
        self.now_ns: int | None = None
        self._checked: set[tuple[str, str]] = set()

    def require_connected(self, target: str, source: str) -> None:
        """Raise :class:`BagError` naming the frames when the bag never links them."""
        if (target, source) in self._checked or not source or target == source:
            return
        if not self.buffer.connected(target, source):
            frames = sorted(self.buffer.frames)
            raise BagError(
                f"target_frame {target!r}: the bag's /tf and /tf_static never link it to the "
                f"input frame {source!r} (frames in the bag's transforms: {frames or 'none'})"
            )
        self._checked.add((target, source))

    def __call__(self, target: str, source: str, stamp: Time) -> TransformStamped | None:
        known_by = None
        if self.wait_ns is not None and self.now_ns is not None:
            known_by = self.now_ns + self.wait_ns
        found = self.buffer.lookup(target, source, stamp_nanoseconds(stamp), known_by)
        if found is None:
            return None
        (qx, qy, qz, qw), (x, y, z) = found.rotation_xyzw, found.translation_m
        return TransformStamped(
            header=Header(stamp=stamp, frame_id=target),
            child_frame_id=source,
            transform=Transform(
                translation=Vector3(x=x, y=y, z=z), rotation=Quaternion(x=qx, y=qy, z=qz, w=qw)
            ),
        )


def tf_message_cdr(transforms: list[tuple[str, str, int, RigidTransform]]) -> bytes:
    """CDR bytes of a ``tf2_msgs/TFMessage`` of ``(parent, child, stamp_ns, transform)``."""
    store = typestore()
    types = store.types
    msg_type, stamped_type = types[TF_TYPE], types["geometry_msgs/msg/TransformStamped"]
    header_type, time_type = types["std_msgs/msg/Header"], types["builtin_interfaces/msg/Time"]
    transform_type = types["geometry_msgs/msg/Transform"]
    vector_type, quaternion_type = (
        types["geometry_msgs/msg/Vector3"],
        types["geometry_msgs/msg/Quaternion"],
    )
    stamped = [
        stamped_type(
            header=header_type(
                stamp=time_type(sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000),
                frame_id=parent,
            ),
            child_frame_id=child,
            transform=transform_type(
                translation=vector_type(*map(float, rigid.translation_m)),
                rotation=quaternion_type(*map(float, rigid.rotation_xyzw)),
            ),
        )
        for parent, child, stamp_ns, rigid in transforms
    ]
    return bytes(store.serialize_cdr(msg_type(transforms=stamped), TF_TYPE))
