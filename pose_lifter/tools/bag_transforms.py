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


def read_transforms(reader: BagReader) -> TransformBuffer:
    """Every transform of the bag's TFMessage topics (``*tf_static`` ones static).

    Raises:
        BagError: a TFMessage that cannot be decoded, or a transform with a frame missing or a
            rotation that is not one.
    """
    buffer, store = TransformBuffer(), typestore()
    for item in reader.messages(transform_topics(reader)):
        static = item.topic.rstrip("/").endswith(STATIC_SUFFIX)
        try:
            message = store.deserialize_cdr(item.data, TF_TYPE)
            for stamped in message.transforms:
                rotation, translation = stamped.transform.rotation, stamped.transform.translation
                buffer.set_transform(
                    stamped.header.frame_id,
                    stamped.child_frame_id,
                    RigidTransform(
                        (rotation.x, rotation.y, rotation.z, rotation.w),
                        (translation.x, translation.y, translation.z),
                    ),
                    stamped.header.stamp.sec * 1_000_000_000 + stamped.header.stamp.nanosec,
                    static,
                )
        except (ValueError, AssertionError, IndexError, KeyError, TypeError) as error:
            raise BagError(
                f"{item.topic} @ {item.timestamp_ns} ns: unusable transform ({error})"
            ) from error
    return buffer


class BagTransformLookup:
    """tf2-style lookup ``(target, source, stamp) -> TransformStamped | None`` on a buffer."""

    def __init__(self, buffer: TransformBuffer):
        self.buffer = buffer
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
        found = self.buffer.lookup(target, source, stamp_nanoseconds(stamp))
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
