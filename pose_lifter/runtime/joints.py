"""The 15-joint skeleton (OpenPose BODY_25's first 15 joints) and mappings from other formats.

"Left" and "right" are the person's own left and right everywhere.
"""

from __future__ import annotations

import numpy as np

from pose_lifter.runtime.errors import PoseInputError

JOINT_NAMES: tuple[str, ...] = (
    "Nose",
    "Neck",
    "RShoulder",
    "RElbow",
    "RWrist",
    "LShoulder",
    "LElbow",
    "LWrist",
    "MidHip",
    "RHip",
    "RKnee",
    "RAnkle",
    "LHip",
    "LKnee",
    "LAnkle",
)
NUM_JOINTS = len(JOINT_NAMES)

NOSE, NECK, RSHOULDER, RELBOW, RWRIST, LSHOULDER, LELBOW, LWRIST = range(8)
MIDHIP, RHIP, RKNEE, RANKLE, LHIP, LKNEE, LANKLE = range(8, 15)
ROOT = MIDHIP

#: Bones as (parent, child) joint index pairs, for drawing and bone-length priors.
BONES: tuple[tuple[int, int], ...] = (
    (NECK, NOSE),
    (NECK, RSHOULDER),
    (RSHOULDER, RELBOW),
    (RELBOW, RWRIST),
    (NECK, LSHOULDER),
    (LSHOULDER, LELBOW),
    (LELBOW, LWRIST),
    (NECK, MIDHIP),
    (MIDHIP, RHIP),
    (RHIP, RKNEE),
    (RKNEE, RANKLE),
    (MIDHIP, LHIP),
    (LHIP, LKNEE),
    (LKNEE, LANKLE),
)


def _chain_from_root() -> tuple[tuple[int, int], ...]:
    """Return the bones as ``(parent, child)`` ordered outwards from the root (parents first)."""
    placed, order, remaining = {ROOT}, [], list(BONES)
    while remaining:
        for a, b in list(remaining):
            if a in placed or b in placed:
                parent, child = (a, b) if a in placed else (b, a)
                order.append((parent, child))
                placed.add(child)
                remaining.remove((a, b))
    return tuple(order)


#: :data:`BONES` as ``(parent, child)`` outwards from the root, parents first: a pose is
#: rebuilt bone by bone in this order.
CHAIN = _chain_from_root()

#: Joint index of both ends of every bone, flattened: ``(2 * len(BONES),)`` (parent, child, ...).
BONE_ENDPOINTS: tuple[int, ...] = tuple(joint for bone in BONES for joint in bone)


def bone_segments(points):
    """Both ends of every bone of a pose: ``(..., 15, D)`` -> ``(..., len(BONES), 2, D)``."""
    segments = points[..., BONE_ENDPOINTS, :]
    return segments.reshape(*segments.shape[:-2], len(BONES), 2, segments.shape[-1])


#: Pairs of bones (indices into BONES) that have the same length on a human body.
SYMMETRIC_BONES: tuple[tuple[int, int], ...] = ((1, 4), (2, 5), (3, 6), (8, 11), (9, 12), (10, 13))

#: Index permutation that swaps left and right joints (for mirror augmentation).
FLIP_PERMUTATION: tuple[int, ...] = (
    NOSE,
    NECK,
    LSHOULDER,
    LELBOW,
    LWRIST,
    RSHOULDER,
    RELBOW,
    RWRIST,
    MIDHIP,
    LHIP,
    LKNEE,
    LANKLE,
    RHIP,
    RKNEE,
    RANKLE,
)

# Source-format mappings: each target joint is one source index or a midpoint of two.
# Facts: ../shared/DETECTORS.md. A midpoint's confidence is the lower of its two sources.
SOURCE_FORMATS: dict[str, tuple[int, tuple]] = {
    "openpose_body25": (25, tuple(range(15))),
    "coco17": (17, (0, (5, 6), 6, 8, 10, 5, 7, 9, (11, 12), 12, 14, 16, 11, 13, 15)),
    "openpose_coco18": (18, (0, 1, 2, 3, 4, 5, 6, 7, (8, 11), 8, 9, 10, 11, 12, 13)),
    "blazepose33": (33, (0, (11, 12), 12, 14, 16, 11, 13, 15, (23, 24), 24, 26, 28, 23, 25, 27)),
}


def to_15_joints(keypoints: np.ndarray, source_format: str) -> np.ndarray:
    """Map keypoints of a source format to the 15 joints.

    Args:
        keypoints: ``(..., J, C)`` array, J the source format's joint count, C >= 2 with the last
            channel a confidence when C == 3 (e.g. ``(N, 17, 3)`` COCO (x, y, score)).
        source_format: one of :data:`SOURCE_FORMATS` (``openpose_body25``, ``coco17``,
            ``blazepose33``, ``openpose_coco18``: OpenPose's COCO model, as ROS4HRI sends it).

    Returns:
        ``(..., 15, C)`` array of the same dtype. Midpoints average the coordinates and take
        the lower confidence (a midpoint of a missing joint is missing).
    """
    if source_format not in SOURCE_FORMATS:
        raise PoseInputError(
            f"unknown source format {source_format!r}; expected one of {sorted(SOURCE_FORMATS)}"
        )
    num_source, mapping = SOURCE_FORMATS[source_format]
    keypoints = np.asarray(keypoints)
    if (
        keypoints.ndim < 2
        or keypoints.shape[-2] != num_source
        or keypoints.shape[-1] not in (2, 3)
    ):
        raise PoseInputError(
            f"{source_format} keypoints must have shape (..., {num_source}, 2 or 3), "
            f"got {keypoints.shape}"
        )
    out = np.empty(keypoints.shape[:-2] + (NUM_JOINTS, keypoints.shape[-1]), keypoints.dtype)
    for target, source in enumerate(mapping):
        if isinstance(source, tuple):
            a, b = keypoints[..., source[0], :], keypoints[..., source[1], :]
            out[..., target, :2] = 0.5 * (a[..., :2] + b[..., :2])
            if keypoints.shape[-1] == 3:
                out[..., target, 2] = np.minimum(a[..., 2], b[..., 2])
        else:
            out[..., target, :] = keypoints[..., source, :]
    return out
