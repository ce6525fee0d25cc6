"""numpy <-> ROS message conversions for skeletons, intrinsics and TF (message classes only).

Shapes and units: 2D keypoints ``(P, 15, 2)`` pixels (image frame: origin top-left, x right,
y down), confidences ``(P, 15)`` and scores ``(P,)`` unitless in [0, 1]; 3D joints
``(P, 15, 3)`` metres in the header's frame.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Transform, TransformStamped, Vector3
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from pose_lifter.runtime.body_frames import body_axes, matrix_to_quaternion
from pose_lifter.runtime.camera import validate_intrinsics
from pose_lifter.runtime.depth_image import depth_to_millimetres
from pose_lifter.runtime.detection.images import rgb_to_image_fields
from pose_lifter.runtime.joints import JOINT_NAMES, NUM_JOINTS, ROOT
from pose_lifter_msgs.msg import (
    Keypoint2D,
    Skeleton2D,
    Skeleton2DArray,
    Skeleton3D,
    Skeleton3DArray,
)

#: TF child-frame stems of the joints (REP-155 style ``<stem>_<id>``): ``r_shoulder``, ...
JOINT_FRAME_STEMS: tuple[str, ...] = tuple(
    (
        (name[0].lower() + "_" + name[1:].lower())
        if name[0] in "RL" and name[1].isupper()
        else ("mid_hip" if name == "MidHip" else name.lower())
    )
    for name in JOINT_NAMES
)


class Skeletons2D(NamedTuple):
    """2D persons of one message as arrays.

    Attributes:
        keypoints: ``(P, 15, 2)`` float64 pixels. confidence: ``(P, 15)`` float64.
        scores: ``(P,)`` float64. ids: the detector's ``P`` id strings (may be empty).
    """

    keypoints: np.ndarray
    confidence: np.ndarray
    scores: np.ndarray
    ids: list[str]


class Keypoints2D(NamedTuple):
    """A ``Skeleton2DArray`` read into arrays (e.g. from its CDR, no message objects built).

    The fields the lifting step reads have the message's names, so either can be lifted.

    Attributes:
        header: stamp and camera optical frame. image_width, image_height: pixels (0 = unknown).
        people: the persons as arrays.
    """

    header: Header
    image_width: int
    image_height: int
    people: Skeletons2D


def copy_header(header: Header, frame_id: str | None = None) -> Header:
    """Return a new Header with ``header``'s stamp and frame_id (or ``frame_id`` when given)."""
    return Header(
        stamp=Time(sec=header.stamp.sec, nanosec=header.stamp.nanosec),
        frame_id=header.frame_id if frame_id is None else frame_id,
    )


def stamp_nanoseconds(stamp: Time) -> int:
    """Return a ``builtin_interfaces/Time`` as integer nanoseconds (any stamp, even < 0)."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def stamp_seconds(stamp: Time) -> float:
    """Return a ``builtin_interfaces/Time`` as float seconds."""
    return stamp.sec + 1e-9 * stamp.nanosec


def skeletons_from_msg(msg: Skeleton2DArray) -> Skeletons2D:
    """Arrays of all persons of a Skeleton2DArray (no validation: values may be NaN)."""
    count = len(msg.skeletons)
    values = np.array(
        [[(k.x, k.y, k.confidence) for k in s.keypoints] for s in msg.skeletons], dtype=np.float64
    ).reshape(count, NUM_JOINTS, 3)
    scores = np.array([s.score for s in msg.skeletons], dtype=np.float64)
    return Skeletons2D(values[..., :2], values[..., 2], scores, [s.id for s in msg.skeletons])


def skeleton2d_array(
    header: Header,
    keypoints: np.ndarray,
    confidence: np.ndarray,
    scores: np.ndarray,
    ids: list[str],
    image_size: tuple[int, int],
    source_format: str,
) -> Skeleton2DArray:
    """Build a Skeleton2DArray from pixel keypoints.

    Build a Skeleton2DArray from ``(P, 15, 2)`` pixels, ``(P, 15)`` confidences, ``(P,)`` scores, P
    ids and the image ``(width, height)``.
    """
    skeletons = [
        Skeleton2D(
            id=ids[p],
            score=float(scores[p]),
            keypoints=[
                Keypoint2D(x=float(x), y=float(y), confidence=float(c))
                for (x, y), c in zip(
                    np.asarray(keypoints[p]).tolist(), np.asarray(confidence[p]).tolist()
                )
            ],
        )
        for p in range(len(keypoints))
    ]
    return Skeleton2DArray(
        header=header,
        image_width=int(image_size[0]),
        image_height=int(image_size[1]),
        source_format=source_format,
        skeletons=skeletons,
    )


def depth_image_msg(header: Header, depth_m: np.ndarray) -> Image:
    """Build a 16UC1 sensor_msgs/Image (millimetres, 0 = no value) of ``(H, W)`` metres."""
    height, width = np.shape(depth_m)
    return Image(
        header=copy_header(header),
        height=height,
        width=width,
        encoding="16UC1",
        is_bigendian=0,
        step=2 * width,
        data=depth_to_millimetres(depth_m).astype("<u2").tobytes(),
    )


def image_msg_from_rgb(header: Header, rgb: np.ndarray, encoding: str = "rgb8") -> Image:
    """Build a sensor_msgs/Image from an RGB array.

    A sensor_msgs/Image of an RGB ``(H, W, 3)`` uint8 array in ``encoding`` (rgb8, bgr8, mono8,
    rgba8 or bgra8; no row padding) with a copy of ``header``.

    Raises:
        ImageDecodeError: ``rgb`` is not ``(H, W, 3)`` uint8, or an unsupported encoding.
    """
    height, width, encoding, step, data = rgb_to_image_fields(rgb, encoding)
    return Image(
        header=copy_header(header),
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=0,
        step=step,
        data=data,
    )


def camera_matrix_from_info(msg: CameraInfo) -> np.ndarray:
    """``K`` ``(3, 3)`` of a CameraInfo.

    Raises:
        CameraError: non-finite values or non-positive focal lengths (an uncalibrated
            camera publishes K = 0).
    """
    return validate_intrinsics(np.asarray(msg.k, dtype=np.float64))


def joint_points(joints_m: np.ndarray) -> list[list[Point]]:
    """``(P, 15, 3)`` joints as one list of 15 ``geometry_msgs/Point`` per person."""
    return [
        [Point(x=x, y=y, z=z) for x, y, z in person]
        for person in np.asarray(joints_m, np.float64).tolist()
    ]


class LiftedPeople(NamedTuple):
    """The P people of one output message, as arrays (output frame, metres).

    Attributes:
        ids: P track ids. source_ids: P input ids (``Skeleton3D.source_id``).
        joints_m: ``(P, 15, 3)`` float64. confidence: ``(P, 15)``. scores: ``(P,)``.
        scale_sources: P ``Skeleton3D.SCALE_*`` values.
        frame_names: P TF frame names (frames ``body_<name>``, ``<joint>_<name>``), or None
            when TF is off.
        velocity_mps: ``(P, 15, 3)`` joint velocities (m/s, output frame).
        uncertainty_m: ``(P, 15)`` radii at ``coverage`` (0 = unknown).
        coverage: the probability of the radii (``Skeleton3D.uncertainty_coverage``).
    """

    ids: list[str]
    source_ids: list[str]
    joints_m: np.ndarray
    confidence: np.ndarray
    scores: np.ndarray
    scale_sources: list[int]
    frame_names: list[str] | None
    velocity_mps: np.ndarray
    uncertainty_m: np.ndarray
    coverage: float

    @property
    def body_frames(self) -> list[str] | None:
        """``Skeleton3D.body_frame`` of each person (None when TF is off)."""
        names = self.frame_names
        return None if names is None else [f"body_{name}" for name in names]


def skeleton3d_array(header: Header, people: LiftedPeople) -> Skeleton3DArray:
    """Build a Skeleton3DArray of ``people`` (metres, m/s, ``header``'s frame).

    The values are written into the 15 keypoints every ``Skeleton3D`` is constructed with
    (rosidl builds them anyway), so no further message objects are made per joint.
    """
    joints = np.asarray(people.joints_m, np.float64).tolist()
    velocity = np.asarray(people.velocity_mps, np.float64).tolist()
    # float32 fields hold float32 values, so a message equals what it deserializes to
    radius = np.asarray(people.uncertainty_m, np.float32).tolist()
    confidence = np.asarray(people.confidence, np.float32).tolist()
    scores = np.asarray(people.scores, np.float32).tolist()
    coverage = float(np.float32(people.coverage))
    body_frames = people.body_frames
    skeletons = []
    for p, person_id in enumerate(people.ids):
        skeleton = Skeleton3D(
            id=person_id,
            source_id=people.source_ids[p],
            body_frame=body_frames[p] if body_frames else "",
            score=scores[p],
            scale_source=people.scale_sources[p],
            uncertainty_coverage=coverage,
        )
        for keypoint, (x, y, z), (vx, vy, vz), c, r in zip(
            skeleton.keypoints, joints[p], velocity[p], confidence[p], radius[p]
        ):
            position, speed = keypoint.position, keypoint.velocity
            position.x, position.y, position.z = x, y, z
            speed.x, speed.y, speed.z = vx, vy, vz
            keypoint.confidence = c
            keypoint.uncertainty_radius = r
        skeletons.append(skeleton)
    return Skeleton3DArray(header=header, skeletons=skeletons)


def skeleton_points(skeletons: Skeleton3DArray) -> list[list[Point]]:
    """Return the joint positions of a Skeleton3DArray: 15 Points per person (shared)."""
    return [[keypoint.position for keypoint in s.keypoints] for s in skeletons.skeletons]


def body_transforms(
    header: Header, frame_names: list[str], joints_m: np.ndarray
) -> list[TransformStamped]:
    """Build REP 155 TF frames per person.

    ``body_<name>`` at the root (MidHip), oriented x forward, y left, z up
    (:func:`~pose_lifter.runtime.body_frames.body_axes`), and ``<joint>_<name>``
    (:data:`JOINT_FRAME_STEMS`) as its children, translated only (in the body frame).
    ``frame_names`` ``(P,)`` from a :class:`~pose_lifter.runtime.body_frames.FramePool`;
    ``joints_m`` ``(P, 15, 3)`` metres in ``header.frame_id``.
    """
    joints_m = np.asarray(joints_m, np.float64)
    axes = body_axes(joints_m)
    quaternions = matrix_to_quaternion(axes)
    transforms = []
    for name, joints, rotation, quaternion in zip(frame_names, joints_m, axes, quaternions):
        body = f"body_{name}"
        transforms.append(_transform(header, header.frame_id, body, joints[ROOT], quaternion))
        in_body = (joints - joints[ROOT]) @ rotation  # rows: R^T (p - root)
        for stem, position in zip(JOINT_FRAME_STEMS, in_body):
            transforms.append(_transform(header, body, f"{stem}_{name}", position))
    return transforms


def _transform(
    header: Header,
    parent: str,
    child: str,
    translation: np.ndarray,
    quaternion_xyzw: np.ndarray | None = None,
) -> TransformStamped:
    x, y, z = translation.tolist()
    transform = Transform(translation=Vector3(x=x, y=y, z=z))
    if quaternion_xyzw is not None:
        r = transform.rotation
        r.x, r.y, r.z, r.w = quaternion_xyzw.tolist()
    return TransformStamped(
        header=copy_header(header, parent), child_frame_id=child, transform=transform
    )
